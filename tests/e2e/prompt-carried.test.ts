import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../bin/app.ts';
import { loadConfig } from '../../bin/config.ts';
import { loadModel } from '../../inference/engine/model.ts';
import { promptFor } from '../../inference/saga/context-assembly.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { EventOf } from '../../schemas/events.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, RANDOM_MODEL_DIR, startTestServer, type TestServer } from '../support/server.ts';

type Request = EventOf<'GenerationRequested'> & RecordedEvent;
const MAX_TOKENS = 64;

// Issue 15.4: GenerationRequested carries the prompt the saga assembled and counted; the worker runs
// it as it is. Before, the worker rebuilt it with the answers that had finished in between, and
// under concurrent turns in one conversation the rebuilt prompt overflowed the context.
describe('the prompt is assembled once, by the saga, and carried to the worker', () => {
  let api: TestServer;
  let worker: App | null = null;
  let gql: ReturnType<typeof graphqlClient>;
  let token: string;
  const model = loadModel(RANDOM_MODEL_DIR);
  const budget = model.config.contextLength - MAX_TOKENS;

  before(async () => {
    // No worker yet: the saga requests every turn while no answer exists.
    api = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { MODEL_DIR: RANDOM_MODEL_DIR } });
    gql = graphqlClient(api.url);
    token = await api.token(alice);
  });
  after(async () => {
    await worker?.stop();
    await api?.stop();
  });

  const startWorker = async () => {
    const config = loadConfig({ ...api.sharedEnv, PORT: '0', HOST: '127.0.0.1', PARLEY_HOME: mkdtempSync(path.join(os.tmpdir(), 'parley-test-')), MODEL_DIR: RANDOM_MODEL_DIR });
    worker = await startApp(config, ['worker']);
  };
  const send = async (content: string, conversationId?: string) => {
    const r = await gql(token, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } generation { id } } }`,
      { input: { content, conversationId, params: { maxTokens: MAX_TOKENS, temperature: 0 } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.sendMessage as { conversation: { id: string }; generation: { id: string } };
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const requestOf = (generationId: string) => waitFor(`GenerationRequested of ${generationId}`, async () =>
    (await api.app.store.readStream(`generation-${generationId}`, { limit: 1 }))[0] as Request | undefined);
  const endOf = (generationId: string) => waitFor(`the end of ${generationId}`, async () =>
    (await api.app.store.readStream(`generation-${generationId}`)).find((e) => ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'].includes(e.type)));

  let last: { generationId: string; request: Request } | null = null;

  it('concurrent turns in one conversation: the worker runs exactly the saga\'s prompt, within the context', async () => {
    const first = await send('Tell me about the sea.');
    const conversationId = first.conversation.id;
    const more = await Promise.all(['And the mountains?', 'And the rivers?', 'And the forests?'].map((q) => send(q, conversationId)));
    const generations = [first, ...more].map((s) => s.generation.id);
    const requests = await Promise.all(generations.map(requestOf));

    // The last turn in the log answers to all the others; none of them had an answer when the saga assembled it.
    const order = (await api.app.store.readStream(`conversation-${conversationId}`)).filter((e) => e.type === 'MessageSubmitted')
      .map((e) => (e as EventOf<'MessageSubmitted'>).data.generationId);
    const lastId = order[order.length - 1]!;
    const request = requests.find((r) => r.data.generationId === lastId)!;
    assert.equal(request.data.context.includedMessageIds.length, 4);
    const carried = unpackTokenIds(request.data.prompt!);
    assert.ok(carried, 'GenerationRequested carries the prompt');
    assert.equal(carried.length, request.data.context.promptTokens);

    // The earlier turns finish (long answers) before a worker reaches the last one.
    let long = '';
    while (model.tokenizer.encode(long).length < model.config.contextLength / 2) long += 'The answer goes on about hills, rivers, forests and the long road home. ';
    const ids = model.tokenizer.encode(long);
    for (const generationId of order.slice(0, -1)) {
      const r = await api.app.commands.executeAll([
        { type: 'AppendTokens', data: { generationId, attempt: 1, firstIndex: 0, tokenIds: ids, text: long }, metadata: { commandId: `t-${generationId}`, actor: alice } },
        { type: 'CompleteGeneration', data: { generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 1, completionTokens: ids.length }, ttftMs: 1, tpotMs: 1, workerId: 'test' }, metadata: { commandId: `c-${generationId}`, actor: alice } },
      ]);
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    }
    // Rebuilt now from the conversation (what a worker did before), the prompt would not fit: so this
    // test fails if the worker rebuilds instead of running the carried prompt.
    const rebuilt = await promptFor(api.app.store, model, { ...request.data, prompt: null });
    assert.ok(rebuilt.length > model.config.contextLength, `a rebuilt prompt has ${rebuilt.length} tokens`);

    await startWorker();
    const end = await endOf(lastId);
    assert.equal(end.type, 'GenerationCompleted', JSON.stringify(end.data));
    const usage = (end as EventOf<'GenerationCompleted'>).data.usage;
    assert.equal(usage.promptTokens, request.data.context.promptTokens, 'the worker ran the prompt the saga counted');
    assert.ok(usage.promptTokens <= budget);

    // Encrypted at rest, like the message text it is made of.
    const { rows } = await api.app.knex.raw(`select data->'prompt' as prompt from parley_events where event_id = ?`, [request.metadata.eventId]);
    assert.equal(typeof rows[0].prompt, 'object');
    assert.ok(rows[0].prompt.ct && rows[0].prompt.kid, 'the stored prompt is sealed');
    last = { generationId: lastId, request };
  });

  it('a regenerated sibling reuses the original\'s prompt, not one rebuilt from the conversation as it is now', async () => {
    assert.ok(last, 'runs after the test above');
    const r = await gql(token, `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } } }`, { id: last.generationId });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const siblingId = r.data.regenerate.generation.id as string;
    const sibling = await requestOf(siblingId);
    assert.equal(sibling.data.siblingOf, last.generationId);
    assert.deepEqual(unpackTokenIds(sibling.data.prompt!), unpackTokenIds(last.request.data.prompt!));
    const end = await endOf(siblingId);
    assert.equal(end.type, 'GenerationCompleted', JSON.stringify(end.data));
    assert.equal((end as EventOf<'GenerationCompleted'>).data.usage.promptTokens, last.request.data.context.promptTokens);
  });
});
