// The produce page: send one record (key, value as text or JSON, headers, partition), or
// upload a CSV or JSON-lines file and write each row as a record (the chosen column is the
// key, the row as a JSON object the value), in batches, with progress and a summary. Only
// topics the user may WRITE are suggested; a user who may write to none is told so.

import { api, encode } from '../api.js';
import { h, replace, statusLine, parsePairs, formatNumber, table } from '../dom.js';
import { parseCsv, parseJsonLines } from '../csv.js';
import { suggestTopics } from '../topic-suggest.js';
import { allowsSomeTopic } from '../permissions.js';

/** Records per POST; kept well under the node's batch limit and its 1 MiB body limit. */
const UPLOAD_BATCH_RECORDS = 500;
/** A batch is also cut when its JSON would pass this many bytes. */
const UPLOAD_BATCH_BYTES_MAX = 512 * 1024;

export function render(container, params) {
  if (!allowsSomeTopic('WRITE')) {
    replace(
      container,
      h('h1', {}, 'Produce'),
      h('p', { class: 'muted', id: 'produce-not-authorized' }, 'You are not authorized to WRITE to any topic.'),
    );
    return;
  }
  const topicNames = h('datalist', { id: 'produce-topic-names' });
  const single = singleForm(params.query.get('topic') ?? '');
  const upload = uploadForm(params.query.get('topic') ?? '');
  replace(container, h('h1', {}, 'Produce'), topicNames, single, upload);
  suggestTopics(single.querySelector('#produce-topic'), topicNames, { operation: 'WRITE' });
  suggestTopics(upload.querySelector('#upload-topic'), topicNames, { operation: 'WRITE' });
}

function singleForm(initialTopic) {
  const status = statusLine();
  const topic = h('input', {
    id: 'produce-topic',
    list: 'produce-topic-names',
    value: initialTopic,
    required: true,
    placeholder: 'topic name',
  });
  const partition = h('input', { id: 'produce-partition', type: 'number', min: 0, placeholder: 'chosen by key' });
  const key = h('input', { id: 'produce-key', placeholder: 'no key' });
  const valueType = h(
    'select',
    { id: 'produce-value-type' },
    h('option', { value: 'string' }, 'text'),
    h('option', { value: 'json' }, 'JSON'),
  );
  const value = h('textarea', { id: 'produce-value', rows: 5, placeholder: 'the message' });
  const headers = h('textarea', { id: 'produce-headers', rows: 2, placeholder: 'source=console' });
  return h(
    'form',
    {
      class: 'card form',
      id: 'produce-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const record = {};
        try {
          if (key.value !== '') record.key = key.value;
          if (valueType.value === 'json') {
            try {
              JSON.parse(value.value);
            } catch {
              throw new Error('The value is not valid JSON; choose "text" to send it as it is.');
            }
          }
          record.value = value.value;
          const pairs = parsePairs(headers.value);
          if (Object.keys(pairs).length > 0) record.headers = pairs;
          if (partition.value !== '') record.partition = Number(partition.value);
        } catch (error) {
          return status.fail(error);
        }
        status.busy('Sending…');
        try {
          const answer = await api('POST', `/api/v1/topics/${encode(topic.value.trim())}/records`, {
            records: [record],
          });
          const result = answer.offsets[0];
          if (result.error) throw new Error(typeof result.error === 'string' ? result.error : result.error.message);
          status.ok(`Written to partition ${result.partition} at offset ${result.offset}.`);
        } catch (error) {
          status.fail(error);
        }
      },
    },
    h('h2', {}, 'Send one message'),
    h(
      'div',
      { class: 'fields' },
      h('label', {}, 'Topic', topic),
      h('label', {}, 'Partition', partition),
      h('label', {}, 'Key', key),
      h('label', {}, 'Value is', valueType),
      h('label', { class: 'wide' }, 'Value', value),
      h('label', { class: 'wide' }, 'Headers (key=value, one per line)', headers),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'produce-send' }, 'Send')),
    status.element,
  );
}

function uploadForm(initialTopic) {
  const status = statusLine();
  const topic = h('input', {
    id: 'upload-topic',
    list: 'produce-topic-names',
    value: initialTopic,
    required: true,
    placeholder: 'topic name',
  });
  const file = h('input', {
    id: 'upload-file',
    type: 'file',
    accept: '.csv,.jsonl,.ndjson,.json,text/csv,application/json',
  });
  const keyColumn = h('select', { id: 'upload-key-column', disabled: true }, h('option', { value: '' }, 'no key'));
  const preview = h('div', { id: 'upload-preview' });
  const progress = h('progress', { id: 'upload-progress', max: 1, value: 0, hidden: true });
  const summary = h('div', { id: 'upload-summary' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'upload-send', disabled: true }, 'Produce rows');
  let parsed = null;

  file.addEventListener('change', async () => {
    parsed = null;
    submit.disabled = true;
    replace(preview);
    replace(summary);
    const chosen = file.files[0];
    if (!chosen) return;
    try {
      const text = await chosen.text();
      const isCsv = /\.csv$/i.test(chosen.name) || chosen.type === 'text/csv';
      parsed = isCsv ? parseCsv(text) : parseJsonLines(text);
      replace(
        keyColumn,
        h('option', { value: '' }, 'no key'),
        parsed.columns.map((c) => h('option', { value: c }, c)),
      );
      keyColumn.disabled = false;
      submit.disabled = false;
      replace(
        preview,
        h(
          'p',
          { class: 'muted' },
          `${chosen.name}: ${formatNumber(parsed.rows.length)} rows, columns ${parsed.columns.join(', ')}. First rows:`,
        ),
        table(
          parsed.columns,
          parsed.rows
            .slice(0, 3)
            .map((row) =>
              parsed.columns.map((c) =>
                row[c] === undefined ? '' : typeof row[c] === 'string' ? row[c] : JSON.stringify(row[c]),
              ),
            ),
        ),
      );
      status.clear();
    } catch (error) {
      status.fail(error);
    }
  });

  const form = h(
    'form',
    {
      class: 'card form',
      id: 'upload-form',
      onsubmit: async (event) => {
        event.preventDefault();
        if (!parsed) return status.fail('Choose a file first.');
        const name = topic.value.trim();
        if (name === '') return status.fail('Choose the topic to write to.');
        const column = keyColumn.value;
        const records = parsed.rows.map((row) => {
          const record = { value: JSON.stringify(row) };
          if (column !== '' && row[column] !== undefined && row[column] !== null)
            record.key = typeof row[column] === 'string' ? row[column] : JSON.stringify(row[column]);
          return record;
        });
        submit.disabled = true;
        progress.hidden = false;
        progress.max = records.length;
        progress.value = 0;
        replace(summary);
        const perPartition = new Map();
        const errors = new Map();
        let written = 0;
        let failed = 0;
        try {
          for (const batch of batches(records)) {
            status.busy(
              `Writing rows ${formatNumber(written + failed + 1)}–${formatNumber(written + failed + batch.length)} of ${formatNumber(records.length)}…`,
            );
            const answer = await api('POST', `/api/v1/topics/${encode(name)}/records`, { records: batch });
            for (const result of answer.offsets) {
              if (result.error) {
                failed++;
                const text =
                  typeof result.error === 'string' ? result.error : (result.error.message ?? result.error.code);
                errors.set(text, (errors.get(text) ?? 0) + 1);
                continue;
              }
              written++;
              const entry = perPartition.get(result.partition) ?? {
                count: 0,
                first: result.offset,
                last: result.offset,
              };
              entry.count++;
              entry.first = Math.min(entry.first, result.offset);
              entry.last = Math.max(entry.last, result.offset);
              perPartition.set(result.partition, entry);
            }
            progress.value = written + failed;
          }
          if (failed === 0) status.ok(`Wrote ${formatNumber(written)} records to "${name}".`);
          else status.fail(`Wrote ${formatNumber(written)} records; ${formatNumber(failed)} failed.`);
        } catch (error) {
          status.fail(`Stopped after ${formatNumber(written)} records: ${error.message}`);
        } finally {
          submit.disabled = false;
        }
        replace(
          summary,
          table(
            ['Partition', 'Records', 'Offsets'],
            [...perPartition]
              .sort((a, b) => a[0] - b[0])
              .map(([p, e]) => [String(p), formatNumber(e.count), `${e.first}–${e.last}`]),
            { empty: 'Nothing was written.' },
          ),
          errors.size > 0
            ? table(
                ['Error', 'Records'],
                [...errors].map(([text, count]) => [text, formatNumber(count)]),
              )
            : null,
        );
      },
    },
    h('h2', {}, 'Upload a file'),
    h(
      'p',
      { class: 'muted' },
      'A CSV file (first row names the columns) or JSON lines (one object per line). Each row becomes one record whose value is the row as a JSON object.',
    ),
    h(
      'div',
      { class: 'fields' },
      h('label', {}, 'Topic', topic),
      h('label', {}, 'File', file),
      h('label', {}, 'Key column', keyColumn),
    ),
    preview,
    h('div', { class: 'actions' }, submit, progress),
    status.element,
    summary,
  );
  return form;
}

const utf8 = new TextEncoder();

/** Splits records into batches bounded by count and by approximate JSON size. */
function* batches(records) {
  let batch = [];
  let bytes = 0;
  for (const record of records) {
    const size = utf8.encode(JSON.stringify(record)).length + 1;
    if (batch.length > 0 && (batch.length >= UPLOAD_BATCH_RECORDS || bytes + size > UPLOAD_BATCH_BYTES_MAX)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}
