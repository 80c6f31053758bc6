// The protocol-level load generator: pre-encoded Produce and Fetch frames sent over a few
// connections with many requests in flight, so the figures measure the broker, not a
// client library. Latency is per request (send to response), recorded in HDR histograms.

import * as hdr from 'hdr-histogram-js';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { encodeRequestFrame } from '../../protocol/frame';
import { decodeResponseHeader, responseHeaderVersion } from '../../protocol/header';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import { KafkaConnection } from '../../src/net/kafka-connection';

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/**
 * Latencies in microseconds kept in typed arrays while a load runs (a store per sample),
 * and put into an HDR histogram afterwards, so recording costs the measured process
 * almost nothing: per-record loads send hundreds of thousands of records a second.
 */
export class LatencyLog {
  private chunks: Uint32Array[] = [];
  private current = new Uint32Array(1 << 16);
  private used = 0;

  record(micros: number): void {
    if (this.used === this.current.length) {
      this.chunks.push(this.current);
      this.current = new Uint32Array(1 << 16);
      this.used = 0;
    }
    this.current[this.used++] = micros < 1 ? 1 : micros > 0xffffffff ? 0xffffffff : micros;
  }

  /** Every sample into a new histogram. */
  histogram(): hdr.Histogram {
    const histogram = newHistogram();
    for (const chunk of this.chunks) for (const v of chunk) histogram.recordValue(v);
    for (let i = 0; i < this.used; i++) histogram.recordValue(this.current[i]);
    return histogram;
  }
}

/** Histogram values are microseconds; summaries are milliseconds. */
export function summarise(histogram: hdr.Histogram): LatencySummary {
  return {
    samples: histogram.totalCount,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    p999Ms: histogram.getValueAtPercentile(99.9) / 1000,
    maxMs: histogram.maxValue / 1000,
  };
}

export interface ProduceLoad {
  host: string;
  port: number;
  topic: string;
  partitions: number;
  recordBytes: number;
  /** Records per batch (one batch per partition per request). */
  recordsPerBatch: number;
  /** Batches per request: consecutive partitions starting from a rotating one. */
  partitionsPerRequest: number;
  acks: number;
  connections: number;
  inflightPerConnection: number;
  durationMs: number;
  /** Ends the load early once it returns true (checked before each request). */
  until?: () => boolean;
  /** Offered load in bytes per second across all connections; 0 = as fast as possible. */
  offeredBytesPerSecond: number;
}

export interface ProduceResult {
  records: number;
  bytes: number;
  requests: number;
  errors: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  latency: LatencySummary;
}

const PRODUCE_VERSION = 7;
const FETCH_VERSION = 11;

function buildProduceFrames(
  load: ProduceLoad,
  correlationBase: number,
  count: number,
): { frames: Buffer[]; recordBytes: number } {
  const value = Buffer.alloc(load.recordBytes, 0x61);
  const batch = encodeRecordBatchSync({
    records: Array.from({ length: load.recordsPerBatch }, () => ({ value, timestamp: Date.now() })),
  });
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const first = (i * load.partitionsPerRequest) % load.partitions;
    const partitionData = Array.from({ length: load.partitionsPerRequest }, (_, j) => ({
      index: (first + j) % load.partitions,
      records: batch,
    }));
    frames.push(
      encodeRequestFrame(
        { apiKey: 0, apiVersion: PRODUCE_VERSION, correlationId: correlationBase + i, clientId: 'bench' },
        requestCodec(0, PRODUCE_VERSION),
        {
          transactionalId: null,
          acks: load.acks,
          timeoutMs: 30000,
          topicData: [{ name: load.topic, partitionData }],
        },
      ),
    );
  }
  return { frames, recordBytes: load.recordsPerBatch * load.partitionsPerRequest * load.recordBytes };
}

/** Runs a produce load; frames are built before the clock starts. */
export async function runProduce(load: ProduceLoad): Promise<ProduceResult> {
  const histogram = newHistogram();
  const connections: KafkaConnection[] = [];
  for (let c = 0; c < load.connections; c++) {
    const connection = new KafkaConnection({ host: load.host, port: load.port, requestTimeoutMs: 60000 });
    await connection.connect();
    connections.push(connection);
  }
  const perConnectionFrames = 64;
  const prepared = connections.map((_, c) => buildProduceFrames(load, c * 1_000_000, perConnectionFrames));
  const requestBytes = prepared[0].frames[0].length;
  let requests = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(load.durationMs) * 1_000_000n;
  const intervalNs = load.offeredBytesPerSecond > 0 ? (1e9 * requestBytes) / load.offeredBytesPerSecond : 0;
  let nextSendNs = Number(started);

  await Promise.all(
    connections.map(async (connection, c) => {
      const { frames } = prepared[c];
      let sequence = 0;
      const worker = async () => {
        while (process.hrtime.bigint() < deadline && !load.until?.()) {
          if (intervalNs > 0) {
            // Open-loop pacing: each request has a slot; wait for it.
            const slot = nextSendNs;
            nextSendNs += intervalNs;
            const waitMs = (slot - Number(process.hrtime.bigint())) / 1e6;
            if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
          }
          const index = sequence++ % frames.length;
          const frame = frames[index];
          // Each frame keeps its correlation id; responses come back in order per connection.
          const correlationId = frame.readInt32BE(8);
          const sent = process.hrtime.bigint();
          const reader = await connection.sendFrame(frame, correlationId);
          histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - sent) / 1000));
          decodeResponseHeader(reader, responseHeaderVersion(0, PRODUCE_VERSION));
          const response = responseCodec(0, PRODUCE_VERSION).decode(reader);
          for (const topic of response.responses)
            for (const p of topic.partitionResponses) if (p.errorCode !== 0) errors++;
          requests++;
        }
      };
      // Frames of one connection share correlation ids in rotation: keep in-flight below
      // the rotation length so no two outstanding requests share an id.
      const inflight = Math.min(load.inflightPerConnection, perConnectionFrames - 1);
      await Promise.all(Array.from({ length: inflight }, worker));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const connection of connections) connection.close();
  const records = requests * load.recordsPerBatch * load.partitionsPerRequest;
  const bytes = requests * prepared[0].recordBytes;
  return {
    records,
    bytes,
    requests,
    errors,
    seconds,
    recordsPerSecond: records / seconds,
    megabytesPerSecond: bytes / seconds / 1e6,
    latency: summarise(histogram),
  };
}

export interface FetchLoad {
  host: string;
  port: number;
  topic: string;
  partitions: number;
  /** Per-partition end offsets to read up to (from the produce phase). */
  endOffsets: number[];
  maxBytes: number;
  connections: number;
}

export interface FetchResult {
  bytes: number;
  requests: number;
  seconds: number;
  megabytesPerSecond: number;
  latency: LatencySummary;
}

/** Reads every partition from offset 0 to its end, as fast as the broker hands it out. */
export async function runFetch(load: FetchLoad): Promise<FetchResult> {
  const histogram = newHistogram();
  let bytes = 0;
  let requests = 0;
  const started = process.hrtime.bigint();
  const partitionsPerConnection = Math.ceil(load.partitions / load.connections);
  await Promise.all(
    Array.from({ length: load.connections }, async (_, c) => {
      const mine = Array.from({ length: partitionsPerConnection }, (_, i) => c * partitionsPerConnection + i).filter(
        (p) => p < load.partitions,
      );
      if (mine.length === 0) return;
      const connection = new KafkaConnection({ host: load.host, port: load.port, requestTimeoutMs: 60000 });
      await connection.connect();
      // One reader per partition, all in flight at once on this connection.
      await Promise.all(
        mine.map(async (partition) => {
          let offset = 0;
          while (offset < load.endOffsets[partition]) {
            const sent = process.hrtime.bigint();
            const response = await connection.request(1, FETCH_VERSION, {
              replicaId: -1,
              maxWaitMs: 0,
              minBytes: 0,
              maxBytes: load.maxBytes,
              isolationLevel: 0,
              topics: [
                {
                  topic: load.topic,
                  partitions: [
                    {
                      partition,
                      fetchOffset: offset,
                      partitionMaxBytes: load.maxBytes,
                      currentLeaderEpoch: -1,
                      logStartOffset: -1,
                    },
                  ],
                },
              ],
            });
            histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - sent) / 1000));
            requests++;
            const records = response.responses[0].partitions[0].records;
            if (!records || records.length === 0) throw new Error(`no progress at ${partition}:${offset}`);
            bytes += records.length;
            // Walk batch headers to find the next offset (no record decoding).
            let at = 0;
            while (at + 61 <= records.length) {
              const size = 12 + records.readInt32BE(at + 8);
              if (at + size > records.length) break;
              offset = Number(records.readBigInt64BE(at)) + records.readInt32BE(at + 23) + 1;
              at += size;
            }
          }
        }),
      );
      connection.close();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { bytes, requests, seconds, megabytesPerSecond: bytes / seconds / 1e6, latency: summarise(histogram) };
}
