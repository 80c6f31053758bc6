// Metadata (key 3), versions 0-13.
// v1: controller id, rack, internal flag; null topic list means all topics (v0: empty).
// v2: cluster id. v3: throttle time. v4: allowAutoTopicCreation. v5: offline replicas.
// v7: leader epoch. v8: authorized operations. v9: flexible. v10: topic ids.
// v11: cluster authorized operations dropped. v12: topic name nullable (lookup by id).
// v13: top-level error code; Brook never asks clients to rebootstrap, so it is always 0.
// Topic ids in the request: see the checks in handle() (Kafka's handleTopicMetadataRequest).
// Answered from the local metadata; the controller id names this broker, which is what
// kafkajs needs to send admin requests somewhere that serves them. A topic this node has
// not applied yet but knows is coming (auto-created through it, its creation forwarded by
// it, or in a metadata entry it holds unapplied) is LEADER_NOT_AVAILABLE, as on Kafka,
// where a broker that does not know a topic asks the controller to create it and answers
// LEADER_NOT_AVAILABLE; clients retry that, while UNKNOWN_TOPIC_OR_PARTITION is final
// for some (kafkajs).
// Authorization as Kafka's handleTopicMetadataRequest: only topics the principal may
// Describe are listed; a topic named (or id given) without Describe is answered
// TOPIC_AUTHORIZATION_FAILED without saying whether it exists. Auto-creation needs Create on
// the cluster or the topic, else TOPIC_AUTHORIZATION_FAILED. Authorized operations (v8+)
// are filled when asked for: per topic answered, and for the cluster (v8-10; 0 without
// Describe on it).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import { ApiHandler } from '../api-handler';
import type { Broker } from '../broker';
import { isInternalTopic, validateTopicName } from '../../../protocol/topic-names';
import { TopicInfo } from '../topic-registry';
import { controllerIdOf, describeBrokers } from '../cluster-view';
import { authorized, authorizedOperations, clusterAuthorized, topicAuthorizer } from '../authorize';
import { AclOperation, AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_RESOURCE_NAME, ResourceType } from '../../security/acl';

type MetadataTopic = ReturnType<typeof describeTopic> | ReturnType<typeof missingTopic>;

/**
 * A topic's partitions as a client on listener `listenerName` sees them: a leader without
 * that listener is LISTENER_NOT_FOUND from v6 (LEADER_NOT_AVAILABLE before), and replicas
 * fenced or without it are offline, as Kafka's KRaftMetadataCache answers.
 */
function describeTopic(broker: Broker, topic: TopicInfo, listenerName: string, version: number) {
  const image = broker.quorum.image;
  const known = image.topicsByName.get(topic.name);
  const reachable = (id: number) => {
    if (id === broker.nodeId) return broker.advertisedListeners().some((l) => l.name === listenerName);
    const b = image.brokers.get(id);
    return b !== undefined && !b.fenced && b.endPoints.some((e) => e.name === listenerName);
  };
  const partitions = [];
  for (let index = 0; index < topic.partitions; index++) {
    const p = known?.partitions.get(index);
    let leaderId = p ? p.leader : -1;
    let errorCode: number = leaderId < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE;
    // A leader registered without the client's listener cannot be named to this client.
    const leaderInfo = leaderId === broker.nodeId ? undefined : image.brokers.get(leaderId);
    if (leaderInfo && !leaderInfo.endPoints.some((e) => e.name === listenerName)) {
      errorCode = version >= 6 ? ErrorCode.LISTENER_NOT_FOUND : ErrorCode.LEADER_NOT_AVAILABLE;
      leaderId = -1;
    }
    partitions.push({
      errorCode,
      partitionIndex: index,
      leaderId,
      leaderEpoch: p ? p.leaderEpoch : -1,
      replicaNodes: p ? p.replicas : [],
      isrNodes: p ? p.isr : [],
      offlineReplicas: p ? p.replicas.filter((id) => !reachable(id)) : [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions,
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/** Live brokers with the client's listener (this one always included), and the controller. */
function brokersAndController(broker: Broker, listenerName: string) {
  const live = describeBrokers(broker, listenerName);
  const brokers = live.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
  return { brokers, controllerId: controllerIdOf(broker, live) };
}

function missingTopic(name: string | null, topicId: string, errorCode: number) {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export const metadata: ApiHandler<typeof ApiKey.Metadata> = {
  apiKey: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 13,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const version = header.apiVersion;
    const listener = ctx.connection.security.listenerName;
    const requested: { name: string | null; topicId: string }[] | null = request.topics;
    const allTopics = requested === null || (version === 0 && requested.length === 0);
    const allowAutoCreate = version < 4 ? true : request.allowAutoTopicCreation !== false;
    const mayDescribe = topicAuthorizer(ctx, AclOperation.DESCRIBE);
    /** Kafka's answer order: unknown ids, the topics described, refused creations, refused descriptions. */
    const unknownIds = [];
    const topics: MetadataTopic[] = [];
    const refusedCreate = [];
    const refusedDescribe = [];
    if (allTopics) {
      // Every topic the principal may Describe; the others are left out without a word.
      for (const topic of broker.topics.list())
        if (mayDescribe(topic.name)) topics.push(describeTopic(broker, topic, listener, version));
    } else {
      if (requested.length > broker.settings.maxPartitionsPerRequest) {
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
      }
      // As Kafka checks them: topic ids are v12+ (before, a null name or an id refuses the
      // request), and once any entry carries an id the request is answered by id alone,
      // each id once, the entries naming topics by name left unanswered.
      const ids = requested.map((e) => e.topicId ?? ZERO_UUID).filter((id) => id !== ZERO_UUID);
      if (version < 12 && (ids.length > 0 || requested.some((e) => e.name === null)))
        return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
      for (const id of new Set(ids)) {
        const byId = broker.topics.getById(id);
        if (!byId) unknownIds.push(missingTopic(null, id, ErrorCode.UNKNOWN_TOPIC_ID));
        // Topic ids are not secret (Kafka): a refused one keeps its id, without its name.
        else if (!mayDescribe(byId.name))
          refusedDescribe.push(missingTopic(null, id, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        else topics.push(describeTopic(broker, byId, listener, version));
      }
      // Auto-creation needs Create on the cluster or on the topic (checked only when it would happen).
      const autoCreating = allowAutoCreate && broker.settings.autoCreateTopicsEnable === true;
      let mayCreateAny: boolean | undefined;
      const mayCreate = (name: string) =>
        (mayCreateAny ??= clusterAuthorized(ctx, AclOperation.CREATE)) ||
        authorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, name);
      for (const entry of ids.length > 0 ? [] : requested) {
        if (entry.name === null || entry.name === undefined) {
          const byId = broker.topics.getById(entry.topicId);
          topics.push(
            byId
              ? describeTopic(broker, byId, listener, version)
              : missingTopic(null, entry.topicId, ErrorCode.UNKNOWN_TOPIC_ID),
          );
          continue;
        }
        // A topic the principal may not Describe is refused before anyone looks whether it exists.
        if (!mayDescribe(entry.name)) {
          refusedDescribe.push(missingTopic(entry.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        let topic = broker.topics.get(entry.name);
        if (!topic && autoCreating && !mayCreate(entry.name)) {
          refusedCreate.push({
            ...missingTopic(entry.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
            isInternal: isInternalTopic(entry.name),
          });
          continue;
        }
        if (!topic && validateTopicName(entry.name) !== null) {
          topics.push(missingTopic(entry.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        if (!topic && allowAutoCreate) topic = await broker.autoCreate(entry.name);
        if (topic) topics.push(describeTopic(broker, topic, listener, version));
        else {
          // Committed by the controller (or created through this node) but not applied here
          // yet: retriable, as Kafka answers it.
          const errorCode = broker.topicPending(entry.name)
            ? ErrorCode.LEADER_NOT_AVAILABLE
            : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          topics.push(missingTopic(entry.name, ZERO_UUID, errorCode));
        }
      }
    }
    // v8+: the operations the principal may perform on each topic answered (not on the
    // refused ones), and v8-10 on the cluster (0 without Describe on it), when asked.
    if (version >= 8 && request.includeTopicAuthorizedOperations === true)
      for (const topic of topics)
        if (topic.name !== null)
          topic.topicAuthorizedOperations = authorizedOperations(ctx, true, ResourceType.TOPIC, topic.name);
    let clusterAuthorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
    if (version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations === true)
      clusterAuthorizedOperations = clusterAuthorized(ctx, AclOperation.DESCRIBE)
        ? authorizedOperations(ctx, true, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
        : 0;
    const { brokers, controllerId } = brokersAndController(broker, listener);
    return {
      throttleTimeMs: 0,
      brokers,
      clusterId: broker.clusterId,
      controllerId,
      topics: [...unknownIds, ...topics, ...refusedCreate, ...refusedDescribe],
      clusterAuthorizedOperations,
      errorCode: ErrorCode.NONE,
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      brokers: [],
      clusterId: null,
      controllerId: -1,
      topics: (request?.topics ?? []).map((t: { name: string | null; topicId: string }) =>
        missingTopic(t.name, t.topicId ?? ZERO_UUID, errorCode),
      ),
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
};
