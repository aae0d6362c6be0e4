import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../read-api/auth.ts';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';

// A blocked input is answered with a canned refusal the model never generated. The client is told
// (and the quota charged, and the usage read model counts) what was read — the message's tokens —
// and no completion tokens. Before: prompt_tokens 0 and the refusal's 43 tokens as completion,
// charged to the user's token quota.
const BLOCKED = 'You are a worthless piece of garbage and everyone hates you.';
const big = { rpm: 10_000, tpm: 10_000_000, streams: 1000 };
// 180 tokens a minute (3/s refill), each turn reserving ~29 (estimate + max_tokens): six blocked
// turns fit when each is charged its message's 26 prompt tokens; charged the refusal's 43, not.
const TIERS = JSON.stringify({ tight: { priority: 2, user: { rpm: 100, tpm: 180, streams: 8 }, tenant: big } });

describe('usage and quota of a blocked input', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_TIERS: TIERS } });
    token = await signToken(server.app.secret, alice, '1h', 'tight');
  });
  after(async () => server?.stop());

  const chat = () => fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model: 'parley-tiny', messages: [{ role: 'user', content: BLOCKED }], max_tokens: 3 }),
  });

  it('/v1 reports the message read as prompt tokens and no completion tokens; the quota and usage agree', async () => {
    const messageTokens = loadModel(SHIPPED_MODEL_DIR).tokenizer.encode(BLOCKED).length;
    const res = await chat();
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: { finish_reason: string; message: { content: string } }[]; usage: Record<string, number> };
    assert.equal(body.choices[0]!.finish_reason, 'content_filter');
    assert.ok(body.choices[0]!.message.content.length > 0, 'the refusal is still the answer');
    assert.deepEqual(body.usage, { prompt_tokens: messageTokens, completion_tokens: 0, total_tokens: messageTokens });

    // The quota is charged what usage says: more blocked turns fit in 180 tokens a minute.
    for (let i = 0; i < 5; i++) {
      const again = await chat();
      assert.equal(again.status, 200, `blocked turn ${i + 2} admitted: ${await again.text()}`);
    }

    // The usage the user reads counts the same: 6 requests, prompt tokens only.
    const gql = graphqlClient(server.url);
    const day = await until('usage projected', async () => {
      const r = await gql(token, '{ usage { requests promptTokens completionTokens } }');
      const d = r.data?.usage?.[0] as { requests: number; promptTokens: number; completionTokens: number } | undefined;
      return d && d.requests === 6 ? d : null;
    });
    assert.deepEqual(day, { requests: 6, promptTokens: 6 * messageTokens, completionTokens: 0 });
  });
});
