import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';

// Issue 17: a client opts one turn out of prompt-lookup speculative decoding — GraphQL's
// `params.speculative: false`, /v1's `parley_speculative: false`. What the client sees: the same
// greedy text, and /metrics' draft-token counter does not move for it (it does for the same turn
// without the opt-out). A "repeat that" turn on the shipped model copies text from its prompt, so
// prompt lookup finds drafts for it.
const REPEAT = [
  { role: 'user', content: 'What is the capital of Chile?' },
  { role: 'assistant', content: 'The capital of Chile is Santiago.' },
  { role: 'user', content: 'Can you repeat that?' },
];

describe('per-request opt-out of speculative decoding', () => {
  let server: TestServer;
  let token: string;
  let gql: ReturnType<typeof graphqlClient>;
  before(async () => {
    server = await startTestServer();
    token = await server.token(alice);
    gql = graphqlClient(server.url);
  });
  after(async () => server?.stop());

  const drafted = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l.startsWith('vllm:spec_decode_num_draft_tokens_total'));
    return lines.reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };
  const chat = (extra: Record<string, unknown>) => fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model: 'parley-tiny', messages: REPEAT, temperature: 0, max_tokens: 24, ...extra }),
  });
  const answer = async (extra: Record<string, unknown>) => {
    const res = await chat(extra);
    assert.equal(res.status, 200);
    return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  };

  it('/v1/chat/completions: parley_speculative false drafts nothing and answers the same text', async () => {
    const before = await drafted();
    const off = await answer({ parley_speculative: false });
    assert.equal(await drafted(), before, 'no draft tokens for the opted-out request');
    const on = await answer({});
    assert.ok((await drafted()) > before, 'the same request drafts without the opt-out');
    assert.equal(off, on);
    assert.match(off, /Santiago/);
  });

  it('/v1/chat/completions: a non-boolean parley_speculative is a 400 naming it', async () => {
    const res = await chat({ parley_speculative: 'no' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { param: string; type: string } };
    assert.equal(body.error.param, 'parley_speculative');
    assert.equal(body.error.type, 'invalid_request_error');
    // /v1/responses reads its sampling through the chat request's schema: the same 400
    const resp = await fetch(`${server.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'parley-tiny', input: 'hi', parley_speculative: 1 }),
    });
    assert.equal(resp.status, 400);
    assert.equal(((await resp.json()) as { error: { param: string } }).error.param, 'parley_speculative');
  });

  const SEND = `mutation($p: SamplingInput) { sendMessage(input: { content: "Say this back to me: The capital of Chile is Santiago.", params: $p }) { generation { id } } }`;
  const completed = async (id: string) => until(`generation ${id}`, async () => {
    const r = await gql(token, `query($id: ID!) { generation(id: $id) { status content } }`, { id });
    const g = r.data?.generation as { status: string; content: string } | null;
    return g && g.status !== 'pending' && g.status !== 'streaming' ? g : null;
  });

  it('GraphQL sendMessage: params.speculative false drafts nothing and answers the same text', async () => {
    const before = await drafted();
    const off = await gql(token, SEND, { p: { temperature: 0, maxTokens: 24, speculative: false } });
    assert.equal(off.errors, undefined, JSON.stringify(off.errors));
    const offGen = await completed(off.data.sendMessage.generation.id);
    assert.equal(offGen.status, 'completed');
    assert.equal(await drafted(), before, 'no draft tokens for the opted-out turn');
    const on = await gql(token, SEND, { p: { temperature: 0, maxTokens: 24 } });
    const onGen = await completed(on.data.sendMessage.generation.id);
    assert.ok((await drafted()) > before, 'the same turn drafts without the opt-out');
    assert.equal(offGen.content, onGen.content);
  });

  it('GraphQL: a non-boolean speculative is BAD_USER_INPUT', async () => {
    const r = await gql(token, SEND, { p: { speculative: 'no' } });
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const inline = await gql(token, `mutation { sendMessage(input: { content: "hi", params: { speculative: 3 } }) { generation { id } } }`);
    assert.equal(inline.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(inline.errors));
    assert.match(inline.errors![0]!.message, /Boolean cannot represent/);
    assert.equal(inline.data?.sendMessage ?? null, null);
  });
});
