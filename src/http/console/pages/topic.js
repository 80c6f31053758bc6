// One topic: its partitions (leader, replicas, ISR, offsets, size) in a virtual list, its
// configs with editing, resetting and adding (each confirmed first), adding partitions,
// and deleting the topic. Each control shows only when the topic's authorizedOperations
// allow it (permissions.js).

import { api, encode } from '../api.js';
import { h, replace, table, formatBytes, formatNumber, confirmAction, statusLine, showNotice } from '../dom.js';
import { virtualTable } from '../virtual-table.js';
import { topicActions } from '../permissions.js';

export function render(container, params) {
  const name = params.name;
  let stopped = false;
  const summary = h('div', { class: 'totals', id: 'topic-summary' });
  const actions = h('div', { class: 'actions page-actions' });
  const partitionsArea = h(
    'section',
    { class: 'card', id: 'partitions' },
    h('h2', {}, 'Partitions'),
    h('p', { class: 'muted' }, 'Loading…'),
  );
  const configsArea = h('section', { class: 'card', id: 'configs' }, h('h2', {}, 'Configs'));
  replace(
    container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/topics' }, 'Topics'), ' / ', name),
    h('h1', {}, name),
    summary,
    actions,
    partitionsArea,
    configsArea,
  );

  const load = async () => {
    try {
      const topic = await api('GET', `/api/v1/topics/${encode(name)}`);
      if (stopped) return;
      showTopic(topic);
    } catch (error) {
      if (stopped) return;
      replace(partitionsArea, h('h2', {}, 'Partitions'), h('p', { class: 'status fail' }, error.message));
      replace(configsArea);
    }
  };

  const showTopic = (topic) => {
    const partitions = topic.partitions;
    const sum = (f) => partitions.reduce((total, p) => total + (f(p) ?? 0), 0);
    const underReplicated = partitions.filter((p) => p.isr.length < p.replicas.length).length;
    const offline = partitions.filter((p) => p.leader < 0).length;
    replace(
      summary,
      stat('Partitions', formatNumber(partitions.length)),
      stat('Replication factor', formatNumber(partitions[0]?.replicas.length ?? 0)),
      stat('Records (approx.)', formatNumber(sum((p) => p.highWatermark - p.logStartOffset))),
      stat('Size', formatBytes(sum((p) => p.sizeBytes))),
      stat('Under-replicated', formatNumber(underReplicated), underReplicated > 0 ? 'warn' : ''),
      stat('Offline', formatNumber(offline), offline > 0 ? 'bad' : ''),
    );
    const may = topicActions(topic);
    replace(
      actions,
      may.read ? h('a', { class: 'button', href: `#/messages?topic=${encode(name)}` }, 'Browse messages') : null,
      may.produce ? h('a', { class: 'button', href: `#/produce?topic=${encode(name)}` }, 'Produce') : null,
      may.delete
        ? h('button', { class: 'danger', id: 'delete-topic', onclick: () => void removeTopic() }, 'Delete topic')
        : null,
    );
    replace(
      partitionsArea,
      h('h2', {}, 'Partitions'),
      virtualTable(
        [
          {
            title: 'Partition',
            width: '90px',
            render: (p) =>
              h('a', { href: `#/messages?topic=${encode(name)}&partition=${p.partition}` }, String(p.partition)),
          },
          {
            title: 'Leader',
            width: '80px',
            render: (p) => (p.leader < 0 ? h('span', { class: 'bad' }, 'none') : String(p.leader)),
          },
          { title: 'Epoch', width: '70px', render: (p) => String(p.leaderEpoch) },
          { title: 'Replicas', render: (p) => p.replicas.join(', ') },
          {
            title: 'ISR',
            render: (p) => h('span', { class: p.isr.length < p.replicas.length ? 'warn' : '' }, p.isr.join(', ')),
          },
          { title: 'Log start', render: (p) => formatNumber(p.logStartOffset) },
          { title: 'Log end', render: (p) => formatNumber(p.logEndOffset) },
          { title: 'High watermark', render: (p) => formatNumber(p.highWatermark) },
          { title: 'Size', render: (p) => formatBytes(p.sizeBytes) },
        ],
        partitions,
        { empty: 'This topic has no partitions.' },
      ),
      may.addPartitions ? addPartitionsForm(partitions.length) : null,
    );
    if (!Array.isArray(topic.configs))
      replace(
        configsArea,
        h('h2', {}, 'Configs'),
        h('p', { class: 'muted' }, 'You are not authorized to see the configs of this topic (DESCRIBE_CONFIGS).'),
      );
    else
      replace(
        configsArea,
        h('h2', {}, 'Configs'),
        configTable(topic.configs, may.editConfigs),
        may.editConfigs ? addConfigForm() : null,
      );
  };

  const addPartitionsForm = (current) => {
    const status = statusLine();
    const count = h('input', {
      type: 'number',
      min: current + 1,
      value: String(current + 1),
      'aria-label': 'New partition count',
    });
    return h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (event) => {
          event.preventDefault();
          const total = Number(count.value);
          if (
            !(await confirmAction(
              'Add partitions',
              `Grow "${name}" from ${current} to ${total} partitions? Keyed records may map to different partitions afterwards.`,
              'Add partitions',
            ))
          )
            return;
          status.busy('Adding partitions…');
          try {
            await api('POST', `/api/v1/topics/${encode(name)}/partitions`, { count: total });
            await load();
          } catch (error) {
            status.fail(error);
          }
        },
      },
      'Grow to ',
      count,
      ' partitions ',
      h('button', { type: 'submit', class: 'small' }, 'Add partitions'),
      status.element,
    );
  };

  const configTable = (configs, editable) =>
    table(
      ['Name', 'Value', 'Source', ''],
      configs.map((c) => {
        const cell = h('span', { class: c.sensitive ? 'muted' : 'mono' }, c.sensitive ? '(hidden)' : (c.value ?? '–'));
        const edit = !editable
          ? ''
          : c.readOnly
            ? h('span', { class: 'muted' }, 'read-only')
            : h(
                'span',
                { class: 'row-actions' },
                h('button', { class: 'small', onclick: () => editConfig(c, cell) }, 'Edit'),
                c.source === 'TOPIC_CONFIG' || c.source === 'DYNAMIC_TOPIC_CONFIG' || c.source === 'topic'
                  ? h(
                      'button',
                      {
                        class: 'small',
                        onclick: () => void alter({ delete: [c.name] }, `Reset ${c.name} to the broker default?`),
                      },
                      'Reset',
                    )
                  : null,
              );
        return [h('span', { class: 'mono' }, c.name), cell, h('span', { class: 'muted' }, c.source ?? ''), edit];
      }),
      { empty: 'No configs reported.' },
    );

  const editConfig = (config, cell) => {
    const input = h('input', { value: config.value ?? '', class: 'mono', 'aria-label': `Value of ${config.name}` });
    replace(
      cell,
      h(
        'form',
        {
          class: 'inline-form',
          onsubmit: (event) => {
            event.preventDefault();
            void alter({ set: { [config.name]: input.value } }, `Set ${config.name} to "${input.value}" on "${name}"?`);
          },
        },
        input,
        h('button', { type: 'submit', class: 'small primary' }, 'Save'),
        h('button', { type: 'button', class: 'small', onclick: () => void load() }, 'Cancel'),
      ),
    );
    input.focus();
  };

  const addConfigForm = () => {
    const key = h('input', { placeholder: 'retention.ms', 'aria-label': 'Config name', class: 'mono' });
    const value = h('input', { placeholder: 'value', 'aria-label': 'Config value', class: 'mono' });
    return h(
      'form',
      {
        class: 'inline-form',
        onsubmit: (event) => {
          event.preventDefault();
          if (key.value.trim() === '') return;
          void alter(
            { set: { [key.value.trim()]: value.value } },
            `Set ${key.value.trim()} to "${value.value}" on "${name}"?`,
          );
        },
      },
      'Set ',
      key,
      ' = ',
      value,
      ' ',
      h('button', { type: 'submit', class: 'small' }, 'Set config'),
    );
  };

  const alter = async (change, question) => {
    if (!(await confirmAction('Change config', question, 'Apply'))) return;
    try {
      await api('PATCH', `/api/v1/topics/${encode(name)}/configs`, change);
      await load();
    } catch (error) {
      showNotice(error);
    }
  };

  const removeTopic = async () => {
    if (
      !(await confirmAction(
        'Delete topic',
        `Delete the topic "${name}" and every record in it? This cannot be undone.`,
        'Delete topic',
      ))
    )
      return;
    try {
      await api('DELETE', `/api/v1/topics/${encode(name)}`);
      location.hash = '#/topics';
    } catch (error) {
      showNotice(error);
    }
  };

  void load();
  return () => {
    stopped = true;
  };
}

function stat(label, value, kind = '') {
  return h(
    'div',
    { class: `stat ${kind}` },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
  );
}
