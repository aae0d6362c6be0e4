import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import { waitForProjection } from '../../projections/projection-runner.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Admission before work: an over-limit body is refused with a 413 that reaches the client, every
// time, on every route that reads a body — whether the client declared its length or not.

const TWO_MB = Buffer.alloc(2 << 20, 0x61);

// free: 3 requests a minute per user; bulk: room for the concurrency test.
const big = { rpm: 100_000, tpm: 100_000_000, streams: 1000 };
const TIERS = JSON.stringify({ free: { user: { rpm: 3, tpm: 1_000_000, streams: 4 }, tenant: big }, bulk: { priority: 4, user: big, tenant: big } });

const tokenFor = (secret: string, userId: string, tier?: string) =>
  new SignJWT({ tenant: 'acme', roles: ['user'], ...(tier ? { tier } : {}) })
    .setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

// What this user ever appended (the saga and workers append as themselves).
async function appendedBy(server: TestServer, userId: string): Promise<number> {
  const { rows } = await server.app.knex.raw(`select count(*)::int as n from parley_events where metadata->'actor'->>'userId' = ?`, [userId]);
  return rows[0].n;
}

async function tokenizedSoFar(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('parley_openai_prompts_tokenized_total '));
  assert.ok(line, 'the counter is exported');
  return Number(line.split(' ')[1]);
}

async function openAiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

// A raw node:http client: what the status was, or the socket error the client saw instead.
function post(url: string, path: string, token: string | null, chunked: boolean): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': TWO_MB.length }),
      },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    if (chunked) {
      // 32 chunks of 64 KiB: the server sees the limit crossed mid-stream.
      let i = 0;
      const next = () => {
        while (i < 32) {
          const ok = req.write(TWO_MB.subarray(i * 65536, (i + 1) * 65536));
          i++;
          if (!ok) return void req.once('drain', next);
        }
        req.end();
      };
      next();
    } else {
      req.end(TWO_MB);
    }
  });
}

describe('request bodies over the limit', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    // The dev sign-in route reads its switch from the process environment.
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer({ env: { PARLEY_TIERS: TIERS } });
    delete process.env.PARLEY_DEV_LOGIN;
    token = await server.token({ userId: `big-${randomUUID().slice(0, 8)}`, tenantId: 'acme', roles: ['user'] });
  });
  after(async () => server?.stop());

  for (const path of ['/v1/chat/completions', '/graphql', '/graphql/stream', '/auth/dev-login']) {
    it(`${path}: a 2 MB body gets a 413 every time, with and without content-length`, async () => {
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        for (const chunked of [false, true]) {
          const r = await post(server.url, path, token, chunked);
          seen.push('status' in r ? String(r.status) : r.error);
          if ('status' in r && r.status === 413) {
            const body = JSON.parse(r.body) as { error?: { code?: string }; errors?: { extensions?: { code?: string } }[] };
            assert.ok(body.error?.code || body.errors?.[0]?.extensions?.code, r.body);
          }
        }
      }
      assert.deepEqual(seen.filter((s) => s !== '413'), [], `all 40 answered 413: ${seen.join(',')}`);
    });
  }

  it('the server still answers small requests on the same routes afterwards', async () => {
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { userId } }' }),
    });
    assert.equal(r.status, 200);
    assert.match(((await r.json()) as { data: { me: { userId: string } } }).data.me.userId, /^big-/);
    const login = await fetch(`${server.url}/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob' }) });
    assert.equal(login.status, 200);
  });
});

describe('admission before work', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_TIERS: TIERS } });
  });
  after(async () => server?.stop());

  it('OpenAI: a rate-limited user\'s big prompt is refused (429) without being tokenized; an admitted one is tokenized once', async () => {
    const c = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await tokenFor(server.app.secret, 'limited'), maxRetries: 0 });
    const bigPrompt = 'Tell me about the sea. '.repeat(900); // ≈ 20 700 characters: fits by characters, needs tokenizing
    const t0 = await tokenizedSoFar(server);
    await c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hello' }], max_tokens: 1 });
    assert.equal(await tokenizedSoFar(server), t0 + 1, 'an admitted prompt is tokenized (the counter moves)');
    for (let i = 0; i < 2; i++) await c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hello' }], max_tokens: 1 });
    const before = await appendedBy(server, 'limited');
    for (let i = 0; i < 3; i++) {
      const e = await openAiError(c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: bigPrompt }], max_tokens: 1 }));
      assert.equal(e.status, 429);
      assert.equal(e.code, 'rate_limit_exceeded');
    }
    assert.equal(await tokenizedSoFar(server), t0 + 3, 'the refused prompts were never tokenized');
    assert.equal(await appendedBy(server, 'limited'), before, 'nothing appended');
  });

  it('OpenAI: a prompt too long by its characters alone gets 400 context_length_exceeded without tokenizing or charging', async () => {
    const c = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await tokenFor(server.app.secret, 'verbose', 'bulk'), maxRetries: 0 });
    const t0 = await tokenizedSoFar(server);
    const e = await openAiError(c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'x'.repeat(900_000) }], max_tokens: 1 }));
    assert.equal(e.status, 400);
    assert.equal(e.code, 'context_length_exceeded');
    assert.equal(await tokenizedSoFar(server), t0);
    assert.equal(await appendedBy(server, 'verbose'), 0);
  });

  const aliased = (n: number, content = (i: number) => `turn ${i}`) => `mutation { ${Array.from({ length: n }, (_, i) =>
    `t${i}: sendMessage(input: { content: ${JSON.stringify(content(i))}, params: { maxTokens: 1 } }) { conversation { id } generation { id } position }`).join('\n')} }`;

  it('GraphQL: 70 aliased sendMessage on the free tier are refused as a whole; nothing is appended', async () => {
    const gql = graphqlClient(server.url);
    const key = await tokenFor(server.app.secret, 'aliaser');
    const r = await gql(key, aliased(70));
    assert.equal(r.data, null);
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r.errors));
    assert.equal((r.errors![0]!.extensions as Record<string, unknown>).reason, 'TOO_MANY_MUTATIONS');
    // Under the field cap but over the quota (3 a minute): refused as a whole as well.
    const five = await gql(key, aliased(5));
    assert.equal(five.data, null);
    assert.equal(five.errors?.[0]?.extensions?.code, 'RATE_LIMITED', JSON.stringify(five.errors));
    assert.equal((five.errors![0]!.extensions as Record<string, unknown>).limit, 'rpm');
    assert.equal(await appendedBy(server, 'aliaser'), 0, 'no turn was appended');
    // Within the quota: every alias runs and returns its own ids, and the quota is spent.
    const three = await gql(key, aliased(3));
    assert.equal(three.errors, undefined, JSON.stringify(three.errors));
    const ids = [0, 1, 2].map((i) => three.data[`t${i}`].generation.id as string);
    assert.equal(new Set(ids).size, 3);
    assert.equal(await appendedBy(server, 'aliaser'), 6, 'three conversations, three messages');
    const fourth = await gql(key, aliased(1));
    assert.equal(fourth.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
  });

  it('GraphQL: a field that fails reports its own error; the others still return their ids (no data: null)', async () => {
    const gql = graphqlClient(server.url);
    const key = await tokenFor(server.app.secret, 'mixed', 'bulk');
    const r = await gql(key, aliased(3, (i) => (i === 1 ? '' : `turn ${i}`)));
    assert.ok(r.data, JSON.stringify(r));
    assert.ok(r.data.t0.generation.id);
    assert.equal(r.data.t1, null);
    assert.ok(r.data.t2.generation.id);
    assert.deepEqual(r.errors?.map((e) => (e as { path?: string[] }).path?.[0]), ['t1']);
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
  });
});

describe('concurrent sends to one conversation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_TIERS: TIERS } });
  });
  after(async () => server?.stop());

  it('240 sendMessage at once over 4 conversations: none refused, all in history, none duplicated', async () => {
    const gql = graphqlClient(server.url);
    const key = await tokenFor(server.app.secret, 'racer', 'bulk');
    const conversations: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await gql(key, `mutation { sendMessage(input: { content: "start ${i}", params: { maxTokens: 1 } }) { conversation { id } } }`);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      conversations.push(r.data.sendMessage.conversation.id);
    }
    const sends = Array.from({ length: 240 }, (_, i) => ({ conversationId: conversations[i % 4]!, content: `message ${i}` }));
    const results = await Promise.all(sends.map((s) => gql(key, `mutation($c: ID!, $t: String!) { sendMessage(input: { conversationId: $c, content: $t, params: { maxTokens: 1 } }) { generation { id } position } }`, { c: s.conversationId, t: s.content })));
    const errors = results.flatMap((r) => r.errors ?? []);
    assert.deepEqual(errors, [], `${errors.length} of 240 sends failed: ${JSON.stringify(errors.slice(0, 3))}`);
    for (const id of conversations) {
      const events = await server.app.store.readStream(`conversation-${id}`);
      const submitted = events.filter((e) => e.type === 'MessageSubmitted').map((e) => (e.data as { content: string }).content);
      const mine = sends.filter((s) => s.conversationId === id).map((s) => s.content);
      assert.equal(submitted.length, mine.length + 1, 'each send recorded once (plus the first message)');
      assert.deepEqual([...submitted.slice(1)].sort(), [...mine].sort());
    }
    // The history read model shows them all, once each (it may lag under this load: wait for it).
    const head = results.map((x) => x.data.sendMessage.position as string).reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
    for (let i = 0; i < 60 && !(await waitForProjection(server.app.knex, 'history', head)); i++);
    for (const id of conversations) {
      const rows = await server.app.knex('history_messages').where({ conversation_id: id, role: 'user' }).select('id');
      assert.equal(rows.length, 61, `history of ${id}`);
    }
  });
});

// Positions are "<xid>/<seq>".
function comparePositions(a: string, b: string): number {
  const [ax, as] = a.split('/').map(BigInt);
  const [bx, bs] = b.split('/').map(BigInt);
  return ax! !== bx! ? (ax! < bx! ? -1 : 1) : as! === bs! ? 0 : as! < bs! ? -1 : 1;
}
