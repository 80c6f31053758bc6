// JWT validation with keys made here by node:crypto: RS256/384/512, PS256, ES256/384/512
// from a JWKS file (file: URL), HS256 only with a configured secret; refused: expired,
// not yet valid, issued in the future, wrong issuer or audience, bad signature, alg none,
// an unknown kid, a key of the wrong type for the alg, garbage, an oversize token; the
// settings' errors (http JWKS, missing file) and the configured claim names.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { JwtConfigError, JwtError, JwtValidator, parseOauthbearerSettings } from '../../src/security/jwt';
import { JwsAlgorithm, jwks, signJwt } from '../helpers/sasl-client';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-jwt-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ec521 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' });
const jwksFile = path.join(dir, 'jwks.json');
fs.writeFileSync(
  jwksFile,
  jwks({ rsa: rsa.publicKey, ec256: ec256.publicKey, ec384: ec384.publicKey, ec521: ec521.publicKey }),
);
const secretFile = path.join(dir, 'hmac.secret');
const secret = crypto.randomBytes(32);
fs.writeFileSync(secretFile, secret);

const NOW = 1_800_000_000_000;
const nowS = NOW / 1000;
const base = { sub: 'alice', iss: 'https://issuer.test', aud: ['brook', 'other'], exp: nowS + 300, iat: nowS - 10 };

const validator = new JwtValidator(
  parseOauthbearerSettings({
    'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwksFile).href,
    'sasl.oauthbearer.expected.issuer': 'https://issuer.test',
    'sasl.oauthbearer.expected.audience': 'brook, brook-admin',
  }),
);

function refused(token: string, pattern: RegExp, v = validator, now = NOW): void {
  try {
    v.validate(token, now);
  } catch (error) {
    assert.instance(error, JwtError);
    assert.match((error as Error).message, pattern);
    assert.not.match((error as Error).message, /\./, 'a short reason, never the token');
    return;
  }
  assert.unreachable(`accepted; expected ${pattern}`);
}

test('every asymmetric algorithm verifies with the key of its kid', () => {
  const cases: [JwsAlgorithm, crypto.KeyObject, string][] = [
    ['RS256', rsa.privateKey, 'rsa'],
    ['RS384', rsa.privateKey, 'rsa'],
    ['RS512', rsa.privateKey, 'rsa'],
    ['PS256', rsa.privateKey, 'rsa'],
    ['ES256', ec256.privateKey, 'ec256'],
    ['ES384', ec384.privateKey, 'ec384'],
    ['ES512', ec521.privateKey, 'ec521'],
  ];
  for (const [alg, key, kid] of cases) {
    const result = validator.validate(signJwt({ ...base, scope: 'read write' }, key, alg, { kid }), NOW);
    assert.equal(result, { principalName: 'alice', expiresAtMs: base.exp * 1000, scopes: ['read', 'write'] }, alg);
  }
  // Without a kid, the keys that fit the algorithm are tried.
  assert.is(validator.validate(signJwt(base, rsa.privateKey, 'RS256'), NOW).principalName, 'alice');
});

test('time claims: expired, not yet valid, issued in the future; within the skew they pass', () => {
  refused(signJwt({ ...base, exp: nowS - 31 }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /expired/);
  assert.ok(validator.validate(signJwt({ ...base, exp: nowS - 20 }, rsa.privateKey, 'RS256', { kid: 'rsa' }), NOW));
  refused(signJwt({ ...base, nbf: nowS + 60 }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /nbf/);
  refused(signJwt({ ...base, iat: nowS + 60 }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /iat/);
  const { exp: _exp, ...noExp } = base;
  refused(signJwt(noExp, rsa.privateKey, 'RS256', { kid: 'rsa' }), /exp is missing/);
  refused(signJwt({ ...base, exp: 'soon' }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /exp/);
});

test('issuer, audience and subject', () => {
  refused(signJwt({ ...base, iss: 'https://evil.test' }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /issuer/);
  refused(signJwt({ ...base, aud: 'somebody' }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /audience/);
  refused(signJwt({ ...base, aud: undefined }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /audience/);
  assert.ok(validator.validate(signJwt({ ...base, aud: 'brook-admin' }, rsa.privateKey, 'RS256', { kid: 'rsa' }), NOW));
  refused(signJwt({ ...base, sub: '' }, rsa.privateKey, 'RS256', { kid: 'rsa' }), /sub claim/);
});

test('signatures: a bad one, another key, alg none, HS256 without a secret, a key of the wrong type', () => {
  const token = signJwt(base, rsa.privateKey, 'RS256', { kid: 'rsa' });
  const [h, p, s] = token.split('.');
  const flipped = Buffer.from(s, 'base64url');
  flipped[10] ^= 1;
  refused(`${h}.${p}.${flipped.toString('base64url')}`, /bad signature/);
  refused(`${h}.${Buffer.from(JSON.stringify({ ...base, sub: 'admin' })).toString('base64url')}.${s}`, /bad signature/);
  refused(signJwt(base, rsaOther.privateKey, 'RS256', { kid: 'rsa' }), /bad signature/);
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
  refused(none, /alg none/);
  refused(signJwt(base, secret, 'HS256'), /HMAC/);
  refused(signJwt(base, rsa.privateKey, 'RS256', { kid: 'nobody' }), /unknown kid/);
  refused(signJwt(base, ec256.privateKey, 'ES256', { kid: 'rsa' }), /unknown kid|no key/);
  refused(signJwt(base, rsa.privateKey, 'RS256', { crit: ['exp'] }), /crit/);
  refused(signJwt(base, rsa.privateKey, 'RS256', { alg: 'XY999' }), /unsupported alg/);
});

test('garbage and oversize tokens', () => {
  for (const garbage of [
    '',
    'abc',
    'a.b',
    'a.b.c.d',
    '!!.!!.!!',
    'e30.e30.',
    `${Buffer.from('[1]').toString('base64url')}.e30.AA`,
  ]) {
    refused(garbage, /[a-z]/);
  }
  refused('a'.repeat(70_000), /too large/);
});

test('HS256 with brook.sasl.oauthbearer.hmac.secret.file; the claim names are configurable', () => {
  const hmac = new JwtValidator(
    parseOauthbearerSettings({
      'brook.sasl.oauthbearer.hmac.secret.file': secretFile,
      'sasl.oauthbearer.sub.claim.name': 'client_id',
      'sasl.oauthbearer.scope.claim.name': 'scp',
      'sasl.oauthbearer.clock.skew.seconds': '0',
    }),
  );
  const token = signJwt({ client_id: 'svc', scp: ['a', 'b'], exp: nowS + 10 }, secret, 'HS256');
  assert.equal(hmac.validate(token, NOW), {
    principalName: 'svc',
    expiresAtMs: (nowS + 10) * 1000,
    scopes: ['a', 'b'],
  });
  refused(signJwt({ client_id: 'svc', exp: nowS - 1 }, secret, 'HS256'), /expired/, hmac);
  refused(signJwt({ client_id: 'svc', exp: nowS + 10 }, crypto.randomBytes(32), 'HS256'), /bad signature/, hmac);
  refused(signJwt({ sub: 'svc', exp: nowS + 10 }, secret, 'HS256'), /client_id/, hmac);
});

test('settings: plain http JWKS refused at start, missing files, nothing configured', () => {
  const errors: [Record<string, string>, RegExp][] = [
    [{ 'sasl.oauthbearer.jwks.endpoint.url': 'http://idp.test/jwks' }, /plain http JWKS endpoints are refused/],
    [{ 'sasl.oauthbearer.jwks.endpoint.url': 'ftp://idp.test/jwks' }, /expected an https: or a file: URL/],
    [{ 'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(path.join(dir, 'missing.json')).href }, /cannot read/],
    [{ 'sasl.oauthbearer.jwks.endpoint.url': '/plain/path' }, /file: URL/],
    [{}, /needs sasl.oauthbearer.jwks.endpoint.url/],
    [{ 'brook.sasl.oauthbearer.hmac.secret.file': jwksFile.replace('jwks', 'nope') }, /cannot read/],
  ];
  for (const [keys, pattern] of errors) {
    assert.throws(
      () => parseOauthbearerSettings(keys),
      (e: Error) => e instanceof JwtConfigError && pattern.test(e.message),
    );
  }
  const bad = path.join(dir, 'bad.json');
  fs.writeFileSync(bad, '{"keys": 3}');
  assert.throws(
    () => parseOauthbearerSettings({ 'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(bad).href }),
    /keys/,
  );
});

test.run();
