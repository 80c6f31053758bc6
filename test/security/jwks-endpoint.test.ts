// An https JWKS endpoint on 127.0.0.1 (a test CA's server certificate): the keys are fetched
// at start, a token signed with a rotated-in key is accepted once an unknown kid has made
// the endpoint be read again (at most once per interval), and a start fails cleanly on an
// untrusted certificate, an HTTP error, an oversize answer or a server that never answers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/logger';
import { fetchJwks, startJwtValidator } from '../../src/security/jwks-endpoint';
import { JwtConfigError, parseOauthbearerSettings } from '../../src/security/jwt';
import { certFixture } from '../helpers/certs';
import { jwks, signJwt } from '../helpers/sasl-client';
import { until } from '../helpers/wait';

const fixture = certFixture();
const first = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const second = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** What the endpoint serves next: [status, body]. */
let answer: [number, string] = [200, jwks({ k1: first.publicKey })];
let requests = 0;
let hang = false;

const server = https.createServer(
  { key: fixture.server.keyPem, cert: fixture.server.certPem },
  (_request, response) => {
    requests++;
    if (hang) return;
    response.writeHead(answer[0], { 'content-type': 'application/json' });
    response.end(answer[1]);
  },
);
let url = '';

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function settings(extra: Record<string, string> = {}) {
  return parseOauthbearerSettings({
    'sasl.oauthbearer.jwks.endpoint.url': url,
    'brook.sasl.oauthbearer.jwks.endpoint.ca.file': fixture.files.caCert,
    ...extra,
  });
}

const now = () => Date.now();
const claims = () => ({ sub: 'svc', exp: Math.floor(Date.now() / 1000) + 60 });

test('keys fetched at start; a rotated key is picked up after an unknown kid', async () => {
  answer = [200, jwks({ k1: first.publicKey })];
  const { validator, endpoint } = await startJwtValidator(settings(), silentLogger);
  try {
    assert.is(
      validator.validate(signJwt(claims(), first.privateKey, 'ES256', { kid: 'k1' }), now()).principalName,
      'svc',
    );
    answer = [200, jwks({ k1: first.publicKey, k2: second.publicKey })];
    const rotated = signJwt(claims(), second.privateKey, 'ES256', { kid: 'k2' });
    const before = requests;
    assert.throws(() => validator.validate(rotated, now()), /unknown kid/);
    await until(
      () => {
        try {
          return validator.validate(rotated, now()).principalName === 'svc';
        } catch {
          return false;
        }
      },
      { what: 'the rotated key', timeoutMs: 5000, intervalMs: 20 },
    );
    // Another unknown kid right away does not fetch again.
    assert.throws(() => validator.validate(signJwt(claims(), second.privateKey, 'ES256', { kid: 'k9' }), now()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(requests, before + 1);
  } finally {
    endpoint?.close();
  }
});

test('a failed refresh keeps the known keys', async () => {
  answer = [200, jwks({ k1: first.publicKey })];
  const { validator, endpoint } = await startJwtValidator(settings(), silentLogger);
  try {
    answer = [500, 'down'];
    await endpoint!.refresh();
    assert.ok(validator.validate(signJwt(claims(), first.privateKey, 'ES256', { kid: 'k1' }), now()));
  } finally {
    endpoint?.close();
  }
});

test('the start fails on an untrusted certificate, an HTTP error, an oversize answer, no answer', async () => {
  const fails = async (run: () => Promise<unknown>, pattern: RegExp) => {
    try {
      await run();
    } catch (error) {
      assert.instance(error, JwtConfigError);
      assert.match((error as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected ${pattern}`);
  };
  answer = [200, jwks({ k1: first.publicKey })];
  await fails(
    () =>
      startJwtValidator(
        settings({ 'brook.sasl.oauthbearer.jwks.endpoint.ca.file': fixture.files.untrustedCaCert }),
        silentLogger,
      ),
    /JWKS endpoint/,
  );
  answer = [404, 'no'];
  await fails(() => startJwtValidator(settings(), silentLogger), /HTTP 404/);
  answer = [200, JSON.stringify({ keys: [], pad: 'x'.repeat(2 * 1024 * 1024) })];
  await fails(() => startJwtValidator(settings(), silentLogger), /more than/);
  answer = [200, '{"keys":[]}'];
  await fails(() => startJwtValidator(settings(), silentLogger), /no signing key/);
  hang = true;
  try {
    const ca = Buffer.from(fixture.ca.certPem);
    await fails(() => fetchJwks(url, ca, 300), /did not answer/);
  } finally {
    hang = false;
  }
});

test.run();
