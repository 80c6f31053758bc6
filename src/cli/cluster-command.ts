// `brook cluster status`: the metadata quorum as a node sees it (leader, term, commit
// index, each voter's replicated index when asked on the leader) and the brokers and
// topics from the Kafka side. Asks the controller port for the quorum and the Kafka port
// for the brokers. `brook cluster add-voter|remove-voter` change the voter set, one voter
// at a time, through whichever node is asked (a follower's answer names the leader, which
// is then asked). `brook cluster unregister-broker` removes a stopped broker's registration
// (UnregisterBroker, as kafka-cluster.sh unregister).

import { KafkaConnection } from '../net/kafka-connection';
import { isSecurityKey, parseHostPort, readClusterSecret, readConfigFile } from '../config/config';
import { parseListenerConfig } from '../config/listeners';
import { controllerListenerTlsFrom } from '../controller/controller-listener-tls';
import { ControllerAuth, connectController } from '../raft/handshake';
import { parseArgs, UsageError } from './args';
import { CliError, connectBootstrap, nonNegativeInteger, table, withAdmin } from './admin-client';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const CLUSTER_HELP = `Usage:
  brook cluster status [--bootstrap HOST:PORT] [--controller HOST:PORT] [--config FILE] [--json]
  brook cluster add-voter --node-id N [--controller HOST:PORT] [--config FILE] [--json]
  brook cluster remove-voter --node-id N [--controller HOST:PORT] [--config FILE] [--json]
  brook cluster unregister-broker --id N [--bootstrap HOST:PORT]

status shows the brokers and topic count (from --bootstrap, default 127.0.0.1:9092) and
the metadata quorum (from --controller, default 127.0.0.1:9093): leader, term, commit
index and, when the node asked is the leader, each voter's and observer's replicated
index and lag.

add-voter promotes a running node that is not a voter yet (started with --voters naming
the current voters, it registers and follows the metadata log as an observer); the leader
waits for it to catch up, then commits the new voter set. remove-voter demotes a voter;
it keeps serving as a broker and follows the log as an observer. One change at a time.

unregister-broker removes a decommissioned broker's registration (it leaves every ISR and
no longer shows, fenced, in the broker list). Stop the broker first: a running one
registers again at its next heartbeat.

--config names a node's config file; its brook.controller.cluster.secret (or .file)
authenticates the CLI on the controller port, which a cluster with a secret requires. On
a TLS controller listener its key store is the CLI's certificate (its principal must be in
super.users) and its trust store checks the node's.

${CONNECTION_HELP}`;

/**
 * How the CLI authenticates on the controller port, from a node's config given as --config
 * (a tool authenticates as node -1): the cluster secret, and on a TLS controller listener
 * that listener's key store as the client certificate (its principal must be in
 * super.users) and its trust store.
 */
function authFrom(config: string | undefined): ControllerAuth | null {
  if (!config) return null;
  const keys = readConfigFile(config);
  const secret = readClusterSecret(keys);
  const securityKeys = Object.fromEntries(Object.entries(keys).filter(([key]) => isSecurityKey(key)));
  const tls = controllerListenerTlsFrom({ listeners: parseListenerConfig(securityKeys), securityKeys });
  if (!secret && !tls) return null;
  return {
    secret,
    nodeId: -1,
    certificate: tls !== null,
    tls: tls?.material ?? null,
    serverPrincipals: tls?.clusterPrincipals ?? null,
  };
}

async function openController(
  address: string,
  auth: ControllerAuth | null,
  timeoutMs: number,
): Promise<KafkaConnection> {
  const { host, port } = parseHostPort(address, '--controller');
  try {
    return await connectController(
      { host, port, clientId: 'brook-cli', requestTimeoutMs: timeoutMs, connectTimeoutMs: 5000 },
      auth,
      { clusterId: null, nodeId: null },
    );
  } catch (error) {
    throw new CliError(`cannot reach the controller port at ${address}: ${(error as Error).message}`);
  }
}

async function controllerRequest<K extends ApiKey>(
  address: string,
  auth: ControllerAuth | null,
  apiKey: K,
  body: RequestInput<K>,
): Promise<Response<K>> {
  const connection = await openController(address, auth, 30_000);
  try {
    return await connection
      .request(apiKey, 0, body)
      .catch((error: Error) => refusedWithoutSecret(address, auth, error));
  } finally {
    connection.close();
  }
}

/** A controller port that closes on a request made without the handshake asks for the secret. */
function refusedWithoutSecret(address: string, auth: ControllerAuth | null, error: Error): never {
  if (auth === null && /closed/.test(error.message))
    throw new CliError(
      `the controller port at ${address} closed the connection: a cluster with a secret answers only after authentication; pass --config with a file that sets brook.controller.cluster.secret (or .file)`,
    );
  throw error;
}

async function changeVoters(verb: 'add-voter' | 'remove-voter', rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(rest, ['controller', 'node-id', 'config'], ['json', 'help']);
  if (flags.help) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const nodeId = Number(flags['node-id']);
  if (flags['node-id'] === undefined || !Number.isInteger(nodeId) || nodeId < 0)
    throw new UsageError(
      `--node-id: expected a node id (a non-negative integer), got ${JSON.stringify(flags['node-id'] ?? null)}`,
    );
  let address = flags.controller ?? '127.0.0.1:9093';
  // The cluster id comes from the node itself (RaftDescribeQuorum does not need it).
  const apiKey = verb === 'add-voter' ? ApiKey.RaftAddVoter : ApiKey.RaftRemoveVoter;
  const auth = authFrom(flags.config);
  let answer;
  for (let hop = 0; ; hop++) {
    const clusterId = await clusterIdAt(address, auth);
    answer = await controllerRequest(address, auth, apiKey, { clusterId, voterId: nodeId });
    if (answer.errorCode === 41 && answer.leaderHost && answer.leaderPort > 0 && hop < 2) {
      address = `${answer.leaderHost}:${answer.leaderPort}`;
      continue;
    }
    break;
  }
  if (flags.json)
    process.stdout.write(
      `${JSON.stringify({ errorCode: answer.errorCode, message: answer.errorMessage, leaderId: answer.leaderId }, null, 2)}\n`,
    );
  if (answer.errorCode !== 0) {
    if (!flags.json)
      process.stderr.write(`brook cluster ${verb}: ${answer.errorMessage ?? `error ${answer.errorCode}`}\n`);
    return 1;
  }
  if (!flags.json) process.stdout.write(`${answer.errorMessage ?? 'done'}\n`);
  return 0;
}

/** The cluster id a node serves (RaftDescribeQuorum answers it). */
async function clusterIdAt(address: string, auth: ControllerAuth | null): Promise<string> {
  const answer = await controllerRequest(address, auth, ApiKey.RaftDescribeQuorum, {});
  return answer.clusterId;
}

async function unregisterBroker(rest: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(rest, ['bootstrap', 'id', ...CONNECTION_FLAGS], ['help']);
  if (flags.help) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const id = nonNegativeInteger(flags, 'id', 'a broker id');
  await withAdmin(flags.bootstrap ?? '127.0.0.1:9092', clientSecurity(flags), (admin) => admin.unregisterBroker(id));
  process.stdout.write(`broker ${id} unregistered\n`);
  return 0;
}

export async function clusterCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    // Without a verb the help is a usage error: it goes to stderr, as other usage errors do.
    (verb === undefined ? process.stderr : process.stdout).write(CLUSTER_HELP);
    return verb === undefined ? 2 : 0;
  }
  if (verb === 'add-voter' || verb === 'remove-voter') return changeVoters(verb, rest);
  if (verb === 'unregister-broker') return unregisterBroker(rest);
  if (verb !== 'status')
    throw new UsageError(`unknown cluster verb "${verb}" (status, add-voter, remove-voter, unregister-broker)`);
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'controller', 'config', ...CONNECTION_FLAGS],
    ['json', 'help'],
  );
  if (flags.help) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const bootstrap = flags.bootstrap ?? '127.0.0.1:9092';
  const controllerAddress = flags.controller ?? '127.0.0.1:9093';
  parseHostPort(controllerAddress, '--controller');
  const auth = authFrom(flags.config);

  const kafka = await connectBootstrap(bootstrap, undefined, clientSecurity(flags));
  let metadata;
  try {
    metadata = await kafka.request(ApiKey.Metadata, 1, { topics: null });
  } finally {
    kafka.close();
  }
  const controller = await openController(controllerAddress, auth, 5000);
  let quorum;
  try {
    quorum = await controller
      .request(ApiKey.RaftDescribeQuorum, 0, {})
      .catch((error: Error) => refusedWithoutSecret(controllerAddress, auth, error));
  } finally {
    controller.close();
  }
  const status = {
    quorum: {
      leaderId: quorum.leaderId,
      term: quorum.term,
      commitIndex: quorum.commitIndex,
      voters: quorum.voters.map((v: { nodeId: number; matchIndex: number }) => ({
        nodeId: v.nodeId,
        matchIndex: v.matchIndex,
        lag: Math.max(0, quorum.commitIndex - v.matchIndex),
      })),
      observers: quorum.observers.map((v: { nodeId: number; matchIndex: number }) => ({
        nodeId: v.nodeId,
        matchIndex: v.matchIndex,
        lag: Math.max(0, quorum.commitIndex - v.matchIndex),
      })),
    },
    brokers: metadata.brokers.map((b: { nodeId: number; host: string; port: number; rack: string | null }) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
    })),
    controllerId: metadata.controllerId,
    topics: metadata.topics.length,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  let text = `metadata quorum: leader ${status.quorum.leaderId}, term ${status.quorum.term}, commit index ${status.quorum.commitIndex}\n`;
  const rows = [
    ...status.quorum.voters.map((v: { nodeId: number; matchIndex: number; lag: number }) => [
      v.nodeId,
      'voter',
      v.matchIndex,
      v.lag,
    ]),
    ...status.quorum.observers.map((v: { nodeId: number; matchIndex: number; lag: number }) => [
      v.nodeId,
      'observer',
      v.matchIndex,
      v.lag,
    ]),
  ];
  if (rows.length > 0) text += table(['NODE', 'ROLE', 'MATCH INDEX', 'LAG'], rows);
  text += `\nbrokers (controller ${status.controllerId}), ${status.topics} topic(s):\n`;
  text += table(
    ['BROKER', 'HOST', 'PORT', 'RACK'],
    status.brokers.map((b: { nodeId: number; host: string; port: number; rack: string | null }) => [
      b.nodeId,
      b.host,
      b.port,
      b.rack ?? '-',
    ]),
  );
  process.stdout.write(text);
  return 0;
}
