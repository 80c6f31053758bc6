// The web console in a real browser (Debian's Chromium, headless, via playwright-core) for a
// user whom ACLs allow only part of the cluster: a broker in this process with the
// StandardAuthorizer on and HTTP authentication; alice logs in on the login page and sees
// the overview without the cluster tables, only her topics, no create form, Delete only
// where she may delete, no partition or config changes, and the produce page; no request
// of the pages she is shown is refused. Screenshots go to test-artifacts/.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Locator, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/config';
import { HttpServer } from '../../src/http/http-server';
import { readiness } from '../../src/http/readiness';
import { silentLogger } from '../../src/logger';
import { CredentialStore, deriveScramCredential, ScramCredential, ScramMechanism } from '../../src/security/scram';
import { RunningBroker, startBroker } from '../../src/server/broker-server';
import { BrowserSession, chromiumAvailable, CHROMIUM_PATH, openBrowser } from '../helpers/browser';
import { AclOperation as Op, allow, PatternType, ResourceType, TestAcls } from '../helpers/http-acls';
import { freePort } from '../helpers/ports';
import { until } from '../helpers/wait';
import { request } from './http-client';

const WAIT_MS = 15_000;

const available = chromiumAvailable();
if (!available) console.log(`skipped: no Chromium at ${CHROMIUM_PATH} (set BROOK_CHROMIUM)`);

class MemoryCredentials implements CredentialStore {
  private readonly users = new Map<string, ScramCredential>();
  set(user: string, password: string): void {
    this.users.set(user, deriveScramCredential('SCRAM-SHA-256', password));
  }
  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return mechanism === 'SCRAM-SHA-256' ? this.users.get(user) : undefined;
  }
}

let running: RunningBroker;
let acls: TestAcls;
let dataDir: string;
let server: HttpServer;
let browser: BrowserSession;
let page: Page;
const credentials = new MemoryCredentials();

async function waitForText(locator: Locator, pattern: RegExp): Promise<string> {
  return until(
    async () => {
      const text = (await locator.textContent().catch(() => null)) ?? '';
      return pattern.test(text) ? text : null;
    },
    { what: `text matching ${pattern}`, timeoutMs: WAIT_MS },
  );
}

test.before(async () => {
  if (!available) return;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'brook-console-authz-'));
  const configFile = path.join(dataDir, 'server.properties');
  fs.writeFileSync(
    configFile,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\nsuper.users=User:admin;User:ANONYMOUS\n',
  );
  const config = loadConfig({
    listen: '127.0.0.1:0',
    'controller-listen': `127.0.0.1:${await freePort()}`,
    http: 'off',
    'data-dir': path.join(dataDir, 'data'),
    'log-level': 'error',
    config: configFile,
  });
  running = await startBroker(config, silentLogger);
  await until(() => readiness(running.broker, true).ready, { what: 'the broker to be ready', timeoutMs: 30_000 });
  acls = await TestAcls.connect(`127.0.0.1:${running.kafkaPort}`, running.broker);
  credentials.set('alice', 'alice-pw');
  credentials.set('admin', 'admin-pw');
  server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    broker: running.broker,
    kafkaBootstrap: () => `127.0.0.1:${running.kafkaPort}`,
    connections: () => 0,
    kafkaListening: () => true,
    logger: silentLogger,
    securityKeys: { 'brook.http.auth.enable': 'true', 'brook.http.auth.failure.delay.ms': '20' },
    credentials,
  });
  const port = await server.listen();
  const admin = { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` };
  for (const name of ['alice-a', 'alice-b', 'other']) {
    const created = await request(port, 'POST', '/api/v1/topics', { headers: admin, body: { name, partitions: 1 } });
    assert.is(created.status, 201, created.text);
  }
  await acls.add([
    allow('User:alice', Op.READ, ResourceType.TOPIC, 'alice-', { patternType: PatternType.PREFIXED }),
    allow('User:alice', Op.WRITE, ResourceType.TOPIC, 'alice-', { patternType: PatternType.PREFIXED }),
    allow('User:alice', Op.DELETE, ResourceType.TOPIC, 'alice-a'),
  ]);
  browser = await openBrowser(`http://127.0.0.1:${port}`);
  page = browser.page;
  page.setDefaultTimeout(WAIT_MS);
  await page.goto('/');
  await page.waitForURL(/\/console\/login\.html$/);
  await page.fill('#login-username', 'alice');
  await page.fill('#login-password', 'alice-pw');
  await page.click('#login-form button[type=submit]');
  await page.waitForURL(/\/$/);
  await waitForText(page.locator('#user-name'), /^alice$/);
  // The visit before the login was answered 401 (that sent the browser to the login page).
  browser.problems.length = 0;
});

test.after(async () => {
  acls?.close();
  await browser?.close();
  await server?.close();
  await running?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('overview: no cluster tables without DESCRIBE on the cluster', async () => {
  if (!available) return;
  await page.goto('/#/overview');
  await waitForText(page.locator('#brokers'), /not authorized to DESCRIBE the cluster/);
  await waitForText(page.locator('#quorum'), /not authorized to DESCRIBE the cluster/);
  await browser.screenshot('console-authz-overview');
});

test('topics: only alice-*, no create form, Delete only where she may delete', async () => {
  if (!available) return;
  await page.goto('/#/topics');
  await waitForText(page.locator('#topic-list'), /alice-b/);
  const names = await page.locator('#topic-list a.topic-link').allTextContents();
  assert.equal(names, ['alice-a', 'alice-b']);
  assert.is(await page.locator('#create-topic').count(), 0, 'no create form');
  const rows = page.locator('#topic-list tbody tr');
  assert.is(await rows.nth(0).locator('button', { hasText: 'Delete' }).count(), 1, 'alice-a: Delete');
  assert.is(await rows.nth(1).locator('button', { hasText: 'Delete' }).count(), 0, 'alice-b: none');
  await browser.screenshot('console-authz-topics');
});

test('a topic: no partition or config changes, configs not shown, Delete where allowed', async () => {
  if (!available) return;
  await page.goto('/#/topics/alice-b');
  await waitForText(page.locator('#configs'), /not authorized to see the configs/);
  assert.is(await page.locator('#delete-topic').count(), 0);
  assert.is(await page.locator('button', { hasText: 'Add partitions' }).count(), 0);
  assert.is(await page.locator('.page-actions a', { hasText: 'Produce' }).count(), 1);
  assert.is(await page.locator('.page-actions a', { hasText: 'Browse messages' }).count(), 1);
  await page.goto('/#/topics/alice-a');
  await page.locator('#delete-topic').waitFor();
  await page.goto('/#/produce');
  await page.locator('#produce-form').waitFor();
  assert.equal(browser.problems, [], 'no page errors and no refused requests');
});

test.run();
