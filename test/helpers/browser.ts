// Drives Debian's Chromium headless through playwright-core for the console's browser test:
// one browser per test file, pages that record console errors and failed requests, and
// screenshots saved under test-artifacts/ (gitignored) for a person to look at.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.BROOK_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.join(__dirname, '..', '..', '..', 'test-artifacts');
/** Launching is slow on a busy machine, but bounded. */
const LAUNCH_TIMEOUT_MS = 30_000;

export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** Errors the page logged or threw, and requests that failed, in order. */
  problems: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM_PATH);
}

export async function openBrowser(baseUrl: string): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Without the background-networking flags Chromium keeps trying to reach Google's hosts,
    // which a machine without outside network refuses many times over.
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    timeout: LAUNCH_TIMEOUT_MS,
  });
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A WebSocket or fetch cut by navigation or the end of the test is not a page problem.
    if (!/ERR_ABORTED/.test(request.failure()?.errorText ?? ''))
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
  });
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return {
    browser,
    page,
    problems,
    async screenshot(name: string) {
      const file = path.join(ARTIFACTS_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await browser.close();
    },
  };
}
