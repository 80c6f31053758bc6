// FindCoordinator (key 10), versions 0-6.
// v1: key type (0 = group, 1 = transaction). v3: flexible. v4: many keys per request (at
// most brook.max.groups.per.request; each gets INVALID_REQUEST past it). v5: may answer
// TRANSACTION_ABORTABLE. v6: key type 2 (share group).
// The coordinator of a group is the leader of its __consumer_offsets partition: this
// broker. There is no transaction coordinator yet, so key type 1 is refused with
// COORDINATOR_NOT_AVAILABLE. There is no share coordinator either: key type 2 gets
// INVALID_REQUEST, as Kafka answers it before v6 or without a share coordinator, and so
// does any other key type (Kafka: "Unknown coordinator type"). The empty group id has a
// coordinator, as in Kafka, since OffsetCommit and OffsetFetch serve it.
// Authorization as Kafka's, per key and before anything else: a group key needs Describe on
// the group (GROUP_AUTHORIZATION_FAILED), a transaction key Describe on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { OFFSETS_TOPIC } from '../../../protocol/topic-names';
import { DEFAULT_GROUPS_PER_REQUEST_MAX, offsetsPartitionFor } from '../../group/coordinator';

const GROUP = 0;
const TRANSACTION = 1;

/** An answer that names no coordinator. */
function refused(key: string, errorCode: number, errorMessage: string) {
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage };
}

function answer(ctx: RequestContext, key: string, keyType: number) {
  const { broker } = ctx;
  const listenerName = ctx.connection.security.listenerName;
  if (keyType === GROUP && !authorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key))
    return refused(key, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
  if (keyType === TRANSACTION && !authorized(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key))
    return refused(key, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
  if (keyType === TRANSACTION)
    return refused(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'transactions are not supported yet');
  if (keyType !== GROUP)
    return refused(key, ErrorCode.INVALID_REQUEST, `coordinator key type ${keyType} is not served`);
  if (!broker.groups.isLoaded) return refused(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'offsets topic still loading');
  // The coordinator is the leader of the group's __consumer_offsets partition.
  const offsets = broker.quorum.image.topicsByName.get(OFFSETS_TOPIC);
  if (!offsets) {
    // Made at the first FindCoordinator (clients retry COORDINATOR_NOT_AVAILABLE).
    void broker.ensureOffsetsTopic();
    return refused(
      key,
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      broker.offsetsTopicShortfall() ?? 'the offsets topic is being created',
    );
  }
  const leader = offsets?.partitions.get(offsetsPartitionFor(key, offsets.partitions.size))?.leader ?? -1;
  // The coordinator on the client's own listener (Kafka's getAliveBrokerNode).
  const endpoint = leader >= 0 ? broker.endpointOf(leader, listenerName) : undefined;
  if (!endpoint) return refused(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the offsets partition has no leader');
  return {
    key,
    nodeId: leader,
    host: endpoint.host,
    port: endpoint.port,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinator: ApiHandler<typeof ApiKey.FindCoordinator> = {
  apiKey: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  handle(ctx, request) {
    const version = ctx.header.apiVersion;
    if (version >= 4) {
      if (request.coordinatorKeys.length > (ctx.broker.settings.maxGroupsPerRequest ?? DEFAULT_GROUPS_PER_REQUEST_MAX))
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
      return {
        throttleTimeMs: 0,
        coordinators: request.coordinatorKeys.map((key) => answer(ctx, key, request.keyType)),
      };
    }
    const one = answer(ctx, request.key, request.keyType);
    return {
      throttleTimeMs: 0,
      errorCode: one.errorCode,
      errorMessage: one.errorMessage,
      nodeId: one.nodeId,
      host: one.host,
      port: one.port,
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      nodeId: -1,
      host: '',
      port: -1,
      coordinators: (request?.coordinatorKeys ?? []).map((key: string) => ({
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode,
        errorMessage: null,
      })),
    };
  },
};
