// The messages page: browse one partition from an offset, a time or either end, page on with
// "Load more", choose how values are shown; or follow a topic live through the WebSocket tail
// (new records pushed as they arrive; the list keeps the newest few hundred). Only topics
// the user may READ are suggested; a user who may read none is told so.

import { api, encode } from '../api.js';
import { h, replace, statusLine, formatNumber } from '../dom.js';
import { live } from '../live.js';
import { recordRow, recordHeader } from '../records-view.js';
import { suggestTopics } from '../topic-suggest.js';
import { allowsSomeTopic } from '../permissions.js';

/** Records asked for per page. */
const PAGE_RECORDS = 50;
/** The live tail keeps at most this many rows on screen. */
const TAIL_ROWS_MAX = 500;

export function render(container, params) {
  if (!allowsSomeTopic('READ')) {
    replace(
      container,
      h('h1', {}, 'Messages'),
      h('p', { class: 'muted', id: 'messages-not-authorized' }, 'You are not authorized to READ any topic.'),
    );
    return;
  }
  const stops = [];
  const status = statusLine();
  const topicInput = h('input', {
    id: 'messages-topic',
    list: 'topic-names',
    value: params.query.get('topic') ?? '',
    placeholder: 'topic name',
    required: true,
  });
  const topicNames = h('datalist', { id: 'topic-names' });
  const partitionSelect = h('select', { id: 'messages-partition' }, h('option', { value: '0' }, '0'));
  const fromSelect = h(
    'select',
    { id: 'messages-from' },
    h('option', { value: 'earliest' }, 'the beginning'),
    h('option', { value: 'offset' }, 'an offset'),
    h('option', { value: 'timestamp' }, 'a time'),
    h('option', { value: 'latest' }, 'the newest records'),
  );
  const offsetInput = h('input', {
    id: 'messages-offset',
    type: 'number',
    min: 0,
    value: '0',
    hidden: true,
    'aria-label': 'Offset',
  });
  const timeInput = h('input', {
    id: 'messages-time',
    type: 'datetime-local',
    step: 1,
    hidden: true,
    'aria-label': 'Time',
  });
  const formatSelect = h(
    'select',
    { id: 'messages-format' },
    ['auto', 'string', 'json', 'hex', 'base64'].map((f) => h('option', { value: f }, f)),
  );
  const tbody = h('tbody', { id: 'message-rows' });
  const moreButton = h('button', { type: 'button', class: 'small', hidden: true }, 'Load more');
  const tailButton = h('button', { type: 'button', id: 'tail-toggle' }, 'Follow live');
  const tailStatus = h('span', { class: 'muted', id: 'tail-status' });
  let nextOffset = null;
  let tailing = false;
  let tailCount = 0;

  if (params.query.get('partition'))
    partitionSelect.replaceChildren(
      h('option', { value: params.query.get('partition') }, params.query.get('partition')),
    );
  fromSelect.addEventListener('change', () => {
    offsetInput.hidden = fromSelect.value !== 'offset';
    timeInput.hidden = fromSelect.value !== 'timestamp';
  });

  const loadPartitions = async () => {
    const topic = topicInput.value.trim();
    if (topic === '') return;
    try {
      const detail = await api('GET', `/api/v1/topics/${encode(topic)}`);
      const chosen = partitionSelect.value;
      replace(
        partitionSelect,
        detail.partitions.map((p) =>
          h(
            'option',
            { value: String(p.partition), selected: String(p.partition) === chosen },
            `${p.partition} (offsets ${p.logStartOffset}–${p.highWatermark})`,
          ),
        ),
      );
    } catch (error) {
      status.fail(error);
    }
  };
  topicInput.addEventListener('change', () => void loadPartitions());

  const fetchPage = async (append) => {
    const topic = topicInput.value.trim();
    if (topic === '') return status.fail('Choose a topic first.');
    const partition = partitionSelect.value;
    let position;
    if (append) position = `offset=${nextOffset}`;
    else if (fromSelect.value === 'offset') position = `offset=${Number(offsetInput.value) || 0}`;
    else if (fromSelect.value === 'timestamp') {
      const ms = new Date(timeInput.value).getTime();
      if (!Number.isFinite(ms)) return status.fail('Choose a date and time to start from.');
      position = `timestamp=${ms}`;
    } else position = null;
    status.busy('Reading…');
    try {
      if (position === null) {
        const detail = await api('GET', `/api/v1/topics/${encode(topic)}`);
        const p = detail.partitions.find((x) => String(x.partition) === partition);
        if (!p) return status.fail(`Topic "${topic}" has no partition ${partition}.`);
        const start =
          fromSelect.value === 'earliest'
            ? p.logStartOffset
            : Math.max(p.logStartOffset, p.highWatermark - PAGE_RECORDS);
        position = `offset=${start}`;
      }
      const answer = await api(
        'GET',
        `/api/v1/topics/${encode(topic)}/partitions/${encode(partition)}/records?${position}&limit=${PAGE_RECORDS}&format=${formatSelect.value}`,
      );
      if (!append) tbody.replaceChildren();
      for (const record of answer.records) tbody.append(recordRow(record));
      nextOffset = answer.nextOffset;
      moreButton.hidden = answer.nextOffset >= answer.highWatermark;
      const shown = tbody.querySelectorAll('tr.record').length;
      if (shown === 0)
        tbody.append(
          h(
            'tr',
            {},
            h(
              'td',
              { colspan: 5, class: 'empty' },
              'No records from there: the partition ends at offset ' + answer.highWatermark + '.',
            ),
          ),
        );
      status.ok(
        `Showing ${formatNumber(shown)} record${shown === 1 ? '' : 's'} of partition ${partition}; the high watermark is ${formatNumber(answer.highWatermark)}.`,
      );
    } catch (error) {
      status.fail(error);
    }
  };
  moreButton.addEventListener('click', () => void fetchPage(true));

  const tailRows = h('tbody', { id: 'tail-rows' });
  const stopTail = () => {
    tailing = false;
    live.untail();
    tailButton.textContent = 'Follow live';
    tailStatus.textContent = '';
  };
  tailButton.addEventListener('click', () => {
    if (tailing) return stopTail();
    const topic = topicInput.value.trim();
    if (topic === '') return status.fail('Choose a topic to follow.');
    tailing = true;
    tailCount = 0;
    tailRows.replaceChildren();
    tailButton.textContent = 'Stop following';
    tailStatus.textContent = `connecting to ${topic}…`;
    live.tail(topic);
  });
  stops.push(
    live.on('tailing', (message) => {
      if (tailing)
        tailStatus.textContent = `following ${message.topic} (${message.partitions} partitions): new records appear here`;
    }),
  );
  stops.push(
    live.on('records', (message) => {
      if (!tailing) return;
      for (const record of message.records) {
        tailRows.prepend(recordRow(record, { showPartition: true }));
        tailCount++;
      }
      while (tailRows.children.length > TAIL_ROWS_MAX) tailRows.lastElementChild.remove();
      tailStatus.textContent = `following ${message.topic}: ${formatNumber(tailCount)} new record${tailCount === 1 ? '' : 's'}${message.skipped ? ` (${message.skipped} skipped: too many at once)` : ''}`;
    }),
  );
  stops.push(
    live.on('error', (message) => {
      if (tailing) {
        stopTail();
        status.fail(message.error.message);
      }
    }),
  );

  replace(
    container,
    h('h1', {}, 'Messages'),
    h(
      'form',
      {
        class: 'card form',
        id: 'browse-form',
        onsubmit: (event) => {
          event.preventDefault();
          void fetchPage(false);
        },
      },
      h(
        'div',
        { class: 'fields' },
        h('label', {}, 'Topic', topicInput, topicNames),
        h('label', {}, 'Partition', partitionSelect),
        h('label', {}, 'Start from', fromSelect, offsetInput, timeInput),
        h('label', {}, 'Show values as', formatSelect),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'browse-button' }, 'Read messages'),
        tailButton,
        tailStatus,
      ),
      status.element,
    ),
    h(
      'section',
      { class: 'card', id: 'tail-card' },
      h('h2', {}, 'Live tail'),
      h('table', { class: 'grid records' }, recordHeader({ showPartition: true }), tailRows),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Partition records'),
      h('table', { class: 'grid records' }, recordHeader(), tbody),
      moreButton,
    ),
  );

  suggestTopics(topicInput, topicNames, { includeInternal: true, operation: 'READ' });
  if (topicInput.value)
    void loadPartitions().then(() => (params.query.get('partition') !== null ? fetchPage(false) : undefined));
  return () => {
    for (const stop of stops) stop();
    if (tailing) live.untail();
  };
}
