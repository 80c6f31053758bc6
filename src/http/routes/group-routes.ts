// Consumer group routes: list (every broker's groups, with total lag), describe (members,
// assignments, committed offsets and lag), reset an empty group's offsets, and delete an
// empty group. All of it asks the group's coordinator through the bundled admin client.
// Authorization is Kafka's for the same requests: the list shows every group to those with
// Describe on the cluster and otherwise the groups they may Describe (ListGroups); a
// describe needs Describe on the group, and shows offsets and lag only of the topics the
// principal may Describe (OffsetFetch, ListOffsets); a reset needs Read on the group and the
// topic (OffsetCommit); a delete needs Delete on the group (DeleteGroups).

import { ErrorCode } from '../../../protocol/errors';
import { Admin, GroupDescription } from '../../client/admin';
import { KafkaError } from '../../client/cluster';
import { readJsonBody } from '../body';
import { badRequest, fromKafkaCode, HttpError, notFound } from '../http-errors';
import type { ApiContext } from '../http-server';
import { coordinatorOf, EARLIEST, LATEST, leaderConnection, listOffset } from '../kafka-requests';
import type { RouteRequest, Router } from '../router';
import { onlyFields, optionalInteger, requireObject, requireString } from '../validate';
import { existingTopic } from './topic-routes';
import { ApiKey } from '../../../protocol/api-keys';
import { AclOperation, ResourceType } from '../../security/acl';
import { RequestAuthorization } from '../authorization';

/** Groups whose lag GET /api/v1/groups works out (each costs a describe); the rest show null. */
export const GROUPS_WITH_LAG_MAX = 200;
const RESET_TARGETS = ['earliest', 'latest', 'offset', 'timestamp'] as const;
type ResetTarget = (typeof RESET_TARGETS)[number];

function totalLag(description: GroupDescription): number {
  return description.offsets.reduce((sum, o) => sum + Math.max(0, o.lag), 0);
}

/** A group's description, or 404 when the coordinator knows neither members nor offsets. */
async function describeExisting(admin: Admin, groupId: string): Promise<GroupDescription> {
  const description = await admin.describeGroup(groupId);
  if (description.state === 'Dead' && description.offsets.length === 0)
    throw notFound(`consumer group "${groupId}" does not exist`, 'GROUP_ID_NOT_FOUND');
  return description;
}

function requireEmpty(description: GroupDescription, action: string): void {
  if (description.members.length > 0 || !['Empty', 'Dead'].includes(description.state)) {
    throw new HttpError(
      409,
      'NON_EMPTY_GROUP',
      `cannot ${action} group "${description.groupId}": it has ${description.members.length} active member(s) (state ${description.state}); stop its consumers first`,
    );
  }
}

/** The description with only the offsets of topics the principal may Describe. */
function visibleOffsets(description: GroupDescription, authz: RequestAuthorization): GroupDescription {
  if (!authz.enabled) return description;
  return { ...description, offsets: description.offsets.filter((o) => authz.topic(AclOperation.DESCRIBE, o.topic)) };
}

async function resetOffsets(context: ApiContext, groupId: string, raw: unknown, authz: RequestAuthorization) {
  const body = requireObject(raw);
  onlyFields(body, ['topic', 'to', 'offset', 'timestamp', 'partitions']);
  const topicName = requireString(body, 'topic');
  const to = body.to as ResetTarget;
  if (!RESET_TARGETS.includes(to))
    throw badRequest(`to must be one of ${RESET_TARGETS.join(', ')}, got ${JSON.stringify(body.to ?? null)}`);
  const offset = optionalInteger(body, 'offset', 0);
  const timestamp = optionalInteger(body, 'timestamp', 0);
  if (to === 'offset' && offset === undefined) throw badRequest('to "offset" needs offset (a non-negative integer)');
  if (to === 'timestamp' && timestamp === undefined)
    throw badRequest('to "timestamp" needs timestamp (milliseconds since the epoch)');
  const topic = authz.requireTopic(AclOperation.READ, topicName, () => existingTopic(context.broker, topicName));
  let partitions = [...topic.partitions.keys()].sort((a, b) => a - b);
  if (body.partitions !== undefined && body.partitions !== null) {
    if (
      !Array.isArray(body.partitions) ||
      body.partitions.length === 0 ||
      body.partitions.some((p) => typeof p !== 'number' || !Number.isInteger(p) || p < 0)
    ) {
      throw badRequest('partitions must be a non-empty array of partition numbers');
    }
    const missing = (body.partitions as number[]).filter((p) => !topic.partitions.has(p));
    if (missing.length > 0)
      throw notFound(`topic "${topicName}" has no partition ${missing.join(', ')}`, 'UNKNOWN_TOPIC_OR_PARTITION');
    partitions = [...new Set(body.partitions as number[])].sort((a, b) => a - b);
  }

  const admin = await context.clients.adminClient();
  requireEmpty(await admin.describeGroup(groupId), 'reset the offsets of');
  const cluster = admin.cluster;
  const targets = new Map<number, number>();
  await Promise.all(
    partitions.map(async (partition) => {
      // Says plainly when the partition has no leader right now.
      await leaderConnection(cluster, topicName, partition);
      const [earliest, latest] = await Promise.all([
        listOffset(cluster, topicName, partition, EARLIEST),
        listOffset(cluster, topicName, partition, LATEST),
      ]);
      let target: number;
      if (to === 'earliest') target = earliest;
      else if (to === 'latest') target = latest;
      // An offset outside the log is moved to its nearest end, as kafka-consumer-groups does.
      else if (to === 'offset') target = Math.min(latest, Math.max(earliest, offset!));
      else {
        const found = await listOffset(cluster, topicName, partition, timestamp!);
        target = found < 0 ? latest : found;
      }
      targets.set(partition, target);
    }),
  );
  const coordinator = await coordinatorOf(cluster, groupId);
  const answer = await coordinator.request(ApiKey.OffsetCommit, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [
      {
        name: topicName,
        partitions: [...targets].map(([partitionIndex, committedOffset]) => ({
          partitionIndex,
          committedOffset,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        })),
      },
    ],
  });
  for (const p of answer.topics[0].partitions) {
    if (p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || p.errorCode === ErrorCode.ILLEGAL_GENERATION) {
      throw new HttpError(
        409,
        'NON_EMPTY_GROUP',
        `group "${groupId}" gained members while resetting; stop its consumers first`,
      );
    }
    if (p.errorCode !== ErrorCode.NONE)
      throw fromKafkaCode(p.errorCode, `resetting ${groupId} on ${topicName}-${p.partitionIndex}`);
  }
  return {
    groupId,
    topic: topicName,
    offsets: [...targets]
      .sort(([a], [b]) => a - b)
      .map(([partition, committedOffset]) => ({ partition, offset: committedOffset })),
  };
}

export function addGroupRoutes(router: Router, context: ApiContext): void {
  const authzOf = ({ req, access }: RouteRequest) => RequestAuthorization.of(context.broker, req, access);

  router.add('GET', '/api/v1/groups', async (request) => {
    const authz = authzOf(request);
    const admin = await context.clients.adminClient();
    const all = await admin.listGroups();
    const everyGroup = authz.cluster(AclOperation.DESCRIBE);
    const groups = everyGroup ? all : all.filter((g) => authz.group(AclOperation.DESCRIBE, g.groupId));
    const described = await Promise.all(
      groups.map(async (g, i) => {
        if (i >= GROUPS_WITH_LAG_MAX || !authz.group(AclOperation.DESCRIBE, g.groupId)) return null;
        const description = await admin.describeGroup(g.groupId).catch(() => null);
        return description && visibleOffsets(description, authz);
      }),
    );
    return {
      status: 200,
      body: {
        groups: groups.map((g, i) => ({
          groupId: g.groupId,
          state: described[i]?.state ?? g.state,
          protocolType: g.protocolType,
          members: described[i]?.members.length ?? null,
          lag: described[i] ? totalLag(described[i]!) : null,
          authorizedOperations: authz.operations(ResourceType.GROUP, g.groupId),
        })),
      },
    };
  });

  router.add('GET', '/api/v1/groups/{group}', async (request) => {
    const { params } = request;
    const authz = authzOf(request);
    authz.require(AclOperation.DESCRIBE, ResourceType.GROUP, params.group);
    const admin = await context.clients.adminClient();
    const d = visibleOffsets(await describeExisting(admin, params.group), authz);
    // Commit metadata is known here when this node coordinates the group.
    const local = context.broker.groups.store.hosts(params.group)
      ? context.broker.groups.fetchOffsets(params.group)
      : new Map();
    return {
      status: 200,
      body: {
        groupId: d.groupId,
        state: d.state,
        protocolType: d.protocolType,
        protocol: d.protocol,
        authorizedOperations: authz.operations(ResourceType.GROUP, params.group),
        members: d.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: Object.entries(m.assignment)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) })),
        })),
        offsets: d.offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          committedOffset: o.offset,
          logEndOffset: o.logEndOffset,
          lag: o.lag < 0 ? null : o.lag,
          metadata: local.get(o.topic)?.get(o.partition)?.metadata ?? null,
        })),
        totalLag: totalLag(d),
      },
    };
  });

  router.add('POST', '/api/v1/groups/{group}/reset-offsets', async (request) => {
    const { req, params } = request;
    const raw = await readJsonBody(req);
    const authz = authzOf(request);
    authz.require(AclOperation.READ, ResourceType.GROUP, params.group);
    return { status: 200, body: await resetOffsets(context, params.group, raw, authz) };
  });

  router.add('DELETE', '/api/v1/groups/{group}', async (request) => {
    const { params } = request;
    authzOf(request).require(AclOperation.DELETE, ResourceType.GROUP, params.group);
    const admin = await context.clients.adminClient();
    const d = await describeExisting(admin, params.group);
    requireEmpty(d, 'delete');
    try {
      await admin.deleteGroups([params.group]);
    } catch (error) {
      if (error instanceof KafkaError) throw fromKafkaCode(error.code, `deleting group "${params.group}"`);
      throw error;
    }
    return { status: 204 };
  });
}
