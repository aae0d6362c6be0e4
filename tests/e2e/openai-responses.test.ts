import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import type { Actor } from '../../schemas/common.ts';
import { alice, bob } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// OpenAI's Responses API, through the official `openai` client and the Vercel AI SDK's default
// provider (`openai('parley-tiny')` calls POST /v1/responses), unmodified, against a real server.
// The shipped model may end an answer early or at max_output_tokens: every assertion compares what
// the client saw with what the generation's events recorded, never a fixed text or length.
describe('OpenAI Responses API', () => {
  let server: TestServer;
  let client: OpenAI;
  const otherTenant: Actor = { userId: 'alice', tenantId: 't2', roles: ['user'] };

  before(async () => {
    server = await startTestServer({ env: { PARLEY_MODEL: 'parley-tiny', PARLEY_SSE_KEEPALIVE_MS: '100' } });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(alice), maxRetries: 0 });
  });
  after(async () => {
    await server?.stop();
  });

  const events = (stream: string) => server.app.store.readStream(stream);
  const generationOf = (responseId: string) => responseId.replace(/^resp_/, '');
  // What the generation recorded: its text (latest attempt), finish reason and usage.
  async function recorded(generationId: string) {
    const gen = await events(`generation-${generationId}`);
    const tokens = gen.filter((e) => e.type === 'TokensGenerated');
    const lastAttempt = Math.max(0, ...tokens.map((e) => (e.type === 'TokensGenerated' ? e.data.attempt : 0)));
    const text = tokens.map((e) => (e.type === 'TokensGenerated' && e.data.attempt === lastAttempt ? e.data.text : '')).join('');
    const completed = gen.find((e) => e.type === 'GenerationCompleted');
    assert.ok(completed?.type === 'GenerationCompleted', 'the generation completed');
    const requested = gen.find((e) => e.type === 'GenerationRequested');
    assert.ok(requested?.type === 'GenerationRequested');
    return { text, finish: completed.data.finishReason, usage: completed.data.usage, requested: requested.data };
  }
  const statusOf = (finish: string) => (finish === 'stop' ? 'completed' : 'incomplete');
  async function apiError(p: Promise<unknown>) {
    try {
      await p;
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      return error;
    }
    assert.fail('expected an API error');
  }

  it('non-streamed: a response object, recorded as a turn with its instructions and parameters', async () => {
    const raw = await client.responses.create({
      model: 'parley-tiny', instructions: 'You are terse.', input: 'Hello there', max_output_tokens: 12, temperature: 0, top_p: 0.9,
    }).withResponse();
    const r = raw.data;
    assert.equal(r.object, 'response');
    assert.match(r.id, /^resp_/);
    const generationId = generationOf(r.id);
    assert.equal(raw.response.headers.get('x-parley-generation'), generationId);
    const { text, finish, usage, requested } = await recorded(generationId);
    assert.equal(r.status, statusOf(finish));
    if (finish === 'length') assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.output_text, text);
    assert.equal(r.output.length, 1);
    const item = r.output[0]!;
    assert.ok(item.type === 'message' && item.role === 'assistant' && item.content[0]?.type === 'output_text');
    assert.deepEqual(r.usage && [r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens], [usage.promptTokens, usage.completionTokens, usage.promptTokens + usage.completionTokens]);
    assert.deepEqual([r.instructions, r.max_output_tokens, r.temperature, r.top_p, r.model], ['You are terse.', 12, 0, 0.9, 'parley-tiny']);
    // The same commands as any turn: the instructions are the new conversation's system prompt.
    assert.deepEqual([requested.params.maxTokens, requested.params.temperature, requested.params.topP], [12, 0, 0.9]);
    const conv = await events(`conversation-${raw.response.headers.get('x-parley-conversation')}`);
    const started = conv.find((e) => e.type === 'ConversationStarted');
    assert.ok(started?.type === 'ConversationStarted' && started.data.systemPrompt === 'You are terse.');
    const submitted = conv.find((e) => e.type === 'MessageSubmitted');
    assert.ok(submitted?.type === 'MessageSubmitted' && submitted.data.content === 'Hello there' && submitted.data.generationId === generationId);
  });

  it('streamed: the semantic events in order with contiguous sequence numbers, and retrieve() reads the same response back', async () => {
    const stream = await client.responses.create({
      model: 'parley-tiny', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Tell me about the sea.' }] }], max_output_tokens: 24, stream: true,
    });
    const seen: { type: string; sequence_number: number; [k: string]: unknown }[] = [];
    for await (const event of stream) seen.push(event as never);
    assert.deepEqual(seen.map((e) => e.sequence_number), seen.map((_, i) => i));
    const types = seen.map((e) => e.type);
    const deltas = seen.filter((e) => e.type === 'response.output_text.delta');
    const last = seen.at(-1)!;
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(4, 4 + deltas.length), deltas.map(() => 'response.output_text.delta'));
    assert.deepEqual(types.slice(4 + deltas.length, -1), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done']);
    assert.equal(types.length, 8 + deltas.length);

    const response = (last as unknown as { response: OpenAI.Responses.Response }).response;
    const { text, finish, usage } = await recorded(generationOf(response.id));
    assert.equal(last.type, finish === 'stop' ? 'response.completed' : 'response.incomplete');
    assert.equal(deltas.map((e) => e.delta).join(''), text);
    assert.ok(deltas.every((e) => e.delta !== ''), 'no empty deltas');
    assert.equal((seen.find((e) => e.type === 'response.output_text.done') as unknown as { text: string }).text, text);
    assert.equal(response.status, statusOf(finish));
    assert.equal(response.usage!.output_tokens, usage.completionTokens);

    const again = await client.responses.retrieve(response.id);
    assert.deepEqual([again.id, again.status, again.output_text, again.usage!.output_tokens, again.max_output_tokens], [response.id, response.status, text, usage.completionTokens, 24]);
  });

  it('previous_response_id continues that response\'s conversation, from that response (a later one branches)', async () => {
    const first = await client.responses.create({ model: 'parley-tiny', input: 'First question', max_output_tokens: 8 }).withResponse();
    const conversationId = first.response.headers.get('x-parley-conversation')!;
    const second = await client.responses.create({ model: 'parley-tiny', input: 'Second question', previous_response_id: first.data.id, max_output_tokens: 8 }).withResponse();
    assert.equal(second.response.headers.get('x-parley-conversation'), conversationId);
    assert.equal(second.data.previous_response_id, first.data.id);
    // Again from the first response: a branch beside the second.
    const branch = await client.responses.create({ model: 'parley-tiny', input: 'Another second question', previous_response_id: first.data.id, max_output_tokens: 8 }).withResponse();
    assert.equal(branch.response.headers.get('x-parley-conversation'), conversationId);

    const messages = (await events(`conversation-${conversationId}`)).flatMap((e) => (e.type === 'MessageSubmitted' ? [e.data] : []));
    assert.deepEqual(messages.map((m) => [m.content, m.parentMessageId]), [['First question', null], ['Second question', null], ['Another second question', messages[1]!.messageId]]);
    // What each answer was given as context: the branch saw the first turn, not the second.
    const context = async (id: string) => (await recorded(generationOf(id))).requested.context.includedMessageIds;
    assert.deepEqual(await context(second.data.id), [messages[0]!.messageId, messages[1]!.messageId]);
    assert.deepEqual(await context(branch.data.id), [messages[0]!.messageId, messages[2]!.messageId]);
  });

  it('is tenant-scoped: another tenant\'s or an unknown response id is a 404 in OpenAI\'s shape', async () => {
    const mine = await client.responses.create({ model: 'parley-tiny', input: 'Private', max_output_tokens: 4 });
    const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(otherTenant), maxRetries: 0 });
    const calls = [() => stranger.responses.retrieve(mine.id), () => stranger.responses.cancel(mine.id), () => client.responses.retrieve('resp_nothing-here'), () => client.responses.retrieve('not-a-response')];
    for (const call of calls) {
      const error = await apiError(call());
      assert.equal(error.status, 404);
      assert.equal((error.error as { code: string }).code, 'response_not_found');
      assert.equal(error.type, 'invalid_request_error');
    }
    const foreign = await apiError(stranger.responses.create({ model: 'parley-tiny', input: 'Hi', previous_response_id: mine.id }));
    assert.deepEqual([foreign.status, foreign.code, foreign.param], [404, 'previous_response_not_found', 'previous_response_id']);
    // Another user of the same tenant is a stranger too (admins aside).
    const sameTenant = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(bob), maxRetries: 0 });
    assert.equal((await apiError(sameTenant.responses.retrieve(mine.id))).status, 404);
    // Nothing was recorded for the refused continuation.
    assert.equal((await events(`conversation-${(await recorded(generationOf(mine.id))).requested.conversationId}`)).filter((e) => e.type === 'MessageSubmitted').length, 1);
  });

  it('refuses what it cannot do with a 400 naming the parameter; unknown routes and methods under /v1 answer in OpenAI\'s shape', async () => {
    const refused = async (body: Record<string, unknown>) => apiError(client.responses.create({ model: 'parley-tiny', input: 'Hi', ...body } as never));
    // function tools are served (openai-responses-tools.test.ts); OpenAI's hosted tools are not
    const tools = await refused({ tools: [{ type: 'web_search' }] });
    assert.deepEqual([tools.status, tools.code, tools.param], [400, 'unsupported_parameter', 'tools.[0].type']);
    const store = await refused({ store: false });
    assert.deepEqual([store.status, store.param], [400, 'store']);
    const schema = await refused({ text: { format: { type: 'json_schema', name: 'x', schema: {} } } });
    assert.deepEqual([schema.status, schema.param], [400, 'text.format']);
    const item = await refused({ input: [{ type: 'reasoning', summary: [] }] });
    assert.deepEqual([item.status, item.param], [400, 'input.[0].type']);
    const last = await refused({ input: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }], instructions: 'Be brief.' });
    assert.deepEqual([last.status, last.param], [400, 'input.[1].role']);
    const temperature = await refused({ temperature: 3 });
    assert.deepEqual([temperature.status, temperature.param], [400, 'temperature']);
    const model = await refused({ model: 'gpt-4o' });
    assert.deepEqual([model.status, model.code], [404, 'model_not_found']);
    // a prompt too long names this API's field (before: param "messages", which the Responses API has not)
    for (const body of [{ input: 'word '.repeat(20000) }, { input: 'Hi', max_output_tokens: 5000 }]) {
      const long = await refused(body);
      assert.deepEqual([long.status, long.code, long.param], [400, 'context_length_exceeded', 'input']);
      assert.doesNotMatch(long.message, /messages/);
    }
    const badKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'nope', maxRetries: 0 });
    assert.equal((await apiError(badKey.responses.create({ model: 'parley-tiny', input: 'Hi' }))).status, 401);

    const openAiShaped = async (path: string, method: string, status: number) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${await server.token(alice)}` } });
      assert.equal(res.status, status, `${method} ${path}`);
      const body = (await res.json()) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type'], `${method} ${path}`);
    };
    await openAiShaped('/v1/nothing', 'GET', 404);
    await openAiShaped('/v1/responses/resp_x/nothing', 'POST', 404);
    await openAiShaped('/v1/responses', 'GET', 405);
    await openAiShaped('/v1/responses/resp_x', 'DELETE', 405);
    await openAiShaped('/v1/chat/completions', 'GET', 405);
    await openAiShaped('/v1/events', 'POST', 405);
    await openAiShaped('/v1/audit/export', 'POST', 405);
  });

  it('the Vercel AI SDK\'s default provider: generateText and streamText', async () => {
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(alice) });
    const generated = await generateText({ model: openai('parley-tiny'), system: 'You are terse.', prompt: 'What is the capital of France?', maxOutputTokens: 12, maxRetries: 0 });
    const id = generated.response.id;
    assert.match(id, /^resp_/);
    const one = await recorded(generationOf(id));
    assert.equal(generated.text, one.text);
    assert.equal(generated.finishReason, one.finish === 'stop' ? 'stop' : 'length');
    assert.equal(generated.usage.outputTokens, one.usage.completionTokens);
    assert.equal(generated.usage.inputTokens, one.usage.promptTokens);

    const streamed = streamText({ model: openai('parley-tiny'), prompt: 'Write about the sea.', maxOutputTokens: 16, maxRetries: 0 });
    let text = '';
    for await (const part of streamed.textStream) text += part;
    const two = await recorded(generationOf((await streamed.response).id));
    assert.equal(text, two.text);
    assert.equal(await streamed.finishReason, two.finish === 'stop' ? 'stop' : 'length');
    assert.equal((await streamed.usage).outputTokens, two.usage.completionTokens);

    // An error case: the AI SDK surfaces Parley's 400 with its message.
    await assert.rejects(
      generateText({ model: openai('parley-tiny'), prompt: 'Hi', temperature: 5, maxRetries: 0 }),
      (error: Error & { statusCode?: number }) => error.statusCode === 400 && /temperature/.test(error.message),
    );
  });

  it('cancel: a running response is cancelled, its stream ends with response.failed, and retrieve() says cancelled', async () => {
    // No worker claims the job: the response stays in progress until it is cancelled.
    await server.app.worker!.stop();
    const stream = await client.responses.create({ model: 'parley-tiny', input: 'Wait for me', stream: true });
    const seen: string[] = [];
    let id = '';
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === 'response.in_progress') {
        id = event.response.id;
        assert.equal((await client.responses.retrieve(id)).status, 'in_progress');
        const cancelled = await client.responses.cancel(id);
        assert.equal(cancelled.status, 'cancelled');
      }
    }
    assert.equal(seen.at(-1), 'response.failed');
    assert.equal((await client.responses.retrieve(id)).status, 'cancelled');
    // Cancelling a finished response returns it as it is.
    assert.equal((await client.responses.cancel(id)).status, 'cancelled');
  });
});
