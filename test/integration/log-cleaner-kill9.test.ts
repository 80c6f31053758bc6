// Compaction under kill -9 of a real broker process: a compacted topic with small segments
// and many keys, written in acknowledged rounds (overwrites and tombstones), its cleaner
// throttled so a pass takes a while, and a writer on other keys still producing. The broker
// is killed with SIGKILL at several points of its passes (as the pass's .cleaned file
// appears, a moment into a pass, right after a pass finished, shortly after a write) and
// restarted from its data directory each time. After every restart kcat reads from the
// beginning and sees offsets increasing, every record the one acknowledged at that offset
// (or the batch in flight at the kill, at the log end; nothing duplicated or invented), and
// per key its latest acknowledged value (a tombstone as a null value) at its original
// offset; no .cleaned or .swap file is left; the broker takes writes and a later pass
// completes. At the end a kafkajs consumer reads the partition to its end and passes the
// same checks, and below the cleaner's checkpoint each key appears once.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ApiKey } from '../../protocol/api-keys';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { CLEANER_CHECKPOINT_FILE, LOGS_DIR, partitionDirName } from '../../src/log/on-disk-names';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { kcat } from '../helpers/kcat';
import { delay, until } from '../helpers/wait';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const HAVE_KCAT = fs.existsSync('/usr/bin/kcat');
const TOPIC = 'crash-compacted';
const KEYS = 300;
const VALUE_BYTES = 200;
const ROUNDS_PER_CYCLE = 4;
const RECORDS_PER_BATCH = 50;
const CONFIG = {
  'log.cleaner.backoff.ms': '50',
  // About 0.3 s a pass for the few hundred KB of each cycle: time for the kills to land in it.
  'log.cleaner.io.max.bytes.per.second': '1500000',
  'log.cleaner.dedupe.buffer.size': String(1 << 20),
};

interface Stored {
  key: string;
  value: string | null;
}

/** Every acknowledged record by offset, and each key's latest offset. */
const acknowledged = new Map<number, Stored>();
const latest = new Map<string, number>();
let written = 0;

function partitionDir(broker: BrokerProcess): string {
  return path.join(broker.dataDir, LOGS_DIR, partitionDirName(TOPIC, 0));
}

function leftovers(broker: BrokerProcess): string[] {
  return fs.readdirSync(partitionDir(broker)).filter((n) => n.endsWith('.cleaned') || n.endsWith('.swap'));
}

function cleanerRuns(broker: BrokerProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: broker.httpPort!, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(Number(/^brook_log_cleaner_runs_total (\S+)$/m.exec(body)?.[1] ?? 0)));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('/metrics timed out')));
  });
}

/** One round over every key (some rounds delete a few), acks=all, recorded once acknowledged. */
async function writeRound(connection: KafkaConnection, cycle: number, round: number): Promise<void> {
  const filler = 'x'.repeat(VALUE_BYTES);
  for (let first = 0; first < KEYS; first += RECORDS_PER_BATCH) {
    const records: Stored[] = [];
    for (let k = first; k < Math.min(KEYS, first + RECORDS_PER_BATCH); k++) {
      const tombstone = round === ROUNDS_PER_CYCLE - 1 && (k + cycle) % 13 === 0;
      records.push({ key: `key-${k}`, value: tombstone ? null : `c${cycle}-r${round}-${k}-${filler}` });
    }
    const answer = await connection.request(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [
        {
          name: TOPIC,
          partitionData: [
            {
              index: 0,
              records: encodeRecordBatchSync({
                records: records.map((r) => ({ key: r.key, value: r.value, timestamp: Date.now() })),
              }),
            },
          ],
        },
      ],
    });
    const partition = answer.responses[0].partitionResponses[0];
    assert.is(partition.errorCode, 0, `produce error ${partition.errorCode}`);
    records.forEach((record, i) => {
      const offset = Number(partition.baseOffset) + i;
      acknowledged.set(offset, record);
      latest.set(record.key, offset);
    });
    written += records.length;
  }
}

async function writeCycle(broker: BrokerProcess, cycle: number): Promise<void> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 15_000 });
  await connection.connect();
  try {
    for (let round = 0; round < ROUNDS_PER_CYCLE; round++) await writeRound(connection, cycle, round);
  } finally {
    connection.close();
  }
}

/**
 * Writes to other keys, one batch at a time, until the broker dies: the batch in flight at
 * the kill may or may not be stored; after the restart its records, if read, must be that
 * batch at the log end of the kill, and they are then counted as stored.
 */
let inFlight: Stored[] | null = null;
let inFlightBase = -1;

async function writeUntilKilled(broker: BrokerProcess, cycle: number): Promise<void> {
  const connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 15_000 });
  try {
    await connection.connect();
    for (let n = 0; ; n++) {
      const records = Array.from({ length: 10 }, (_, i) => ({
        key: `live-${(n * 10 + i) % 40}`,
        value: `live-c${cycle}-n${n}-${i}`,
      }));
      inFlight = records;
      inFlightBase = Math.max(...acknowledged.keys()) + 1;
      const answer = await connection.request(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [
          {
            name: TOPIC,
            partitionData: [
              {
                index: 0,
                records: encodeRecordBatchSync({
                  records: records.map((r) => ({ key: r.key, value: r.value, timestamp: Date.now() })),
                }),
              },
            ],
          },
        ],
      });
      const partition = answer.responses[0].partitionResponses[0];
      if (partition.errorCode !== 0) return;
      records.forEach((record, i) => {
        const offset = Number(partition.baseOffset) + i;
        acknowledged.set(offset, record);
        latest.set(record.key, offset);
      });
      written += records.length;
      inFlight = null;
    }
  } catch {
    // The kill: the batch in flight stays in inFlight.
  } finally {
    connection.close();
  }
}

/** Counts the batch in flight at the kill as stored when the restarted broker has it. */
function adoptInFlight(records: Read[]): void {
  const batch = inFlight;
  inFlight = null;
  if (!batch) return;
  const found = records.filter((r) => r.offset >= inFlightBase);
  if (found.length === 0) return;
  batch.forEach((record, i) => {
    acknowledged.set(inFlightBase + i, record);
    latest.set(record.key, inFlightBase + i);
  });
  written += batch.length;
}

interface Read {
  offset: number;
  key: string;
  value: string | null;
}

/** The partition from the beginning through kcat: offset, key, value length (-1: null), value. */
async function readWithKcat(broker: BrokerProcess): Promise<Read[]> {
  const read = await kcat(
    broker.port,
    ['-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o\t%k\t%S\t%s\n'],
    undefined,
    20_000,
  );
  assert.is(read.code, 0, read.stderr);
  return read.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [offset, key, length, value] = line.split('\t');
      return { offset: Number(offset), key, value: length === '-1' ? null : value };
    });
}

/** What any reader must see of the log; `context` names the kill it follows. */
function check(records: Read[], context: string): void {
  let previous = -1;
  const lastSeen = new Map<string, number>();
  for (const record of records) {
    assert.ok(record.offset > previous, `${context}: offsets increase (${record.offset} after ${previous})`);
    previous = record.offset;
    const stored = acknowledged.get(record.offset);
    assert.ok(stored, `${context}: offset ${record.offset} holds a record that was acknowledged there`);
    assert.is(record.key, stored!.key, `${context}: the key at ${record.offset}`);
    assert.is(record.value, stored!.value, `${context}: the value at ${record.offset}`);
    lastSeen.set(record.key, record.offset);
  }
  const wrong = [...latest].filter(([key, offset]) => lastSeen.get(key) !== offset);
  assert.equal(
    wrong.slice(0, 3).map(([key, offset]) => `${key}: latest at ${offset}, read ${lastSeen.get(key)}`),
    [],
    `${context}: every key's latest acknowledged value at its offset (${wrong.length} wrong)`,
  );
}

/** Waits for a pass to be under way: its .cleaned file is in the partition directory. */
async function passUnderWay(broker: BrokerProcess): Promise<void> {
  await until(() => leftovers(broker).some((n) => n.endsWith('.cleaned')), {
    what: 'a cleaning pass to write its .cleaned file',
    timeoutMs: 10_000,
    intervalMs: 2,
  });
}

test('kill -9 during compaction: the log reopens with every latest acknowledged value at its offset', async () => {
  if (!HAVE_KCAT) {
    console.log('skipped: kcat is not installed at /usr/bin/kcat');
    return;
  }
  let broker = await startBroker({ http: true, config: CONFIG });
  const dataDir = broker.dataDir;
  try {
    const kafka = new Kafka({
      clientId: 'cleaner-kill9',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '16384' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
    });
    await admin.disconnect();

    // Where each kill lands, relative to the passes the writes start.
    const kills: { name: string; wait: (b: BrokerProcess) => Promise<void> }[] = [
      { name: 'as a pass writes its .cleaned file', wait: passUnderWay },
      {
        name: 'a moment into a pass',
        wait: async (b) => {
          await passUnderWay(b);
          await delay(60);
        },
      },
      {
        name: 'right after a pass finished',
        wait: async (b) => {
          await until(async () => (await cleanerRuns(b)) >= 1, {
            what: 'a cleaning pass to finish',
            timeoutMs: 10_000,
            intervalMs: 5,
          });
        },
      },
      { name: 'shortly after the writes', wait: () => delay(20) },
    ];
    let killedMidPass = 0;
    for (let cycle = 0; cycle < kills.length; cycle++) {
      await writeCycle(broker, cycle);
      const writer = writeUntilKilled(broker, cycle);
      await kills[cycle].wait(broker);
      await broker.kill9();
      await writer;
      if (leftovers(broker).length > 0) killedMidPass++;
      broker = await startBroker({ dataDir, http: true, config: CONFIG });
      const context = `after the kill ${kills[cycle].name}`;
      assert.equal(leftovers(broker), [], `${context}: no .cleaned or .swap file left after the open`);
      const records = await readWithKcat(broker);
      adoptInFlight(records);
      check(records, context);
    }

    assert.ok(killedMidPass >= 1, "at least one kill left a pass's files for the next open to finish");

    // The restarted broker takes writes, and a pass over them completes: the cleaner's
    // checkpoint moves into them.
    const lastCycleStart = Math.max(...acknowledged.keys()) + 1;
    await writeCycle(broker, kills.length);
    const checkpointFile = path.join(dataDir, LOGS_DIR, CLEANER_CHECKPOINT_FILE);
    const cleanedTo = () => {
      const entry = (fs.existsSync(checkpointFile) ? fs.readFileSync(checkpointFile, 'utf8') : '')
        .split('\n')
        .map((line) => line.split(' '))
        .find((fields) => fields[0] === TOPIC && fields[1] === '0');
      return entry ? Number(entry[2]) : -1;
    };
    await until(() => cleanedTo() > lastCycleStart + KEYS, {
      what: () => `a pass into the last writes (checkpoint ${cleanedTo()}, writes from ${lastCycleStart})`,
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    // Read before the records: passes only move it up and only remove records, so below it
    // each key appears once whatever a later pass does during the read.
    const checkpointed = cleanedTo();
    const records = await readWithKcat(broker);
    check(records, 'after the last pass');
    assert.ok(records.length < written / 2, `compacted: ${records.length} records of ${written} written`);
    const cleanedKeys = records.filter((r) => r.offset < checkpointed).map((r) => r.key);
    assert.is(new Set(cleanedKeys).size, cleanedKeys.length, 'each key once in the cleaned section');

    // kafkajs sees the same.
    const consumerKafka = new Kafka({
      clientId: 'cleaner-kill9-consumer',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
    });
    const consumer = consumerKafka.consumer({ groupId: 'cleaner-kill9', sessionTimeout: 10_000 });
    await consumer.connect();
    const seen: Read[] = [];
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            offset: Number(message.offset),
            key: message.key?.toString() ?? '',
            value: message.value === null ? null : message.value.toString(),
          });
        },
      });
      // Passes may still run while it reads (each removes records, none moves one), so what
      // it reads is judged as kcat's reads are, up to the last acknowledged offset.
      const lastOffset = Math.max(...acknowledged.keys());
      await until(() => seen.some((r) => r.offset === lastOffset), {
        what: () => `kafkajs to read up to offset ${lastOffset} (read ${seen.length}, last ${seen.at(-1)?.offset})`,
        timeoutMs: 15_000,
        intervalMs: 50,
      });
    } finally {
      await consumer.disconnect();
    }
    check(seen, 'kafkajs after the last pass');
  } finally {
    await broker.stop();
  }
});

test.run();
