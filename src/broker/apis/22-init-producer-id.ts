// InitProducerId (key 22), versions 0-5.
// v1: same as v0. v2: flexible. v3: producerId/producerEpoch in the request so an existing
// producer can bump its epoch (KIP-360). v4: PRODUCER_FENCED may be answered. v5:
// TRANSACTION_ABORTABLE may be answered (KIP-890); both are transactional errors, which an
// idempotent producer never gets, so v4 and v5 are answered as v3.
// Producer ids come from blocks the active controller commits to the metadata log.
// Idempotent producers only: a transactional id needs a transaction coordinator, which
// Brook does not have yet, so such requests are refused with a clear, non-retriable error.
// With an authorizer: Write on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// or without one IdempotentWrite on the cluster or Write on any topic (KIP-679), else
// CLUSTER_AUTHORIZATION_FAILED, as Kafka checks before anything else.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { authorized, authorizedOnAnyOfType, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';

export const initProducerId: ApiHandler<typeof ApiKey.InitProducerId> = {
  apiKey: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const { broker } = ctx;
    const transactionalId = request.transactionalId ?? null;
    // Kafka's checks: Write on the transactional id; without one, IdempotentWrite on the
    // cluster or (KIP-679) Write on at least one topic.
    const refusal =
      transactionalId !== null
        ? authorized(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)
          ? null
          : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        : clusterAuthorized(ctx, AclOperation.IDEMPOTENT_WRITE) ||
            authorizedOnAnyOfType(ctx, AclOperation.WRITE, ResourceType.TOPIC)
          ? null
          : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    if (refusal !== null) return { throttleTimeMs: 0, errorCode: refusal, producerId: -1, producerEpoch: -1 };
    if (transactionalId !== null) {
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
    // From v3 a producer may name its current id and epoch (KIP-360): both or neither, as
    // Kafka checks. Without a transactional id Kafka then ignores them and hands out a new
    // id at epoch 0, never the same id at the next epoch: clients that always send an id
    // (@platformatic/kafka sends 0 and 0) would otherwise share one producer id and epoch,
    // and the second one's batches would be dropped as duplicates of the first one's.
    if ((request.producerId === -1) !== (request.producerEpoch === -1)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
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
