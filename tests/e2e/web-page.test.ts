import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createDevLoginRoute, devLoginEnabled } from '../../read-api/http/dev-login.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { devSignIn, eventually, expectFocus, openBrowser, openSignedOut, type Browser } from './web-browser.ts';

// The chat page without the model: serving, sign-in, the conversation list, rename, delete, search,
// reload, errors and the narrow layout. Streaming answers are in web-chat.test.ts.
describe('chat page: serving, sign-in and the conversation list', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let browser: Browser;

  before(async () => {
    process.env.PARLEY_DEV_LOGIN = 'on'; // the tests run on DATABASE_URL; the embedded default turns it on by itself
    server = await startTestServer({ env: { PARLEY_TIERS: JSON.stringify({ trial: { priority: 0, user: { rpm: 1, tpm: 40_000, streams: 4 }, tenant: { rpm: 600, tpm: 400_000, streams: 40 } } }) } });
    gql = graphqlClient(server.url);
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the page at / and its files under /web/, with a CSP, ETags and nothing else from disk', async () => {
    const page = await fetch(server.url + '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await page.text(), /<script type="module" src="\/web\/app.js">/);

    const script = await fetch(server.url + '/web/app.js');
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /^text\/javascript/);
    const etag = script.headers.get('etag')!;
    assert.ok(etag);
    assert.equal((await fetch(server.url + '/web/app.js', { headers: { 'if-none-match': etag } })).status, 304);
    assert.match((await fetch(server.url + '/web/style.css')).headers.get('content-type')!, /^text\/css/);

    for (const p of ['/web/nope.js', '/web/../package.json', '/web/%2e%2e/package.json', '/web/', '/package.json']) {
      assert.equal((await fetch(server.url + p)).status, 404, p);
    }
    const post = await fetch(server.url + '/', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as any).error.code, 'METHOD_NOT_ALLOWED');
  });

  it('dev sign-in: on only in the embedded default, validates the name, and its token works', async () => {
    assert.equal(devLoginEnabled({}, {}), true, 'embedded default');
    assert.equal(devLoginEnabled({ DATABASE_URL: 'postgres://x/y' }, {}), false, 'a real database');
    assert.equal(devLoginEnabled({}, { NODE_ENV: 'production' }), false, 'production');
    assert.equal(devLoginEnabled({}, { NODE_ENV: 'production', PARLEY_DEV_LOGIN: 'on' }), false, 'production, even when asked');
    assert.equal(devLoginEnabled({ DATABASE_URL: 'postgres://x/y' }, { PARLEY_DEV_LOGIN: 'on' }), true, 'asked for');
    assert.equal(devLoginEnabled({}, { PARLEY_DEV_LOGIN: 'off' }), false, 'switched off');
    const off = createDevLoginRoute({ enabled: false, secret: 'x'.repeat(32) });
    assert.equal(await off({} as never, {} as never, new URL('http://h/auth/dev-login')), false, 'disabled: no route (404)');

    const probe = await fetch(server.url + '/auth/dev-login');
    assert.equal(probe.status, 200);
    const post = (body: string, type = 'application/json') =>
      fetch(server.url + '/auth/dev-login', { method: 'POST', headers: { 'content-type': type }, body });
    for (const bad of ['{}', '{"name": ""}', '{"name": "a b"}', `{"name": "${'x'.repeat(65)}"}`, '{"name": 7}']) {
      const res = await post(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as any).error.code, 'BAD_USER_INPUT');
    }
    assert.equal((await post('{nope')).status, 400);
    assert.equal((await post('name=x', 'application/x-www-form-urlencoded')).status, 415, 'no cross-site form posts');
    assert.equal((await post(JSON.stringify({ name: 'x'.repeat(5000) }))).status, 413);

    const ok = await post('{"name": " dana "}');
    assert.equal(ok.status, 200);
    const { token, userId, tenantId } = (await ok.json()) as any;
    assert.deepEqual([userId, tenantId], ['dana', 'default']);
    const me = await gql(token, '{ me { userId roles } }');
    assert.deepEqual(me.data.me, { userId: 'dana', roles: ['user'] });
  });

  it('signs in with a pasted token; a bad token gets a clear error; sign out returns to sign-in', async () => {
    const { page } = browser;
    await page.goto(server.url);
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('alert').filter({ hasText: 'That token was not accepted' }).waitFor();

    const token = await server.token({ userId: 'erin', tenantId: 't1', roles: ['user'] });
    await page.getByLabel('Access token').fill(`Bearer ${token}`);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByText('Signed in as erin').waitFor();
    await expectFocus(page, 'id', 'composer-input', 'focus lands in the message box');

    await page.reload();
    await page.getByText('Signed in as erin').waitFor(); // the token is remembered
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Your name').waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('parley.token')), null);
  });

  // QA: tabs share localStorage, but a page went on as the user it showed after a sign-out in
  // another tab (sending as them, on a shared computer), or a sign-in there as someone else.
  it('follows a sign-out, or a sign-in as someone else, in another tab', async () => {
    const { page, context } = browser;
    const erin = await server.token({ userId: 'erin', tenantId: 't1', roles: ['user'] });
    await page.getByLabel('Access token').fill(erin);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByText('Signed in as erin').waitFor();
    const other = await context.newPage();
    try {
      await other.goto(server.url);
      await other.getByText('Signed in as erin').waitFor();
      await other.getByRole('button', { name: 'Sign out' }).click();
      await other.getByLabel('Access token').waitFor();
      await page.getByRole('alert').filter({ hasText: 'You signed out in another tab.' }).waitFor();
      assert.equal(await page.locator('#app').isVisible(), false, 'this page is signed out too');

      await page.getByLabel('Access token').fill(erin);
      await page.getByRole('button', { name: 'Sign in with token' }).click();
      await page.getByText('Signed in as erin').waitFor();
      const fay = await server.token({ userId: 'fay', tenantId: 't1', roles: ['user'] });
      await other.getByLabel('Access token').fill(fay);
      await other.getByRole('button', { name: 'Sign in with token' }).click();
      await other.getByText('Signed in as fay').waitFor();
      await page.getByText('Signed in as fay').waitFor();
    } finally {
      await other.close();
    }
  });

  it('dev sign-in; Enter sends and Shift+Enter makes a new line; rename, search, delete; the history survives a reload', async () => {
    const { page } = browser;
    await devSignIn(page, server.url, 'frank');
    const token = (await page.evaluate(() => localStorage.getItem('parley.token')))!;

    // Two more conversations through the API, so that search has something to tell apart.
    const SEND = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } position } }';
    const other = await gql(token, SEND, { input: { content: 'Tell me about penguins' } });
    assert.equal(other.errors, undefined, JSON.stringify(other.errors));
    await gql(token, SEND, { input: { content: 'Convert 5 km to miles' } });
    await page.reload();
    await page.getByRole('link', { name: 'Tell me about penguins' }).waitFor();

    await page.getByRole('button', { name: '+ New conversation' }).click();
    const box = page.getByLabel('Message', { exact: true });
    await box.click();
    await page.keyboard.type('What is the capital of France?');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('One word, please.');
    assert.equal(await box.inputValue(), 'What is the capital of France?\nOne word, please.', 'Shift+Enter is a newline, not a send');
    await page.keyboard.press('Enter');
    const mine = page.locator('#messages li.user').first();
    await mine.waitFor();
    assert.equal(await mine.locator('.content').innerText(), 'What is the capital of France?\nOne word, please.');
    assert.equal(await box.inputValue(), '', 'the box is cleared after sending');
    const conversationId = decodeURIComponent(new URL(page.url()).hash.replace('#c=', ''));
    assert.ok(conversationId, 'the URL names the conversation');
    // Newest first.
    await eventually(async () => assert.match(await page.locator('#conversation-list li').first().innerText(), /capital of France/));

    // Rename: Escape cancels, Enter saves; the list follows.
    await page.getByRole('button', { name: 'Rename' }).click();
    const title = page.getByLabel('Conversation title');
    await title.fill('Ignored');
    await title.press('Escape');
    assert.match(await page.locator('#conversation-title').innerText(), /^What is the capital of France\?/, 'Escape keeps the old title');
    assert.equal(await page.locator('#rename-form').isHidden(), true);
    await expectFocus(page, 'id', 'rename', 'focus returns to Rename');
    await page.getByRole('button', { name: 'Rename' }).click();
    // QA: a title of only spaces passed the field's `required` and Save did nothing, without a word.
    await title.fill('   ');
    await title.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'A title cannot be empty.' }).waitFor();
    await title.fill('Capitals');
    await title.press('Enter');
    await page.getByRole('heading', { name: 'Capitals' }).waitFor();
    assert.equal(await page.locator('#notice').isHidden(), true, 'the saved title clears the notice');
    await page.getByRole('link', { name: 'Capitals' }).waitFor();

    // Reload: the conversation, its message and its new title are still there.
    await page.reload();
    await page.getByRole('heading', { name: 'Capitals' }).waitFor();
    assert.match(await page.locator('#messages li.user .content').first().innerText(), /capital of France/);
    assert.equal(await page.getByRole('link', { name: 'Capitals' }).getAttribute('aria-current'), 'page');

    // Search by title and by words inside messages.
    await page.getByLabel('Search conversations').fill('penguin');
    await eventually(async () => assert.deepEqual(await page.locator('#conversation-list li').allInnerTexts(), ['Tell me about penguins']));
    await page.getByLabel('Search conversations').fill('France');
    await eventually(async () => assert.deepEqual(await page.locator('#conversation-list li').allInnerTexts(), ['Capitals']));
    await page.getByLabel('Search conversations').fill('zebra');
    await page.getByText('No conversation matches “zebra”.').waitFor();
    await page.getByLabel('Search conversations').fill('');
    await eventually(async () => assert.equal(await page.locator('#conversation-list li').count(), 3));

    // Open another conversation from the list, then come back with the browser's Back button.
    await page.getByRole('link', { name: 'Tell me about penguins' }).click();
    await page.getByRole('heading', { name: 'Tell me about penguins' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Capitals' }).waitFor();

    // Delete: Cancel keeps it; Delete removes it from the list and from the server.
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Capitals' }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted “Capitals”.').waitFor();
    await page.getByRole('heading', { name: 'New conversation' }).waitFor();
    await eventually(async () => assert.equal(await page.getByRole('link', { name: 'Capitals' }).count(), 0));
    const gone = await gql(token, 'query($id: ID!) { conversation(id: $id) { id } }', { id: conversationId });
    assert.equal(gone.data.conversation, null);
    await page.reload();
    await page.getByRole('link', { name: 'Tell me about penguins' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Capitals' }).count(), 0);

    // A link to a deleted conversation says so.
    await page.goto(`${server.url}/#c=${encodeURIComponent(conversationId)}`);
    await page.getByText('That conversation does not exist or was deleted.').waitFor();
  });

  it('shows when to retry after RATE_LIMITED (a real quota), and the message of other errors', async () => {
    const { page } = browser;
    // A token of the "trial" tier, which this server allows one request per minute.
    const trial = await new SignJWT({ tenant: 't1', roles: ['user'], tier: 'trial' })
      .setProtectedHeader({ alg: 'HS256' }).setSubject('gina').setIssuedAt().setExpirationTime('1h')
      .sign(new TextEncoder().encode(server.app.secret));
    await openSignedOut(page, server.url);
    await page.getByLabel('Access token').fill(trial);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.waitForFunction(() => document.querySelector('#whoami')?.textContent === 'Signed in as gina');

    const box = page.getByLabel('Message', { exact: true });
    await box.fill('hello');
    await box.press('Enter');
    await page.locator('#messages li.assistant[aria-busy="false"]').waitFor({ timeout: 60_000 });
    await box.fill('hello again');
    await box.press('Enter');
    const alert = page.getByRole('alert').filter({ hasText: /You are sending too fast\. You can send again in \d+ s\./ });
    await alert.waitFor();
    const seconds = () => alert.innerText().then((t) => Number(/in (\d+) s/.exec(t)![1]));
    const first = await seconds();
    assert.ok(first >= 1 && first <= 60, `retry in ${first} s`);
    assert.equal(await page.getByRole('button', { name: 'Send' }).isDisabled(), true, 'Send waits for the quota');
    assert.equal(await box.inputValue(), 'hello again', 'the message is kept for later');
    await eventually(async () => assert.ok((await seconds()) < first, 'the countdown runs'), { timeout: 3000 });

    // A plain input error from the server is shown as it is.
    await devSignIn(page, server.url, 'gina2');
    await page.getByLabel('Message', { exact: true }).fill('x'.repeat(32_001));
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('alert').filter({ hasText: /32000|too long|longer/i }).waitFor();
  });

  it('works on a narrow screen: the list opens from the menu button and nothing overflows sideways', async () => {
    const narrow = await openBrowser({ viewport: { width: 375, height: 700 } });
    try {
      const { page } = narrow;
      await devSignIn(page, server.url, 'frank');
      const menu = page.getByRole('button', { name: 'Conversations' });
      assert.equal(await menu.getAttribute('aria-expanded'), 'false');
      assert.equal(await page.getByRole('link', { name: 'Tell me about penguins' }).isVisible(), false, 'the list is tucked away');
      await menu.click();
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      await expectFocus(page, 'id', 'search', 'focus moves into the list');
      await page.keyboard.press('Escape');
      assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'Escape closes the list');
      await expectFocus(page, 'id', 'toggle-sidebar', 'and returns focus to the menu button');
      // QA: Tab from the panel's last control moved the focus onto the chat's controls under the
      // still-open panel (Rename, Delete), and Escape there did not close it.
      await menu.click();
      await page.locator('#memories summary').focus();
      await page.keyboard.press('Tab');
      assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'tabbing out of the list closes it');
      assert.equal(await page.locator('#sidebar').isVisible(), false);
      await menu.click();
      await page.getByRole('link', { name: 'Tell me about penguins' }).click();
      await page.getByRole('heading', { name: 'Tell me about penguins' }).waitFor();
      assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'choosing a conversation closes the list');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
      assert.ok(await page.getByLabel('Message', { exact: true }).isVisible());
      assert.deepEqual(narrow.errors, []);
    } finally {
      await narrow.close();
    }
  });

  it('had no script errors', () => {
    assert.deepEqual(browser.errors, []);
  });
});
