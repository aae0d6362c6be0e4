import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { alice } from '../support/events.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// The clients frontend developers reach for, unmodified, against a real server: each one's generate,
// stream and an error case. (The Responses API through the AI SDK's default provider and the openai
// client is in openai-responses.test.ts; urql and Apollo over graphql-sse in graphql-stream-errors.test.ts.)
// The shipped model may stop early or at max tokens: what a client shows is compared with what the
// generation's events recorded, never with a fixed text.
describe('client compatibility (chat completions)', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ env: { PARLEY_MODEL: 'parley-tiny' } });
    token = await server.token(alice);
  });
  after(async () => {
    await server?.stop();
  });

  // The generations recorded since `before` (oldest first), with their text and finish reason.
  async function recordedSince(count: number) {
    const rows = (await server.app.knex.raw(`select stream_id from parley_events where type = 'GenerationRequested' order by position`)).rows as { stream_id: string }[];
    const out = [];
    for (const { stream_id } of rows.slice(count)) {
      const events = await server.app.store.readStream(stream_id);
      const completed = events.find((e) => e.type === 'GenerationCompleted');
      assert.ok(completed?.type === 'GenerationCompleted', `${stream_id} completed`);
      const text = events.map((e) => (e.type === 'TokensGenerated' && e.data.attempt === completed.data.attempt ? e.data.text : '')).join('');
      out.push({ text, finish: completed.data.finishReason, usage: completed.data.usage });
    }
    return out;
  }
  const generations = async () => (await server.app.knex.raw(`select count(*)::int as n from parley_events where type = 'GenerationRequested'`)).rows[0].n as number;

  it('the official openai client: models, chat (generate, stream), and a 404 for an unknown model', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    assert.deepEqual((await client.models.list()).data.map((m) => m.id), ['parley-tiny']);
    const n = await generations();
    const generated = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 12 });
    const stream = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Hello again' }], max_tokens: 12, stream: true });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    const [one, two] = await recordedSince(n);
    assert.equal(generated.choices[0]!.message.content, one!.text);
    assert.equal(streamed, two!.text);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404 && e.code === 'model_not_found');
  });

  it('the Vercel AI SDK: @ai-sdk/openai-compatible and @ai-sdk/openai\'s chat model (generateText, streamText, an error)', async () => {
    const compatible = createOpenAICompatible({ name: 'parley', baseURL: `${server.url}/v1`, apiKey: token, includeUsage: true });
    const openai = createOpenAI({ baseURL: `${server.url}/v1`, apiKey: token });
    for (const model of [compatible('parley-tiny'), openai.chat('parley-tiny')]) {
      const n = await generations();
      const generated = await generateText({ model, prompt: 'What is the capital of France?', maxOutputTokens: 12, maxRetries: 0 });
      const streamed = streamText({ model, prompt: 'Write about the sea.', maxOutputTokens: 12, maxRetries: 0 });
      let text = '';
      for await (const part of streamed.textStream) text += part;
      const [one, two] = await recordedSince(n);
      assert.equal(generated.text, one!.text);
      assert.equal(generated.finishReason, one!.finish === 'stop' ? 'stop' : 'length');
      assert.equal(generated.usage.outputTokens, one!.usage.completionTokens);
      assert.equal(text, two!.text);
      assert.equal((await streamed.usage).outputTokens, two!.usage.completionTokens);
      await assert.rejects(
        generateText({ model, prompt: 'Hi', temperature: 5, maxRetries: 0 }),
        (error: Error & { statusCode?: number }) => error.statusCode === 400 && /temperature/.test(error.message),
      );
    }
  });

  it('LangChain ChatOpenAI: invoke, stream, batch, and an error', async () => {
    const chat = new ChatOpenAI({ model: 'parley-tiny', apiKey: token, configuration: { baseURL: `${server.url}/v1` }, maxTokens: 12, maxRetries: 0 });
    const n = await generations();
    const invoked = await chat.invoke('What is the capital of France?');
    let streamed = '';
    for await (const chunk of await chat.stream('Write about the sea.')) streamed += typeof chunk.content === 'string' ? chunk.content : '';
    const batch = await chat.batch(['One', 'Two']);
    const recorded = await recordedSince(n);
    assert.equal(recorded.length, 4);
    assert.equal(invoked.content, recorded[0]!.text);
    assert.equal(streamed, recorded[1]!.text);
    assert.deepEqual(batch.map((m) => m.content).sort(), [recorded[2]!.text, recorded[3]!.text].sort());
    const wrong = new ChatOpenAI({ model: 'gpt-4o', apiKey: token, configuration: { baseURL: `${server.url}/v1` }, maxRetries: 0 });
    await assert.rejects(wrong.invoke('Hi'), (e: Error & { status?: number }) => e.status === 404 && /does not exist/.test(e.message));
  });
});
