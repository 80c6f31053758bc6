// DescribeConfigs (key 32), versions 0-4.
// v1: includeSynonyms, config source and synonyms replace isDefault. v2: same as v1.
// v3: includeDocumentation, config type and documentation. v4: flexible.
// Topics (resource type 2) list every Kafka topic config with its effective value and
// source (the topic's override, a broker key of the config file, or Kafka's default), the
// synonym chain when asked (include_synonyms: override, broker keys set, broker defaults),
// and type and documentation (v3+). The broker (type 4) lists every broker key Brook has
// (broker-configs.ts) with its value and source (per-broker dynamic, cluster-default
// dynamic, static, default), read_only for the keys that cannot change at runtime, and
// sensitive keys with a null value; the empty name lists the cluster-wide dynamic defaults.
// A broker logger (type 8) is the root logger at log.level.
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
  effectiveTopicConfig,
  TOPIC_CONFIGS,
  topicConfigSynonyms,
  TopicConfigSource,
  TopicConfigType,
} from '../topic-config';
import { CONFIG_SOURCE_CODE, describeBrokerConfigs, dynamicBrokerConfigs } from '../broker-configs';

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
const SOURCE_DYNAMIC_BROKER_LOGGER = 6;
const CONFIG_TYPE_PASSWORD = 9;

/** A broker built without its static keys (tests in-process): its topic-default keys. */
function staticFromSettings(topicDefaults: Record<string, string>): Record<string, string> {
  return { ...topicDefaults };
}

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
      const invalidRequest = (message: string) => ({
        ...base,
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: message,
        configs: [],
      });
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
        // A broker key set dynamically is reported with its dynamic source, as in Kafka.
        const dynamic = dynamicBrokerConfigs(broker.quorum.image, broker.nodeId);
        const brokerSource = (key: string) =>
          dynamic.perBroker[key] !== undefined
            ? CONFIG_SOURCE_CODE['dynamic-broker']
            : dynamic.clusterDefault[key] !== undefined
              ? CONFIG_SOURCE_CODE['dynamic-default']
              : SOURCE_STATIC_BROKER;
        const code = (source: TopicConfigSource, key: string) =>
          source === 'broker' ? brokerSource(key) : SOURCE_CODE[source];
        const configs = TOPIC_CONFIGS.filter((def) => wanted(def.name)).map((def) => {
          const effective = effectiveTopicConfig(def, defaults, topic.configs);
          const synonyms = request.includeSynonyms
            ? topicConfigSynonyms(def, defaults, topic.configs).map((s) => ({ ...s, source: code(s.source, s.name) }))
            : [];
          const setKey = def.synonyms.find((s) => defaults[s.key] !== undefined)?.key ?? def.name;
          return entry(
            def.name,
            effective.value,
            code(effective.source, setKey),
            CONFIG_TYPE[def.type],
            synonyms,
            request.includeDocumentation ? def.documentation : null,
          );
        });
        return { ...base, configs };
      }
      if (resource.resourceType === RESOURCE_BROKER) {
        // Kafka's ConfigHelper: the empty name is the cluster-wide default (the dynamic
        // default keys only), this broker's id every key it has, another id an error.
        const name = resource.resourceName;
        if (name !== '' && !/^-?\d{1,10}$/.test(name))
          return invalidRequest(`Broker id must be an integer, but it is: ${name}`);
        if (name !== '' && Number(name) !== broker.nodeId)
          return invalidRequest(
            `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`,
          );
        const entries = describeBrokerConfigs(
          broker.settings.staticConfig ?? staticFromSettings(broker.settings.topicDefaults),
          dynamicBrokerConfigs(broker.quorum.image, broker.nodeId),
          name !== '',
          { 'offsets.topic.replication.factor': String(broker.settings.offsetsTopicReplicationFactor ?? 1) },
        );
        const configs = entries
          .filter((e) => wanted(e.name))
          .map((e) => ({
            name: e.name,
            value: e.value,
            readOnly: e.readOnly,
            isDefault: e.source === 'default',
            configSource: CONFIG_SOURCE_CODE[e.source],
            isSensitive: e.sensitive,
            synonyms: request.includeSynonyms
              ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCE_CODE[s.source] }))
              : [],
            configType: e.type === 'password' ? CONFIG_TYPE_PASSWORD : CONFIG_TYPE[e.type],
            documentation: request.includeDocumentation ? e.documentation : null,
          }));
        return { ...base, configs };
      }
      if (resource.resourceType === RESOURCE_BROKER_LOGGER) {
        const name = resource.resourceName;
        if (name === '') return invalidRequest('Broker id must not be empty');
        if (!/^-?\d{1,10}$/.test(name)) return invalidRequest(`Broker id must be an integer, but it is: ${name}`);
        if (Number(name) !== broker.nodeId)
          return invalidRequest(`Unexpected broker id, expected ${broker.nodeId} but received ${name}`);
        // Brook has one logger, the root, at the level of log.level.
        const level = (broker.settings.staticConfig?.['log.level'] ?? 'info').toUpperCase();
        const configs = wanted('root')
          ? [
              {
                name: 'root',
                value: level === 'SILENT' ? 'OFF' : level,
                readOnly: false,
                isDefault: false,
                configSource: SOURCE_DYNAMIC_BROKER_LOGGER,
                isSensitive: false,
                synonyms: [],
                configType: CONFIG_TYPE.string,
                documentation: null,
              },
            ]
          : [];
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
