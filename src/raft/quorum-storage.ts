// Durable storage of one Raft node of the metadata quorum: the file implementation of the
// driver's RaftStorage, behind the FileSystem interface (so crash and torn-write cases are
// testable in memory):
//   quorum-state                     current term and vote (format 2, binary):
//                                    ["BRQS"][version int16 = 2][term int64][votedFor int32]
//                                    [crc32c uint32 of what precedes]; replaced atomically:
//                                    written to quorum-state.tmp, fsync'd, renamed over, and
//                                    the directory fsync'd. Format 1 (JSON with a crc, int32
//                                    terms) is still read, so an upgraded node keeps its vote.
//   raft.log                         ["BRKRLOG" version byte = 2] then entries:
//                                    [length int32][crc32c uint32][term int64][index int64]
//                                    [kind int8][data], appended and fsync'd before the node
//                                    answers anything that depends on them. A log of format 1
//                                    (no file header, int32 terms) is rewritten to format 2 at
//                                    open (atomically, like compaction).
//   <20-digit index>-<term, 10+ digits>.checkpoint   snapshots: [crc32c uint32][voter set
//                                    length int32][voter set][metadata image records];
//                                    written as .part, fsync'd, renamed, directory fsync'd;
//                                    the newest two are kept
// On open the log is scanned and cut at the first torn or corrupt entry; entries must be
// consecutive. Then the log, quorum-state, the snapshots and the directory are fsync'd: what
// a process stopped by a storage error left readable but not durable is made durable before
// the node acts on it. A corrupt quorum-state file refuses to start with a clear message
// rather than risk voting twice in a term. Terms are JS numbers bounded to 2^53-1 (see
// isValidTerm in tcp-transport.ts); a stored term beyond that is corruption.

import * as path from 'node:path';
import { crc32c } from '../../protocol/crc32c';
import { FileHandle, FileSystem, mkdirDurable } from '../log/file-system';
import type { Entry, HardState, Snapshot } from './core';
import { RaftStorage, QuorumStorageError } from './driver';
import { decodeMembership, encodeMembership } from './membership';

const SNAPSHOTS_KEPT = 2;
const SNAPSHOT_NAME = /^\d{20}-\d{10,16}\.checkpoint$/;

const STATE_FILE = 'quorum-state';
const STATE_MAGIC = 'BRQS';
const STATE_VERSION = 2;
const STATE_BYTES = 4 + 2 + 8 + 4 + 4;
const LOG_FILE = 'raft.log';
/** The format-2 log's file header; its first four bytes read as a length no entry can have. */
const LOG_HEADER = Buffer.from('BRKRLOG\x02', 'latin1');
/** Entry header bytes by log format: format 1 had an int32 term. */
const ENTRY_HEADER_BYTES = { 1: 4 + 4 + 4 + 8 + 1, 2: 4 + 4 + 8 + 8 + 1 } as const;
const ENTRY_BYTES_MAX = 16 * 1024 * 1024;

type LogFormat = 1 | 2;

function validStoredTerm(term: number): boolean {
  return Number.isSafeInteger(term) && term >= 0;
}

/** One entry as format 2 stores it. */
function encodeEntry(entry: Entry): Buffer {
  const whole = Buffer.alloc(ENTRY_HEADER_BYTES[2] + entry.data.length);
  whole.writeInt32BE(entry.data.length, 0);
  whole.writeBigInt64BE(BigInt(entry.term), 8);
  whole.writeBigInt64BE(BigInt(entry.index), 16);
  whole.writeInt8(entry.kind ?? 0, 24);
  entry.data.copy(whole, ENTRY_HEADER_BYTES[2]);
  whole.writeUInt32BE(crc32c(whole, 8), 4);
  return whole;
}

export class QuorumStorage implements RaftStorage {
  private log: FileHandle;
  /** File position of each entry, by index - firstIndex. */
  private positions: number[] = [];
  private terms: number[] = [];
  firstIndex = 1;
  truncatedBytesAtOpen = 0;
  /** Set when the log was of format 1 and was rewritten at open. */
  upgradedAtOpen = false;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
  ) {
    this.log = fs.open(path.join(dir, LOG_FILE));
  }

  static open(fs: FileSystem, dir: string): QuorumStorage {
    // A new directory's own entry is durable only once its parent is synced, and so on up
    // for every parent created with it (else a power cut takes the term and vote with it).
    mkdirDurable(fs, dir);
    const storage = new QuorumStorage(fs, dir);
    storage.recover();
    storage.syncAll();
    return storage;
  }

  get lastIndex(): number {
    return this.firstIndex + this.positions.length - 1;
  }

  termAt(index: number): number | undefined {
    const i = index - this.firstIndex;
    return i >= 0 && i < this.terms.length ? this.terms[i] : undefined;
  }

  private get logFile(): string {
    return path.join(this.dir, LOG_FILE);
  }

  private recover(): void {
    const size = this.log.size();
    const head = Buffer.alloc(Math.min(size, LOG_HEADER.length));
    this.log.read(head, 0, head.length, 0);
    if (head.length < LOG_HEADER.length && LOG_HEADER.subarray(0, head.length).equals(head)) {
      // A new log, or one whose header a crash tore (it held no entry yet): the header
      // first, and the file's directory entry made durable.
      this.log.truncate(0);
      this.log.append(LOG_HEADER);
      this.log.sync();
      this.fs.syncDir(this.dir);
      return;
    }
    // A format-1 log starts with an entry length (at most 16 MiB), never with the header.
    const format: LogFormat = head.equals(LOG_HEADER) ? 2 : 1;
    const end = this.scan(format, format === 2 ? LOG_HEADER.length : 0, size);
    if (end < size) this.truncatedBytesAtOpen = size - end;
    if (format === 1) {
      this.upgrade();
      return;
    }
    if (end < size) {
      this.log.truncate(end);
      this.log.sync();
    }
  }

  /**
   * Makes everything the node is about to trust durable: a process that stopped on a
   * storage error (a failed fsync of the log, or of the directory after the vote's rename)
   * leaves files that read back fine but may not be on disk; a node that answered from them
   * could, after a power cut, vote twice in a term or lose an acknowledged entry.
   */
  private syncAll(): void {
    this.log.sync();
    for (const name of this.fs.readdir(this.dir)) {
      if (name !== STATE_FILE && !SNAPSHOT_NAME.test(name)) continue;
      const handle = this.fs.open(path.join(this.dir, name));
      try {
        handle.sync();
      } finally {
        handle.close();
      }
    }
    this.fs.syncDir(this.dir);
  }

  /** Reads entries from `position`; returns where the last whole, valid, consecutive one ends. */
  private scan(format: LogFormat, position: number, size: number): number {
    const headerBytes = ENTRY_HEADER_BYTES[format];
    const header = Buffer.alloc(headerBytes);
    let expected: number | null = null;
    while (position + headerBytes <= size) {
      this.log.read(header, 0, headerBytes, position);
      const length = header.readInt32BE(0);
      if (length < 0 || length > ENTRY_BYTES_MAX || position + headerBytes + length > size) break;
      const whole = Buffer.alloc(headerBytes + length);
      this.log.read(whole, 0, whole.length, position);
      if (crc32c(whole, 8) !== whole.readUInt32BE(4)) break;
      const term = format === 2 ? Number(whole.readBigInt64BE(8)) : whole.readInt32BE(8);
      const index = Number(whole.readBigInt64BE(format === 2 ? 16 : 12));
      if (!validStoredTerm(term) || (expected !== null && index !== expected)) break;
      if (expected === null) this.firstIndex = index;
      this.positions.push(position);
      this.terms.push(term);
      expected = index + 1;
      position += whole.length;
    }
    return position;
  }

  /** Rewrites a format-1 log (already scanned into positions) as format 2, atomically. */
  private upgrade(): void {
    const entries: Entry[] = [];
    const header = Buffer.alloc(ENTRY_HEADER_BYTES[1]);
    for (let i = 0; i < this.positions.length; i++) {
      this.log.read(header, 0, header.length, this.positions[i]);
      const data = Buffer.alloc(header.readInt32BE(0));
      this.log.read(data, 0, data.length, this.positions[i] + header.length);
      const kind = header.readInt8(20);
      const index = this.firstIndex + i;
      entries.push(kind === 0 ? { index, term: this.terms[i], data } : { index, term: this.terms[i], data, kind });
    }
    this.replaceLog(this.positions.length > 0 ? this.firstIndex : 1, entries, 'upgrade');
    this.upgradedAtOpen = true;
  }

  /**
   * Replaces the log file by one holding `entries` (from `firstIndex`): written to a temp
   * file, fsync'd, renamed over the log, and the directory fsync'd, so a crash at any point
   * leaves the old log or the new one, whole.
   */
  private replaceLog(firstIndex: number, entries: Entry[], suffix: string): void {
    const temp = `${this.logFile}.${suffix}`;
    const handle = this.fs.open(temp);
    handle.truncate(0);
    const parts: Buffer[] = [LOG_HEADER];
    const positions: number[] = [];
    let position = LOG_HEADER.length;
    for (const entry of entries) {
      const whole = encodeEntry(entry);
      parts.push(whole);
      positions.push(position);
      position += whole.length;
    }
    handle.append(parts);
    handle.sync();
    handle.close();
    this.log.close();
    this.fs.rename(temp, this.logFile);
    this.fs.syncDir(this.dir);
    this.log = this.fs.open(this.logFile);
    this.positions = positions;
    this.terms = entries.map((e) => e.term);
    this.firstIndex = firstIndex;
  }

  readHardState(): HardState {
    const file = path.join(this.dir, STATE_FILE);
    if (!this.fs.exists(file)) return { term: 0, votedFor: -1 };
    const handle = this.fs.open(file);
    const raw = Buffer.alloc(handle.size());
    handle.read(raw, 0, raw.length, 0);
    handle.close();
    try {
      const state = raw.subarray(0, 4).toString('latin1') === STATE_MAGIC ? decodeStateV2(raw) : decodeStateV1(raw);
      if (!validStoredTerm(state.term) || !Number.isInteger(state.votedFor))
        throw new Error(`impossible term ${state.term} or vote ${state.votedFor}`);
      return state;
    } catch (error) {
      throw new QuorumStorageError(
        `${file} is corrupt (${(error as Error).message}); refusing to start rather than risk a second vote in one term. Restore it or remove this node's data directory so it rejoins as a fresh voter.`,
      );
    }
  }

  /** Term and vote are on disk (fsync'd, directory included) when this returns. */
  writeHardState(state: HardState): void {
    if (!validStoredTerm(state.term)) throw new QuorumStorageError(`term ${state.term} cannot be stored`);
    const file = path.join(this.dir, STATE_FILE);
    const temp = `${file}.tmp`;
    const bytes = Buffer.alloc(STATE_BYTES);
    bytes.write(STATE_MAGIC, 0, 'latin1');
    bytes.writeInt16BE(STATE_VERSION, 4);
    bytes.writeBigInt64BE(BigInt(state.term), 6);
    bytes.writeInt32BE(state.votedFor, 14);
    bytes.writeUInt32BE(crc32c(bytes.subarray(0, STATE_BYTES - 4)), STATE_BYTES - 4);
    const handle = this.fs.open(temp);
    handle.truncate(0);
    handle.append(bytes);
    handle.sync();
    handle.close();
    this.fs.rename(temp, file);
    // Until the directory is synced a power cut may bring the old file back: the vote is
    // durable only after this.
    this.fs.syncDir(this.dir);
  }

  /** Appends entries (they must continue the log); durable after `sync()`. */
  append(entries: Entry[]): void {
    const parts: Buffer[] = [];
    let position = this.log.size();
    for (const entry of entries) {
      if (this.positions.length > 0 && entry.index !== this.lastIndex + 1) {
        throw new QuorumStorageError(`entry ${entry.index} does not follow ${this.lastIndex}`);
      }
      if (!validStoredTerm(entry.term)) throw new QuorumStorageError(`entry ${entry.index}: term ${entry.term}`);
      if (this.positions.length === 0) this.firstIndex = entry.index;
      const whole = encodeEntry(entry);
      parts.push(whole);
      this.positions.push(position);
      this.terms.push(entry.term);
      position += whole.length;
    }
    if (parts.length > 0) this.log.append(parts);
  }

  sync(): void {
    this.log.sync();
  }

  /** Removes every entry after `index` (a follower repairing a divergent suffix). */
  truncateAfter(index: number): void {
    const keep = index - this.firstIndex + 1;
    if (keep >= this.positions.length) return;
    const cut = keep <= 0 ? LOG_HEADER.length : this.positions[keep];
    this.positions.length = Math.max(0, keep);
    this.terms.length = Math.max(0, keep);
    this.log.truncate(cut);
    this.log.sync();
  }

  read(from: number, to: number): Entry[] {
    const out: Entry[] = [];
    const headerBytes = ENTRY_HEADER_BYTES[2];
    for (let index = Math.max(from, this.firstIndex); index <= Math.min(to, this.lastIndex); index++) {
      const i = index - this.firstIndex;
      const header = Buffer.alloc(headerBytes);
      this.log.read(header, 0, headerBytes, this.positions[i]);
      const data = Buffer.alloc(header.readInt32BE(0));
      this.log.read(data, 0, data.length, this.positions[i] + headerBytes);
      const kind = header.readInt8(24);
      out.push(kind === 0 ? { index, term: this.terms[i], data } : { index, term: this.terms[i], data, kind });
    }
    return out;
  }

  /**
   * Drops entries up to `index` once a snapshot covers them: the rest is copied to a new
   * file that replaces the old one atomically, so a crash leaves one or the other.
   */
  compactThrough(index: number): void {
    if (index < this.firstIndex && this.positions.length > 0) return;
    this.replaceLog(index + 1, this.read(index + 1, this.lastIndex), 'compact');
  }

  /** Writes a snapshot (atomic, fsync'd, directory included), keeps the newest two, and returns its name. */
  writeSnapshot(snapshot: Snapshot): string {
    const name = `${String(snapshot.index).padStart(20, '0')}-${String(snapshot.term).padStart(10, '0')}.checkpoint`;
    const file = path.join(this.dir, name);
    const handle = this.fs.open(`${file}.part`);
    handle.truncate(0);
    const body = encodeSnapshotStream(snapshot);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(crc32c(body), 0);
    handle.append([header, body]);
    handle.sync();
    handle.close();
    this.fs.rename(`${file}.part`, file);
    this.fs.syncDir(this.dir);
    const names = this.snapshotNames();
    for (const old of names.slice(0, Math.max(0, names.length - SNAPSHOTS_KEPT)))
      this.fs.unlink(path.join(this.dir, old));
    return name;
  }

  /** Snapshot file names, oldest first (by index, then term). */
  private snapshotNames(): string[] {
    return this.fs
      .readdir(this.dir)
      .filter((n) => SNAPSHOT_NAME.test(n))
      .sort((a, b) => {
        const [ai, at] = snapshotNameParts(a);
        const [bi, bt] = snapshotNameParts(b);
        return ai - bi || at - bt;
      });
  }

  /** How many snapshot files there are, readable or not. */
  snapshotFileCount(): number {
    return this.snapshotNames().length;
  }

  /** The newest snapshot whose checksum holds, if any (a damaged one is skipped). */
  latestSnapshot(): Snapshot | null {
    for (const name of this.snapshotNames().reverse()) {
      const handle = this.fs.open(path.join(this.dir, name));
      const raw = Buffer.alloc(handle.size());
      handle.read(raw, 0, raw.length, 0);
      handle.close();
      if (raw.length < 4 || crc32c(raw, 4) !== raw.readUInt32BE(0)) continue;
      try {
        const [index, term] = snapshotNameParts(name);
        return decodeSnapshotStream(index, term, raw.subarray(4));
      } catch {
        continue;
      }
    }
    return null;
  }

  /**
   * Makes the log continue a snapshot: entries after it are kept when the log holds the
   * snapshot's last entry (same index and term) or starts right after it; otherwise the
   * log belongs to another history and is dropped.
   */
  alignWithSnapshot(snapshot: Snapshot): void {
    const matches =
      this.termAt(snapshot.index) === snapshot.term ||
      (this.positions.length > 0 && this.firstIndex === snapshot.index + 1);
    if (!matches) this.truncateAfter(this.firstIndex - 1);
    this.compactThrough(snapshot.index);
  }

  close(): void {
    this.log.sync();
    this.log.close();
  }
}

/** Index and term from a snapshot file name. */
function snapshotNameParts(name: string): [number, number] {
  return [Number(name.slice(0, 20)), Number(name.slice(21, name.indexOf('.')))];
}

/** Format 2 of quorum-state (see the top of this file). */
function decodeStateV2(raw: Buffer): HardState {
  if (raw.length !== STATE_BYTES) throw new Error(`${raw.length} bytes, expected ${STATE_BYTES}`);
  const version = raw.readInt16BE(4);
  if (version !== STATE_VERSION) throw new Error(`format version ${version} is not one this release reads`);
  if (crc32c(raw.subarray(0, STATE_BYTES - 4)) !== raw.readUInt32BE(STATE_BYTES - 4))
    throw new Error('checksum mismatch');
  return { term: Number(raw.readBigInt64BE(6)), votedFor: raw.readInt32BE(14) };
}

/** Format 1 of quorum-state: {"term":T,"votedFor":V,"crc":C}, the crc over "T:V". */
function decodeStateV1(raw: Buffer): HardState {
  const parsed = JSON.parse(raw.toString('utf8')) as HardState & { crc: number };
  const body = `${parsed.term}:${parsed.votedFor}`;
  if (parsed.crc !== crc32c(Buffer.from(body))) throw new Error('checksum mismatch');
  return { term: parsed.term, votedFor: parsed.votedFor };
}

/** A snapshot as a byte stream (file body and InstallSnapshot payload). */
export function encodeSnapshotStream(snapshot: Snapshot): Buffer {
  const voters = encodeMembership(snapshot.voters);
  const length = Buffer.alloc(4);
  length.writeInt32BE(voters.length, 0);
  return Buffer.concat([length, voters, snapshot.data]);
}

export function decodeSnapshotStream(index: number, term: number, bytes: Buffer): Snapshot {
  if (bytes.length < 4) throw new QuorumStorageError('snapshot stream too short');
  const length = bytes.readInt32BE(0);
  if (length < 0 || 4 + length > bytes.length) throw new QuorumStorageError('snapshot voter set overruns the stream');
  return { index, term, voters: decodeMembership(bytes.subarray(4, 4 + length)), data: bytes.subarray(4 + length) };
}
