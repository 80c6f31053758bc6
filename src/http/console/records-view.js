// How one record is shown in the console (messages browser and live tail): offset, time,
// key, value as text, pretty JSON or hex (with the encoding named), and headers.

import { h, formatTime } from './dom.js';

export function recordRow(record, options = {}) {
  return h(
    'tr',
    { class: 'record', dataset: { partition: String(record.partition), offset: String(record.offset) } },
    options.showPartition ? h('td', {}, String(record.partition)) : null,
    h('td', { class: 'mono' }, String(record.offset)),
    h('td', { class: 'nowrap' }, formatTime(record.timestamp)),
    h('td', {}, bytesCell(record.key, record.keyEncoding)),
    h('td', { class: 'value-cell' }, bytesCell(record.value, record.valueEncoding)),
    h('td', {}, headersCell(record.headers)),
  );
}

export function recordHeader(options = {}) {
  return h(
    'thead',
    {},
    h(
      'tr',
      {},
      options.showPartition ? h('th', {}, 'Partition') : null,
      ['Offset', 'Timestamp', 'Key', 'Value', 'Headers'].map((t) => h('th', {}, t)),
    ),
  );
}

function bytesCell(text, encoding) {
  if (text === null || text === undefined) return h('span', { class: 'muted' }, 'null');
  if (encoding === 'json') text = prettyJson(text);
  return h(
    'div',
    {},
    encoding && encoding !== 'string' ? h('span', { class: `tag enc-${encoding}` }, encoding) : null,
    h('pre', { class: `bytes ${encoding === 'hex' ? 'hex' : ''}` }, text),
  );
}

function headersCell(headers) {
  const list = Array.isArray(headers) ? headers : Object.entries(headers ?? {}).map(([key, value]) => ({ key, value }));
  if (list.length === 0) return h('span', { class: 'muted' }, '–');
  return h(
    'dl',
    { class: 'headers' },
    list.map((header) => [h('dt', {}, header.key), h('dd', {}, header.value === null ? 'null' : String(header.value))]),
  );
}

/** JSON values are shown indented; text that does not parse is shown as it came. */
function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
