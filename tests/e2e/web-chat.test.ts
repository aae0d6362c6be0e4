import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { artifactPath, devSignIn, eventually, expectFocus, openBrowser, type Browser } from './web-browser.ts';

// The chat page with the shipped model behind it: short answers over the GraphQL SSE subscription,
// siblings, feedback, safety. Long answers (growth, Stop, dropped connections) are in web-streaming.test.ts.
describe('chat page: answers, siblings, feedback and safety in a real browser', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let browser: Browser;
  let page: Page;
  let token: string;

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer();
    gql = graphqlClient(server.url);
    browser = await openBrowser();
    page = browser.page;
    await devSignIn(page, server.url, 'hana');
    token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const lastAnswer = () => page.locator('#messages li.assistant').last();
  const answerText = async () => (await lastAnswer().locator('.content').textContent()) ?? '';
  const answerId = async () => (await lastAnswer().getAttribute('data-message-id'))!;
  const finished = async () => { await page.locator('#messages li.assistant[aria-busy="true"]').waitFor({ state: 'detached', timeout: 60_000 }); };

  async function send(text: string) {
    const box = page.getByLabel('Message', { exact: true });
    await box.fill(text);
    await box.press('Enter');
    await page.locator('#messages li.user .content', { hasText: text }).last().waitFor();
  }

  async function serverGeneration(id: string) {
    const r = await gql(token, 'query($id: ID!) { generation(id: $id) { content status finishReason siblingOf feedback { rating comment } } }', { id });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.generation;
  }

  it('sends a message with Enter; the answer streams in over the subscription and matches the history', async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    const subscriptions: unknown[] = [];
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.url().endsWith('/graphql') && (r.headers().accept ?? '').includes('text/event-stream')) subscriptions.push(r.postDataJSON().variables);
    };
    page.on('request', onRequest);
    await send('Tell me a short story about a lighthouse.');
    page.off('request', onRequest);
    await finished();
    const text = await answerText();
    assert.ok(text.length > 0, 'an answer arrived');
    const id = await answerId();
    assert.deepEqual(subscriptions, [{ id, afterIndex: null, attempt: null }], 'one subscription, from the start');
    assert.equal(await page.getByRole('button', { name: 'Send' }).isVisible(), true, 'Send is back once the answer is complete');
    assert.equal(await page.locator('#status').innerText(), 'Answer complete.');
    await eventually(async () => {
      const g = await serverGeneration(id);
      assert.equal(g.status, 'completed');
      assert.equal(g.content, text, 'what the page shows is what the history holds');
    });
  });

  it('Regenerate makes a sibling answer; ‹ 1/2 › switches between them, also after a reload', async () => {
    await send('Give me a name for a cat.');
    await finished();
    const firstId = await answerId();
    const firstText = await answerText();
    await lastAnswer().getByRole('button', { name: '↻ Regenerate' }).click();
    await lastAnswer().getByText('2/2').waitFor();
    await finished();
    const secondId = await answerId();
    const secondText = await answerText();
    assert.notEqual(secondId, firstId);
    await eventually(async () => assert.equal((await serverGeneration(secondId)).siblingOf, firstId));

    await lastAnswer().getByRole('button', { name: 'Previous answer' }).click();
    await lastAnswer().getByText('1/2').waitFor();
    assert.equal(await answerText(), firstText);
    await expectFocus(page, 'aria-label', 'Next answer', 'focus stays on the switcher');
    await page.keyboard.press('Enter');
    await lastAnswer().getByText('2/2').waitFor();
    assert.equal(await answerText(), secondText);

    await page.reload();
    await lastAnswer().getByText('2/2').waitFor();
    assert.equal(await answerText(), secondText);
    await lastAnswer().getByRole('button', { name: 'Previous answer' }).click();
    assert.equal(await answerText(), firstText);
  });

  it('rates an answer with a comment; the rating is stored and survives a reload', async () => {
    // Rate the newest answer (2/2), the one a reload shows first.
    await lastAnswer().getByRole('button', { name: 'Next answer' }).click();
    await lastAnswer().getByText('2/2').waitFor();
    await lastAnswer().getByRole('button', { name: 'Good answer' }).click();
    const comment = lastAnswer().getByLabel('Why is it good? (optional)');
    await expectFocus(page, 'name', 'comment', 'focus moves to the comment');
    await comment.fill('Short and sweet');
    await comment.press('Enter');
    await lastAnswer().getByText('You rated this answer good: “Short and sweet”').waitFor();
    assert.equal(await lastAnswer().getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed'), 'true');
    const id = await answerId();
    await eventually(async () => assert.deepEqual((await serverGeneration(id)).feedback, { rating: 'UP', comment: 'Short and sweet' }));
    await page.reload();
    await lastAnswer().getByText('You rated this answer good: “Short and sweet”').waitFor();

    // A screenshot of a finished conversation, for people to look at.
    const file = artifactPath('chat.png');
    await page.screenshot({ path: file });
    assert.ok(statSync(file).size > 10_000);
  });

  it('a blocked message shows a notice with the safety category, not a generic error', async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    await send("I'm going to kill you when I see you tomorrow.");
    await finished();
    const question = page.locator('#messages li.user').last();
    const notice = question.locator('.safety-notice');
    await notice.waitFor();
    const category = await notice.getAttribute('data-category');
    const conversationId = decodeURIComponent(new URL(page.url()).hash.replace('#c=', ''));
    const r = await gql(token, 'query($id: ID!) { conversation(id: $id) { messages { role status safetyCategories { category blocked } } } }', { id: conversationId });
    const stored = r.data.conversation.messages.find((m: any) => m.role === 'user');
    assert.equal(stored.status, 'blocked');
    assert.equal(category, stored.safetyCategories.filter((c: any) => c.blocked).map((c: any) => c.category).join(', '));
    assert.equal(await notice.innerText(), `⚠ Your message was blocked by the safety policy (category: ${category}).`);
    // The answer is the refusal the server chose; no error notice.
    assert.ok((await answerText()).length > 0);
    assert.equal(await page.locator('#messages .error-notice').count(), 0);
    assert.equal(await lastAnswer().getByRole('button', { name: 'Good answer' }).count(), 0, 'a refusal is not rated');
    assert.equal(await lastAnswer().getByRole('button', { name: '↻ Regenerate' }).count(), 0, 'nor sent to the model again');
  });

  it('had no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
