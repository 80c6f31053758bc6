// Hands out producer ids for InitProducerId. Ids are reserved in blocks of 1000 (Kafka's
// PRODUCER_ID_BLOCK_SIZE) and the end of the current block is persisted before any id of it
// is used, so a restart never hands out an id twice.

import * as fs from 'node:fs';
import * as path from 'node:path';

const BLOCK_SIZE = 1000;
const FILE_NAME = 'producer-ids.json';

export class ProducerIdAllocator {
  private next = 0;
  private blockEnd = 0;
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, FILE_NAME);
  }

  load(): void {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { nextBlockStart: number };
      this.next = parsed.nextBlockStart;
      this.blockEnd = parsed.nextBlockStart;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  allocate(): number {
    if (this.next >= this.blockEnd) {
      this.blockEnd = this.next + BLOCK_SIZE;
      const temp = `${this.file}.tmp`;
      const fd = fs.openSync(temp, 'w');
      try {
        fs.writeSync(fd, JSON.stringify({ nextBlockStart: this.blockEnd }));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, this.file);
    }
    return this.next++;
  }
}
