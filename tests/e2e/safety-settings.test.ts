import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startApp } from '../../bin/app.ts';
import { loadConfig, tenantPolicies } from '../../bin/config.ts';
import type { Actor } from '../../schemas/common.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks } from '../support/sse.ts';

// Tenant "strict" blocks sexual content from LOW up by default, and its users may not lower harassment.
const POLICY = { strict: { defaults: { sexual: 'BLOCK_LOW_AND_ABOVE' }, floors: { harassment: 'BLOCK_MEDIUM_AND_ABOVE' } } };
const sam: Actor = { userId: 'sam', tenantId: 'strict', roles: ['user'] };
// With the shipped rules: harassment at MEDIUM (blocked by default), sexual at LOW (flagged by default).
const INSULT = 'you are an idiot';
const MILD = 'describe sex in detail';

const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { conversation { id } generation { id } } }`;

describe('safety settings per request and per tenant, with floors', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  const t: Record<string, string> = {};
  let openai: OpenAI;

  before(async () => {
    server = await startTestServer({ env: { PARLEY_TENANT_POLICY: JSON.stringify(POLICY) } });
    gql = graphqlClient(server.url);
    t.alice = await server.token(alice);
    t.sam = await server.token(sam);
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: t.alice, maxRetries: 0 });
  });
  after(async () => server?.stop());

  // Sends, waits for the answer, and returns its finish reason and the input decision as recorded.
  async function turn(token: string, content: string, safetySettings?: unknown) {
    const r = await gql(token, SEND, { i: { content, params: { maxTokens: 8 }, ...(safetySettings ? { safetySettings } : {}) } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const chunks = await streamChunks(server.url, token, r.data.sendMessage.generation.id);
    const conversationId = r.data.sendMessage.conversation.id;
    return { finishReason: chunks.at(-1)!.finishReason, ...(await decisions(conversationId, r.data.sendMessage.generation.id)) };
  }
  async function decisions(conversationId: string, generationId: string) {
    const conv = await server.app.store.readStream(`conversation-${conversationId}`);
    const gen = await server.app.store.readStream(`generation-${generationId}`);
    const input = conv.find((e) => e.type === 'SafetyChecked') as any;
    const output = gen.find((e) => e.type === 'SafetyChecked') as any;
    return { started: conv[0] as any, input: input.data, output: output?.data };
  }
  const events = async () => Number((await server.app.knex('parley_events').count({ n: '*' }))[0]!.n);

  it('a request lowers a threshold above the floors; the effective policy is recorded on both decisions', async () => {
    const control = await turn(t.alice!, INSULT);
    assert.equal(control.finishReason, 'content_filter', 'blocked under the defaults');
    assert.equal(control.input.effectivePolicy.thresholds.harassment, 'BLOCK_MEDIUM_AND_ABOVE');

    const lowered = await turn(t.alice!, INSULT, [{ category: 'harassment', threshold: 'BLOCK_ONLY_HIGH' }]);
    assert.notEqual(lowered.finishReason, 'content_filter');
    assert.equal(lowered.input.verdict, 'flagged');
    assert.deepEqual(lowered.started.data.safetySettings, { harassment: 'BLOCK_ONLY_HIGH' });
    const p = lowered.input.effectivePolicy;
    assert.equal(p.thresholds.harassment, 'BLOCK_ONLY_HIGH');
    assert.equal(p.thresholds.sexual_minors, 'BLOCK_LOW_AND_ABOVE');
    assert.equal(p.thresholds.dangerous, 'BLOCK_MEDIUM_AND_ABOVE');
    assert.equal(p.tenantPolicy, false);
    assert.equal(lowered.output.effectivePolicy.thresholds.harassment, 'BLOCK_ONLY_HIGH', 'the output filter ran under the same thresholds');
  });

  it('a tenant\'s defaults apply to its users only, and its floors refuse a lower request', async () => {
    const strict = await turn(t.sam!, MILD);
    assert.equal(strict.finishReason, 'content_filter');
    assert.equal(strict.input.effectivePolicy.thresholds.sexual, 'BLOCK_LOW_AND_ABOVE');
    assert.equal(strict.input.effectivePolicy.tenantPolicy, true);
    const elsewhere = await turn(t.alice!, MILD);
    assert.notEqual(elsewhere.finishReason, 'content_filter', 'another tenant keeps the platform default');
    assert.equal(elsewhere.input.effectivePolicy.thresholds.sexual, 'BLOCK_MEDIUM_AND_ABOVE');

    const before = await events();
    const r = await gql(t.sam!, SEND, { i: { content: 'hi', safetySettings: [{ category: 'harassment', threshold: 'BLOCK_ONLY_HIGH' }] } });
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(r.errors?.[0]?.extensions?.field, 'input.safetySettings.harassment');
    assert.match(r.errors![0]!.message, /harassment/);
    assert.equal(await events(), before, 'nothing appended');
  });

  it('nobody lowers the platform floors (sexual_minors, dangerous): GraphQL and OpenAI refuse naming the category', async () => {
    const before = await events();
    for (const [category, threshold] of [['sexual_minors', 'BLOCK_ONLY_HIGH'], ['dangerous', 'BLOCK_NONE']]) {
      const g = await gql(t.alice!, SEND, { i: { content: 'hi', safetySettings: [{ category, threshold }] } });
      assert.equal(g.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(g.errors?.[0]?.extensions?.field, `input.safetySettings.${category}`);
      const s = await gql(t.alice!, `mutation($i: StartConversationInput!) { startConversation(input: $i) { position } }`, { i: { safetySettings: [{ category, threshold }] } });
      assert.equal(s.errors?.[0]?.extensions?.field, `input.safetySettings.${category}`);
      const error = await openai.chat.completions.create({
        model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], safety_settings: { [category]: threshold },
      } as never).then(() => null, (e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError, `OpenAI refuses ${category}`);
      assert.equal(error.status, 400);
      assert.equal(error.param, `safety_settings.${category}`);
      assert.equal(error.code, 'safety_floor');
      assert.match(error.message, new RegExp(category));
    }
    // Gemini's category names say the same.
    const gemini = await openai.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }],
      safety_settings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_NONE' }],
    } as never).then(() => null, (e: unknown) => e);
    assert.equal((gemini as InstanceType<typeof OpenAI.APIError>).param, 'safety_settings.dangerous');
    assert.equal(await events(), before, 'nothing appended for a refused request');
  });

  it('the OpenAI endpoint applies safety_settings, and refuses malformed ones', async () => {
    const lowered = await openai.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'user', content: INSULT }], max_tokens: 8, safety_settings: { harassment: 'BLOCK_ONLY_HIGH' },
    } as never) as OpenAI.ChatCompletion;
    assert.notEqual(lowered.choices[0]!.finish_reason, 'content_filter');
    const blocked = await openai.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: INSULT }], max_tokens: 8 });
    assert.equal(blocked.choices[0]!.finish_reason, 'content_filter');

    const bad = async (safety_settings: unknown, param: string) => {
      const e = await openai.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], safety_settings } as never).then(() => null, (x: unknown) => x);
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 400);
      assert.equal(e.param, param);
    };
    await bad({ violence: 'BLOCK_NONE' }, 'safety_settings.violence');
    await bad({ hate: 'BLOCK_SOME' }, 'safety_settings.hate');
    await bad([{ category: 'hate' }], 'safety_settings.0.threshold');
    await bad('strict', 'safety_settings');
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${t.alice}`, 'content-type': 'application/json', 'x-parley-conversation': 'c1' },
      body: JSON.stringify({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], safety_settings: { hate: 'BLOCK_ONLY_HIGH' } }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.param, 'safety_settings');
    const g = await gql(t.alice!, SEND, { i: { conversationId: 'c1', content: 'hi', safetySettings: [{ category: 'hate', threshold: 'BLOCK_ONLY_HIGH' }] } });
    assert.equal(g.errors?.[0]?.extensions?.field, 'input.safetySettings');
  });

  it('refuses a malformed PARLEY_TENANT_POLICY before anything starts, and reads one from a file', async () => {
    const start = (value: string) => startApp(loadConfig({ PARLEY_TENANT_POLICY: value, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }), ['api']);
    await assert.rejects(start(JSON.stringify({ acme: { defaults: { violence: 'BLOCK_NONE' } } })), /invalid PARLEY_TENANT_POLICY: acme\.defaults: Unrecognized key: "violence"/);
    await assert.rejects(start(JSON.stringify({ acme: { floors: { hate: 'BLOCK_SOME' } } })), /invalid PARLEY_TENANT_POLICY: acme\.floors\.hate/);
    await assert.rejects(start('/nonexistent/policy.json'), /PARLEY_TENANT_POLICY must be JSON or the path of a JSON file/);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-policy-')), 'policy.json');
    writeFileSync(file, JSON.stringify(POLICY));
    assert.deepEqual(tenantPolicies(loadConfig({ PARLEY_TENANT_POLICY: file })), POLICY);
  });
});
