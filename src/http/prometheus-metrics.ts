// Brook's metric families for /metrics, read at scrape time from the broker's counters,
// logs, replicas, metadata image, quorum and group coordinator. Names follow Prometheus
// conventions: brook_ prefix, _total on counters, base units (_seconds, _bytes).
// Request latency is a Prometheus histogram whose cumulative buckets are counted from
// each API's HDR histogram (2 significant digits), so buckets are exact to about 1%.

import * as os from 'node:os';
import type { Histogram } from 'hdr-histogram-js';
import { apiByKey } from '../../protocol/apis';
import { errorName } from '../../protocol/errors';
import { OFFSETS_TOPIC } from '../../protocol/topic-names';
import { ExpositionWriter } from './exposition';
import type { NodeMetrics } from './metrics';
import { renderQuotaMetrics } from './quota-metrics';
import { renderCleanerMetrics } from './cleaner-metrics';

/** Upper bounds of the request latency buckets, in seconds. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Event-loop delay quantiles reported. */
const EVENT_LOOP_QUANTILES = [0.5, 0.9, 0.99, 0.999];

interface IterableHistogram {
  recordedValuesIterator: {
    reset(): void;
    hasNext(): boolean;
    next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
  };
  lowestEquivalentValue(value: number): number;
}

/** Cumulative counts at each bucket bound (microsecond histogram, second bounds). */
export function cumulativeBuckets(histogram: Histogram, boundsSeconds: number[]): number[] {
  const counts = new Array<number>(boundsSeconds.length).fill(0);
  const iterable = histogram as unknown as IterableHistogram;
  const iterator = iterable.recordedValuesIterator;
  iterator.reset();
  while (iterator.hasNext()) {
    const step = iterator.next();
    const seconds = iterable.lowestEquivalentValue(step.valueIteratedTo) / 1e6;
    for (let i = 0; i < boundsSeconds.length; i++) {
      if (seconds <= boundsSeconds[i]) {
        counts[i] += step.countAtValueIteratedTo;
        break;
      }
    }
  }
  for (let i = 1; i < counts.length; i++) counts[i] += counts[i - 1];
  return counts;
}

function apiName(apiKey: number): string {
  return apiByKey(apiKey)?.name ?? `api_${apiKey}`;
}

export function renderPrometheus(metrics: NodeMetrics): string {
  const { broker } = metrics;
  const w = new ExpositionWriter();
  const requests = [...broker.metrics.apis].sort(([a], [b]) => a - b);
  const nodeLabel = { node: broker.nodeId };

  w.family('brook_broker_info', 'gauge', 'Constant 1, labelled with this node id and the cluster id.');
  w.sample('brook_broker_info', { ...nodeLabel, cluster_id: broker.clusterId }, 1);
  w.single(
    'brook_broker_fenced',
    'gauge',
    '1 while the controller has this broker fenced (not serving), else 0.',
    broker.lifecycle ? (broker.lifecycle.fenced ? 1 : 0) : 1,
  );
  // Kafka's NumIncrementalFetchSessions, NumIncrementalFetchPartitionsCached and evictions.
  w.single('brook_fetch_sessions', 'gauge', 'Incremental fetch sessions open (KIP-227).', broker.fetchSessions.size);
  w.single(
    'brook_fetch_session_partitions',
    'gauge',
    'Partitions held by all incremental fetch sessions.',
    broker.fetchSessions.totalPartitions,
  );
  w.single(
    'brook_fetch_session_evictions_total',
    'counter',
    'Fetch sessions evicted to make room for new ones.',
    broker.fetchSessions.evictions,
  );

  w.family('brook_requests_total', 'counter', 'Kafka requests received, by API.');
  for (const [key, c] of requests) w.sample('brook_requests_total', { api: apiName(key) }, c.requests);
  w.family(
    'brook_request_errors_total',
    'counter',
    'Error codes in Kafka responses, by API and error name (a response with several failed partitions counts each).',
  );
  for (const [key, c] of requests) {
    for (const [code, count] of [...c.errors].sort(([a], [b]) => a - b))
      w.sample('brook_request_errors_total', { api: apiName(key), error: errorName(code) }, count);
  }
  w.family(
    'brook_request_duration_seconds',
    'histogram',
    'Time from decoding a Kafka request to its response being ready, by API (Fetch includes its long-poll wait).',
  );
  for (const [key, c] of requests) {
    const api = apiName(key);
    const buckets = cumulativeBuckets(c.latencyMicroseconds, LATENCY_BUCKETS_SECONDS);
    LATENCY_BUCKETS_SECONDS.forEach((le, i) =>
      w.sample('brook_request_duration_seconds_bucket', { api, le }, buckets[i]),
    );
    w.sample('brook_request_duration_seconds_bucket', { api, le: '+Inf' }, c.latencyMicroseconds.totalCount);
    w.sample('brook_request_duration_seconds_sum', { api }, c.latencySecondsSum);
    w.sample('brook_request_duration_seconds_count', { api }, c.latencyMicroseconds.totalCount);
  }

  // Per-topic traffic: topics deleted since are left out.
  const topics = [...broker.metrics.topics]
    .filter(([name]) => broker.topics.get(name))
    .sort(([a], [b]) => a.localeCompare(b));
  const perTopic = (name: string, help: string, value: (c: (typeof topics)[number][1]) => number) => {
    w.family(name, 'counter', help);
    for (const [topic, c] of topics) w.sample(name, { topic }, value(c));
  };
  perTopic(
    'brook_topic_bytes_in_total',
    'Record batch bytes appended by this broker as leader, by topic.',
    (c) => c.bytesIn,
  );
  perTopic('brook_topic_records_in_total', 'Records appended by this broker as leader, by topic.', (c) => c.recordsIn);
  perTopic(
    'brook_topic_bytes_out_total',
    'Record batch bytes sent to consumers by this broker, by topic.',
    (c) => c.bytesOut,
  );
  perTopic('brook_topic_records_out_total', 'Records sent to consumers by this broker, by topic.', (c) => c.recordsOut);
  perTopic(
    'brook_topic_replication_bytes_out_total',
    'Record batch bytes sent to follower replicas by this broker, by topic.',
    (c) => c.replicationBytesOut,
  );

  const logs = broker.logs.all().sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  w.family('brook_log_size_bytes', 'gauge', 'Bytes of log segments of each partition replica on this broker.');
  for (const log of logs)
    w.sample('brook_log_size_bytes', { topic: log.topic, partition: log.partition }, log.sizeBytes);
  const topicSizes = new Map<string, number>();
  for (const log of logs) topicSizes.set(log.topic, (topicSizes.get(log.topic) ?? 0) + log.sizeBytes);
  w.family(
    'brook_topic_log_size_bytes',
    'gauge',
    'Bytes of log segments of each topic on this broker (all its replicas here).',
  );
  for (const [topic, bytes] of topicSizes) w.sample('brook_topic_log_size_bytes', { topic }, bytes);
  w.family('brook_log_end_offset', 'gauge', 'Log end offset of each partition replica on this broker.');
  for (const log of logs)
    w.sample('brook_log_end_offset', { topic: log.topic, partition: log.partition }, log.logEndOffset);

  const image = broker.quorum.image;
  let partitions = 0;
  let offline = 0;
  for (const topic of image.topicsByName.values()) {
    for (const p of topic.partitions.values()) {
      partitions++;
      if (p.leader < 0) offline++;
    }
  }
  const replicas = broker.replicas.all();
  const leading = replicas.filter((r) => r.leading !== null);
  w.single(
    'brook_topics',
    'gauge',
    'Topics in the cluster (metadata image), internal ones included.',
    image.topicsByName.size,
  );
  w.single('brook_partitions', 'gauge', 'Partitions in the cluster (metadata image).', partitions);
  w.single('brook_replica_partitions', 'gauge', 'Partition replicas hosted by this broker.', replicas.length);
  w.single('brook_leader_partitions', 'gauge', 'Partitions this broker leads.', leading.length);
  w.single(
    'brook_under_replicated_partitions',
    'gauge',
    'Partitions this broker leads whose ISR is smaller than the replica set.',
    leading.filter((r) => r.isr.length < r.replicas.length).length,
  );
  w.single(
    'brook_offline_partitions',
    'gauge',
    'Partitions without a leader in the cluster (metadata image).',
    offline,
  );
  w.single(
    'brook_isr_shrinks_total',
    'counter',
    'ISR shrinks this broker proposed as leader and the controller committed.',
    broker.replicas.isrChanges.shrinks,
  );
  w.single(
    'brook_isr_expands_total',
    'counter',
    'ISR expansions this broker proposed as leader and the controller committed.',
    broker.replicas.isrChanges.expands,
  );
  const throttles = broker.replicationQuotas;
  w.single(
    'brook_leader_replication_throttled_bytes_total',
    'counter',
    'Bytes this broker sent as leader to out-of-sync followers of replicas named by leader.replication.throttled.replicas.',
    throttles.leader.recordedBytes,
  );
  w.single(
    'brook_leader_replication_throttled_total',
    'counter',
    'Follower fetch answers of a partition left empty because leader.replication.throttled.rate was exceeded.',
    throttles.leader.heldBack,
  );
  w.single(
    'brook_follower_replication_throttled_bytes_total',
    'counter',
    'Bytes this broker fetched as follower for replicas named by follower.replication.throttled.replicas.',
    throttles.follower.recordedBytes,
  );
  w.single(
    'brook_follower_replication_throttled_total',
    'counter',
    'Follower fetches that left out throttled partitions because follower.replication.throttled.rate was exceeded.',
    throttles.follower.heldBack,
  );
  w.single('brook_brokers', 'gauge', 'Brokers registered in the cluster (metadata image).', image.brokers.size);
  w.single(
    'brook_fenced_brokers',
    'gauge',
    'Registered brokers that are fenced (metadata image).',
    [...image.brokers.values()].filter((b) => b.fenced).length,
  );

  const quorum = broker.quorum.describe();
  w.single('brook_raft_term', 'gauge', 'Current Raft term of the metadata quorum as this node sees it.', quorum.term);
  w.single(
    'brook_raft_commit_index',
    'gauge',
    'Highest metadata log index this node knows to be committed.',
    quorum.commitIndex,
  );
  w.single(
    'brook_raft_applied_index',
    'gauge',
    "Highest metadata log index applied to this node's image.",
    quorum.appliedIndex,
  );
  w.single('brook_raft_last_index', 'gauge', "Last index of this node's metadata log.", quorum.lastIndex);
  w.single('brook_raft_leader_id', 'gauge', 'Node id of the metadata quorum leader (-1: none known).', quorum.leaderId);
  w.single(
    'brook_raft_is_leader',
    'gauge',
    '1 when this node is the metadata quorum leader (the active controller).',
    quorum.role === 'leader' ? 1 : 0,
  );
  w.single(
    'brook_raft_leader_changes_total',
    'counter',
    'Times this node saw a new metadata quorum leader.',
    quorum.leaderChanges,
  );

  // Consumer group lag for the groups this node coordinates, against the high watermark
  // of the partitions whose log is on this broker (lag is left out where it is not).
  const store = broker.groups.store;
  const groupIds = store
    .groupIds()
    .filter((g) => store.hosts(g))
    .sort();
  w.family(
    'brook_consumer_group_lag',
    'gauge',
    "Records between a group's committed offset and the high watermark, by group, topic and partition (groups this node coordinates).",
  );
  for (const groupId of groupIds) {
    const byTopic = [...store.offsetsOf(groupId)].sort(([a], [b]) => a.localeCompare(b));
    for (const [topic, partitionsOf] of byTopic) {
      if (topic === OFFSETS_TOPIC) continue;
      for (const [partition, committed] of [...partitionsOf].sort(([a], [b]) => a - b)) {
        const log = broker.logs.get(topic, partition);
        if (!log) continue;
        w.sample(
          'brook_consumer_group_lag',
          { group: groupId, topic, partition },
          Math.max(0, log.highWatermark - committed.offset),
        );
      }
    }
  }
  const groups = broker.groups.listGroups().sort((a, b) => a.groupId.localeCompare(b.groupId));
  w.family('brook_consumer_group_members', 'gauge', 'Members of each group this node coordinates.');
  for (const g of groups)
    w.sample(
      'brook_consumer_group_members',
      { group: g.groupId },
      broker.groups.describe(g.groupId)?.members.size ?? 0,
    );

  w.single('brook_open_connections', 'gauge', 'Open connections on the Kafka listener.', metrics.connections());
  renderQuotaMetrics(w, broker);
  renderCleanerMetrics(w, broker);

  const delay = metrics.eventLoopDelay;
  w.family(
    'brook_event_loop_delay_seconds',
    'summary',
    'Event-loop delay since the node started (perf_hooks.monitorEventLoopDelay).',
  );
  for (const q of EVENT_LOOP_QUANTILES)
    w.sample('brook_event_loop_delay_seconds', { quantile: q }, delay.count > 0 ? delay.percentile(q * 100) / 1e9 : 0);
  w.sample('brook_event_loop_delay_seconds_sum', undefined, delay.count > 0 ? (delay.mean * delay.count) / 1e9 : 0);
  w.sample('brook_event_loop_delay_seconds_count', undefined, delay.count);
  w.single(
    'brook_event_loop_delay_max_seconds',
    'gauge',
    'Longest event-loop delay since the node started.',
    delay.count > 0 ? delay.max / 1e9 : 0,
  );

  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  w.single(
    'process_cpu_seconds_total',
    'counter',
    'User and system CPU time of this process.',
    (cpu.user + cpu.system) / 1e6,
  );
  w.single('process_resident_memory_bytes', 'gauge', 'Resident set size of this process.', memory.rss);
  w.single(
    'process_start_time_seconds',
    'gauge',
    'Start time of this process since the Unix epoch.',
    Math.round((Date.now() - process.uptime() * 1000) / 1000),
  );
  w.single('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', memory.heapUsed);
  w.single('brook_host_load1', 'gauge', 'One-minute load average of the host.', os.loadavg()[0]);
  return w.text();
}
