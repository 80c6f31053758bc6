// `brook groups list|describe|reset-offsets|delete`: consumer groups from the command
// line, with lag per partition (committed offset against the high watermark). Tables by
// default, --json for scripts. Exit codes: 0 done, 1 broker or Kafka error, 2 bad usage.
// Each broker coordinates its own share of the groups, so list asks every broker, the
// other verbs go to the group's coordinator, and log end offsets come from each
// partition's leader.

import { decodeAssignmentBytes } from '../../protocol/consumer-protocol';
import { Admin } from '../client/admin';
import { BrokerConnection, Cluster } from '../client/cluster';
import { parseHostPort } from '../config/config';
import { parseArgs, UsageError } from './args';
import { check, cliError, CliError, table } from './admin-client';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { clientSecurity, CONNECTION_FLAGS, CONNECTION_HELP } from './connection-flags';

export const GROUPS_HELP = `Usage:
  brook groups list [--bootstrap HOST:PORT] [--json]
  brook groups describe <group> [--bootstrap HOST:PORT] [--json]
  brook groups reset-offsets <group> --topic TOPIC (--to-earliest | --to-latest | --to-offset N | --to-datetime ISO8601)
                             [--partitions 0,1,...] [--execute] [--bootstrap HOST:PORT] [--json]
  brook groups delete <group> [--bootstrap HOST:PORT] [--json]

describe shows each partition's committed offset, log end (high watermark) and lag, and
which member owns it. reset-offsets needs the group to be empty (no live members); it
prints the plan and changes nothing unless --execute is given. --bootstrap defaults to
127.0.0.1:9092.

${CONNECTION_HELP}`;

interface Lag {
  topic: string;
  partition: number;
  committed: number;
  end: number;
  lag: number | null;
  owner: string;
}

/** A member's assigned partitions; an assignment that cannot be read counts as none. */
function assignedPartitions(assignment: Buffer): { topic: string; partition: number }[] {
  try {
    return [...decodeAssignmentBytes(assignment)].flatMap(([topic, partitions]) =>
      partitions.map((partition) => ({ topic, partition })),
    );
  } catch {
    return [];
  }
}

/** ListOffsets at each partition's leader; partitions without a leader or with an error are left out. */
async function endOffsets(
  cluster: Cluster,
  wanted: Map<string, number[]>,
  timestamp = -1,
): Promise<Map<string, number>> {
  const queries = [...wanted].flatMap(([topic, partitions]) =>
    partitions.map((partition) => ({ topic, partition, timestamp })),
  );
  const listed = await cluster.listOffsets(queries);
  const unreachable = listed.find((l) => l.cause !== undefined);
  if (unreachable) throw unreachable.cause;
  return new Map(listed.filter((l) => l.errorCode === 0).map((l) => [`${l.topic}:${l.partition}`, l.offset]));
}

/**
 * Requests at the version negotiated with the broker (ApiVersions, in the client library),
 * at most `newest`: the version the code here was written for.
 */
interface Versioned {
  request<K extends ApiKey>(apiKey: K, newest: number, body: RequestInput<K>): Promise<Response<K>>;
}

const versioned = (broker: BrokerConnection): Versioned => ({
  request: (apiKey, newest, body) => broker.request(apiKey, body, { cap: newest }),
});

async function describeGroup(cluster: Cluster, connection: Versioned, groupId: string) {
  const described = await connection.request(ApiKey.DescribeGroups, 4, {
    groups: [groupId],
    includeAuthorizedOperations: false,
  });
  const group = described.groups[0];
  check(group.errorCode, `describe ${groupId}`);
  const offsets = await connection.request(ApiKey.OffsetFetch, 4, { groupId, topics: null });
  check(offsets.errorCode, `offsets of ${groupId}`);
  const owners = new Map<string, string>();
  for (const member of group.members)
    for (const { topic, partition } of assignedPartitions(member.memberAssignment))
      owners.set(`${topic}:${partition}`, member.memberId);
  const wanted = new Map<string, number[]>();
  const add = (topic: string, partition: number) => {
    if (!wanted.has(topic)) wanted.set(topic, []);
    if (!wanted.get(topic)!.includes(partition)) wanted.get(topic)!.push(partition);
  };
  for (const topic of offsets.topics) for (const p of topic.partitions) add(topic.name, p.partitionIndex);
  for (const key of owners.keys()) add(key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1)));
  const ends = await endOffsets(cluster, wanted);
  const committed = new Map<string, number>();
  for (const topic of offsets.topics)
    for (const p of topic.partitions) committed.set(`${topic.name}:${p.partitionIndex}`, p.committedOffset);
  const lags: Lag[] = [];
  for (const [topic, partitions] of wanted) {
    for (const partition of partitions.sort((a, b) => a - b)) {
      const key = `${topic}:${partition}`;
      const c = committed.get(key) ?? -1;
      const end = ends.get(key) ?? -1;
      lags.push({
        topic,
        partition,
        committed: c,
        end,
        lag: c >= 0 && end >= 0 ? Math.max(0, end - c) : null,
        owner: owners.get(key) ?? '',
      });
    }
  }
  return {
    groupId,
    state: group.groupState,
    protocolType: group.protocolType,
    protocol: group.protocolData,
    members: group.members.map(
      (m: { memberId: string; clientId: string; clientHost: string; groupInstanceId: string | null }) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        groupInstanceId: m.groupInstanceId,
      }),
    ),
    partitions: lags,
    totalLag: lags.reduce((sum, l) => sum + (l.lag ?? 0), 0),
  };
}

export async function groupsCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === 'help') {
    // Without a verb the help is a usage error: it goes to stderr, as other usage errors do.
    (verb === undefined ? process.stderr : process.stdout).write(GROUPS_HELP);
    return verb === undefined ? 2 : 0;
  }
  const { positionals, flags } = parseArgs(
    rest,
    ['bootstrap', 'topic', 'to-offset', 'to-datetime', 'partitions', ...CONNECTION_FLAGS],
    ['json', 'to-earliest', 'to-latest', 'execute', 'help'],
  );
  if (flags.help) {
    process.stdout.write(GROUPS_HELP);
    return 0;
  }
  const bootstrap = flags.bootstrap ?? '127.0.0.1:9092';
  const json = flags.json === 'true';
  const print = (value: unknown, text: string) =>
    process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
  const needGroup = () => {
    if (positionals.length !== 1) throw new UsageError(`groups ${verb} needs exactly one <group>`);
    return positionals[0];
  };
  if (!['list', 'describe', 'reset-offsets', 'delete'].includes(verb))
    throw new UsageError(`unknown groups verb "${verb}" (list, describe, reset-offsets, delete)`);
  if (verb === 'list' && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const groupId = verb === 'list' ? '' : needGroup();
  if (verb === 'reset-offsets') {
    const targets = ['to-earliest', 'to-latest', 'to-offset', 'to-datetime'].filter((t) => flags[t] !== undefined);
    if (targets.length !== 1)
      throw new UsageError(
        'reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime ISO8601',
      );
    if (!flags.topic) throw new UsageError('reset-offsets needs --topic TOPIC');
    if (flags['to-offset'] !== undefined && !/^\d+$/.test(flags['to-offset']))
      throw new UsageError('--to-offset must be a non-negative integer');
    if (flags['to-datetime'] !== undefined && Number.isNaN(Date.parse(flags['to-datetime'])))
      throw new UsageError('--to-datetime must be a date such as 2026-01-31T12:00:00Z');
    if (flags.partitions !== undefined && !/^\d+(,\d+)*$/.test(flags.partitions))
      throw new UsageError('--partitions must be a comma-separated list of partition numbers');
  }

  parseHostPort(bootstrap, '--bootstrap');
  const admin = new Admin({
    bootstrap: [bootstrap],
    clientId: 'brook-cli',
    security: clientSecurity(flags),
    requestTimeoutMs: 10000,
    connectTimeoutMs: 10000,
  });
  const cluster = admin.cluster;
  try {
    await cluster.refreshMetadata([]);
  } catch (error) {
    admin.close();
    throw new CliError(`cannot reach a broker at ${bootstrap}: ${(error as Error).message}`);
  }
  try {
    if (verb === 'list') {
      const listed = await admin.listGroups();
      const groups = listed
        .map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType }))
        .sort((x, y) => (x.group < y.group ? -1 : x.group > y.group ? 1 : 0));
      print(
        groups,
        groups.length === 0
          ? 'no groups\n'
          : table(
              ['GROUP', 'STATE', 'PROTOCOL TYPE'],
              groups.map((g: { group: string; state: string; protocolType: string }) => [
                g.group,
                g.state,
                g.protocolType,
              ]),
            ),
      );
      return 0;
    }
    const connection = versioned(await cluster.coordinator(groupId));
    if (verb === 'describe') {
      const d = await describeGroup(cluster, connection, groupId);
      if (d.state === 'Dead') throw new CliError(`group ${groupId} does not exist`);
      const text =
        `group ${d.groupId}: ${d.state}, ${d.members.length} member(s), protocol ${d.protocolType || '-'}/${d.protocol || '-'}, total lag ${d.totalLag}\n\n` +
        table(
          ['TOPIC', 'PARTITION', 'COMMITTED', 'LOG END', 'LAG', 'OWNER'],
          d.partitions.map((l) => [l.topic, l.partition, l.committed, l.end, l.lag ?? '-', l.owner || '-']),
        );
      print(d, text);
      return 0;
    }
    if (verb === 'delete') {
      await admin.deleteGroups([groupId]);
      print({ deleted: groupId }, `deleted group ${groupId}\n`);
      return 0;
    }
    // reset-offsets
    const described = await connection.request(ApiKey.DescribeGroups, 4, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    const state = described.groups[0].groupState;
    if (state !== 'Empty' && state !== 'Dead')
      throw new CliError(
        `group ${groupId} is ${state} with ${described.groups[0].members.length} live member(s); stop its consumers first`,
      );
    const topic = flags.topic!;
    const [topicInfo] = await cluster.refreshMetadata([topic]);
    check(topicInfo?.errorCode ?? 3, `topic ${topic}`);
    const all = topicInfo.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const partitions: number[] = flags.partitions ? flags.partitions.split(',').map(Number) : all;
    for (const p of partitions) if (!all.includes(p)) throw new CliError(`topic ${topic} has no partition ${p}`);
    const wanted = new Map([[topic, partitions]]);
    let targets: Map<string, number>;
    if (flags['to-earliest']) targets = await endOffsets(cluster, wanted, -2);
    else if (flags['to-latest']) targets = await endOffsets(cluster, wanted, -1);
    else if (flags['to-datetime']) {
      targets = await endOffsets(cluster, wanted, Date.parse(flags['to-datetime']!));
      const latest = await endOffsets(cluster, wanted, -1);
      // No record at or after that time: the consumer would start at the end.
      for (const [key, value] of targets) if (value < 0) targets.set(key, latest.get(key) ?? 0);
    } else {
      const earliest = await endOffsets(cluster, wanted, -2);
      const latest = await endOffsets(cluster, wanted, -1);
      targets = new Map();
      for (const p of partitions) {
        const key = `${topic}:${p}`;
        const low = earliest.get(key);
        const high = latest.get(key);
        if (low !== undefined && high !== undefined)
          targets.set(key, Math.min(Math.max(Number(flags['to-offset']), low), high));
      }
    }
    // A partition whose offsets could not be looked up (no leader, an error) is not guessed at.
    const unknown = partitions.filter((partition) => targets.get(`${topic}:${partition}`) === undefined);
    if (unknown.length > 0)
      throw new CliError(
        `could not look up the target offset of ${topic} partition(s) ${unknown.join(', ')} (no leader, or the leader refused); nothing was reset`,
      );
    const plan = partitions.map((partition) => ({
      topic,
      partition,
      newOffset: targets.get(`${topic}:${partition}`)!,
    }));
    if (flags.execute) {
      const response = await connection.request(ApiKey.OffsetCommit, 7, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: topic,
            partitions: plan.map((p) => ({
              partitionIndex: p.partition,
              committedOffset: p.newOffset,
              committedLeaderEpoch: -1,
              committedMetadata: '',
            })),
          },
        ],
      });
      for (const p of response.topics[0].partitions) check(p.errorCode, `reset ${topic}:${p.partitionIndex}`);
    }
    const heading = flags.execute
      ? `reset offsets of group ${groupId}:\n`
      : `plan for group ${groupId} (dry run; add --execute to apply):\n`;
    print(
      { groupId, executed: Boolean(flags.execute), offsets: plan },
      heading +
        table(
          ['TOPIC', 'PARTITION', 'NEW OFFSET'],
          plan.map((p) => [p.topic, p.partition, p.newOffset]),
        ),
    );
    return 0;
  } catch (error) {
    throw cliError(error, bootstrap);
  } finally {
    admin.close();
  }
}
