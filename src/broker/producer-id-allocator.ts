// Hands out producer ids for InitProducerId from blocks of 1000 (Kafka's
// PRODUCER_ID_BLOCK_SIZE) that the active controller allocates through the metadata log
// (a ProducerIds record moves the cluster's next free id past the block). Every broker
// draws from its own committed block, so no two brokers, and no restart, ever hand out the
// same id. Concurrent callers share one block request.

export class ProducerIdsUnavailableError extends Error {
  override name = 'ProducerIdsUnavailableError';
  constructor(readonly errorCode: number) {
    super(`the active controller did not allocate a producer id block (error ${errorCode})`);
  }
}

export interface ProducerIdBlock {
  errorCode: number;
  firstProducerId: number;
  count: number;
}

export class ProducerIdAllocator {
  private next = 0;
  private end = 0;
  private refilling: Promise<void> | null = null;

  constructor(private readonly requestBlock: () => Promise<ProducerIdBlock>) {}

  async allocate(): Promise<number> {
    // A block is 1000 ids, so one refill serves many waiters; bounded in case others drain it.
    for (let attempt = 0; attempt < 4; attempt++) {
      if (this.next < this.end) return this.next++;
      this.refilling ??= this.refill().finally(() => {
        this.refilling = null;
      });
      await this.refilling;
    }
    throw new ProducerIdsUnavailableError(-1);
  }

  private async refill(): Promise<void> {
    const block = await this.requestBlock();
    if (block.errorCode !== 0 || block.count <= 0) throw new ProducerIdsUnavailableError(block.errorCode);
    this.next = block.firstProducerId;
    this.end = block.firstProducerId + block.count;
  }
}
