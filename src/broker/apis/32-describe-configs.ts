// DescribeConfigs (key 32), versions 0-4.
// v1: includeSynonyms, config source and synonyms replace isDefault. v2: same as v1.
// v3: includeDocumentation, config type and documentation. v4: flexible.
// Topics (resource type 2) list every topic config Brook understands with its effective
// value; the broker (type 4) lists the broker-level settings that feed topic defaults.
// Authorization as Kafka's, per resource: DescribeConfigs on the topic
// (TOPIC_AUTHORIZATION_FAILED), on the cluster for a broker, broker logger or client-metrics
// resource (CLUSTER_AUTHORIZATION_FAILED), on the group for a group
// (GROUP_AUTHORIZATION_FAILED); a refused resource is answered with no configs.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { effectiveTopicConfig, TOPIC_CONFIGS, TopicConfigDef } from '../topic-config';

const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;
const RESOURCE_BROKER_LOGGER = 8;
const RESOURCE_CLIENT_METRICS = 16;
const RESOURCE_GROUP = 32;

/** The error refusing the principal a description of the resource, or NONE. */
function authorizationError(ctx: RequestContext, resourceType: number, name: string): number {
  switch (resourceType) {
    case RESOURCE_TOPIC:
      return authorized(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, name)
        ? ErrorCode.NONE
        : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case RESOURCE_BROKER:
    case RESOURCE_BROKER_LOGGER:
    case RESOURCE_CLIENT_METRICS:
      return clusterAuthorized(ctx, AclOperation.DESCRIBE_CONFIGS)
        ? ErrorCode.NONE
        : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    case RESOURCE_GROUP:
      return authorized(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.GROUP, name)
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

const SOURCE_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

const CONFIG_TYPE: Record<TopicConfigDef['type'], number> = {
  boolean: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
};

function entry(
  name: string,
  value: string,
  source: number,
  type: number,
  _version: number,
  synonyms: { name: string; value: string; source: number }[],
) {
  return {
    name,
    value,
    readOnly: false,
    isDefault: source === SOURCE_DEFAULT,
    configSource: source,
    isSensitive: false,
    synonyms,
    configType: type,
    documentation: null,
  };
}

export const describeConfigs: ApiHandler<typeof ApiKey.DescribeConfigs> = {
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker, header } = ctx;
    const results = request.resources.map((resource) => {
      const base = {
        errorCode: ErrorCode.NONE,
        errorMessage: null as string | null,
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
      };
      const refused = authorizationError(ctx, resource.resourceType, resource.resourceName);
      if (refused !== ErrorCode.NONE)
        return { ...base, errorCode: refused, errorMessage: AUTHORIZATION_MESSAGES[refused], configs: [] };
      const wanted = (name: string) => resource.configurationKeys === null || resource.configurationKeys.includes(name);
      if (resource.resourceType === RESOURCE_TOPIC) {
        const topic = broker.topics.get(resource.resourceName);
        if (!topic)
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `Topic ${resource.resourceName} does not exist`,
            configs: [],
          };
        const configs = TOPIC_CONFIGS.filter((def) => wanted(def.name)).map((def) => {
          const effective = effectiveTopicConfig(def, broker.settings.topicDefaults, topic.configs);
          const source =
            effective.source === 'topic'
              ? SOURCE_TOPIC
              : effective.source === 'broker'
                ? SOURCE_STATIC_BROKER
                : SOURCE_DEFAULT;
          const synonyms = [];
          if (request.includeSynonyms) {
            if (topic.configs[def.name] !== undefined)
              synonyms.push({ name: def.name, value: topic.configs[def.name], source: SOURCE_TOPIC });
            if (def.brokerKey && broker.settings.topicDefaults[def.brokerKey] !== undefined) {
              synonyms.push({
                name: def.brokerKey,
                value: broker.settings.topicDefaults[def.brokerKey],
                source: SOURCE_STATIC_BROKER,
              });
            }
            synonyms.push({ name: def.brokerKey ?? def.name, value: def.defaultValue, source: SOURCE_DEFAULT });
          }
          return entry(def.name, effective.value, source, CONFIG_TYPE[def.type], header.apiVersion, synonyms);
        });
        return { ...base, configs };
      }
      if (resource.resourceType === RESOURCE_BROKER) {
        if (resource.resourceName !== '' && resource.resourceName !== String(broker.nodeId)) {
          return {
            ...base,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `broker ${resource.resourceName} is not this broker (${broker.nodeId})`,
            configs: [],
          };
        }
        const configs = TOPIC_CONFIGS.filter((def) => def.brokerKey && wanted(def.brokerKey)).map((def) => {
          const key = def.brokerKey!;
          const given = broker.settings.topicDefaults[key];
          return entry(
            key,
            given ?? def.defaultValue,
            given !== undefined ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT,
            CONFIG_TYPE[def.type],
            header.apiVersion,
            [],
          );
        });
        return { ...base, configs };
      }
      return {
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `unsupported resource type ${resource.resourceType}`,
        configs: [],
      };
    });
    return { throttleTimeMs: 0, results };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      results: (request?.resources ?? []).map((r) => ({
        errorCode,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: [],
      })),
    };
  },
};
