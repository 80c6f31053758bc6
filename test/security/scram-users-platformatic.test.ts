// @platformatic/kafka's own AlterUserScramCredentials and DescribeUserScramCredentials
// codecs (v0) against a broker in this process: an upsertion it encodes is stored as a
// credential that verifies the password, its decoder reads Brook's answers, per-user
// errors come back as its ResponseError carrying Kafka's codes, and an empty user list
// (how it asks for everyone) describes every user.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { alterUserScramCredentialsV0, Connection, describeUserScramCredentialsV0 } from '@platformatic/kafka';
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors';
import { loadConfig } from '../../src/config/config';
import { silentLogger } from '../../src/logger';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { saltedPassword, verifyScramPassword } from '../../src/security/scram';
import { freePort } from '../helpers/ports';

let running: RunningBroker;
let dataDir: string;
let connection: Connection;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-scram-platformatic-'));
  running = await startBroker(
    loadConfig({
      listen: '127.0.0.1:0',
      'controller-listen': `127.0.0.1:${await freePort()}`,
      http: 'off',
      'data-dir': dataDir,
      'log-level': 'error',
    }),
    silentLogger,
  );
  connection = new Connection('brook-test');
  await connection.connect('127.0.0.1', running.kafkaPort);
});

test.after(async () => {
  await connection?.close();
  await running?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The per-path Kafka error codes of a platformatic ResponseError. */
function codesOf(error: unknown): number[] {
  const errors = (error as { errors?: { apiCode?: number; code?: string }[] }).errors ?? [];
  return errors.map((e) => e.apiCode ?? -1);
}

test('an upsertion encoded by platformatic is stored and verifies the password', async () => {
  const salt = randomBytes(32);
  const answer = await alterUserScramCredentialsV0.api.async(
    connection,
    [],
    [
      {
        name: 'plt-user',
        mechanism: 2,
        iterations: 4096,
        salt,
        saltedPassword: saltedPassword('SCRAM-SHA-512', 'plt-secret', salt, 4096),
      },
    ],
  );
  assert.equal(answer.results, [{ user: 'plt-user', errorCode: 0, errorMessage: null }]);
  const credential = running.broker.quorum.image.scramCredential('plt-user', 'SCRAM-SHA-512')!;
  assert.ok(verifyScramPassword(credential, 'plt-secret'));
  const described = await describeUserScramCredentialsV0.api.async(connection, [{ name: 'plt-user' }]);
  assert.equal(described.results, [
    { user: 'plt-user', errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 2, iterations: 4096 }] },
  ]);
  const everyone = await describeUserScramCredentialsV0.api.async(connection, []);
  assert.equal(
    everyone.results.map((r) => r.user),
    ['plt-user'],
  );
});

test("per-user refusals reach platformatic as Kafka's codes", async () => {
  const salt = randomBytes(32);
  try {
    await alterUserScramCredentialsV0.api.async(
      connection,
      [{ name: 'nobody', mechanism: 1 }],
      [{ name: 'weak', mechanism: 1, iterations: 10, salt, saltedPassword: Buffer.alloc(32) }],
    );
    assert.unreachable('refused');
  } catch (error) {
    assert.equal(codesOf(error).sort(), [ErrorCode.RESOURCE_NOT_FOUND, ErrorCode.UNACCEPTABLE_CREDENTIAL].sort());
  }
  try {
    await describeUserScramCredentialsV0.api.async(connection, [{ name: 'ghost' }]);
    assert.unreachable('refused');
  } catch (error) {
    assert.equal(codesOf(error), [ErrorCode.RESOURCE_NOT_FOUND]);
  }
});

test.run();
