// The `brook` command line: dispatches verbs and turns usage and config errors into one
// clear line on stderr with exit code 2 (1 for runtime failures), never a stack trace.

import { ConfigError } from '../config/config';
import { UsageError } from './args';
import { CliError } from './admin-client';
import { GROUPS_HELP, groupsCommand } from './groups-command';
import { CLUSTER_HELP, clusterCommand } from './cluster-command';
import { FRAME_HELP, frameCommand } from './frame-command';
import { PARTITIONS_HELP, partitionsCommand } from './partitions-command';
import { PRODUCE_HELP, produceCommand } from './produce-command';
import { CONSUME_HELP, consumeCommand } from './consume-command';
import { BENCH_HELP, benchCommand } from './bench-command';
import { CERTS_HELP, certsCommand } from './certs-command';
import { SERVER_HELP, serverCommand } from './server-command';
import { TOPICS_HELP, topicsCommand } from './topics-command';
import { USERS_HELP, usersCommand } from './users-command';
import { ACLS_HELP, aclsCommand } from './acls-command';
import { QUOTAS_HELP, quotasCommand } from './quotas-command';
import { CONFIGS_HELP, configsCommand } from './configs-command';
import { PRODUCERS_HELP, producersCommand } from './producers-command';
import { LOG_DIRS_HELP, logDirsCommand } from './log-dirs-command';

const HELP = `Usage: brook <command> [options]

Commands:
  server            run a Brook node (see: brook server --help)
  frame encode      build a Kafka protocol frame from JSON (see: brook frame --help)
  frame decode      print a Kafka protocol frame from stdin as JSON
  topics            create, list, describe (offsets, configs), delete, alter-config topics
  groups            list, describe (with lag), reset-offsets, delete consumer groups
  cluster status    the metadata quorum (leader, term, commit index, voter lag) and brokers
  log-dirs          each broker's log directory: volume usage, partition sizes and lag
  users             list, set (password from stdin or prompt), delete SCRAM users
  acls              list, add, remove ACLs (kafka-acls' flags; see: brook acls --help)
  quotas            describe, alter client quotas (users, client ids, ips)
  configs           describe, alter broker configs (one broker, or the cluster-wide default)
  partitions        reassign replicas between brokers, list reassignments, elect leaders
  producers         the active idempotent producers of a topic's partitions
  produce           lines from stdin or a file to a topic (see: brook produce --help)
  consume           records of a topic to stdout as text or JSON (see: brook consume --help)
  bench             produce or consume throughput with the bundled client (see: brook bench --help)
  certs             a development CA, broker and client certificates for TLS (see: brook certs --help)
  help              show this help
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'server':
        return await serverCommand(rest);
      case 'frame':
        return await frameCommand(rest);
      case 'topics':
        return await topicsCommand(rest);
      case 'groups':
        return await groupsCommand(rest);
      case 'cluster':
        return await clusterCommand(rest);
      case 'partitions':
        return await partitionsCommand(rest);
      case 'users':
        return await usersCommand(rest);
      case 'acls':
        return await aclsCommand(rest);
      case 'quotas':
        return await quotasCommand(rest);
      case 'configs':
        return await configsCommand(rest);
      case 'producers':
        return await producersCommand(rest);
      case 'log-dirs':
        return await logDirsCommand(rest);
      case 'produce':
        return await produceCommand(rest);
      case 'consume':
        return await consumeCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      case 'certs':
        return await certsCommand(rest);
      case undefined:
        process.stderr.write(HELP);
        return 2;
      case 'help':
      case '--help':
      case '-h':
        if (rest[0] === 'server') process.stdout.write(SERVER_HELP);
        else if (rest[0] === 'frame') process.stdout.write(FRAME_HELP);
        else if (rest[0] === 'topics') process.stdout.write(TOPICS_HELP);
        else if (rest[0] === 'groups') process.stdout.write(GROUPS_HELP);
        else if (rest[0] === 'cluster') process.stdout.write(CLUSTER_HELP);
        else if (rest[0] === 'partitions') process.stdout.write(PARTITIONS_HELP);
        else if (rest[0] === 'users') process.stdout.write(USERS_HELP);
        else if (rest[0] === 'acls') process.stdout.write(ACLS_HELP);
        else if (rest[0] === 'quotas') process.stdout.write(QUOTAS_HELP);
        else if (rest[0] === 'configs') process.stdout.write(CONFIGS_HELP);
        else if (rest[0] === 'producers') process.stdout.write(PRODUCERS_HELP);
        else if (rest[0] === 'log-dirs') process.stdout.write(LOG_DIRS_HELP);
        else if (rest[0] === 'produce') process.stdout.write(PRODUCE_HELP);
        else if (rest[0] === 'consume') process.stdout.write(CONSUME_HELP);
        else if (rest[0] === 'bench') process.stdout.write(BENCH_HELP);
        else if (rest[0] === 'certs') process.stdout.write(CERTS_HELP);
        else process.stdout.write(HELP);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}" (try: brook help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`brook: ${error.message}\n`);
      return 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`brook: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`brook: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}
