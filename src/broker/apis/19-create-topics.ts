// CreateTopics (key 19), versions 0-7.
// v1: validateOnly and per-topic error messages. v2: throttle time. v4: numPartitions and
// replicationFactor may be -1 (broker defaults). v5: flexible; the response echoes the
// partition count, replication factor and configs. v7: topic ids in the response.
//
// Kafka's controller answers once the new topic is committed to the metadata log; other
// brokers learn it a moment later, and Kafka promises the creating client no more ("It may
// take several seconds after CreateTopicsResult returns success for all the brokers to
// become aware that the topics have been created", Admin.createTopics javadoc). Brook's
// controller answers after the commit too; a node that forwarded the request also waits,
// within the request's timeout, until it has applied the topic itself. Nodes that have
// not applied it yet answer Metadata for it with LEADER_NOT_AVAILABLE (03-metadata.ts).
//
// Authorization as Kafka's controller does it, on the node that received the request and
// before anything is forwarded (a forwarded request reaches the controller as this node's
// own principal): Create on the cluster, or else Create on each topic; a topic named once
// and not authorized is answered TOPIC_AUTHORIZATION_FAILED ("Authorization failed.") and
// never reaches the controller. A topic created without DescribeConfigs on it is answered
// without its configs, partition count or replication factor, with topicConfigErrorCode
// TOPIC_AUTHORIZATION_FAILED.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import {
  TOPIC_CONFIGS,
  canonicalTopicConfigValue,
  effectiveTopicConfig,
  topicConfigDef,
  topicLogConfig,
  validateTopicConfig,
  validateTopicConfigSet,
} from '../topic-config';
import { collidingTopic, validateTopicName } from '../../../protocol/topic-names';
import { TopicCreationError } from '../broker';
import { controllerMutationQuota, THROTTLING_QUOTA_EXCEEDED_MESSAGE } from '../quota-manager';

/** The longest a forwarding node waits to apply the topics it forwarded the creation of. */
const FORWARDED_APPLY_WAIT_MAX_MS = 30_000;

const CONFIG_SOURCE_TOPIC = 1;
const CONFIG_SOURCE_STATIC_BROKER = 4;
const CONFIG_SOURCE_DEFAULT = 5;

function failed(name: string, errorCode: number, errorMessage: string | null) {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: 0,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
}

type CreateRequest = Request<typeof ApiKey.CreateTopics>;
type CreateResponse = ResponseInput<typeof ApiKey.CreateTopics>;

/** The topics named once that the principal may not create (duplicates are refused anyway). */
function deniedCreations(ctx: RequestContext, request: CreateRequest): Set<string> {
  const denied = new Set<string>();
  if (ctx.broker.authorizer === null || clusterAuthorized(ctx, AclOperation.CREATE)) return denied;
  const counts = new Map<string, number>();
  for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  for (const [name, count] of counts)
    if (count === 1 && !authorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)) denied.add(name);
  return denied;
}

export const createTopics: ApiHandler<typeof ApiKey.CreateTopics> = {
  apiKey: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  async handle(ctx, request) {
    if (ctx.broker.authorizer === null) return create(ctx, request);
    const denied = deniedCreations(ctx, request);
    const permitted =
      denied.size === 0 ? request : { ...request, topics: request.topics.filter((t) => !denied.has(t.name)) };
    const response: CreateResponse =
      permitted.topics.length === 0 && request.topics.length > 0
        ? { throttleTimeMs: 0, topics: [] }
        : await create(ctx, permitted);
    for (const topic of response.topics) {
      if (topic.errorCode !== ErrorCode.NONE) continue;
      if (authorized(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, topic.name)) continue;
      topic.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      topic.numPartitions = -1;
      topic.replicationFactor = -1;
      topic.configs = [];
    }
    for (const name of denied)
      response.topics.push(failed(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
    return response;
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, topics: (request?.topics ?? []).map((t) => failed(t.name, errorCode, null)) };
  },
};

/** The creation itself: forwarded to the active controller, or decided here when this node is it. */
async function create(ctx: RequestContext, request: CreateRequest): Promise<CreateResponse> {
  if (!ctx.broker.quorum.isLeader) {
    // Admin writes go to the active controller; its answer is passed back unchanged.
    const forwarded = (await ctx.broker.forwardToController(
      ApiKey.CreateTopics,
      ctx.header.apiVersion,
      request,
      ctx.header.clientId,
    )) as {
      topics: { name: string; errorCode: number }[];
    } | null;
    if (!forwarded) return createTopics.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion);
    if (!request.validateOnly) {
      // The controller answered after the commit. This node waits (within the request's
      // timeout) until it has applied the new topics too, so that the creating client's
      // next request here finds them; until then its Metadata answers them
      // LEADER_NOT_AVAILABLE (retriable).
      const created = forwarded.topics.filter((t) => t.errorCode === ErrorCode.NONE).map((t) => t.name);
      for (const name of created) ctx.broker.noteForwardedCreation(name);
      if (created.length > 0)
        await ctx.broker.awaitTopicsApplied(
          created,
          Math.max(0, Math.min(request.timeoutMs ?? 0, FORWARDED_APPLY_WAIT_MAX_MS)),
        );
    }
    return forwarded as CreateResponse;
  }
  const { broker } = ctx;
  const quota = controllerMutationQuota(ctx, 6);
  const topics = request.topics;
  const seen = new Map<string, number>();
  for (const topic of topics) seen.set(topic.name, (seen.get(topic.name) ?? 0) + 1);
  const results = [];
  let partitionBudget = broker.settings.maxPartitionsPerRequest;
  for (const topic of topics) {
    if (seen.get(topic.name)! > 1) {
      results.push(
        failed(topic.name, ErrorCode.INVALID_REQUEST, `topic ${topic.name} appears more than once in the request`),
      );
      continue;
    }
    const nameError = validateTopicName(topic.name);
    if (nameError) {
      results.push(failed(topic.name, ErrorCode.INVALID_TOPIC_EXCEPTION, nameError));
      continue;
    }
    if (broker.topics.get(topic.name)) {
      results.push(failed(topic.name, ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${topic.name}' already exists.`));
      continue;
    }
    // Checked here too so that validateOnly answers it; the controller checks it again.
    const collision = collidingTopic(topic.name, broker.quorum.image.topicsByName.keys());
    if (collision !== null) {
      results.push(
        failed(
          topic.name,
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${topic.name}' collides with existing topic: ${collision}`,
        ),
      );
      continue;
    }
    const hasAssignments = topic.assignments.length > 0;
    if (hasAssignments && (topic.numPartitions !== -1 || topic.replicationFactor !== -1)) {
      results.push(
        failed(
          topic.name,
          ErrorCode.INVALID_REQUEST,
          'both manual assignments and numPartitions/replicationFactor were given',
        ),
      );
      continue;
    }
    let partitions = topic.numPartitions === -1 ? broker.settings.numPartitions : topic.numPartitions;
    let replicationFactor =
      topic.replicationFactor === -1 ? broker.settings.defaultReplicationFactor : topic.replicationFactor;
    if (hasAssignments) {
      partitions = topic.assignments.length;
      replicationFactor = topic.assignments[0].brokerIds.length;
      const indexes = topic.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
      const consecutive = indexes.every((index, i) => index === i);
      const valid = topic.assignments.every(
        (a) =>
          a.brokerIds.length === replicationFactor &&
          new Set(a.brokerIds).size === a.brokerIds.length &&
          a.brokerIds.every((id) => broker.quorum.image.brokers.has(id)),
      );
      if (!consecutive || !valid) {
        results.push(
          failed(
            topic.name,
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'replica assignments must name existing brokers once per partition, for partitions 0..n-1',
          ),
        );
        continue;
      }
    }
    if (!Number.isInteger(partitions) || partitions <= 0) {
      results.push(failed(topic.name, ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.'));
      continue;
    }
    if (partitions > partitionBudget) {
      results.push(
        failed(
          topic.name,
          ErrorCode.INVALID_PARTITIONS,
          `Number of partitions ${partitions} exceeds the per-request limit`,
        ),
      );
      continue;
    }
    if (replicationFactor <= 0) {
      results.push(
        failed(topic.name, ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.'),
      );
      continue;
    }
    const available = broker.quorum.image.unfencedBrokers().length;
    if (replicationFactor > available) {
      results.push(
        failed(
          topic.name,
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Replication factor: ${replicationFactor} larger than available brokers: ${available}.`,
        ),
      );
      continue;
    }
    const overrides: Record<string, string> = {};
    // Kafka's controller refuses null values before it looks at names or values.
    const nullValued = topic.configs.filter((c) => c.value === null).map((c) => c.name);
    let configError: string | null =
      nullValued.length > 0 ? `Null value not supported for topic configs: ${nullValued.join(',')}` : null;
    for (const config of configError ? [] : topic.configs) {
      configError = validateTopicConfig(config.name, config.value);
      if (configError) break;
      // Stored in Kafka's printed form ('TRUE' as true, ' 5' as 5), which every reader of
      // the metadata log can then compare as text.
      if (config.value !== null)
        overrides[config.name] = canonicalTopicConfigValue(topicConfigDef(config.name)!, config.value);
    }
    // Then Kafka's checks across the topic's whole config (the compaction lags, remote storage).
    configError ??= validateTopicConfigSet(topicLogConfig(broker.settings.topicDefaults, overrides));
    if (configError) {
      results.push(failed(topic.name, ErrorCode.INVALID_CONFIG, configError));
      continue;
    }
    if (!quota.admit(partitions)) {
      results.push(failed(topic.name, ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE));
      continue;
    }
    partitionBudget -= partitions;
    let topicId = ZERO_UUID;
    if (!request.validateOnly) {
      try {
        const manual = hasAssignments
          ? [...topic.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
          : undefined;
        const info = await broker.createTopic(topic.name, partitions, replicationFactor, overrides, manual);
        topicId = info.topicId;
      } catch (error) {
        if (!(error instanceof TopicCreationError)) throw error;
        results.push(failed(topic.name, error.errorCode, error.message));
        continue;
      }
    }
    const configs = TOPIC_CONFIGS.map((def) => {
      const effective = effectiveTopicConfig(def, broker.settings.topicDefaults, overrides);
      const configSource =
        effective.source === 'topic'
          ? CONFIG_SOURCE_TOPIC
          : effective.source === 'broker'
            ? CONFIG_SOURCE_STATIC_BROKER
            : CONFIG_SOURCE_DEFAULT;
      return { name: def.name, value: effective.value, readOnly: false, configSource, isSensitive: false };
    });
    results.push({
      name: topic.name,
      topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: 0,
      numPartitions: partitions,
      replicationFactor,
      configs,
    });
  }
  return { throttleTimeMs: 0, topics: results };
}
