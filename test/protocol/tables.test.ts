// The ApiKey enum and the error-code table against the schemas and Kafka's numbering: one
// name per key, every schema named in the enum, and errorInfo answering from the table.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiKey, ApiName } from '../../protocol/api-keys';
import { allApis, apiByKey } from '../../protocol/apis';
import { ErrorCode, ErrorCodeName, errorInfo, isRetriable } from '../../protocol/errors';

test('every ApiKey names a schema with that key and name', () => {
  for (const [name, key] of Object.entries(ApiKey)) {
    const schema = apiByKey(key);
    assert.ok(schema, `${name} has a schema`);
    assert.is(schema.name, name);
  }
});

test('every schema has its key in ApiKey', () => {
  for (const schema of allApis) assert.is(ApiKey[schema.name as ApiName], schema.apiKey, schema.name);
  assert.is(new Set(Object.values(ApiKey)).size, Object.keys(ApiKey).length, 'keys are distinct');
});

test('Kafka numbering of a few well-known keys', () => {
  assert.is(ApiKey.Produce, 0);
  assert.is(ApiKey.Fetch, 1);
  assert.is(ApiKey.ApiVersions, 18);
  assert.is(ApiKey.OffsetDelete, 47);
  assert.is(ApiKey.RaftVote, 1000);
});

test('ErrorCode is a frozen table that errorInfo answers from', () => {
  assert.is(ErrorCode.NONE, 0);
  assert.is(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  assert.is(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.ok(Object.isFrozen(ErrorCode));
  for (const [name, code] of Object.entries(ErrorCode) as [ErrorCodeName, number][]) {
    assert.is(errorInfo(code).name, name);
    assert.is(errorInfo(code).code, code);
  }
  assert.ok(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER));
  assert.is(errorInfo(9999).name, 'UNKNOWN_ERROR_9999');
  // @ts-expect-error a misspelt code name does not compile
  assert.is(ErrorCode.NOT_LEADER, undefined);
});

test.run();
