// A consumer group member's offsets: what it has consumed (the offset after the last
// record handed out and processed, per partition), what it last committed, and the two
// requests that move them: OffsetCommit (at least once: a record counts as processed only
// once the next one is asked for) and OffsetFetch for the partitions a rebalance gives it.

import { ErrorCode } from '../../protocol/errors';
import { KafkaError } from './cluster';
import type { ConsumerRecord } from './consumer';
import type { GroupMember } from './consumer-group';
import { partitionKey } from './fetcher';
import { ApiKey } from '../../protocol/api-keys';

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
}

export class ConsumedOffsets {
  /** partitionKey -> the offset after the last record processed. */
  private readonly consumed = new Map<string, number>();
  /** partitionKey -> the offset last committed. */
  private readonly committedUpTo = new Map<string, number>();
  private lastHanded: ConsumerRecord | null = null;

  /** A record was handed out: it counts as processed once markHandled() is called. */
  handedOut(record: ConsumerRecord): void {
    this.lastHanded = record;
  }

  /** The last record handed out counts as processed, if `held` says its partition is still this member's. */
  markHandled(held: (key: string) => boolean): void {
    const record = this.lastHanded;
    this.lastHanded = null;
    if (!record) return;
    const key = partitionKey(record.topic, record.partition);
    if (held(key)) this.consumed.set(key, record.offset + 1);
  }

  /** What was consumed and is not committed yet (only of the `of` partitions when given). */
  uncommitted(of?: Set<string>): OffsetToCommit[] {
    return [...this.consumed]
      .filter(([key, offset]) => (!of || of.has(key)) && this.committedUpTo.get(key) !== offset)
      .map(([key, offset]) => {
        const [topic, partition] = key.split('\u0000');
        return { topic, partition: Number(partition), offset };
      });
  }

  /** The partition is no longer this member's. */
  forget(key: string): void {
    this.consumed.delete(key);
    this.committedUpTo.delete(key);
  }

  /**
   * OffsetCommit of `offsets` under the member's generation (or as a standalone consumer,
   * with none); an answer that says the membership moved on marks it for a rejoin.
   */
  async commit(member: GroupMember, offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<
      string,
      {
        partitionIndex: number;
        committedOffset: number;
        committedLeaderEpoch: number;
        committedMetadata: string | null;
      }[]
    >();
    for (const o of offsets) {
      if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
      byTopic.get(o.topic)!.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: -1,
        committedMetadata: null,
      });
    }
    const generationId = member.generationId;
    const memberId = member.memberId;
    const standalone = generationId < 0;
    const answer = await member.request(ApiKey.OffsetCommit, {
      groupId: member.groupId,
      generationIdOrMemberEpoch: standalone ? -1 : generationId,
      memberId: standalone ? '' : memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of answer.topics) {
      for (const p of t.partitions) {
        member.noteGroupError(p.errorCode, generationId, memberId);
        if (p.errorCode !== ErrorCode.NONE)
          throw new KafkaError(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex}`);
        const done = offsets.find((o) => o.topic === t.name && o.partition === p.partitionIndex);
        if (done) this.committedUpTo.set(partitionKey(done.topic, done.partition), done.offset);
      }
    }
  }
}

/** The group's committed offsets (by partitionKey) of `wanted`; partitions without one are left out. */
export async function fetchCommittedOffsets(
  member: GroupMember,
  wanted: Map<string, number[]>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (wanted.size === 0) return out;
  const topics = [...wanted].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  const answer = await member.request(ApiKey.OffsetFetch, {
    groupId: member.groupId,
    topics,
    groups: [{ groupId: member.groupId, topics }],
    requireStable: false,
  });
  // Below v8 the decoder fills the absent groups array with an empty one: the answer is in topics.
  for (const t of (answer.groups?.length ? answer.groups[0].topics : answer.topics) ?? []) {
    for (const p of t.partitions) {
      if (p.errorCode === ErrorCode.NONE && Number(p.committedOffset) >= 0)
        out.set(partitionKey(t.name, p.partitionIndex), Number(p.committedOffset));
    }
  }
  return out;
}
