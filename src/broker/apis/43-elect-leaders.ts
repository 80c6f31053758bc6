// ElectLeaders (key 43), versions 0-2, as kafka-leader-election.sh and the Java admin's
// electLeaders use it: preferred (0) or unclean (1, v1+; v0 is always preferred) elections
// for the partitions named, or for every partition when the list is null (then only
// partitions that needed an election are answered). Decided at the active controller
// (Controller.electLeaders) and answered once the PartitionChange records commit; another
// node forwards the request there, like the other admin writes. Alter on the cluster is
// needed, checked before forwarding: otherwise CLUSTER_AUTHORIZATION_FAILED at the top (v1+)
// and on every partition named, as Kafka answers. An unknown election type is
// INVALID_REQUEST, and so is naming more than brook.max.partitions.per.request partitions.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';
import { ELECTION_PREFERRED, ELECTION_UNCLEAN } from '../../controller/controller';

export const electLeaders: ApiHandler<typeof ApiKey.ElectLeaders> = {
  apiKey: ApiKey.ElectLeaders,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, header.apiVersion);
    const electionType = header.apiVersion === 0 ? ELECTION_PREFERRED : request.electionType;
    if (electionType !== ELECTION_PREFERRED && electionType !== ELECTION_UNCLEAN)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, header.apiVersion);
    if (request.topicPartitions !== null) {
      let count = 0;
      for (const topic of request.topicPartitions) count += topic.partitions.length;
      if (count > broker.settings.maxPartitionsPerRequest)
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, header.apiVersion);
    }
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, header.apiVersion, request);
      return forwarded ?? this.errorResponse(request, ErrorCode.NOT_CONTROLLER, header.apiVersion);
    }
    const results = await broker.quorum.electLeaders(electionType, request.topicPartitions);
    for (const topic of results)
      for (const p of topic.partitionResult)
        if (p.errorCode === ErrorCode.NONE)
          broker.logger.info('leader election', {
            topic: topic.topic,
            partition: p.partitionId,
            electionType: electionType === ELECTION_PREFERRED ? 'preferred' : 'unclean',
          });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      replicaElectionResults: (request?.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: null })),
      })),
    };
  },
};
