// /v1/embeddings is admitted like chat: a user over their tier's requests-per-minute gets OpenAI's
// 429 (rate_limit_exceeded, retry-after), which the official client surfaces as RateLimitError.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startTestServer, type TestServer } from '../support/server.ts';

const big = { rpm: 100_000, tpm: 100_000_000, streams: 1000 };
const TIERS = JSON.stringify({ free: { user: { rpm: 2, tpm: 1_000_000, streams: 4 }, tenant: big } });
let server: TestServer;
before(async () => { server = await startTestServer({ env: { PARLEY_TIERS: TIERS } }); });
after(() => server?.stop());

test('the third embeddings request in a minute is refused with 429 and retry-after', async () => {
  const openai = new OpenAI({ apiKey: await server.token({ userId: 'quinn', tenantId: 'acme', roles: ['user'] }), baseURL: `${server.url}/v1`, maxRetries: 0 });
  await openai.embeddings.create({ model: 'parley-embed', input: 'one' });
  await openai.embeddings.create({ model: 'parley-embed', input: 'two' });
  await assert.rejects(openai.embeddings.create({ model: 'parley-embed', input: 'three' }), (e: any) => {
    assert.equal(e.status, 429);
    assert.equal(e.code, 'rate_limit_exceeded');
    assert.ok(Number(e.headers.get('retry-after')) > 0);
    return true;
  });
});
