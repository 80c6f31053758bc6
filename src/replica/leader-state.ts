// What a partition leader knows of its followers, as pure logic (no clocks or sockets: the
// time comes in as arguments): each follower's log end offset from its fetches and when it
// was last caught up; from those, the high watermark (the smallest log end offset in the
// ISR) and the ISR changes to propose (Kafka's rules: a follower not caught up for longer
// than replica.lag.time.max.ms leaves; one whose log end has reached the high watermark and
// the start of the current leader epoch comes back, if the broker epoch its fetches carry is
// the registered one, KIP-903); each follower's log start offset from its fetches, and from
// those the low watermark DeleteRecords waits for. Also the follower's truncation point
// after a leader change (KIP-101 with KIP-279's refinement).

import type { EpochEnd, LeaderEpochCache } from '../log/leader-epoch-cache';

export interface FollowerProgress {
  logEndOffset: number;
  /** Last time its log end reached the leader's (or the leader's as of its previous fetch). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end offset when it last fetched. */
  lastFetchLeaderEnd: number;
  /** The broker epoch its last fetch carried (Fetch 15+, KIP-903), -1 when not said. */
  brokerEpoch: number;
  /** The log start offset its last fetch carried (Fetch 5+), -1 until one said it. */
  logStartOffset: number;
}

export class LeaderState {
  readonly followers = new Map<number, FollowerProgress>();
  /**
   * An ISR change sent to the controller and not yet seen committed. Until it is, the high
   * watermark counts the union of both sets ("maximal ISR", as Kafka does): a replica being
   * added must hold everything the high watermark passes from the moment it is proposed,
   * and one being removed still counts until its removal is committed.
   */
  pendingIsr: number[] | null = null;

  constructor(
    readonly leaderId: number,
    public replicas: number[],
    public isr: number[],
    nowMs: number,
  ) {
    // A new leader gives every follower a full lag window from now (Kafka does the same).
    for (const id of replicas) {
      if (id !== leaderId)
        this.followers.set(id, {
          logEndOffset: -1,
          lastCaughtUpMs: nowMs,
          lastFetchMs: -1,
          lastFetchLeaderEnd: -1,
          brokerEpoch: -1,
          logStartOffset: -1,
        });
    }
  }

  /** New replica set or ISR from the metadata (same leader epoch). */
  update(replicas: number[], isr: number[], nowMs: number): void {
    this.replicas = replicas;
    this.isr = isr;
    this.pendingIsr = null;
    for (const id of replicas) {
      if (id !== this.leaderId && !this.followers.has(id))
        this.followers.set(id, {
          logEndOffset: -1,
          lastCaughtUpMs: nowMs,
          lastFetchMs: -1,
          lastFetchLeaderEnd: -1,
          brokerEpoch: -1,
          logStartOffset: -1,
        });
    }
    for (const id of [...this.followers.keys()]) if (!replicas.includes(id)) this.followers.delete(id);
  }

  /**
   * A follower fetched from `fetchOffset`: it holds everything below it. `brokerEpoch`: what
   * its fetch said (-1: nothing); `logStartOffset`: where its log starts (-1: not said).
   */
  recordFetch(
    followerId: number,
    fetchOffset: number,
    leaderEnd: number,
    nowMs: number,
    brokerEpoch = -1,
    logStartOffset = -1,
  ): void {
    const p = this.followers.get(followerId);
    if (!p) return;
    p.logEndOffset = fetchOffset;
    p.brokerEpoch = brokerEpoch;
    p.logStartOffset = logStartOffset;
    if (fetchOffset >= leaderEnd) p.lastCaughtUpMs = nowMs;
    else if (p.lastFetchMs >= 0 && fetchOffset >= p.lastFetchLeaderEnd)
      p.lastCaughtUpMs = Math.max(p.lastCaughtUpMs, p.lastFetchMs);
    p.lastFetchLeaderEnd = leaderEnd;
    p.lastFetchMs = nowMs;
  }

  /** The smallest log end offset in the ISR (the leader's own counts as `leaderEnd`). */
  highWatermark(leaderEnd: number): number {
    let hw = leaderEnd;
    const counted = this.pendingIsr ? [...new Set([...this.isr, ...this.pendingIsr])] : this.isr;
    for (const id of counted) {
      if (id === this.leaderId) continue;
      const end = this.followers.get(id)?.logEndOffset ?? 0;
      hw = Math.min(hw, Math.max(0, end));
    }
    return hw;
  }

  /**
   * Kafka's lowWatermarkIfLeader: the smallest log start offset among the leader
   * (`leaderStart`) and the followers on live brokers (`alive`), whether in the ISR or not;
   * a live follower that has not said its start holds it at -1.
   */
  lowWatermark(leaderStart: number, alive: (id: number) => boolean): number {
    let low = leaderStart;
    for (const [id, p] of this.followers) if (alive(id) && p.logStartOffset < low) low = p.logStartOffset;
    return low;
  }

  /**
   * The ISR to propose now, or null for no change: laggards out, caught-up replicas in.
   * `epochStartOffset` is where the current leader epoch began in the leader's log.
   */
  proposedIsr(
    nowMs: number,
    lagMaxMs: number,
    highWatermark: number,
    epochStartOffset: number,
    eligible: (id: number) => boolean,
  ): number[] | null {
    const keep = this.isr.filter((id) => {
      if (id === this.leaderId) return true;
      const p = this.followers.get(id);
      return p !== undefined && nowMs - p.lastCaughtUpMs <= lagMaxMs;
    });
    const join = this.replicas.filter((id) => {
      if (id === this.leaderId || keep.includes(id) || this.isr.includes(id) || !eligible(id)) return false;
      const p = this.followers.get(id);
      return p !== undefined && p.logEndOffset >= highWatermark && p.logEndOffset >= epochStartOffset;
    });
    if (!keep.includes(this.leaderId)) keep.unshift(this.leaderId);
    const next = [...keep, ...join];
    const same = next.length === this.isr.length && next.every((id) => this.isr.includes(id));
    return same ? null : next;
  }
}

/**
 * Whether a replica may join the ISR as far as its broker goes: registered and unfenced, and
 * its fetches carried no broker epoch (-1, before Fetch 15) or the registered one (Kafka's
 * isBrokerEpochIsrEligible, KIP-903): an older incarnation's fetches do not bring it back.
 */
export function brokerIsrEligible(
  fetchedBrokerEpoch: number,
  registered: { fenced: boolean; brokerEpoch: number } | undefined,
): boolean {
  return registered?.fenced === false && (fetchedBrokerEpoch === -1 || fetchedBrokerEpoch === registered.brokerEpoch);
}

/**
 * Where a follower cuts its log after asking the leader for the end of its latest epoch:
 * the leader's end offset for that epoch, or, when the leader only knows an older epoch,
 * the smaller of the leader's and our own end of that older epoch; never past our own end.
 * An undefined answer (the leader has no epochs) keeps everything up to our high watermark.
 */
export function truncationOffset(
  requestedEpoch: number,
  answer: EpochEnd,
  local: LeaderEpochCache,
  localEnd: number,
  localHighWatermark: number,
): number {
  if (answer.endOffset < 0) return Math.min(localHighWatermark, localEnd);
  if (answer.epoch === requestedEpoch) return Math.min(answer.endOffset, localEnd);
  const ours = local.endOffsetFor(answer.epoch, localEnd);
  return Math.min(answer.endOffset, ours.endOffset < 0 ? localEnd : ours.endOffset, localEnd);
}
