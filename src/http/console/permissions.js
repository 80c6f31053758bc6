// What the console offers the logged-in principal: decided from GET /api/v1/whoami (whether
// an authorizer is on, the cluster operations, whether topics may be created) and from the
// authorizedOperations the topic and group answers carry. Only a convenience: the node
// checks every request itself and answers 403 to what is not allowed. A node that sends no
// such fields (an older one) gets every control shown, as before.

let whoami = null;

/** Remembers the whoami answer the console started with. */
export function setWhoami(answer) {
  whoami = answer && typeof answer === 'object' ? answer : null;
}

/** Whether `operation` (READ, WRITE, DELETE, ...) is among a resource's authorizedOperations. */
export function allows(resource, operation) {
  const operations = resource?.authorizedOperations;
  if (!Array.isArray(operations)) return true;
  return operations.includes(operation) || operations.includes('ALL');
}

/** Whether the principal may perform `operation` on the cluster. */
export function allowsCluster(operation, answer = whoami) {
  const operations = answer?.clusterOperations;
  if (!Array.isArray(operations)) return true;
  return operations.includes(operation);
}

/** Whether `operation` is allowed on at least one topic (the produce and messages pages). */
export function allowsSomeTopic(operation, answer = whoami) {
  const operations = answer?.topicOperations;
  if (!Array.isArray(operations)) return true;
  return operations.includes(operation);
}

/** Whether the create-topic form is offered. */
export function mayCreateTopics(answer = whoami) {
  return answer?.mayCreateTopics !== false;
}

/** Whether the cluster overview (brokers, totals, quorum) can be shown. */
export function mayDescribeCluster(answer = whoami) {
  return allowsCluster('DESCRIBE', answer);
}

/** The controls of a topic (from its list entry or its description). */
export function topicActions(topic) {
  const internal = topic?.internal === true;
  return {
    read: allows(topic, 'READ'),
    produce: !internal && allows(topic, 'WRITE'),
    delete: !internal && allows(topic, 'DELETE'),
    addPartitions: !internal && allows(topic, 'ALTER'),
    describeConfigs: allows(topic, 'DESCRIBE_CONFIGS'),
    editConfigs: !internal && allows(topic, 'ALTER_CONFIGS'),
  };
}

/** The controls of a consumer group: resetting offsets needs Read, deleting needs Delete. */
export function groupActions(group) {
  return { resetOffsets: allows(group, 'READ'), delete: allows(group, 'DELETE') };
}
