// Records over REST: produce (POST /api/v1/topics/{topic}/records, through the bundled
// producer to the partition leaders) and read one partition from an offset or timestamp
// (GET .../partitions/{partition}/records, ListOffsets and one Fetch at the leader through
// the bundled client). Reads never wait for new data, and are capped in records and bytes.
// Producing needs Write on the topic, reading Read, as Produce and Fetch do.

import { ErrorCode } from '../../../protocol/errors';
import { RecordBatchView, splitBatches } from '../../../protocol/record-batch';
import { Cluster } from '../../client/cluster';
import { EARLIEST, LATEST, leaderConnection, listOffset } from '../kafka-requests';
import { ProducerRecord } from '../../client/producer';
import { readJsonBody } from '../body';
import { badRequest, fromKafkaCode, HttpError, notFound, toHttpError } from '../http-errors';
import type { ApiContext } from '../http-server';
import { Acks } from '../kafka-clients';
import {
  decodeOutput,
  encodeInput,
  InputFormat,
  OUTPUT_FORMATS,
  OutputFormat,
  parseInputFormat,
} from '../record-format';
import type { Router } from '../router';
import { JsonObject, onlyFields, queryInteger, requireObject } from '../validate';
import { isInternalTopic as isInternal } from '../../../protocol/topic-names';
import { existingTopic } from './topic-routes';
import { ApiKey } from '../../../protocol/api-keys';
import type { Response } from '../../../protocol/apis';
import { AclOperation } from '../../security/acl';
import { RequestAuthorization } from '../authorization';

/** Records one produce request may carry. */
export const PRODUCE_RECORDS_MAX = 10_000;
/** Records one read returns at most (?limit=). */
export const READ_RECORDS_MAX = 1000;
const READ_RECORDS_DEFAULT = 100;
/** Bytes of record batches one read fetches at most (the JSON answer grows with them). */
export const READ_BYTES_MAX = 1024 * 1024;
/** Header entries per record at most. */
const HEADERS_PER_RECORD_MAX = 100;
/** Decompressed bytes of one batch a read accepts. */
const DECOMPRESSED_BATCH_BYTES_MAX = 64 * 1024 * 1024;

interface ParsedProduce {
  records: ProducerRecord[];
  acks: Acks;
}

function parseAcks(value: unknown): Acks {
  if (value === undefined || value === null || value === 'all' || value === -1) return -1;
  if (value === 0 || value === 1) return value;
  throw badRequest(`acks must be 0, 1, -1 or "all", got ${JSON.stringify(value)}`);
}

function parseHeaders(value: unknown, field: string): { key: string; value: Buffer | null }[] {
  if (value === undefined || value === null) return [];
  const entries: [unknown, unknown][] = Array.isArray(value)
    ? value.map((h, i) => {
        const header = requireObject(h, `${field}[${i}]`);
        onlyFields(header, ['key', 'value'], `${field}[${i}]`);
        return [header.key, header.value];
      })
    : Object.entries(requireObject(value, field));
  if (entries.length > HEADERS_PER_RECORD_MAX)
    throw badRequest(`${field}: at most ${HEADERS_PER_RECORD_MAX} headers per record`);
  return entries.map(([key, v]) => {
    if (typeof key !== 'string' || key === '') throw badRequest(`${field}: every header needs a non-empty string key`);
    if (v !== null && v !== undefined && typeof v !== 'string')
      throw badRequest(`${field}.${key}: header values must be strings or null`);
    return { key, value: typeof v === 'string' ? Buffer.from(v, 'utf8') : null };
  });
}

export function parseProduceBody(raw: unknown, topic: string, partitions: number): ParsedProduce {
  const body = requireObject(raw);
  onlyFields(body, ['records', 'keyFormat', 'valueFormat', 'acks']);
  const keyFormat = parseInputFormat(body.keyFormat, 'keyFormat');
  const valueFormat = parseInputFormat(body.valueFormat, 'valueFormat');
  const acks = parseAcks(body.acks);
  if (!Array.isArray(body.records) || body.records.length === 0)
    throw badRequest(
      'records is required: an array of at least one record ({key?, value?, headers?, partition?, timestamp?})',
    );
  if (body.records.length > PRODUCE_RECORDS_MAX)
    throw badRequest(
      `at most ${PRODUCE_RECORDS_MAX} records per request, got ${body.records.length}`,
      'too-many-records',
    );
  const records = body.records.map((item: unknown, i: number) =>
    parseRecord(item, i, topic, partitions, keyFormat, valueFormat),
  );
  return { records, acks };
}

function parseRecord(
  item: unknown,
  i: number,
  topic: string,
  partitions: number,
  keyFormat: InputFormat | undefined,
  valueFormat: InputFormat | undefined,
): ProducerRecord {
  const field = `records[${i}]`;
  const record: JsonObject = requireObject(item, field);
  onlyFields(record, ['key', 'value', 'headers', 'partition', 'timestamp'], field);
  const partition = record.partition;
  if (partition !== undefined && partition !== null) {
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0)
      throw badRequest(`${field}.partition must be a non-negative integer, got ${JSON.stringify(partition)}`);
    if (partition >= partitions)
      throw notFound(
        `${field}.partition ${partition} does not exist: topic "${topic}" has ${partitions} partition(s)`,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
  }
  const timestamp = record.timestamp;
  if (
    timestamp !== undefined &&
    timestamp !== null &&
    (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0)
  ) {
    throw badRequest(
      `${field}.timestamp must be milliseconds since the epoch (a non-negative integer), got ${JSON.stringify(timestamp)}`,
    );
  }
  return {
    topic,
    key: encodeInput(record.key, keyFormat, `${field}.key`),
    value: encodeInput(record.value, valueFormat, `${field}.value`),
    headers: parseHeaders(record.headers, `${field}.headers`),
    partition: typeof partition === 'number' ? partition : undefined,
    timestamp: typeof timestamp === 'number' ? timestamp : undefined,
  };
}

interface ReadAnswer {
  records: unknown[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

async function readPartition(cluster: Cluster, topic: string, partition: number, url: URL): Promise<ReadAnswer> {
  const offsetParam = queryInteger(url, 'offset', undefined, 0);
  const timestampParam = queryInteger(url, 'timestamp', undefined, 0);
  if (offsetParam !== undefined && timestampParam !== undefined) throw badRequest('give offset or timestamp, not both');
  const limit = queryInteger(url, 'limit', READ_RECORDS_DEFAULT, 1, READ_RECORDS_MAX)!;
  const format = (url.searchParams.get('format') ?? 'auto') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format))
    throw badRequest(`format must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);

  let connection = await leaderConnection(cluster, topic, partition);
  let start: number;
  if (offsetParam !== undefined) start = offsetParam;
  else if (timestampParam !== undefined) {
    start = await listOffset(cluster, topic, partition, timestampParam);
    // No record at or after the timestamp: start at the end (nothing to read yet).
    if (start < 0) start = await listOffset(cluster, topic, partition, LATEST);
  } else {
    // Neither given: the newest `limit` records.
    const [earliest, latest] = await Promise.all([
      listOffset(cluster, topic, partition, EARLIEST),
      listOffset(cluster, topic, partition, LATEST),
    ]);
    start = Math.max(earliest, latest - limit);
  }

  let answer: Response<typeof ApiKey.Fetch>;
  for (let attempt = 0; ; attempt++) {
    answer = await connection.request(
      ApiKey.Fetch,
      {
        clusterId: null,
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: READ_BYTES_MAX,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            partitions: [
              {
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: start,
                lastFetchedEpoch: -1,
                logStartOffset: -1,
                partitionMaxBytes: READ_BYTES_MAX,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      },
      { cap: 12 },
    ); // Fetch 13+ names topics by id; this route sends the name.
    const code = answer.errorCode !== ErrorCode.NONE ? answer.errorCode : answer.responses[0].partitions[0].errorCode;
    if (code === ErrorCode.NONE) break;
    if ((code === ErrorCode.NOT_LEADER_OR_FOLLOWER || code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) && attempt === 0) {
      await cluster.refreshMetadata([topic]);
      connection = await leaderConnection(cluster, topic, partition);
      continue;
    }
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      const [earliest, latest] = await Promise.all([
        listOffset(cluster, topic, partition, EARLIEST),
        listOffset(cluster, topic, partition, LATEST),
      ]);
      throw new HttpError(
        416,
        'OFFSET_OUT_OF_RANGE',
        `offset ${start} is outside the log of ${topic}-${partition} (earliest ${earliest}, high watermark ${latest})`,
      );
    }
    throw fromKafkaCode(code, `reading ${topic}-${partition}`);
  }
  const p = answer.responses[0].partitions[0];
  const highWatermark = Number(p.highWatermark);
  const records: unknown[] = [];
  let nextOffset = start;
  const raw = p.records as Buffer | Buffer[] | null;
  const bytes = raw === null ? null : Array.isArray(raw) ? Buffer.concat(raw) : raw;
  if (bytes && bytes.length > 0) {
    outer: for (const batch of splitBatches(bytes).batches) {
      const view = new RecordBatchView(batch);
      if (view.lastOffset < start) continue;
      if (!view.isControl) {
        for (const r of await view.records(DECOMPRESSED_BATCH_BYTES_MAX)) {
          if (r.offset < start) continue;
          if (records.length >= limit) break outer;
          const key = decodeOutput(r.key, format);
          const value = decodeOutput(r.value, format);
          records.push({
            partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: key.value,
            value: value.value,
            headers: r.headers.map((h) => {
              const decoded = decodeOutput(h.value, format === 'json' ? 'auto' : format);
              return { key: h.key, value: decoded.value, encoding: decoded.encoding };
            }),
            keyEncoding: key.encoding,
            valueEncoding: value.encoding,
          });
          nextOffset = r.offset + 1;
        }
      }
      // Control batches and the tail of a batch cut short are stepped over.
      if (records.length < limit) nextOffset = Math.max(nextOffset, view.lastOffset + 1);
    }
  }
  return { records, nextOffset, highWatermark, logStartOffset: Number(p.logStartOffset ?? -1) };
}

export function addRecordRoutes(router: Router, context: ApiContext): void {
  const { broker } = context;

  router.add('POST', '/api/v1/topics/{topic}/records', async ({ req, params, access }) => {
    const raw = await readJsonBody(req);
    const topic = RequestAuthorization.of(broker, req, access).requireTopic(AclOperation.WRITE, params.topic, () =>
      existingTopic(broker, params.topic),
    );
    if (isInternal(params.topic))
      throw badRequest(
        `topic "${params.topic}" is internal: records cannot be written to it`,
        'INVALID_TOPIC_EXCEPTION',
      );
    const { records, acks } = parseProduceBody(raw, params.topic, topic.partitions.size);
    const producer = context.clients.producer(acks);
    const results = await Promise.allSettled(records.map((record) => producer.send(record)));
    const offsets = results.map((result, i) => {
      if (result.status === 'fulfilled') return { partition: result.value.partition, offset: result.value.offset };
      const failure = toHttpError(result.reason);
      return {
        partition: records[i].partition ?? -1,
        offset: -1,
        error: { code: failure.code, message: failure.message },
      };
    });
    return { status: 200, body: { offsets } };
  });

  router.add('GET', '/api/v1/topics/{topic}/partitions/{partition}/records', async ({ req, url, params, access }) => {
    const topic = RequestAuthorization.of(broker, req, access).requireTopic(AclOperation.READ, params.topic, () =>
      existingTopic(broker, params.topic),
    );
    if (!/^\d+$/.test(params.partition))
      throw badRequest(`partition must be a non-negative integer, got ${JSON.stringify(params.partition)}`);
    const partition = Number(params.partition);
    if (partition >= topic.partitions.size)
      throw notFound(
        `partition ${partition} does not exist: topic "${params.topic}" has ${topic.partitions.size} partition(s)`,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    const admin = await context.clients.adminClient();
    return { status: 200, body: await readPartition(admin.cluster, params.topic, partition, url) };
  });
}
