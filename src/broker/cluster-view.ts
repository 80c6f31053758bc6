// The brokers of the cluster and the controller id as Metadata, DescribeCluster and
// Produce (KIP-951 leader endpoints) answer them, read from the metadata image. This node
// is always listed with its own advertised address, even before its registration is
// applied, so a client that bootstrapped here can reach it.

import type { Broker } from './broker';

export interface DescribedBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  fenced: boolean;
}

/** Brokers sorted by id: the unfenced ones, and the fenced ones too when asked. */
export function describeBrokers(broker: Broker, includeFenced = false): DescribedBroker[] {
  const image = broker.quorum.image;
  const brokers: DescribedBroker[] = [];
  for (const b of [...image.brokers.values()].sort((x, y) => x.brokerId - y.brokerId)) {
    if (b.fenced && !includeFenced && b.brokerId !== broker.nodeId) continue;
    brokers.push({
      nodeId: b.brokerId,
      host: b.endPoints[0]?.host ?? '',
      port: b.endPoints[0]?.port ?? 0,
      rack: b.rack,
      fenced: b.fenced,
    });
  }
  const self = brokers.find((b) => b.nodeId === broker.nodeId);
  if (self) {
    self.host = broker.settings.host;
    self.port = broker.settings.port;
    // This node answers, so it is not fenced from its own point of view.
    self.fenced = false;
  } else {
    brokers.push({
      nodeId: broker.nodeId,
      host: broker.settings.host,
      port: broker.settings.port,
      rack: broker.settings.rack,
      fenced: false,
    });
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

/** One broker's advertised endpoint, for KIP-951 leader hints; undefined when unknown. */
export function brokerEndpoint(broker: Broker, nodeId: number): DescribedBroker | undefined {
  return describeBrokers(broker, true).find((b) => b.nodeId === nodeId);
}
