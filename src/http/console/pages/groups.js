// The consumer groups page: every group with its state, protocol, member count and total lag
// (the node lists only the groups the user may Describe).

import { api, encode } from '../api.js';
import { h, replace, table, formatNumber } from '../dom.js';

export function render(container) {
  const list = h('section', { class: 'card', id: 'group-list' }, h('p', { class: 'muted' }, 'Loading…'));
  replace(container, h('h1', {}, 'Consumer groups'), list);
  let stopped = false;
  api('GET', '/api/v1/groups').then(
    (answer) => {
      if (stopped) return;
      replace(
        list,
        table(
          ['Group', 'State', 'Protocol type', 'Members', 'Lag'],
          answer.groups.map((g) => [
            h('a', { href: `#/groups/${encode(g.groupId)}`, class: 'group-link' }, g.groupId),
            h('span', { class: `pill ${stateKind(g.state)}` }, g.state),
            g.protocolType || '–',
            formatNumber(g.members),
            g.lag === null || g.lag === undefined
              ? '–'
              : h('span', { class: g.lag > 0 ? 'warn' : '' }, formatNumber(g.lag)),
          ]),
          { empty: 'No consumer groups yet.' },
        ),
      );
    },
    (error) => {
      if (!stopped) replace(list, h('p', { class: 'status fail' }, error.message));
    },
  );
  return () => {
    stopped = true;
  };
}

export function stateKind(state) {
  if (state === 'Stable') return 'ok';
  if (state === 'Empty') return 'neutral';
  if (state === 'Dead') return 'bad';
  return 'warn';
}
