// The controller's limits on what grows: brook.max.partitions (partitions in the cluster)
// and brook.max.broker.partitions (replicas on one broker) refuse CreateTopics and
// CreatePartitions past them with POLICY_VIOLATION and write nothing; topic config values
// must fit Kafka's int and long types.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from '../../protocol/errors';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecordInput } from '../../protocol/metadata/records';
import { validateTopicConfig } from '../../src/broker/topic-config';
import { Controller, ControllerSettings, seededRandom } from '../../src/controller/controller';
import { MetadataImage } from '../../src/controller/metadata-image';

/** A controller over `brokers` registered, unfenced brokers. */
function controllerWith(brokers: number, limits: Partial<ControllerSettings>) {
  const image = new MetadataImage();
  let ids = 0;
  const controller = new Controller(
    image,
    { brokerSessionTimeoutMs: 9000, defaultPartitions: 1, defaultReplicationFactor: 1, ...limits },
    seededRandom(3),
    () => Buffer.alloc(16, ++ids).toString('base64url'),
  );
  let offset = 0;
  const commit = (records: MetadataRecordInput[]) => {
    for (const record of records) image.apply(decodeMetadataRecord(encodeMetadataRecord(record)), offset++);
  };
  for (let id = 1; id <= brokers; id++) {
    const reg = controller.registerBroker(
      {
        brokerId: id,
        incarnationId: Buffer.alloc(16, id).toString('base64url'),
        endPoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + id, securityProtocol: 0 }],
        rack: null,
      },
      0,
    );
    commit(reg.records);
    const beat = controller.heartbeat(
      {
        brokerId: id,
        brokerEpoch: reg.result.brokerEpoch,
        currentMetadataOffset: offset,
        wantFence: false,
        wantShutDown: false,
      },
      0,
    );
    commit(beat.records);
  }
  return { controller, commit, image };
}

const topic = (name: string, partitions: number, replicationFactor = 1) => ({
  name,
  partitions,
  replicationFactor,
  configs: {},
});

test('brook.max.partitions bounds the cluster: CreateTopics and CreatePartitions', () => {
  const { controller, commit, image } = controllerWith(1, { maxPartitions: 10 });
  const first = controller.createTopics([topic('a', 6), topic('b', 5), topic('c', 4)], false);
  assert.equal(
    first.result.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.POLICY_VIOLATION, ErrorCode.NONE],
    'b would make 11; c makes 10',
  );
  assert.match(String(first.result[1].errorMessage), /brook\.max\.partitions \(10\)/);
  commit(first.records);
  assert.is(image.topicsByName.size, 2);
  const grow = controller.createPartitions('a', 7);
  assert.is(grow.result.errorCode, ErrorCode.POLICY_VIOLATION);
  assert.is(grow.records.length, 0);
  // validate-only answers the same.
  assert.is(controller.createTopics([topic('d', 1)], true).result[0].errorCode, ErrorCode.POLICY_VIOLATION);
});

test('brook.max.broker.partitions bounds each broker', () => {
  const { controller, commit } = controllerWith(3, { maxBrokerPartitions: 4 });
  // RF 3 on 3 brokers: every partition puts a replica on every broker.
  const ok = controller.createTopics([topic('wide', 4, 3)], false);
  assert.is(ok.result[0].errorCode, ErrorCode.NONE);
  commit(ok.records);
  const more = controller.createTopics([topic('one-more', 1, 1)], false);
  assert.is(more.result[0].errorCode, ErrorCode.POLICY_VIOLATION);
  assert.match(String(more.result[0].errorMessage), /brook\.max\.broker\.partitions \(4\)/);
  assert.is(controller.createPartitions('wide', 5).result.errorCode, ErrorCode.POLICY_VIOLATION);
});

test('without limits, nothing changes', () => {
  const { controller } = controllerWith(1, {});
  assert.is(controller.createTopics([topic('big', 5000)], false).result[0].errorCode, ErrorCode.NONE);
});

test("topic config values must fit Kafka's int and long types", () => {
  assert.is(validateTopicConfig('segment.bytes', '1073741824'), null);
  assert.match(String(validateTopicConfig('segment.bytes', '2147483648')), /type INT/);
  assert.match(String(validateTopicConfig('max.message.bytes', '99999999999')), /type INT/);
  assert.is(validateTopicConfig('retention.ms', '9223372036854775807'), null);
  assert.match(String(validateTopicConfig('retention.ms', '9223372036854775808')), /type LONG/);
  assert.match(String(validateTopicConfig('retention.ms', '1e9')), /Not a number of type LONG/);
  assert.match(String(validateTopicConfig('retention.ms', '0'.repeat(5000) + '1')), /longer than 1024/);
  assert.match(String(validateTopicConfig('segment.ms', ' ')), /Not a number of type LONG/);
});

test.run();
