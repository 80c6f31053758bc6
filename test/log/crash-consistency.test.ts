// Seeded power cuts against the partition log on the in-memory file system's power-cut
// model (unsynced data and unsynced directory entries are lost). Each seed runs a few
// rounds of appends with flush.messages=1 (an fsync per append, so an acknowledged append
// is durable), small segments (rolls), rising leader epochs, retention by size, and either
// an idempotent producer or follower truncations (a cut suffix must stay cut);
// a round ends with a power cut at a random file-system call (the call fails with EIO, the
// operation stops there, and crash() keeps a random part of what was not durable) or with
// the process killed there (the page cache survives), and the log is reopened - sometimes
// with another cut in the middle of its recovery. After every
// reopen: the log opens, its batches are whole and consecutive, every acknowledged batch is
// there unchanged, no offset that was ever visible holds anything else, no producer
// sequence is written twice, and the leader-epoch cache agrees with the batches.
//
// BROOK_LOG_CRASH_SEEDS sets the number of seeds (npm run soak:log-crash runs many more);
// BROOK_LOG_CRASH_SEED runs one seed (to replay a failure).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecordBatchSync, RecordBatchView } from '../../protocol/record-batch';
import { ErrorCode } from '../../protocol/errors';
import { MemoryFileSystem } from '../../src/log/file-system';
import { LogManager } from '../../src/log/log-manager';
import { PartitionLog } from '../../src/log/partition-log';

const DATA_DIR = '/data';
const SEEDS = Number(process.env.BROOK_LOG_CRASH_SEEDS ?? 1000);
const ONE_SEED = process.env.BROOK_LOG_CRASH_SEED;
const PRODUCER_ID = 7;

/** mulberry32: neighbouring seeds give unrelated sequences from the first number on. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  epoch: number;
  producerId: number;
  baseSequence: number;
  bytes: string;
}

/** Every batch in the log, read back through the log's own read path. */
function batchesOf(log: PartitionLog, context: string): StoredBatch[] {
  const out: StoredBatch[] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; offset < log.logEndOffset; guard++) {
    assert.ok(guard < 10_000, `${context}: read loop`);
    const result = log.read(offset, 1 << 20, { minOneBatch: true, upperBound: log.logEndOffset });
    assert.is(result.errorCode, ErrorCode.NONE, `${context}: read at ${offset}`);
    assert.ok(result.bytes > 0, `${context}: nothing read at ${offset} below the log end ${log.logEndOffset}`);
    const bytes = Buffer.concat(result.chunks);
    for (let at = 0; at < bytes.length;) {
      const size = 12 + bytes.readInt32BE(at + 8);
      const view = new RecordBatchView(bytes.subarray(at, at + size));
      assert.is(view.validate(), null, `${context}: batch at ${view.baseOffset} is whole`);
      assert.is(view.baseOffset, offset, `${context}: batches are consecutive`);
      out.push({
        baseOffset: view.baseOffset,
        lastOffset: view.lastOffset,
        epoch: view.partitionLeaderEpoch,
        producerId: view.producerId,
        baseSequence: view.baseSequence,
        bytes: bytes.subarray(at, at + size).toString('latin1'),
      });
      offset = view.lastOffset + 1;
      at += size;
    }
  }
  return out;
}

class Scenario {
  readonly fs = new MemoryFileSystem();
  readonly random: () => number;
  readonly config: Record<string, string>;
  /** Batches by base offset: acknowledged ones and every one seen after a reopen. */
  private readonly visible = new Map<number, string>();
  private readonly acknowledged = new Set<number>();
  /** Seeds either produce idempotently or truncate like a follower (a cut drops sequences). */
  private readonly truncating: boolean;
  /** Batches that must never be seen again: removed by a finished truncation, or refused. */
  private readonly cut = new Set<string>();
  private epoch = 0;
  private nextSequence = 0;
  /** An idempotent batch whose append did not finish: sent again after the restart. */
  private inDoubt: { sequence: number; values: string[] } | null = null;
  private counter = 0;
  logs: LogManager | null = null;
  log: PartitionLog | null = null;

  constructor(readonly seed: number) {
    this.random = seeded(seed);
    this.config = {
      // Mostly an fsync per append; some seeds flush rarely (acknowledged is then not durable,
      // but whatever a reopened log serves must stay).
      'flush.messages': this.random() < 0.75 ? '1' : String(2 + Math.floor(this.random() * 5)),
      'segment.bytes': String(150 + Math.floor(this.random() * 1500)),
      'index.interval.bytes': String(1 + Math.floor(this.random() * 300)),
      'retention.bytes': String(this.random() < 0.5 ? -1 : 1000 + Math.floor(this.random() * 3000)),
    };
    // Truncations drop producer sequences, and so does a power cut when appends are not
    // fsynced: the idempotent producer runs only in seeds with neither.
    this.truncating = this.config['flush.messages'] !== '1' || this.random() < 0.3;
  }

  private open(): PartitionLog {
    this.logs = new LogManager({
      dataDir: DATA_DIR,
      fs: this.fs,
      clock: () => 1_700_000_000_000,
      tailCacheBytes: this.random() < 0.5 ? 0 : 1 << 16,
      housekeepingIntervalMs: 0,
    });
    this.logs.open();
    return this.logs.getOrCreate('c', 0, this.config);
  }

  /** Opens the log after a cut, maybe with another cut in the middle of its recovery. */
  reopen(round: number): void {
    if (this.random() < 0.25) {
      this.fs.injectFault({ code: 'EIO', skip: Math.floor(this.random() * 30), times: 1 });
      try {
        this.open().abandon();
      } catch {
        // Cut during recovery.
      }
      this.fs.clearFaults();
      this.fs.crash(this.random);
    }
    this.log = this.open();
    this.check(`seed ${this.seed} round ${round}`);
  }

  private check(context: string): void {
    const log = this.log!;
    const batches = batchesOf(log, context);
    const byOffset = new Map(batches.map((b) => [b.baseOffset, b.bytes]));
    // Retention may have deleted batches below the log start; everything else must be there.
    for (const offset of this.acknowledged) {
      if (offset < log.logStartOffset) continue;
      assert.ok(byOffset.get(offset) === this.visible.get(offset), `${context}: acknowledged batch ${offset} kept`);
    }
    for (const [offset, bytes] of this.visible) {
      if (offset >= log.logEndOffset || offset < log.logStartOffset) continue;
      assert.ok(byOffset.get(offset) === bytes, `${context}: offset ${offset} never holds another batch`);
    }
    for (const batch of batches) assert.not.ok(this.cut.has(batch.bytes), `${context}: a cut batch came back`);
    // Anything a reader could see now must stay: the offsets are never reused.
    for (const batch of batches) this.visible.set(batch.baseOffset, batch.bytes);
    const sequences = batches.filter((b) => b.producerId === PRODUCER_ID).map((b) => b.baseSequence);
    assert.is(new Set(sequences).size, sequences.length, `${context}: no producer sequence written twice`);
    for (const batch of batches) {
      const inForce = log.epochs.all().filter((e) => e.startOffset <= batch.baseOffset);
      assert.is(inForce[inForce.length - 1]?.epoch, batch.epoch, `${context}: epoch cache at ${batch.baseOffset}`);
    }
    assert.ok(log.highWatermark <= log.logEndOffset && log.highWatermark >= log.logStartOffset, `${context}: hw`);
  }

  private values(): string[] {
    const n = 1 + Math.floor(this.random() * 3);
    return Array.from({ length: n }, () => `v${this.counter++}-${'x'.repeat(Math.floor(this.random() * 40))}`);
  }

  /** One append; returns false when the injected cut stopped it. */
  /** A follower's cut: the batches from `offset` on are gone for good (their offsets may be used again). */
  private truncate(): boolean {
    const log = this.log!;
    const offset = log.logStartOffset + Math.floor(this.random() * (log.logEndOffset - log.logStartOffset + 1));
    let done = true;
    try {
      log.truncateTo(offset);
    } catch {
      done = false;
    }
    // The log now ends where the batch holding `offset` began; a cut stopped part-way may
    // have gone anywhere from the log start on.
    const from = done ? log.logEndOffset : log.logStartOffset;
    for (const [base, bytes] of [...this.visible]) {
      if (base < from) continue;
      // A finished cut must never come back; one cut short by the power cut may or may not.
      if (done) this.cut.add(bytes);
      this.visible.delete(base);
      this.acknowledged.delete(base);
    }
    return done;
  }

  step(): boolean {
    const log = this.log!;
    if (this.truncating && this.random() < 0.08) return this.truncate();
    if (this.config['retention.bytes'] !== '-1' && this.random() < 0.1) {
      try {
        this.logs!.applyRetention();
      } catch {
        return false;
      }
    }
    if (this.random() < 0.1) {
      try {
        this.logs!.checkpoint();
      } catch {
        return false;
      }
    }
    if (this.random() < 0.1) this.epoch++;
    let sequence = -1;
    let values: string[];
    if (this.inDoubt) {
      ({ sequence, values } = this.inDoubt);
    } else if (!this.truncating && this.random() < 0.5) {
      sequence = this.nextSequence;
      values = this.values();
      this.inDoubt = { sequence, values };
    } else values = this.values();
    const bytes = encodeRecordBatchSync({
      records: values.map((value) => ({ key: null, value, timestamp: 1_700_000_000_000 })),
      ...(sequence >= 0 ? { producerId: PRODUCER_ID, producerEpoch: 0, baseSequence: sequence } : {}),
    });
    let result;
    try {
      result = log.append([bytes], { leaderEpoch: this.epoch });
    } catch {
      return false;
    }
    // The injected error: the append is refused and undone (the cut follows). A refused batch
    // never shows up later (an idempotent one may: it is sent again and found a duplicate).
    if (result.errorCode === ErrorCode.KAFKA_STORAGE_ERROR) {
      if (sequence < 0) this.cut.add(bytes.toString('latin1'));
      return false;
    }
    assert.is(result.errorCode, ErrorCode.NONE, `seed ${this.seed}: append refused: ${result.errorMessage}`);
    if (sequence >= 0) {
      this.inDoubt = null;
      this.nextSequence = sequence + values.length;
    }
    if (this.config['flush.messages'] !== '1') return true;
    if (!result.duplicate) {
      assert.not.ok(this.visible.has(result.baseOffset), `seed ${this.seed}: offset ${result.baseOffset} reused`);
      this.visible.set(result.baseOffset, bytes.toString('latin1'));
    }
    this.acknowledged.add(result.baseOffset);
    return true;
  }

  run(rounds: number): void {
    this.reopen(0);
    for (let round = 1; round <= rounds; round++) {
      const steps = 1 + Math.floor(this.random() * 12);
      // The cut comes at a random file-system call of the round, or after it.
      this.fs.injectFault({ code: 'EIO', skip: Math.floor(this.random() * steps * 14), times: 1 });
      let cut = false;
      for (let i = 0; i < steps && !cut; i++) cut = !this.step();
      // Some rounds end with a clean shutdown (which the cut may interrupt too).
      if (!cut && this.random() < 0.3) {
        try {
          this.logs!.close();
        } catch {
          // Cut during the shutdown.
        }
      }
      this.fs.clearFaults();
      this.log!.abandon();
      // Mostly a power cut; sometimes only the process dies (kill -9: the page cache, and
      // everything written but not fsynced, stays for the restart - and the next cut).
      if (this.random() < 0.8) this.fs.crash(this.random);
      this.reopen(round);
    }
  }
}

test('power cuts at random points never lose or change an acknowledged batch, and the log always reopens', () => {
  const seeds = ONE_SEED !== undefined ? [Number(ONE_SEED)] : Array.from({ length: SEEDS }, (_, i) => i + 1);
  for (const seed of seeds) new Scenario(seed).run(4);
});

test.run();
