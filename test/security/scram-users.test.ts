// SCRAM users as metadata: the credential records round-trip through their framing, the
// image applies them and answers the CredentialStore lookup, a snapshot keeps them, the
// controller's AlterUserScramCredentials decision gives Kafka's error code for each bad
// input (UNACCEPTABLE_CREDENTIAL, UNSUPPORTED_SASL_MECHANISM, DUPLICATE_RESOURCE,
// RESOURCE_NOT_FOUND, and POLICY_VIOLATION past brook.max.scram.users), bootstrap users
// never overwrite a credential, and the bootstrap key parses Kafka's --add-scram form.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMetadataRecord, encodeMetadataRecord, MetadataRecordInput } from '../../protocol/metadata/records';
import { ErrorCode } from '../../protocol/errors';
import { ConfigError } from '../../src/config/config';
import { MetadataImage } from '../../src/controller/metadata-image';
import {
  alterScramCredentials,
  bootstrapScramRecords,
  ScramUpsertion,
  SCRAM_USER_NAME_BYTES_MAX,
} from '../../src/controller/scram-users';
import { deriveScramCredential, saltedPassword, verifyScramPassword } from '../../src/security/scram';
import { parseBootstrapScramUsers } from '../../src/server/scram-bootstrap';

const SALT = Buffer.alloc(32, 7);

function upsertion(name: string, password = 'secret', mechanism = 2, iterations = 4096): ScramUpsertion {
  const mech = mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
  const salted = mechanism === 1 || mechanism === 2 ? saltedPassword(mech, password, SALT, 4096) : Buffer.alloc(64);
  return { name, mechanism, iterations, salt: SALT, saltedPassword: salted };
}

/** Commits records through their wire form, as the Raft log would. */
function commit(image: MetadataImage, records: MetadataRecordInput[]): void {
  for (const record of records) image.apply(decodeMetadataRecord(encodeMetadataRecord(record)), image.lastOffset + 1);
}

function alter(
  image: MetadataImage,
  deletions: { name: string; mechanism: number }[],
  upsertions: ScramUpsertion[],
  usersMax = 100,
) {
  const decision = alterScramCredentials(image, { usersMax }, deletions, upsertions);
  commit(image, decision.records);
  return new Map(decision.result.map((r) => [r.user, r]));
}

test('credential records round-trip and never carry a password', () => {
  const credential = deriveScramCredential('SCRAM-SHA-256', 'pw', 4096, SALT);
  const record: MetadataRecordInput = {
    type: 'UserScramCredential',
    data: {
      name: 'alice',
      mechanism: 1,
      salt: SALT,
      storedKey: credential.storedKey,
      serverKey: credential.serverKey,
      iterations: 4096,
    },
  };
  const bytes = encodeMetadataRecord(record);
  assert.is(bytes[1], 11, 'KRaft record type 11');
  assert.equal(decodeMetadataRecord(bytes), record);
  assert.not.ok(bytes.includes(Buffer.from('pw')), 'no password bytes in the record');
  const remove: MetadataRecordInput = { type: 'RemoveUserScramCredential', data: { name: 'alice', mechanism: 1 } };
  const removeBytes = encodeMetadataRecord(remove);
  assert.is(removeBytes[1], 22, 'KRaft record type 22');
  assert.equal(decodeMetadataRecord(removeBytes), remove);
});

test('upsert, look up, verify, describe and delete through the image', () => {
  const image = new MetadataImage();
  let results = alter(image, [], [upsertion('alice', 'pw-a', 2), upsertion('bob', 'pw-b', 1)]);
  assert.is(results.get('alice')!.errorCode, ErrorCode.NONE);
  assert.is(results.get('bob')!.errorCode, ErrorCode.NONE);
  const alice = image.scramCredential('alice', 'SCRAM-SHA-512')!;
  assert.ok(alice);
  assert.ok(verifyScramPassword(alice, 'pw-a'));
  assert.not.ok(verifyScramPassword(alice, 'wrong'));
  assert.is(image.scramCredential('alice', 'SCRAM-SHA-256'), undefined);
  assert.equal(image.scramUserNames(), ['alice', 'bob']);
  // A second mechanism for the same user, then deletion of one keeps the other.
  results = alter(image, [], [upsertion('alice', 'pw-a2', 1)]);
  assert.is(results.get('alice')!.errorCode, ErrorCode.NONE);
  results = alter(image, [{ name: 'alice', mechanism: 2 }], []);
  assert.is(results.get('alice')!.errorCode, ErrorCode.NONE);
  assert.is(image.scramCredential('alice', 'SCRAM-SHA-512'), undefined);
  assert.ok(verifyScramPassword(image.scramCredential('alice', 'SCRAM-SHA-256')!, 'pw-a2'));
  alter(image, [{ name: 'alice', mechanism: 1 }], []);
  assert.equal(image.scramUserNames(), ['bob'], 'a user without credentials is gone');
});

test('every refusal gives Kafka error code and writes nothing for that user', () => {
  const image = new MetadataImage();
  // Named twice, a user is refused only if its first mention was acceptable (as in Kafka:
  // a first refusal, such as deleting what does not exist, is the one reported).
  alter(image, [], [upsertion('existing'), upsertion('twice-deleted'), upsertion('both')]);
  const before = image.lastOffset;
  const longName = 'x'.repeat(SCRAM_USER_NAME_BYTES_MAX + 1);
  const results = alter(
    image,
    [
      { name: 'ghost', mechanism: 2 },
      { name: 'twice-deleted', mechanism: 2 },
      { name: 'twice-deleted', mechanism: 1 },
      { name: 'both', mechanism: 2 },
      { name: '', mechanism: 2 },
      { name: 'bad-mech-del', mechanism: 3 },
    ],
    [
      upsertion('both'),
      upsertion('twice-upserted'),
      upsertion('twice-upserted', 'other', 1),
      upsertion('few', 'pw', 2, 4095),
      upsertion('many', 'pw', 2, 16385),
      upsertion('unknown-mech', 'pw', 0),
      upsertion(longName),
      { ...upsertion('empty-salt'), salt: Buffer.alloc(0) },
      { ...upsertion('huge-salt'), salt: Buffer.alloc(1025) },
      { ...upsertion('short-salted'), saltedPassword: Buffer.alloc(10) },
    ],
  );
  const code = (user: string) => results.get(user)?.errorCode;
  assert.is(code('ghost'), ErrorCode.RESOURCE_NOT_FOUND);
  assert.is(code('twice-deleted'), ErrorCode.DUPLICATE_RESOURCE);
  assert.is(code('both'), ErrorCode.DUPLICATE_RESOURCE);
  assert.is(code('twice-upserted'), ErrorCode.DUPLICATE_RESOURCE);
  assert.is(code(''), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('bad-mech-del'), ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.is(code('few'), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('many'), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('unknown-mech'), ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.is(code(longName), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('empty-salt'), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('huge-salt'), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(code('short-salted'), ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.is(results.size, 13, 'one result per user');
  for (const r of results.values()) assert.ok(r.errorMessage, `a message for ${r.user}`);
  assert.is(image.lastOffset, before, 'nothing written');
  assert.equal(image.scramUserNames(), ['both', 'existing', 'twice-deleted']);
  const missingTwice = alter(image, [{ name: 'ghost', mechanism: 2 }], [upsertion('ghost')]);
  assert.is(missingTwice.get('ghost')!.errorCode, ErrorCode.RESOURCE_NOT_FOUND);
});

test('brook.max.scram.users bounds new users, not changes to existing ones', () => {
  const image = new MetadataImage();
  let results = alter(image, [], [upsertion('a'), upsertion('b'), upsertion('c')], 2);
  assert.is(results.get('a')!.errorCode, ErrorCode.NONE);
  assert.is(results.get('b')!.errorCode, ErrorCode.NONE);
  assert.is(results.get('c')!.errorCode, ErrorCode.POLICY_VIOLATION);
  results = alter(image, [], [upsertion('a', 'new', 1)], 2);
  assert.is(results.get('a')!.errorCode, ErrorCode.NONE, 'another mechanism of an existing user is not a new user');
  assert.equal(image.scramUserNames(), ['a', 'b']);
});

test('a snapshot keeps every credential, byte for byte', () => {
  const image = new MetadataImage();
  alter(image, [], [upsertion('alice', 'pw', 2), upsertion('bob', 'pw2', 1, 8192)]);
  alter(image, [], [upsertion('alice', 'pw3', 1)]);
  const restored = MetadataImage.fromSnapshot(image.toSnapshot(), image.lastOffset);
  assert.is(restored.digest(), image.digest());
  for (const [user, mechanism] of [
    ['alice', 'SCRAM-SHA-512'],
    ['alice', 'SCRAM-SHA-256'],
    ['bob', 'SCRAM-SHA-256'],
  ] as const)
    assert.equal(restored.scramCredential(user, mechanism), image.scramCredential(user, mechanism));
  assert.is(restored.scramCredential('bob', 'SCRAM-SHA-256')!.iterations, 8192);
  // Loading a snapshot replaces users the image had.
  const other = new MetadataImage();
  alter(other, [], [upsertion('stale')]);
  other.loadSnapshot(image.toSnapshot(), image.lastOffset);
  assert.equal(other.scramUserNames(), ['alice', 'bob']);
});

test('bootstrap users are written only where the user has no credential for the mechanism', () => {
  const image = new MetadataImage();
  alter(image, [], [upsertion('admin', 'changed-later', 2)]);
  const changed = image.scramCredential('admin', 'SCRAM-SHA-512')!;
  const users = parseBootstrapScramUsers(
    'SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=admin,password=admin-secret];SCRAM-SHA-512=[name=alice,password=a]',
  );
  const records = bootstrapScramRecords(image, users);
  assert.equal(
    records.map((r) => [r.type, (r.data as { name: string }).name]),
    [
      ['UserScramCredential', 'admin'],
      ['UserScramCredential', 'alice'],
    ],
  );
  commit(image, records);
  assert.equal(image.scramCredential('admin', 'SCRAM-SHA-512'), changed, 'the changed password stays');
  assert.ok(verifyScramPassword(image.scramCredential('admin', 'SCRAM-SHA-256')!, 'admin-secret'));
  assert.equal(bootstrapScramRecords(image, users), [], 'a second activation writes nothing');
});

test("the bootstrap key takes Kafka's --add-scram forms, hashed or not", () => {
  const salted = saltedPassword('SCRAM-SHA-256', 'alice-secret', SALT, 8192);
  const [plain, hashed] = parseBootstrapScramUsers(
    `SCRAM-SHA-512=[name=admin,password="admin-secret"]; SCRAM-SHA-256=[name=alice,iterations=8192,salt=${SALT.toString('base64')},saltedpassword=${salted.toString('base64')}];`,
  );
  assert.is(plain.name, 'admin');
  assert.is(plain.credential.mechanism, 'SCRAM-SHA-512');
  assert.is(plain.credential.iterations, 4096);
  assert.ok(verifyScramPassword(plain.credential, 'admin-secret'), 'quotes around a value are dropped');
  assert.is(hashed.name, 'alice');
  assert.is(hashed.credential.iterations, 8192);
  assert.ok(verifyScramPassword(hashed.credential, 'alice-secret'));
  assert.equal(parseBootstrapScramUsers(''), []);
  assert.equal(parseBootstrapScramUsers(undefined), []);
});

test('a bad bootstrap entry is a ConfigError that never shows a password', () => {
  const bad = [
    'SCRAM-SHA-1=[name=a,password=hunter2]',
    'SCRAM-SHA-256',
    'SCRAM-SHA-256=name=a,password=hunter2',
    'SCRAM-SHA-256=[password=hunter2]',
    'SCRAM-SHA-256=[name=a]',
    'SCRAM-SHA-256=[name=a,password=hunter2,iterations=100]',
    'SCRAM-SHA-256=[name=a,password=hunter2,iterations=99999]',
    'SCRAM-SHA-256=[name=a,password=hunter2,iterations=lots]',
    'SCRAM-SHA-256=[name=a,password=hunter2,colour=blue]',
    'SCRAM-SHA-256=[name=a,saltedpassword=aHVudGVyMg==]',
    'SCRAM-SHA-256=[name=a,salt=AAAA,saltedpassword=aHVudGVyMg==]',
    'SCRAM-SHA-256=[name=a,salt=!!hunter2!!,saltedpassword=aHVudGVyMg==]',
    'SCRAM-SHA-256=[name=a,password=hunter2,saltedpassword=aHVudGVyMg==]',
    'SCRAM-SHA-256=[name=,password=hunter2]',
    'SCRAM-SHA-256=[name=a,password=hunter2];SCRAM-SHA-256=[name=a,password=hunter2]',
    'SCRAM-SHA-256=[name=a,passwordhunter2]',
  ];
  for (const value of bad) {
    try {
      parseBootstrapScramUsers(value);
      assert.unreachable(`refused: ${value}`);
    } catch (error) {
      assert.instance(error, ConfigError, value);
      const message = (error as Error).message;
      assert.not.ok(message.includes('hunter2'), `no password in: ${message}`);
      assert.not.ok(message.includes('aHVudGVyMg'), `no salted password in: ${message}`);
    }
  }
});

test.run();
