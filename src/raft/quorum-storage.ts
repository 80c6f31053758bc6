// Durable storage of one Raft node of the metadata quorum: the file implementation of the
// driver's RaftStorage, behind the FileSystem interface (so crash and torn-write cases are
// testable in memory):
//   quorum-state                     current term and vote, replaced atomically (fsync'd)
//   raft.log                         entries: [length int32][crc32c uint32][term int32]
//                                    [index int64][kind int8][data], appended and fsync'd
//                                    before the node answers anything that depends on them
//   <20-digit index>-<10-digit term>.checkpoint   snapshots: [crc32c uint32][voter set
//                                    length int32][voter set][metadata image records];
//                                    the newest two are kept
// On open the log is scanned and cut at the first torn or corrupt entry; entries must be
// consecutive. A corrupt quorum-state file refuses to start with a clear message rather
// than risk voting twice in a term.

import * as path from 'node:path';
import { crc32c } from '../../protocol/crc32c';
import { FileHandle, FileSystem } from '../log/file-system';
import type { Entry, HardState, Snapshot } from './core';
import { RaftStorage, QuorumStorageError } from './driver';
import { decodeMembership, encodeMembership } from './membership';

const SNAPSHOTS_KEPT = 2;
const SNAPSHOT_NAME = /^\d{20}-\d{10}\.checkpoint$/;

const STATE_FILE = 'quorum-state';
const LOG_FILE = 'raft.log';
const ENTRY_HEADER_BYTES = 4 + 4 + 4 + 8 + 1;
const ENTRY_BYTES_MAX = 16 * 1024 * 1024;

export class QuorumStorage implements RaftStorage {
  private log: FileHandle;
  /** File position of each entry, by index - firstIndex. */
  private positions: number[] = [];
  private terms: number[] = [];
  firstIndex = 1;
  truncatedBytesAtOpen = 0;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    logFile = path.join(dir, LOG_FILE),
  ) {
    this.log = fs.open(logFile);
  }

  static open(fs: FileSystem, dir: string): QuorumStorage {
    fs.mkdirp(dir);
    const storage = new QuorumStorage(fs, dir);
    storage.recover();
    return storage;
  }

  get lastIndex(): number {
    return this.firstIndex + this.positions.length - 1;
  }

  termAt(index: number): number | undefined {
    const i = index - this.firstIndex;
    return i >= 0 && i < this.terms.length ? this.terms[i] : undefined;
  }

  private recover(): void {
    const size = this.log.size();
    const header = Buffer.alloc(ENTRY_HEADER_BYTES);
    let position = 0;
    let expected: number | null = null;
    while (position + ENTRY_HEADER_BYTES <= size) {
      this.log.read(header, 0, ENTRY_HEADER_BYTES, position);
      const length = header.readInt32BE(0);
      if (length < 0 || length > ENTRY_BYTES_MAX || position + ENTRY_HEADER_BYTES + length > size) break;
      const whole = Buffer.alloc(ENTRY_HEADER_BYTES + length);
      this.log.read(whole, 0, whole.length, position);
      if (crc32c(whole, 8) !== whole.readUInt32BE(4)) break;
      const index = Number(whole.readBigInt64BE(12));
      if (expected !== null && index !== expected) break;
      if (expected === null) this.firstIndex = index;
      this.positions.push(position);
      this.terms.push(whole.readInt32BE(8));
      expected = index + 1;
      position += whole.length;
    }
    if (position < size) {
      this.truncatedBytesAtOpen = size - position;
      this.log.truncate(position);
      this.log.sync();
    }
  }

  readHardState(): HardState {
    const file = path.join(this.dir, STATE_FILE);
    if (!this.fs.exists(file)) return { term: 0, votedFor: -1 };
    const handle = this.fs.open(file);
    const raw = Buffer.alloc(handle.size());
    handle.read(raw, 0, raw.length, 0);
    handle.close();
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as HardState & { crc: number };
      const body = `${parsed.term}:${parsed.votedFor}`;
      if (parsed.crc !== crc32c(Buffer.from(body))) throw new Error('checksum mismatch');
      return { term: parsed.term, votedFor: parsed.votedFor };
    } catch (error) {
      throw new QuorumStorageError(
        `${file} is corrupt (${(error as Error).message}); refusing to start rather than risk a second vote in one term. Restore it or remove this node's data directory so it rejoins as a fresh voter.`,
      );
    }
  }

  /** Term and vote are on disk (fsync'd) when this returns. */
  writeHardState(state: HardState): void {
    const file = path.join(this.dir, STATE_FILE);
    const temp = `${file}.tmp`;
    const body = `${state.term}:${state.votedFor}`;
    const handle = this.fs.open(temp);
    handle.truncate(0);
    handle.append(
      Buffer.from(JSON.stringify({ term: state.term, votedFor: state.votedFor, crc: crc32c(Buffer.from(body)) })),
    );
    handle.sync();
    handle.close();
    this.fs.rename(temp, file);
  }

  /** Appends entries (they must continue the log); durable after `sync()`. */
  append(entries: Entry[]): void {
    const parts: Buffer[] = [];
    let position = this.log.size();
    for (const entry of entries) {
      if (this.positions.length > 0 && entry.index !== this.lastIndex + 1) {
        throw new QuorumStorageError(`entry ${entry.index} does not follow ${this.lastIndex}`);
      }
      if (this.positions.length === 0) this.firstIndex = entry.index;
      const whole = Buffer.alloc(ENTRY_HEADER_BYTES + entry.data.length);
      whole.writeInt32BE(entry.data.length, 0);
      whole.writeInt32BE(entry.term, 8);
      whole.writeBigInt64BE(BigInt(entry.index), 12);
      whole.writeInt8(entry.kind ?? 0, 20);
      entry.data.copy(whole, ENTRY_HEADER_BYTES);
      whole.writeUInt32BE(crc32c(whole, 8), 4);
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
    const cut = keep <= 0 ? 0 : this.positions[keep];
    this.positions.length = Math.max(0, keep);
    this.terms.length = Math.max(0, keep);
    this.log.truncate(cut);
    this.log.sync();
  }

  read(from: number, to: number): Entry[] {
    const out: Entry[] = [];
    for (let index = Math.max(from, this.firstIndex); index <= Math.min(to, this.lastIndex); index++) {
      const i = index - this.firstIndex;
      const header = Buffer.alloc(ENTRY_HEADER_BYTES);
      this.log.read(header, 0, ENTRY_HEADER_BYTES, this.positions[i]);
      const data = Buffer.alloc(header.readInt32BE(0));
      this.log.read(data, 0, data.length, this.positions[i] + ENTRY_HEADER_BYTES);
      const kind = header.readInt8(20);
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
    const keep = this.read(index + 1, this.lastIndex);
    const file = path.join(this.dir, LOG_FILE);
    const temp = `${file}.compact`;
    const handle = this.fs.open(temp);
    handle.truncate(0);
    handle.close();
    const fresh = new QuorumStorage(this.fs, this.dir, temp);
    fresh.firstIndex = index + 1;
    fresh.append(keep);
    fresh.sync();
    fresh.log.close();
    this.log.close();
    this.fs.rename(temp, file);
    this.log = this.fs.open(file);
    this.positions = fresh.positions;
    this.terms = fresh.terms;
    this.firstIndex = index + 1;
  }

  /** Writes a snapshot (atomic, fsync'd), keeps the newest two, and returns its name. */
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
    const names = this.fs
      .readdir(this.dir)
      .filter((n) => SNAPSHOT_NAME.test(n))
      .sort();
    for (const old of names.slice(0, Math.max(0, names.length - SNAPSHOTS_KEPT)))
      this.fs.unlink(path.join(this.dir, old));
    return name;
  }

  /** How many snapshot files there are, readable or not. */
  snapshotFileCount(): number {
    return this.fs.readdir(this.dir).filter((n) => SNAPSHOT_NAME.test(n)).length;
  }

  /** The newest snapshot whose checksum holds, if any (a damaged one is skipped). */
  latestSnapshot(): Snapshot | null {
    const names = this.fs
      .readdir(this.dir)
      .filter((n) => SNAPSHOT_NAME.test(n))
      .sort()
      .reverse();
    for (const name of names) {
      const handle = this.fs.open(path.join(this.dir, name));
      const raw = Buffer.alloc(handle.size());
      handle.read(raw, 0, raw.length, 0);
      handle.close();
      if (raw.length < 4 || crc32c(raw, 4) !== raw.readUInt32BE(0)) continue;
      try {
        return decodeSnapshotStream(Number(name.slice(0, 20)), Number(name.slice(21, 31)), raw.subarray(4));
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
