import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { loadModel } from '../../inference/engine/model.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { devSignIn, eventually, openBrowser, type Browser } from './web-browser.ts';
import { appendAnswerWhenRequested } from '../support/worker-answer.ts';

// The chat page with retrieval: a turn sent with "Answer from collections" retrieves the user's
// document, and an answer citing [1] shows the source under it (a button opening a popover with the
// passage), live and after a reload. The real server (API, projector with the documents indexer,
// saga) and the real page in Chromium; no worker runs: the test appends the answer a worker would
// (the shipped model does not cite yet), through the same commands.
describe('chat page: citations of a grounded answer in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const model = loadModel();

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { PARLEY_TOOLS: 'off' } });
    browser = await openBrowser();
    page = browser.page;
    await devSignIn(page, server.url, 'ines');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const generate = (generationId: string, text: string) => appendAnswerWhenRequested(server.app, model, generationId, text);

  it('shows [1] as a source under the answer, with the passage in a popover, live and after a reload', async () => {
    const gql = graphqlClient(server.url);
    const token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
    const added = await gql(token, 'mutation { addDocument(input: {collection: "places", title: "Zorvan Bridge", text: "The Zorvan Bridge was built in 1887."}) { position } }');
    assert.equal(added.errors, undefined, JSON.stringify(added.errors));
    await eventually(async () => {
      const r = await gql(token, 'query($p: String) { documents(collection: "places", consistentWith: $p) { chunks } }', { p: added.data.addDocument.position });
      assert.deepEqual(r.data?.documents, [{ chunks: 1 }], 'indexed');
    }, { timeout: 60_000 });

    await page.getByText('Options').click();
    await page.getByLabel('Answer from collections').fill('places');
    const box = page.getByLabel('Message', { exact: true });
    await box.fill('When was the Zorvan Bridge built?');
    await box.press('Enter');
    await page.locator('#messages li.user .content', { hasText: 'When was the Zorvan Bridge built?' }).waitFor();
    const answer = page.locator('#messages li.assistant').last();
    const generationId = (await answer.getAttribute('data-message-id'))!;
    // The page sent the collections: the saga retrieved the document into the turn.
    await eventually(async () => {
      const [request] = await server.app.store.readStream(`generation-${generationId}`, { limit: 1 });
      assert.ok(request?.type === 'GenerationRequested' && request.data.retrieval?.sources[0]?.chunkId.endsWith(':0'), 'retrieved');
    });
    await generate(generationId, 'The Zorvan Bridge was built in 1887 [1].');

    const check = async () => {
      const link = answer.locator('.citations .citation-link');
      await link.waitFor({ timeout: 20_000 });
      assert.equal(await link.count(), 1);
      assert.equal(await link.textContent(), '[1] Zorvan Bridge');
      assert.equal(await answer.locator('.citation-popover').isVisible(), false, 'closed until asked');
      await link.click();
      const popover = answer.locator('.citation-popover');
      await popover.waitFor({ state: 'visible' });
      assert.equal(await popover.locator('.citation-passage').textContent(), 'The Zorvan Bridge was built in 1887.');
      await page.keyboard.press('Escape');
      await popover.waitFor({ state: 'hidden' });
    };
    await check();
    await page.reload();
    await page.locator('#messages li.user .content', { hasText: 'When was the Zorvan Bridge built?' }).waitFor();
    await check();
    assert.deepEqual(browser.errors, []);
  });
});
