// Topic naming rules: Kafka's legal names, the internal topics, and fresh topic ids.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  collidingTopic,
  isInternalTopic,
  newTopicId,
  OFFSETS_TOPIC,
  TOPIC_NAME_LENGTH_MAX,
  validateTopicName,
  ZERO_TOPIC_ID,
} from '../../protocol/topic-names';

test('legal names: letters, digits, dot, underscore and dash, up to 249 characters', () => {
  for (const name of ['orders', 'a', 'Orders.v2_eu-west', '..a', '_', 'x'.repeat(TOPIC_NAME_LENGTH_MAX)])
    assert.is(validateTopicName(name), null, name);
});

test('illegal names say why', () => {
  assert.is(validateTopicName(''), 'topic name is empty');
  assert.is(validateTopicName('x'.repeat(250)), 'topic name is longer than 249 characters');
  assert.is(validateTopicName('.'), 'topic name cannot be "." or ".."');
  assert.is(validateTopicName('..'), 'topic name cannot be "." or ".."');
  assert.is(validateTopicName('a b'), 'topic name "a b" has characters other than [a-zA-Z0-9._-]');
  assert.ok(validateTopicName('topic/1'));
  assert.ok(validateTopicName('tôpic'));
});

test("names equal once '.' and '_' are alike collide, as in Kafka", () => {
  assert.is(collidingTopic('a_b', ['a.b', 'c']), 'a.b');
  assert.is(collidingTopic('a.b', ['x', 'a_b']), 'a_b');
  assert.is(collidingTopic('a.b', ['a.b']), null, 'the same name is TOPIC_ALREADY_EXISTS, not a collision');
  assert.is(collidingTopic('ab', ['a.b', 'a_b']), null);
  assert.is(collidingTopic('a-b', ['a_b', 'a.b']), null, 'a dash is not a collision character');
});

test("internal topics are exactly Kafka's", () => {
  assert.ok(isInternalTopic(OFFSETS_TOPIC));
  assert.ok(isInternalTopic('__transaction_state'));
  assert.not.ok(isInternalTopic('__consumer_offsets2'));
  assert.not.ok(isInternalTopic('orders'));
});

test('topic ids: 22 characters of base64url, never zero, never starting with a dash', () => {
  assert.is(ZERO_TOPIC_ID, 'AAAAAAAAAAAAAAAAAAAAAA');
  for (let i = 0; i < 1000; i++) {
    const id = newTopicId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    assert.is(Buffer.from(id, 'base64url').length, 16);
    assert.is.not(id, ZERO_TOPIC_ID);
  }
});

test.run();
