// Log cleaner metric families for /metrics, after Kafka's LogCleaner and
// LogCleanerManager metrics: passes, bytes read and written, the last pass's offset-map
// use, the longest max.compaction.lag.ms overrun, and per compacted log its dirty ratio and
// the time since its last pass.

import type { Broker } from '../broker/broker';
import type { ExpositionWriter } from './exposition';

export function renderCleanerMetrics(w: ExpositionWriter, broker: Broker): void {
  const cleaner = broker.logs.cleaner;
  if (!cleaner) return;
  const totals = cleaner.totals;
  w.single('brook_log_cleaner_runs_total', 'counter', 'Log cleaner passes that finished.', totals.runs);
  w.single(
    'brook_log_cleaner_aborted_total',
    'counter',
    'Log cleaner passes stopped or not swapped in because the log changed (truncated, deleted, closed).',
    totals.aborted,
  );
  w.single('brook_log_cleaner_failures_total', 'counter', 'Log cleaner passes that failed.', totals.failures);
  w.single(
    'brook_log_cleaner_uncleanable_partitions',
    'gauge',
    'Compacted logs the cleaner skips since a pass of theirs failed (Kafka uncleanable-partitions-count).',
    cleaner.uncleanableCount,
  );
  w.single('brook_log_cleaner_read_bytes_total', 'counter', 'Segment bytes the log cleaner read.', totals.bytesRead);
  w.single(
    'brook_log_cleaner_written_bytes_total',
    'counter',
    'Bytes the log cleaner wrote to cleaned segments.',
    totals.bytesWritten,
  );
  w.single(
    'brook_log_cleaner_buffer_utilization_ratio',
    'gauge',
    'Share of the offset map the last pass used (Kafka max-buffer-utilization-percent / 100).',
    totals.lastMapUtilization,
  );
  const nowMs = Date.now();
  const states = cleaner.states(nowMs).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  w.single(
    'brook_log_cleaner_max_compaction_delay_seconds',
    'gauge',
    'Longest time a compacted log on this broker is past its max.compaction.lag.ms.',
    states.reduce((max, s) => Math.max(max, s.compactionDelayMs), 0) / 1000,
  );
  w.family('brook_log_cleaner_dirty_ratio', 'gauge', 'Dirty bytes over cleanable bytes of each compacted log.');
  for (const s of states)
    w.sample('brook_log_cleaner_dirty_ratio', { topic: s.topic, partition: s.partition }, s.dirtyRatio);
  w.family(
    'brook_log_cleaner_time_since_last_run_seconds',
    'gauge',
    'Seconds since the last cleaning pass of each compacted log (-1: none since the broker started).',
  );
  for (const s of states)
    w.sample(
      'brook_log_cleaner_time_since_last_run_seconds',
      { topic: s.topic, partition: s.partition },
      s.lastCleanMs < 0 ? -1 : (nowMs - s.lastCleanMs) / 1000,
    );
}
