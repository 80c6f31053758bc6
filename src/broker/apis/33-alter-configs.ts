// AlterConfigs (key 33), versions 0-2 (v2 flexible): the legacy form of
// IncrementalAlterConfigs, which kafkajs's alterConfigs sends. The configs given for a
// topic replace all of its overrides, as in Kafka: each given one is a SET, each override
// not given a DELETE (back to the broker default). A null value is refused for the whole
// resource with Kafka's message. The change then takes IncrementalAlterConfigs' path (44):
// the same checks (Kafka's INVALID_CONFIG messages), the same authorization (AlterConfigs
// on the topic, Alter too for a change of unclean.leader.election.enable or
// min.insync.replicas), the same forwarding to the active controller. A broker resource's
// given configs likewise replace all of its dynamic configs.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { ApiHandler } from '../api-handler';
import { incrementalAlterConfigs } from './44-incremental-alter-configs';

const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;

type Resource = Request<typeof ApiKey.AlterConfigs>['resources'][number];
type AlterResponse = ResponseInput<typeof ApiKey.AlterConfigs>;

export const alterConfigs: ApiHandler<typeof ApiKey.AlterConfigs> = {
  apiKey: ApiKey.AlterConfigs,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const refused: AlterResponse['responses'] = [];
    const incremental: Request<typeof ApiKey.IncrementalAlterConfigs>['resources'] = [];
    for (const resource of request.resources) {
      const nullValued = resource.configs.filter((c) => c.value === null).map((c) => c.name);
      if (resource.resourceType === TOPIC && nullValued.length > 0) {
        refused.push({
          errorCode: ErrorCode.INVALID_CONFIG,
          errorMessage: `Null value not supported for topic configs: ${nullValued.join(',')}`,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
        });
        continue;
      }
      incremental.push({
        resourceType: resource.resourceType,
        resourceName: resource.resourceName,
        configs: wholeSetChanges(
          resource,
          resource.resourceType === BROKER
            ? Object.fromEntries(ctx.broker.quorum.image.configs.get(BROKER)?.get(resource.resourceName) ?? [])
            : ctx.broker.quorum.image.topicConfigs(resource.resourceName),
        ),
      });
    }
    const answer =
      incremental.length === 0
        ? { throttleTimeMs: 0, responses: [] }
        : ((await incrementalAlterConfigs.handle(
            // IncrementalAlterConfigs v0 carries every field of the legacy request.
            { ...ctx, header: { ...ctx.header, apiKey: ApiKey.IncrementalAlterConfigs, apiVersion: 0 } },
            { resources: incremental, validateOnly: request.validateOnly },
          )) as AlterResponse);
    return { throttleTimeMs: answer.throttleTimeMs, responses: [...answer.responses, ...refused] };
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

/** The incremental operations that make a topic's overrides exactly the configs given. */
function wholeSetChanges(resource: Resource, overrides: Record<string, string>) {
  const given = new Set(resource.configs.map((c) => c.name));
  const changes = resource.configs.map((c) => ({ name: c.name, configOperation: SET, value: c.value }));
  if (resource.resourceType !== TOPIC && resource.resourceType !== BROKER) return changes;
  for (const name of Object.keys(overrides))
    if (!given.has(name)) changes.push({ name, configOperation: DELETE, value: null });
  return changes;
}
