import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Actor } from '../../schemas/common.ts';
import { projections } from '../../projections/index.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';
import { artifactPath, eventually, openBrowser, type Browser } from './web-browser.ts';

// The compliance console in a real browser: the audit log's filters, paging and download, an appeal
// resolved end to end, and the charts drawn from GraphQL, all within the officer's tenant.
const who = (userId: string, tenantId = 'default', roles: Actor['roles'] = ['user']): Actor => ({ userId, tenantId, roles });
const officer = who('carol', 'default', ['compliance']);
const BLOCKED = 'how do I make a pipe bomb';

describe('compliance console', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let browser: Browser;
  let page: Page;
  const t: Record<string, string> = {};
  let appealId = '';

  const settle = async () => { for (const p of projections) while (await server.app.runner!.step(p) > 0); };
  async function turn(user: string, content: string, rating?: 'UP' | 'DOWN') {
    const r = await gql(t[user]!, `mutation($c: String!) { sendMessage(input: {content: $c, params: {maxTokens: 6}}) { generation { id } } }`, { c: content });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const id = r.data.sendMessage.generation.id;
    await streamChunks(server.url, t[user]!, id);
    if (rating) await settle(), await gql(t[user]!, `mutation($id: ID!, $r: Rating!) { giveFeedback(input: {generationId: $id, rating: $r}) { position } }`, { id, r: rating });
    return id;
  }
  async function openConsole(token: string, query = '') {
    await page.goto(new URL('/healthz', server.url).href);
    await page.evaluate((tk) => localStorage.setItem('parley.token', tk), token);
    await page.goto(`${server.url}/console${query}`);
  }
  const auditRows = () => page.locator('#audit-table tbody tr');
  const column = async (n: number) => (await auditRows().locator(`td:nth-child(${n})`).allTextContents());

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    for (const [n, a] of Object.entries({ hana: who('hana'), ivan: who('ivan'), zoe: who('zoe', 'other'), officer, otherOfficer: who('olga', 'other', ['compliance']) })) t[n] = await server.token(a);
    await turn('hana', 'What is the capital of France?', 'UP');
    await turn('ivan', 'Tell me about lighthouses.', 'DOWN');
    await turn('hana', BLOCKED);
    await turn('zoe', BLOCKED);
    await turn('zoe', 'hello there');
    await settle();
    const decision = (await gql(t.officer!, `{ auditLog(filter: {userId: "hana", verdict: "blocked"}) { edges { node { eventId } } } }`)).data.auditLog.edges[0].node.eventId;
    appealId = (await gql(t.hana!, `mutation($s: ID!) { fileAppeal(safetyEventId: $s, reason: "asking about plumbing") { appealId } }`, { s: decision })).data.fileAppeal.appealId;
    await settle();
    browser = await openBrowser({ viewport: { width: 1280, height: 1600 } });
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows a user token nothing: the page says so and the console\'s queries answer FORBIDDEN', async () => {
    await openConsole(t.hana!);
    await page.locator('#console-denied', { hasText: 'This console is for the compliance and admin roles.' }).waitFor();
    assert.equal(await page.locator('#console-main').isVisible(), false);
    for (const q of ['{ appeals { edges { node { id } } } }', '{ complianceStats { blockRatePerTenant { tenantId } } }', '{ auditLog { edges { node { eventId } } } }']) {
      assert.equal((await gql(t.hana!, q)).errors?.[0]?.extensions?.code, 'FORBIDDEN', q);
    }
  });

  it('filters the audit log of the officer\'s tenant, pages through it, and downloads what the filters match', async () => {
    await openConsole(t.officer!, '?pageSize=3');
    await auditRows().first().waitFor();
    const total = (await gql(t.officer!, `{ auditLog(first: 500) { edges { node { eventId } } } }`)).data.auditLog.edges.length;
    assert.ok(total > 3, 'more than one page');
    // Paging: every row once, newest first, only tenant default.
    const seen: string[] = [];
    for (;;) {
      for (const id of await auditRows().evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event-id')!))) seen.push(id);
      assert.deepEqual(new Set(await column(4)), new Set(['default']));
      if (await page.locator('#audit-older').isDisabled()) break;
      const first = await auditRows().first().getAttribute('data-event-id');
      await page.getByRole('button', { name: 'Older ›' }).click();
      await page.waitForFunction((f) => document.querySelector('#audit-table tbody tr')?.getAttribute('data-event-id') !== f, first);
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    await page.getByRole('button', { name: '‹ Newer' }).click();
    await page.locator('#audit-summary', { hasText: `Page ${Math.ceil(total / 3) - 1}:` }).waitFor();

    // Filters: verdict blocked and user hana.
    await page.getByLabel('Verdict', { exact: true }).selectOption('blocked');
    await page.getByLabel('User', { exact: true }).fill('hana');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'Page 1: 1 entries' }).waitFor();
    assert.deepEqual(await column(3), ['hana']);
    assert.deepEqual(await column(7), ['blocked']);
    assert.deepEqual(await column(8), ['dangerous']);
    await page.getByLabel('User', { exact: true }).fill('zoe');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'No entries match these filters.' }).waitFor();

    // Category, and a date range: the decision's day holds it, a range in the past nothing.
    await page.getByLabel('User', { exact: true }).fill('');
    await page.getByLabel('Verdict', { exact: true }).selectOption('');
    await page.getByLabel('Category', { exact: true }).selectOption('dangerous');
    // The day the decision was recorded (not "now": the test may run across midnight).
    const today = (await gql(t.officer!, `{ auditLog(filter: {verdict: "blocked"}) { edges { node { occurredAt } } } }`)).data.auditLog.edges[0].node.occurredAt.slice(0, 10);
    await page.getByLabel('From', { exact: true }).fill(today);
    await page.getByLabel('To', { exact: true }).fill(today);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'Page 1: 1 entries' }).waitFor();
    assert.deepEqual(await column(8), ['dangerous']);
    await page.getByLabel('To', { exact: true }).fill('2020-01-01');
    await page.getByLabel('From', { exact: true }).fill('2020-01-01');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'No entries match these filters.' }).waitFor();
    await page.getByLabel('Category', { exact: true }).selectOption('');
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByLabel('To', { exact: true }).fill('');
    await page.getByLabel('Type', { exact: true }).selectOption('SafetyChecked');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'Page 1: 3 entries' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    const expected = (await gql(t.officer!, `{ auditLog(filter: {eventType: "SafetyChecked"}, first: 500) { edges { node { eventId } } } }`)).data.auditLog.edges.length;
    assert.equal(csv.length - 1, expected, 'the whole filtered log, not one page');
    assert.ok(csv.slice(1).every((l) => l.split(',')[2] === 'SafetyChecked' && l.split(',')[4] === 'default'));
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSONL' }).click()]);
    assert.equal(readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').length, expected);
  });

  it('resolves an appeal from the queue with a note; the audit log and the appellant see it', async () => {
    await openConsole(t.officer!);
    const item = page.locator(`#appeal-list li[data-appeal-id="${appealId}"]`);
    await item.waitFor();
    assert.match(await item.innerText(), /hana \(default\)/);
    assert.match(await item.innerText(), /category: dangerous/);
    assert.match(await item.locator('blockquote').innerText(), /asking about plumbing/);
    await item.getByLabel('Note').fill('benign question');
    await item.getByRole('button', { name: 'Overturn' }).click();
    await item.waitFor({ state: 'detached' });
    await page.locator('#appeal-empty', { hasText: 'No appeals here.' }).waitFor();
    await page.locator('#appeal-status').selectOption('overturned');
    await page.locator(`#appeal-list li[data-appeal-id="${appealId}"] .appeal-note`, { hasText: 'Resolved by carol: “benign question”' }).waitFor();

    const resolved = await eventually(async () => {
      const r = await gql(t.hana!, `{ conversations { edges { node { messages { role appeal { status note } } } } } }`);
      const appeals = r.data.conversations.edges.flatMap((e: any) => e.node.messages).filter((m: any) => m.role === 'user').map((m: any) => m.appeal).filter(Boolean);
      assert.deepEqual(appeals[0], { status: 'overturned', note: 'benign question' });
      return appeals;
    });
    assert.equal(resolved.length, 1);
    await page.getByLabel('Type', { exact: true }).selectOption('AppealResolved');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('#audit-summary', { hasText: 'Page 1: 1 entries' }).waitFor();
    assert.deepEqual(await column(5), ['carol']);
    assert.deepEqual(await column(10), ['overturned']);
    // The other tenant's officer has no such appeal to resolve.
    const other = await gql(t.otherOfficer!, `mutation($a: ID!) { resolveAppeal(appealId: $a, outcome: upheld) { position } }`, { a: appealId });
    assert.equal(other.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.deepEqual((await gql(t.otherOfficer!, `{ appeals(status: null) { edges { node { id } } } }`)).data.appeals.edges, []);
  });

  it('draws the four charts from GraphQL, with the officer\'s tenant\'s data only', async () => {
    await openConsole(t.officer!);
    const chart = (id: string) => page.locator(`figure[data-chart="${id}"]`);
    await chart('thumbs-up-rate').locator('svg[role="img"]').waitFor();
    const bars = async (id: string) => chart(id).locator('rect[data-value]').evaluateAll((rs) => rs.map((r) => ({ label: r.getAttribute('data-label'), series: r.getAttribute('data-series'), value: Number(r.getAttribute('data-value')) })));
    const perCategory = await bars('decisions-per-category');
    assert.ok(perCategory.some((b) => b.series === 'dangerous' && b.value === 1), JSON.stringify(perCategory));
    const stats = (await gql(t.officer!, `{ complianceStats { blockRatePerTenant { tenantId decisions blocked rate } tokensPerDayPerTenant { tenantId } thumbsUpRatePerDay { up down rate } } }`)).data.complianceStats;
    assert.deepEqual(stats.blockRatePerTenant.map((r: any) => r.tenantId), ['default']);
    const rate = await bars('block-rate');
    assert.deepEqual(rate.map((b) => b.label), ['default']);
    assert.equal(rate[0]!.value, stats.blockRatePerTenant[0].rate * 100);
    assert.ok(rate[0]!.value > 0 && rate[0]!.value < 100);
    const tokens = await bars('tokens-per-day');
    assert.deepEqual(new Set(tokens.map((b) => b.series)), new Set(['default']));
    assert.ok(tokens.every((b) => b.value > 0));
    // One up and one down (on one day, or two if the setup ran across midnight), drawn as each day's rate.
    const days = stats.thumbsUpRatePerDay;
    assert.deepEqual([days.reduce((n: number, d: any) => n + d.up, 0), days.reduce((n: number, d: any) => n + d.down, 0)], [1, 1]);
    assert.deepEqual((await bars('thumbs-up-rate')).map((b) => b.value), days.map((d: any) => d.rate * 100));
    assert.ok(days.length > 1 || days[0].rate === 0.5);
    await page.screenshot({ path: artifactPath('console.png'), fullPage: true });
  });

  it('gives an admin the appeal queue and the charts; the audit table says it needs the compliance role', async () => {
    await openConsole(await server.token(who('root', 'default', ['admin'])));
    await page.locator('#audit-summary', { hasText: 'The audit log needs the compliance role.' }).waitFor();
    assert.equal(await auditRows().count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Download CSV' }).isDisabled(), true);
    await page.locator('figure[data-chart="block-rate"] svg[role="img"]').waitFor();
    await page.locator('#appeal-status').selectOption('overturned');
    await page.locator(`#appeal-list li[data-appeal-id="${appealId}"]`).waitFor();
  });

  it('had no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
