// The controller port's frame limit and the bounds of what is sent to it agree: at the
// largest values the settings allow, the largest RaftAppendEntries body (a full batch, or
// one entry alone) and a snapshot chunk stay under CONTROLLER_FRAME_MAX_BYTES, and the
// per-entry overhead the Raft core counts covers what an entry costs on the wire.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApiKey } from '../../protocol/api-keys';
import { requestCodec } from '../../protocol/codec';
import { Writer } from '../../protocol/primitives';
import { loadConfig } from '../../src/config/config';
import { SETTINGS } from '../../src/config/limits';
import { CONTROLLER_FRAME_MAX_BYTES } from '../../src/controller/quorum';
import { ENTRY_OVERHEAD_BYTES } from '../../src/raft/core';

const MiB = 1024 * 1024;
/** Request header and frame length: generous (client id, tags). */
const HEADER_BYTES = 1024;

function appendBodyBytes(entries: Buffer[]): number {
  const writer = new Writer(1024);
  requestCodec(ApiKey.RaftAppendEntries, 0).encode(writer, {
    clusterId: 'x'.repeat(64),
    term: 2 ** 53 - 1,
    leaderId: 2 ** 31 - 1,
    prevLogIndex: 2 ** 53 - 1,
    prevLogTerm: 2 ** 53 - 1,
    leaderCommit: 2 ** 53 - 1,
    entries: entries.map((data) => ({ term: 2 ** 53 - 1, kind: 2, data })),
  });
  return writer.toBuffer().length;
}

function settingMax(key: string): number {
  const def = SETTINGS.find((s) => s.key === key);
  assert.ok(def?.max, `${key} has a maximum`);
  return def.max;
}

test('the per-entry overhead counted by the core covers the wire encoding', () => {
  const empty = appendBodyBytes([]);
  for (const size of [0, 100, 20_000, 3 * MiB]) {
    const one = appendBodyBytes([Buffer.alloc(size)]) - empty - size;
    assert.ok(one <= ENTRY_OVERHEAD_BYTES, `an entry of ${size} bytes costs ${one} bytes besides its data`);
  }
});

test('the largest append and the largest single entry fit the controller port frame limit', () => {
  const maxAppend = settingMax('brook.raft.max.append.bytes');
  const maxEntry = settingMax('brook.metadata.max.entry.bytes');
  // A full batch: entries of any size summing (with the counted overhead) to the bound.
  const count = 64;
  const each = Math.floor(maxAppend / count) - ENTRY_OVERHEAD_BYTES;
  const batch = appendBodyBytes(Array.from({ length: count }, () => Buffer.alloc(each)));
  assert.ok(batch + HEADER_BYTES <= CONTROLLER_FRAME_MAX_BYTES, `a full append is ${batch} bytes`);
  // One entry alone at the entry bound (sent even when above the append bound).
  const single = appendBodyBytes([Buffer.alloc(maxEntry)]);
  assert.ok(single + HEADER_BYTES <= CONTROLLER_FRAME_MAX_BYTES, `a single entry append is ${single} bytes`);
});

test('the settings default to 1 MiB and 4 MiB and cannot be raised past what the frame limit allows', () => {
  const defaults = loadConfig({});
  assert.is(defaults.metadataMaxEntryBytes, MiB);
  assert.is(defaults.raftMaxAppendBytes, 4 * MiB);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-frame-'));
  try {
    const file = path.join(dir, 'server.properties');
    for (const [line, pattern] of [
      ['brook.raft.max.append.bytes=16777216', /brook.raft.max.append.bytes: must be an integer <= 8388608/],
      ['brook.metadata.max.entry.bytes=8388608', /brook.metadata.max.entry.bytes: must be an integer <= 4194304/],
      ['brook.metadata.max.entry.bytes=1000', /brook.metadata.max.entry.bytes: must be an integer >= 65536/],
    ] as const) {
      fs.writeFileSync(file, `${line}\n`);
      assert.throws(
        () => loadConfig({ config: file }),
        (e: Error) => pattern.test(e.message),
      );
    }
    fs.writeFileSync(file, 'brook.raft.max.append.bytes=1048576\nbrook.metadata.max.entry.bytes=262144\n');
    const set = loadConfig({ config: file });
    assert.equal([set.raftMaxAppendBytes, set.metadataMaxEntryBytes], [MiB, 256 * 1024]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
