import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projections } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { alice, bob } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// Issue 14.5: after an erasure, the erased user's text is gone from the data directory itself
// (relation files and WAL), not only from query results: read models keep personal text sealed
// with the same data keys as the log, so no plaintext of it ever reaches PostgreSQL.
describe('personal text at rest in the read models', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  const tokens: Record<string, string> = {};
  const word = () => `zq${randomBytes(6).toString('hex')}`; // one lexeme, unique to this run
  const canary = { title: word(), message: word(), answer: word(), system: word(), comment: word(), renamed: word(), bob: word() };

  before(async () => {
    // No saga or worker: the test plays the worker's part through the same commands (answer()).
    server = await startTestServer({ roles: ['api', 'projector'] });
    gql = graphqlClient(server.url);
    for (const [n, a] of Object.entries({ alice, bob })) tokens[n] = await server.token(a as Actor);
  });
  after(async () => server?.stop());

  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } message { id } generation { id } position } }`;

  async function send(who: 'alice' | 'bob', content: string, systemPrompt?: string) {
    const r = await gql(tokens[who]!, SEND, { input: { content, ...(systemPrompt ? { systemPrompt } : {}) } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data.sendMessage as { conversation: { id: string }; message: { id: string }; generation: { id: string }; position: string };
  }

  // The generation lifecycle as a worker records it: the answer arrives in three chunks.
  async function answer(owner: Actor, sent: Awaited<ReturnType<typeof send>>, text: string) {
    const run = async (type: string, data: object) => {
      const r = await server.app.commands.execute({ type, data, metadata: { commandId: randomUUID(), actor: owner } });
      assert.ok(r.ok, JSON.stringify(r));
      return r;
    };
    const generationId = sent.generation.id;
    await run('RequestGeneration', {
      generationId, conversationId: sent.conversation.id, messageId: sent.message.id, ownerId: owner.userId, tenantId: owner.tenantId, model: 'parley-tiny',
      params: { temperature: 0, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] },
      context: { includedMessageIds: [sent.message.id], droppedMessageIds: [], promptTokens: 7 }, siblingOf: null,
    });
    const parts = [text.slice(0, 5), text.slice(5, 11), text.slice(11)];
    for (let i = 0; i < parts.length; i++) await run('AppendTokens', { generationId, attempt: 1, firstIndex: i, tokenIds: [i + 1], text: parts[i] });
    return run('CompleteGeneration', {
      generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 3 }, ttftMs: 12, tpotMs: 4, workerId: 'test',
    });
  }

  async function caughtUp() {
    for (const p of projections) while ((await server.app.runner!.step(p)) > 0);
  }

  // Every file of the test database's relations (all forks and segments) and every WAL segment
  // that holds `needle` in clear.
  async function filesHolding(needle: string): Promise<string[]> {
    const knex = server.app.knex;
    const dataDir = (await knex.raw('show data_directory')).rows[0].data_directory as string;
    const { rows } = await knex.raw(`select pg_relation_filepath(c.oid) as file from pg_class c where pg_relation_filepath(c.oid) is not null`);
    const relations = (rows as { file: string }[]).map((r) => path.join(dataDir, r.file));
    assert.ok(relations.length > 50, 'the database has relation files');
    const files: string[] = [];
    for (const dir of new Set(relations.map((f) => path.dirname(f)))) {
      const names = readdirSync(dir);
      for (const rel of relations.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f))) {
        // the relation's main file, its segments (.1, .2 ...) and forks (_fsm, _vm, _init)
        for (const n of names) if (n === rel || n.startsWith(`${rel}.`) || n.startsWith(`${rel}_`)) files.push(path.join(dir, n));
      }
    }
    const wal = path.join(dataDir, 'pg_wal');
    for (const name of readdirSync(wal)) if (statSync(path.join(wal, name)).isFile()) files.push(path.join(wal, name));
    assert.ok(files.some((f) => f.includes('pg_wal')), 'the WAL is scanned');
    const bytes = Buffer.from(needle, 'utf8');
    return files.filter((f) => {
      try {
        return readFileSync(f).includes(bytes);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // a segment recycled while we read
        throw e;
      }
    });
  }

  it("writes no plaintext of personal text to disk, and an erased user's text is nowhere in the data directory", async () => {
    const sent = await send('alice', `About ${canary.title} and ${canary.message}`, `You are Parley ${canary.system}`);
    await answer(alice, sent, `Indeed ${canary.answer} is so.`);
    const fb = await gql(tokens.alice!, `mutation($id: ID!, $c: String) { giveFeedback(input: {generationId: $id, rating: UP, comment: $c}) { position } }`,
      { id: sent.generation.id, c: `nice ${canary.comment}` });
    assert.equal(fb.errors, undefined, JSON.stringify(fb.errors));
    const ren = await gql(tokens.alice!, `mutation($id: ID!, $t: String!) { renameConversation(id: $id, title: $t) { position } }`,
      { id: sent.conversation.id, t: `Renamed ${canary.renamed}` });
    assert.equal(ren.errors, undefined, JSON.stringify(ren.errors));
    const bobSent = await send('bob', `bob says ${canary.bob}`);
    await caughtUp();

    // Its owner reads everything back in clear, and finds it by search.
    const view = await gql(tokens.alice!, `query($id: ID!) { conversation(id: $id) { title systemPrompt messages { role content feedback { comment } } } }`, { id: sent.conversation.id });
    assert.deepEqual(view.data.conversation, {
      title: `Renamed ${canary.renamed}`, systemPrompt: `You are Parley ${canary.system}`,
      messages: [
        { role: 'user', content: `About ${canary.title} and ${canary.message}`, feedback: null },
        { role: 'assistant', content: `Indeed ${canary.answer} is so.`, feedback: { comment: `nice ${canary.comment}` } },
      ],
    });
    const SEARCH = `query($s: String) { conversations(search: $s) { edges { node { id } } } }`;
    for (const s of [canary.message, canary.answer, canary.renamed]) {
      assert.deepEqual((await gql(tokens.alice!, SEARCH, { s })).data.conversations.edges, [{ node: { id: sent.conversation.id } }], `search "${s}"`);
    }
    assert.deepEqual((await gql(tokens.bob!, SEARCH, { s: canary.message })).data.conversations.edges, [], 'search never crosses users');

    // Live data is sealed on disk too: not only the erased user's.
    await server.app.knex.raw('checkpoint');
    assert.deepEqual(await filesHolding(canary.bob), [], "bob's live message is in no file in clear");

    const erased = await gql(tokens.alice!, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(erased.errors, undefined, JSON.stringify(erased.errors));
    await caughtUp();
    await server.app.knex.raw('vacuum');
    await server.app.knex.raw('checkpoint');
    for (const [what, text] of Object.entries(canary)) {
      assert.deepEqual(await filesHolding(text), [], `"${what}" (${text}) is in no relation file or WAL segment in clear`);
    }

    // Bob's conversation is untouched and still reads in clear.
    const bobView = await gql(tokens.bob!, `query($id: ID!) { conversation(id: $id) { title messages { content } } }`, { id: bobSent.conversation.id });
    assert.deepEqual(bobView.data.conversation, { title: `bob says ${canary.bob}`, messages: [{ content: `bob says ${canary.bob}` }] });
  });
});
