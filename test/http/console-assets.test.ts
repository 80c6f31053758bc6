// Serving the console's static files (src/http/console-assets.ts) from an in-process HTTP
// server: the page at / and /console/, content types, ETag revalidation with 304, HEAD,
// wrong methods, missing files, and every path that would leave the console folder.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConsoleAssets, defaultConsoleRoot } from '../../src/http/console-assets';

let server: http.Server;
let port: number;

/** Sends a raw request line so paths reach the server exactly as written (no normalising). */
function rawGet(
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${target}`));
    }, 5000);
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => {
      clearTimeout(timer);
      const [head, ...rest] = data.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const parsed: http.IncomingHttpHeaders = {};
      for (const line of lines.slice(1)) {
        const at = line.indexOf(':');
        parsed[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(lines[0].split(' ')[1]), headers: parsed, body: rest.join('\r\n\r\n') });
    });
    const extra = Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.write(`${method} ${target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n${extra}\r\n`);
  });
}

test.before(async () => {
  const assets = new ConsoleAssets();
  server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (assets.handles(pathname)) return assets.serve(req, res, pathname);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

test.after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the root of the package holds the console folder', () => {
  const root = defaultConsoleRoot();
  assert.ok(fs.existsSync(path.join(root, 'index.html')), root);
  assert.ok(root.endsWith(path.join('src', 'http', 'console')), root);
});

test('/ and /console/ serve the page; scripts, styles and images have their content types', async () => {
  for (const target of ['/', '/console', '/console/']) {
    const page = await rawGet(target);
    assert.is(page.status, 200, target);
    assert.is(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.body, /<title>Brook console<\/title>/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  }
  const script = await rawGet('/console/app.js');
  assert.is(script.status, 200);
  assert.is(script.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.is(script.headers['x-content-type-options'], 'nosniff');
  assert.is(Number(script.headers['content-length']), fs.statSync(path.join(defaultConsoleRoot(), 'app.js')).size);
  assert.is((await rawGet('/console/pages/overview.js')).status, 200);
  assert.is((await rawGet('/console/style.css')).headers['content-type'], 'text/css; charset=utf-8');
  assert.is((await rawGet('/console/favicon.svg')).headers['content-type'], 'image/svg+xml');
});

test('a matching If-None-Match gets 304 with no body; HEAD gets the headers only', async () => {
  const first = await rawGet('/console/style.css');
  const etag = String(first.headers.etag);
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
  assert.is(first.headers['cache-control'], 'no-cache');
  const again = await rawGet('/console/style.css', { 'if-none-match': etag });
  assert.is(again.status, 304);
  assert.is(again.body, '');
  assert.is((await rawGet('/console/style.css', { 'if-none-match': '"other"' })).status, 200);
  const head = await rawGet('/console/style.css', {}, 'HEAD');
  assert.is(head.status, 200);
  assert.is(head.body, '');
  assert.is(head.headers.etag, etag);
});

test('other methods get 405 with Allow; missing files and unknown types get 404', async () => {
  const post = await rawGet('/console/app.js', { 'content-length': '0' }, 'POST');
  assert.is(post.status, 405);
  assert.is(post.headers.allow, 'GET, HEAD');
  assert.is(JSON.parse(post.body).error.code, 'method-not-allowed');
  const missing = await rawGet('/console/nothing.js');
  assert.is(missing.status, 404);
  assert.match(JSON.parse(missing.body).error.message, /nothing\.js/);
  assert.is((await rawGet('/console/pages')).status, 404);
});

test('paths that would leave the console folder are refused', async () => {
  const attempts = [
    '/console/../../../package.json',
    '/console/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/console/..%2f..%2f..%2fpackage.json',
    '/console/pages/../../live.ts',
    '/console/%2Fetc%2Fpasswd',
    '/console/..\\..\\live.ts',
    '/console/app.js%00.html',
    '/console/.hidden',
    '/console//etc/passwd',
    '/console/%E0%A4%A',
  ];
  for (const target of attempts) {
    const answer = await rawGet(target);
    assert.is(answer.status, 400, `${target} -> ${answer.status}`);
    assert.not.match(answer.body, /"name": "brook"/);
    assert.ok(JSON.parse(answer.body).error.message.length > 0);
  }
});

test.run();
