// Authorization of HTTP requests with the Kafka port's principals and ACLs: each route asks
// for the operation Kafka checks for the equivalent Kafka request, for the principal the
// request authenticated as (User:ANONYMOUS with authentication off) and the HTTP peer
// address as the ACL host. The bundled clients the routes use then run as the broker's own
// principal, so the decision is made here, before they are called. Without an authorizer
// (authorizer.class.name unset) every check passes, as on the Kafka port.

import type * as http from 'node:http';
import type { Broker } from '../broker/broker';
import { normalizePeerAddress } from '../config/config';
import {
  AclOperation,
  CLUSTER_RESOURCE_NAME,
  OPERATION_NAMES,
  OPERATIONS_BY_RESOURCE_TYPE,
  RESOURCE_TYPE_NAMES,
  ResourceType,
} from '../security/acl';
import { KafkaPrincipal, principalToString } from '../security/principal';
import type { ClientSecurity } from '../security/client-config';
import { HttpError } from './http-errors';
import type { RequestAccess } from './request-auth';

/** The Kafka error name a refusal carries, by resource type. */
const FAILURE_CODES: Record<number, string> = {
  [ResourceType.TOPIC]: 'TOPIC_AUTHORIZATION_FAILED',
  [ResourceType.GROUP]: 'GROUP_AUTHORIZATION_FAILED',
  [ResourceType.CLUSTER]: 'CLUSTER_AUTHORIZATION_FAILED',
};

/** Resource names longer than this are cut in error answers (a path can carry anything). */
const NAME_IN_ERROR_MAX = 255;

/** Kafka's spelling of an operation (READ, DESCRIBE_CONFIGS, ...). */
export function operationName(operation: number): string {
  return OPERATION_NAMES[operation] ?? `OPERATION_${operation}`;
}

/** The names of the operations set in a Kafka authorized-operations bitfield, in code order. */
export function operationNames(mask: number, resourceType: number): string[] {
  return (OPERATIONS_BY_RESOURCE_TYPE[resourceType] ?? []).filter((op) => (mask & (1 << op)) !== 0).map(operationName);
}

/** The 403 for a refused operation: Kafka's error name, the operation and the resource. */
export function authorizationFailed(
  principal: KafkaPrincipal,
  operation: number,
  resourceType: number,
  name: string,
): HttpError {
  const shown = name.length > NAME_IN_ERROR_MAX ? `${name.slice(0, NAME_IN_ERROR_MAX)}...` : name;
  const type = RESOURCE_TYPE_NAMES[resourceType] ?? String(resourceType);
  const what = resourceType === ResourceType.CLUSTER ? 'the cluster' : `${type.toLowerCase()} ${JSON.stringify(shown)}`;
  return new HttpError(
    403,
    FAILURE_CODES[resourceType] ?? 'CLUSTER_AUTHORIZATION_FAILED',
    `${principalToString(principal)} is not authorized to ${operationName(operation)} ${what}`,
    {},
    { operation: operationName(operation), resourceType: type, resourceName: shown },
  );
}

/**
 * The principal the Kafka listener will give the bundled clients, when it follows from their
 * settings alone (PLAINTEXT: User:ANONYMOUS; SASL PLAIN/SCRAM: the user name), else null
 * (a certificate or a token names it).
 */
export function bundledClientPrincipal(security: ClientSecurity | undefined): string | null {
  const protocol = security?.protocol ?? 'PLAINTEXT';
  if (protocol === 'PLAINTEXT') return 'User:ANONYMOUS';
  const sasl = security?.sasl;
  if ((protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') && sasl && sasl.mechanism !== 'OAUTHBEARER')
    return `User:${sasl.username}`;
  return null;
}

/**
 * The warning logged at start when an authorizer is on and the bundled clients' principal is
 * known not to be a super user: the Kafka port would then refuse the requests they make for
 * HTTP users already authorized here. Null when there is nothing to say.
 */
export function bundledClientWarning(broker: Broker, security: ClientSecurity | undefined): string | null {
  const settings = broker.authorizer?.settings;
  if (!settings) return null;
  const principal = bundledClientPrincipal(security);
  if (principal === null || settings.superUsers.has(principal)) return null;
  return (
    `the HTTP API's clients reach the Kafka listener as ${principal}, which is not in super.users: with the ` +
    'authorizer on, the Kafka port will refuse what they do for HTTP users (authorized for their own principal ' +
    'before); add it to super.users, as the inter-broker principal should be'
  );
}

/** One request's principal and ACL host, and the checks the routes make with them. */
export class RequestAuthorization {
  constructor(
    private readonly broker: Broker,
    readonly principal: KafkaPrincipal,
    /** The client address ACLs' host field is matched against. */
    readonly host: string,
  ) {}

  static of(broker: Broker, req: http.IncomingMessage, access: RequestAccess): RequestAuthorization {
    return new RequestAuthorization(
      broker,
      access.identity.principal,
      normalizePeerAddress(req.socket.remoteAddress ?? ''),
    );
  }

  /** Whether an authorizer decides (false: everything is allowed). */
  get enabled(): boolean {
    return this.broker.authorizer !== null && this.broker.authorizer !== undefined;
  }

  get superUser(): boolean {
    const authorizer = this.broker.authorizer;
    return authorizer ? authorizer.isSuperUser(this.principal) : false;
  }

  allows(operation: number, resourceType: number, name: string): boolean {
    const authorizer = this.broker.authorizer;
    if (!authorizer) return true;
    return authorizer.authorize(this.principal, this.host, operation, resourceType, name);
  }

  /** Kafka's authorizeByResourceType: `operation` allowed on at least one resource of the type. */
  allowsAnyOfType(operation: number, resourceType: number): boolean {
    const authorizer = this.broker.authorizer;
    if (!authorizer) return true;
    return authorizer.authorizeByResourceType(this.principal, this.host, operation, resourceType);
  }

  topic(operation: number, name: string): boolean {
    return this.allows(operation, ResourceType.TOPIC, name);
  }

  group(operation: number, name: string): boolean {
    return this.allows(operation, ResourceType.GROUP, name);
  }

  cluster(operation: number): boolean {
    return this.allows(operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
  }

  /** Throws the 403 unless `operation` is allowed on the resource. */
  require(operation: number, resourceType: number, name: string): void {
    if (!this.allows(operation, resourceType, name))
      throw authorizationFailed(this.principal, operation, resourceType, name);
  }

  requireCluster(operation: number): void {
    this.require(operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
  }

  /**
   * Kafka's order for a request naming a topic: without `operation` and without Describe the
   * answer is TOPIC_AUTHORIZATION_FAILED whether or not the topic exists (its existence is
   * not told); `exists` (which throws the 404) runs only for those who may know it; then the
   * operation itself is required.
   */
  requireTopic<T>(operation: number, name: string, exists: () => T): T {
    const allowed = this.topic(operation, name);
    if (!allowed && !this.topic(AclOperation.DESCRIBE, name))
      throw authorizationFailed(this.principal, operation, ResourceType.TOPIC, name);
    const found = exists();
    if (!allowed) throw authorizationFailed(this.principal, operation, ResourceType.TOPIC, name);
    return found;
  }

  /** The operations allowed on a resource, by name (every applicable one without an authorizer). */
  operations(resourceType: number, name: string): string[] {
    const authorizer = this.broker.authorizer;
    const applicable = OPERATIONS_BY_RESOURCE_TYPE[resourceType] ?? [];
    if (!authorizer) return applicable.map(operationName);
    return operationNames(authorizer.authorizedOperations(this.principal, this.host, resourceType, name), resourceType);
  }

  /**
   * The topic operations allowed on at least one topic (Kafka's authorizeByResourceType per
   * operation), with the operations an allowed one implies, as on a single topic.
   */
  private operationsOnSomeTopic(): string[] {
    const some = (op: number) => this.allowsAnyOfType(op, ResourceType.TOPIC);
    const allowed = new Set((OPERATIONS_BY_RESOURCE_TYPE[ResourceType.TOPIC] ?? []).filter(some));
    const describing = [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER];
    if (describing.some((op) => allowed.has(op))) allowed.add(AclOperation.DESCRIBE);
    if (allowed.has(AclOperation.ALTER_CONFIGS)) allowed.add(AclOperation.DESCRIBE_CONFIGS);
    return (OPERATIONS_BY_RESOURCE_TYPE[ResourceType.TOPIC] ?? []).filter((op) => allowed.has(op)).map(operationName);
  }

  /**
   * What GET /api/v1/whoami adds: whether an authorizer decides, what this principal may do
   * on the cluster, and which topic operations it may perform on at least one topic.
   */
  summary() {
    return {
      authorizerEnabled: this.enabled,
      superUser: this.superUser,
      clusterOperations: this.operations(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME),
      topicOperations: this.operationsOnSomeTopic(),
      // CreateTopics passes with Create on the cluster or on the topic's own name.
      mayCreateTopics:
        this.cluster(AclOperation.CREATE) || this.allowsAnyOfType(AclOperation.CREATE, ResourceType.TOPIC),
    };
  }
}
