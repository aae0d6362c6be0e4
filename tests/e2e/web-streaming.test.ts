import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';
import { devSignIn, eventually, expectFocus, openBrowser, type Browser } from './web-browser.ts';

// Long answers, so that there is a stream to watch, stop and cut: the random-weight test model (same
// architecture as the shipped one) rarely samples end-of-text and runs to max tokens. Greedy, so the
// text is the same on every run (the shipped model answers in ~15 tokens, over before one can click).
const PROMPT = 'Tell me everything about rivers.';

describe('chat page: long answers stream, stop and survive dropped connections', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let browser: Browser;
  let page: Page;
  let token: string;

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR } });
    gql = graphqlClient(server.url);
    browser = await openBrowser();
    page = browser.page;
    await devSignIn(page, server.url, 'ines');
    token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
    await page.getByText('Options').click();
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Max tokens').fill('600');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const lastAnswer = () => page.locator('#messages li.assistant').last();
  const answerText = async () => (await lastAnswer().locator('.content').textContent()) ?? '';
  const answerId = async () => (await lastAnswer().getAttribute('data-message-id'))!;
  const finished = () => page.locator('#messages li.assistant[aria-busy="true"]').waitFor({ state: 'detached', timeout: 60_000 });
  const someText = () => eventually(async () => assert.ok((await answerText()).length > 0), { timeout: 30_000, interval: 20 });

  async function ask() {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    const box = page.getByLabel('Message', { exact: true });
    await box.fill(PROMPT);
    await box.press('Enter');
    await lastAnswer().waitFor();
  }

  async function generation(id: string) {
    const r = await gql(token, 'query($id: ID!) { generation(id: $id) { content status finishReason } }', { id });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.generation as { content: string; status: string; finishReason: string | null };
  }

  // Subscriptions the page opens (their variables), read off the wire.
  function watchSubscriptions() {
    const seen: { id: string; afterIndex: number | null; attempt: number | null }[] = [];
    const onRequest = (r: Request) => {
      if (r.url().endsWith('/graphql') && (r.headers().accept ?? '').includes('text/event-stream')) seen.push(r.postDataJSON().variables);
    };
    page.on('request', onRequest);
    return { seen, stop: () => page.off('request', onRequest) };
  }

  // The length of the streaming answer's text at every DOM change.
  async function recordLengths() {
    await page.evaluate(() => {
      const w = window as unknown as { __lengths: number[]; __observer?: MutationObserver };
      w.__observer?.disconnect();
      w.__lengths = [];
      w.__observer = new MutationObserver(() => {
        const live = document.querySelector('#messages li.assistant.live .content');
        if (live) w.__lengths.push(live.textContent!.length);
      });
      w.__observer.observe(document.querySelector('#messages')!, { subtree: true, childList: true, characterData: true });
    });
  }
  const lengths = () => page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths);

  it('the text grows token by token while the answer streams, and ends as the history has it', async () => {
    await recordLengths();
    await ask();
    assert.equal(await page.getByRole('button', { name: 'Stop' }).isVisible(), true, 'Stop is offered while the answer streams');
    await finished();
    const steps = [...new Set(await lengths())].filter((n) => n > 0);
    assert.ok(steps.length >= 10, `the text grew in many steps: ${steps.length} distinct lengths`);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'it only ever grew');
    await lastAnswer().getByText('Stopped at the length limit.').waitFor();
    const id = await answerId();
    const shown = await answerText();
    await eventually(async () => {
      const g = await generation(id);
      assert.equal(g.finishReason, 'length');
      assert.equal(shown, g.content, 'nothing lost, nothing repeated');
    });
  });

  it('Stop cancels the generation mid-answer', async () => {
    await ask();
    await someText();
    await page.getByRole('button', { name: 'Stop' }).click();
    await finished();
    await lastAnswer().getByText('Stopped.').waitFor();
    const id = await answerId();
    await eventually(async () => assert.equal((await generation(id)).status, 'cancelled'));
    const shown = await answerText();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await answerText(), shown, 'nothing is added after Stop');
    assert.ok(shown.length > 0);
    assert.equal(await page.getByRole('button', { name: 'Send' }).isVisible(), true);
    await expectFocus(page, 'id', 'composer-input', 'focus returns to the message box');
  });

  it('a dropped connection resumes from the last token seen: nothing lost, nothing repeated', async () => {
    const wire = watchSubscriptions();
    try {
      await ask();
      await someText();
      await recordLengths();
      const id = await answerId();
      server.app.server!.closeAllConnections(); // cut every connection the server holds, the SSE stream included
      await finished();
      const seen = await lengths();
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'the text was never dropped and re-sent: a true resume');
      const mine = wire.seen.filter((s) => s.id === id);
      assert.ok(mine.length >= 2, `resubscribed: ${JSON.stringify(mine)}`);
      assert.equal(mine[0]!.afterIndex, null);
      assert.ok(mine.slice(1).every((s) => s.afterIndex !== null && s.afterIndex >= 0 && s.attempt === 1), `resumed after a token index of attempt 1: ${JSON.stringify(mine)}`);
      const shown = await answerText();
      await eventually(async () => {
        const g = await generation(id);
        assert.equal(g.finishReason, 'length');
        assert.equal(shown, g.content, 'the text across the drop is exactly the generation');
      });
    } finally {
      wire.stop();
    }
  });

  it('a reload during an answer picks the stream up again', async () => {
    await ask();
    await someText();
    const id = await answerId();
    await page.reload();
    const item = page.locator(`#messages li[data-message-id="${id}"]`);
    await item.waitFor();
    await page.locator('#messages li.assistant[aria-busy="false"]').last().waitFor({ timeout: 60_000 });
    await finished();
    const shown = (await item.locator('.content').textContent()) ?? '';
    await eventually(async () => {
      const g = await generation(id);
      assert.equal(g.finishReason, 'length');
      assert.equal(shown, g.content);
    });
  });

  it('had no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
