// The SASL server mechanisms token by token: PLAIN (authzid rules, malformed tokens),
// SCRAM-SHA-256/512 (a full exchange with the server signature checked, a wrong password,
// an unknown user who gets a credible salt and fails only at the proof, channel binding,
// tokenauth, a foreign authzid, a replayed nonce), OAUTHBEARER (valid, error challenge
// then failure), the per-address failure limiter, and PLAIN's users file.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import { JwtValidator } from '../../src/security/jwt';
import { FailedAuthenticationLimiter } from '../../src/security/sasl/failure-limiter';
import { mapPasswordVerifier, scramPasswordVerifier } from '../../src/security/sasl/listener';
import { SaslStep } from '../../src/security/sasl/mechanism';
import { OAUTHBEARER_ERROR_CHALLENGE, OauthbearerServer } from '../../src/security/sasl/oauthbearer';
import { PlainServer } from '../../src/security/sasl/plain';
import { parsePlainUsers, plainUserLine } from '../../src/security/sasl/plain-users';
import { decodeSaslName, ScramServer } from '../../src/security/sasl/scram';
import { SaslConfigError } from '../../src/security/sasl/settings';
import { MemoryCredentialStore, oauthbearerToken, plainToken, ScramClient, signJwt } from '../helpers/sasl-client';

const store = new MemoryCredentialStore().add('alice', 'alice-secret').add('we,ird=name', 'pw-weird');
const NOW = 1_800_000_000_000;

function expectFailure(step: SaslStep): string {
  if (step.kind !== 'failure') assert.unreachable(`expected a failure, got ${step.kind}`);
  return step.kind === 'failure' ? step.reason : '';
}

function expectChallenge(step: SaslStep): Buffer {
  if (step.kind !== 'challenge') assert.unreachable(`expected a challenge, got ${step.kind}`);
  return step.kind === 'challenge' ? step.token : Buffer.alloc(0);
}

test('PLAIN: the right password, an authzid equal to the user; wrong ones fail', () => {
  const verify = scramPasswordVerifier(store);
  const ok = new PlainServer(verify).evaluate(plainToken('alice', 'alice-secret'));
  assert.is(ok.kind, 'success');
  assert.is(ok.kind === 'success' && ok.principalName, 'alice');
  assert.is(new PlainServer(verify).evaluate(plainToken('alice', 'alice-secret', 'alice')).kind, 'success');
  assert.match(
    expectFailure(new PlainServer(verify).evaluate(plainToken('alice', 'alice-secret', 'bob'))),
    /authorization id/,
  );
  assert.match(expectFailure(new PlainServer(verify).evaluate(plainToken('alice', 'nope'))), /invalid credentials/);
  assert.match(expectFailure(new PlainServer(verify).evaluate(plainToken('mallory', 'x'))), /invalid credentials/);
  assert.match(expectFailure(new PlainServer(verify).evaluate(plainToken('', 'x'))), /user name/);
  assert.match(expectFailure(new PlainServer(verify).evaluate(plainToken('alice', ''))), /password/);
  for (const bad of ['alice', 'a\0b', 'a\0b\0c\0d', '\xff\0\xff\0\xff']) {
    const token = bad.startsWith('\xff') ? Buffer.from([0xff, 0, 0xff, 0, 0xff]) : Buffer.from(bad);
    assert.is(new PlainServer(verify).evaluate(token).kind, 'failure', JSON.stringify(bad));
  }
  const once = new PlainServer(verify);
  once.evaluate(plainToken('alice', 'alice-secret'));
  assert.is(once.evaluate(plainToken('alice', 'alice-secret')).kind, 'failure', 'a second token');
});

test('PLAIN falls back to SCRAM-SHA-256 when a user has no SCRAM-SHA-512 credential', () => {
  const only256 = new MemoryCredentialStore().add('carol', 'c-pw', ['SCRAM-SHA-256']);
  assert.is(new PlainServer(scramPasswordVerifier(only256)).evaluate(plainToken('carol', 'c-pw')).kind, 'success');
});

for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  test(`${mechanism}: a full exchange, and the server proves it knows the key`, () => {
    for (const [user, password] of [
      ['alice', 'alice-secret'],
      ['we,ird=name', 'pw-weird'],
    ]) {
      const server = new ScramServer(mechanism, store);
      const client = new ScramClient(mechanism, user, password);
      const serverFirst = expectChallenge(server.evaluate(client.first(), NOW));
      const done = server.evaluate(client.final(serverFirst), NOW);
      assert.is(done.kind, 'success');
      if (done.kind !== 'success') return;
      assert.is(done.principalName, user);
      assert.ok(client.verifyServerFinal(done.token));
    }
  });

  test(`${mechanism}: wrong password and unknown user fail at the proof, after a credible challenge`, () => {
    const wrong = new ScramServer(mechanism, store);
    const c1 = new ScramClient(mechanism, 'alice', 'guess');
    const first1 = expectChallenge(wrong.evaluate(c1.first(), NOW));
    assert.match(expectFailure(wrong.evaluate(c1.final(first1), NOW)), /invalid credentials/);

    const unknown = new ScramServer(mechanism, store);
    const c2 = new ScramClient(mechanism, 'nobody', 'guess');
    const first2 = expectChallenge(unknown.evaluate(c2.first(), NOW)).toString();
    assert.match(first2, /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    // The same unknown name gets the same salt each time: no tell-tale change between attempts.
    const again = new ScramServer(mechanism, store);
    const first3 = expectChallenge(again.evaluate(new ScramClient(mechanism, 'nobody', 'x').first(), NOW)).toString();
    assert.is(first3.split(',')[1], first2.split(',')[1]);
    assert.match(expectFailure(unknown.evaluate(c2.final(Buffer.from(first2)), NOW)), /unknown user/);
  });

  test(`${mechanism}: tampered proof, wrong nonce, channel binding and authzid are refused`, () => {
    const cases: [string, (client: ScramClient, server: ScramServer) => SaslStep][] = [
      ['proof', (c, s) => s.evaluate(c.final(expectChallenge(s.evaluate(c.first(), NOW)), { tamperProof: true }), NOW)],
      [
        'nonce',
        (c, s) => {
          const first = expectChallenge(s.evaluate(c.first(), NOW));
          return s.evaluate(c.final(first, { nonce: c.clientNonce + 'forged' }), NOW);
        },
      ],
      [
        'binding',
        (c, s) => {
          const first = expectChallenge(s.evaluate(c.first(), NOW));
          return s.evaluate(c.final(first, { channelBinding: Buffer.from('y,,').toString('base64') }), NOW);
        },
      ],
    ];
    for (const [what, run] of cases) {
      const step = run(new ScramClient(mechanism, 'alice', 'alice-secret'), new ScramServer(mechanism, store));
      assert.is(step.kind, 'failure', what);
    }
    const bound = new ScramClient(mechanism, 'alice', 'alice-secret', 'p=tls-unique,,');
    assert.match(expectFailure(new ScramServer(mechanism, store).evaluate(bound.first(), NOW)), /channel binding/);
    const other = new ScramClient(mechanism, 'alice', 'alice-secret', 'n,a=bob,');
    assert.match(expectFailure(new ScramServer(mechanism, store).evaluate(other.first(), NOW)), /authorization id/);
    const same = new ScramClient(mechanism, 'alice', 'alice-secret', 'n,a=alice,');
    const server = new ScramServer(mechanism, store);
    const first = expectChallenge(server.evaluate(same.first(), NOW));
    assert.is(server.evaluate(same.final(first), NOW).kind, 'success', 'authzid equal to the user');
    const token = new ScramClient(mechanism, 'alice', 'alice-secret');
    assert.match(
      expectFailure(new ScramServer(mechanism, store).evaluate(token.first(',tokenauth=true'), NOW)),
      /delegation token/,
    );
  });

  test(`${mechanism}: garbage and truncated messages fail without throwing`, () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('n,,'),
      Buffer.from('n,,n=alice'),
      Buffer.from('n,,r=abc,n=alice'),
      Buffer.from('x,,n=alice,r=abc'),
      Buffer.from('n,,n=al=ice,r=abc'),
      Buffer.from('n,,n=alice,r=' + 'a'.repeat(1000)),
      Buffer.from('n,,n=alice,r=abc,' + 'x=1,'.repeat(100)),
      Buffer.from([0xff, 0xfe, 0x00]),
      crypto.randomBytes(512),
    ];
    for (const input of inputs) assert.is(new ScramServer(mechanism, store).evaluate(input, NOW).kind, 'failure');
    for (const final of ['', 'c=biws', 'c=biws,r=x', 'p=abc', 'c=biws,r=x,p=!!!', 'c=biws,r=x,p=AAAA']) {
      const server = new ScramServer(mechanism, store);
      server.evaluate(new ScramClient(mechanism, 'alice', 'alice-secret').first(), NOW);
      assert.is(server.evaluate(Buffer.from(final), NOW).kind, 'failure', final);
    }
  });
}

test('saslname decoding', () => {
  assert.is(decodeSaslName('a=2Cb=3Dc'), 'a,b=c');
  assert.is(decodeSaslName('a=2'), null);
  assert.is(decodeSaslName('a=41'), null);
});

test('OAUTHBEARER: a valid token succeeds with its expiry; a bad one gets the error challenge, then fails', () => {
  const secret = crypto.randomBytes(32);
  const validator = new JwtValidator({
    keys: [],
    jwksEndpoint: null,
    hmacSecret: secret,
    expectedIssuer: null,
    expectedAudience: [],
    clockSkewMs: 0,
    subClaimName: 'sub',
    scopeClaimName: 'scope',
    tokenBytesMax: 65536,
  });
  const exp = Math.floor(NOW / 1000) + 600;
  const good = signJwt({ sub: 'svc', exp }, secret, 'HS256');
  const step = new OauthbearerServer(validator).evaluate(oauthbearerToken(good), NOW);
  assert.is(step.kind, 'success');
  if (step.kind === 'success') {
    assert.is(step.principalName, 'svc');
    assert.is(step.credentialExpiresAtMs, exp * 1000);
  }
  assert.match(
    expectFailure(new OauthbearerServer(validator).evaluate(oauthbearerToken(good, 'other'), NOW)),
    /authorization id/,
  );
  assert.is(new OauthbearerServer(validator).evaluate(oauthbearerToken(good, 'svc'), NOW).kind, 'success');

  const expired = signJwt({ sub: 'svc', exp: Math.floor(NOW / 1000) - 10 }, secret, 'HS256');
  const server = new OauthbearerServer(validator);
  assert.is(expectChallenge(server.evaluate(oauthbearerToken(expired), NOW)).toString(), OAUTHBEARER_ERROR_CHALLENGE);
  assert.match(expectFailure(server.evaluate(Buffer.from([1]), NOW)), /expired/);

  for (const bad of [
    '',
    'n,,',
    'n,,\x01auth=Bearer\x01\x01',
    'n,,\x01auth=Basic abc\x01\x01',
    'y,,\x01auth=Bearer a.b.c\x01\x01',
    'n,,\x01x\x01\x01',
  ]) {
    assert.is(new OauthbearerServer(validator).evaluate(Buffer.from(bad), NOW).kind, 'failure', JSON.stringify(bad));
  }
});

test('failure limiter: per address, per minute, bounded', () => {
  const limiter = new FailedAuthenticationLimiter(3, 2);
  for (let i = 0; i < 3; i++) {
    assert.ok(limiter.allows('10.0.0.1', 1000));
    limiter.recordFailure('10.0.0.1', 1000);
  }
  assert.not.ok(limiter.allows('10.0.0.1', 2000));
  assert.ok(limiter.allows('10.0.0.2', 2000), 'another address is not affected');
  assert.ok(limiter.allows('10.0.0.1', 61_000), 'a new window');
  limiter.recordFailure('10.0.0.2', 2000);
  limiter.recordFailure('10.0.0.3', 2000);
  assert.is(limiter.trackedAddresses, 2);
  assert.ok(limiter.allows('10.0.0.1', 2000), 'forgotten first, as the least recent');
  assert.ok(new FailedAuthenticationLimiter(0, 1).allows('x', 0), '0 means no limit');
});

test('PLAIN users file: salted lines verify; malformed lines are refused with their line number', () => {
  const text = `# users\n${plainUserLine('dave', 'd-pw')}\n\n${plainUserLine('erin', 'e-pw', 'SCRAM-SHA-256')}\n`;
  assert.not.match(text, /d-pw|e-pw/);
  const verify = mapPasswordVerifier(parsePlainUsers(text));
  assert.ok(verify('dave', 'd-pw'));
  assert.ok(verify('erin', 'e-pw'));
  assert.not.ok(verify('dave', 'e-pw'));
  assert.not.ok(verify('frank', 'x'));
  for (const bad of ['dave', 'dave=plaintext', 'dave=SCRAM-SHA-1:4096:a:b:c', 'dave=SCRAM-SHA-256:10:AAAA:AAAA:AAAA']) {
    try {
      parsePlainUsers(bad);
      assert.unreachable(bad);
    } catch (error) {
      assert.instance(error, SaslConfigError);
      assert.match((error as Error).message, /line 1/);
    }
  }
});

test.run();
