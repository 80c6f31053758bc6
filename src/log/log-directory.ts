// The health of one log directory (data-dir/logs), shared by all its partition logs, and
// the rules for file-system errors. An append that fails with an I/O error is undone
// (the partition is left exactly as it was, no offset used) and answered with
// KAFKA_STORAGE_ERROR. An error that says the disk is out of a resource that can come back
// (space, quota, file descriptors, memory) stops only that write; any other (EIO, EROFS,
// ...), or an undo that fails, takes the whole directory offline, as Kafka does with a
// failed log directory: every partition in it then answers KAFKA_STORAGE_ERROR and writes
// nothing until the broker restarts.

/** Errno codes of a resource that may come back: the write fails, the directory stays online. */
const TRANSIENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR', 'EBUSY']);

/** An error from the file system (an errno code such as EIO), not a bug in the caller. */
export function isStorageError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

export function isTransientStorageError(error: unknown): boolean {
  return isStorageError(error) && TRANSIENT_CODES.has(error.code!);
}

/** Errno codes that say the disk or file system itself failed, whatever the operation. */
const DISK_FAILURE_CODES = new Set(['EIO', 'EROFS', 'ENXIO', 'ENODEV', 'ESTALE']);

/**
 * A failure of the disk itself. Opening a partition's log takes the directory offline only
 * on these: a refused name (ENAMETOOLONG, a file where its directory should be) concerns
 * that partition alone, which stays offline by itself.
 */
export function isDiskFailure(error: unknown): boolean {
  return isStorageError(error) && DISK_FAILURE_CODES.has(error.code!);
}

export interface OfflineInfo {
  dir: string;
  topic: string;
  partition: number;
  error: unknown;
}

export class LogDirectory {
  private failure: OfflineInfo | null = null;

  constructor(
    readonly dir: string,
    private readonly onOffline: (info: OfflineInfo) => void = () => undefined,
    /** Every failed write or read of a partition, transient or not (for a rate-limited log line). */
    readonly onError: (info: OfflineInfo) => void = () => undefined,
  ) {}

  get offline(): boolean {
    return this.failure !== null;
  }

  /** What took the directory offline (null while online). */
  get offlineCause(): OfflineInfo | null {
    return this.failure;
  }

  /** Takes the directory offline (once; later failures are not reported again). */
  markOffline(topic: string, partition: number, error: unknown): void {
    if (this.failure) return;
    this.failure = { dir: this.dir, topic, partition, error };
    this.onOffline(this.failure);
  }

  /** The error thrown by operations on an offline directory (its code is the original errno). */
  offlineError(): NodeJS.ErrnoException {
    const cause = this.failure?.error as NodeJS.ErrnoException | undefined;
    return Object.assign(new Error(`log directory ${this.dir} is offline: ${String(cause?.message ?? cause)}`), {
      code: cause?.code ?? 'EIO',
    });
  }
}
