// DescribeConfigs (key 32), versions 0-4.
// v1: includeSynonyms, config source and synonyms replace isDefault. v2: same as v1.
// v3: includeDocumentation, config type and documentation. v4: flexible.
// Topics (resource type 2) list every Kafka topic config with its effective value and
// source (the topic's override, a broker key of the config file, or Kafka's default), the
// synonym chain when asked (include_synonyms: override, broker keys set, broker defaults),
// and type and documentation (v3+). The broker (type 4) lists the broker keys that feed
// topic defaults (log.retention.hours, log.segment.bytes ...).
// Authorization as Kafka's, per resource: DescribeConfigs on the topic
// (TOPIC_AUTHORIZATION_FAILED), on the cluster for a broker, broker logger or client-metrics
// resource (CLUSTER_AUTHORIZATION_FAILED), on the group for a group
// (GROUP_AUTHORIZATION_FAILED); a refused resource is answered with no configs.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import {
  BROKER_TOPIC_SYNONYMS,
  effectiveTopicConfig,
  TOPIC_CONFIGS,
  topicConfigSynonyms,
  TopicConfigSource,
  TopicConfigType,
} from '../topic-config';

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

const SOURCE_CODE: Record<TopicConfigSource, number> = {
  topic: SOURCE_TOPIC,
  broker: SOURCE_STATIC_BROKER,
  default: SOURCE_DEFAULT,
};

/** DescribeConfigsResponse.ConfigType codes. */
const CONFIG_TYPE: Record<TopicConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
};

function entry(
  name: string,
  value: string | null,
  source: number,
  type: number,
  synonyms: { name: string; value: string | null; source: number }[],
  documentation: string | null,
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
    documentation,
  };
}

export const describeConfigs: ApiHandler<typeof ApiKey.DescribeConfigs> = {
  apiKey: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
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
        const defaults = broker.settings.topicDefaults;
        const configs = TOPIC_CONFIGS.filter((def) => wanted(def.name)).map((def) => {
          const effective = effectiveTopicConfig(def, defaults, topic.configs);
          const synonyms = request.includeSynonyms
            ? topicConfigSynonyms(def, defaults, topic.configs).map((s) => ({ ...s, source: SOURCE_CODE[s.source] }))
            : [];
          return entry(
            def.name,
            effective.value,
            SOURCE_CODE[effective.source],
            CONFIG_TYPE[def.type],
            synonyms,
            request.includeDocumentation ? def.documentation : null,
          );
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
        // Every broker key that sets a topic default: its value from the config file, else
        // Kafka's default for it (null where Kafka has none, as for log.retention.ms).
        const configs = [...BROKER_TOPIC_SYNONYMS.values()]
          .filter((synonym) => wanted(synonym.key))
          .map((synonym) => {
            const given = broker.settings.topicDefaults[synonym.key];
            const source = given !== undefined ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT;
            const value = given !== undefined ? given.trim() : synonym.defaultValue;
            const synonyms = request.includeSynonyms ? [{ name: synonym.key, value, source }] : [];
            return entry(synonym.key, value, source, CONFIG_TYPE[synonym.type], synonyms, null);
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
