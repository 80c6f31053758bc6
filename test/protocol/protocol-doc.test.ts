// Keeps protocol/PROTOCOL.md honest: the printf request, the xxd dump of the broker's
// answer and the byte-by-byte table are checked against a real broker process, and the
// table of served APIs against the handler table.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { handlers } from '../../src/broker/apis';
import { apiByKey } from '../../protocol/apis';
import { parseVersionRange } from '../../protocol/schema';
import { BrokerProcess, startBroker } from '../helpers/broker-process';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'protocol', 'PROTOCOL.md'), 'utf8');

function blockAfter(marker: string): string {
  const at = doc.indexOf(`<!-- check:${marker} -->`);
  assert.ok(at >= 0, `marker ${marker} present`);
  const rest = doc.slice(at);
  const fence = /```[a-z]*\n([\s\S]*?)```/.exec(rest);
  if (marker === 'table') return rest.split('\n\n')[0];
  return fence![1];
}

function printfBytes(command: string): Buffer {
  const literal = /printf '([^']*)'/.exec(command)![1];
  const out: number[] = [];
  for (let i = 0; i < literal.length; i++) {
    if (literal[i] === '\\' && literal[i + 1] === 'x') {
      out.push(parseInt(literal.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(literal.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** Formats bytes the way `xxd` does by default. */
function xxd(bytes: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const groups: string[] = [];
    for (let i = 0; i < row.length; i += 2) groups.push(row.subarray(i, i + 2).toString('hex'));
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}: ${groups.join(' ').padEnd(39, ' ')}  ${ascii}`);
  }
  return lines.join('\n');
}

function exchange(port: number, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no answer')), 5000);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 4 && data.length >= 4 + data.readInt32BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.subarray(0, 4 + data.readInt32BE(0)));
      }
    });
    socket.on('error', reject);
  });
}

let broker: BrokerProcess;

test.before(async () => {
  broker = await startBroker();
});

test.after(async () => {
  await broker.stop();
});

test('the printf request is a well-formed ApiVersions v0 frame', () => {
  const bytes = printfBytes(blockAfter('request'));
  assert.is(bytes.readInt32BE(0), bytes.length - 4);
  assert.equal([bytes.readInt16BE(4), bytes.readInt16BE(6), bytes.readInt32BE(8)], [18, 0, 1]);
});

test('the xxd dump is what the broker answers', async () => {
  const answer = await exchange(broker.port, printfBytes(blockAfter('request')));
  const documented = blockAfter('response')
    .trimEnd()
    .split('\n')
    .map((l) => l.trimEnd());
  assert.equal(
    xxd(answer)
      .split('\n')
      .map((l) => l.trimEnd()),
    documented,
  );
});

test('the byte-by-byte table adds up to the same answer', async () => {
  const answer = await exchange(broker.port, printfBytes(blockAfter('request')));
  const rows = blockAfter('table')
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  const bytes = rows.map((row) => /\| `([0-9a-f ]+)`/.exec(row)![1].replace(/ /g, '')).join('');
  assert.is(bytes, answer.toString('hex'));
});

test('the served-API table matches the handlers', () => {
  const section = doc.slice(doc.indexOf('### APIs served'), doc.indexOf('The schemas, with every field'));
  const rows = section.split('\n').filter((line) => /^\| \d+ \|/.test(line));
  const documented = rows.map((row) =>
    row
      .split('|')
      .map((cell) => cell.trim())
      .filter(Boolean),
  );
  const actual = [...handlers]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((h) => [
      String(h.apiKey),
      h.name,
      `${h.minVersion}-${h.maxVersion}`,
      apiByKey(h.apiKey)!.flexibleVersions === 'none'
        ? 'never'
        : String(parseVersionRange(apiByKey(h.apiKey)!.flexibleVersions)[0]),
    ]);
  assert.equal(documented, actual);
});

test.run();
