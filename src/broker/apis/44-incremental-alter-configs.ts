// IncrementalAlterConfigs (key 44), versions 0-1. Topic configs are checked here (known
// name, valid value, APPEND/SUBTRACT only for list configs) and committed through the
// active controller as Config records, which every broker applies to its open logs. Broker
// configs (resource type 4: a broker id, or the empty name for the cluster-wide default)
// take the same path: the keys Kafka updates dynamically that Brook applies live
// (broker-configs.ts), checked at the active controller, committed as Config records of
// resource type 4 and applied by every broker that sees them. Listener SSL keys
// (listener.name.<l>.ssl.keystore.*, ...) are per-broker only and first validated by the
// broker named, which alone holds the listener (the request must reach that broker).
//
// Authorization as Kafka's controller does it, per resource, on the node that received the
// request and before anything is forwarded: AlterConfigs on the topic
// (TOPIC_AUTHORIZATION_FAILED), on the cluster for a broker, broker logger or client-metrics
// resource (CLUSTER_AUTHORIZATION_FAILED), on the group for a group
// (GROUP_AUTHORIZATION_FAILED). Brook adds one rule: changing
// unclean.leader.election.enable or min.insync.replicas on a topic (any operation) also needs
// Alter on the cluster or on the topic, since both decide what an acknowledged write is
// worth (TOPIC_AUTHORIZATION_FAILED otherwise). The internal topics' configs
// (__consumer_offsets, __transaction_state) are the broker's: no client may change them,
// super users included (POLICY_VIOLATION, Kafka's code for a change a broker policy refuses;
// Kafka itself has no such rule).

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { isInternalTopic } from '../../../protocol/topic-names';
import { dynamicBrokerConfigs, listenerSslKey, validateBrokerConfigChange } from '../broker-configs';
import {
  canonicalTopicConfigValue,
  effectiveTopicConfig,
  topicConfigDef,
  topicLogConfig,
  validateTopicConfig,
  validateTopicConfigSet,
} from '../topic-config';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const CLIENT_METRICS = 16;
const GROUP = 32;

/** Topic configs whose change also needs Alter on the cluster or the topic. */
const DURABILITY_CONFIGS: ReadonlySet<string> = new Set(['unclean.leader.election.enable', 'min.insync.replicas']);

type AlterRequest = Request<typeof ApiKey.IncrementalAlterConfigs>;
type AlterResponse = ResponseInput<typeof ApiKey.IncrementalAlterConfigs>;
type Resource = AlterRequest['resources'][number];

/** The error refusing the principal's change of `resource`, or NONE. */
function authorizationError(ctx: RequestContext, resource: Resource): number {
  switch (resource.resourceType) {
    case TOPIC: {
      const name = resource.resourceName;
      if (!authorized(ctx, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, name))
        return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      const durability = resource.configs.some((c) => DURABILITY_CONFIGS.has(c.name));
      if (
        durability &&
        !clusterAuthorized(ctx, AclOperation.ALTER) &&
        !authorized(ctx, AclOperation.ALTER, ResourceType.TOPIC, name)
      )
        return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      return ErrorCode.NONE;
    }
    case BROKER:
    case BROKER_LOGGER:
    case CLIENT_METRICS:
      return clusterAuthorized(ctx, AclOperation.ALTER_CONFIGS)
        ? ErrorCode.NONE
        : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    case GROUP:
      return authorized(ctx, AclOperation.ALTER_CONFIGS, ResourceType.GROUP, resource.resourceName)
        ? ErrorCode.NONE
        : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    default:
      return ErrorCode.NONE;
  }
}

const AUTHORIZATION_MESSAGES: Record<number, string> = {
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED]: 'Topic authorization failed.',
  [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]: 'Cluster authorization failed.',
  [ErrorCode.GROUP_AUTHORIZATION_FAILED]: 'Group authorization failed.',
};

export const incrementalAlterConfigs: ApiHandler<typeof ApiKey.IncrementalAlterConfigs> = {
  apiKey: ApiKey.IncrementalAlterConfigs,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    if (ctx.broker.authorizer === null) return alter(ctx, request);
    const denied: AlterResponse['responses'] = [];
    const permitted = request.resources.filter((resource) => {
      const errorCode = authorizationError(ctx, resource);
      if (errorCode === ErrorCode.NONE) return true;
      denied.push({
        errorCode,
        errorMessage: AUTHORIZATION_MESSAGES[errorCode],
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      });
      return false;
    });
    if (denied.length === 0) return alter(ctx, request);
    const response: AlterResponse =
      permitted.length === 0
        ? { throttleTimeMs: 0, responses: [] }
        : await alter(ctx, { ...request, resources: permitted });
    response.responses.push(...denied);
    return response;
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      responses: (request?.resources ?? []).map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
    };
  },
};

/**
 * Listener SSL keys of a broker resource are validated by the broker that owns the listener
 * (Kafka's ConfigAdminManager.preprocess on the receiving broker), before the change goes on:
 * its own id is required, and the new key store must load and fit the certificate in use.
 * Returns the error of the resource, or null to let it go on.
 */
function listenerTlsError(ctx: RequestContext, resource: Resource): { errorCode: number; message: string } | null {
  if (resource.resourceType !== BROKER || !resource.configs.some((c) => listenerSslKey(c.name))) return null;
  // The generic checks (names, operations, per-broker only) come first, with their messages.
  const configs = resource.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }));
  if (validateBrokerConfigChange(resource.resourceName, configs)) return null;
  const nodeId = ctx.broker.settings.nodeId;
  // The active controller takes the change the named broker validated and forwarded (on the
  // inter-broker listener, as forward-<id>): only that broker can read its listener's files.
  if (Number(resource.resourceName) !== nodeId && forwardedBy(ctx) === resource.resourceName) return null;
  if (Number(resource.resourceName) !== nodeId)
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      message: `Unexpected broker id, expected ${nodeId}, but received ${resource.resourceName}`,
    };
  const current = dynamicBrokerConfigs(ctx.broker.quorum.image, nodeId).perBroker;
  const problem = ctx.broker.listenerTls?.validate(current, configs) ?? null;
  return problem === null ? null : { errorCode: ErrorCode.INVALID_REQUEST, message: problem };
}

/** The id of the broker that forwarded this request to the active controller, or null. */
function forwardedBy(ctx: RequestContext): string | null {
  if (!ctx.broker.quorum.isLeader || ctx.connection.security.listenerName !== ctx.broker.interBrokerListenerName)
    return null;
  return /^forward-(\d{1,10})$/.exec(ctx.header.clientId ?? '')?.[1] ?? null;
}

/** Listener TLS changes checked here, then the rest decided (alterHere). */
async function alter(ctx: RequestContext, request: AlterRequest): Promise<AlterResponse> {
  const refused: AlterResponse['responses'] = [];
  const passed = request.resources.filter((resource) => {
    const error = listenerTlsError(ctx, resource);
    if (!error) return true;
    refused.push({
      errorCode: error.errorCode,
      errorMessage: error.message,
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
    });
    return false;
  });
  if (refused.length === 0) return alterHere(ctx, request);
  const response: AlterResponse =
    passed.length === 0
      ? { throttleTimeMs: 0, responses: [] }
      : await alterHere(ctx, { ...request, resources: passed });
  response.responses.push(...refused);
  return response;
}

/** The change itself: forwarded to the active controller, or decided here when this node is it. */
async function alterHere(ctx: RequestContext, request: AlterRequest): Promise<AlterResponse> {
  if (!ctx.broker.quorum.isLeader) {
    const forwarded = await ctx.broker.forwardToController(
      ApiKey.IncrementalAlterConfigs,
      ctx.header.apiVersion,
      request,
    );
    return (
      (forwarded as AlterResponse | null) ??
      incrementalAlterConfigs.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion)
    );
  }
  const responses: { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string }[] =
    [];
  const accepted: { index: number; topic: string; configs: { name: string; op: number; value: string | null }[] }[] =
    [];
  const brokerChanges: {
    index: number;
    resourceName: string;
    configs: { name: string; op: number; value: string | null }[];
  }[] = [];
  for (const resource of request.resources) {
    const answer = (errorCode: number, errorMessage: string | null) =>
      responses.push({
        errorCode,
        errorMessage,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      });
    if (resource.resourceType === BROKER) {
      const configs = resource.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value }));
      const problem = validateBrokerConfigChange(resource.resourceName, configs);
      if (problem) {
        answer(ErrorCode[problem.error], problem.message);
        continue;
      }
      // Kafka's ConfigResourceExistenceChecker: a broker id must be registered (checked
      // again where the change is decided; here for validate_only too).
      if (resource.resourceName !== '' && !ctx.broker.quorum.image.brokers.has(Number(resource.resourceName))) {
        answer(ErrorCode.BROKER_ID_NOT_REGISTERED, `No node with id ${resource.resourceName} found.`);
        continue;
      }
      brokerChanges.push({ index: responses.length, resourceName: resource.resourceName, configs });
      answer(ErrorCode.NONE, null);
      continue;
    }
    if (resource.resourceType !== TOPIC) {
      answer(ErrorCode.INVALID_REQUEST, `resource type ${resource.resourceType} has no configs here`);
      continue;
    }
    if (!ctx.broker.topics.get(resource.resourceName)) {
      answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${resource.resourceName} does not exist`);
      continue;
    }
    if (isInternalTopic(resource.resourceName)) {
      answer(
        ErrorCode.POLICY_VIOLATION,
        `Topic ${resource.resourceName} is internal: its configs are set by the broker and cannot be altered.`,
      );
      continue;
    }
    let problem: string | null = null;
    const names = new Set<string>();
    for (const c of resource.configs) {
      if (names.has(c.name)) problem = `config ${c.name} appears twice`;
      names.add(c.name);
      if (c.configOperation < 0 || c.configOperation > 3) problem = `unknown config operation ${c.configOperation}`;
      else if ((c.configOperation === 2 || c.configOperation === 3) && topicConfigDef(c.name)?.type !== 'list')
        problem = `${c.name} is not a list config: APPEND and SUBTRACT apply to list configs only`;
      else if (c.configOperation === 0 && c.value === null) problem = `SET of ${c.name} needs a value`;
      else problem = validateTopicConfig(c.name, c.configOperation === 0 ? c.value : null);
      if (problem) break;
    }
    if (problem) {
      answer(ErrorCode.INVALID_CONFIG, problem);
      continue;
    }
    // APPEND and SUBTRACT work on the effective list (the topic's value, else the broker's
    // default, else Kafka's), as in Kafka; they are sent on as a SET of the result.
    const overrides = ctx.broker.quorum.image.topicConfigs(resource.resourceName);
    const configs = resource.configs.map((c) => {
      if (c.configOperation !== 2 && c.configOperation !== 3)
        return {
          name: c.name,
          op: c.configOperation,
          // A SET is stored in Kafka's printed form, as CreateTopics stores it.
          value: c.value === null ? null : canonicalTopicConfigValue(topicConfigDef(c.name)!, c.value),
        };
      const current = effectiveTopicConfig(topicConfigDef(c.name)!, ctx.broker.settings.topicDefaults, overrides)
        .value.split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      const given = (c.value ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      const next =
        c.configOperation === 2
          ? [...current, ...given.filter((v) => !current.includes(v))]
          : current.filter((v) => !given.includes(v));
      return { name: c.name, op: 0, value: next.join(',') };
    });
    // Kafka validates the topic's config as it would be after the change.
    const next: Record<string, string> = { ...overrides };
    for (const c of configs) {
      if (c.op === 1 || c.value === null) delete next[c.name];
      else next[c.name] = c.value;
    }
    const conflict = validateTopicConfigSet(topicLogConfig(ctx.broker.settings.topicDefaults, next));
    if (conflict) {
      answer(ErrorCode.INVALID_CONFIG, conflict);
      continue;
    }
    accepted.push({ index: responses.length, topic: resource.resourceName, configs });
    answer(ErrorCode.NONE, null);
  }
  if (!request.validateOnly && accepted.length > 0) {
    const results = await ctx.broker.quorum.alterTopicConfigs(
      accepted.map((a) => ({ topic: a.topic, configs: a.configs })),
    );
    results.forEach((result, i) => {
      responses[accepted[i].index].errorCode = result.errorCode;
      responses[accepted[i].index].errorMessage = result.errorMessage;
      if (result.errorCode === ErrorCode.NONE)
        ctx.broker.logger.info('topic configs altered', {
          topic: result.topic,
          configs: accepted[i].configs.map((c) => c.name),
        });
    });
  }
  if (!request.validateOnly && brokerChanges.length > 0) {
    const results = await ctx.broker.quorum.alterBrokerConfigs(
      brokerChanges.map((c) => ({ resourceName: c.resourceName, configs: c.configs })),
    );
    results.forEach((result, i) => {
      responses[brokerChanges[i].index].errorCode = result.errorCode;
      responses[brokerChanges[i].index].errorMessage = result.errorMessage;
      // Names only: a value may be a secret.
      if (result.errorCode === ErrorCode.NONE)
        ctx.broker.logger.info('broker configs altered', {
          broker: result.resourceName === '' ? 'cluster default' : result.resourceName,
          configs: brokerChanges[i].configs.map((c) => c.name),
        });
    });
  }
  return { throttleTimeMs: 0, responses };
}
