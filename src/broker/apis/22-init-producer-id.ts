// InitProducerId (key 22), versions 0-4.
// v1: same as v0. v2: flexible. v3: producerId/producerEpoch in the request so an existing
// producer can bump its epoch (KIP-360). v4: same as v3.
// Producer ids come from blocks the active controller commits to the metadata log.
// Idempotent producers only: a transactional id needs a transaction coordinator, which
// Brook does not have yet, so such requests are refused with a clear, non-retriable error.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';

const MAX_EPOCH = 32767;

export const initProducerId: ApiHandler<typeof ApiKey.InitProducerId> = {
  apiKey: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (request.transactionalId !== null && request.transactionalId !== undefined) {
      broker.logger.info('refusing transactional InitProducerId: transactions are not supported yet', {
        transactionalId: request.transactionalId,
      });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        producerId: -1,
        producerEpoch: -1,
      };
    }
    // An idempotent producer re-initialising with its current id gets the next epoch,
    // which fences its own older incarnation's in-flight batches.
    const producerId = request.producerId ?? -1;
    const producerEpoch = request.producerEpoch ?? -1;
    if (producerId >= 0 && producerEpoch >= 0 && producerEpoch < MAX_EPOCH) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 };
    }
    try {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        producerId: await broker.producerIds.allocate(),
        producerEpoch: 0,
      };
    } catch (error) {
      // No block from the controller (no quorum, or it moved): retriable for the client.
      broker.logger.warn('no producer id block from the active controller', { error: (error as Error).message });
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        producerId: -1,
        producerEpoch: -1,
      };
    }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
  },
};
