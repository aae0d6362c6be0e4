import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { freePort, OwnRedis } from '../../bench/chaos/cluster.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

// The quota store (Redis) goes away: a turn cannot be admitted, and the client is told so in a way
// it can act on — GraphQL UNAVAILABLE with retryAfter, OpenAI 503 service_unavailable with
// Retry-After — instead of INTERNAL; nothing is appended; sends are accepted again once it is back.
// (Quotas fail closed: they are never waived because they cannot be checked.)

describe('the quota store is unreachable', () => {
  let redis: OwnRedis;
  let server: TestServer;
  let token: string;
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }`;
  const submitted = async () => (await server.app.knex.raw(`select count(*)::int as n from parley_events where type = 'MessageSubmitted'`)).rows[0].n as number;

  before(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    server = await startTestServer({ env: { REDIS_URL: redis.url, MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_QUOTAS: 'on' } });
    token = await server.token(alice);
  });
  after(async () => {
    await server?.stop();
    await redis?.kill9();
  });

  it('refuses turns as retryable UNAVAILABLE / 503 while Redis is down, appends nothing, and accepts them once it is back', async () => {
    const gql = graphqlClient(server.url);
    const ok = await gql(token, SEND, { input: { content: 'hello', params: { maxTokens: 2 } } });
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));

    await redis.kill9();
    const before = await submitted();
    const down = await gql(token, SEND, { input: { content: 'hello again', params: { maxTokens: 2 } } });
    assert.equal(down.errors?.[0]?.extensions?.code, 'UNAVAILABLE', JSON.stringify(down.errors));
    assert.equal((down.errors?.[0]?.extensions as { retryAfter?: number }).retryAfter, 1);

    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const error = await openai.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .then(() => null, (e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, 503);
    assert.equal(error.code, 'service_unavailable');
    const headers = error.headers as Headers | Record<string, string> | undefined;
    assert.equal(headers instanceof Headers ? headers.get('retry-after') : headers?.['retry-after'], '1');
    assert.equal(await submitted(), before, 'nothing appended while quotas could not be checked');

    await redis.start();
    let back: Awaited<ReturnType<typeof gql>> | null = null;
    for (let i = 0; i < 100; i++) {
      back = await gql(token, SEND, { input: { content: 'and now?', params: { maxTokens: 2 } } });
      if (!back.errors) break;
      assert.equal(back.errors[0]?.extensions?.code, 'UNAVAILABLE', JSON.stringify(back.errors));
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(back?.errors, undefined, 'accepted again after Redis came back');
  });
});
