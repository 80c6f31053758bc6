// One consumer group: its state, members and their assigned partitions, committed offsets
// with the lag of each partition, and resetting offsets (only while the group is empty, as
// Kafka requires, and after a confirmation; only for users with Read on the group).

import { api, encode } from '../api.js';
import { h, replace, table, formatNumber, confirmAction, statusLine, formatTime } from '../dom.js';
import { stateKind } from './groups.js';
import { groupActions } from '../permissions.js';

export function render(container, params) {
  const groupId = params.name;
  let stopped = false;
  // What the last reset did, shown again after the page is re-read.
  let lastReset = '';
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  replace(
    container,
    h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, 'Consumer groups'), ' / ', groupId),
    h('h1', {}, groupId),
    body,
  );

  const load = async () => {
    try {
      const group = await api('GET', `/api/v1/groups/${encode(groupId)}`);
      if (!stopped) show(group);
    } catch (error) {
      if (!stopped) replace(body, h('p', { class: 'status fail' }, error.message));
    }
  };

  const show = (group) => {
    const topics = [...new Set(group.offsets.map((o) => o.topic))].sort();
    replace(
      body,
      h(
        'div',
        { class: 'totals' },
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'stat-label' }, 'State'),
          h(
            'div',
            { class: 'stat-value' },
            h('span', { class: `pill ${stateKind(group.state)}`, id: 'group-state' }, group.state),
          ),
        ),
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'stat-label' }, 'Protocol'),
          h('div', { class: 'stat-value' }, [group.protocolType, group.protocol].filter(Boolean).join(' / ') || '–'),
        ),
        h(
          'div',
          { class: 'stat' },
          h('div', { class: 'stat-label' }, 'Members'),
          h('div', { class: 'stat-value' }, formatNumber(group.members.length)),
        ),
        h(
          'div',
          { class: `stat ${group.totalLag > 0 ? 'warn' : ''}` },
          h('div', { class: 'stat-label' }, 'Total lag'),
          h('div', { class: 'stat-value', id: 'group-total-lag' }, formatNumber(group.totalLag)),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Members'),
        table(
          ['Member', 'Client', 'Host', 'Assignment'],
          group.members.map((m) => [
            h('span', { class: 'mono' }, m.memberId),
            m.clientId,
            m.clientHost,
            m.assignment.length === 0
              ? h('span', { class: 'muted' }, 'none')
              : m.assignment.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; '),
          ]),
          { empty: 'No members: the group is not consuming now.' },
        ),
      ),
      h(
        'section',
        { class: 'card', id: 'group-offsets' },
        h('h2', {}, 'Offsets and lag'),
        table(
          ['Topic', 'Partition', 'Committed', 'Log end', 'Lag', 'Metadata'],
          group.offsets.map((o) => [
            h('a', { href: `#/topics/${encode(o.topic)}` }, o.topic),
            String(o.partition),
            o.committedOffset < 0 ? h('span', { class: 'muted' }, 'none') : formatNumber(o.committedOffset),
            formatNumber(o.logEndOffset),
            h('span', { class: `lag ${o.lag > 0 ? 'warn' : ''}` }, formatNumber(o.lag)),
            o.metadata || '',
          ]),
          { empty: 'This group has committed no offsets.' },
        ),
      ),
      groupActions(group).resetOffsets ? resetForm(group, topics) : null,
    );
  };

  const resetForm = (group, topics) => {
    const status = statusLine();
    const empty = group.state === 'Empty' || group.state === 'Dead';
    const topic = h(
      'select',
      { id: 'reset-topic' },
      topics.map((t) => h('option', { value: t }, t)),
    );
    const to = h(
      'select',
      { id: 'reset-to' },
      h('option', { value: 'earliest' }, 'the earliest offset'),
      h('option', { value: 'latest' }, 'the latest offset (skip everything)'),
      h('option', { value: 'offset' }, 'a given offset'),
      h('option', { value: 'timestamp' }, 'the first offset at a time'),
    );
    const offset = h('input', { type: 'number', min: 0, id: 'reset-offset', hidden: true, 'aria-label': 'Offset' });
    const time = h('input', { type: 'datetime-local', step: 1, id: 'reset-time', hidden: true, 'aria-label': 'Time' });
    to.addEventListener('change', () => {
      offset.hidden = to.value !== 'offset';
      time.hidden = to.value !== 'timestamp';
    });
    const form = h(
      'form',
      {
        class: 'card form',
        id: 'reset-form',
        onsubmit: async (event) => {
          event.preventDefault();
          const request = { topic: topic.value, to: to.value };
          let where = to.value === 'earliest' ? 'the earliest offset' : 'the latest offset';
          if (to.value === 'offset') {
            if (offset.value === '') return status.fail('Enter the offset to reset to.');
            request.offset = Number(offset.value);
            where = `offset ${request.offset}`;
          } else if (to.value === 'timestamp') {
            const ms = new Date(time.value).getTime();
            if (!Number.isFinite(ms)) return status.fail('Choose the time to reset to.');
            request.timestamp = ms;
            where = `the first offset at or after ${formatTime(ms)}`;
          }
          if (
            !(await confirmAction(
              'Reset offsets',
              `Move group "${groupId}" on "${request.topic}" to ${where} for every partition? Its consumers will start from there.`,
              'Reset offsets',
            ))
          )
            return;
          status.busy('Resetting…');
          try {
            const answer = await api('POST', `/api/v1/groups/${encode(groupId)}/reset-offsets`, request);
            lastReset = `Reset ${answer.offsets.length} partition${answer.offsets.length === 1 ? '' : 's'} of "${request.topic}" to ${where}.`;
            await load();
          } catch (error) {
            status.fail(error);
          }
        },
      },
      h('h2', {}, 'Reset offsets'),
      empty
        ? null
        : h(
            'p',
            { class: 'status fail' },
            `The group is ${group.state}: offsets can be reset only when it has no members. Stop its consumers first.`,
          ),
      topics.length === 0
        ? h('p', { class: 'muted' }, 'The group has no committed offsets to reset.')
        : h('div', { class: 'fields' }, h('label', {}, 'Topic', topic), h('label', {}, 'Move to', to, offset, time)),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'danger', disabled: !empty || topics.length === 0 }, 'Reset offsets'),
      ),
      status.element,
    );
    if (lastReset) status.ok(lastReset);
    return form;
  };

  void load();
  return () => {
    stopped = true;
  };
}
