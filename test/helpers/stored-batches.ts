// Reads what a test broker stored: the codec and producer fields of every batch in one
// partition's segment files, so a test can tell a batch a client compressed from one it sent
// plain, and an idempotent producer's batch from a plain one.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Compression } from '../../protocol/compression';
import { RecordBatchView, splitBatches } from '../../protocol/record-batch';
import { LOGS_DIR, partitionDirName, segmentLogNames } from '../../src/log/on-disk-names';

export { Compression } from '../../protocol/compression';

/** Codec names as clients spell them, to the codec a stored batch's attributes carry. */
export const CODECS: Record<string, Compression> = {
  gzip: Compression.Gzip,
  snappy: Compression.Snappy,
  lz4: Compression.Lz4,
  zstd: Compression.Zstd,
};

export interface StoredBatch {
  compression: Compression;
  /** -1 for a batch from a producer that is not idempotent. */
  producerId: number;
  baseSequence: number;
  recordCount: number;
  /** 0 = CreateTime, 1 = LogAppendTime (the attributes' timestamp-type bit). */
  timestampType: number;
  maxTimestamp: number;
}

/** Every batch stored in `partition` of `topic` under a broker's data directory, oldest first. */
export function storedBatches(dataDir: string, topic: string, partition = 0): StoredBatch[] {
  const dir = path.join(dataDir, LOGS_DIR, partitionDirName(topic, partition));
  const batches: StoredBatch[] = [];
  for (const name of segmentLogNames(fs.readdirSync(dir))) {
    const split = splitBatches(fs.readFileSync(path.join(dir, name)));
    if (split.error !== undefined) throw new Error(`segment ${name} of ${topic}-${partition}: ${split.error}`);
    for (const bytes of split.batches) {
      const batch = new RecordBatchView(bytes);
      batches.push({
        compression: batch.compression,
        producerId: batch.producerId,
        baseSequence: batch.baseSequence,
        recordCount: batch.recordsCount,
        timestampType: batch.timestampType,
        maxTimestamp: batch.maxTimestamp,
      });
    }
  }
  return batches;
}
