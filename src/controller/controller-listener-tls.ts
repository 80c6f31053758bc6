// The controller listener over TLS, and who may use it. When the first of
// controller.listener.names maps to SSL or SASL_SSL, the controller port takes only peers
// whose certificate verifies against the listener's trust store (ssl.client.auth=required)
// and whose principal (ssl.principal.mapping.rules applied) is a cluster principal: Kafka
// authorizes controller traffic by CLUSTER_ACTION, which its brokers hold as super.users,
// so until Brook has ACLs the cluster principals are super.users. The listener's key store
// is also this node's client certificate on other nodes' controller ports.

import { BrokerConfig, controllerListenerTls, Voter } from '../config/config';
import { resolvedListenerKeys } from '../config/listeners';
import { Logger } from '../logger';
import { parseClusterPrincipals } from '../raft/handshake';
import { parseTlsSettings, TlsMaterial } from '../security/tls';

export interface ControllerListenerTls {
  /** The controller listener's name (the first of controller.listener.names). */
  listenerName: string;
  /** The listener's key store, trust store and principal mapping. */
  material: TlsMaterial;
  /** ssl.client.auth of the controller listener; it must be "required". */
  clientAuth: string;
  /** super.users: the principals that are cluster members (Kafka's CLUSTER_ACTION holders). */
  clusterPrincipals: ReadonlySet<string>;
}

/**
 * The controller listener's TLS from the broker's configuration, or null when the
 * controller listener is PLAINTEXT or SASL_PLAINTEXT. Throws ConfigError on bad TLS keys
 * (one line naming the listener).
 */
export function controllerListenerTlsFrom(
  config: Pick<BrokerConfig, 'listeners' | 'securityKeys'>,
  logger?: Logger,
): ControllerListenerTls | null {
  const keys = config.securityKeys;
  const listener = controllerListenerTls(config.listeners, keys);
  if (!listener) return null;
  const what = `controller listener ${listener.name}`;
  const settings = parseTlsSettings(resolvedListenerKeys(keys, listener.name), what);
  return {
    listenerName: listener.name,
    material: new TlsMaterial(settings, logger),
    clientAuth: settings.clientAuth,
    clusterPrincipals: parseClusterPrincipals(keys['super.users']),
  };
}

/**
 * Why this controller port configuration cannot start, or null: a TLS controller listener
 * must require client certificates and name at least one cluster principal; any other node
 * that is not the only voter needs the cluster secret or such a listener.
 */
export function controllerSecurityProblem(options: {
  nodeId: number;
  voters: readonly Pick<Voter, 'id'>[];
  clusterSecret?: Buffer | null;
  controllerTls?: Pick<ControllerListenerTls, 'clientAuth' | 'clusterPrincipals'> | null;
}): string | null {
  const tls = options.controllerTls;
  if (tls) {
    if (tls.clientAuth !== 'required')
      return `the controller listener uses TLS, so ssl.client.auth must be "required" on it (it is "${tls.clientAuth}"): only cluster members with a certificate may use the controller port`;
    if (tls.clusterPrincipals.size === 0)
      return 'the controller listener uses TLS: super.users must name the principals of the cluster nodes (for example User:CN=broker1), which alone may use the controller port';
    return null;
  }
  const voterIds = options.voters.map((v) => v.id);
  if (!options.clusterSecret && !(voterIds.length === 1 && voterIds[0] === options.nodeId))
    return 'brook.controller.cluster.secret (or brook.controller.cluster.secret.file), or a TLS controller listener with ssl.client.auth=required, is required when this node is not the only voter';
  return null;
}
