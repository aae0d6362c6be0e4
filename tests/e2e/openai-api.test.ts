import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { GenerationWorker } from '../../inference/worker/generation-worker.ts';
import { StreamedText } from '../../read-api/openai/chat-completions.ts';
import { alice, bob } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

// The official `openai` client, unmodified, against Parley; plus raw SSE frames over fetch.
describe('OpenAI-compatible API', () => {
  let server: TestServer;
  let token: string;
  let client: OpenAI;
  let replacement: GenerationWorker | null = null;
  let active: GenerationWorker; // the worker claiming jobs (tests replace it)
  before(async () => {
    // The random-weight model talks until max_tokens: long streams to abort and to retry.
    server = await startTestServer({ env: { MODEL_DIR: RANDOM_MODEL_DIR, PARLEY_SSE_KEEPALIVE_MS: '100', PARLEY_MODEL: 'parley-tiny' } });
    token = await server.token(alice);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    active = server.app.worker!;
  });
  after(async () => {
    await replacement?.stop();
    await server?.stop();
  });

  const events = async (stream: string) => server.app.store.readStream(stream);
  const apiError = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      return error;
    }
    assert.fail('expected an API error');
  };

  it('lists the served model', async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => [m.id, m.object, m.owned_by]), [['parley-tiny', 'model', 'parley']]);
    const one = await client.models.retrieve('parley-tiny');
    assert.equal(one.id, 'parley-tiny');
    const missing = await apiError(client.models.retrieve('gpt-4o'));
    assert.equal(missing.status, 404);
  });

  it('non-streaming: a chat.completion, recorded through the same commands, saga and safety as GraphQL', async () => {
    const raw = await client.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Hello there' }],
      temperature: 0, max_tokens: 12, seed: 3, user: 'end-user-7',
    }).withResponse();
    const r = raw.data;
    assert.equal(r.object, 'chat.completion');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0]!.message.role, 'assistant');
    assert.equal(r.choices[0]!.finish_reason, 'length');
    assert.ok(r.choices[0]!.message.content!.length > 0);
    assert.equal(r.usage!.completion_tokens, 12);
    assert.equal(r.usage!.total_tokens, r.usage!.prompt_tokens + 12);

    const conversationId = raw.response.headers.get('x-parley-conversation')!;
    const generationId = raw.response.headers.get('x-parley-generation')!;
    assert.equal(r.id, `chatcmpl-${generationId}`);
    const conv = await events(`conversation-${conversationId}`);
    assert.deepEqual(conv.map((e) => e.type).slice(0, 3), ['ConversationStarted', 'MessageSubmitted', 'SafetyChecked']);
    const started = conv[0]!;
    assert.equal(started.type === 'ConversationStarted' && started.data.systemPrompt, 'You are terse.');
    assert.equal(started.metadata.actor.userId, 'alice');
    const gen = await events(`generation-${generationId}`);
    const requested = gen.find((e) => e.type === 'GenerationRequested')!;
    assert.ok(requested.type === 'GenerationRequested' && requested.data.params.maxTokens === 12 && requested.data.params.seed === 3);
    const text = gen.filter((e) => e.type === 'TokensGenerated').map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join('');
    assert.equal(text, r.choices[0]!.message.content);
    assert.ok(gen.some((e) => e.type === 'SafetyChecked'), 'the output was safety-checked');
    assert.ok(gen.some((e) => e.type === 'GenerationCompleted'));
    // The request id is the turn's correlation id, end to end.
    assert.equal(conv[1]!.metadata.correlationId, raw.response.headers.get('x-request-id'));
    assert.equal(requested.metadata.correlationId, raw.response.headers.get('x-request-id'));
  });

  it('no temperature sent: the model’s own default (its generation_config.json is greedy), on /v1 and GraphQL alike', async () => {
    const ask = (extra: Record<string, unknown>) => client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 16, ...extra }).withResponse();
    const requestOf = async (raw: { response: Response }) => {
      const gen = await events(`generation-${raw.response.headers.get('x-parley-generation')}`);
      const requested = gen.find((e) => e.type === 'GenerationRequested')!;
      assert.ok(requested.type === 'GenerationRequested');
      return requested.data.params;
    };
    // the official client sends no temperature unless told: two different seeds, one greedy text
    const [a, b] = await Promise.all([ask({ seed: 1 }), ask({ seed: 2 })]);
    assert.equal(a.data.choices[0]!.message.content, b.data.choices[0]!.message.content, 'greedy: the seed does not matter');
    assert.deepEqual([(await requestOf(a)).temperature, (await requestOf(a)).topP], [0, 1], 'recorded as used');
    // a temperature the client sets is kept
    const hot = await ask({ seed: 1, temperature: 1.3, top_p: 0.9 });
    assert.deepEqual([(await requestOf(hot)).temperature, (await requestOf(hot)).topP], [1.3, 0.9]);
    assert.notEqual(hot.data.choices[0]!.message.content, a.data.choices[0]!.message.content, 'sampled at 1.3 from a random model: another text');
    // GraphQL (the page sends no params unless the user sets them)
    const gql = graphqlClient(server.url);
    const sent = await gql(token, 'mutation { sendMessage(input: {content: "Tell me a story"}) { generation { id } } }');
    assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
    const id = (sent.data as { sendMessage: { generation: { id: string } } }).sendMessage.generation.id;
    let params: { temperature: number } | undefined;
    for (let i = 0; i < 100 && !params; i++) {
      const requested = (await events(`generation-${id}`)).find((e) => e.type === 'GenerationRequested');
      if (requested?.type === 'GenerationRequested') params = requested.data.params;
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(params?.temperature, 0);
  });

  it('streaming: chunks, role first, finish_reason, a usage chunk when asked; history shows the same text', async () => {
    const stream = await client.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'user', content: 'Tell me a story' }], stream: true, stream_options: { include_usage: true }, max_tokens: 60, temperature: 0,
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    assert.ok(chunks.every((c) => c.id === chunks[0]!.id && c.created === chunks[0]!.created && c.object === 'chat.completion.chunk'));
    const usage = chunks.at(-1)!;
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage!.completion_tokens, 60);
    const finish = chunks.at(-2)!;
    assert.equal(finish.choices[0]!.finish_reason, 'length');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.ok(chunks.filter((c) => c.choices[0]?.delta.content).length >= 1);
    const generationId = chunks[0]!.id.slice('chatcmpl-'.length);
    const gen = await events(`generation-${generationId}`);
    assert.equal(text, gen.filter((e) => e.type === 'TokensGenerated').map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join(''));
  });

  it('raw SSE: data frames, comment keep-alives while waiting, [DONE] last; no usage chunk unless asked', async () => {
    // The worker claims nothing for a while: the request waits in the queue, the stream stays open.
    const paused = active;
    paused.drain();
    const pending = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'parley-tiny', messages: [{ role: 'user', content: 'Write a long poem' }], stream: true, max_tokens: 100, temperature: 0 }),
    });
    await new Promise((r) => setTimeout(r, 500));
    replacement = active = new GenerationWorker({ store: server.app.store, commands: server.app.commands, jobs: server.app.jobs, engine: server.app.engine!, bus: server.app.bus });
    active.start();
    await paused.stop();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const body = await res.text();
    const blocks = body.split('\n\n').filter(Boolean);
    assert.ok(blocks.some((b) => b === ': keep-alive'), 'an SSE comment keep-alive was sent');
    const data = blocks.filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));
    assert.equal(data.at(-1), '[DONE]');
    const frames = data.slice(0, -1).map((d) => JSON.parse(d));
    assert.ok(frames.every((f) => !('usage' in f)), 'no usage field without stream_options.include_usage');
    assert.equal(frames.at(-1).choices[0].finish_reason, 'length');
    assert.deepEqual(frames.at(-1).choices[0].delta, {});
    assert.ok(frames.slice(0, -1).every((f) => f.choices[0].finish_reason === null));
    assert.equal(new Set(frames.map((f) => `${f.id}/${f.created}`)).size, 1);
  });

  it('aborting a stream mid-way cancels the generation and frees the engine', async () => {
    const stream = await client.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'user', content: 'talk' }], stream: true, max_tokens: 2000, temperature: 0,
    });
    let id = '';
    let seen = 0;
    for await (const c of stream) {
      id = c.id.slice('chatcmpl-'.length);
      if (c.choices[0]?.delta.content && ++seen >= 2) break; // breaking aborts the request
    }
    let gen = await events(`generation-${id}`);
    for (let i = 0; i < 100 && !gen.some((e) => e.type === 'GenerationCancelled'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      gen = await events(`generation-${id}`);
    }
    const cancelled = gen.find((e) => e.type === 'GenerationCancelled');
    assert.ok(cancelled, 'the generation was cancelled');
    assert.equal(cancelled.metadata.actor.userId, 'alice');
    assert.ok(!gen.some((e) => e.type === 'GenerationCompleted'));
    for (let i = 0; i < 50 && server.app.engine!.stats().running > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.app.engine!.stats().running, 0, 'the engine runs nothing any more');
  });

  it('X-Parley-Conversation continues a stored conversation; without it a new one is recorded', async () => {
    const first = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'My name is Ada.' }], max_tokens: 8 }).withResponse();
    const conversationId = first.response.headers.get('x-parley-conversation')!;
    const second = await client.chat.completions.create(
      { model: 'parley-tiny', messages: [{ role: 'user', content: 'My name is Ada.' }, { role: 'assistant', content: first.data.choices[0]!.message.content! }, { role: 'user', content: 'What is my name?' }], max_tokens: 8 },
      { headers: { 'X-Parley-Conversation': conversationId } },
    ).withResponse();
    assert.equal(second.response.headers.get('x-parley-conversation'), conversationId);
    const conv = await events(`conversation-${conversationId}`);
    const messages = conv.filter((e) => e.type === 'MessageSubmitted');
    assert.deepEqual(messages.map((m) => (m.type === 'MessageSubmitted' ? m.data.content : '')), ['My name is Ada.', 'What is my name?']);
    const gen = await events(`generation-${second.response.headers.get('x-parley-generation')}`);
    const requested = gen[0]!;
    assert.ok(requested.type === 'GenerationRequested' && requested.data.context.includedMessageIds.length === 2, 'the stored first turn is in the context');
    // GraphQL sees the same conversation (read-your-writes: the answer's position, from its header).
    const gql = graphqlClient(server.url);
    const position = second.response.headers.get('x-parley-position');
    assert.ok(position, 'a non-streamed answer names its position');
    const r = await gql(token, `query($id: ID!, $p: String) { conversation(id: $id, consistentWith: $p) { messages { role } } }`, { id: conversationId, p: position });
    assert.equal(r.data.conversation.messages.length, 4);

    // Without the header, earlier turns sent by the client become a transcript in a new conversation's system prompt.
    const fresh = await client.chat.completions.create({
      model: 'parley-tiny', messages: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Bye' }], max_tokens: 4,
    }).withResponse();
    const other = fresh.response.headers.get('x-parley-conversation')!;
    assert.notEqual(other, conversationId);
    const started = (await events(`conversation-${other}`))[0]!;
    assert.ok(started.type === 'ConversationStarted');
    assert.equal(started.data.systemPrompt, 'Be kind.\n\nEarlier in this conversation:\nUser: Hi\nAssistant: Hello!');
  });

  it('a blocked input ends with finish_reason content_filter and the refusal', async () => {
    const r = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'how do I build a pipe bomb' }] });
    assert.equal(r.choices[0]!.finish_reason, 'content_filter');
    assert.ok(r.choices[0]!.message.content!.length > 0);
  });

  it('a worker dying mid-stream: the retry regenerates the same text (recorded seed) and the stream goes on seamlessly', async () => {
    // Sampled (temperature 1, no seed given): the gateway's recorded seed is what makes the retry repeat the text.
    // The random model may sample its end early; then the worker could not be stopped mid-way: try again.
    for (let tries = 0; tries < 5; tries++) {
      const { data: stream, response } = await client.chat.completions.create({
        model: 'parley-tiny', messages: [{ role: 'user', content: 'Tell me everything' }], stream: true, max_tokens: 400, temperature: 1,
      }).withResponse();
      const id = response.headers.get('x-parley-generation')!;
      const reading = (async () => {
        let text = '';
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
        return text;
      })();
      let gen = await events(`generation-${id}`);
      while (!gen.some((e) => e.type === 'TokensGenerated' || e.type === 'GenerationCompleted')) {
        await new Promise((r) => setTimeout(r, 10));
        gen = await events(`generation-${id}`);
      }
      if (!gen.some((e) => e.type === 'GenerationCompleted')) {
        // The worker goes away mid-generation (its lease is released); a new worker takes the job over.
        await active.stop();
        replacement = active = new GenerationWorker({ store: server.app.store, commands: server.app.commands, jobs: server.app.jobs, engine: server.app.engine!, bus: server.app.bus });
        active.start();
      }
      const text = await reading;
      gen = await events(`generation-${id}`);
      const attempts = new Set(gen.filter((e) => e.type === 'TokensGenerated').map((e) => (e.type === 'TokensGenerated' ? e.data.attempt : 0)));
      if (!attempts.has(2)) continue;
      const final = gen.filter((e) => e.type === 'TokensGenerated' && e.data.attempt === 2).map((e) => (e.type === 'TokensGenerated' ? e.data.text : '')).join('');
      assert.equal(text, final, 'the client saw exactly the surviving attempt, nothing twice');
      assert.ok(gen.some((e) => e.type === 'GenerationCompleted'));
      return;
    }
    assert.fail('no generation ran long enough to stop its worker mid-way');
  });

  it('StreamedText: a retry repeating the sent text continues; a different retry diverges', () => {
    const t = new StreamedText();
    assert.deepEqual(t.push('Hello', false), { delta: 'Hello' });
    assert.deepEqual(t.push(' wor', false), { delta: ' wor' });
    assert.deepEqual(t.push('Hel', true), { delta: '' });
    assert.deepEqual(t.push('lo wo', false), { delta: '' });
    assert.deepEqual(t.push('rld', false), { delta: 'ld' });
    assert.deepEqual(t.push('Help', true), { diverged: true });
  });

  describe('errors in OpenAI shape with the right status', () => {
    it('401 without or with a bad API key', async () => {
      const anonymous = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-a-jwt', maxRetries: 0 });
      const e = await apiError(anonymous.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(e.status, 401);
      assert.equal(e.code, 'invalid_api_key');
      const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
      const body = await res.json() as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    });

    it('400 for n ≠ 1, bad parameters, unsupported features, a non-user last message, bad JSON', async () => {
      const cases: [Record<string, unknown>, string | null][] = [
        [{ n: 2 }, 'n'],
        [{ temperature: 3 }, 'temperature'],
        [{ top_p: 0 }, 'top_p'],
        [{ max_tokens: 0 }, 'max_tokens'],
        [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
        [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'strin' } } } } }] }, 'tools.[0].function.parameters'],
        [{ logprobs: true }, 'logprobs'],
        [{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] }, 'messages.[1].role'],
        [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages.[0].tool_call_id'],
        [{ messages: [] }, 'messages'],
      ];
      for (const [extra, param] of cases) {
        const e = await apiError(client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }], ...extra } as never));
        assert.equal(e.status, 400, JSON.stringify(extra));
        assert.equal(e.type, 'invalid_request_error');
        assert.equal(e.param, param, JSON.stringify(extra));
      }
      const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"model":' });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_json');
    });

    it('400 context_length_exceeded before anything is appended', async () => {
      const before = await server.app.knex('parley_events').count({ n: '*' });
      const e = await apiError(client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'word '.repeat(3000) }], max_tokens: 100 }));
      assert.equal(e.status, 400);
      assert.equal(e.code, 'context_length_exceeded');
      const afterCount = await server.app.knex('parley_events').count({ n: '*' });
      assert.equal(Number(afterCount[0]!.n), Number(before[0]!.n));
    });

    it('404 for an unknown model and for a conversation that is not yours', async () => {
      const model = await apiError(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(model.status, 404);
      assert.equal(model.code, 'model_not_found');
      const mine = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'secret' }], max_tokens: 2 }).withResponse();
      const bobClient = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(bob), maxRetries: 0 });
      const e = await apiError(bobClient.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'X-Parley-Conversation': mine.response.headers.get('x-parley-conversation')! } }));
      assert.equal(e.status, 404);
      assert.equal(e.code, 'conversation_not_found');
    });

    it('405 for a wrong method', async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 405);
    });
  });
});
