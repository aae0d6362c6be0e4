import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { artifactPath, devSignIn, eventually, expectFocus, openBrowser, type Browser } from './web-browser.ts';

// "What Parley remembers" on the chat page: a fact added there is listed (and is the one the API
// holds), and "Forget" removes it; signing out clears them (and the composer's options) from the page.
describe('memories on the chat page', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer();
    browser = await openBrowser();
    await devSignIn(browser.page, server.url, 'mina');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  // What the section lists, once it settles; and a fact added from its field with Enter.
  const listsFacts = (page: Browser['page'], facts: string[]) => eventually(async () => assert.deepEqual(await page.locator('.memory-text').allTextContents(), facts));
  async function addFact(page: Browser['page'], text: string) {
    await page.fill('#memory-input', text);
    await page.press('#memory-input', 'Enter');
  }

  it('adds, lists and forgets a memory', async () => {
    const page = browser.page;
    const gql = graphqlClient(server.url);
    const token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
    await gql(token, 'mutation { rememberFact(text: "I live in Porto.") { memory { id } } }');
    await page.click('#memories summary');
    await listsFacts(page, ['I live in Porto.']);
    await addFact(page, 'My daughter is called Ana.');
    await listsFacts(page, ['I live in Porto.', 'My daughter is called Ana.']);
    assert.deepEqual((await gql(token, '{ memories { text } }')).data.memories.map((m: any) => m.text), ['I live in Porto.', 'My daughter is called Ana.']);
    await page.screenshot({ path: artifactPath('web-memory.png') });
    await page.getByRole('button', { name: 'Forget: I live in Porto.' }).click();
    await listsFacts(page, ['My daughter is called Ana.']);
    // QA: the pressed button went with its fact and the focus fell to the page's body.
    await expectFocus(page, 'aria-label', 'Forget: My daughter is called Ana.', 'focus moves to the next fact\'s Forget');
    assert.deepEqual((await gql(token, '{ memories { text } }')).data.memories.map((m: any) => m.text), ['My daughter is called Ana.']);
    assert.deepEqual(browser.errors, []);
  });

  // QA: after Sign out and a sign-in as someone else on the same page (no reload), the previous
  // user's facts were still listed with Forget buttons, and the "Answer from collections" field kept
  // its value, so the next user's message silently used retrieval.
  it('sign-out clears the previous user\'s memories and composer options', async () => {
    const page = browser.page;
    await listsFacts(page, ['My daughter is called Ana.']);
    await page.click('#options summary');
    await page.getByLabel('Answer from collections').fill('mina-private');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Your name').fill('otto');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Signed in as otto').waitFor();
    assert.deepEqual(await page.locator('.memory-text').allTextContents(), [], 'none of mina\'s facts are shown');
    assert.equal(await page.getByRole('button', { name: /^Forget:/ }).count(), 0);
    assert.equal(await page.getByLabel('Answer from collections').inputValue(), '');
    // Opening the section shows otto's own (empty) list.
    await page.click('#memories summary');
    await eventually(async () => assert.match(await page.locator('#memory-status').textContent() ?? '', /Nothing yet/));
    assert.deepEqual(await page.locator('.memory-text').allTextContents(), []);
    assert.deepEqual(browser.errors, []);
  });

  // QA: with the page open as one user, a sign-in as someone else in another tab (same localStorage)
  // made this page's "What Parley remembers" list the other user's facts, and a fact added here was
  // saved as theirs, while the page still said "Signed in as" the first. (The page now follows such
  // a sign-in: web-page.test.ts. Here localStorage is changed without the other tab, from this page.)
  it('lists and adds the facts of the user the page shows, whatever token localStorage holds now', async () => {
    const page = browser.page;
    const gql = graphqlClient(server.url);
    await devSignIn(page, server.url, 'tove');
    const tove = (await page.evaluate(() => localStorage.getItem('parley.token')))!;
    await gql(tove, 'mutation { rememberFact(text: "Tove likes tea.") { memory { id } } }');
    const ulf = await server.token({ userId: 'ulf', tenantId: 'default', roles: ['user'] });
    await gql(ulf, 'mutation { rememberFact(text: "Ulf likes coffee.") { memory { id } } }');
    await page.evaluate((t) => localStorage.setItem('parley.token', t), ulf);
    assert.equal(await page.locator('#whoami').textContent(), 'Signed in as tove');
    await page.click('#memories summary');
    await listsFacts(page, ['Tove likes tea.']);
    await addFact(page, 'Tove walks to work.');
    await listsFacts(page, ['Tove likes tea.', 'Tove walks to work.']);
    assert.deepEqual((await gql(tove, '{ memories { text } }')).data.memories.map((m: any) => m.text), ['Tove likes tea.', 'Tove walks to work.']);
    await page.getByRole('button', { name: 'Forget: Tove walks to work.' }).click();
    await expectFocus(page, 'aria-label', 'Forget: Tove likes tea.', 'after the last fact, focus moves to the one before');
    await page.keyboard.press('Enter');
    await expectFocus(page, 'id', 'memory-input', 'with no fact left, focus moves to the field');
    assert.deepEqual(await page.locator('.memory-text').allTextContents(), []);
    assert.deepEqual(browser.errors, []);
  });
});
