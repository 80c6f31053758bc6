// UnregisterBroker (key 64), version 0 (KIP-631, kafka-cluster.sh unregister): removes a
// broker's registration at the active controller (Controller.unregisterBroker), after it has
// left every ISR and handed over its leaderships, so that a decommissioned broker no longer
// appears, fenced, in DescribeCluster. Like Kafka, the controller does not check that the
// broker is stopped: a running one registers again at its next heartbeat, so operators
// unregister brokers they have shut down. BROKER_ID_NOT_REGISTERED for an id not
// registered. Forwarded to the active controller; Alter on the cluster is needed, checked
// before forwarding (CLUSTER_AUTHORIZATION_FAILED).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler } from '../api-handler';
import { clusterAuthorized } from '../authorize';
import { AclOperation } from '../../security/acl';

export const unregisterBroker: ApiHandler<typeof ApiKey.UnregisterBroker> = {
  apiKey: ApiKey.UnregisterBroker,
  name: 'UnregisterBroker',
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (!clusterAuthorized(ctx, AclOperation.ALTER))
      return this.errorResponse(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 0);
    if (!broker.quorum.isLeader) {
      const forwarded = await broker.forwardToController(this.apiKey, 0, request);
      return forwarded ?? this.errorResponse(request, ErrorCode.NOT_CONTROLLER, 0);
    }
    const result = await broker.quorum.unregisterBroker(request.brokerId);
    if (result.errorCode === ErrorCode.NONE) broker.logger.info('broker unregistered', { brokerId: request.brokerId });
    return { throttleTimeMs: 0, ...result };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null };
  },
};
