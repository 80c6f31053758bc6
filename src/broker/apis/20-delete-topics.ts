// DeleteTopics (key 20), versions 0-6.
// v1: throttle time. v4: flexible. v5: per-topic error messages. v6: topics named by name
// or by topic id (the request's Topics array replaces TopicNames).
//
// From v6 each entry names a topic by name (with the zero id) or by id (with a null name),
// checked as Kafka's ControllerApis.deleteTopics checks them: both given, or neither, is
// INVALID_REQUEST; a name or an id given twice is INVALID_REQUEST for it; a name that maps
// to an id also given by id is INVALID_REQUEST. An unknown name is UNKNOWN_TOPIC_OR_PARTITION,
// an unknown id UNKNOWN_TOPIC_ID (also the id of a topic deleted and created again: the new
// topic has a new id, and the old id names nothing).
//
// Authorization as Kafka's controller does it, on the node that received the request and
// before anything is forwarded: Delete on the cluster allows every topic; otherwise a topic
// needs Delete on it. A name the principal may not Describe is answered
// TOPIC_AUTHORIZATION_FAILED whether or not the topic exists; a known one it may Describe
// but not Delete, TOPIC_AUTHORIZATION_FAILED. A topic given by id that it may not Delete is
// answered TOPIC_AUTHORIZATION_FAILED with its name only when it may Describe it (null
// otherwise, so that ids do not reveal names). Malformed and repeated entries are answered as
// above whatever the ACLs.
//
// The internal topics (__consumer_offsets, __transaction_state) cannot be deleted by any
// client, super users included: INVALID_REQUEST. Kafka's brokers have no such rule (only its
// command-line tool refuses); here the group coordinator depends on the offsets topic.

import { ApiKey } from '../../../protocol/api-keys';
import { ErrorCode } from '../../../protocol/errors';
import { ZERO_UUID } from '../../../protocol/primitives';
import type { Request, ResponseInput } from '../../../protocol/apis';
import { ApiHandler, RequestContext } from '../api-handler';
import { authorized, clusterAuthorized } from '../authorize';
import { AclOperation, ResourceType } from '../../security/acl';
import { isInternalTopic } from '../../../protocol/topic-names';
import type { TopicInfo } from '../topic-registry';
import { controllerMutationQuota, THROTTLING_QUOTA_EXCEEDED_MESSAGE } from '../quota-manager';

/** A topic to delete, by name (v0-5) or by name or id (v6+). */
type Target = Request<typeof ApiKey.DeleteTopics>['topics'][number];

interface Answer {
  name: string | null;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

function targets(request: Request<typeof ApiKey.DeleteTopics>, version: number): Target[] {
  if (version >= 6) return request.topics;
  return request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
}

/** Counts of each value, to find the ones given more than once. */
function counts(values: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

type DeleteRequest = Request<typeof ApiKey.DeleteTopics>;
type DeleteResponse = ResponseInput<typeof ApiKey.DeleteTopics>;

/**
 * The well-formed, unrepeated entries the principal may not delete, with their answers; the
 * others go on to the controller.
 */
function deniedDeletions(ctx: RequestContext, entries: Target[]): Map<Target, Answer> {
  const denied = new Map<Target, Answer>();
  if (clusterAuthorized(ctx, AclOperation.DELETE)) return denied;
  const names = counts(entries.filter((t) => t.name !== null && t.topicId === ZERO_UUID).map((t) => t.name!));
  const ids = counts(entries.filter((t) => t.name === null && t.topicId !== ZERO_UUID).map((t) => t.topicId));
  const may = (operation: number, name: string) => authorized(ctx, operation, ResourceType.TOPIC, name);
  const refusal = (name: string | null, topicId: string): Answer => ({
    name,
    topicId,
    errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    errorMessage: 'Topic authorization failed.',
  });
  for (const target of entries) {
    if (target.name !== null && target.topicId === ZERO_UUID && names.get(target.name) === 1) {
      if (!may(AclOperation.DESCRIBE, target.name)) denied.set(target, refusal(target.name, ZERO_UUID));
      else if (ctx.broker.topics.get(target.name) && !may(AclOperation.DELETE, target.name))
        denied.set(target, refusal(target.name, ZERO_UUID));
    } else if (target.name === null && target.topicId !== ZERO_UUID && ids.get(target.topicId) === 1) {
      const info = ctx.broker.topics.getById(target.topicId);
      if (info && !may(AclOperation.DELETE, info.name))
        denied.set(target, refusal(may(AclOperation.DESCRIBE, info.name) ? info.name : null, target.topicId));
    }
  }
  return denied;
}

export const deleteTopics: ApiHandler<typeof ApiKey.DeleteTopics> = {
  apiKey: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  async handle(ctx, request) {
    const version = ctx.header.apiVersion;
    if (ctx.broker.authorizer === null) return remove(ctx, request);
    const entries = targets(request, version);
    if (entries.length > ctx.broker.settings.maxPartitionsPerRequest)
      return this.errorResponse(request, ErrorCode.INVALID_REQUEST, version);
    const denied = deniedDeletions(ctx, entries);
    if (denied.size === 0) return remove(ctx, request);
    const permitted: DeleteRequest =
      version >= 6
        ? { ...request, topics: request.topics.filter((t) => !denied.has(t)) }
        : { ...request, topicNames: entries.filter((t) => !denied.has(t)).map((t) => t.name!) };
    const response: DeleteResponse =
      targets(permitted, version).length === 0 ? { throttleTimeMs: 0, responses: [] } : await remove(ctx, permitted);
    for (const answer of denied.values()) response.responses.push(answer);
    return response;
  },
  errorResponse(request, errorCode, version) {
    return {
      throttleTimeMs: 0,
      responses: targets(request, version).map((t) => ({
        name: t.name,
        topicId: t.topicId,
        errorCode,
        errorMessage: null,
      })),
    };
  },
};

/** The deletion itself: forwarded to the active controller, or decided here when this node is it. */
async function remove(ctx: RequestContext, request: DeleteRequest): Promise<DeleteResponse> {
  if (!ctx.broker.quorum.isLeader) {
    // Admin writes go to the active controller; its answer is passed back unchanged.
    const forwarded = await ctx.broker.forwardToController(
      ApiKey.DeleteTopics,
      ctx.header.apiVersion,
      request,
      ctx.header.clientId,
    );
    return (
      (forwarded as DeleteResponse | null) ??
      deleteTopics.errorResponse(request, ErrorCode.NOT_CONTROLLER, ctx.header.apiVersion)
    );
  }
  const { broker, header } = ctx;
  const quota = controllerMutationQuota(ctx, 5);
  const entries = targets(request, header.apiVersion);
  if (entries.length > broker.settings.maxPartitionsPerRequest)
    return deleteTopics.errorResponse(request, ErrorCode.INVALID_REQUEST, header.apiVersion);
  const byName = (t: Target) => t.name !== null && t.topicId === ZERO_UUID;
  const byId = (t: Target) => t.name === null && t.topicId !== ZERO_UUID;
  const nameCounts = counts(entries.filter(byName).map((t) => t.name!));
  const idCounts = counts(entries.filter(byId).map((t) => t.topicId));
  // Ids named by id, to catch a name that maps to one of them.
  const idsGiven = new Set(idCounts.keys());
  const responses: Answer[] = [];
  const refuse = (name: string | null, topicId: string, errorCode: number, errorMessage: string) =>
    responses.push({ name, topicId, errorCode, errorMessage });
  const reported = new Set<string>();
  const toDelete: TopicInfo[] = [];
  for (const target of entries) {
    if (target.name !== null && target.topicId !== ZERO_UUID) {
      refuse(
        target.name,
        target.topicId,
        ErrorCode.INVALID_REQUEST,
        'You may not specify both topic name and topic id.',
      );
      continue;
    }
    if (target.name === null && target.topicId === ZERO_UUID) {
      refuse(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.');
      continue;
    }
    if (target.name !== null) {
      if (nameCounts.get(target.name)! > 1) {
        if (!reported.has(`name:${target.name}`))
          refuse(target.name, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.');
        reported.add(`name:${target.name}`);
        continue;
      }
      const info = broker.topics.get(target.name);
      if (!info) {
        refuse(target.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic.');
        continue;
      }
      if (idsGiven.has(info.topicId)) {
        refuse(
          target.name,
          info.topicId,
          ErrorCode.INVALID_REQUEST,
          'The provided topic name maps to an ID that was already supplied.',
        );
        continue;
      }
      toDelete.push(info);
      continue;
    }
    if (idCounts.get(target.topicId)! > 1) {
      if (!reported.has(`id:${target.topicId}`))
        refuse(null, target.topicId, ErrorCode.INVALID_REQUEST, 'Duplicate topic id.');
      reported.add(`id:${target.topicId}`);
      continue;
    }
    const info = broker.topics.getById(target.topicId);
    if (!info) {
      refuse(null, target.topicId, ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
      continue;
    }
    // An id that some name in the request also maps to was refused with that name; the
    // id is not deleted either (Kafka drops both).
    if (entries.some((t) => byName(t) && t.name === info.name)) {
      if (nameCounts.get(info.name) === 1) continue;
    }
    toDelete.push(info);
  }
  for (const info of toDelete) {
    if (isInternalTopic(info.name)) {
      refuse(
        info.name,
        info.topicId,
        ErrorCode.INVALID_REQUEST,
        `Topic ${info.name} is an internal topic and cannot be deleted.`,
      );
      continue;
    }
    if (!quota.admit(info.partitions)) {
      refuse(info.name, info.topicId, ErrorCode.THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE);
      continue;
    }
    const errorCode = await broker.deleteTopic(info.name);
    responses.push({
      name: info.name,
      topicId: info.topicId,
      errorCode,
      errorMessage: errorCode === ErrorCode.NONE ? null : 'not deleted: this node is not the active controller',
    });
  }
  return { throttleTimeMs: 0, responses };
}
