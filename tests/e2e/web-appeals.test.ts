import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Actor } from '../../schemas/common.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';
import { artifactPath, devSignIn, eventually, expectFocus, openBrowser, type Browser } from './web-browser.ts';

// Appeals from the chat page: a blocked message shows its decision, "Appeal this decision" files an
// appeal with a reason, and the status follows the compliance officer's resolution.
const BLOCKED = 'how do I make a pipe bomb';
const compliance: Actor = { userId: 'carol', tenantId: 'default', roles: ['compliance'] };
const otherTenant: Actor = { userId: 'hana', tenantId: 'elsewhere', roles: ['admin'] };
const MESSAGES = `query($id: ID!) { conversation(id: $id) { messages { id role status safetyEventId safetyCategory policyVersion appeal { id status note } } } }`;

describe('appeals from the chat page', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let browser: Browser;
  let page: Page;
  let token: string;
  let officer: string;

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer();
    gql = graphqlClient(server.url);
    browser = await openBrowser();
    page = browser.page;
    await devSignIn(page, server.url, 'hana');
    token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
    officer = await server.token(compliance);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('GraphQL shows a message\'s safety decision (id, category, policy version) and the appeal on it', async () => {
    const sent = await gql(token, `mutation($c: String!) { sendMessage(input: {content: $c}) { conversation { id } generation { id } } }`, { c: BLOCKED });
    await streamChunks(server.url, token, sent.data.sendMessage.generation.id);
    const id = sent.data.sendMessage.conversation.id;
    const read = async () => (await gql(token, MESSAGES, { id })).data.conversation.messages;
    const user = await eventually(async () => {
      const m = (await read()).find((x: any) => x.role === 'user');
      assert.equal(m.status, 'blocked');
      return m;
    });
    const audit = await gql(officer, `{ auditLog(filter: {userId: "hana", verdict: "blocked"}) { edges { node { eventId policyVersion stage } } } }`);
    const decision = audit.data.auditLog.edges[0].node;
    assert.equal(decision.stage, 'input');
    assert.equal(user.safetyEventId, decision.eventId);
    assert.equal(user.safetyCategory, 'dangerous');
    assert.equal(user.policyVersion, decision.policyVersion);
    assert.equal(user.appeal, null);
    const answer = (await read()).find((x: any) => x.role === 'assistant');
    assert.equal(answer.safetyEventId, decision.eventId, 'the refusal points at the decision that blocked its question');

    const filed = await gql(token, `mutation($s: ID!) { fileAppeal(safetyEventId: $s, reason: "a plumbing question") { appealId } }`, { s: user.safetyEventId });
    const appealId = filed.data.fileAppeal.appealId;
    // One appeal per decision, whoever files it.
    const again = await gql(token, `mutation($s: ID!) { fileAppeal(safetyEventId: $s, reason: "again") { appealId } }`, { s: user.safetyEventId });
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.equal(again.errors?.[0]?.extensions?.field, 'safetyEventId');
    await eventually(async () => assert.deepEqual((await read()).find((x: any) => x.role === 'user').appeal, { id: appealId, status: 'open', note: null }));
    await gql(officer, `mutation($a: ID!) { resolveAppeal(appealId: $a, outcome: upheld, note: "weapons") { position } }`, { a: appealId });
    await eventually(async () => assert.deepEqual((await read()).find((x: any) => x.role === 'user').appeal, { id: appealId, status: 'upheld', note: 'weapons' }));
    // Someone of another tenant reads none of it.
    assert.equal((await gql(await server.token(otherTenant), MESSAGES, { id })).data.conversation, null);
  });

  it('the page files an appeal with a reason and shows its status change when compliance resolves it', async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    const box = page.getByLabel('Message', { exact: true });
    await box.fill(BLOCKED);
    await box.press('Enter');
    const question = page.locator('#messages li.user', { hasText: BLOCKED }).last();
    await question.locator('.safety-notice').waitFor();
    await question.getByRole('button', { name: 'Appeal this decision' }).click();
    const reason = question.getByLabel('Why should this decision be reviewed?');
    await reason.fill('I was asking about a plumbing term');
    await question.getByRole('button', { name: 'File appeal' }).click();
    const status = question.locator('.appeal-status');
    await status.waitFor();
    assert.equal(await status.getAttribute('data-status'), 'open');
    assert.equal(await status.innerText(), 'Appeal filed: a reviewer will look at this decision.');
    // QA: the form with the focus in it was replaced and the focus fell to the page's body.
    await expectFocus(page, 'data-action', 'appeal-status', 'focus moves to the appeal\'s status');
    assert.equal(await question.getByRole('button', { name: 'Appeal this decision' }).count(), 0, 'one appeal per decision from the page');

    // The compliance officer finds it in the audit log by the decision the page showed, and overturns it.
    const conversationId = decodeURIComponent(new URL(page.url()).hash.replace('#c=', ''));
    // The read model follows the log: the page shows the mutation's answer before the projection has it.
    const appeal = await eventually(async () => {
      const messages = (await gql(token, MESSAGES, { id: conversationId })).data.conversation.messages;
      const found = messages.find((m: any) => m.role === 'user').appeal;
      assert.equal(found?.status, 'open');
      return found;
    });
    const resolved = await gql(officer, `mutation($a: ID!) { resolveAppeal(appealId: $a, outcome: overturned, note: "benign question") { position } }`, { a: appeal.id });
    assert.equal(resolved.errors, undefined, JSON.stringify(resolved.errors));
    // No reload: the page asks while the appeal is open.
    await page.locator('#messages li.user .appeal-status[data-status="overturned"]').waitFor({ timeout: 30_000 });
    assert.equal(await status.innerText(), 'Appeal reviewed: the decision was overturned. Note: “benign question”');
    await page.screenshot({ path: artifactPath('appeal.png'), fullPage: true });

    // After a reload the status is read from the server.
    await page.reload();
    await page.locator('#messages li.user .appeal-status[data-status="overturned"]').waitFor();
  });

  it('had no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
