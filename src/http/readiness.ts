// Whether this node is ready for traffic (/ready): registered with the controller and
// unfenced, its metadata image caught up with the quorum, its Kafka listener bound, and not
// shutting down. The
// reason says which condition is missing.

import type { Broker } from '../broker/broker';

export interface Readiness {
  ready: boolean;
  reason: string;
}

export function readiness(broker: Broker, kafkaListening: boolean): Readiness {
  if (broker.shuttingDown) return { ready: false, reason: 'shutting down' };
  const quorum = broker.quorum.describe();
  if (quorum.leaderId < 0) return { ready: false, reason: 'no metadata quorum leader known yet' };
  if (!quorum.caughtUp)
    return {
      ready: false,
      reason: `metadata not caught up (applied ${quorum.appliedIndex} of ${quorum.commitIndex} committed entries)`,
    };
  if (!broker.lifecycle) return { ready: false, reason: 'not registered with the controller yet' };
  if (broker.lifecycle.fenced) return { ready: false, reason: 'registered but still fenced by the controller' };
  if (!kafkaListening) return { ready: false, reason: 'the Kafka listener is not bound yet' };
  return { ready: true, reason: 'registered, unfenced and caught up on metadata' };
}
