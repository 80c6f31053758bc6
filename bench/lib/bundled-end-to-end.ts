// End-to-end latency through the bundled client: one Producer sends at a fixed offered rate
// (open loop) while one Consumer reads the same topic. Every record has a due time on the
// schedule (start + i / rate), written into the first 8 bytes of its value; its
// acknowledgement latency and its end-to-end latency (due time to the moment the consumer
// hands it out) both count from that due time, so a sender that falls behind pays for it
// in the figures instead of hiding it (no coordinated omission). Producer and consumer
// run in this one process, so both read the same clock.

import { performance } from 'node:perf_hooks';
import { Consumer } from '../../src/client/consumer';
import { Producer } from '../../src/client/producer';
import { LatencySummary, newHistogram, summarise } from './load';

export interface BundledEndToEndLoad {
  /** Connected; the caller closes it. */
  producer: Producer;
  bootstrap: string[];
  topic: string;
  partitions: number;
  recordBytes: number;
  ratePerSecond: number;
  durationMs: number;
  /** How long the consumer may take, after the last send, to hand out the last records. */
  drainTimeoutMs: number;
  /** The consumer's fetch.max.wait.ms; unset: the bundled consumer's default (500 ms). */
  consumerMaxWaitMs?: number;
}

export interface BundledEndToEndResult {
  sent: number;
  acknowledged: number;
  consumed: number;
  errors: number;
  firstError: string | null;
  /** Achieved rate of records consumed over the sending time. */
  consumedPerSecond: number;
  /** The furthest the sending loop fell behind its schedule, in milliseconds. */
  maxScheduleLagMs: number;
  acknowledgement: LatencySummary;
  endToEnd: LatencySummary;
}

/** The pacing loop's sleep between checks of what is due (timers fire at 1 ms at best). */
const PACE_TICK_MS = 1;
const DRAIN_POLL_MS = 10;
/** The due time, a float64 of performance.now(), opens every value. */
const STAMP_BYTES = 8;

export async function runBundledEndToEnd(load: BundledEndToEndLoad): Promise<BundledEndToEndResult> {
  if (load.recordBytes < STAMP_BYTES)
    throw new Error(`end-to-end records need at least ${STAMP_BYTES} bytes for the send time, got ${load.recordBytes}`);
  const acknowledgement = newHistogram();
  const endToEnd = newHistogram();
  let acknowledged = 0;
  let errors = 0;
  let firstError: string | null = null;
  let consumed = 0;

  const consumer = new Consumer({
    bootstrap: load.bootstrap,
    clientId: 'bench-client-matrix-end-to-end',
    maxWaitMs: load.consumerMaxWaitMs,
  });
  consumer.assign(
    Array.from({ length: load.partitions }, (_, partition) => ({
      topic: load.topic,
      partition,
      offset: 'earliest' as const,
    })),
  );
  const consuming = (async () => {
    for (;;) {
      const record = await consumer.next();
      if (record === null) return;
      const dueMs = record.value!.readDoubleLE(0);
      endToEnd.recordValue(Math.max(1, Math.round((performance.now() - dueMs) * 1000)));
      consumed++;
    }
  })();

  const total = Math.max(1, Math.round((load.ratePerSecond * load.durationMs) / 1000));
  const intervalMs = 1000 / load.ratePerSecond;
  let sent = 0;
  let maxScheduleLagMs = 0;
  const startMs = performance.now();
  while (sent < total) {
    const nowMs = performance.now();
    const due = Math.min(total, Math.floor((nowMs - startMs) / intervalMs) + 1);
    if (due > sent) maxScheduleLagMs = Math.max(maxScheduleLagMs, nowMs - (startMs + sent * intervalMs));
    for (; sent < due; sent++) {
      const dueMs = startMs + sent * intervalMs;
      const value = Buffer.alloc(load.recordBytes, 0x63);
      value.writeDoubleLE(dueMs, 0);
      load.producer.send({ topic: load.topic, value }).then(
        () => {
          acknowledged++;
          acknowledgement.recordValue(Math.max(1, Math.round((performance.now() - dueMs) * 1000)));
        },
        (error: Error) => {
          errors++;
          firstError ??= error.message;
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, PACE_TICK_MS));
  }
  const sendingSeconds = (performance.now() - startMs) / 1000;
  await load.producer.flush();
  // Everything acknowledged is in the log: wait (bounded) until the consumer has it all.
  const drainDeadlineMs = performance.now() + load.drainTimeoutMs;
  while (consumed < acknowledged && performance.now() < drainDeadlineMs)
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  await consumer.close();
  await consuming;
  return {
    sent,
    acknowledged,
    consumed,
    errors,
    firstError,
    consumedPerSecond: consumed / sendingSeconds,
    maxScheduleLagMs,
    acknowledgement: summarise(acknowledgement),
    endToEnd: summarise(endToEnd),
  };
}
