// The overview page: the brokers, the controller quorum, cluster totals and each broker's log
// directory (volume usage and the largest topics there; re-read every few seconds while
// shown), and live charts of throughput and request latency drawn from the
// stats the node pushes over the WebSocket each second. The tables need Describe on the
// cluster; without it only the live charts are shown.

import { api } from '../api.js';
import { h, replace, table, formatBytes, formatNumber, showNotice } from '../dom.js';
import { live } from '../live.js';
import { LineChart } from '../chart.js';
import { mayDescribeCluster } from '../permissions.js';

/** The tables are re-read at most this often, on the live stats' heartbeat. */
const TABLES_REFRESH_MS = 5000;

export function render(container) {
  const brokers = h(
    'section',
    { class: 'card', id: 'brokers' },
    h('h2', {}, 'Brokers'),
    h('p', { class: 'muted' }, 'Loading…'),
  );
  const quorum = h(
    'section',
    { class: 'card', id: 'quorum' },
    h('h2', {}, 'Controller quorum'),
    h('p', { class: 'muted' }, 'Loading…'),
  );
  const logDirs = h(
    'section',
    { class: 'card', id: 'log-dirs' },
    h('h2', {}, 'Log directories'),
    h('p', { class: 'muted' }, 'Loading…'),
  );
  const totals = h('section', { class: 'card totals', id: 'totals' });
  const canvases = {
    records: h('canvas', { class: 'chart', id: 'chart-records' }),
    bytes: h('canvas', { class: 'chart', id: 'chart-bytes' }),
    latency: h('canvas', { class: 'chart', id: 'chart-latency' }),
  };
  const liveSummary = h('p', { class: 'muted', id: 'live-summary' }, 'Waiting for the first live update…');
  replace(
    container,
    h('h1', {}, 'Cluster overview'),
    totals,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Live'),
      liveSummary,
      h('div', { class: 'charts' }, canvases.records, canvases.bytes, canvases.latency),
    ),
    h('div', { class: 'columns' }, brokers, quorum),
    logDirs,
  );

  const charts = {
    records: new LineChart(canvases.records, {
      title: 'Throughput (records/s)',
      series: ['produce', 'fetch'],
      format: formatNumber,
      axisFloor: 10,
    }),
    bytes: new LineChart(canvases.bytes, {
      title: 'Throughput (MB/s)',
      series: ['produce', 'fetch'],
      format: (v) => v.toFixed(v < 10 ? 2 : 1),
    }),
    latency: new LineChart(canvases.latency, {
      title: 'Request latency (ms)',
      series: ['p50', 'p99', 'p99.9'],
      format: (v) => v.toFixed(v < 10 ? 2 : 0),
    }),
  };

  let lastTablesMs = 0;
  let loading = false;
  let stopped = false;
  const refreshTables = async () => {
    if (loading || stopped) return;
    if (!mayDescribeCluster()) {
      const note = 'You are not authorized to DESCRIBE the cluster.';
      replace(brokers, h('h2', {}, 'Brokers'), h('p', { class: 'muted' }, note));
      replace(quorum, h('h2', {}, 'Controller quorum'), h('p', { class: 'muted' }, note));
      replace(logDirs, h('h2', {}, 'Log directories'), h('p', { class: 'muted' }, note));
      totals.hidden = true;
      lastTablesMs = Date.now();
      return;
    }
    loading = true;
    lastTablesMs = Date.now();
    try {
      const [cluster, quorumState, dirs] = await Promise.all([
        api('GET', '/api/v1/cluster'),
        api('GET', '/api/v1/quorum').catch((error) => ({ error })),
        api('GET', '/api/v1/log-dirs').catch((error) => ({ error })),
      ]);
      if (stopped) return;
      showCluster(cluster, brokers, totals);
      showQuorum(quorumState, quorum);
      showLogDirs(dirs, logDirs);
    } catch (error) {
      if (!stopped) showNotice(error);
    } finally {
      loading = false;
    }
  };
  void refreshTables();

  const draw = (stats) => {
    const mb = 1000 * 1000;
    charts.records.push(stats.at, [stats.produce?.recordsPerSec, stats.fetch?.recordsPerSec]);
    charts.bytes.push(stats.at, [(stats.produce?.bytesPerSec ?? 0) / mb, (stats.fetch?.bytesPerSec ?? 0) / mb]);
    charts.latency.push(stats.at, [
      stats.requestLatencyMs?.p50,
      stats.requestLatencyMs?.p99,
      stats.requestLatencyMs?.p999,
    ]);
    const brokersLine = stats.brokers
      ? `${formatNumber(stats.brokers.total)} broker${stats.brokers.total === 1 ? '' : 's'} (${formatNumber(stats.brokers.fenced)} fenced), controller ${stats.brokers.controllerId >= 0 ? `node ${stats.brokers.controllerId}` : 'none'} · `
      : '';
    liveSummary.textContent = `${brokersLine}${formatNumber(stats.connections)} Kafka client connections · ${formatNumber(stats.requests ?? 0)} requests in the last second · updated ${new Date(stats.at).toLocaleTimeString()}`;
  };
  // The charts start with what the connection has already received, then follow it.
  for (const stats of live.history) draw(stats);
  const stop = live.on('stats', (stats) => {
    draw(stats);
    if (Date.now() - lastTablesMs >= TABLES_REFRESH_MS) void refreshTables();
  });
  const onResize = () => Object.values(charts).forEach((c) => c.draw());
  window.addEventListener('resize', onResize);
  return () => {
    stopped = true;
    stop();
    window.removeEventListener('resize', onResize);
  };
}

function showCluster(cluster, brokers, totals) {
  const t = cluster.totals ?? {};
  replace(
    totals,
    stat('Cluster id', cluster.clusterId ?? '–'),
    stat('Controller', cluster.controllerId >= 0 ? `node ${cluster.controllerId}` : 'none'),
    stat('Brokers', formatNumber(cluster.brokers.length)),
    stat('Topics', formatNumber(t.topics)),
    stat('Partitions', formatNumber(t.partitions)),
    stat('Under-replicated', formatNumber(t.underReplicatedPartitions), t.underReplicatedPartitions > 0 ? 'warn' : ''),
    stat('Offline', formatNumber(t.offlinePartitions), t.offlinePartitions > 0 ? 'bad' : ''),
    stat('Log size', formatBytes(t.logSizeBytes)),
  );
  replace(
    brokers,
    h('h2', {}, 'Brokers'),
    table(
      ['Node', 'Address', 'Rack', 'State', 'Leaders', 'Replicas'],
      cluster.brokers.map((b) => [
        h(
          'span',
          {},
          String(b.nodeId),
          b.nodeId === cluster.nodeId ? h('span', { class: 'tag' }, 'this node') : null,
          b.nodeId === cluster.controllerId ? h('span', { class: 'tag' }, 'controller') : null,
        ),
        `${b.host}:${b.port}`,
        b.rack ?? '–',
        h('span', { class: b.fenced ? 'pill bad' : 'pill ok' }, b.fenced ? 'fenced' : 'active'),
        formatNumber(b.leaderCount),
        formatNumber(b.replicaCount),
      ]),
      { empty: 'No brokers are registered.' },
    ),
  );
}

function showQuorum(state, quorum) {
  if (state.error) {
    replace(quorum, h('h2', {}, 'Controller quorum'), h('p', { class: 'status fail' }, state.error.message));
    return;
  }
  replace(
    quorum,
    h('h2', {}, 'Controller quorum'),
    h(
      'div',
      { class: 'totals small' },
      stat('Leader', state.leaderId >= 0 ? `node ${state.leaderId}` : 'none'),
      stat('Term', formatNumber(state.term)),
      stat('Commit index', formatNumber(state.commitIndex)),
    ),
    table(
      ['Voter', 'Match index', 'Lag'],
      state.voters.map((v) => [
        h('span', {}, String(v.nodeId), v.nodeId === state.leaderId ? h('span', { class: 'tag' }, 'leader') : null),
        v.matchIndex === null || v.matchIndex === undefined || v.matchIndex < 0
          ? 'unknown'
          : formatNumber(v.matchIndex),
        v.lag === null || v.lag === undefined || v.lag < 0
          ? 'unknown'
          : h('span', { class: v.lag > 0 ? 'warn' : '' }, formatNumber(v.lag)),
      ]),
    ),
    (state.observers ?? []).length > 0
      ? h('p', { class: 'muted' }, `Observers: ${state.observers.map((o) => o.nodeId ?? o).join(', ')}`)
      : null,
  );
}

/** How many of a log directory's largest topics are named. */
const TOPICS_SHOWN = 5;

function showLogDirs(state, section) {
  if (state.error) {
    replace(section, h('h2', {}, 'Log directories'), h('p', { class: 'status fail' }, state.error.message));
    return;
  }
  const rows = [];
  for (const b of state.brokers) {
    if (b.error) {
      rows.push([String(b.brokerId), h('span', { class: 'bad' }, b.error), '–', '–', '–']);
      continue;
    }
    for (const d of b.logDirs) {
      const known = d.totalBytes > 0 && d.usableBytes >= 0;
      const usedShare = known ? (d.totalBytes - d.usableBytes) / d.totalBytes : null;
      const topics = d.topics
        .slice(0, TOPICS_SHOWN)
        .map((t) => `${t.topic} ${formatBytes(t.sizeBytes)}`)
        .join(', ');
      const more = d.topics.length > TOPICS_SHOWN ? ` and ${d.topics.length - TOPICS_SHOWN} more` : '';
      rows.push([
        String(b.brokerId),
        d.errorCode === 0 ? d.path : h('span', { class: 'bad' }, `${d.path} (offline)`),
        formatBytes(d.sizeBytes),
        known
          ? h(
              'span',
              {},
              h('progress', { max: '100', value: String(Math.round(usedShare * 100)) }),
              h(
                'span',
                { class: usedShare > 0.9 ? 'bad' : usedShare > 0.8 ? 'warn' : '' },
                ` ${formatBytes(d.usableBytes)} free of ${formatBytes(d.totalBytes)}`,
              ),
            )
          : 'unknown',
        topics ? `${topics}${more}` : '–',
      ]);
    }
  }
  replace(
    section,
    h('h2', {}, 'Log directories'),
    table(['Broker', 'Directory', 'Partitions', 'Volume', 'Largest topics'], rows, {
      empty: 'No broker answered.',
    }),
  );
}

function stat(label, value, kind = '') {
  return h(
    'div',
    { class: `stat ${kind}` },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
  );
}
