// The topics page: a paged, searchable list (the node pages it, so thousands of topics stay
// quick) with partitions, replication factor, size and partition health; a form to create a
// topic, and delete with a confirmation step. The node lists only the topics the user may
// Describe; the create form and each Delete button show only when the user may use them.

import { api, encode } from '../api.js';
import {
  h,
  replace,
  table,
  formatBytes,
  formatNumber,
  confirmAction,
  parsePairs,
  statusLine,
  showNotice,
} from '../dom.js';
import { mayCreateTopics, topicActions } from '../permissions.js';

/** Topics shown per page of the list. */
const PAGE_SIZE = 50;
/** Typing pauses this long before the search is sent. */
const SEARCH_DELAY_MS = 250;

export function render(container, params) {
  let offset = Number(params.query.get('offset') ?? 0) || 0;
  let search = params.query.get('search') ?? '';
  let stopped = false;
  let searchTimer = null;

  const listArea = h('div', { id: 'topic-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const pager = h('div', { class: 'pager' });
  const searchBox = h('input', {
    type: 'search',
    placeholder: 'Search topics',
    value: search,
    'aria-label': 'Search topics',
    oninput: () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        search = searchBox.value.trim();
        offset = 0;
        void load();
      }, SEARCH_DELAY_MS);
    },
  });

  const load = async () => {
    try {
      const answer = await api('GET', `/api/v1/topics?offset=${offset}&limit=${PAGE_SIZE}&search=${encode(search)}`);
      if (stopped) return;
      const topics = answer.topics;
      replace(
        listArea,
        table(
          ['Topic', 'Partitions', 'Replication', 'Size', 'Under-replicated', 'Offline', ''],
          topics.map((t) => [
            h(
              'a',
              { href: `#/topics/${encode(t.name)}`, class: 'topic-link' },
              t.name,
              t.internal ? h('span', { class: 'tag' }, 'internal') : null,
            ),
            formatNumber(t.partitions),
            formatNumber(t.replicationFactor),
            formatBytes(t.sizeBytes),
            h(
              'span',
              { class: t.underReplicatedPartitions > 0 ? 'warn' : '' },
              formatNumber(t.underReplicatedPartitions),
            ),
            h('span', { class: t.offlinePartitions > 0 ? 'bad' : '' }, formatNumber(t.offlinePartitions)),
            topicActions(t).delete
              ? h('button', { class: 'small danger', onclick: () => void remove(t.name) }, 'Delete')
              : '',
          ]),
          {
            empty: search
              ? `No topic matches "${search}".`
              : mayCreateTopics()
                ? 'There are no topics yet. Create one below.'
                : 'There are no topics you may see.',
          },
        ),
      );
      const last = Math.min(answer.total, offset + answer.topics.length);
      replace(
        pager,
        h(
          'button',
          {
            class: 'small',
            disabled: offset === 0,
            onclick: () => {
              offset = Math.max(0, offset - PAGE_SIZE);
              void load();
            },
          },
          '‹ Previous',
        ),
        h(
          'span',
          { class: 'muted' },
          answer.total === 0
            ? 'no topics'
            : `${formatNumber(offset + 1)}–${formatNumber(last)} of ${formatNumber(answer.total)}`,
        ),
        h(
          'button',
          {
            class: 'small',
            disabled: last >= answer.total,
            onclick: () => {
              offset += PAGE_SIZE;
              void load();
            },
          },
          'Next ›',
        ),
      );
    } catch (error) {
      if (!stopped) replace(listArea, h('p', { class: 'status fail' }, error.message));
    }
  };

  const remove = async (name) => {
    const sure = await confirmAction(
      'Delete topic',
      `Delete the topic "${name}" and every record in it? This cannot be undone.`,
      'Delete topic',
    );
    if (!sure) return;
    try {
      await api('DELETE', `/api/v1/topics/${encode(name)}`);
      await load();
    } catch (error) {
      showNotice(error);
    }
  };

  replace(
    container,
    h('h1', {}, 'Topics'),
    h('section', { class: 'card' }, h('div', { class: 'toolbar' }, searchBox), listArea, pager),
    mayCreateTopics() ? createForm(load) : null,
  );
  void load();
  return () => {
    stopped = true;
    clearTimeout(searchTimer);
  };
}

function createForm(reload) {
  const status = statusLine();
  const name = h('input', {
    name: 'name',
    id: 'create-name',
    required: true,
    placeholder: 'orders',
    pattern: '[a-zA-Z0-9._\\-]+',
    maxlength: 249,
  });
  const partitions = h('input', { name: 'partitions', id: 'create-partitions', type: 'number', min: 1, value: '1' });
  const replication = h('input', {
    name: 'replicationFactor',
    id: 'create-replication',
    type: 'number',
    min: 1,
    placeholder: 'broker default',
  });
  const configs = h('textarea', {
    name: 'configs',
    id: 'create-configs',
    rows: 3,
    placeholder: 'retention.ms=604800000\ncleanup.policy=delete',
  });
  const form = h(
    'form',
    {
      class: 'card form',
      id: 'create-topic',
      onsubmit: async (event) => {
        event.preventDefault();
        let body;
        try {
          body = { name: name.value.trim(), partitions: Number(partitions.value) };
          if (replication.value !== '') body.replicationFactor = Number(replication.value);
          const pairs = parsePairs(configs.value);
          if (Object.keys(pairs).length > 0) body.configs = pairs;
        } catch (error) {
          return status.fail(error);
        }
        const sure = await confirmAction(
          'Create topic',
          `Create "${body.name}" with ${body.partitions} partition${body.partitions === 1 ? '' : 's'}${body.replicationFactor ? ` and replication factor ${body.replicationFactor}` : ''}?`,
          'Create topic',
        );
        if (!sure) return status.clear();
        status.busy('Creating…');
        try {
          const created = await api('POST', '/api/v1/topics', body);
          status.ok(
            `Created "${created.name}" with ${created.partitions} partitions, replication factor ${created.replicationFactor}.`,
          );
          form.reset();
          partitions.value = '1';
          await reload();
        } catch (error) {
          status.fail(error);
        }
      },
    },
    h('h2', {}, 'Create a topic'),
    h(
      'div',
      { class: 'fields' },
      h('label', {}, 'Name', name),
      h('label', {}, 'Partitions', partitions),
      h('label', {}, 'Replication factor', replication),
      h('label', { class: 'wide' }, 'Configs (key=value, one per line)', configs),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create topic')),
    status.element,
  );
  return form;
}
