// The authorizer check handlers make: Kafka's operation on a resource for the request's
// principal and client address. Without an authorizer (authorizer.class.name unset) every
// check passes, as in Kafka.

import type { RequestContext } from './api-handler';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  CLUSTER_RESOURCE_NAME,
  OPERATIONS_BY_RESOURCE_TYPE as OPERATIONS,
  ResourceType,
} from '../security/acl';

/** Whether the request's principal may perform `operation` on the resource. */
export function authorized(ctx: RequestContext, operation: number, resourceType: number, name: string): boolean {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return true;
  return authorizer.authorize(
    ctx.connection.security.principal,
    ctx.connection.clientAddress,
    operation,
    resourceType,
    name,
  );
}

/** Whether the request's principal may perform `operation` on the cluster. */
export function clusterAuthorized(ctx: RequestContext, operation: number): boolean {
  return authorized(ctx, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** Kafka's authorizeByResourceType: `operation` allowed on at least one resource of the type. */
export function authorizedOnAnyOfType(ctx: RequestContext, operation: number, resourceType: number): boolean {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return true;
  return authorizer.authorizeByResourceType(
    ctx.connection.security.principal,
    ctx.connection.clientAddress,
    operation,
    resourceType,
  );
}

/**
 * The `*_authorized_operations` bitfield for a resource when the client asked for it
 * (Integer.MIN_VALUE when it did not). Without an authorizer every applicable operation is
 * reported, as Kafka reports for a cluster without one.
 */
export function authorizedOperations(
  ctx: RequestContext,
  requested: boolean,
  resourceType: number,
  name: string,
): number {
  if (!requested) return AUTHORIZED_OPERATIONS_OMITTED;
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return allOperationsOf(resourceType);
  return authorizer.authorizedOperations(
    ctx.connection.security.principal,
    ctx.connection.clientAddress,
    resourceType,
    name,
  );
}

function allOperationsOf(resourceType: number): number {
  let mask = 0;
  for (const op of OPERATIONS[resourceType] ?? []) mask |= 1 << op;
  return mask;
}

/**
 * One operation on topics, checked once per topic name for the life of one request
 * (Kafka's filterByAuthorized): a request naming a topic's partitions many times asks the
 * authorizer once. Without an authorizer every topic passes.
 */
export function topicAuthorizer(ctx: RequestContext, operation: number): (topic: string) => boolean {
  if (!ctx.broker.authorizer) return everyTopic;
  const decided = new Map<string, boolean>();
  return (topic) => {
    let allowed = decided.get(topic);
    if (allowed === undefined) {
      allowed = authorized(ctx, operation, ResourceType.TOPIC, topic);
      decided.set(topic, allowed);
    }
    return allowed;
  };
}

const everyTopic = () => true;
