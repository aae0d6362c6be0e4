import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import OpenAI from 'openai';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

const tokenFor = (secret: string, userId: string, tenantId: string, tier?: string) =>
  new SignJWT({ tenant: tenantId, roles: ['user'], ...(tier ? { tier } : {}) })
    .setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setIssuedAt().setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

// A small engine (2 sequences) with low watermarks: 1 queued job → brownout, 3 → the free tier is shed.
describe('load shedding and brownout on a saturated small engine', () => {
  let server: TestServer;
  const tenant = `ts-${randomUUID().slice(0, 8)}`;
  const open: AsyncIterator<unknown>[] = [];
  before(async () => {
    server = await startTestServer({
      env: {
        MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_MAX_SEQS: '2',
        PARLEY_BROWNOUT_QUEUE_DEPTH: '1', PARLEY_SHED_QUEUE_DEPTH: '3', PARLEY_BROWNOUT_MAX_TOKENS: '16', PARLEY_SHED_RETRY_AFTER_S: '2',
      },
    });
  });
  after(async () => {
    for (const it of open) await it.return?.().catch(() => undefined);
    await server?.stop();
  });

  const clientOf = async (user: string, tier?: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await tokenFor(server.app.secret, user, tenant, tier), maxRetries: 0 });
  const requestOf = async (generationId: string): Promise<RecordedEvent> => {
    for (let i = 0; i < 100; i++) {
      const first = (await server.app.store.readStream(`generation-${generationId}`, { limit: 1 }))[0];
      if (first?.type === 'GenerationRequested') return first;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no GenerationRequested');
  };
  const startStream = async (c: OpenAI, max_tokens: number) => {
    // Greedy, the random-weight model answers "talk" with 2265 tokens: these run to max_tokens.
    const s = await c.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], stream: true, max_tokens, temperature: 0 });
    const it = s[Symbol.asyncIterator]();
    open.push(it);
    const first = await it.next();
    return (first.value as { id: string }).id.slice('chatcmpl-'.length);
  };

  it('idle: max_tokens as asked, no brownout', async () => {
    const free = await clientOf('f0');
    const r = await free.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], max_tokens: 40, temperature: 0 });
    assert.equal(r.usage!.completion_tokens, 40);
    const req = await requestOf(r.id.slice('chatcmpl-'.length));
    assert.ok(req.type === 'GenerationRequested' && !req.data.brownout && req.data.params.maxTokens === 40 && req.data.priority === 0);
  });

  it('overloaded: the free tier gets 503 + Retry-After, a paid request is admitted with max_tokens capped and brownout recorded', async () => {
    const premium = await clientOf('p1', 'premium');
    // Sixteen long answers at once on a 2-sequence engine: 2 run, 14 wait for the engine. (With ten,
    // the random model's answers that end early drained the queue below the shed watermark at times.)
    const ids = await Promise.all(Array.from({ length: 16 }, () => startStream(premium, 2000)));
    // Turns waiting: unclaimed jobs plus requests waiting inside the engine (the worker may claim ahead).
    const depth = async () => (await server.app.jobs.depth()).queued + server.app.engine!.stats().waiting;
    for (let i = 0; i < 200 && (await depth()) < 5; i++) await new Promise((r) => setTimeout(r, 100));
    const first = await requestOf(ids[0]!);
    assert.ok(first.type === 'GenerationRequested' && first.data.priority === 8, 'the tier\'s priority reaches the job');
    assert.ok((await depth()) >= 3, JSON.stringify({ queued: (await server.app.jobs.depth()).queued, engine: server.app.engine!.stats() }));
    await new Promise((r) => setTimeout(r, 300)); // the admission's cached view of the load refreshes

    const free = await clientOf('f1');
    try {
      await free.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 40 });
      assert.fail('the free tier should be shed');
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 503);
      assert.equal(error.code, 'overloaded');
      assert.equal(error.headers!.get('retry-after'), '2');
    }
    const { rows } = await server.app.knex.raw(`select count(*)::int as n from parley_events where metadata->'actor'->>'userId' = 'f1'`);
    assert.equal(rows[0].n, 0, 'nothing appended for the shed request');

    const paid = await clientOf('q1', 'paid');
    const paidId = await startStream(paid, 400);
    const req = await requestOf(paidId);
    assert.ok(req.type === 'GenerationRequested');
    assert.equal(req.data.brownout, true);
    assert.equal(req.data.params.maxTokens, 16, 'max_tokens capped by the brownout');
    assert.equal(req.data.priority, 4);

    // GraphQL turns get the same treatment.
    const gql = graphqlClient(server.url);
    const shed = await gql(await tokenFor(server.app.secret, 'f2', tenant), `mutation { sendMessage(input: { content: "hi", params: { maxTokens: 50 } }) { generation { id } } }`);
    assert.equal(shed.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal((shed.errors![0]!.extensions as Record<string, unknown>).reason, 'OVERLOADED');
    const ok = await gql(await tokenFor(server.app.secret, 'q2', tenant, 'paid'), `mutation { sendMessage(input: { content: "hi", params: { maxTokens: 50 } }) { generation { id } } }`);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    const viaGraphql = await requestOf(ok.data.sendMessage.generation.id);
    assert.ok(viaGraphql.type === 'GenerationRequested' && viaGraphql.data.brownout && viaGraphql.data.params.maxTokens === 16);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^parley_load_shed_total\{tier="free"\} 2$/m);
    assert.match(metrics, /^parley_brownout_admissions_total\{tier="paid"\} 2$/m);
  });
});

// The KV-usage watermarks on their own (queue-depth watermarks out of reach).
describe('load shedding by KV cache usage', () => {
  let server: TestServer;
  const tenant = `tk-${randomUUID().slice(0, 8)}`;
  let open: AsyncIterator<unknown> | null = null;
  before(async () => {
    server = await startTestServer({
      env: {
        MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_MAX_SEQS: '2', PARLEY_BROWNOUT_KV_USAGE: '0.01', PARLEY_SHED_KV_USAGE: '0.03', PARLEY_BROWNOUT_QUEUE_DEPTH: '1000', PARLEY_SHED_QUEUE_DEPTH: '2000',
        PARLEY_BROWNOUT_MAX_TOKENS: '16',
      },
    });
  });
  after(async () => {
    await open?.return?.().catch(() => undefined);
    await server?.stop();
  });

  it('above the KV marks: the free tier is shed, the paid tier browned out', async () => {
    const clientOf = async (user: string, tier?: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await tokenFor(server.app.secret, user, tenant, tier), maxRetries: 0 });
    const premium = await clientOf('kp', 'premium');
    const s = await premium.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], stream: true, max_tokens: 2000, temperature: 0 });
    open = s[Symbol.asyncIterator]();
    await open.next();
    for (let i = 0; i < 200 && server.app.engine!.stats().kvUsage < 0.04; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.app.engine!.stats().kvUsage >= 0.04, `KV usage ${server.app.engine!.stats().kvUsage}`);
    await new Promise((r) => setTimeout(r, 300));
    const free = await clientOf('kf');
    await assert.rejects(free.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 }), (e: unknown) => (e as { status?: number }).status === 503);
    const paid = await clientOf('kq', 'paid');
    const r = await paid.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], max_tokens: 100, temperature: 0 });
    assert.equal(r.usage!.completion_tokens, 16, 'max_tokens capped by the brownout');
    assert.equal(r.choices[0]!.finish_reason, 'length');
  });
});
