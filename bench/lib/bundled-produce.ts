// The bundled producer (src/client/producer.ts) driven as fast as it takes records: every
// Producer instance keeps a bounded number of sends outstanding, each send's latency (call
// to acknowledgement; or one send in latencySampleEvery) is logged, and put into one HDR
// histogram once the CPU figure is taken; the row ends once the duration is over and every producer has flushed what it
// queued.

import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { OutstandingLimit } from '../../src/client/outstanding-limit';
import { Producer, RecordMetadata } from '../../src/client/producer';
import { LatencyLog, LatencySummary, summarise } from './load';

export interface BundledProduceLoad {
  /** Connected producers, each driven by its own loop. */
  producers: Producer[];
  topic: string;
  recordBytes: number;
  durationMs: number;
  /** Sends awaiting their answer, per producer; the loop waits when it reaches this. */
  outstandingPerProducer: number;
  /** Set: records go to partitions 0..partitions-1 in turn; unset: the producer's default partitioner. */
  partitions?: number;
  /**
   * Time one send in this many (default 1: every send). Sampling at a fixed stride, as
   * Kafka's ProducerPerformance does, keeps two clock reads and a closure per send out of
   * the client CPU figure; the percentiles are those of an evenly spaced sample.
   */
  latencySampleEvery?: number;
}

export interface BundledProduceResult {
  records: number;
  bytes: number;
  /** From the first send until every producer's flush returned. */
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  /** This process's CPU (user + system) per acknowledged record, in microseconds. */
  clientCpuMicrosPerRecord: number;
  latency: LatencySummary;
  /** The same latencies (microseconds), for callers that merge or compare histograms. */
  histogram: hdr.Histogram;
  errors: number;
  /** The first failure's message, so a failing row says why. */
  firstError: string | null;
}

/** Sends between two yields to the event loop, so timers and socket reads keep running. */
const SENDS_PER_YIELD = 512;
/** Sends between two looks at the clock for the end of the row. */
const SENDS_PER_DEADLINE_CHECK = 64;

export async function runBundledProducers(load: BundledProduceLoad): Promise<BundledProduceResult> {
  const latencies = new LatencyLog();
  const value = Buffer.alloc(load.recordBytes, 0x62);
  let records = 0;
  let errors = 0;
  let firstError: string | null = null;
  const cpu = process.cpuUsage();
  const startedMs = performance.now();
  const deadlineMs = startedMs + load.durationMs;

  const sampleEvery = Math.max(1, Math.floor(load.latencySampleEvery ?? 1));
  const drive = async (producer: Producer) => {
    const outstanding = new OutstandingLimit(load.outstandingPerProducer);
    // One reaction per send (no finally), as a lean application would write it.
    const counted = (outcome: RecordMetadata | Error) => {
      if (outcome instanceof Error) {
        errors++;
        firstError ??= outcome.message;
      } else {
        records++;
      }
      outstanding.done();
    };
    let sent = 0;
    for (;;) {
      if (sent % SENDS_PER_DEADLINE_CHECK === 0 && performance.now() >= deadlineMs) break;
      if (outstanding.full) {
        await outstanding.room();
        continue;
      }
      outstanding.add();
      const partition = load.partitions === undefined ? undefined : sent % load.partitions;
      if (sent % sampleEvery === 0) {
        const sentMs = performance.now();
        const settled = producer.send({ topic: load.topic, partition, value });
        const timed = (outcome: RecordMetadata | Error) => {
          if (!(outcome instanceof Error)) latencies.record(Math.round((performance.now() - sentMs) * 1000));
          counted(outcome);
        };
        settled.then(timed, timed);
      } else {
        producer.send({ topic: load.topic, partition, value }).then(counted, counted);
      }
      sent++;
      if (sent % SENDS_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await producer.flush();
    // flush() returns once every batch has its answer; the sends' own callbacks may still be
    // queued behind it, and the row counts them all.
    await outstanding.drained();
  };

  await Promise.all(load.producers.map(drive));
  const seconds = (performance.now() - startedMs) / 1000;
  const used = process.cpuUsage(cpu);
  const histogram = latencies.histogram();
  return {
    records,
    bytes: records * load.recordBytes,
    seconds,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: (records * load.recordBytes) / seconds / 1e6,
    clientCpuMicrosPerRecord: (used.user + used.system) / Math.max(1, records),
    // After the CPU figure: building the histogram is not the producer's work.
    latency: summarise(histogram),
    histogram,
    errors,
    firstError,
  };
}
