import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import { REDIS_URL, requireRedis } from '../support/redis.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';


// Small limits so a test reaches them. `team` has a tight tenant limit, `tpmtest` a tight token budget.
const big = { rpm: 10_000, tpm: 10_000_000, streams: 1000 };
const TIERS = JSON.stringify({
  free: { user: { rpm: 3, tpm: 1_000_000, streams: 1 }, tenant: big },
  paid: { user: { rpm: 100, tpm: 1_000_000, streams: 8 }, tenant: big },
  team: { priority: 2, user: { rpm: 100, tpm: 1_000_000, streams: 8 }, tenant: { rpm: 4, tpm: 1_000_000, streams: 100 } },
  tpmtest: { priority: 2, user: { rpm: 100, tpm: 600, streams: 8 }, tenant: big },
});

const tokenFor = (secret: string, userId: string, tenantId: string, tier?: string) =>
  new SignJWT({ tenant: tenantId, roles: ['user'], ...(tier ? { tier } : {}) })
    .setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

const clientFor = (server: TestServer, apiKey: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
const ask = (c: OpenAI, max_tokens = 2) => c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hello' }], max_tokens });

async function rejected(p: Promise<unknown>) {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

// What this user ever appended (the saga and workers append as themselves).
async function appendedBy(server: TestServer, userId: string): Promise<number> {
  const { rows } = await server.app.knex.raw(`select count(*)::int as n from parley_events where metadata->'actor'->>'userId' = ?`, [userId]);
  return rows[0].n;
}

describe('quotas (in-process limiter)', () => {
  let server: TestServer;
  const tenant = `tq-${randomUUID().slice(0, 8)}`;
  before(async () => {
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_TIERS: TIERS } });
  });
  after(async () => server?.stop());

  it('requests per minute: 429 with retry-after on the OpenAI endpoint, RATE_LIMITED with retryAfter on GraphQL; nothing appended', async () => {
    const key = await tokenFor(server.app.secret, 'u1', tenant);
    const c = clientFor(server, key);
    for (let i = 0; i < 3; i++) await ask(c);
    const before = await appendedBy(server, 'u1');
    const e = await rejected(ask(c));
    assert.equal(e.status, 429);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.equal(e.type, 'requests');
    const retryAfter = Number(e.headers!.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 20, String(retryAfter));

    const gql = graphqlClient(server.url);
    const r = await gql(key, `mutation { sendMessage(input: { content: "hi", params: { maxTokens: 2 } }) { generation { id } } }`);
    assert.equal(r.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    const ext = r.errors![0]!.extensions as Record<string, unknown>;
    assert.ok(Number(ext.retryAfter) >= 1, JSON.stringify(ext));
    assert.equal(ext.limit, 'rpm');
    assert.equal(await appendedBy(server, 'u1'), before, 'nothing appended for refused requests');

    // A paid user of the same tenant has more room.
    const paid = clientFor(server, await tokenFor(server.app.secret, 'u1-paid', tenant, 'paid'));
    for (let i = 0; i < 5; i++) await ask(paid, 1);
  });

  it('concurrent streams: the second stream is refused while the first runs, admitted once it ends', async () => {
    const c = clientFor(server, await tokenFor(server.app.secret, 'u2', tenant));
    const stream = await c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], stream: true, max_tokens: 2000, temperature: 0 });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    const e = await rejected(ask(c));
    assert.equal(e.status, 429);
    assert.equal(e.type, 'concurrent_streams');
    await it.return!(); // abort: the generation is cancelled and the slot freed
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await ask(c).then(() => true, (err) => { if ((err as { status?: number }).status !== 429) throw err; return false; });
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ok, 'admitted again after the first stream ended');
  });

  it('tokens per minute: max_tokens is reserved up front; what an aborted stream did not use is refunded', async () => {
    const c = clientFor(server, await tokenFor(server.app.secret, 'u3', tenant, 'tpmtest'));
    const open = async () => {
      const s = await c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], stream: true, max_tokens: 500, temperature: 0 });
      const it = s[Symbol.asyncIterator]();
      await it.next();
      return it;
    };
    const first = await open();
    const e = await rejected(ask(c, 300)); // 600 − (prompt + 500) left: not enough for 300
    assert.equal(e.status, 429);
    assert.equal(e.type, 'tokens');
    await first.return!();
    // Charged only prompt + the few tokens produced: the rest comes back at once (refill alone is 10 tokens/s).
    let second: Awaited<ReturnType<typeof open>> | null = null;
    for (let i = 0; i < 30 && !second; i++) {
      second = await open().catch((err) => { if ((err as { status?: number }).status !== 429) throw err; return null; });
      if (!second) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(second, 'the refund admitted a second 500-token request within 3 s');
    await second.return!();
  });

  it('GraphQL turns: tokens reserved by maxTokens, settled from the completed generation\'s usage', async () => {
    const key = await tokenFor(server.app.secret, 'u4', tenant, 'tpmtest');
    const gql = graphqlClient(server.url);
    const send = (maxTokens: number) => gql(key, `mutation($p: SamplingInput) { sendMessage(input: { content: "Write a long poem", params: $p }) { generation { id } } }`, { p: { maxTokens, temperature: 0 } });
    const first = await send(500); // greedy, this answer ends after 200 tokens
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    const refused = await send(300);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal((refused.errors![0]!.extensions as Record<string, unknown>).limit, 'tpm');
    const id = first.data.sendMessage.generation.id as string;
    for (let i = 0; i < 200 && !(await server.app.store.readStream(`generation-${id}`)).some((e) => e.type === 'GenerationCompleted'); i++) await new Promise((r) => setTimeout(r, 50));
    let admitted = false;
    for (let i = 0; i < 20 && !admitted; i++) {
      const r = await send(300);
      admitted = !r.errors;
      if (!admitted) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(admitted, 'the unused reservation came back when the generation completed (refill alone needs ~20 s)');
  });

  it('per tenant: users of one tenant share its budget', async () => {
    const t = `tt-${randomUUID().slice(0, 8)}`;
    const a = clientFor(server, await tokenFor(server.app.secret, 'ta', t, 'team'));
    const b = clientFor(server, await tokenFor(server.app.secret, 'tb', t, 'team'));
    for (let i = 0; i < 3; i++) await ask(a, 1);
    await ask(b, 1);
    const e = await rejected(ask(b, 1));
    assert.equal(e.status, 429);
    assert.match(e.message, /tenant/);
  });
});

describe('quotas shared through Redis by two API processes', () => {
  let one: TestServer;
  let two: TestServer;
  before(async () => {
    await requireRedis();
    const env = { REDIS_URL, PARLEY_TIERS: TIERS, PARLEY_JWT_SECRET: 'a-shared-secret-of-at-least-32-characters!' };
    [one, two] = await Promise.all([startTestServer({ env }), startTestServer({ env })]);
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
  });

  it('the requests-per-minute budget is one, whichever process answers', async () => {
    const key = await tokenFor(one.app.secret, 'r1', `tr-${randomUUID().slice(0, 8)}`);
    await ask(clientFor(one, key));
    await ask(clientFor(two, key));
    await ask(clientFor(one, key));
    for (const s of [two, one]) {
      const e = await rejected(ask(clientFor(s, key)));
      assert.equal(e.status, 429);
      assert.ok(Number(e.headers!.get('retry-after')) >= 1);
    }
    const r = await graphqlClient(two.url)(key, `mutation { sendMessage(input: { content: "hi" }) { generation { id } } }`);
    assert.equal(r.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(await appendedBy(two, 'r1'), 2, 'only the admitted turn on this process was appended (StartConversation + SubmitMessage)');
    const ready = await (await fetch(`${one.url}/readyz`)).json() as { checks: Record<string, { ok: boolean }> };
    assert.equal(ready.checks.redis?.ok, true, 'readiness checks Redis when it is configured');
  });
});
