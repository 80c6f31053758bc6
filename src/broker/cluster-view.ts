// The brokers of the cluster and the controller id as Metadata, DescribeCluster and
// Produce (KIP-951 leader endpoints) answer them, read from the metadata image. A client is
// told each broker's endpoint on the listener its own connection came in on, and a broker
// without a listener of that name is left out (Kafka's getAliveBrokerNodes). This node is
// always listed with its own advertised address, even before its registration is applied,
// so a client that bootstrapped here can reach it.

import type { Broker } from './broker';

export interface DescribedBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  fenced: boolean;
}

/**
 * Brokers sorted by id with their endpoints on listener `listenerName`: the unfenced ones,
 * and the fenced ones too when asked.
 */
export function describeBrokers(broker: Broker, listenerName: string, includeFenced = false): DescribedBroker[] {
  const image = broker.quorum.image;
  const brokers: DescribedBroker[] = [];
  for (const b of [...image.brokers.values()].sort((x, y) => x.brokerId - y.brokerId)) {
    if (b.brokerId === broker.nodeId) continue;
    if (b.fenced && !includeFenced) continue;
    const endpoint = b.endPoints.find((e) => e.name === listenerName);
    if (!endpoint) continue;
    brokers.push({ nodeId: b.brokerId, host: endpoint.host, port: endpoint.port, rack: b.rack, fenced: b.fenced });
  }
  const own = broker.advertisedListeners().find((l) => l.name === listenerName);
  if (own) {
    // This node answers, so it is not fenced from its own point of view.
    const rack = image.brokers.get(broker.nodeId)?.rack ?? broker.settings.rack;
    brokers.push({ nodeId: broker.nodeId, host: own.host, port: own.port, rack, fenced: false });
    brokers.sort((a, b) => a.nodeId - b.nodeId);
  }
  return brokers;
}

/**
 * The controller id clients are told: kafkajs sends admin requests to it, so it names a
 * live broker, preferring the node that leads the metadata quorum (it answers admin writes
 * without forwarding), else this node.
 */
export function controllerIdOf(broker: Broker, live: DescribedBroker[]): number {
  const leader = broker.quorum.leaderId;
  return live.some((b) => b.nodeId === leader && !b.fenced) ? leader : broker.nodeId;
}

/** One broker's endpoint on `listenerName`, for KIP-951 leader hints; undefined when unknown. */
export function brokerEndpoint(broker: Broker, nodeId: number, listenerName: string): DescribedBroker | undefined {
  return describeBrokers(broker, listenerName, true).find((b) => b.nodeId === nodeId);
}
