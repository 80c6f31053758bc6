// DescribeCluster (key 60), versions 0-2 (KIP-700): the cluster id, a controller id and the
// brokers, what the Java admin's describeCluster and kafka-cluster / kafka-broker-api-versions
// ask. Answered from this node's metadata image like Metadata, with the same brokers and
// controller id (a live broker; with combined nodes, the metadata quorum's leader).
// v1: endpointType (KIP-919). This listener is a broker endpoint: a request for the
// controllers (2) is MISMATCHED_ENDPOINT_TYPE, an unknown type UNSUPPORTED_ENDPOINT_TYPE; at
// v0, which cannot carry those codes, both are INVALID_REQUEST, as Kafka answers them (Brook's
// controller port speaks Brook's own Raft protocol, so there is no controller endpoint to
// describe). v2: includeFencedBrokers lists fenced brokers too, each with isFenced (KIP-1073).
// Authorized operations, when asked for: those the principal may perform on the cluster
// when it may Describe it, else 0 (Kafka's AuthHelper); every cluster operation without an
// authorizer. The request itself needs no permission, as on Kafka.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { controllerIdOf, describeBrokers } from '../cluster-view';
import { authorizedOperations, clusterAuthorized } from '../authorize';
import { AclOperation, AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_RESOURCE_NAME, ResourceType } from '../../security/acl';

const ENDPOINT_BROKERS = 1;
const ENDPOINT_CONTROLLERS = 2;

function refused(errorCode: number, errorMessage: string | null) {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage,
    endpointType: ENDPOINT_BROKERS,
    clusterId: '',
    controllerId: -1,
    brokers: [],
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const describeCluster: ApiHandler<typeof ApiKey.DescribeCluster> = {
  apiKey: ApiKey.DescribeCluster,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    const { broker, header } = ctx;
    const version = header.apiVersion;
    const endpointType = request.endpointType ?? ENDPOINT_BROKERS;
    if (endpointType !== ENDPOINT_BROKERS && endpointType !== ENDPOINT_CONTROLLERS)
      return refused(
        version === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        `Unsupported endpoint type ${endpointType}`,
      );
    if (endpointType !== ENDPOINT_BROKERS)
      return refused(
        version === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER',
      );
    const includeFenced = version >= 2 && request.includeFencedBrokers === true;
    const all = describeBrokers(broker, ctx.connection.security.listenerName, includeFenced);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: ENDPOINT_BROKERS,
      clusterId: broker.clusterId,
      controllerId: controllerIdOf(broker, all),
      brokers: all.map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: b.fenced })),
      // Kafka refuses no one here: without Describe on the cluster the operations are 0.
      clusterAuthorizedOperations: !request.includeClusterAuthorizedOperations
        ? AUTHORIZED_OPERATIONS_OMITTED
        : clusterAuthorized(ctx, AclOperation.DESCRIBE)
          ? authorizedOperations(ctx, true, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
          : 0,
    };
  },
  errorResponse(_request, errorCode) {
    return refused(errorCode, null);
  },
};
