import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { projections, rebuildProjection } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { admin, alice, bob, compliance } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

const exec = promisify(execFile);

describe('GraphQL read side, end to end', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  const tokens: Record<string, string> = {};
  const as = (name: string) => tokens[name]!;

  before(async () => {
    // No saga or worker: this suite plays the worker's part itself (answer()).
    server = await startTestServer({ roles: ['api', 'projector'] });
    gql = graphqlClient(server.url);
    for (const [name, actor] of Object.entries({ alice, bob, admin, compliance })) tokens[name] = await server.token(actor as Actor);
  });
  after(async () => server?.stop());

  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    conversation { id title messageCount messages { id role content status generationId } } message { id content status } generation { id } position } }`;

  // Stands in for the worker (a later issue): the generation lifecycle through the same commands.
  async function answer(generationId: string, messageId: string, conversationId: string, text: string, owner: Actor = alice, siblingOf: string | null = null, temperature = 0) {
    const run = (type: string, data: object) =>
      server.app.commands.execute({ type, data, metadata: { commandId: randomUUID(), actor: owner } }).then((r) => { assert.ok(r.ok, JSON.stringify(r)); return r; });
    await run('RequestGeneration', {
      generationId, conversationId, messageId, ownerId: owner.userId, tenantId: owner.tenantId, model: 'parley-tiny',
      params: { temperature, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] },
      context: { includedMessageIds: [messageId], droppedMessageIds: [], promptTokens: 7 }, siblingOf,
    });
    await run('AppendTokens', { generationId, attempt: 1, firstIndex: 0, tokenIds: [1, 2], text: text.slice(0, 3) });
    await run('AppendTokens', { generationId, attempt: 1, firstIndex: 2, tokenIds: [3], text: text.slice(3) });
    return run('CompleteGeneration', {
      generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 3 }, ttftMs: 12, tpotMs: 4, workerId: 'test',
    });
  }

  it('sends, lists newest first, paginates, searches, renames and deletes', async () => {
    const first = await gql(as('alice'), SEND, { input: { content: 'What is the capital of France?', systemPrompt: 'Be brief.' } });
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    const c1 = first.data.sendMessage.conversation;
    assert.equal(c1.title, 'What is the capital of France?');
    assert.deepEqual(c1.messages.map((m: any) => [m.role, m.content]), [['user', 'What is the capital of France?']]);
    assert.equal(first.data.sendMessage.message.content, 'What is the capital of France?');
    assert.equal(c1.messages[0].generationId, first.data.sendMessage.generation.id);

    const second = await gql(as('alice'), SEND, { input: { content: 'Convert 5 km to miles' } });
    const third = await gql(as('alice'), SEND, { input: { content: 'Tell me about penguins' } });
    const more = await gql(as('alice'), SEND, { input: { conversationId: c1.id, content: 'And of Italy?' } });
    assert.equal(more.data.sendMessage.conversation.messageCount, 2);

    const LIST = `query($first: Int, $after: String, $search: String, $pos: String) { conversations(first: $first, after: $after, search: $search, consistentWith: $pos) {
      edges { cursor node { id title } } pageInfo { hasNextPage endCursor } } }`;
    const page1 = await gql(as('alice'), LIST, { first: 2, pos: more.data.sendMessage.position });
    assert.deepEqual(page1.data.conversations.edges.map((e: any) => e.node.id), [c1.id, third.data.sendMessage.conversation.id]);
    assert.equal(page1.data.conversations.pageInfo.hasNextPage, true);
    const page2 = await gql(as('alice'), LIST, { first: 2, after: page1.data.conversations.pageInfo.endCursor });
    assert.deepEqual(page2.data.conversations.edges.map((e: any) => e.node.id), [second.data.sendMessage.conversation.id]);
    assert.equal(page2.data.conversations.pageInfo.hasNextPage, false);

    const found = await gql(as('alice'), LIST, { search: 'penguin' });
    assert.deepEqual(found.data.conversations.edges.map((e: any) => e.node.title), ['Tell me about penguins']);
    assert.deepEqual((await gql(as('bob'), LIST, { search: 'penguin' })).data.conversations.edges, [], "search never crosses users");

    const renamed = await gql(as('alice'), `mutation($id: ID!) { renameConversation(id: $id, title: "Capitals") { conversation { title } position } }`, { id: c1.id });
    assert.equal(renamed.data.renameConversation.conversation.title, 'Capitals');
    const deleted = await gql(as('alice'), `mutation($id: ID!) { deleteConversation(id: $id) { deleted position } }`, { id: c1.id });
    assert.equal(deleted.data.deleteConversation.deleted, true);
    const after = await gql(as('alice'), `query($id: ID!) { conversation(id: $id) { id } }`, { id: c1.id });
    assert.equal(after.data.conversation, null);
    const again = await gql(as('alice'), SEND, { input: { conversationId: c1.id, content: 'still there?' } });
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
  });

  it('enforces the authorization matrix', async () => {
    const sent = await gql(as('alice'), SEND, { input: { content: 'private thoughts' } });
    const { conversation, message, generation } = sent.data.sendMessage;
    await answer(generation.id, message.id, conversation.id, 'noted.');
    const codeOf = (r: any) => r.errors?.[0]?.extensions?.code;

    assert.equal((await gql(as('bob'), `query($id: ID!) { conversation(id: $id) { id } }`, { id: conversation.id })).data.conversation, null);
    assert.equal((await gql(as('bob'), `query($id: ID!) { generation(id: $id) { id } }`, { id: generation.id })).data.generation, null);
    assert.equal(codeOf(await gql(as('bob'), `mutation($id: ID!) { renameConversation(id: $id, title: "mine") { position } }`, { id: conversation.id })), 'NOT_FOUND');
    assert.equal(codeOf(await gql(as('bob'), `mutation($id: ID!) { deleteConversation(id: $id) { position } }`, { id: conversation.id })), 'NOT_FOUND');
    assert.equal(codeOf(await gql(as('bob'), `mutation($id: ID!) { giveFeedback(input: {generationId: $id, rating: DOWN}) { position } }`, { id: generation.id })), 'NOT_FOUND');
    assert.equal(codeOf(await gql(as('bob'), `mutation($id: ID!) { sendMessage(input: {conversationId: $id, content: "hi"}) { position } }`, { id: conversation.id })), 'NOT_FOUND');
    assert.equal((await gql(as('compliance'), `query($id: ID!) { conversation(id: $id) { id } }`, { id: conversation.id })).data.conversation, null);
    assert.equal((await gql(as('admin'), `query($id: ID!) { conversation(id: $id) { id } }`, { id: conversation.id })).data.conversation.id, conversation.id);
    assert.equal(codeOf(await gql(as('alice'), `{ auditLog { edges { cursor } } }`)), 'FORBIDDEN');
    assert.ok((await gql(as('compliance'), `{ auditLog { edges { cursor } } }`)).data.auditLog);
    assert.equal(codeOf(await gql(null, `{ conversations { edges { cursor } } }`)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await gql('not-a-jwt', `{ me { userId } }`)), 'UNAUTHENTICATED');
    const forged = tokens.alice!.slice(0, -4) + 'AAAA';
    assert.equal(codeOf(await gql(forged, `{ me { userId } }`)), 'UNAUTHENTICATED');
  });

  it('returns a stable code for every bad input and appends nothing', async () => {
    const head = await server.app.store.headPosition();
    const cases: [string, Record<string, unknown>, string, string?][] = [
      [SEND, { input: { content: '' } }, 'BAD_USER_INPUT', 'content'],
      [SEND, { input: { content: 'x'.repeat(40_000) } }, 'BAD_USER_INPUT', 'content'],
      [SEND, { input: { content: 'hi', params: { temperature: 5 } } }, 'BAD_USER_INPUT', 'params.temperature'],
      [SEND, { input: { conversationId: 'no such', content: 'hi' } }, 'BAD_USER_INPUT', 'conversationId'],
      [SEND, { input: { conversationId: randomUUID(), content: 'hi' } }, 'NOT_FOUND'],
      [`mutation { giveFeedback(input: {generationId: "nope", rating: UP}) { position } }`, {}, 'NOT_FOUND'],
      [`mutation { renameConversation(id: "nope", title: "x") { position } }`, {}, 'NOT_FOUND'],
      [`mutation { cancelGeneration(id: "nope") { position } }`, {}, 'NOT_FOUND'],
      [`mutation { regenerate(generationId: "nope") { position } }`, {}, 'NOT_FOUND'],
      [`query { conversations(first: 1000) { edges { cursor } } }`, {}, 'BAD_USER_INPUT', 'first'],
      [`query { conversations(after: "garbage") { edges { cursor } } }`, {}, 'BAD_USER_INPUT', 'after'],
      [`query { conversation(id: "x", consistentWith: "soon") { id } }`, {}, 'BAD_USER_INPUT', 'consistentWith'],
      [`mutation { sendMessage(input: {}) { position } }`, {}, 'BAD_USER_INPUT'],
      [`{ conversations { edges { node { messages { id } } } } nope }`, {}, 'BAD_USER_INPUT'],
    ];
    for (const [query, variables, code, field] of cases) {
      const result = await gql(as('alice'), query, variables);
      const err = result.errors?.[0];
      assert.equal(err?.extensions?.code, code, `${query} ${JSON.stringify(variables).slice(0, 80)} → ${JSON.stringify(result.errors)}`);
      if (field) assert.equal(err?.extensions?.field, field);
      assert.doesNotMatch(JSON.stringify(result), /at .*\.ts:\d+/, 'no stack traces');
    }
    const deep = `{ conversations { edges { node { messages { feedback { rating } usage { promptTokens } safetyCategories { category } } } } } }`;
    assert.equal((await gql(as('alice'), deep)).errors, undefined);
    const tooDeep = `{ __schema { types { fields { type { ${"ofType { ".repeat(14)}name${" }".repeat(14)} } } } } }`;
    assert.equal((await gql(as('alice'), tooDeep)).errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', 'query depth is limited');
    assert.equal(await server.app.store.headPosition(), head, 'nothing appended');
  });

  it('a regenerated sibling samples anew: same parameters, a fresh seed; a greedy original’s sibling samples', async () => {
    const requested = async (id: string) => (await server.app.store.readStream(`generation-${id}`, { limit: 1 }))[0]!.data as { params: Record<string, unknown> };
    for (const [params, siblingTemperature] of [[{ temperature: 0.9 }, 0.9], [undefined, 0.7]] as const) {
      const sent = await gql(as('alice'), SEND, { input: { content: 'Tell me a story', ...(params ? { params } : {}) } });
      const { conversation, message, generation } = sent.data.sendMessage;
      const submitted = (await server.app.store.readStream(`conversation-${conversation.id}`)).find((e) => e.type === 'MessageSubmitted')!.data as { params: { temperature: number } };
      assert.equal(submitted.params.temperature, params ? 0.9 : 0, 'no temperature sent: the model’s default (greedy)');
      await answer(generation.id, message.id, conversation.id, 'Once.', alice, null, submitted.params.temperature);
      const original = await requested(generation.id);
      for (let i = 0; i < 2; i++) {
        const regen = await gql(as('alice'), `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } } }`, { id: generation.id });
        assert.equal(regen.errors, undefined, JSON.stringify(regen.errors));
        const sibling = await requested(regen.data.regenerate.generation.id);
        const { seed, temperature, ...rest } = sibling.params;
        const { seed: originalSeed, temperature: _t, ...originalRest } = original.params;
        assert.equal(typeof seed, 'number', 'recorded, so a retry reproduces it');
        assert.notEqual(seed, originalSeed);
        assert.equal(temperature, siblingTemperature, 'kept, or sampled when the original was greedy (it would repeat itself)');
        assert.deepEqual(rest, originalRest, 'the other parameters are kept');
      }
    }
  });

  it('records feedback, regenerates a sibling, exports RLHF pairs, and rebuilds to the same rows', async () => {
    const sent = await gql(as('alice'), SEND, { input: { content: 'Say hello', systemPrompt: 'You are Parley.' } });
    const { conversation, message, generation } = sent.data.sendMessage;
    await answer(generation.id, message.id, conversation.id, 'Hello!');
    const regen = await gql(as('alice'), `mutation($id: ID!) { regenerate(generationId: $id) { generation { id } position } }`, { id: generation.id });
    assert.equal(regen.errors, undefined, JSON.stringify(regen.errors));
    const siblingId = regen.data.regenerate.generation.id;
    // The sibling's request exists; the stand-in worker fills it in.
    const run = (type: string, data: object) => server.app.commands.execute({ type, data, metadata: { commandId: randomUUID(), actor: alice } });
    assert.ok((await run('AppendTokens', { generationId: siblingId, attempt: 1, firstIndex: 0, tokenIds: [9], text: 'Hi.' })).ok);
    assert.ok((await run('CompleteGeneration', { generationId: siblingId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 1 }, ttftMs: 5, tpotMs: 5, workerId: 't' })).ok);

    const FB = `mutation($id: ID!, $r: Rating!, $c: String) { giveFeedback(input: {generationId: $id, rating: $r, comment: $c}) { position } }`;
    await gql(as('alice'), FB, { id: generation.id, r: 'DOWN' });
    await gql(as('alice'), FB, { id: generation.id, r: 'UP', c: 'friendly' }); // replaces the first
    const last = await gql(as('alice'), FB, { id: siblingId, r: 'DOWN', c: 'too short' });
    const pos = last.data.giveFeedback.position;

    const conv = await gql(as('alice'), `query($id: ID!, $pos: String) { conversation(id: $id, consistentWith: $pos) { messages { id role content status siblingOf feedback { rating comment } usage { completionTokens } } } }`, { id: conversation.id, pos });
    const msgs = conv.data.conversation.messages;
    assert.deepEqual(msgs.map((m: any) => [m.role, m.content, m.status]), [
      ['user', 'Say hello', 'pending'], ['assistant', 'Hello!', 'completed'], ['assistant', 'Hi.', 'completed'],
    ]);
    assert.deepEqual(msgs[1].feedback, { rating: 'UP', comment: 'friendly' });
    assert.equal(msgs[2].siblingOf, generation.id);
    const gen = await gql(as('alice'), `query($id: ID!) { generation(id: $id) { content status usage { promptTokens completionTokens } ttftMs } }`, { id: generation.id });
    assert.deepEqual(gen.data.generation, { content: 'Hello!', status: 'completed', usage: { promptTokens: 7, completionTokens: 3 }, ttftMs: 12 });
    const usage = await gql(as('alice'), `query($pos: String) { usage(consistentWith: $pos) { day requests promptTokens completionTokens } }`, { pos });
    assert.ok(usage.data.usage[0].completionTokens >= 4);

    // Exports through the CLI, as a data scientist would run them.
    await server.app.runner!.step(projections.find((p) => p.name === 'rlhf')!);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-export-'));
    const env = { ...process.env, ...server.sharedEnv, PARLEY_HOME: dir };
    for (const format of ['trl', 'openai', 'kto']) {
      const out = path.join(dir, `${format}.jsonl`);
      await exec(process.execPath, ['bin/parley.mjs', 'export', 'rlhf', '--format', format, '--out', out], { env });
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const manifest = JSON.parse(readFileSync(`${out}.manifest.json`, 'utf8'));
      assert.equal(manifest.records, lines.length);
      assert.match(manifest.position, /^\d+\/\d+$/);
      const prompt = [{ role: 'system', content: 'You are Parley.' }, { role: 'user', content: 'Say hello' }];
      if (format === 'trl') assert.deepEqual(lines.find((l) => l.prompt[1]?.content === 'Say hello'), { prompt, chosen: [{ role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'assistant', content: 'Hi.' }] });
      if (format === 'openai') assert.deepEqual(lines.find((l) => l.input.messages[1]?.content === 'Say hello'), { input: { messages: prompt }, preferred_output: [{ role: 'assistant', content: 'Hello!' }], non_preferred_output: [{ role: 'assistant', content: 'Hi.' }] });
      if (format === 'kto') assert.deepEqual(lines.filter((l) => l.prompt[1]?.content === 'Say hello').map((l) => [l.completion[0].content, l.label]), [['Hello!', true], ['Hi.', false]]);
    }

    // Rebuild from position 0 equals the incrementally built read model.
    for (const p of projections) await server.app.runner!.step(p);
    const checksum = async (table: string, order: string) =>
      (await server.app.knex.raw(`select md5(coalesce(string_agg(t::text, '|' order by ${order}), '')) as h, count(*) as n from ${table} t`)).rows[0];
    const tables: [string, string][] = [['history_conversations', 'id'], ['history_messages', 'id'], ['audit_log', 'event_id'], ['rlhf_generations', 'id'], ['usage_daily', 'user_id, day']];
    const before = await Promise.all(tables.map(([t, o]) => checksum(t, o)));
    await server.app.runner!.stop();
    for (const p of projections) await rebuildProjection(server.app.knex, server.app.store, p);
    const afterRebuild = await Promise.all(tables.map(([t, o]) => checksum(t, o)));
    assert.deepEqual(afterRebuild, before);
    assert.ok(before[1].n >= 3);
  });

  it('exports the audit trail as JSONL and CSV for compliance only', async () => {
    const get = (q: string, token: string | null) => fetch(`${server.url}/v1/audit/export?${q}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    assert.equal((await get('format=csv', null)).status, 401);
    assert.equal((await get('format=csv', as('alice'))).status, 403);
    const bad = await get('format=xml', as('compliance'));
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.field, 'format');
    const audit = await gql(as('compliance'), `{ auditLog(filter: {eventType: "ConversationDeleted"}) { edges { node { eventType userId conversationId } } } }`);
    const expected = audit.data.auditLog.edges.map((e: any) => e.node);
    assert.ok(expected.length >= 1);
    const jsonl = (await (await get('format=jsonl&eventType=ConversationDeleted', as('compliance'))).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(jsonl.map((r) => ({ eventType: r.eventType, userId: r.userId, conversationId: r.conversationId })).reverse(), expected);
    const csv = await get('format=csv&eventType=ConversationDeleted', as('compliance'));
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    assert.equal(lines[0]!.split(',')[0], 'occurredAt');
    assert.equal(lines.length, expected.length + 1);
  });
});
