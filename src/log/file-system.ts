// The small file-system interface the log is written against, with the real node:fs
// implementation and an in-memory one that models power cuts: bytes written since the last
// fsync may be lost on crash() (a torn write may keep only a prefix of them), and so may
// directory entries (creates, renames, unlinks) not yet made durable by a directory fsync.
// Helpers here create directories and replace files crash-safely.
// The log uses synchronous calls on purpose: appends land in the page cache in a memcpy's
// time, and a synchronous write is done before the produce is acknowledged.

import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FileHandle {
  /** Reads into `target` from file position `position`; returns bytes read. */
  read(target: Buffer, targetOffset: number, length: number, position: number): number;
  /** Appends at the end of the file. */
  append(data: Buffer | Buffer[]): void;
  /** Writes at an absolute position (index files). */
  writeAt(data: Buffer, position: number): void;
  size(): number;
  truncate(length: number): void;
  sync(): void;
  close(): void;
}

export interface FileSystem {
  open(file: string): FileHandle;
  exists(file: string): boolean;
  readdir(dir: string): string[];
  mkdirp(dir: string): void;
  rename(from: string, to: string): void;
  unlink(file: string): void;
  removeTree(dir: string): void;
  isDirectory(file: string): boolean;
  /**
   * Makes the directory's entries durable (fsync of the directory): a rename or a newly
   * created file inside it survives a crash only after this.
   */
  syncDir(dir: string): void;
}

class RealFile implements FileHandle {
  private fd: number;
  private length: number;

  constructor(file: string) {
    this.fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    this.length = fs.fstatSync(this.fd).size;
  }

  read(target: Buffer, targetOffset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, target, targetOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  append(data: Buffer | Buffer[]): void {
    const parts = Array.isArray(data) ? data : [data];
    let total = 0;
    for (const part of parts) total += part.length;
    let written = 0;
    // writev may write less than asked; finish the rest part by part.
    written =
      parts.length === 1
        ? fs.writeSync(this.fd, parts[0], 0, parts[0].length, this.length)
        : fs.writevSync(this.fd, parts, this.length);
    if (written < total) {
      const all = Buffer.concat(parts, total);
      while (written < total) written += fs.writeSync(this.fd, all, written, total - written, this.length + written);
    }
    this.length += total;
  }

  writeAt(data: Buffer, position: number): void {
    let written = 0;
    while (written < data.length)
      written += fs.writeSync(this.fd, data, written, data.length - written, position + written);
    if (position + data.length > this.length) this.length = position + data.length;
  }

  size(): number {
    return this.length;
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
    this.length = length;
  }

  sync(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export const realFileSystem: FileSystem = {
  open: (file) => new RealFile(file),
  exists: (file) => fs.existsSync(file),
  readdir: (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []),
  mkdirp: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (file) => fs.rmSync(file, { force: true }),
  removeTree: (dir) => fs.rmSync(dir, { recursive: true, force: true }),
  isDirectory: (file) => fs.existsSync(file) && fs.statSync(file).isDirectory(),
  syncDir: (dir) => {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
};

/**
 * Creates `dir` and any missing parent, and makes each new directory's entry durable
 * (fsync of the directory that holds it), so a power cut cannot take the directory, and
 * everything later made durable inside it, away.
 */
export function mkdirDurable(fs: FileSystem, dir: string): void {
  const missing: string[] = [];
  for (let current = dir; !fs.isDirectory(current); current = path.dirname(current)) {
    missing.push(current);
    if (path.dirname(current) === current) break;
  }
  if (missing.length === 0) return;
  fs.mkdirp(dir);
  for (const created of missing.reverse()) {
    const parent = path.dirname(created);
    if (parent !== created) fs.syncDir(parent);
  }
}

/**
 * Replaces `file` crash-safely: the bytes go to `<file>.tmp`, which is fsynced, renamed
 * over `file`, and the directory is fsynced. After a crash the name holds either the old
 * contents or the new ones, whole.
 */
export function writeFileDurable(fs: FileSystem, file: string, data: Buffer, temporarySuffix = '.tmp'): void {
  const temp = `${file}${temporarySuffix}`;
  const handle = fs.open(temp);
  try {
    handle.truncate(0);
    handle.append(data);
    handle.sync();
  } finally {
    handle.close();
  }
  fs.rename(temp, file);
  fs.syncDir(path.dirname(file));
}

/** The whole contents of a small file. */
export function readWholeFile(fs: FileSystem, file: string): Buffer {
  const handle = fs.open(file);
  try {
    const raw = Buffer.alloc(handle.size());
    handle.read(raw, 0, raw.length, 0);
    return raw;
  } finally {
    handle.close();
  }
}

/**
 * A regular file in memory. `data[0, length)` is what readers see; `durable` is the
 * contents as of the last fsync. `stableLength` is how much of the start is unchanged since
 * that fsync (a truncate or an overwrite lowers it); appends leave it alone.
 */
interface MemoryInode {
  kind: 'file';
  data: Buffer;
  length: number;
  durable: Buffer;
  stableLength: number;
}

/** A directory in memory: `durable` is its entries as of the last syncDir. */
interface MemoryDir {
  kind: 'dir';
  durable: Map<string, MemoryInode | MemoryDir>;
}

/** The calls a fault can be injected into (`read` only when named explicitly). */
export type FileOperation =
  'open' | 'read' | 'append' | 'writeAt' | 'truncate' | 'sync' | 'mkdir' | 'rename' | 'unlink' | 'syncDir';

/** Operations that change something: the default target of an injected fault. */
const MUTATING_OPERATIONS: readonly FileOperation[] = [
  'open',
  'append',
  'writeAt',
  'truncate',
  'sync',
  'mkdir',
  'rename',
  'unlink',
  'syncDir',
];

export interface FaultSpec {
  /** The errno name the failing call throws with (ENOSPC, EIO, EROFS, EMFILE, ...). */
  code: string;
  /** Which calls fail (default: every call that changes something, and open). */
  operations?: readonly FileOperation[];
  /** Only calls on paths starting with this fail (default: all paths). */
  pathPrefix?: string;
  /** This many matching calls succeed first (default 0). */
  skip?: number;
  /** How many matching calls fail, then the fault is gone (default: every one, a persistent fault). */
  times?: number;
  /** A failing append or writeAt first writes the first half of its bytes (a short write). */
  partialWrite?: boolean;
}

export interface MemoryFileSystemOptions {
  /**
   * The crash model for directory entries. 'volatile' (a power cut, the default): a
   * create, rename, unlink or mkdir is lost by crash() unless the directory holding the
   * entry was synced (syncDir) after it. 'durable' (the older model): every entry change
   * is durable at once, and an unsynced truncate too. The default is 'durable' when
   * volatileRenames is given, so callers of the older option keep its meaning.
   */
  directoryEntries?: 'volatile' | 'durable';
  /**
   * The older option: entries durable at once, except renames, which stay volatile until
   * syncDir of the directories involved (crash() undoes them). The 'volatile' model
   * includes this.
   */
  volatileRenames?: boolean;
}

/** An error like the ones node:fs throws (`code`, `syscall`, `path`). */
function fileSystemError(code: string, operation: string, file: string): Error {
  // No stack trace: crash tests throw thousands of these, and the message says it all.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return Object.assign(new Error(`${code}: injected fault, ${operation} '${file}'`), {
      code,
      syscall: operation,
      path: file,
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * An in-memory file system for crash tests, modelling what a power cut can leave:
 * - file data not fsynced may be lost; of data appended since the last fsync a random
 *   prefix may survive (a torn write); a file truncated or overwritten since its last fsync
 *   comes back either as it was at that fsync or with the change and a prefix of what
 *   followed it;
 * - directory entries (created files and directories, renames, unlinks) not made durable
 *   by syncDir of the directory holding them may be lost, per directory: a file created and
 *   fsynced in a directory never synced can vanish, and a deleted one can come back.
 * crash(random) applies the power cut; `random` in [0,1) decides each loss, and one that
 * always returns 0 loses everything that was not made durable.
 * injectFault() makes chosen calls throw like node:fs does (ENOSPC, EIO, ...).
 */
export class MemoryFileSystem implements FileSystem {
  private files = new Map<string, MemoryInode>();
  private dirs = new Map<string, MemoryDir>([['/', { kind: 'dir', durable: new Map() }]]);
  /** The live entries of each directory, by name (kept with `files` and `dirs`). */
  private children = new Map<string, Map<string, MemoryInode | MemoryDir>>();
  private readonly faults: (FaultSpec & { seen: number; failed: number })[] = [];
  private readonly volatileEntries: boolean;
  /** Counts of calls by operation (tests check what a code path did). */
  readonly calls = new Map<FileOperation, number>();

  constructor(private readonly options: MemoryFileSystemOptions = {}) {
    const fallback = options.volatileRenames === undefined ? 'volatile' : 'durable';
    this.volatileEntries = (options.directoryEntries ?? fallback) === 'volatile';
  }

  /** Makes matching calls throw `code` until removed (the returned function) or clearFaults(). */
  injectFault(spec: FaultSpec): () => void {
    const fault = { ...spec, seen: 0, failed: 0 };
    this.faults.push(fault);
    return () => {
      const at = this.faults.indexOf(fault);
      if (at >= 0) this.faults.splice(at, 1);
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The fault that fails this call now, if any (counts the call against every matching fault). */
  private fault(operation: FileOperation, file: string): FaultSpec | null {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    if (this.faults.length === 0) return null;
    let hit: FaultSpec | null = null;
    for (const fault of this.faults) {
      const operations = fault.operations ?? MUTATING_OPERATIONS;
      if (!operations.includes(operation)) continue;
      if (fault.pathPrefix !== undefined && !file.startsWith(fault.pathPrefix)) continue;
      fault.seen++;
      if (fault.seen <= (fault.skip ?? 0)) continue;
      if (fault.failed >= (fault.times ?? Infinity)) continue;
      fault.failed++;
      hit ??= fault;
    }
    return hit;
  }

  private check(operation: FileOperation, file: string): void {
    const fault = this.fault(operation, file);
    if (fault) throw fileSystemError(fault.code, operation, file);
  }

  /** Entries of a directory as they are now, by name (a copy). */
  private liveEntries(dir: string): Map<string, MemoryInode | MemoryDir> {
    return new Map(this.children.get(dir) ?? []);
  }

  private link(full: string, node: MemoryInode | MemoryDir): void {
    if (node.kind === 'file') this.files.set(full, node);
    else this.dirs.set(full, node);
    const parent = path.dirname(full);
    let entries = this.children.get(parent);
    if (!entries) this.children.set(parent, (entries = new Map()));
    entries.set(path.basename(full), node);
  }

  private unlinkEntry(full: string): boolean {
    const existed = this.files.delete(full) || this.dirs.delete(full);
    this.children.get(path.dirname(full))?.delete(path.basename(full));
    return existed;
  }

  /** Makes a directory's current entries its durable ones (syncDir). */
  private commitDir(dir: string): void {
    const node = this.dirs.get(dir);
    if (node) node.durable = this.liveEntries(dir);
  }

  /** The older model commits entry changes at once. */
  private entriesChanged(...dirs: string[]): void {
    if (this.volatileEntries) return;
    for (const dir of dirs) this.commitDir(dir);
  }

  open(file: string): FileHandle {
    this.check('open', file);
    let inode = this.files.get(file);
    if (!inode) {
      this.mkdirpUnchecked(path.dirname(file));
      inode = { kind: 'file', data: Buffer.alloc(256), length: 0, durable: Buffer.alloc(0), stableLength: 0 };
      this.link(file, inode);
      this.entriesChanged(path.dirname(file));
    }
    const node = inode;
    const grow = (needed: number) => {
      if (needed <= node.data.length) return;
      const next = Buffer.alloc(Math.max(needed, node.data.length * 2));
      node.data.copy(next, 0, 0, node.length);
      node.data = next;
    };
    const shortWrite = (operation: FileOperation, data: Buffer, write: (part: Buffer) => void) => {
      const fault = this.fault(operation, file);
      if (!fault) return;
      if (fault.partialWrite) write(data.subarray(0, data.length >>> 1));
      throw fileSystemError(fault.code, operation, file);
    };
    const appendPart = (part: Buffer) => {
      grow(node.length + part.length);
      part.copy(node.data, node.length);
      node.length += part.length;
    };
    const writeAt = (data: Buffer, position: number) => {
      grow(position + data.length);
      if (position > node.length) node.data.fill(0, node.length, position);
      data.copy(node.data, position);
      if (position < node.length) node.stableLength = Math.min(node.stableLength, position);
      node.length = Math.max(node.length, position + data.length);
    };
    return {
      read: (target, targetOffset, length, position) => {
        this.check('read', file);
        const n = Math.max(0, Math.min(length, node.length - position));
        node.data.copy(target, targetOffset, position, position + n);
        return n;
      },
      append: (data) => {
        const parts = Array.isArray(data) ? data : [data];
        shortWrite('append', parts.length === 1 ? parts[0] : Buffer.concat(parts), appendPart);
        for (const part of parts) appendPart(part);
      },
      writeAt: (data, position) => {
        shortWrite('writeAt', data, (part) => writeAt(part, position));
        writeAt(data, position);
      },
      size: () => node.length,
      truncate: (length) => {
        this.check('truncate', file);
        if (length < node.length) node.data.fill(0, length, node.length);
        else grow(length);
        node.length = length;
        node.stableLength = Math.min(node.stableLength, length);
        if (!this.volatileEntries && length < node.durable.length) {
          // The older model: a truncate is durable at once.
          node.durable = Buffer.from(node.durable.subarray(0, length));
          node.stableLength = node.durable.length;
        }
      },
      sync: () => {
        this.check('sync', file);
        node.durable = Buffer.from(node.data.subarray(0, node.length));
        node.stableLength = node.length;
      },
      close: () => undefined,
    };
  }

  exists(file: string): boolean {
    return this.files.has(file) || this.dirs.has(file);
  }

  readdir(dir: string): string[] {
    return [...this.liveEntries(dir).keys()].sort();
  }

  private mkdirpUnchecked(dir: string): void {
    const created: string[] = [];
    for (let current = dir; current !== '/' && current !== '.' && !this.dirs.has(current);) {
      this.link(current, { kind: 'dir', durable: new Map() });
      created.push(current);
      current = path.dirname(current);
    }
    for (const name of created) this.entriesChanged(path.dirname(name));
  }

  mkdirp(dir: string): void {
    if (!this.dirs.has(dir)) this.check('mkdir', dir);
    this.mkdirpUnchecked(dir);
  }

  rename(from: string, to: string): void {
    this.check('rename', from);
    const inode = this.files.get(from);
    if (inode) {
      this.mkdirpUnchecked(path.dirname(to));
      this.unlinkEntry(to);
      this.unlinkEntry(from);
      this.link(to, inode);
    } else {
      const moved = [...this.files, ...this.dirs].filter(([name]) => name === from || name.startsWith(`${from}/`));
      for (const [name] of moved) this.unlinkEntry(name);
      for (const [name, node] of moved) this.link(to + name.slice(from.length), node);
    }
    if (!this.options.volatileRenames) this.entriesChanged(path.dirname(from), path.dirname(to));
  }

  unlink(file: string): void {
    this.check('unlink', file);
    if (this.files.has(file) && this.unlinkEntry(file)) this.entriesChanged(path.dirname(file));
  }

  removeTree(dir: string): void {
    this.check('unlink', dir);
    for (const name of [...this.files.keys(), ...this.dirs.keys()])
      if (name === dir || name.startsWith(`${dir}/`)) this.unlinkEntry(name);
    if (this.volatileEntries) return;
    for (const name of this.dirs.keys()) this.commitDir(name);
  }

  isDirectory(file: string): boolean {
    return this.dirs.has(file);
  }

  syncDir(dir: string): void {
    this.check('syncDir', dir);
    this.commitDir(dir);
  }

  /** Simulates a power cut; `random` in [0,1) decides what of the not-yet-durable survives. */
  crash(random: () => number): void {
    // Directories first: which entries exist after the cut. A directory whose entries
    // changed since its last syncDir keeps the changes or loses them, as a whole.
    const survivingEntries = new Map<MemoryDir, Map<string, MemoryInode | MemoryDir>>();
    for (const [dir, node] of this.dirs) {
      const live = this.liveEntries(dir);
      const changed = live.size !== node.durable.size || [...live].some(([name, n]) => node.durable.get(name) !== n);
      survivingEntries.set(node, changed && this.volatileEntries && random() >= 0.5 ? live : node.durable);
    }
    // Directories no longer reachable by their live name keep their durable entries.
    const files = new Map<string, MemoryInode>();
    const dirs = new Map<string, MemoryDir>();
    const walk = (dir: string, node: MemoryDir) => {
      dirs.set(dir, node);
      for (const [name, child] of survivingEntries.get(node) ?? node.durable) {
        const full = dir === '/' ? `/${name}` : `${dir}/${name}`;
        if (child.kind === 'dir') {
          if (!dirs.has(full)) walk(full, child);
        } else files.set(full, child);
      }
    };
    walk('/', this.dirs.get('/')!);
    // Then each surviving file's bytes.
    for (const inode of new Set(files.values())) this.crashFile(inode, random);
    this.files = new Map();
    this.dirs = new Map([['/', dirs.get('/')!]]);
    this.children = new Map();
    for (const [name, node] of [...dirs, ...files]) if (name !== '/') this.link(name, node);
    for (const dir of dirs.keys()) this.commitDir(dir);
  }

  private crashFile(inode: MemoryInode, random: () => number): void {
    const durableLength = inode.durable.length;
    let keep: Buffer;
    if (inode.stableLength >= durableLength) {
      // Only appends since the last fsync: a prefix of them survives.
      if (inode.length === durableLength) return;
      const length = durableLength + Math.floor(random() * (inode.length - durableLength + 1));
      keep = inode.data.subarray(0, length);
    } else if (random() < 0.5) {
      // A truncate or overwrite since the last fsync that never reached the disk.
      keep = inode.durable;
    } else {
      const length = inode.stableLength + Math.floor(random() * (inode.length - inode.stableLength + 1));
      keep = inode.data.subarray(0, length);
    }
    const survivor = Buffer.alloc(Math.max(256, keep.length));
    keep.copy(survivor);
    inode.data = survivor;
    inode.length = keep.length;
    inode.durable = Buffer.from(survivor.subarray(0, keep.length));
    inode.stableLength = keep.length;
  }

  /** Flips one byte of a file (corruption tests). */
  corrupt(file: string, position: number): void {
    const inode = this.files.get(file);
    if (!inode || position >= inode.length) throw new Error(`cannot corrupt ${file} at ${position}`);
    inode.data[position] ^= 0xff;
    if (position < inode.durable.length) inode.durable[position] ^= 0xff;
  }

  fileSize(file: string): number {
    return this.files.get(file)?.length ?? -1;
  }

  /** Whether a crash now could lose or change anything (every file and entry durable). */
  isQuiescent(): boolean {
    for (const [dir, node] of this.dirs) {
      const live = this.liveEntries(dir);
      if (live.size !== node.durable.size || [...live].some(([name, n]) => node.durable.get(name) !== n)) return false;
    }
    for (const inode of this.files.values())
      if (inode.stableLength < inode.durable.length || inode.length !== inode.durable.length) return false;
    return true;
  }
}
