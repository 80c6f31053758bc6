// `brook cluster status`: the metadata quorum as a node sees it (leader, term, commit
// index, each voter's replicated index when asked on the leader) and the brokers and
// topics from the Kafka side. Asks the controller port for the quorum and the Kafka port
// for the brokers.

import { KafkaConnection } from '../client/connection';
import { parseHostPort } from '../config/config';
import { parseArgs, UsageError } from './args';
import { CliError, connectBootstrap, table } from './admin-client';

export const CLUSTER_HELP = `Usage:
  brook cluster status [--bootstrap HOST:PORT] [--controller HOST:PORT] [--json]

Shows the brokers and topic count (from --bootstrap, default 127.0.0.1:9092) and the
metadata quorum (from --controller, default 127.0.0.1:9093): leader, term, commit index
and, when the node asked is the leader, each voter's replicated index and lag.
`;

export async function clusterCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    process.stdout.write(CLUSTER_HELP);
    return verb === undefined ? 2 : 0;
  }
  if (verb !== 'status') throw new UsageError(`unknown cluster verb "${verb}" (status)`);
  const { positionals, flags } = parseArgs(rest, ['bootstrap', 'controller'], ['json', 'help']);
  if (flags.help) {
    process.stdout.write(CLUSTER_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const bootstrap = flags.bootstrap ?? '127.0.0.1:9092';
  const controllerAddress = flags.controller ?? '127.0.0.1:9093';
  const { host, port } = parseHostPort(controllerAddress, '--controller');

  const kafka = await connectBootstrap(bootstrap);
  let metadata;
  try {
    metadata = await kafka.request(3, 1, { topics: null });
  } finally {
    kafka.close();
  }
  const controller = new KafkaConnection({ host, port, clientId: 'brook-cli', requestTimeoutMs: 5000, connectTimeoutMs: 5000 });
  try {
    await controller.connect();
  } catch (error) {
    throw new CliError(`cannot reach the controller port at ${controllerAddress}: ${(error as Error).message}`);
  }
  let quorum;
  try {
    quorum = await controller.request(1004, 0, {});
  } finally {
    controller.close();
  }
  const status = {
    quorum: {
      leaderId: quorum.leaderId,
      term: quorum.term,
      commitIndex: quorum.commitIndex,
      voters: quorum.voters.map((v: { nodeId: number; matchIndex: number }) => ({ nodeId: v.nodeId, matchIndex: v.matchIndex, lag: Math.max(0, quorum.commitIndex - v.matchIndex) })),
    },
    brokers: metadata.brokers.map((b: { nodeId: number; host: string; port: number; rack: string | null }) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    controllerId: metadata.controllerId,
    topics: metadata.topics.length,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  let text = `metadata quorum: leader ${status.quorum.leaderId}, term ${status.quorum.term}, commit index ${status.quorum.commitIndex}\n`;
  if (status.quorum.voters.length > 0) text += table(['VOTER', 'MATCH INDEX', 'LAG'], status.quorum.voters.map((v: { nodeId: number; matchIndex: number; lag: number }) => [v.nodeId, v.matchIndex, v.lag]));
  text += `\nbrokers (controller ${status.controllerId}), ${status.topics} topic(s):\n`;
  text += table(['BROKER', 'HOST', 'PORT', 'RACK'], status.brokers.map((b: { nodeId: number; host: string; port: number; rack: string | null }) => [b.nodeId, b.host, b.port, b.rack ?? '-']));
  process.stdout.write(text);
  return 0;
}
