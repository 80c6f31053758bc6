// ACL bindings for tests: short forms for the common ones, and the shape kafkajs's
// admin.createAcls takes.

import {
  AclBinding,
  AclOperation,
  AclPermission,
  CLUSTER_RESOURCE_NAME,
  PatternType,
  ResourceType,
} from '../../src/security/acl';

/** A binding as kafkajs's admin.createAcls takes it (the same numeric codes as Kafka's). */
export function kafkajsAcl(b: AclBinding) {
  return {
    resourceType: b.resourceType,
    resourceName: b.resourceName,
    resourcePatternType: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permissionType: b.permissionType,
  };
}

export interface BindingOptions {
  pattern?: 'literal' | 'prefixed';
  deny?: boolean;
  host?: string;
}

/** One binding: `user` (a name, or * for every principal) may (or, deny, may not) `operation` the resource. */
export function binding(
  user: string,
  operation: number,
  resourceType: number,
  resourceName: string,
  options: BindingOptions = {},
): AclBinding {
  return {
    resourceType,
    resourceName,
    patternType: options.pattern === 'prefixed' ? PatternType.PREFIXED : PatternType.LITERAL,
    principal: `User:${user}`,
    host: options.host ?? '*',
    operation,
    permissionType: options.deny ? AclPermission.DENY : AclPermission.ALLOW,
  };
}

export const topicAcl = (user: string, operation: number, topic: string, options?: BindingOptions) =>
  binding(user, operation, ResourceType.TOPIC, topic, options);

export const groupAcl = (user: string, operation: number, group: string, options?: BindingOptions) =>
  binding(user, operation, ResourceType.GROUP, group, options);

export const clusterAcl = (user: string, operation: number, options?: BindingOptions) =>
  binding(user, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, options);

export { AclOperation as Op };
