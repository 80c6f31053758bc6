// InitProducerId against a real Brook process, as Kafka answers it: without a transactional
// id every request gets a new producer id at epoch 0, also when it names an id and epoch
// (v3+, KIP-360; @platformatic/kafka always sends 0 and 0); an id without an epoch, or an
// epoch without an id, is INVALID_REQUEST; a transactional id is refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey } from '../../protocol/api-keys';
import { ErrorCode } from '../../protocol/errors';
import { KafkaConnection } from '../../src/net/kafka-connection';
import { BrokerProcess, startBroker } from '../helpers/broker-process';

let broker: BrokerProcess;
let connection: KafkaConnection;

test.before(async () => {
  broker = await startBroker();
  connection = new KafkaConnection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10000 });
  await connection.connect();
});

test.after(async () => {
  connection.close();
  await broker.stop();
});

const init = (version: number, producerId: number, producerEpoch: number, transactionalId: string | null = null) =>
  connection.request(ApiKey.InitProducerId, version, {
    transactionalId,
    transactionTimeoutMs: 60000,
    producerId,
    producerEpoch,
  });

test('every request without a transactional id gets a new producer id at epoch 0', async () => {
  const seen = new Set<number>();
  for (const version of [0, 2, 3, 4]) {
    const answer = await init(version, -1, -1);
    assert.is(answer.errorCode, ErrorCode.NONE, `v${version}`);
    assert.is(answer.producerEpoch, 0, `v${version} epoch`);
    assert.ok(
      answer.producerId >= 0 && !seen.has(answer.producerId),
      `v${version}: a new id, got ${answer.producerId}`,
    );
    seen.add(answer.producerId);
  }
});

test('an id and epoch named in the request (v3+) still get a new id at epoch 0, as on Kafka', async () => {
  const first = await init(4, -1, -1);
  for (const [producerId, producerEpoch] of [
    [first.producerId, first.producerEpoch],
    [0, 0],
    [0, 0],
  ]) {
    const answer = await init(4, producerId, producerEpoch);
    assert.is(answer.errorCode, ErrorCode.NONE);
    assert.is(answer.producerEpoch, 0, `named ${producerId}/${producerEpoch}: epoch 0`);
    assert.ok(
      answer.producerId > first.producerId,
      `named ${producerId}/${producerEpoch}: a new id, got ${answer.producerId}`,
    );
  }
  const again = await init(3, 0, 0);
  const andAgain = await init(3, 0, 0);
  assert.is.not(again.producerId, andAgain.producerId, 'two producers naming 0/0 never share an id');
});

test('an id without an epoch, or an epoch without an id, is INVALID_REQUEST', async () => {
  for (const [producerId, producerEpoch] of [
    [7, -1],
    [-1, 3],
  ]) {
    const answer = await init(4, producerId, producerEpoch);
    assert.is(answer.errorCode, ErrorCode.INVALID_REQUEST, `${producerId}/${producerEpoch}`);
    assert.is(answer.producerId, -1);
  }
});

test('a transactional id is refused', async () => {
  const answer = await init(4, -1, -1, 'txn');
  assert.is(answer.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.is(answer.producerId, -1);
});

test.run();
