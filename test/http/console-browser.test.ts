// The web console in a real browser (Debian's Chromium, headless, via playwright-core)
// against a real broker process with its HTTP listener on: the overview with brokers, quorum,
// log directories and a live chart that updates from the WebSocket; creating a topic from the page (with its
// confirmation), a refused duplicate shown in words; producing one message from the form
// and a CSV upload; reading them back; the live tail; a group's lag (committed with kafkajs
// behind the end) and an offset reset; a many-partition topic in the virtual list; with
// authentication on, the login page (a refused password, then the console with the session
// cookie and the live feed) and logging out. Screenshots of each page go to test-artifacts/.

import * as http from 'node:http';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kafka, logLevel } from 'kafkajs';
import type { Locator, Page } from 'playwright-core';
import { BrokerProcess, startBroker } from '../helpers/broker-process';
import { ARTIFACTS_DIR, BrowserSession, chromiumAvailable, CHROMIUM_PATH, openBrowser } from '../helpers/browser';
import { until } from '../helpers/wait';

/** Every wait on the page is bounded by this. */
const WAIT_MS = 15_000;
/** A node's first readiness (registered, caught up) on a machine busy with other test files. */
const READY_MS = 60_000;

let broker: BrokerProcess;
let browser: BrowserSession;
let page: Page;
let kafka: Kafka;
let baseUrl: string;

function getJson(url: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    request.on('error', reject);
    request.setTimeout(5000, () => request.destroy(new Error('timeout')));
  });
}

async function waitForText(locator: Locator, pattern: RegExp): Promise<string> {
  let last = '';
  await until(
    async () => {
      last =
        (await locator
          .first()
          .textContent({ timeout: WAIT_MS })
          .catch(() => '')) ?? '';
      return pattern.test(last);
    },
    { what: () => `text ${pattern}; last: ${JSON.stringify(last.slice(0, 300))}`, timeoutMs: WAIT_MS },
  );
  return last;
}

async function confirm(): Promise<void> {
  await page.locator('#confirm-dialog[open] #confirm-accept').click({ timeout: WAIT_MS });
}

test.before(async () => {
  if (!chromiumAvailable())
    throw new Error(`the browser test needs Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  broker = await startBroker({ http: true, config: { 'num.partitions': '1' } });
  baseUrl = `http://127.0.0.1:${broker.httpPort}`;
  await until(async () => (await getJson(`${baseUrl}/ready`).catch(() => ({ status: 0 }))).status === 200, {
    what: () => `the node to be ready:\n${broker.logs()}`,
    timeoutMs: READY_MS,
  });
  kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    clientId: 'console-test',
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
  browser = await openBrowser(baseUrl);
  page = browser.page;
  page.setDefaultTimeout(WAIT_MS);
});

test.after(async () => {
  await browser?.close();
  await broker?.stop();
});

test('overview: brokers, quorum, totals, and a live chart fed by the WebSocket', async () => {
  await page.goto('/');
  await waitForText(page.locator('#brokers table'), /127\.0\.0\.1:\d+.*active/);
  await waitForText(page.locator('#quorum'), /Leader\s*node \d+/);
  await waitForText(page.locator('#log-dirs table'), /logs.*free of/);
  await waitForText(page.locator('#live-status'), /^live$/);
  const canvas = page.locator('#chart-records');
  const updates = async () => Number((await canvas.getAttribute('data-updates')) ?? '0');
  const before = await updates();
  // The node pushes stats every second; two more pushes must redraw the chart twice.
  await page.waitForFunction(
    (count) =>
      Number((globalThis as any).document.querySelector('#chart-records')?.getAttribute('data-updates') ?? 0) >=
      count + 2,
    before,
    { timeout: WAIT_MS },
  );
  assert.ok((await updates()) >= before + 2);
  await browser.screenshot('console-overview');
});

test('topics: create one from the page after confirming; a duplicate is refused in words', async () => {
  await page.goto('/#/topics');
  await page.fill('#create-name', 'console-orders');
  await page.fill('#create-partitions', '1');
  await page.fill('#create-configs', 'retention.ms=86400000');
  await page.click('#create-topic button[type=submit]');
  await waitForText(page.locator('#confirm-message'), /Create "console-orders" with 1 partition/);
  await confirm();
  await waitForText(page.locator('#create-topic .status'), /Created "console-orders"/);
  await waitForText(page.locator('#topic-list'), /console-orders/);

  await page.fill('#create-name', 'console-orders');
  await page.click('#create-topic button[type=submit]');
  await confirm();
  const refused = await waitForText(page.locator('#create-topic .status.fail'), /\S/);
  assert.match(refused, /already exists/i);
  await browser.screenshot('console-topics');

  await page.click('a.topic-link:has-text("console-orders")');
  await waitForText(page.locator('#partitions .vtable'), /Partition.*Leader/);
  await waitForText(page.locator('#configs'), /retention\.ms\s*86400000/);
  // Altering a config: edit in place, confirm, and the page shows the new value.
  // The row whose name is exactly retention.ms (delete.retention.ms and others contain it).
  await page
    .locator('#configs tr')
    .filter({ has: page.locator('td:first-child', { hasText: /^retention\.ms$/ }) })
    .locator('button:has-text("Edit")')
    .click();
  await page.fill('#configs input[aria-label="Value of retention.ms"]', '172800000');
  await page.locator('#configs button:has-text("Save")').click();
  await waitForText(page.locator('#confirm-message'), /Set retention\.ms to "172800000"/);
  await confirm();
  await waitForText(page.locator('#configs'), /retention\.ms\s*172800000\s*DYNAMIC_TOPIC_CONFIG/);
  await browser.screenshot('console-topic');
});

test('produce: one message from the form and a CSV file with a key column', async () => {
  await page.goto('/#/produce?topic=console-orders');
  await page.fill('#produce-key', 'order-1');
  await page.selectOption('#produce-value-type', 'json');
  await page.fill('#produce-value', '{"item":"tea","quantity":2}');
  await page.fill('#produce-headers', 'source=console-test');
  await page.click('#produce-send');
  await waitForText(page.locator('#produce-form .status'), /Written to partition 0 at offset 0/);

  const csv = 'id,item,price\n7,"coffee, dark",3.5\n8,"say ""hi""",1\n9,bread,2\n';
  await page.setInputFiles('#upload-file', { name: 'orders.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await waitForText(page.locator('#upload-preview'), /3 rows, columns id, item, price/);
  await page.selectOption('#upload-key-column', 'id');
  await page.click('#upload-send');
  await waitForText(page.locator('#upload-form .status'), /Wrote 3 records to "console-orders"/);
  await waitForText(page.locator('#upload-summary'), /0\s*3\s*1–3/);
  await browser.screenshot('console-produce');
});

test('messages: the partition read back with keys, pretty JSON and headers; the live tail', async () => {
  await page.goto('/#/messages?topic=console-orders&partition=0');
  await waitForText(page.locator('#browse-form .status'), /Showing 4 records of partition 0/);
  const rows = page.locator('#message-rows tr.record');
  assert.is(await rows.count(), 4);
  const first = await rows.nth(0).textContent();
  assert.match(first!, /order-1/);
  assert.match(first!, /"item": "tea"/);
  assert.ok(await page.locator('#browse-form').isVisible());
  assert.not.ok(
    await page.locator('#messages-offset').isVisible(),
    'the offset field shows only when starting from an offset',
  );
  assert.match(first!, /source\s*console-test/);
  assert.match((await rows.nth(2).textContent())!, /8[\s\S]*"item": "say \\"hi\\""/);

  await page.click('#tail-toggle');
  await waitForText(page.locator('#tail-status'), /following console-orders/);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'console-orders',
    messages: [{ key: 'live-key', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }],
  });
  await producer.disconnect();
  const tailed = await waitForText(page.locator('#tail-rows'), /live-key/);
  assert.match(tailed, /hex\s*deadbeef/);
  await browser.screenshot('console-messages');
  await page.click('#tail-toggle');

  // From a time: an hour ago (in the browser's time zone) is before every record.
  await page.selectOption('#messages-from', 'timestamp');
  await page.locator('#messages-time').evaluate((input: any) => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    input.value = `${hourAgo.getFullYear()}-${pad(hourAgo.getMonth() + 1)}-${pad(hourAgo.getDate())}T${pad(hourAgo.getHours())}:${pad(hourAgo.getMinutes())}:${pad(hourAgo.getSeconds())}`;
  });
  await page.click('#browse-button');
  await waitForText(page.locator('#browse-form .status'), /Showing 5 records of partition 0/);
  assert.match((await rows.nth(4).textContent())!, /live-key/);
});

test('groups: lag from offsets committed behind the end, and a reset to the earliest', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({
    groupId: 'console-group',
    topic: 'console-orders',
    partitions: [{ partition: 0, offset: '2' }],
  });
  await admin.disconnect();
  await page.goto('/#/groups');
  await waitForText(page.locator('#group-list'), /console-group\s*Empty.*3$/);
  await browser.screenshot('console-groups');
  await page.click('a.group-link:has-text("console-group")');
  await waitForText(page.locator('#group-offsets'), /console-orders\s*0\s*2\s*5\s*3/);
  assert.is(await page.locator('#group-total-lag').textContent(), '3');
  await page.selectOption('#reset-to', 'earliest');
  await page.click('#reset-form button[type=submit]');
  await waitForText(page.locator('#confirm-message'), /console-group.*earliest/);
  await confirm();
  await waitForText(page.locator('#group-total-lag'), /^5$/);
  await waitForText(
    page.locator('#reset-form .status.ok'),
    /Reset 1 partition of "console-orders" to the earliest offset/,
  );
  await browser.screenshot('console-group');
});

test('a topic with hundreds of partitions is listed through the virtual list', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'console-wide', numPartitions: 300, replicationFactor: 1 }] });
  await admin.disconnect();
  await page.goto('/#/topics/console-wide');
  await waitForText(page.locator('#topic-summary'), /Partitions\s*300/);
  const built = await page.locator('#partitions .vspacer .vrow').count();
  assert.ok(built > 0 && built < 60, `${built} rows built`);
  await page.locator('#partitions .vviewport').evaluate((element) => {
    element.scrollTop = element.scrollHeight;
  });
  await waitForText(page.locator('#partitions .vspacer'), /299/);
  await browser.screenshot('console-topic-wide');
  // Deleting from the page, after confirming, leaves the topics list without it.
  await page.click('#delete-topic');
  await confirm();
  await page.waitForURL(/#\/topics$/);
  await waitForText(page.locator('#topic-list'), /console-orders/);
  assert.not.match((await page.locator('#topic-list').textContent())!, /console-wide/);

  // After the traffic above, the overview's charts have something to draw.
  await page.goto('/#/overview');
  await page.waitForFunction(
    () => Number((globalThis as any).document.querySelector('#chart-records')?.getAttribute('data-updates') ?? 0) >= 3,
    undefined,
    { timeout: WAIT_MS },
  );
  await waitForText(page.locator('#live-summary'), /1 broker \(0 fenced\), controller node 1/);
  await browser.screenshot('console-overview-later');
  assert.equal(
    browser.problems.filter((p) => !/Failed to load resource: the server responded with a status of 409/.test(p)),
    [],
  );
});

test('login: the console sends a visitor to the login page; a session opens it; logout closes it', async () => {
  // A second node that asks for authentication, with one user from its bootstrap settings.
  const secured = await startBroker({
    http: true,
    config: {
      'brook.http.auth.enable': 'true',
      'brook.http.auth.failure.delay.ms': '50',
      'brook.security.bootstrap.scram.users': 'SCRAM-SHA-512=[name=operator,password=operator-password]',
    },
  });
  const context = await browser.browser.newContext({ baseURL: `http://127.0.0.1:${secured.httpPort}` });
  try {
    const readyUrl = `http://127.0.0.1:${secured.httpPort}/ready`;
    await until(async () => (await getJson(readyUrl).catch(() => ({ status: 0 }))).status === 200, {
      what: () => `the secured node to be ready:\n${secured.logs()}`,
      timeoutMs: READY_MS,
    });
    const login = await context.newPage();
    login.setDefaultTimeout(WAIT_MS);
    const problems: string[] = [];
    login.on('pageerror', (error) => problems.push(error.message));
    await login.goto('/');
    await login.waitForURL(/\/console\/login\.html$/);
    await login.fill('#login-username', 'operator');
    await login.fill('#login-password', 'not-the-password');
    await login.click('#login-form button[type=submit]');
    await login.waitForURL(/login\.html\?failed=credentials$/);
    await waitForText(login.locator('#login-status'), /Wrong user name or password/);
    await login.screenshot({ path: path.join(ARTIFACTS_DIR, 'console-login-failed.png'), fullPage: true });

    await login.fill('#login-username', 'operator');
    await login.fill('#login-password', 'operator-password');
    await login.click('#login-form button[type=submit]');
    await login.waitForURL(/\/$/);
    await waitForText(login.locator('#user-name'), /^operator$/);
    await waitForText(login.locator('#brokers table'), /127\.0\.0\.1:\d+.*active/);
    await waitForText(login.locator('#live-status'), /^live$/);
    const cookie = (await context.cookies()).find((c) => c.name === 'brook_session');
    assert.ok(cookie, 'the session cookie is set');
    assert.is(cookie!.httpOnly, true);
    assert.is(cookie!.sameSite, 'Strict');
    assert.is(cookie!.path, '/');
    assert.is(await login.evaluate(() => (globalThis as any).document.cookie), '', 'scripts cannot read it');

    await login.click('#logout');
    await login.waitForURL(/\/console\/login\.html$/);
    assert.is(
      (await context.cookies()).find((c) => c.name === 'brook_session'),
      undefined,
      'the cookie is gone',
    );
    await login.goto('/');
    await login.waitForURL(/\/console\/login\.html$/);
    assert.equal(problems, []);
  } finally {
    await context.close();
    await secured.stop();
  }
});

test.run();
