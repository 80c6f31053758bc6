// The bundled producer (src/client/producer.ts) driven as fast as it takes records: every
// Producer instance keeps a bounded number of sends outstanding, each send's latency (call
// to acknowledgement) goes into one HDR histogram, and the row ends once the duration is
// over and every producer has flushed what it queued.

import { performance } from 'node:perf_hooks';
import { Producer } from '../../src/client/producer';
import { LatencySummary, newHistogram, summarise } from './load';

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
  errors: number;
  /** The first failure's message, so a failing row says why. */
  firstError: string | null;
}

/** Sends between two yields to the event loop, so timers and socket reads keep running. */
const SENDS_PER_YIELD = 512;

export async function runBundledProducers(load: BundledProduceLoad): Promise<BundledProduceResult> {
  const histogram = newHistogram();
  const value = Buffer.alloc(load.recordBytes, 0x62);
  let records = 0;
  let errors = 0;
  let firstError: string | null = null;
  const cpu = process.cpuUsage();
  const startedMs = performance.now();
  const deadlineMs = startedMs + load.durationMs;

  const drive = async (producer: Producer) => {
    let outstanding = 0;
    let wake: (() => void) | null = null;
    let sent = 0;
    const settled = () => {
      outstanding--;
      const waiting = wake;
      wake = null;
      waiting?.();
    };
    while (performance.now() < deadlineMs) {
      if (outstanding >= load.outstandingPerProducer) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      outstanding++;
      const sentMs = performance.now();
      const partition = load.partitions === undefined ? undefined : sent % load.partitions;
      sent++;
      // One reaction per send (no finally), as a lean application would write it.
      producer.send({ topic: load.topic, partition, value }).then(
        () => {
          records++;
          histogram.recordValue(Math.max(1, Math.round((performance.now() - sentMs) * 1000)));
          settled();
        },
        (error: Error) => {
          errors++;
          firstError ??= error.message;
          settled();
        },
      );
      if (sent % SENDS_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await producer.flush();
    // flush() returns once every batch has its answer; the sends' own callbacks may still be
    // queued behind it, and the row counts them all.
    while (outstanding > 0) await new Promise<void>((resolve) => (wake = resolve));
  };

  await Promise.all(load.producers.map(drive));
  const seconds = (performance.now() - startedMs) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    records,
    bytes: records * load.recordBytes,
    seconds,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: (records * load.recordBytes) / seconds / 1e6,
    clientCpuMicrosPerRecord: (used.user + used.system) / Math.max(1, records),
    latency: summarise(histogram),
    errors,
    firstError,
  };
}
