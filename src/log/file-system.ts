// The small file-system interface the log is written against, with the real node:fs
// implementation and an in-memory one that models crashes: bytes written since the last
// fsync may be lost on crash(), and a torn write may keep only a prefix of them.
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

/** A file in memory: `durable` bytes survived the last fsync; `data` is what readers see. */
interface MemoryInode {
  data: Buffer;
  length: number;
  durableLength: number;
  durable: Buffer;
}

/**
 * An in-memory file system for crash tests. `crash(random)` throws away everything not
 * fsynced, except that a random prefix of each file's unsynced tail may survive (a torn
 * write), which is exactly what a kill at the wrong moment or a power cut can leave.
 */
export interface MemoryFileSystemOptions {
  /**
   * Directory entries are volatile until syncDir: crash() undoes every file rename whose
   * target directory was not synced since, as a power cut can on a real disk. Off by
   * default (a rename is durable at once), which is what the older crash tests assume.
   */
  volatileRenames?: boolean;
}

/** A file rename not yet made durable by syncDir of its target directory. */
interface PendingRename {
  from: string;
  to: string;
  moved: MemoryInode;
  replaced: MemoryInode | undefined;
}

export class MemoryFileSystem implements FileSystem {
  private readonly files = new Map<string, MemoryInode>();
  private readonly dirs = new Set<string>(['/']);
  private readonly pendingRenames: PendingRename[] = [];

  constructor(private readonly options: MemoryFileSystemOptions = {}) {}

  open(file: string): FileHandle {
    let inode = this.files.get(file);
    if (!inode) {
      inode = { data: Buffer.alloc(1024), length: 0, durableLength: 0, durable: Buffer.alloc(0) };
      this.files.set(file, inode);
      this.dirs.add(path.dirname(file));
    }
    const node = inode;
    const grow = (needed: number) => {
      if (needed <= node.data.length) return;
      const next = Buffer.alloc(Math.max(needed, node.data.length * 2));
      node.data.copy(next, 0, 0, node.length);
      node.data = next;
    };
    return {
      read: (target, targetOffset, length, position) => {
        const n = Math.max(0, Math.min(length, node.length - position));
        node.data.copy(target, targetOffset, position, position + n);
        return n;
      },
      append: (data) => {
        for (const part of Array.isArray(data) ? data : [data]) {
          grow(node.length + part.length);
          part.copy(node.data, node.length);
          node.length += part.length;
        }
      },
      writeAt: (data, position) => {
        grow(position + data.length);
        data.copy(node.data, position);
        node.length = Math.max(node.length, position + data.length);
      },
      size: () => node.length,
      truncate: (length) => {
        if (length < node.length) node.data.fill(0, length, node.length);
        else grow(length);
        node.length = length;
      },
      sync: () => {
        node.durable = Buffer.from(node.data.subarray(0, node.length));
        node.durableLength = node.length;
      },
      close: () => undefined,
    };
  }

  exists(file: string): boolean {
    return this.files.has(file) || this.dirs.has(file);
  }

  readdir(dir: string): string[] {
    const names = new Set<string>();
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const name of [...this.files.keys(), ...this.dirs]) {
      if (name.startsWith(prefix) && name.length > prefix.length) names.add(name.slice(prefix.length).split('/')[0]);
    }
    return [...names].sort();
  }

  mkdirp(dir: string): void {
    let current = dir;
    while (current !== '/' && current !== '.' && !this.dirs.has(current)) {
      this.dirs.add(current);
      current = path.dirname(current);
    }
  }

  rename(from: string, to: string): void {
    const inode = this.files.get(from);
    if (inode) {
      if (this.options.volatileRenames)
        this.pendingRenames.push({ from, to, moved: inode, replaced: this.files.get(to) });
      this.files.delete(from);
      this.files.set(to, inode);
      return;
    }
    for (const [name, node] of [...this.files]) {
      if (name.startsWith(`${from}/`)) {
        this.files.delete(name);
        this.files.set(to + name.slice(from.length), node);
      }
    }
    for (const name of [...this.dirs]) {
      if (name === from || name.startsWith(`${from}/`)) {
        this.dirs.delete(name);
        this.dirs.add(to + name.slice(from.length));
      }
    }
  }

  unlink(file: string): void {
    this.files.delete(file);
  }

  removeTree(dir: string): void {
    for (const name of [...this.files.keys()]) if (name === dir || name.startsWith(`${dir}/`)) this.files.delete(name);
    for (const name of [...this.dirs]) if (name === dir || name.startsWith(`${dir}/`)) this.dirs.delete(name);
  }

  isDirectory(file: string): boolean {
    return this.dirs.has(file);
  }

  syncDir(dir: string): void {
    for (let i = this.pendingRenames.length - 1; i >= 0; i--) {
      if (path.dirname(this.pendingRenames[i].to) === dir) this.pendingRenames.splice(i, 1);
    }
  }

  /** Simulates a crash; `random` in [0,1) picks how much of each unsynced tail survives. */
  crash(random: () => number): void {
    for (const inode of this.files.values()) {
      const unsynced = inode.length - inode.durableLength;
      let keep = inode.durableLength;
      if (unsynced > 0) keep += Math.floor(random() * (unsynced + 1));
      else keep = inode.length;
      const survivor = Buffer.alloc(Math.max(1024, keep));
      inode.durable.copy(survivor, 0, 0, Math.min(inode.durableLength, keep));
      if (keep > inode.durableLength) inode.data.copy(survivor, inode.durableLength, inode.durableLength, keep);
      inode.data = survivor;
      inode.length = keep;
      inode.durableLength = Math.min(inode.durableLength, keep);
    }
    // Renames the directory never made durable are undone, newest first.
    for (const rename of this.pendingRenames.reverse()) {
      if (this.files.get(rename.to) === rename.moved) {
        if (rename.replaced) this.files.set(rename.to, rename.replaced);
        else this.files.delete(rename.to);
      }
      this.files.set(rename.from, rename.moved);
    }
    this.pendingRenames.length = 0;
  }

  /** Flips one byte of a file (corruption tests). */
  corrupt(file: string, position: number): void {
    const inode = this.files.get(file);
    if (!inode || position >= inode.length) throw new Error(`cannot corrupt ${file} at ${position}`);
    inode.data[position] ^= 0xff;
  }

  fileSize(file: string): number {
    return this.files.get(file)?.length ?? -1;
  }
}
