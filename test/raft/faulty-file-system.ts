// A FileSystem wrapper for Raft storage tests, over any FileSystem (the in-memory one, with
// its crash model): it can fail every mutating operation (a dead disk: each throws EIO) or
// stop the world at the n-th one (a crash point: that operation and every later one throw,
// as if the process died there; the test then calls crash() on the file system below).
// Reads always pass.

import { FileHandle, FileSystem } from '../../src/log/file-system';

/** Thrown at the crash point and by every mutating operation after it. */
export class CrashPoint extends Error {
  override name = 'CrashPoint';
}

export class FaultyFileSystem implements FileSystem {
  /** Mutating operations that still succeed before the crash point (Infinity: none). */
  opsLeft = Infinity;
  /** Set to make every mutating operation fail with EIO. */
  failing = false;
  crashed = false;
  mutations = 0;

  constructor(readonly inner: FileSystem) {}

  private mutate(): void {
    if (this.failing) throw Object.assign(new Error('EIO: i/o error (injected)'), { code: 'EIO' });
    if (this.crashed) throw new CrashPoint('the process is dead');
    if (this.opsLeft <= 0) {
      this.crashed = true;
      throw new CrashPoint('crash point reached');
    }
    this.opsLeft--;
    this.mutations++;
  }

  open(file: string): FileHandle {
    const handle = this.inner.open(file);
    return {
      read: (target, targetOffset, length, position) => handle.read(target, targetOffset, length, position),
      append: (data) => {
        this.mutate();
        handle.append(data);
      },
      writeAt: (data, position) => {
        this.mutate();
        handle.writeAt(data, position);
      },
      size: () => handle.size(),
      truncate: (length) => {
        this.mutate();
        handle.truncate(length);
      },
      sync: () => {
        this.mutate();
        handle.sync();
      },
      close: () => handle.close(),
    };
  }

  exists(file: string): boolean {
    return this.inner.exists(file);
  }

  readdir(dir: string): string[] {
    return this.inner.readdir(dir);
  }

  mkdirp(dir: string): void {
    this.mutate();
    this.inner.mkdirp(dir);
  }

  rename(from: string, to: string): void {
    this.mutate();
    this.inner.rename(from, to);
  }

  unlink(file: string): void {
    this.mutate();
    this.inner.unlink(file);
  }

  removeTree(dir: string): void {
    this.mutate();
    this.inner.removeTree(dir);
  }

  isDirectory(file: string): boolean {
    return this.inner.isDirectory(file);
  }

  syncDir(dir: string): void {
    this.mutate();
    this.inner.syncDir(dir);
  }
}
