// Consumer group rebalancing against a scripted broker: a fake Kafka node (the protocol/
// codecs, answers in request order per connection as a broker does) plays the group
// coordinator and partition leader on a script. Eager (range): the member asks for a
// member id, leads the first generation, commits what it handed out and revokes everything
// when a heartbeat says REBALANCE_IN_PROGRESS, retries a refused JoinGroup, and takes its
// new partitions from the committed offsets. Cooperative-sticky: the member sends what it
// owns with its generation, keeps fetching while its JoinGroup waits, revokes only the
// partition taken away (committed first) and rejoins at once. A rejoin the coordinator
// refuses reaches the caller of next() as an error, and the next call joins again. A
// member told its id is unknown loses its partitions without committing and joins afresh.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { requestCodec, responseCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { encodeResponseFrame, FrameAssembler } from '../../protocol/frame';
import { decodeRequestHeader } from '../../protocol/header';
import { Reader } from '../../protocol/primitives';
import { encodeRecordBatchSync } from '../../protocol/record-batch';
import {
  decodeAssignmentBytes,
  decodeSubscriptionBytes,
  encodeAssignmentBytes,
  encodeSubscriptionBytes,
} from '../../protocol/consumer-protocol';
import { AssignorName, Consumer } from '../../src/client/consumer';

const TOPIC = 't';
const PARTITIONS = 4;
/** Upper bound on any one wait for the consumer to do something. */
const STEP_TIMEOUT_MS = 10_000;

type Event =
  | { kind: 'request'; apiKey: number; body: any; connection: number }
  | { kind: 'record'; partition: number; offset: number }
  | { kind: 'revoked' | 'assigned' | 'lost'; partitions: number[]; committedAtCall: Map<number, number> }
  | { kind: 'error'; message: string };

/** Everything that happened, in order, with waits that resolve when a matching event is added. */
class Timeline {
  readonly events: Event[] = [];
  private waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  push(event: Event): void {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** The first event (past or future) matching, or a failure after the step timeout. */
  until(what: string, match: (e: Event) => boolean, fromIndex = 0): Promise<Event> {
    const past = this.events.slice(fromIndex).find(match);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), STEP_TIMEOUT_MS);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  index(event: Event): number {
    return this.events.indexOf(event);
  }

  requests(apiKey: number): { apiKey: number; body: any; connection: number }[] {
    return this.events.filter(
      (e): e is Extract<Event, { kind: 'request' }> => e.kind === 'request' && e.apiKey === apiKey,
    );
  }
}

const isRequest =
  (apiKey: number, extra: (body: any) => boolean = () => true) =>
  (e: Event) =>
    e.kind === 'request' && e.apiKey === apiKey && extra(e.body);

interface Script {
  /** Answers the n-th JoinGroup (from 0); may wait. */
  join: (body: any, n: number) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** The assignment bytes for the n-th SyncGroup. */
  sync: (body: any, n: number) => Buffer;
}

class ScriptedBroker {
  readonly timeline = new Timeline();
  /** partition -> record values at offsets 0.. */
  readonly logs = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
  /** partition -> committed offset of the group. */
  readonly committed = new Map<number, number>();
  heartbeatError: number = ErrorCode.NONE;
  port = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private joins = 0;
  private syncs = 0;
  private connections = 0;

  constructor(private readonly script: Script) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }

  private serve(socket: net.Socket): void {
    const connection = ++this.connections;
    this.sockets.add(socket);
    const splitter = new FrameAssembler(64 * 1024 * 1024);
    // A broker answers one connection's requests in the order they came.
    let answered: Promise<void> = Promise.resolve();
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        const reader = new Reader(frame);
        const header = decodeRequestHeader(reader);
        const body = requestCodec(header.apiKey, header.apiVersion).decode(reader) as any;
        this.timeline.push({ kind: 'request', apiKey: header.apiKey, body, connection });
        const answer = Promise.resolve(this.answer(header.apiKey, body));
        answered = answered.then(async () => {
          const reply = await answer;
          if (!socket.destroyed)
            for (const part of encodeResponseFrame(
              header.apiKey,
              header.apiVersion,
              header.correlationId,
              responseCodec(header.apiKey, header.apiVersion),
              reply,
            ))
              socket.write(part);
        });
      }
    });
  }

  private answer(apiKey: number, body: any): unknown {
    switch (apiKey) {
      case 18: {
        // One version per API, so the field layout below is the one the client speaks.
        const only = (key: number, version: number) => ({ apiKey: key, minVersion: version, maxVersion: version });
        return {
          errorCode: 0,
          apiKeys: [
            only(1, 11),
            only(2, 4),
            only(3, 9),
            only(8, 8),
            only(9, 7),
            only(10, 3),
            only(11, 7),
            only(12, 4),
            only(13, 4),
            only(14, 5),
            only(18, 3),
          ],
          throttleTimeMs: 0,
          supportedFeatures: [],
          finalizedFeaturesEpoch: -1,
          finalizedFeatures: [],
          zkMigrationReady: false,
        };
      }
      case 3:
        return {
          throttleTimeMs: 0,
          brokers: [{ nodeId: 1, host: '127.0.0.1', port: this.port, rack: null }],
          clusterId: 'scripted',
          controllerId: 1,
          topics: [
            {
              errorCode: 0,
              name: TOPIC,
              isInternal: false,
              partitions: Array.from({ length: PARTITIONS }, (_, p) => ({
                errorCode: 0,
                partitionIndex: p,
                leaderId: 1,
                leaderEpoch: 0,
                replicaNodes: [1],
                isrNodes: [1],
                offlineReplicas: [],
              })),
              topicAuthorizedOperations: -2147483648,
            },
          ],
          clusterAuthorizedOperations: -2147483648,
        };
      case 10:
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: '127.0.0.1', port: this.port };
      case 11:
        return Promise.resolve(this.script.join(body, this.joins++)).then((reply) => ({
          throttleTimeMs: 0,
          errorCode: 0,
          generationId: -1,
          protocolType: 'consumer',
          protocolName: null,
          leader: '',
          memberId: body.memberId,
          members: [],
          ...reply,
        }));
      case 14:
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          protocolType: 'consumer',
          protocolName: body.protocolName,
          assignment: this.script.sync(body, this.syncs++),
        };
      case 12:
        return { throttleTimeMs: 0, errorCode: this.heartbeatError };
      case 13:
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          members: body.members.map((m: any) => ({ memberId: m.memberId, groupInstanceId: null, errorCode: 0 })),
        };
      case 8:
        for (const t of body.topics)
          for (const p of t.partitions) this.committed.set(p.partitionIndex, Number(p.committedOffset));
        return {
          throttleTimeMs: 0,
          topics: body.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })),
          })),
        };
      case 9:
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          topics: body.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((p: number) => ({
              partitionIndex: p,
              committedOffset: BigInt(this.committed.get(p) ?? -1),
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: 0,
            })),
          })),
        };
      case 2:
        return {
          throttleTimeMs: 0,
          topics: body.topics.map((t: any) => ({
            name: t.name,
            partitions: t.partitions.map((p: any) => ({
              partitionIndex: p.partitionIndex,
              errorCode: 0,
              timestamp: -1n,
              offset: BigInt(Number(p.timestamp) === -2 ? 0 : this.logs.get(p.partitionIndex)!.length),
              leaderEpoch: 0,
            })),
          })),
        };
      case 1:
        return this.fetch(body);
      default:
        throw new Error(`the scripted broker has no answer for API ${apiKey}`);
    }
  }

  /** Records from each asked offset; with none to give, waits maxWaitMs as a broker's long poll does. */
  private async fetch(body: any): Promise<unknown> {
    const build = () =>
      body.topics.map((t: any) => ({
        topic: t.topic,
        partitions: t.partitions.map((p: any) => {
          const log = this.logs.get(p.partition)!;
          const from = Number(p.fetchOffset);
          const values = log.slice(from);
          return {
            partitionIndex: p.partition,
            errorCode: 0,
            highWatermark: BigInt(log.length),
            lastStableOffset: BigInt(log.length),
            logStartOffset: 0n,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records:
              values.length === 0
                ? null
                : encodeRecordBatchSync({ baseOffset: from, records: values.map((value) => ({ value })) }),
          };
        }),
      }));
    let responses = build();
    if (responses.every((t: any) => t.partitions.every((p: any) => p.records === null))) {
      await new Promise((r) => setTimeout(r, body.maxWaitMs));
      responses = build();
    }
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
  }

  append(partition: number, count: number): void {
    const log = this.logs.get(partition)!;
    for (let i = 0; i < count; i++) log.push(`p${partition}-${log.length}`);
  }
}

/** Starts a member that reads in a loop and logs its records and listener calls. */
function member(
  broker: ScriptedBroker,
  assignor: AssignorName,
  keepGoing = false,
): { consumer: Consumer; loop: Promise<void> } {
  const snapshot = () => new Map(broker.committed);
  const consumer = new Consumer({
    bootstrap: [`127.0.0.1:${broker.port}`],
    groupId: 'scripted-group',
    assignor,
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 30,
    autoCommitIntervalMs: 60_000,
    maxWaitMs: 20,
    onPartitionsRevoked: (partitions) =>
      broker.timeline.push({
        kind: 'revoked',
        partitions: partitions.map((p) => p.partition).sort(),
        committedAtCall: snapshot(),
      }),
    onPartitionsAssigned: (partitions) =>
      broker.timeline.push({
        kind: 'assigned',
        partitions: partitions.map((p) => p.partition).sort(),
        committedAtCall: snapshot(),
      }),
    onPartitionsLost: (partitions) =>
      broker.timeline.push({
        kind: 'lost',
        partitions: partitions.map((p) => p.partition).sort(),
        committedAtCall: snapshot(),
      }),
  });
  const loop = (async () => {
    await consumer.subscribe([TOPIC]);
    for (;;) {
      let record;
      try {
        record = await consumer.next();
      } catch (error) {
        if (!keepGoing) throw error;
        broker.timeline.push({ kind: 'error', message: (error as Error).message });
        continue;
      }
      if (record === null) return;
      broker.timeline.push({ kind: 'record', partition: record.partition, offset: record.offset });
    }
  })();
  return { consumer, loop };
}

const recordsOf = (timeline: Timeline, partition: number, from = 0, to = Infinity) =>
  timeline.events
    .slice(from, to)
    .filter((e): e is Extract<Event, { kind: 'record' }> => e.kind === 'record' && e.partition === partition)
    .map((e) => e.offset);

test('eager (range): member id, leader plan, commit and revoke all on REBALANCE_IN_PROGRESS, retry, new partitions from committed offsets', async () => {
  const broker = new ScriptedBroker({
    join: (body, n) => {
      if (n === 0) return { errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: 'm1' };
      if (n === 1)
        return {
          generationId: 1,
          protocolName: 'range',
          leader: 'm1',
          memberId: 'm1',
          members: [
            { memberId: 'm1', groupInstanceId: null, metadata: body.protocols[0].metadata },
            {
              memberId: 'other',
              groupInstanceId: null,
              metadata: encodeSubscriptionBytes({ version: 0, topics: [TOPIC] }),
            },
          ],
        };
      // The first rejoin is refused once; the member must simply ask again.
      if (n === 2) {
        broker.heartbeatError = ErrorCode.NONE;
        return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS };
      }
      return { generationId: 2, protocolName: 'range', leader: 'other', memberId: 'm1' };
    },
    sync: (body, n) =>
      n === 0
        ? body.assignments.find((a: any) => a.memberId === 'm1').assignment
        : encodeAssignmentBytes(new Map([[TOPIC, [1, 2]]])),
  });
  await broker.start();
  for (const p of [0, 1, 2]) broker.append(p, 5);
  broker.committed.set(0, 2);
  broker.committed.set(2, 1);
  const { timeline } = broker;
  const { consumer, loop } = member(broker, 'range');
  try {
    // Generation 1: the leader's range plan gives m1 partitions 0 and 1, starting at 2 and 0.
    await timeline.until(
      'the 8 records of partitions 0 and 1',
      () => recordsOf(timeline, 0).length + recordsOf(timeline, 1).length === 8,
    );
    const joins = timeline.requests(11);
    assert.equal(
      joins.map((j) => j.body.memberId),
      ['', 'm1'],
    );
    const firstSync = timeline.requests(14)[0].body;
    assert.is(firstSync.generationId, 1);
    const plan = Object.fromEntries(
      firstSync.assignments.map((a: any) => [a.memberId, Object.fromEntries(decodeAssignmentBytes(a.assignment))]),
    );
    assert.equal(plan, { m1: { t: [0, 1] }, other: { t: [2, 3] } });
    assert.equal(recordsOf(timeline, 0), [2, 3, 4]);
    assert.equal(recordsOf(timeline, 1), [0, 1, 2, 3, 4]);

    const mark = timeline.events.length;
    broker.heartbeatError = ErrorCode.REBALANCE_IN_PROGRESS;
    const revoked = await timeline.until('the revoke', (e) => e.kind === 'revoked', mark);
    const rejoin = await timeline.until('the rejoin', isRequest(11), mark);
    const commit = await timeline.until('the commit before the rejoin', isRequest(8), mark);
    assert.ok(
      timeline.index(commit) < timeline.index(revoked) && timeline.index(revoked) < timeline.index(rejoin),
      'commit, then revoke, then JoinGroup',
    );
    assert.equal(revoked.kind === 'revoked' && revoked.partitions, [0, 1]);
    assert.equal(
      revoked.kind === 'revoked' && Object.fromEntries(revoked.committedAtCall),
      { 0: 5, 1: 5, 2: 1 },
      'everything handed out was committed before the revoke',
    );
    const commitBody = (commit as any).body;
    assert.is(commitBody.generationIdOrMemberEpoch, 1);
    assert.is(commitBody.memberId, 'm1');

    // Generation 2 (after one refused JoinGroup): partitions 1 and 2, from the committed 5 and 1.
    const assigned = await timeline.until('the new assignment', (e) => e.kind === 'assigned', timeline.index(rejoin));
    assert.equal(assigned.kind === 'assigned' && assigned.partitions, [1, 2]);
    await timeline.until('partition 2 from its committed offset', () => recordsOf(timeline, 2).length === 4);
    assert.equal(recordsOf(timeline, 2), [1, 2, 3, 4]);
    assert.equal(
      timeline.requests(11).map((j) => j.body.memberId),
      ['', 'm1', 'm1', 'm1'],
    );
    assert.equal(
      timeline.requests(14).map((s) => s.body.generationId),
      [1, 2],
    );
    assert.equal(timeline.requests(14)[1].body.assignments, [], 'a follower sends no plan');
    assert.equal(recordsOf(timeline, 0, mark), [], 'nothing more of a revoked partition');
    assert.equal(recordsOf(timeline, 1, mark), [], 'partition 1 resumes at its committed end, no repeats');
  } finally {
    await consumer.close();
    await loop.catch(() => undefined);
    broker.close();
  }
  // Closing commits with the current generation and leaves.
  assert.is(broker.committed.get(2), 5);
  assert.is(timeline.requests(8).at(-1)!.body.generationIdOrMemberEpoch, 2);
  assert.equal(
    timeline.requests(13).map((l) => l.body.members.map((m: any) => m.memberId)),
    [['m1']],
  );
});

test('cooperative-sticky: owned partitions in the subscription, fetching during the join, revoke only the moved partition, immediate rejoin', async () => {
  let fetchedDuringJoin = false;
  const broker = new ScriptedBroker({
    join: async (body, n) => {
      const sub = decodeSubscriptionBytes(body.protocols[0].metadata);
      if (n === 0) return { errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: 'm1' };
      if (n === 1)
        return {
          generationId: 1,
          protocolName: 'cooperative-sticky',
          leader: 'm1',
          memberId: 'm1',
          members: [
            { memberId: 'm1', groupInstanceId: null, metadata: body.protocols[0].metadata },
            {
              memberId: 'other',
              groupInstanceId: null,
              metadata: encodeSubscriptionBytes({ version: 2, topics: [TOPIC] }),
            },
          ],
        };
      if (n === 2) {
        // New records arrive while this JoinGroup waits; the member must go on fetching them
        // (over its other connection) before the rebalance completes.
        broker.heartbeatError = ErrorCode.NONE;
        broker.append(0, 2);
        broker.append(2, 2);
        const from = broker.timeline.events.length;
        const ahead = (p: number) =>
          isRequest(1, (b) =>
            b.topics.some((t: any) => t.partitions.some((q: any) => q.partition === p && Number(q.fetchOffset) >= 7)),
          );
        await Promise.all([
          broker.timeline.until('a fetch of partition 0 past the new records', ahead(0), from),
          broker.timeline.until('a fetch of partition 2 past the new records', ahead(2), from),
        ]).then(
          () => (fetchedDuringJoin = true),
          () => undefined,
        );
        return { generationId: 2, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm1' };
      }
      assert.is(sub.version, 2);
      return { generationId: n + 1, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm1' };
    },
    // Generation 1 by the member's own plan; then partition 2 is taken away, and the follow-up keeps 0.
    sync: (body, n) =>
      n === 0
        ? body.assignments.find((a: any) => a.memberId === 'm1').assignment
        : encodeAssignmentBytes(new Map([[TOPIC, [0]]])),
  });
  await broker.start();
  for (const p of [0, 1, 2, 3]) broker.append(p, 5);
  const { timeline } = broker;
  const { consumer, loop } = member(broker, 'cooperative-sticky');
  try {
    await timeline.until(
      'the 10 records of partitions 0 and 2',
      () => recordsOf(timeline, 0).length + recordsOf(timeline, 2).length === 10,
    );
    const firstSync = timeline.requests(14)[0].body;
    const plan = Object.fromEntries(
      firstSync.assignments.map((a: any) => [a.memberId, Object.fromEntries(decodeAssignmentBytes(a.assignment))]),
    );
    assert.equal(plan, { m1: { t: [0, 2] }, other: { t: [1, 3] } });
    const firstJoin = decodeSubscriptionBytes(timeline.requests(11)[1].body.protocols[0].metadata);
    assert.equal([firstJoin.version, firstJoin.ownedPartitions.size, firstJoin.generationId], [2, 0, -1]);
    assert.equal(
      timeline.requests(11)[1].body.protocols.map((p: any) => p.name),
      ['cooperative-sticky'],
    );

    const mark = timeline.events.length;
    broker.heartbeatError = ErrorCode.REBALANCE_IN_PROGRESS;
    const rejoin = await timeline.until('the rejoin', isRequest(11), mark);
    const owned = decodeSubscriptionBytes((rejoin as any).body.protocols[0].metadata);
    assert.equal(Object.fromEntries(owned.ownedPartitions), { t: [0, 2] }, 'the rejoin says what the member owns');
    assert.is(owned.generationId, 1);
    const revoked = await timeline.until('the revoke of partition 2', (e) => e.kind === 'revoked', mark);
    assert.ok(fetchedDuringJoin, 'the member fetched while its JoinGroup was waiting');
    assert.equal(revoked.kind === 'revoked' && revoked.partitions, [2], 'only the moved partition is revoked');
    // What was handed out of partition 2 was committed before the revoke listener ran.
    const handedOut2 = recordsOf(timeline, 2, 0, timeline.index(revoked));
    assert.is(revoked.kind === 'revoked' && revoked.committedAtCall.get(2), handedOut2[handedOut2.length - 1] + 1);
    // A member that revoked something rejoins at once, owning only what it kept.
    const followUp = await timeline.until('the follow-up JoinGroup', isRequest(11), timeline.index(revoked));
    const keeps = decodeSubscriptionBytes((followUp as any).body.protocols[0].metadata);
    assert.equal(Object.fromEntries(keeps.ownedPartitions), { t: [0] });
    assert.is(keeps.generationId, 2);
    const sameAgain = await timeline.until(
      'the follow-up assignment',
      (e) => e.kind === 'assigned',
      timeline.index(followUp),
    );
    assert.equal(
      sameAgain.kind === 'assigned' && sameAgain.partitions,
      [],
      'nothing new: cooperative listeners hear only changes',
    );
    await timeline.until('partition 0 up to offset 6', () => recordsOf(timeline, 0).includes(6));
    assert.equal(recordsOf(timeline, 0), [0, 1, 2, 3, 4, 5, 6], 'the kept partition was read straight through');
    assert.not.ok(
      timeline.events.some((e) => e.kind === 'revoked' && e.partitions.includes(0)),
      'partition 0 was never revoked',
    );
    // The group coordinator has a connection of its own, apart from the fetches.
    const groupConnections = new Set(
      timeline.events.filter((e) => e.kind === 'request' && e.apiKey === 11).map((e) => (e as any).connection),
    );
    const fetchConnections = new Set(timeline.requests(1).map((e) => e.connection));
    assert.ok([...groupConnections].every((c) => !fetchConnections.has(c)));
  } finally {
    await consumer.close();
    await loop.catch(() => undefined);
    broker.close();
  }
});

test('a refused rejoin reaches next() as an error, and the next call joins again', async () => {
  const broker = new ScriptedBroker({
    join: (_body, n) => {
      if (n === 0) return { generationId: 1, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm1' };
      broker.heartbeatError = ErrorCode.NONE;
      if (n === 1) return { errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL };
      return { generationId: 2, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm1' };
    },
    sync: (_body, n) => encodeAssignmentBytes(new Map([[TOPIC, n === 0 ? [0] : [0, 1]]])),
  });
  await broker.start();
  for (const p of [0, 1]) broker.append(p, 3);
  const { timeline } = broker;
  const { consumer, loop } = member(broker, 'cooperative-sticky', true);
  try {
    await timeline.until('partition 0 read', () => recordsOf(timeline, 0).length === 3);
    broker.heartbeatError = ErrorCode.REBALANCE_IN_PROGRESS;
    const failure = await timeline.until('the refusal to reach next()', (e) => e.kind === 'error');
    assert.match((failure as { message: string }).message, /INCONSISTENT_GROUP_PROTOCOL/);
    const assigned = await timeline.until(
      'the retried join to assign partition 1',
      (e) => e.kind === 'assigned' && e.partitions.includes(1),
      timeline.index(failure),
    );
    assert.ok(assigned);
    await timeline.until('partition 1 read', () => recordsOf(timeline, 1).length === 3);
    assert.is(timeline.requests(11).length, 3);
    assert.equal(recordsOf(timeline, 0), [0, 1, 2], 'partition 0 kept, not read again');
  } finally {
    await consumer.close();
    await loop.catch(() => undefined);
    broker.close();
  }
});

test('cooperative member fenced by UNKNOWN_MEMBER_ID: partitions lost (no commit), a fresh join that owns nothing', async () => {
  const broker = new ScriptedBroker({
    join: (_body, n) => {
      if (n === 0) return { generationId: 1, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm1' };
      broker.heartbeatError = ErrorCode.NONE;
      return { generationId: 5, protocolName: 'cooperative-sticky', leader: 'other', memberId: 'm2' };
    },
    sync: (_body, n) => encodeAssignmentBytes(new Map([[TOPIC, n === 0 ? [0, 1] : [1]]])),
  });
  await broker.start();
  for (const p of [0, 1]) broker.append(p, 3);
  broker.committed.set(1, 2);
  const { timeline } = broker;
  const { consumer, loop } = member(broker, 'cooperative-sticky');
  try {
    await timeline.until(
      'partitions 0 and 1 read',
      () => recordsOf(timeline, 0).length === 3 && recordsOf(timeline, 1).length === 1,
    );
    const commitsBefore = timeline.requests(8).length;
    const mark = timeline.events.length;
    broker.heartbeatError = ErrorCode.UNKNOWN_MEMBER_ID;
    const lost = await timeline.until('the lost listener', (e) => e.kind === 'lost', mark);
    assert.equal(lost.kind === 'lost' && lost.partitions, [0, 1]);
    const rejoin = await timeline.until('the fresh join', isRequest(11), mark);
    assert.is((rejoin as any).body.memberId, '', 'a fenced member joins without its old id');
    const fresh = decodeSubscriptionBytes((rejoin as any).body.protocols[0].metadata);
    assert.equal([fresh.ownedPartitions.size, fresh.generationId], [0, -1], 'it claims nothing');
    assert.is(
      timeline.requests(8).length,
      commitsBefore,
      "nothing committed for partitions that may be someone else's",
    );
    assert.not.ok(timeline.events.some((e) => e.kind === 'revoked'));
    // The new generation gives partition 1 back, from the group's committed offset 2.
    const assigned = await timeline.until('the new assignment', (e) => e.kind === 'assigned', timeline.index(rejoin));
    assert.equal(assigned.kind === 'assigned' && assigned.partitions, [1]);
    await timeline.until(
      'partition 1 read again from the committed offset',
      () => recordsOf(timeline, 1, timeline.index(assigned)).length === 1,
    );
    assert.equal(recordsOf(timeline, 1), [2, 2]);
  } finally {
    await consumer.close();
    await loop.catch(() => undefined);
    broker.close();
  }
});

test.run();
