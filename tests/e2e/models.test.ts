import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { App } from '../../bin/app.ts';
import { startRoleProcess, type RoleProcess } from '../support/processes.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { EventOf } from '../../schemas/events.ts';
import { alice } from '../support/events.ts';
import { REDIS_URL, requireRedis } from '../support/redis.ts';
import { signToken } from '../../read-api/auth.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Two models side by side (PARLEY_MODELS, the example of issue 20): both APIs name either, each
// generation runs on a worker that loaded its model, and a model that is not served (or not allowed
// for the tenant) is refused in each API's own error shape.
const MODELS = JSON.stringify({ 'parley-tiny': { dir: 'inference/model/parley-tiny' }, 'test-random': { dir: 'inference/model/test-random' } });
const carol = { userId: 'carol', tenantId: 'narrow', roles: ['user' as const] };

async function ended(app: App, generationId: string): Promise<RecordedEvent[]> {
  for (let i = 0; i < 600; i++) {
    const events = await app.store.readStream(`generation-${generationId}`);
    if (events.some((e) => e.type === 'GenerationCompleted' || e.type === 'GenerationFailed')) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`generation ${generationId} did not end`);
}
const requested = (events: RecordedEvent[]) => events.find((e) => e.type === 'GenerationRequested') as EventOf<'GenerationRequested'>;
const completed = (events: RecordedEvent[]) => events.find((e) => e.type === 'GenerationCompleted') as EventOf<'GenerationCompleted'> | undefined;

describe('two models served by one worker process', () => {
  let server: TestServer;
  let client: OpenAI;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  before(async () => {
    server = await startTestServer({ env: { PARLEY_MODELS: MODELS, PARLEY_TENANT_MODELS: JSON.stringify({ narrow: { allowed: ['parley-tiny'] } }) } });
    token = await server.token(alice);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    gql = graphqlClient(server.url);
  });
  after(async () => server?.stop());

  const workerOf = (model: string) => server.app.workers[server.app.models.names().indexOf(model)]!.workerId;

  it('loads one engine per model and lists both in /v1/models and GraphQL', async () => {
    assert.equal(server.app.engines.length, 2);
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['parley-tiny', 'test-random']);
    assert.equal((await client.models.retrieve('test-random')).id, 'test-random');
    const r = await gql(token, '{ models { name default } }');
    assert.deepEqual(r.data.models, [{ name: 'parley-tiny', default: true }, { name: 'test-random', default: false }]);
  });

  it('OpenAI: each model answers on its own worker, and the response names it', async () => {
    for (const model of ['parley-tiny', 'test-random']) {
      const raw = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello there' }], temperature: 0, max_tokens: 8 }).withResponse();
      assert.equal(raw.data.model, model);
      assert.ok(raw.data.choices[0]!.message.content!.length > 0);
      const generationId = raw.response.headers.get('x-parley-generation')!;
      const events = await ended(server.app, generationId);
      assert.equal(requested(events).data.model, model);
      assert.equal(completed(events)?.data.workerId, workerOf(model), `${model} ran on its own worker`);
    }
  });

  // Before, /v1 measured every prompt against the default model (2,048 positions): a prompt for
  // test-random (4,096) was refused with "maximum context length is 2048 tokens".
  it('OpenAI: a prompt is measured against the context window of the model asked for', async () => {
    const content = 'hello there '.repeat(1200); // ~2,400 tokens: fits test-random only
    const random = await client.chat.completions.create({ model: 'test-random', messages: [{ role: 'user', content }], max_tokens: 4 });
    assert.equal(random.model, 'test-random');
    assert.ok(random.usage!.prompt_tokens > 2048, JSON.stringify(random.usage));
    const tiny = await client.chat.completions.create({ model: 'parley-tiny', messages: [{ role: 'user', content }], max_tokens: 4 }).catch((e) => e);
    assert.ok(tiny instanceof OpenAI.BadRequestError, String(tiny));
    assert.equal(tiny.code, 'context_length_exceeded');
    assert.match(tiny.message, /maximum context length is 2048 tokens/);
  });

  it('OpenAI: an unknown model is 404 model_not_found; a model the tenant may not use too', async () => {
    const unknown = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.ok(unknown instanceof OpenAI.NotFoundError, String(unknown));
    assert.equal(unknown.code, 'model_not_found');
    assert.equal(unknown.param, 'model');
    const narrow = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(carol), maxRetries: 0 });
    assert.deepEqual((await narrow.models.list()).data.map((m) => m.id), ['parley-tiny']);
    const forbidden = await narrow.chat.completions.create({ model: 'test-random', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.ok(forbidden instanceof OpenAI.NotFoundError, String(forbidden));
    assert.equal(forbidden.code, 'model_not_found');
  });

  it('GraphQL: the conversation default, a per-message override, and BAD_USER_INPUT on field model', async () => {
    const send = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id model } generation { id } } }`;
    const first = await gql(token, send, { input: { content: 'Hello', model: 'test-random', params: { maxTokens: 6, temperature: 0 } } });
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.equal(first.data.sendMessage.conversation.model, 'test-random');
    const conversationId = first.data.sendMessage.conversation.id;
    assert.equal(requested(await ended(server.app, first.data.sendMessage.generation.id)).data.model, 'test-random');
    // The next turn keeps the conversation's model; one that names another uses it for that turn only.
    const second = await gql(token, send, { input: { conversationId, content: 'Again', params: { maxTokens: 6 } } });
    assert.equal(requested(await ended(server.app, second.data.sendMessage.generation.id)).data.model, 'test-random');
    const third = await gql(token, send, { input: { conversationId, content: 'Once more', model: 'parley-tiny', params: { maxTokens: 6 } } });
    const thirdEvents = await ended(server.app, third.data.sendMessage.generation.id);
    assert.equal(requested(thirdEvents).data.model, 'parley-tiny');
    assert.equal(completed(thirdEvents)?.data.workerId, workerOf('parley-tiny'));

    const bad = await gql(token, send, { input: { content: 'Hello', model: 'gpt-4o' } });
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(bad.errors?.[0]?.extensions?.field, 'model');
    const start = await gql(await server.token(carol), `mutation { startConversation(input: { model: "test-random" }) { conversation { id } } }`);
    assert.equal(start.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(start.errors?.[0]?.extensions?.field, 'model');
  });

  it('a conversation recorded under a model no longer configured fails its generation with MODEL_NOT_FOUND', async () => {
    // The APIs refuse such a model, so the conversation is written as one from an older configuration would be.
    const meta = () => ({ commandId: crypto.randomUUID(), actor: alice });
    const [c, m, g] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const r = await server.app.commands.executeAll([
      { type: 'StartConversation', data: { conversationId: c, model: 'retired-model' }, metadata: meta() },
      { type: 'SubmitMessage', data: { conversationId: c, messageId: m, generationId: g, content: 'Hello', params: { maxTokens: 4 } }, metadata: meta() },
    ]);
    assert.ok(r.ok, JSON.stringify(r));
    const failed = (await ended(server.app, g)).find((e) => e.type === 'GenerationFailed') as EventOf<'GenerationFailed'> | undefined;
    assert.equal(failed?.data.code, 'MODEL_NOT_FOUND');
  });
});

describe('a model limited to tiers', () => {
  let server: TestServer;
  before(async () => {
    const models = JSON.stringify({ 'parley-tiny': { dir: 'inference/model/parley-tiny' }, 'test-random': { dir: 'inference/model/test-random', tiers: ['paid'] } });
    server = await startTestServer({ env: { PARLEY_MODELS: models } });
  });
  after(async () => server?.stop());

  it('is refused to another tier on both APIs (GraphQL knows the tier claim too)', async () => {
    const free = await signToken(server.app.secret, alice, '1h', 'free');
    const paid = await signToken(server.app.secret, alice, '1h', 'paid');
    const openai = await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: free, maxRetries: 0 })
      .chat.completions.create({ model: 'test-random', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }).catch((e) => e);
    assert.ok(openai instanceof OpenAI.NotFoundError, String(openai));
    const gql = graphqlClient(server.url);
    // Neither API lists it to that tier.
    const listed = await (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${free}` } })).json();
    assert.deepEqual(listed.data.map((m: { id: string }) => m.id), ['parley-tiny']);
    assert.equal((await fetch(`${server.url}/v1/models/test-random`, { headers: { authorization: `Bearer ${free}` } })).status, 404);
    assert.deepEqual((await gql(free, '{ models { name } }')).data.models, [{ name: 'parley-tiny' }]);
    assert.deepEqual((await gql(paid, '{ models { name } }')).data.models, [{ name: 'parley-tiny' }, { name: 'test-random' }]);
    const send = await gql(free, `mutation { sendMessage(input: {content: "hi", model: "test-random", params: {maxTokens: 2}}) { generation { id } } }`);
    assert.equal(send.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(send));
    assert.equal(send.errors?.[0]?.extensions?.field, 'model');
    const start = await gql(free, `mutation { startConversation(input: {model: "test-random"}) { conversation { id } } }`);
    assert.equal(start.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(start));
    const allowed = await gql(paid, `mutation { startConversation(input: {model: "test-random"}) { conversation { model } } }`);
    assert.equal(allowed.errors, undefined, JSON.stringify(allowed.errors));
    assert.equal(allowed.data.startConversation.conversation.model, 'test-random');
  });
});

describe('two workers with different model sets', () => {
  let server: TestServer;
  let other: RoleProcess;
  before(async () => {
    await requireRedis();
    const env = { PARLEY_MODELS: MODELS, REDIS_URL };
    server = await startTestServer({ env: { ...env, PARLEY_WORKER_MODELS: 'parley-tiny' } });
    // The command of the issue: `parley serve --role worker --models test-random`, its own process.
    other = await startRoleProcess('worker', { ...server.sharedEnv, ...env }, ['--models', 'test-random']);
  });
  after(async () => {
    await other?.stop();
    await server?.stop();
  });

  it('routes each job to the worker that loaded its model', async () => {
    assert.equal(server.app.workers.length, 1);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await server.token(alice), maxRetries: 0 });
    const byModel: Record<string, Set<string>> = { 'parley-tiny': new Set(), 'test-random': new Set() };
    await Promise.all(['parley-tiny', 'test-random', 'parley-tiny', 'test-random'].map(async (model) => {
      const raw = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6 }).withResponse();
      assert.equal(raw.data.model, model);
      const generationId = raw.response.headers.get('x-parley-generation')!;
      byModel[model]!.add(completed(await ended(server.app, generationId))!.data.workerId);
    }));
    assert.deepEqual([...byModel['parley-tiny']!], [server.app.workers[0]!.workerId]);
    const randomWorkers = [...byModel['test-random']!];
    assert.equal(randomWorkers.length, 1);
    assert.ok(randomWorkers[0]!.startsWith(`${other.child.pid}-`), `test-random ran in the --models test-random process (${randomWorkers[0]})`);
  });
});
