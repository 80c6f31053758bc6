// The bundled consumer (src/client/consumer.ts) reading a topic from its start until it
// holds every record the topic had when the read began (standalone assign, no group):
// records/s and MB/s as the consumer hands them out, bounded by a deadline.

import { performance } from 'node:perf_hooks';
import { Consumer } from '../../src/client/consumer';

export interface BundledConsumeLoad {
  bootstrap: string[];
  topic: string;
  partitions: number;
  /** Records to read: the sum of the partitions' end offsets (a fresh topic starts at 0). */
  records: number;
  deadlineMs: number;
}

export interface BundledConsumeResult {
  records: number;
  bytes: number;
  /** From the first next() until the last expected record was handed out (or the deadline). */
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  clientCpuMicrosPerRecord: number;
  /** False when the deadline came before every record did. */
  complete: boolean;
}

export async function runBundledConsumer(load: BundledConsumeLoad): Promise<BundledConsumeResult> {
  const consumer = new Consumer({ bootstrap: load.bootstrap, clientId: 'bench-client-matrix-consumer' });
  consumer.assign(
    Array.from({ length: load.partitions }, (_, partition) => ({
      topic: load.topic,
      partition,
      offset: 'earliest' as const,
    })),
  );
  let records = 0;
  let bytes = 0;
  let timedOut = false;
  // next() waits inside the consumer until a record comes; closing it at the deadline
  // makes next() return null, which ends the loop below.
  const timer = setTimeout(() => {
    timedOut = true;
    void consumer.close();
  }, load.deadlineMs);
  const cpu = process.cpuUsage();
  const startedMs = performance.now();
  try {
    while (records < load.records) {
      const record = await consumer.next();
      if (record === null) break;
      records++;
      bytes += record.value?.length ?? 0;
    }
  } finally {
    clearTimeout(timer);
  }
  const seconds = (performance.now() - startedMs) / 1000;
  const used = process.cpuUsage(cpu);
  await consumer.close();
  return {
    records,
    bytes,
    seconds,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    clientCpuMicrosPerRecord: (used.user + used.system) / Math.max(1, records),
    complete: !timedOut && records >= load.records,
  };
}
