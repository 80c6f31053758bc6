// The client SASL mechanisms against the RFCs' own examples (RFC 7677's SCRAM-SHA-256, RFC
// 5802's SCRAM-SHA-1 run through the same code), a SCRAM-SHA-512 round trip against the
// broker-side credential derivation, and the server data a client must refuse: a nonce that
// does not extend its own, a wrong server signature, absurd iteration counts, junk.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crypto from 'node:crypto';
import { deriveScramCredential, hash, hmac } from '../../src/security/scram';
import {
  createSaslExchange,
  SaslAuthenticationError,
  SCRAM_SHA_1,
  SCRAM_SHA_256,
  ScramExchange,
  scramSaslName,
} from '../../src/security/sasl-client';

const text = (buffer: Buffer | null) => (buffer === null ? null : buffer.toString('utf8'));

test('RFC 7677 SCRAM-SHA-256 example: client messages and server signature', async () => {
  const exchange = new ScramExchange(SCRAM_SHA_256, 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
  assert.is(text(await exchange.start()), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = exchange.evaluate(
    Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'),
  );
  assert.is(
    text(final),
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  );
  assert.is(exchange.evaluate(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')), null);
});

test('RFC 5802 example (SHA-1) through the same SCRAM code', async () => {
  const exchange = new ScramExchange(SCRAM_SHA_1, 'user', 'pencil', 'fyko+d2lbbFgONRv9qkxdawL');
  assert.is(text(await exchange.start()), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const final = exchange.evaluate(
    Buffer.from('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
  );
  assert.is(text(final), 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
  assert.is(exchange.evaluate(Buffer.from('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')), null);
});

test('SCRAM-SHA-512: the proof verifies against a broker-side credential, and the broker signature is accepted', async () => {
  const credential = deriveScramCredential('SCRAM-SHA-512', 'admin-secret', 4096);
  const exchange = createSaslExchange({ mechanism: 'SCRAM-SHA-512', username: 'admin', password: 'admin-secret' });
  const first = text(await exchange.start())!;
  assert.ok(first.startsWith('n,,n=admin,r='));
  const clientFirstBare = first.slice(3);
  const clientNonce = clientFirstBare.split(',r=')[1];
  assert.ok(clientNonce.length >= 32, 'the client nonce carries at least 24 random bytes');
  const serverFirst = `r=${clientNonce}${crypto.randomBytes(18).toString('base64')},s=${credential.salt.toString('base64')},i=4096`;
  const clientFinal = text(exchange.evaluate(Buffer.from(serverFirst)))!;
  const withoutProof = clientFinal.slice(0, clientFinal.indexOf(',p='));
  const proof = Buffer.from(clientFinal.slice(clientFinal.indexOf(',p=') + 3), 'base64');
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  // The broker's check (RFC 5802 section 3): H(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey.
  const signature = hmac('SCRAM-SHA-512', credential.storedKey, authMessage);
  const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
  assert.ok(hash('SCRAM-SHA-512', clientKey).equals(credential.storedKey));
  const serverSignature = hmac('SCRAM-SHA-512', credential.serverKey, authMessage).toString('base64');
  assert.is(exchange.evaluate(Buffer.from(`v=${serverSignature}`)), null);
});

test('two exchanges never share a client nonce', async () => {
  const a = text(await createSaslExchange({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' }).start());
  const b = text(await createSaslExchange({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' }).start());
  assert.is.not(a, b);
});

async function afterFirst(serverFirst: string): Promise<unknown> {
  const exchange = new ScramExchange(SCRAM_SHA_256, 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
  await exchange.start();
  try {
    exchange.evaluate(Buffer.from(serverFirst));
    return null;
  } catch (error) {
    return error;
  }
}

test('SCRAM refuses a server nonce that does not extend the client nonce', async () => {
  for (const nonce of [
    'someoneElsesNonce123',
    'rOprNGfwEbeRWgbNEkqO',
    'XrOprNGfwEbeRWgbNEkqOabc',
    'rOprNGfwEbeRWgbNEkqO\u0001x',
  ]) {
    const error = await afterFirst(`r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`);
    assert.instance(error, SaslAuthenticationError, nonce);
    assert.match((error as Error).message, /nonce/);
  }
});

test('SCRAM refuses absurd iteration counts, bad salts, missing attributes and extensions', async () => {
  const nonce = 'rOprNGfwEbeRWgbNEkqOabc';
  for (const serverFirst of [
    `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1`,
    `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095`,
    `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000000000`,
    `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096`,
    `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096.5`,
    `r=${nonce},s=***,i=4096`,
    `r=${nonce},s=,i=4096`,
    `r=${nonce},s=${'A'.repeat(4000)},i=4096`,
    `r=${nonce},i=4096`,
    `m=ext,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`,
    '',
    ',,,',
    'garbage',
  ]) {
    const error = await afterFirst(serverFirst);
    assert.instance(error, SaslAuthenticationError, serverFirst.slice(0, 60));
  }
});

test('SCRAM refuses a wrong server signature and reports a server error', async () => {
  const run = async (serverFinal: string) => {
    const exchange = new ScramExchange(SCRAM_SHA_256, 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    await exchange.start();
    exchange.evaluate(
      Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'),
    );
    try {
      exchange.evaluate(Buffer.from(serverFinal));
      return null;
    } catch (error) {
      return error as Error;
    }
  };
  // One bit off, truncated, missing, not base64.
  for (const bad of ['v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=', 'v=6rriTRBi23WpRR', 'x=1', 'v=!!!']) {
    const error = await run(bad);
    assert.instance(error, SaslAuthenticationError, bad);
    assert.match(error!.message, /signature/);
  }
  const error = await run('e=invalid-proof');
  assert.match(error!.message, /invalid-proof/);
});

test('SCRAM escapes "=" and "," in the user name', () => {
  assert.is(scramSaslName('a=b,c'), 'a=3Db=2Cc');
});

test('PLAIN sends authzid-less credentials in one message', async () => {
  const exchange = createSaslExchange({ mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' });
  assert.is(text(await exchange.start()), '\0alice\0alice-secret');
  assert.is(exchange.evaluate(Buffer.alloc(0)), null);
});

test('OAUTHBEARER: the RFC 7628 message from a value or a callback, extensions, and the error challenge reply', async () => {
  const fixed = createSaslExchange({ mechanism: 'OAUTHBEARER', token: 'eyJhbGciOi.J9eyJzdW.IiOiJhbGljZSJ9' });
  assert.is(text(await fixed.start()), 'n,,\x01auth=Bearer eyJhbGciOi.J9eyJzdW.IiOiJhbGljZSJ9\x01\x01');
  assert.is(fixed.evaluate(Buffer.alloc(0)), null);
  let calls = 0;
  const callback = createSaslExchange({
    mechanism: 'OAUTHBEARER',
    token: async () => `token${++calls}`,
    extensions: { traceId: 'abc' },
  });
  assert.is(text(await callback.start()), 'n,,\x01auth=Bearer token1\x01traceId=abc\x01\x01');
  // A refused token comes back as an error challenge; the client acknowledges with \x01.
  assert.is(text(callback.evaluate(Buffer.from('{"status":"invalid_token"}'))), '\x01');
  for (const token of ['', 'has space', 'a\x01b']) {
    try {
      await createSaslExchange({ mechanism: 'OAUTHBEARER', token }).start();
      assert.unreachable(`token ${JSON.stringify(token)} accepted`);
    } catch (error) {
      assert.instance(error, SaslAuthenticationError);
    }
  }
  try {
    await createSaslExchange({ mechanism: 'OAUTHBEARER', token: 't', extensions: { auth: 'x' } }).start();
    assert.unreachable('the reserved "auth" extension accepted');
  } catch (error) {
    assert.instance(error, SaslAuthenticationError);
  }
});

test.run();
