// Shared by the chat page's browser tests (web-*.test.ts): Debian's Chromium driven by playwright-core.
// Never downloads a browser; CI installs the `chromium` package (.ci/run).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(import.meta.dirname, '..', 'artifacts');

export type Browser = { context: BrowserContext; page: Page; errors: string[]; close: () => Promise<void> };

export async function openBrowser({ viewport = { width: 1280, height: 800 } }: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
  return {
    context, page, errors,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Forgets whoever was signed in and opens the page at its sign-in form. Storage is cleared from
// /healthz (same origin, no page script), so a session the chat page is still restoring cannot
// write its token back after the clear.
export async function openSignedOut(page: Page, url: string) {
  await page.goto(new URL('/healthz', url).href);
  await page.evaluate(() => localStorage.clear());
  await page.goto(url);
}

// Signs out whoever was signed in, then signs in through the dev sign-in form.
export async function devSignIn(page: Page, url: string, name: string) {
  await openSignedOut(page, url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForFunction((n) => document.querySelector('#whoami')?.textContent === `Signed in as ${n}`, name);
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// Polls until `check` stops throwing (for assertions on state the page reaches asynchronously).
export async function eventually<T>(check: () => Promise<T> | T, { timeout = 20_000, interval = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

// Focus moves after the page's own async work (a list load, a re-render): wait for it, briefly.
export async function expectFocus(page: Page, attribute: 'id' | 'aria-label' | 'name' | 'data-action', expected: string, message: string) {
  await eventually(async () => {
    const actual = await page.evaluate((a) => (a === 'id' ? document.activeElement?.id : document.activeElement?.getAttribute(a)), attribute);
    assert.equal(actual, expected, message);
  }, { timeout: 5000 });
}
