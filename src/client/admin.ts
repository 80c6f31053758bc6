// The bundled admin client: topics (create, delete, describe with offsets and configs,
// alter configs, add partitions, delete records below an offset), consumer groups (list across
// brokers, describe, reset offsets of an empty group, delete), the cluster (brokers, controller,
// cluster id, log directories, leader elections, broker unregistration), active producers,
// SCRAM users (describe; set and delete, the password salted and hashed here so that it never
// travels), ACLs (create, describe, delete) and client quotas (describe by filter, alter). Writes go
// to the controller the metadata names (any Brook broker would forward them), and are sent
// again while the answer is NOT_CONTROLLER (the controller moved), as Kafka's admin client
// does; Kafka errors become KafkaError with the error's name and the broker's message.

import { ErrorCode, errorInfo } from '../../protocol/errors';
import { isInternalTopic } from '../../protocol/topic-names';
import { ClientOptions, Cluster, KafkaError, PartitionMetadata } from './cluster';
import { decodeAssignmentBytes } from '../../protocol/consumer-protocol';
import { ApiKey } from '../../protocol/api-keys';
import type { RequestInput, Response } from '../../protocol/apis';
import { randomBytes } from 'node:crypto';
import {
  saltedPassword,
  SCRAM_ITERATIONS_MIN,
  SCRAM_SALT_BYTES,
  ScramMechanism,
  isScramMechanism,
} from '../security/scram';
import type { AclBinding, AclFilter } from '../security/acl';

/** How long a controller write is retried while the answer is NOT_CONTROLLER. */
const CONTROLLER_RETRY_MS = 30_000;

export interface NewTopic {
  name: string;
  /** -1 (default): the broker's num.partitions. */
  partitions?: number;
  /** -1 (default): the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface TopicDescription {
  name: string;
  partitions: (PartitionMetadata & { logStartOffset: number; logEndOffset: number })[];
  configs: Record<string, { value: string | null; source: number; readOnly: boolean }>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; clientHost: string; assignment: Record<string, number[]> }[];
  offsets: { topic: string; partition: number; offset: number; logEndOffset: number; lag: number }[];
}

/** One broker's log directories and the partitions in each (DescribeLogDirs). */
export interface BrokerLogDirs {
  brokerId: number;
  /** Why the broker could not describe its log directories; null when it did. */
  error: string | null;
  logDirs: {
    path: string;
    errorCode: number;
    /** The volume's total and usable bytes; -1 when the broker does not say. */
    totalBytes: number;
    usableBytes: number;
    partitions: { topic: string; partition: number; sizeBytes: number; offsetLag: number }[];
  }[];
}

/** One partition's active producers (DescribeProducers). */
export interface PartitionProducers {
  partition: number;
  errorCode: number;
  producers: {
    producerId: number;
    producerEpoch: number;
    lastSequence: number;
    lastTimestamp: number;
    coordinatorEpoch: number;
    currentTxnStartOffset: number;
  }[];
}

/** A change to one user's SCRAM credential for one mechanism. */
export type ScramAlteration =
  | { kind: 'upsert'; user: string; mechanism: ScramMechanism; password: string; iterations?: number }
  | { kind: 'delete'; user: string; mechanism: ScramMechanism };

export interface ScramUserDescription {
  user: string;
  credentials: { mechanism: ScramMechanism | `UNKNOWN(${number})`; iterations: number }[];
}

/**
 * A client quota entity as Kafka's ClientQuotaEntity: entity type (user, client-id, ip) to
 * name, a null name being the type's default entity.
 */
export type ClientQuotaEntity = Record<string, string | null>;

/** One component of a DescribeClientQuotas filter (Kafka's ClientQuotaFilterComponent). */
export type ClientQuotaFilterComponent =
  | { entityType: string; match: 'exact'; name: string }
  | { entityType: string; match: 'default' }
  | { entityType: string; match: 'specified' };

/** Changes to one entity's quotas: a value sets the key, null removes it. */
export interface ClientQuotaAlteration {
  entity: ClientQuotaEntity;
  ops: { key: string; value: number | null }[];
}

/** One partition whose records below `offset` are to be deleted (-1: below the high watermark). */
export interface RecordsToDelete {
  topic: string;
  partition: number;
  offset: number;
}

/** What DeleteRecords did to a partition: its low watermark (the new log start) or the error. */
export interface DeletedRecords {
  topic: string;
  partition: number;
  errorCode: number;
  /** The error's name, null when there is none. */
  error: string | null;
  lowWatermark: number;
}

/** DeleteRecords' default wait for every replica to take the new start (Kafka's admin default). */
const DELETE_RECORDS_TIMEOUT_MS = 30_000;

const QUOTA_MATCH_TYPES = { exact: 0, default: 1, specified: 2 } as const;

function entityPairs(entity: ClientQuotaEntity): { entityType: string; entityName: string | null }[] {
  return Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName }));
}

function entityOf(pairs: { entityType: string; entityName: string | null }[]): ClientQuotaEntity {
  return Object.fromEntries(pairs.map((p) => [p.entityType, p.entityName]));
}

/** The protocol's SCRAM mechanism numbers (Kafka's ScramMechanism.type). */
const SCRAM_MECHANISM_TYPES: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

function scramMechanismName(type: number): ScramMechanism | `UNKNOWN(${number})` {
  const name = type === 1 ? 'SCRAM-SHA-256' : type === 2 ? 'SCRAM-SHA-512' : '';
  return isScramMechanism(name) ? name : `UNKNOWN(${type})`;
}

export class Admin {
  readonly cluster: Cluster;

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(options);
  }

  async connect(): Promise<void> {
    await this.cluster.refreshMetadata(null);
  }

  private async controller() {
    if (this.cluster.controllerId < 0 || !this.cluster.brokers.has(this.cluster.controllerId))
      await this.cluster.refreshMetadata(null);
    try {
      return await this.cluster.broker(this.cluster.controllerId);
    } catch {
      return this.cluster.anyBroker();
    }
  }

  /**
   * Sends a request to the controller; while the answer carries NOT_CONTROLLER (nothing was
   * done: the controller moved), refreshes the metadata, backs off and sends it again, up
   * to CONTROLLER_RETRY_MS.
   */
  private async toController<K extends ApiKey>(
    apiKey: K,
    body: RequestInput<K>,
    errorCodes: (answer: Response<K>) => number[],
  ): Promise<Response<K>> {
    const deadline = Date.now() + CONTROLLER_RETRY_MS;
    for (let attempt = 0; ; attempt++) {
      const broker = await this.controller();
      const answer = await broker.request(apiKey, body);
      if (!errorCodes(answer).includes(ErrorCode.NOT_CONTROLLER) || Date.now() >= deadline) return answer;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
      // The next attempt goes to the controller this refresh finds, or to the same one again.
      await this.cluster
        .refreshMetadata(null)
        .catch((error) => this.cluster.report('metadata refresh while the controller moved', error));
    }
  }

  async createTopics(topics: NewTopic[]): Promise<{ name: string; topicId: string }[]> {
    const answer = await this.toController(
      ApiKey.CreateTopics,
      {
        topics: topics.map((t) => ({
          name: t.name,
          numPartitions: t.partitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          assignments: [],
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
        timeoutMs: 30_000,
        validateOnly: false,
      },
      (a) => a.topics.map((t: { errorCode: number }) => t.errorCode),
    );
    const failed = answer.topics.find((t) => t.errorCode !== ErrorCode.NONE);
    if (failed) throw new KafkaError(failed.errorCode, `create topic ${failed.name}`, failed.errorMessage ?? null);
    // The topics exist; a failed refresh only leaves the cache to be filled on first use.
    await this.cluster
      .refreshMetadata(topics.map((t) => t.name))
      .catch((error) => this.cluster.report('metadata refresh after create topics', error));
    return answer.topics.map((t) => ({ name: t.name, topicId: t.topicId }));
  }

  async deleteTopics(names: string[]): Promise<void> {
    const answer = await this.toController(
      ApiKey.DeleteTopics,
      {
        topics: names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
        topicNames: names,
        timeoutMs: 30_000,
      },
      (a) => a.responses.map((r: { errorCode: number }) => r.errorCode),
    );
    const failed = answer.responses.find((r) => r.errorCode !== ErrorCode.NONE);
    if (failed) throw new KafkaError(failed.errorCode, `delete topic ${failed.name}`);
    for (const name of names) this.cluster.topics.delete(name);
  }

  async createPartitions(topic: string, totalCount: number): Promise<void> {
    const answer = await this.toController(
      ApiKey.CreatePartitions,
      { topics: [{ name: topic, count: totalCount, assignments: null }], timeoutMs: 30_000, validateOnly: false },
      (a) => a.results.map((r: { errorCode: number }) => r.errorCode),
    );
    const result = answer.results[0];
    if (result.errorCode !== ErrorCode.NONE)
      throw new KafkaError(result.errorCode, `create partitions of ${topic}`, result.errorMessage ?? null);
    this.cluster.topics.delete(topic);
  }

  /** Topic configs as the broker reports them (value, source, read-only). */
  async describeConfigs(topic: string): Promise<TopicDescription['configs']> {
    const broker = await this.cluster.anyBroker();
    const answer = await broker.request(ApiKey.DescribeConfigs, {
      resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const result = answer.results[0];
    if (result.errorCode !== ErrorCode.NONE) throw new KafkaError(result.errorCode, `describe configs of ${topic}`);
    return Object.fromEntries(
      result.configs.map((c) => [c.name, { value: c.value, source: c.configSource, readOnly: c.readOnly }]),
    );
  }

  /** Sets configs (`set`) and puts others back to their defaults (`reset`). */
  async alterTopicConfigs(topic: string, change: { set?: Record<string, string>; reset?: string[] }): Promise<void> {
    const configs = [
      ...Object.entries(change.set ?? {}).map(([name, value]) => ({ name, configOperation: 0, value })),
      ...(change.reset ?? []).map((name) => ({ name, configOperation: 1, value: null })),
    ];
    const answer = await this.toController(
      ApiKey.IncrementalAlterConfigs,
      { resources: [{ resourceType: 2, resourceName: topic, configs }], validateOnly: false },
      (a) => a.responses.map((r: { errorCode: number }) => r.errorCode),
    );
    const result = answer.responses[0];
    if (result.errorCode !== ErrorCode.NONE)
      throw new KafkaError(result.errorCode, `alter configs of ${topic}`, result.errorMessage ?? null);
  }

  /** Earliest (-2) or latest (-1) offsets of a topic's partitions, asked of each leader. */
  async listOffsets(topic: string, which: 'earliest' | 'latest'): Promise<Map<number, number>> {
    const [meta] = await this.cluster.refreshMetadata([topic]);
    if (!meta || meta.errorCode !== ErrorCode.NONE)
      throw new KafkaError(meta?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic}`);
    const timestamp = which === 'earliest' ? -2 : -1;
    const listed = await this.cluster.listOffsets(
      meta.partitions.map((p) => ({ topic, partition: p.partition, timestamp })),
      { refresh: false },
    );
    const unreachable = listed.find((l) => l.cause !== undefined);
    if (unreachable) throw unreachable.cause;
    return new Map(listed.filter((l) => l.errorCode === ErrorCode.NONE).map((l) => [l.partition, l.offset]));
  }

  /**
   * Deletes the records below each offset (DeleteRecords, sent to each partition's leader;
   * a partition whose leader moved is sent once more after a metadata refresh). Resolves with
   * every partition's low watermark or error; rejects only when a leader cannot be reached.
   */
  async deleteRecords(wanted: RecordsToDelete[], options: { timeoutMs?: number } = {}): Promise<DeletedRecords[]> {
    const results: DeletedRecords[] = wanted.map((w) => ({
      topic: w.topic,
      partition: w.partition,
      errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
      error: 'LEADER_NOT_AVAILABLE',
      lowWatermark: -1,
    }));
    const retriable = new Set<number>([
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      ErrorCode.LEADER_NOT_AVAILABLE,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    let pending = wanted.map((_, i) => i);
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      const topics = await this.cluster.refreshMetadata([...new Set(pending.map((i) => wanted[i].topic))]);
      const byLeader = new Map<number, number[]>();
      for (const i of pending) {
        const topic = topics.find((t) => t.name === wanted[i].topic);
        const partition = topic?.partitions.find((p) => p.partition === wanted[i].partition);
        const missing = !topic
          ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : topic.errorCode !== ErrorCode.NONE
            ? topic.errorCode
            : !partition
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.NONE;
        if (missing !== ErrorCode.NONE)
          results[i] = { ...results[i], errorCode: missing, error: errorInfo(missing).name };
        else if (partition!.leader >= 0)
          byLeader.set(partition!.leader, [...(byLeader.get(partition!.leader) ?? []), i]);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, indexes]) => {
          const byTopic = new Map<string, number[]>();
          for (const i of indexes) byTopic.set(wanted[i].topic, [...(byTopic.get(wanted[i].topic) ?? []), i]);
          const broker = await this.cluster.broker(leader);
          const answer = await broker.request(ApiKey.DeleteRecords, {
            topics: [...byTopic].map(([name, ids]) => ({
              name,
              partitions: ids.map((i) => ({ partitionIndex: wanted[i].partition, offset: wanted[i].offset })),
            })),
            timeoutMs: options.timeoutMs ?? DELETE_RECORDS_TIMEOUT_MS,
          });
          for (const t of answer.topics)
            for (const p of t.partitions)
              for (const i of byTopic.get(t.name) ?? [])
                if (wanted[i].partition === p.partitionIndex)
                  results[i] = {
                    ...results[i],
                    errorCode: p.errorCode,
                    error: p.errorCode === ErrorCode.NONE ? null : errorInfo(p.errorCode).name,
                    lowWatermark: Number(p.lowWatermark),
                  };
        }),
      );
      pending = pending.filter((i) => retriable.has(results[i].errorCode));
    }
    return results;
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    const [meta] = await this.cluster.refreshMetadata([topic]);
    if (!meta || meta.errorCode !== ErrorCode.NONE)
      throw new KafkaError(meta?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic}`);
    const [starts, ends, configs] = await Promise.all([
      this.listOffsets(topic, 'earliest'),
      this.listOffsets(topic, 'latest'),
      this.describeConfigs(topic),
    ]);
    return {
      name: topic,
      partitions: meta.partitions.map((p) => ({
        ...p,
        logStartOffset: starts.get(p.partition) ?? -1,
        logEndOffset: ends.get(p.partition) ?? -1,
      })),
      configs,
    };
  }

  async listTopics(includeInternal = false): Promise<string[]> {
    const topics = await this.cluster.refreshMetadata(null);
    return topics
      .map((t) => t.name)
      .filter((name) => includeInternal || !isInternalTopic(name))
      .sort();
  }

  async describeCluster(): Promise<{
    clusterId: string | null;
    controllerId: number;
    brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  }> {
    await this.cluster.refreshMetadata([]);
    return {
      clusterId: this.cluster.clusterId,
      controllerId: this.cluster.controllerId,
      brokers: [...this.cluster.brokers].map(([nodeId, b]) => ({ nodeId, ...b })).sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  /**
   * Each broker's log directories (all brokers when `brokerIds` is absent), as Kafka's
   * Admin.describeLogDirs: one DescribeLogDirs per broker, for every partition it holds. A
   * broker that cannot be asked, or refuses, is answered with its error and no directories.
   */
  async describeLogDirs(brokerIds?: number[]): Promise<BrokerLogDirs[]> {
    await this.cluster.refreshMetadata([]);
    const ids = brokerIds ?? [...this.cluster.brokers.keys()].sort((a, b) => a - b);
    return Promise.all(
      ids.map(async (brokerId): Promise<BrokerLogDirs> => {
        let answer;
        try {
          const broker = await this.cluster.broker(brokerId);
          answer = await broker.request(ApiKey.DescribeLogDirs, { topics: null });
          if ((answer.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE)
            throw new KafkaError(answer.errorCode, `describe log dirs of broker ${brokerId}`);
        } catch (error) {
          return { brokerId, error: (error as Error).message, logDirs: [] };
        }
        return {
          brokerId,
          error: null,
          logDirs: answer.results.map((dir) => ({
            path: dir.logDir,
            errorCode: dir.errorCode,
            totalBytes: Number(dir.totalBytes ?? -1),
            usableBytes: Number(dir.usableBytes ?? -1),
            partitions: dir.topics.flatMap((t) =>
              t.partitions.map((p) => ({
                topic: t.name,
                partition: p.partitionIndex,
                sizeBytes: Number(p.partitionSize),
                offsetLag: Number(p.offsetLag),
              })),
            ),
          })),
        };
      }),
    );
  }

  /**
   * ElectLeaders (Kafka's Admin.electLeaders): preferred or unclean elections for the
   * partitions given, or for every partition when `partitions` is null (then only those that
   * needed one are answered). Resolves with each partition's result; `errorCode` 0 is an
   * election made.
   */
  async electLeaders(
    electionType: 'preferred' | 'unclean',
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<{ topic: string; partition: number; errorCode: number; errorMessage: string | null }[]> {
    let topicPartitions: { topic: string; partitions: number[] }[] | null = null;
    if (partitions !== null) {
      const byTopic = new Map<string, number[]>();
      for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      topicPartitions = [...byTopic].map(([topic, indexes]) => ({ topic, partitions: indexes }));
    }
    const answer = await this.toController(
      ApiKey.ElectLeaders,
      { electionType: electionType === 'preferred' ? 0 : 1, topicPartitions, timeoutMs: 30_000 },
      (a) => [
        a.errorCode ?? ErrorCode.NONE,
        ...a.replicaElectionResults.flatMap((t) => t.partitionResult.map((p) => p.errorCode)),
      ],
    );
    if ((answer.errorCode ?? ErrorCode.NONE) !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, 'elect leaders');
    return answer.replicaElectionResults.flatMap((t) =>
      t.partitionResult.map((p) => ({
        topic: t.topic,
        partition: p.partitionId,
        errorCode: p.errorCode,
        errorMessage: p.errorMessage ?? null,
      })),
    );
  }

  /**
   * The active idempotent producers of a topic's partitions (all when `partitions` is
   * absent), asked of each partition's leader, as Kafka's Admin.describeProducers.
   */
  async describeProducers(topic: string, partitions?: number[]): Promise<PartitionProducers[]> {
    const [meta] = await this.cluster.refreshMetadata([topic]);
    if (!meta || meta.errorCode !== ErrorCode.NONE)
      throw new KafkaError(meta?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic}`);
    const wanted = partitions ?? meta.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const byLeader = new Map<number, number[]>();
    for (const partition of wanted) {
      const leader = meta.partitions.find((p) => p.partition === partition)?.leader;
      if (leader === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`);
      if (leader < 0) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition}`);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
    }
    const answers = await Promise.all(
      [...byLeader].map(async ([leader, partitionIndexes]) => {
        const broker = await this.cluster.broker(leader);
        const answer = await broker.request(ApiKey.DescribeProducers, { topics: [{ name: topic, partitionIndexes }] });
        return answer.topics.flatMap((t) => t.partitions);
      }),
    );
    return answers
      .flat()
      .sort((a, b) => a.partitionIndex - b.partitionIndex)
      .map((p) => ({
        partition: p.partitionIndex,
        errorCode: p.errorCode,
        producers: p.activeProducers.map((s) => ({
          producerId: Number(s.producerId),
          producerEpoch: s.producerEpoch,
          lastSequence: s.lastSequence,
          lastTimestamp: Number(s.lastTimestamp),
          coordinatorEpoch: s.coordinatorEpoch,
          currentTxnStartOffset: Number(s.currentTxnStartOffset),
        })),
      }));
  }

  /** UnregisterBroker (Kafka's Admin.unregisterBroker): removes a stopped broker's registration. */
  async unregisterBroker(brokerId: number): Promise<void> {
    const answer = await this.toController(ApiKey.UnregisterBroker, { brokerId }, (a) => [a.errorCode]);
    if (answer.errorCode !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, `unregister broker ${brokerId}`, answer.errorMessage ?? null);
  }

  /**
   * Sets and deletes SCRAM credentials in one request, as Kafka's
   * Admin.alterUserScramCredentials: each upsertion gets a fresh 32-byte salt and is
   * salted here (PBKDF2, `iterations`, default 4096); only the salt and the salted password
   * are sent. Resolves with one result per user; `errorCode` 0 is success.
   */
  async alterUserScramCredentials(
    alterations: ScramAlteration[],
  ): Promise<{ user: string; errorCode: number; errorMessage: string | null }[]> {
    const deletions: { name: string; mechanism: number }[] = [];
    const upsertions: { name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }[] =
      [];
    for (const a of alterations) {
      const mechanism = SCRAM_MECHANISM_TYPES[a.mechanism];
      if (a.kind === 'delete') {
        deletions.push({ name: a.user, mechanism });
        continue;
      }
      const iterations = a.iterations ?? SCRAM_ITERATIONS_MIN;
      const salt = randomBytes(SCRAM_SALT_BYTES);
      upsertions.push({
        name: a.user,
        mechanism,
        iterations,
        salt,
        // The broker refuses iterations out of bounds; PBKDF2 runs only on accepted counts
        // so that a mistyped huge count cannot hang the client.
        saltedPassword:
          Number.isInteger(iterations) && iterations > 0 && iterations <= 1_000_000
            ? saltedPassword(a.mechanism, a.password, salt, iterations)
            : Buffer.alloc(0),
      });
    }
    const answer = await this.toController(ApiKey.AlterUserScramCredentials, { deletions, upsertions }, (a) =>
      a.results.map((r: { errorCode: number }) => r.errorCode),
    );
    return answer.results.map((r) => ({ user: r.user, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  /**
   * The SCRAM mechanisms and iteration counts of `users` (every user when absent), as
   * Kafka's Admin.describeUserScramCredentials; a user that does not exist (or another
   * per-user error) throws KafkaError. Any broker answers from its metadata.
   */
  async describeUserScramCredentials(users?: string[]): Promise<ScramUserDescription[]> {
    const broker = await this.cluster.anyBroker();
    const answer = await broker.request(ApiKey.DescribeUserScramCredentials, {
      users: users && users.length > 0 ? users.map((name) => ({ name })) : null,
    });
    if (answer.errorCode !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, 'describe SCRAM users', answer.errorMessage ?? null);
    const failed = answer.results.find((r) => r.errorCode !== ErrorCode.NONE);
    if (failed)
      throw new KafkaError(failed.errorCode, `describe SCRAM user ${failed.user}`, failed.errorMessage ?? null);
    return answer.results
      .map((r) => ({
        user: r.user,
        credentials: r.credentialInfos.map((c) => ({
          mechanism: scramMechanismName(c.mechanism),
          iterations: c.iterations,
        })),
      }))
      .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  }

  /**
   * Kafka's Admin.createAcls: one result per binding, in order (`errorCode` 0 is success,
   * also for a binding the cluster already had).
   */
  async createAcls(bindings: AclBinding[]): Promise<{ errorCode: number; errorMessage: string | null }[]> {
    const answer = await this.toController(
      ApiKey.CreateAcls,
      {
        creations: bindings.map((b) => ({
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          resourcePatternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      },
      (a) => a.results.map((r: { errorCode: number }) => r.errorCode),
    );
    return answer.results.map((r) => ({ errorCode: r.errorCode, errorMessage: r.errorMessage ?? null }));
  }

  /**
   * Kafka's Admin.describeAcls: the ACLs matching the filter, as any broker's metadata
   * holds them; an error (SECURITY_DISABLED without an authorizer, CLUSTER_AUTHORIZATION_FAILED,
   * INVALID_REQUEST for a bad filter) throws KafkaError.
   */
  async describeAcls(filter: AclFilter): Promise<AclBinding[]> {
    const broker = await this.cluster.anyBroker();
    const answer = await broker.request(ApiKey.DescribeAcls, wireFilter(filter));
    if (answer.errorCode !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, 'describe ACLs', answer.errorMessage ?? null);
    return answer.resources.flatMap((r) =>
      r.acls.map((a) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        patternType: r.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })),
    );
  }

  /**
   * Kafka's Admin.deleteAcls: one result per filter, in order, with the ACLs it removed
   * (`errorCode` 0 is success, also when nothing matched).
   */
  async deleteAcls(
    filters: AclFilter[],
  ): Promise<{ errorCode: number; errorMessage: string | null; matchingAcls: AclBinding[] }[]> {
    const answer = await this.toController(ApiKey.DeleteAcls, { filters: filters.map(wireFilter) }, (a) =>
      a.filterResults.map((r: { errorCode: number }) => r.errorCode),
    );
    return answer.filterResults.map((r) => ({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage ?? null,
      matchingAcls: r.matchingAcls.map((m) => ({
        resourceType: m.resourceType,
        resourceName: m.resourceName,
        patternType: m.patternType,
        principal: m.principal,
        host: m.host,
        operation: m.operation,
        permissionType: m.permissionType,
      })),
    }));
  }

  /**
   * The quota values of the entities `components` match, as Kafka's
   * Admin.describeClientQuotas: with `strict`, only entities of exactly the filtered types.
   * Any broker answers from its metadata; a refused filter throws KafkaError.
   */
  async describeClientQuotas(
    components: ClientQuotaFilterComponent[],
    strict = false,
  ): Promise<{ entity: ClientQuotaEntity; values: Record<string, number> }[]> {
    const broker = await this.cluster.anyBroker();
    const answer = await broker.request(ApiKey.DescribeClientQuotas, {
      components: components.map((c) => ({
        entityType: c.entityType,
        matchType: QUOTA_MATCH_TYPES[c.match],
        match: c.match === 'exact' ? c.name : null,
      })),
      strict,
    });
    if (answer.errorCode !== ErrorCode.NONE)
      throw new KafkaError(answer.errorCode, 'describe client quotas', answer.errorMessage ?? null);
    return (answer.entries ?? []).map((e) => ({
      entity: entityOf(e.entity),
      values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
    }));
  }

  /**
   * Sets and removes client quota values, as Kafka's Admin.alterClientQuotas; with
   * `validateOnly` the controller checks without writing. Resolves with one result per
   * entity; `errorCode` 0 is success.
   */
  async alterClientQuotas(
    alterations: ClientQuotaAlteration[],
    options: { validateOnly?: boolean } = {},
  ): Promise<{ entity: ClientQuotaEntity; errorCode: number; errorMessage: string | null }[]> {
    const answer = await this.toController(
      ApiKey.AlterClientQuotas,
      {
        entries: alterations.map((a) => ({
          entity: entityPairs(a.entity),
          ops: a.ops.map((op) => ({ key: op.key, value: op.value ?? 0, remove: op.value === null })),
        })),
        validateOnly: options.validateOnly ?? false,
      },
      (a) => a.entries.map((e: { errorCode: number }) => e.errorCode),
    );
    return answer.entries.map((e) => ({
      entity: entityOf(e.entity),
      errorCode: e.errorCode,
      errorMessage: e.errorMessage,
    }));
  }

  /** Every group known to any broker (each coordinates its own). */
  async listGroups(): Promise<{ groupId: string; protocolType: string; state: string }[]> {
    await this.cluster.refreshMetadata([]);
    const all = new Map<string, { groupId: string; protocolType: string; state: string }>();
    await Promise.all(
      [...this.cluster.brokers.keys()].map(async (id) => {
        const broker = await this.cluster.broker(id);
        const answer = await broker.request(ApiKey.ListGroups, { statesFilter: [] });
        if (answer.errorCode !== ErrorCode.NONE) throw new KafkaError(answer.errorCode, `list groups at broker ${id}`);
        for (const g of answer.groups)
          all.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? '' });
      }),
    );
    return [...all.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** State, members with their assignments, and committed offsets with lag. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const broker = await this.cluster.coordinator(groupId);
    const answer = await broker.request(ApiKey.DescribeGroups, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    const g = answer.groups[0];
    // From DescribeGroups v6 an unknown group is GROUP_ID_NOT_FOUND (still in state Dead); before, Dead alone.
    if (g.errorCode !== ErrorCode.NONE && g.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND)
      throw new KafkaError(g.errorCode, `describe group ${groupId}`);
    const fetched = await broker.request(ApiKey.OffsetFetch, {
      groupId,
      topics: null,
      groups: [{ groupId, topics: null }],
      requireStable: false,
    });
    // Below v8 the decoder fills the absent groups array with an empty one: the answer is in topics.
    const topics = fetched.groups?.length ? fetched.groups[0].topics : fetched.topics;
    const offsets: GroupDescription['offsets'] = [];
    for (const t of topics ?? []) {
      const ends = await this.listOffsets(t.name, 'latest').catch(() => new Map<number, number>());
      for (const p of t.partitions) {
        const offset = Number(p.committedOffset);
        if (offset < 0) continue;
        const end = ends.get(p.partitionIndex) ?? -1;
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset,
          logEndOffset: end,
          lag: end >= 0 ? Math.max(0, end - offset) : -1,
        });
      }
    }
    return {
      groupId,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: g.protocolType === 'consumer' ? Object.fromEntries(decodeAssignmentBytes(m.memberAssignment)) : {},
      })),
      offsets: offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    };
  }

  /** Moves an empty group's committed offsets of a topic to earliest, latest or an offset. */
  async resetOffsets(groupId: string, topic: string, to: 'earliest' | 'latest' | number): Promise<Map<number, number>> {
    const target = typeof to === 'number' ? null : await this.listOffsets(topic, to);
    const meta = await this.cluster.topic(topic);
    const offsets = new Map<number, number>();
    for (const p of meta.partitions) {
      const offset = target ? target.get(p.partition) : (to as number);
      // Not guessed at: a partition whose offset could not be looked up fails the whole reset.
      if (offset === undefined)
        throw new KafkaError(
          ErrorCode.LEADER_NOT_AVAILABLE,
          `reset offsets of ${groupId}: the ${to} offset of ${topic}-${p.partition} could not be looked up; nothing was reset`,
        );
      offsets.set(p.partition, offset);
    }
    const broker = await this.cluster.coordinator(groupId);
    const answer = await broker.request(ApiKey.OffsetCommit, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [
        {
          name: topic,
          partitions: [...offsets].map(([partitionIndex, committedOffset]) => ({
            partitionIndex,
            committedOffset,
            committedLeaderEpoch: -1,
            committedMetadata: null,
          })),
        },
      ],
    });
    for (const p of answer.topics[0].partitions) {
      if (p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID)
        throw new KafkaError(
          p.errorCode,
          `reset offsets of ${groupId}: the group has live members; stop its consumers first`,
        );
      if (p.errorCode !== ErrorCode.NONE)
        throw new KafkaError(p.errorCode, `reset offsets of ${groupId} on ${topic}-${p.partitionIndex}`);
    }
    return offsets;
  }

  /** Deletes groups that have no live members (each at its own coordinator). */
  async deleteGroups(groupIds: string[]): Promise<void> {
    for (const groupId of groupIds) {
      const broker = await this.cluster.coordinator(groupId);
      const answer = await broker.request(ApiKey.DeleteGroups, { groupsNames: [groupId] });
      const result = answer.results[0];
      if (result.errorCode !== ErrorCode.NONE) throw new KafkaError(result.errorCode, `delete group ${groupId}`);
    }
  }

  close(): void {
    this.cluster.close();
  }
}

/** An ACL filter as DescribeAcls and DeleteAcls carry it. */
function wireFilter(f: AclFilter) {
  return {
    resourceTypeFilter: f.resourceType,
    resourceNameFilter: f.resourceName,
    patternTypeFilter: f.patternType,
    principalFilter: f.principal,
    hostFilter: f.host,
    operation: f.operation,
    permissionType: f.permissionType,
  };
}
