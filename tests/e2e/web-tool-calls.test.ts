import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { loadModel } from '../../inference/engine/model.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { devSignIn, eventually, openBrowser, type Browser } from './web-browser.ts';
import { appendAnswerWhenRequested } from '../support/worker-answer.ts';

// The chat page shows a turn's server-side tool calls as one collapsible step, live and after a
// reload. The real server (API, projector, saga with PARLEY_TOOLS=on) and the real page in
// Chromium; no worker runs: the test appends what a worker appends for the two generations of the
// turn (the shipped model never writes a <tool_call>), through the same commands.
describe('chat page: a turn with a tool call in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const model = loadModel();

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { PARLEY_TOOLS: 'on', PARLEY_TOOL_SELECTION: 'all', PARLEY_TENANT_TOOLS: '{}' } });
    browser = await openBrowser();
    page = browser.page;
    await devSignIn(page, server.url, 'tomas');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const generate = (generationId: string, text: string) => appendAnswerWhenRequested(server.app, model, generationId, text);

  const answer = () => page.locator('#messages li.assistant').last();

  it('shows the call as a collapsible step and the answer without the markup, live and after a reload', async () => {
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('What is 6 times 7?');
    await box.press('Enter');
    await page.locator('#messages li.user .content', { hasText: 'What is 6 times 7?' }).waitFor();
    const generationId = (await answer().getAttribute('data-message-id'))!;
    await generate(generationId, 'Let me compute that.\n<tool_call>\n{"name": "calculator", "arguments": {"expression": "6*7"}}\n</tool_call>');
    await generate(`${generationId}.t1`, '6 times 7 is 42.');
    await page.locator('#messages li.assistant[aria-busy="true"]').waitFor({ state: 'detached', timeout: 60_000 });

    const step = () => answer().locator('details.tool-steps');
    // Collapsed until the user opens it.
    const collapsed = async () => {
      await step().waitFor();
      assert.equal(await step().getAttribute('open'), null, 'collapsed');
      await step().locator('summary').click();
    };
    const check = async () => {
      assert.equal(await step().locator('summary').textContent(), 'Used a tool: calculator');
      const s = step();
      assert.equal(await s.locator('.tool-call-arguments').textContent(), '{"expression":"6*7"}');
      assert.equal(await s.locator('.tool-call-result').textContent(), '{"expression":"6*7","result":"42","exact":true}');
      assert.equal(await s.locator('.tool-call-status').textContent(), 'done');
      assert.equal(await answer().locator('.content').textContent(), 'Let me compute that.\n\n6 times 7 is 42.');
      assert.equal(await page.locator('#messages li.assistant').count(), 1, 'the continuation is part of the answer, not another one');
      assert.equal(await answer().locator('.siblings').count(), 0);
    };
    await collapsed();
    await eventually(check);
    await page.reload();
    await page.locator('#messages li.user .content', { hasText: 'What is 6 times 7?' }).waitFor();
    await collapsed();
    await eventually(check);
    assert.deepEqual(browser.errors, []);
  });
});
