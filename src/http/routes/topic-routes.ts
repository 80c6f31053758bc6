// Topic routes: list (from this node's metadata image), create, describe, delete, configs
// and adding partitions. Reads of the catalogue come from the image; every change and every
// offset or config read goes through the bundled admin client to this node's own Kafka
// listener, so it reaches the controller or partition leader as any client's would.
// Sizes are of the replicas stored on this node (the whole topic when every broker holds
// a replica, as on a single node). Each route asks the authorizer for what Kafka asks for
// the same request (src/http/authorization.ts): the list shows the topics the principal may
// Describe, create needs Create on the cluster or the topic, delete Delete, configs
// DescribeConfigs / AlterConfigs (and Alter for min.insync.replicas and
// unclean.leader.election.enable), adding partitions Alter. Internal topics are neither
// deleted nor altered here.

import { isInternalTopic as isInternal } from '../../../protocol/topic-names';
import type { Broker } from '../../broker/broker';
import { Admin } from '../../client/admin';
import { badRequest, notFound } from '../http-errors';
import type { ApiContext } from '../http-server';
import type { Router } from '../router';
import {
  checkTopicName,
  configMap,
  onlyFields,
  optionalInteger,
  queryInteger,
  requireInteger,
  requireObject,
} from '../validate';
import { readJsonBody } from '../body';
import { localSizes } from './cluster-routes';
import { AclOperation, ResourceType } from '../../security/acl';
import { RequestAuthorization } from '../authorization';
import type { RouteRequest } from '../router';

/** Topics per page at most (GET /api/v1/topics?limit=). */
export const TOPICS_PAGE_MAX = 1000;
const TOPICS_PAGE_DEFAULT = 100;
/** Partitions one topic may have after a create or add (a typo of 1000000 is refused). */
export const TOPIC_PARTITIONS_MAX = 10_000;
/** How long a create waits for this node's image to show the new topic. */
const IMAGE_WAIT_MS = 5000;

const CONFIG_SOURCES: Record<number, string> = {
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

/** The topic's image entry, or 404 naming it. */
export function existingTopic(broker: Broker, name: string) {
  const topic = broker.quorum.image.topicsByName.get(name);
  if (!topic) throw notFound(`topic "${name}" does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
  return topic;
}

/** Topic configs whose change also needs Alter on the cluster or the topic. */
const DURABILITY_CONFIGS: ReadonlySet<string> = new Set(['unclean.leader.election.enable', 'min.insync.replicas']);

/** Refuses changes to an internal topic (__consumer_offsets, __transaction_state). */
function refuseInternal(name: string, action: string): void {
  if (isInternal(name))
    throw badRequest(`topic "${name}" is internal and cannot be ${action}`, 'INVALID_TOPIC_EXCEPTION');
}

function topicSummary(broker: Broker, name: string) {
  const topic = broker.quorum.image.topicsByName.get(name)!;
  const sizes = localSizes(broker, name);
  let underReplicatedPartitions = 0;
  let offlinePartitions = 0;
  let replicationFactor = 0;
  for (const p of topic.partitions.values()) {
    if (p.isr.length < p.replicas.length) underReplicatedPartitions++;
    if (p.leader < 0) offlinePartitions++;
    replicationFactor = Math.max(replicationFactor, p.replicas.length);
  }
  let sizeBytes = 0;
  for (const size of sizes.values()) sizeBytes += size;
  return {
    name,
    partitions: topic.partitions.size,
    replicationFactor,
    sizeBytes,
    underReplicatedPartitions,
    offlinePartitions,
    internal: isInternal(name),
  };
}

async function configsOf(admin: Admin, topic: string) {
  const configs = await admin.describeConfigs(topic);
  return Object.entries(configs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => ({
      name,
      value: c.value,
      source: CONFIG_SOURCES[c.source] ?? `SOURCE_${c.source}`,
      readOnly: c.readOnly,
      sensitive: false,
    }));
}

/** Waits (bounded) until this node's image satisfies `ok` after a change made elsewhere. */
async function awaitImage(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + IMAGE_WAIT_MS;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

async function describeTopic(context: ApiContext, name: string, authz: RequestAuthorization) {
  const { broker } = context;
  const topic = authz.requireTopic(AclOperation.DESCRIBE, name, () => existingTopic(broker, name));
  const admin = await context.clients.adminClient();
  const partitions = [...topic.partitions.values()].sort((a, b) => a.partitionId - b.partitionId);
  // Offsets: this node's log when it leads the partition, else the leader's (ListOffsets).
  const remote = partitions.some((p) => !broker.replicas.get(name, p.partitionId)?.leading);
  const [starts, ends, configs] = await Promise.all([
    remote ? admin.listOffsets(name, 'earliest').catch(() => new Map<number, number>()) : new Map<number, number>(),
    remote ? admin.listOffsets(name, 'latest').catch(() => new Map<number, number>()) : new Map<number, number>(),
    // The configs are shown to those who may DescribeConfigs, as DescribeConfigs answers.
    authz.topic(AclOperation.DESCRIBE_CONFIGS, name) ? configsOf(admin, name) : null,
  ]);
  const sizes = localSizes(broker, name);
  return {
    name,
    topicId: topic.topicId,
    internal: isInternal(name),
    authorizedOperations: authz.operations(ResourceType.TOPIC, name),
    partitions: partitions.map((p) => {
      const replica = broker.replicas.get(name, p.partitionId);
      const local = replica?.leading ? replica.log : undefined;
      const highWatermark = local ? local.highWatermark : (ends.get(p.partitionId) ?? -1);
      return {
        partition: p.partitionId,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicas,
        isr: p.isr,
        offlineReplicas: p.replicas.filter((id) => broker.quorum.image.brokers.get(id)?.fenced !== false),
        logStartOffset: local ? local.logStartOffset : (starts.get(p.partitionId) ?? -1),
        // Known exactly on the leader; elsewhere the high watermark is the best answer.
        logEndOffset: local ? local.logEndOffset : highWatermark,
        highWatermark,
        sizeBytes: sizes.get(p.partitionId) ?? null,
      };
    }),
    configs,
  };
}

export function addTopicRoutes(router: Router, context: ApiContext): void {
  const { broker } = context;
  const authzOf = ({ req, access }: RouteRequest) => RequestAuthorization.of(broker, req, access);

  router.add('GET', '/api/v1/topics', (request) => {
    const { url } = request;
    const authz = authzOf(request);
    const offset = queryInteger(url, 'offset', 0, 0)!;
    const limit = queryInteger(url, 'limit', TOPICS_PAGE_DEFAULT, 1, TOPICS_PAGE_MAX)!;
    const search = (url.searchParams.get('search') ?? '').toLowerCase();
    const names = [...broker.quorum.image.topicsByName.keys()]
      .filter((name) => name.toLowerCase().includes(search))
      // As Metadata for all topics: those the principal may not Describe are left out.
      .filter((name) => authz.topic(AclOperation.DESCRIBE, name))
      .sort();
    return {
      status: 200,
      body: {
        total: names.length,
        offset,
        limit,
        topics: names.slice(offset, offset + limit).map((name) => ({
          ...topicSummary(broker, name),
          authorizedOperations: authz.operations(ResourceType.TOPIC, name),
        })),
      },
    };
  });

  router.add('POST', '/api/v1/topics', async (request) => {
    const { req } = request;
    const body = requireObject(await readJsonBody(req));
    onlyFields(body, ['name', 'partitions', 'replicationFactor', 'configs']);
    if (typeof body.name !== 'string')
      throw badRequest(`name is required (a string), got ${JSON.stringify(body.name ?? null)}`);
    const name = body.name;
    checkTopicName(name);
    const partitions = optionalInteger(body, 'partitions', 1, TOPIC_PARTITIONS_MAX);
    const replicationFactor = optionalInteger(body, 'replicationFactor', 1, 32767);
    const configs = configMap(body.configs, 'configs');
    // CreateTopics: Create on the cluster, or on the topic's name.
    const authz = authzOf(request);
    if (!authz.cluster(AclOperation.CREATE)) authz.require(AclOperation.CREATE, ResourceType.TOPIC, name);
    const admin = await context.clients.adminClient();
    await admin.createTopics([
      { name, partitions: partitions ?? -1, replicationFactor: replicationFactor ?? -1, configs },
    ]);
    await awaitImage(() => broker.quorum.image.topicsByName.has(name));
    const summary = broker.quorum.image.topicsByName.has(name) ? topicSummary(broker, name) : null;
    return {
      status: 201,
      body: {
        name,
        partitions: summary?.partitions ?? partitions,
        replicationFactor: summary?.replicationFactor ?? replicationFactor,
      },
    };
  });

  router.add('GET', '/api/v1/topics/{topic}', async (request) => ({
    status: 200,
    body: await describeTopic(context, request.params.topic, authzOf(request)),
  }));

  router.add('DELETE', '/api/v1/topics/{topic}', async (request) => {
    const { params } = request;
    authzOf(request).requireTopic(AclOperation.DELETE, params.topic, () => existingTopic(broker, params.topic));
    refuseInternal(params.topic, 'deleted');
    const admin = await context.clients.adminClient();
    await admin.deleteTopics([params.topic]);
    await awaitImage(() => !broker.quorum.image.topicsByName.has(params.topic));
    return { status: 204 };
  });

  router.add('GET', '/api/v1/topics/{topic}/configs', async (request) => {
    const { params } = request;
    authzOf(request).requireTopic(AclOperation.DESCRIBE_CONFIGS, params.topic, () =>
      existingTopic(broker, params.topic),
    );
    const admin = await context.clients.adminClient();
    return { status: 200, body: { configs: await configsOf(admin, params.topic) } };
  });

  router.add('PATCH', '/api/v1/topics/{topic}/configs', async (request) => {
    const { req, params } = request;
    const body = requireObject(await readJsonBody(req));
    const authz = authzOf(request);
    authz.requireTopic(AclOperation.ALTER_CONFIGS, params.topic, () => existingTopic(broker, params.topic));
    refuseInternal(params.topic, 'altered');
    onlyFields(body, ['set', 'delete']);
    const set = configMap(body.set, 'set');
    const remove = body.delete ?? [];
    if (!Array.isArray(remove) || remove.some((k) => typeof k !== 'string' || k === ''))
      throw badRequest('delete must be an array of config names');
    if (Object.keys(set).length === 0 && remove.length === 0)
      throw badRequest(
        'nothing to change: give set (an object of config names to values) and/or delete (an array of config names)',
      );
    // As IncrementalAlterConfigs on the Kafka port: a change to what an acknowledged write
    // means also needs Alter on the cluster or the topic.
    const durability = [...Object.keys(set), ...(remove as string[])].some((k) => DURABILITY_CONFIGS.has(k));
    if (durability && !authz.cluster(AclOperation.ALTER))
      authz.require(AclOperation.ALTER, ResourceType.TOPIC, params.topic);
    const admin = await context.clients.adminClient();
    await admin.alterTopicConfigs(params.topic, { set, reset: remove as string[] });
    return { status: 200, body: { configs: await configsOf(admin, params.topic) } };
  });

  router.add('POST', '/api/v1/topics/{topic}/partitions', async (request) => {
    const { req, params } = request;
    const body = requireObject(await readJsonBody(req));
    // CreatePartitions: Alter on the topic.
    const topic = authzOf(request).requireTopic(AclOperation.ALTER, params.topic, () =>
      existingTopic(broker, params.topic),
    );
    refuseInternal(params.topic, 'altered');
    onlyFields(body, ['count']);
    const count = requireInteger(body, 'count', 1, TOPIC_PARTITIONS_MAX);
    if (count <= topic.partitions.size)
      throw badRequest(
        `count must be more than the ${topic.partitions.size} partition(s) the topic has (partitions can only be added)`,
        'INVALID_PARTITIONS',
      );
    const admin = await context.clients.adminClient();
    await admin.createPartitions(params.topic, count);
    await awaitImage(() => (broker.quorum.image.topicsByName.get(params.topic)?.partitions.size ?? 0) >= count);
    return { status: 200, body: { name: params.topic, partitions: count } };
  });
}
