// The controller port ties a broker to its heartbeat connection: once a registration or
// heartbeat is answered without error on a connection, that connection's close is reported
// to the controller (brokerConnection(id, false)); an older connection closing after the
// broker moved to a newer one is not; a connection that closed while its request was being
// decided does not count; an answer with an error binds nothing.

import { EventEmitter } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec } from '../../protocol/codec';
import { ErrorCode } from '../../protocol/errors';
import { Reader, Writer } from '../../protocol/primitives';
import { ControllerPortDispatcher, ControllerRequests } from '../../src/controller/controller-port';
import { silentLogger } from '../../src/logger';
import type { Connection } from '../../src/net/connection';
import { HandshakeGate } from '../../src/raft/handshake';

const CLUSTER = 'cluster-1';

/** A connection as far as the port uses it: open or closed, and a socket that emits 'close'. */
function fakeConnection() {
  const socket = new EventEmitter();
  const connection = { isClosed: false, socket };
  return {
    connection: connection as unknown as Connection,
    close() {
      connection.isClosed = true;
      socket.emit('close');
    },
  };
}

function harness() {
  const events: string[] = [];
  let errorCode: number = ErrorCode.NONE;
  let hold: Promise<void> = Promise.resolve();
  const answer = async () => {
    await hold;
    return { errorCode, isCaughtUp: true, isFenced: false, shouldShutDown: false, brokerEpoch: 1, leaderId: 1 };
  };
  const controller = {
    register: answer,
    heartbeat: answer,
    brokerConnection: (id: number, open: boolean) => events.push(`${id} ${open ? 'open' : 'closed'}`),
  } as unknown as ControllerRequests;
  const raft = { dispatch: () => 'close' as const };
  const port = new ControllerPortDispatcher(
    raft,
    CLUSTER,
    controller,
    new HandshakeGate(null, CLUSTER, 1, silentLogger),
  );
  const heartbeat = async (connection: Connection, brokerId: number) => {
    const writer = new Writer(64);
    requestCodec(ApiKey.BrokerHeartbeat, 0).encode(writer, {
      clusterId: CLUSTER,
      brokerId,
      brokerEpoch: 1,
      currentMetadataOffset: 0,
      wantFence: false,
      wantShutDown: false,
    });
    const header = {
      apiKey: ApiKey.BrokerHeartbeat,
      apiVersion: 0,
      correlationId: 1,
      clientId: null,
      headerVersion: 1,
    };
    await port.dispatch(header, new Reader(writer.toBuffer()), connection);
  };
  return {
    events,
    heartbeat,
    answerWith: (code: number) => (errorCode = code),
    holdAnswers: () => {
      let release = () => {};
      hold = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
  };
}

test("a heartbeat connection's close is reported; an older one's close after a reconnect is not", async () => {
  const h = harness();
  const a = fakeConnection();
  await h.heartbeat(a.connection, 2);
  assert.equal(h.events, ['2 open']);
  const b = fakeConnection();
  await h.heartbeat(b.connection, 2);
  a.close();
  assert.equal(h.events, ['2 open', '2 open'], 'the broker moved to a new connection: the old one says nothing');
  await h.heartbeat(b.connection, 2);
  b.close();
  assert.equal(h.events, ['2 open', '2 open', '2 open', '2 closed']);
});

test('a connection that closed while its heartbeat was decided, or was refused, binds nothing', async () => {
  const h = harness();
  const a = fakeConnection();
  const release = h.holdAnswers();
  const pending = h.heartbeat(a.connection, 3);
  a.close();
  release();
  await pending;
  assert.equal(h.events, [], 'dead before the answer: no open, no close');
  h.answerWith(ErrorCode.STALE_BROKER_EPOCH);
  const b = fakeConnection();
  await h.heartbeat(b.connection, 3);
  b.close();
  assert.equal(h.events, [], 'a refused heartbeat does not make the connection the heartbeat connection');
});

test.run();
