import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corsPolicy } from '../../read-api/http/cors.ts';
import { alice } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { openBrowser, type Browser } from './web-browser.ts';

// A browser app on another origin calls Parley: a page served by a second tiny server on another
// port (http://localhost:<other port>, allowed by the default PARLEY_CORS_ORIGINS) streams a chat
// completion with fetch and a generation over /graphql/stream with the graphql-sse client, in
// Debian's Chromium. The same page from http://127.0.0.1:<other port> (an origin not allowed) is
// refused by the browser. Header-level checks use fetch with an Origin header.

// The app's own script (plain JavaScript, as a browser app would ship it).
const APP_JS = String.raw`
async function callParley(api, token) {
  const res = await fetch(api + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', 'x-request-id': 'browser-request-0001' },
    body: JSON.stringify({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hello from the browser' }], max_tokens: 12, stream: true }),
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let raw = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    raw += decoder.decode(value, { stream: true });
  }
  const frames = raw.split('\n\n').filter((f) => f.startsWith('data: ')).map((f) => f.slice(6));
  const text = frames.filter((f) => f !== '[DONE]').map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '').join('');
  const chat = { status: res.status, generation: res.headers.get('x-parley-generation'), conversation: res.headers.get('x-parley-conversation'), requestId: res.headers.get('x-request-id'), text, last: frames.at(-1) };

  const gql = await fetch(api + '/graphql', {
    method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation { sendMessage(input: { content: "Hi from the page" }) { generation { id } } }' }),
  });
  const generationId = (await gql.json()).data.sendMessage.generation.id;
  const modes = {};
  for (const singleConnection of [false, true]) {
    const client = graphqlSse.createClient({ url: api + '/graphql/stream', headers: () => ({ authorization: 'Bearer ' + token }), singleConnection, retryAttempts: 0 });
    const seen = { chunks: 0, done: false };
    try {
      const it = client.iterate({ query: 'subscription($id: ID!) { generationStream(id: $id) { delta done } }', variables: { id: generationId } });
      for await (const r of it) {
        if (r.errors) { seen.error = JSON.stringify(r.errors); break; }
        seen.chunks++;
        if (r.data.generationStream.done) { seen.done = true; break; }
      }
    } catch (e) {
      seen.error = String(e);
    } finally {
      client.dispose();
    }
    modes[singleConnection ? 'single' : 'distinct'] = seen;
  }
  return { chat, modes };
}

async function tryParley(api, token) {
  const attempt = async (path, init) => {
    try {
      const res = await fetch(api + path, init);
      return 'read ' + res.status;
    } catch (e) {
      return e.name;
    }
  };
  const json = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
  return [
    await attempt('/v1/models', { headers: { authorization: 'Bearer ' + token } }),
    await attempt('/v1/chat/completions', { method: 'POST', headers: json, body: JSON.stringify({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hi' }] }) }),
    await attempt('/graphql', { method: 'POST', headers: json, body: JSON.stringify({ query: '{ __typename }' }) }),
  ];
}
`;

const SSE_BUNDLE = readFileSync(path.join(import.meta.dirname, '../../node_modules/graphql-sse/umd/graphql-sse.min.js'), 'utf8');

describe('CORS: a page on another origin', () => {
  let server: TestServer;
  let page: Server;
  let pagePort: number;
  let browser: Browser;
  let token: string;

  before(async () => {
    server = await startTestServer({ env: { PARLEY_MODEL: 'parley-tiny' } });
    token = await server.token(alice);
    page = createServer((req, res) => {
      if (req.url === '/graphql-sse.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(SSE_BUNDLE);
      if (req.url === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(APP_JS);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>app</title><script src="/graphql-sse.js"></script><script src="/app.js"></script>');
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    pagePort = (page.address() as AddressInfo).port;
    browser = await openBrowser();
  });
  after(async () => {
    await browser?.close();
    page?.close();
    await server?.stop();
  });

  const apiPort = () => new URL(server.url).port;

  it('from an allowed origin: a streamed chat completion with its X-Parley headers, and a GraphQL mutation + subscription in both graphql-sse modes', async () => {
    await browser.page.goto(`http://localhost:${pagePort}/`);
    assert.deepEqual(browser.errors, []);
    const result = await browser.page.evaluate(`callParley(${JSON.stringify(`http://localhost:${apiPort()}`)}, ${JSON.stringify(token)})`) as any;

    assert.equal(result.chat.status, 200);
    assert.equal(result.chat.last, '[DONE]');
    assert.match(result.chat.generation ?? '', /\S/, 'X-Parley-Generation is readable');
    assert.match(result.chat.conversation ?? '', /\S/, 'X-Parley-Conversation is readable');
    assert.equal(result.chat.requestId, 'browser-request-0001');
    const recorded = (await server.app.store.readStream(`generation-${result.chat.generation}`))
      .map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join('');
    assert.equal(result.chat.text, recorded);
    assert.deepEqual(result.modes.distinct, { chunks: result.modes.distinct!.chunks, done: true });
    assert.deepEqual(result.modes.single, { chunks: result.modes.single!.chunks, done: true });
  });

  it('from an origin not allowed, the browser withholds every answer', async () => {
    const conversations = async () => (await server.app.knex.raw(`select count(*)::int as n from parley_events where type = 'ConversationStarted'`)).rows[0].n as number;
    const before = await conversations();
    await browser.page.goto(`http://127.0.0.1:${pagePort}/`);
    const outcomes = await browser.page.evaluate(`tryParley(${JSON.stringify(`http://localhost:${apiPort()}`)}, ${JSON.stringify(token)})`);
    assert.deepEqual(outcomes, ['TypeError', 'TypeError', 'TypeError']);
    // The refused preflight kept the request from being sent: nothing was appended.
    assert.equal(await conversations(), before);
  });

  it('headers: allowed origins echoed (never with credentials), preflights answered, others refused', async () => {
    const url = server.url;
    const allowed = 'http://localhost:5173';
    const preflight = await fetch(`${url}/v1/chat/completions`, {
      method: 'OPTIONS', headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), allowed);
    assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization, content-type, x-stainless-os');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null);

    for (const path of ['/v1/models', '/graphql?query=%7B__typename%7D']) {
      const res = await fetch(`${url}${path}`, { headers: { origin: allowed, authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('access-control-allow-origin'), allowed, path);
      assert.match(res.headers.get('access-control-expose-headers')!, /X-Parley-Generation.*Retry-After/, path);
      assert.equal(res.headers.get('access-control-allow-credentials'), null, path);
      assert.match(res.headers.get('vary') ?? '', /Origin/i, path);
    }
    for (const path of ['/v1/chat/completions', '/graphql', '/graphql/stream']) {
      const evil = await fetch(`${url}${path}`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      assert.equal(evil.status, 403, path);
      assert.equal(evil.headers.get('access-control-allow-origin'), null, path);
      assert.equal(evil.headers.get('access-control-allow-credentials'), null, path);
    }
    const evilGet = await fetch(`${url}/graphql?query=%7B__typename%7D`, { headers: { origin: 'https://evil.example' } });
    assert.equal(evilGet.headers.get('access-control-allow-origin'), null);
    assert.equal(evilGet.headers.get('access-control-allow-credentials'), null);
    // 404s under /v1 carry the CORS headers too, so the browser app can read the error.
    const missing = await fetch(`${url}/v1/nothing`, { headers: { origin: allowed } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('access-control-allow-origin'), allowed);
  });

  it('PARLEY_CORS_ORIGINS: exact origins, port wildcards, * as a literal answer, bad entries refused at start', () => {
    const req = (host: string) => ({ headers: { host } }) as never;
    const listed = corsPolicy('https://app.example.com, http://localhost:*');
    assert.equal(listed.allows('https://app.example.com', req('api:3000')), true);
    assert.equal(listed.allows('https://app.example.com:8443', req('api:3000')), false);
    assert.equal(listed.allows('http://app.example.com', req('api:3000')), false);
    assert.equal(listed.allows('http://localhost:5173', req('api:3000')), true);
    assert.equal(listed.allows('http://localhost.evil.example', req('api:3000')), false);
    assert.equal(listed.allows('http://api:3000', req('api:3000')), true, "the server's own origin");
    assert.equal(listed.any, false);
    const defaults = corsPolicy(undefined);
    assert.equal(defaults.allows('http://localhost:5173', req('api:3000')), true);
    assert.equal(defaults.allows('https://evil.example', req('api:3000')), false);
    assert.equal(corsPolicy('*').any, true);
    assert.throws(() => corsPolicy('localhost:5173'), /not an origin/);
    assert.throws(() => corsPolicy('https://app.example.com/path'), /not an origin/);
  });
});
