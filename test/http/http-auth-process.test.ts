// HTTP authentication of a real broker process, checked against the SCRAM users of its
// metadata image: a bootstrap user (brook.security.bootstrap.scram.users) logs in with
// Basic and through the console's login; a user added with AlterUserScramCredentials over
// the Kafka port can log in as soon as the record applies, and one deleted the same way no
// longer can. Writes without credentials are refused, and the start line warns nobody
// (the listener is on loopback).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Admin } from '../../src/client/admin';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { until } from '../helpers/wait';
import { request, waitReady } from './http-client';

let broker: BrokerProcess;
let port: number;
let admin: Admin;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const whoamiAs = (user: string, password: string) =>
  request(port, 'GET', '/api/v1/whoami', { headers: { authorization: basic(user, password) } });

test.before(async () => {
  broker = await startBroker({
    http: true,
    config: {
      'brook.http.auth.enable': 'true',
      'brook.http.auth.failure.delay.ms': '20',
      // The waits below poll with a password that fails until a record applies.
      'brook.http.auth.failures.per.minute.max': '10000',
      'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=operator,password=operator-password]',
    },
  });
  port = broker.httpPort!;
  await waitReady(port);
  admin = new Admin({ bootstrap: [`127.0.0.1:${broker.port}`] });
});

test.after(async () => {
  admin?.close();
  assert.ok(broker.alive(), 'the broker survived');
  await broker.stop();
});

test('the bootstrap user logs in with Basic and with the login route; anonymous writes are refused', async () => {
  const ok = await whoamiAs('operator', 'operator-password');
  assert.is(ok.status, 200, ok.text);
  assert.is(ok.json.principal, 'User:operator');
  assert.is((await whoamiAs('operator', 'wrong-password')).status, 401);
  const login = await request(port, 'POST', '/api/v1/login', {
    body: { username: 'operator', password: 'operator-password' },
  });
  assert.is(login.status, 200, login.text);
  assert.match(login.headers['set-cookie']![0], /HttpOnly; SameSite=Strict/);
  const refused = await request(port, 'POST', '/api/v1/topics', { body: { name: 'anonymous-topic' } });
  assert.is(refused.status, 401);
  assert.match(refused.headers['www-authenticate'] ?? '', /Basic/);
  assert.is((await request(port, 'GET', '/health')).status, 200);
  assert.not.match(broker.logs(), /without authentication/);
  assert.match(broker.logs(), /"msg":"http listener security","tls":false,"authentication":\["basic"\]/);
  assert.match(broker.logs(), /http authentication failed/);
  assert.not.match(broker.logs(), /wrong-password|operator-password/, 'no password in the logs');
});

test('users added and deleted over the Kafka protocol are seen by the HTTP listener', async () => {
  const added = await admin.alterUserScramCredentials([
    { kind: 'upsert', user: 'grace', mechanism: 'SCRAM-SHA-256', password: 'grace-password' },
  ]);
  assert.is(added[0].errorCode, 0, JSON.stringify(added));
  await until(async () => (await whoamiAs('grace', 'grace-password')).status === 200, {
    what: 'the new user to log in',
    timeoutMs: 10_000,
  });
  const deleted = await admin.alterUserScramCredentials([
    { kind: 'delete', user: 'grace', mechanism: 'SCRAM-SHA-256' },
  ]);
  assert.is(deleted[0].errorCode, 0, JSON.stringify(deleted));
  // The remembered verification does not outlive the credential.
  await until(async () => (await whoamiAs('grace', 'grace-password')).status === 401, {
    what: 'the deleted user to be refused',
    timeoutMs: 10_000,
  });
});

test.run();
