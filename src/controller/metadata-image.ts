// The metadata image: the state that committed metadata records build up, the same on
// every node. Replay is pure and deterministic: records in order, image out. Brokers
// answer Metadata from it; the controller decides from it.

import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecord } from '../../protocol/metadata/records';
import { CredentialStore, ScramCredential, ScramMechanism } from '../security/scram';
import { scramMechanismOfType, scramMechanismType } from './scram-users';
import type { AclEntry, AclSource } from '../security/acl';

/** One client quota entity: (type, name) pairs sorted by type; a null name is the default entity. */
export type QuotaEntity = { entityType: string; entityName: string | null }[];

/** The canonical key of a quota entity (types sorted), e.g. [["client-id",null],["user","alice"]]. */
export function quotaEntityKey(entity: QuotaEntity): string {
  return JSON.stringify(
    [...entity]
      .sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0))
      .map((e) => [e.entityType, e.entityName]),
  );
}

export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: number;
}

export interface BrokerInfo {
  brokerId: number;
  incarnationId: string;
  brokerEpoch: number;
  endPoints: BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  /** Offset of the record that registered this incarnation (unfencing waits for it). */
  registeredAtOffset: number;
}

export interface PartitionInfo {
  topicId: string;
  partitionId: number;
  replicas: number[];
  isr: number[];
  removingReplicas: number[];
  addingReplicas: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: Map<number, PartitionInfo>;
}

export class MetadataImage implements CredentialStore, AclSource {
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topicsById = new Map<string, TopicInfo>();
  readonly topicsByName = new Map<string, TopicInfo>();
  /** resourceType -> resourceName -> config name -> value. */
  readonly configs = new Map<number, Map<string, Map<string, string>>>();
  /** user -> mechanism -> SCRAM credential (UserScramCredential records; never a password). */
  readonly scramUsers = new Map<string, Map<ScramMechanism, ScramCredential>>();
  /** ACLs by id (AccessControlEntry records), and the same ACLs by resource type. */
  readonly acls = new Map<string, AclEntry>();
  private readonly aclsByType = new Map<number, Map<string, AclEntry>>();
  /** Bumped by every ACL change and snapshot load: the authorizer's cache key. */
  aclVersion = 0;
  /** Client quotas: entity key (quotaEntityKey) -> the entity and its quota values by key. */
  readonly clientQuotas = new Map<string, { entity: QuotaEntity; values: Map<string, number> }>();
  /** Bumped by every client quota change and snapshot load. */
  quotaVersion = 0;
  nextProducerId = 0;
  /** Offset of the last record applied (-1: none). */
  lastOffset = -1;

  apply(record: MetadataRecord, offset: number): void {
    // Destructured, the type still narrows the data: each case sees its record's fields.
    const { type, data: d } = record;
    switch (type) {
      case 'RegisterBroker':
        this.brokers.set(d.brokerId, {
          brokerId: d.brokerId,
          incarnationId: d.incarnationId,
          brokerEpoch: d.brokerEpoch,
          endPoints: d.endPoints,
          rack: d.rack,
          fenced: d.fenced,
          registeredAtOffset: offset,
        });
        break;
      case 'UnregisterBroker': {
        const broker = this.brokers.get(d.brokerId);
        if (broker && broker.brokerEpoch === d.brokerEpoch) this.brokers.delete(d.brokerId);
        break;
      }
      case 'FenceBroker':
      case 'UnfenceBroker': {
        const broker = this.brokers.get(d.id);
        if (broker && broker.brokerEpoch === d.epoch) broker.fenced = type === 'FenceBroker';
        break;
      }
      case 'Topic': {
        const topic: TopicInfo = { name: d.name, topicId: d.topicId, partitions: new Map() };
        this.topicsById.set(d.topicId, topic);
        this.topicsByName.set(d.name, topic);
        break;
      }
      case 'Partition': {
        const topic = this.topicsById.get(d.topicId);
        if (!topic) break;
        topic.partitions.set(d.partitionId, {
          topicId: d.topicId,
          partitionId: d.partitionId,
          replicas: d.replicas,
          isr: d.isr,
          removingReplicas: d.removingReplicas,
          addingReplicas: d.addingReplicas,
          leader: d.leader,
          leaderEpoch: d.leaderEpoch,
          partitionEpoch: d.partitionEpoch,
        });
        break;
      }
      case 'PartitionChange': {
        const partition = this.topicsById.get(d.topicId)?.partitions.get(d.partitionId);
        if (!partition) break;
        if (d.isr !== null) partition.isr = d.isr;
        if (d.replicas !== null) partition.replicas = d.replicas;
        if (d.removingReplicas !== null) partition.removingReplicas = d.removingReplicas;
        if (d.addingReplicas !== null) partition.addingReplicas = d.addingReplicas;
        // A new leader (or none) starts a new leader epoch; every change bumps the
        // partition epoch, which is what stale AlterPartition requests are checked against.
        if (d.leader !== -2 && d.leader !== partition.leader) {
          partition.leader = d.leader;
          partition.leaderEpoch++;
        }
        partition.partitionEpoch++;
        break;
      }
      case 'RemoveTopic': {
        const topic = this.topicsById.get(d.topicId);
        if (!topic) break;
        this.topicsById.delete(d.topicId);
        this.topicsByName.delete(topic.name);
        this.configs.get(2)?.delete(topic.name);
        break;
      }
      case 'Config': {
        let byName = this.configs.get(d.resourceType);
        if (!byName) this.configs.set(d.resourceType, (byName = new Map()));
        let entries = byName.get(d.resourceName);
        if (!entries) byName.set(d.resourceName, (entries = new Map()));
        if (d.value === null) entries.delete(d.name);
        else entries.set(d.name, d.value);
        break;
      }
      case 'UserScramCredential': {
        // A mechanism type this node does not know is skipped, as an unknown config would be:
        // nothing can authenticate with it here.
        const mechanism = scramMechanismOfType(d.mechanism);
        if (!mechanism) break;
        let byMechanism = this.scramUsers.get(d.name);
        if (!byMechanism) this.scramUsers.set(d.name, (byMechanism = new Map()));
        // Copies: the decoded fields may be views into a whole log entry's buffer.
        byMechanism.set(mechanism, {
          mechanism,
          salt: Buffer.from(d.salt),
          iterations: d.iterations,
          storedKey: Buffer.from(d.storedKey),
          serverKey: Buffer.from(d.serverKey),
        });
        break;
      }
      case 'RemoveUserScramCredential': {
        const mechanism = scramMechanismOfType(d.mechanism);
        const byMechanism = this.scramUsers.get(d.name);
        if (!mechanism || !byMechanism) break;
        byMechanism.delete(mechanism);
        if (byMechanism.size === 0) this.scramUsers.delete(d.name);
        break;
      }
      case 'AccessControlEntry': {
        const acl: AclEntry = { ...d };
        this.acls.set(d.id, acl);
        let byId = this.aclsByType.get(d.resourceType);
        if (!byId) this.aclsByType.set(d.resourceType, (byId = new Map()));
        byId.set(d.id, acl);
        this.aclVersion++;
        break;
      }
      case 'RemoveAccessControlEntry': {
        const acl = this.acls.get(d.id);
        if (!acl) break;
        this.acls.delete(d.id);
        this.aclsByType.get(acl.resourceType)?.delete(d.id);
        this.aclVersion++;
        break;
      }
      case 'ClientQuota': {
        const entity = d.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName }));
        const key = quotaEntityKey(entity);
        let quota = this.clientQuotas.get(key);
        if (d.remove) {
          quota?.values.delete(d.key);
          if (quota && quota.values.size === 0) this.clientQuotas.delete(key);
        } else {
          if (!quota) this.clientQuotas.set(key, (quota = { entity, values: new Map() }));
          quota.values.set(d.key, d.value);
        }
        this.quotaVersion++;
        break;
      }
      case 'ProducerIds':
        this.nextProducerId = Math.max(this.nextProducerId, d.nextProducerId);
        break;
      case 'NoOp':
        break;
      default: {
        // Decoding refuses unknown types; this guards a type added to the union but not here.
        const unknownType: never = type;
        throw new Error(`metadata image cannot apply ${String(unknownType)}`);
      }
    }
    this.lastOffset = offset;
  }

  topicConfigs(name: string): Record<string, string> {
    return Object.fromEntries(this.configs.get(2)?.get(name) ?? []);
  }

  /** The user's credential for a mechanism (CredentialStore: what SASL/SCRAM and HTTP Basic check). */
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.scramUsers.get(user)?.get(mechanism);
  }

  /** The ACLs of one resource type (AclSource: what the authorizer checks). */
  aclsOfType(resourceType: number): Iterable<AclEntry> {
    return this.aclsByType.get(resourceType)?.values() ?? [];
  }

  /** Users with at least one SCRAM credential, sorted by name. */
  scramUserNames(): string[] {
    return [...this.scramUsers.keys()].sort();
  }

  unfencedBrokers(): BrokerInfo[] {
    return [...this.brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.brokerId - b.brokerId);
  }

  /**
   * The records that rebuild this image from nothing, in replay order: what a snapshot
   * holds (as in KRaft, a snapshot is a stream of ordinary metadata records).
   */
  toRecords(): MetadataRecord[] {
    const records: MetadataRecord[] = [];
    for (const b of [...this.brokers.values()].sort((x, y) => x.brokerId - y.brokerId)) {
      records.push({
        type: 'RegisterBroker',
        data: {
          brokerId: b.brokerId,
          incarnationId: b.incarnationId,
          brokerEpoch: b.brokerEpoch,
          endPoints: b.endPoints,
          rack: b.rack,
          fenced: b.fenced,
        },
      });
    }
    for (const t of [...this.topicsByName.values()].sort((x, y) => x.name.localeCompare(y.name))) {
      records.push({ type: 'Topic', data: { name: t.name, topicId: t.topicId } });
      for (const p of [...t.partitions.values()].sort((x, y) => x.partitionId - y.partitionId)) {
        records.push({ type: 'Partition', data: { ...p } });
      }
    }
    for (const [resourceType, byName] of this.configs) {
      for (const [resourceName, entries] of byName) {
        for (const [name, value] of entries)
          records.push({ type: 'Config', data: { resourceType, resourceName, name, value } });
      }
    }
    for (const name of this.scramUserNames()) {
      for (const c of this.scramUsers.get(name)!.values())
        records.push({
          type: 'UserScramCredential',
          data: {
            name,
            mechanism: scramMechanismType(c.mechanism),
            salt: c.salt,
            storedKey: c.storedKey,
            serverKey: c.serverKey,
            iterations: c.iterations,
          },
        });
    }
    for (const acl of [...this.acls.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
      records.push({ type: 'AccessControlEntry', data: { ...acl } });
    for (const key of [...this.clientQuotas.keys()].sort()) {
      const quota = this.clientQuotas.get(key)!;
      for (const [name, value] of [...quota.values].sort())
        records.push({ type: 'ClientQuota', data: { entity: quota.entity, key: name, value, remove: false } });
    }
    if (this.nextProducerId > 0)
      records.push({
        type: 'ProducerIds',
        data: { brokerId: -1, brokerEpoch: -1, nextProducerId: this.nextProducerId },
      });
    return records;
  }

  /** Serialises the image as a snapshot: length-prefixed encoded records. */
  toSnapshot(): Buffer {
    const parts: Buffer[] = [];
    for (const record of this.toRecords()) {
      const bytes = encodeMetadataRecord(record);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length, 0);
      parts.push(length, bytes);
    }
    return Buffer.concat(parts);
  }

  /** Rebuilds an image from a snapshot taken at log offset `offset`. */
  static fromSnapshot(bytes: Buffer, offset: number): MetadataImage {
    const image = new MetadataImage();
    image.loadSnapshot(bytes, offset);
    return image;
  }

  /** Replaces this image's whole state, in place, with a snapshot's. */
  loadSnapshot(bytes: Buffer, offset: number): void {
    this.brokers.clear();
    this.topicsById.clear();
    this.topicsByName.clear();
    this.configs.clear();
    this.scramUsers.clear();
    this.acls.clear();
    this.aclsByType.clear();
    this.aclVersion++;
    this.clientQuotas.clear();
    this.quotaVersion++;
    this.nextProducerId = 0;
    const image = this;
    let at = 0;
    while (at < bytes.length) {
      if (at + 4 > bytes.length) throw new Error('truncated metadata snapshot');
      const length = bytes.readUInt32BE(at);
      if (at + 4 + length > bytes.length) throw new Error('truncated metadata snapshot record');
      image.apply(decodeMetadataRecord(bytes.subarray(at + 4, at + 4 + length)), offset);
      at += 4 + length;
    }
    // Registration offsets inside a snapshot all read as the snapshot's offset.
    image.lastOffset = offset;
  }

  /** A deterministic digest of the whole image, for comparing nodes in tests. */
  digest(): string {
    const brokers = [...this.brokers.values()]
      .sort((a, b) => a.brokerId - b.brokerId)
      .map((b) => [b.brokerId, b.brokerEpoch, b.fenced]);
    const topics = [...this.topicsByName.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => [
        t.name,
        t.topicId,
        [...t.partitions.values()]
          .sort((a, b) => a.partitionId - b.partitionId)
          .map((p) => [p.partitionId, p.replicas, p.isr, p.leader, p.leaderEpoch, p.partitionEpoch]),
      ]);
    const scramUsers = this.scramUserNames().map((name) => [
      name,
      [...this.scramUsers.get(name)!.values()]
        .map((c) => [c.mechanism, c.iterations, c.storedKey.toString('base64')])
        .sort(),
    ]);
    const acls = [...this.acls.values()].map((a) => JSON.stringify(a)).sort();
    const clientQuotas = [...this.clientQuotas.keys()]
      .sort()
      .map((key) => [key, [...this.clientQuotas.get(key)!.values].sort()]);
    return JSON.stringify({ brokers, topics, nextProducerId: this.nextProducerId, scramUsers, acls, clientQuotas });
  }
}
