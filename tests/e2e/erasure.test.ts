import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { runRetention } from '../../bin/jobs/retention.ts';
import { ERASED } from '../../eventstore/crypto/field-codec.ts';
import { projections, rebuildProjection } from '../../projections/index.ts';
import type { Actor } from '../../schemas/common.ts';
import { admin, alice, bob } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { streamChunks, textOf } from '../support/sse.ts';

const exec = promisify(execFile);
const dave: Actor = { userId: 'dave', tenantId: 't2', roles: ['user'] };

describe('personal data on an immutable log: encryption, erasure, retention', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  const tokens: Record<string, string> = {};
  const marker = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
  const secrets = { plan: marker('zebraplan'), system: marker('sysprompt'), comment: marker('fbcomment'), bob: marker('bobnote') };
  let aliceAnswer = '';
  let aliceConversation = '';
  let aliceGeneration = '';

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    for (const [n, a] of Object.entries({ alice, bob, admin, dave })) tokens[n] = await server.token(a as Actor);
  });
  after(async () => server?.stop());

  async function chat(who: string, content: string, systemPrompt?: string) {
    const r = await gql(tokens[who]!, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { conversation { id } generation { id } } }`,
      { input: { content, ...(systemPrompt ? { systemPrompt } : {}), params: { temperature: 0, maxTokens: 24 } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const { conversation, generation } = r.data.sendMessage;
    const chunks = await streamChunks(server.url, tokens[who]!, generation.id);
    return { conversationId: conversation.id as string, generationId: generation.id as string, answer: textOf(chunks) };
  }

  // Every row of every table, as text, containing `needle`.
  async function tablesContaining(needle: string): Promise<string[]> {
    const { rows } = await server.app.knex.raw(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
    const hits: string[] = [];
    for (const { table_name } of rows) {
      const r = await server.app.knex.raw(`select count(*)::int as n from "${table_name}" t where t::text like ?`, [`%${needle}%`]);
      if (r.rows[0].n > 0) hits.push(table_name);
    }
    return hits;
  }

  it('stores personal text encrypted at rest, readable to its owner', async () => {
    const a = await chat('alice', `What is the capital of France? ${secrets.plan}`, `You are Parley. ${secrets.system}`);
    aliceConversation = a.conversationId;
    aliceGeneration = a.generationId;
    aliceAnswer = a.answer;
    assert.ok(aliceAnswer.length > 0);
    const fb = await gql(tokens.alice!, `mutation($id: ID!, $c: String) { giveFeedback(input: {generationId: $id, rating: UP, comment: $c}) { position } }`, { id: a.generationId, c: secrets.comment });
    assert.equal(fb.errors, undefined, JSON.stringify(fb.errors));
    await chat('bob', `hello ${secrets.bob}`);
    for (const s of Object.values(secrets)) {
      const { rows } = await server.app.knex.raw(`select count(*)::int as n from parley_events where data::text like ?`, [`%${s}%`]);
      assert.equal(rows[0].n, 0, `no plaintext "${s}" in the event log`);
    }
    const stored = (await server.app.knex.raw(`select data from parley_events where type = 'MessageSubmitted' limit 1`)).rows[0].data;
    assert.deepEqual(Object.keys(stored.content).sort(), ['ct', 'iv', 'kid']);
    // The answer's token ids are its text in another alphabet: sealed like the text, never in clear.
    const chunks = (await server.app.knex.raw(`select data from parley_events where type = 'TokensGenerated' and stream_id = ?`, [`generation-${a.generationId}`])).rows;
    assert.ok(chunks.length > 0);
    for (const { data } of chunks) {
      assert.equal(data.tokenIds, undefined);
      assert.deepEqual(Object.keys(data.tokens).sort(), ['ct', 'iv', 'kid']);
      assert.deepEqual(Object.keys(data.text).sort(), ['ct', 'iv', 'kid']);
    }
    const read = await server.app.store.readStream(`conversation-${a.conversationId}`);
    assert.ok(read.some((e) => e.type === 'MessageSubmitted' && e.data.content.includes(secrets.plan)), 'the owner reads plaintext');
  });

  it('erases a user by destroying their keys: nothing of them is left in tables, events or exports', async () => {
    const denied = await gql(tokens.bob!, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(denied.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    const r = await gql(tokens.alice!, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data.eraseUserData, true);
    for (const p of projections) while (await server.app.runner!.step(p) > 0);

    const aliceTexts = [secrets.plan, secrets.system, secrets.comment, aliceAnswer.trim().slice(0, 20)].filter((t) => t.length >= 8);
    for (const t of aliceTexts) assert.deepEqual(await tablesContaining(t), [], `no table holds "${t}"`);
    assert.deepEqual(await tablesContaining(secrets.bob), [], "bob's text is sealed in the read models too (readable through the API only)");
    const bobView = await gql(tokens.bob!, `{ conversations { edges { node { messages { content } } } } }`);
    assert.match(JSON.stringify(bobView.data), new RegExp(secrets.bob));

    const events = await server.app.store.readStream(`conversation-${aliceConversation}`);
    const message = events.find((e) => e.type === 'MessageSubmitted')!;
    assert.equal(message.type === 'MessageSubmitted' && message.data.content, ERASED);
    const answer = (await server.app.store.readStream(`generation-${aliceGeneration}`)).filter((e) => e.type === 'TokensGenerated');
    assert.ok(answer.length > 0 && answer.every((e) => e.type === 'TokensGenerated' && e.data.tokens === ERASED && e.data.text === ERASED), 'the answer\'s token ids are gone with its text');
    const all = JSON.stringify(await server.app.store.readAll({ limit: 10_000 }));
    for (const t of aliceTexts) assert.ok(!all.includes(t), `the decrypted log holds no "${t}"`);
    assert.ok(all.includes(secrets.bob));
    const audit = await server.app.knex('audit_log').where({ event_type: 'UserDataErased', user_id: 'alice' });
    assert.equal(audit.length, 1, 'the erasure itself is audited');

    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-erasure-'));
    const env = { ...process.env, ...server.sharedEnv, PARLEY_HOME: dir };
    const out = path.join(dir, 'kto.jsonl');
    await exec(process.execPath, ['bin/parley.mjs', 'export', 'rlhf', '--format', 'kto', '--out', out], { env });
    for (const t of aliceTexts) assert.ok(!readFileSync(out, 'utf8').includes(t));

    const again = await gql(tokens.admin!, `mutation { eraseUserData(userId: "alice") }`);
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
  });

  it('rebuilt history and RLHF read models still hold nothing of the erased user', async () => {
    await server.app.runner!.stop();
    for (const p of projections.filter((p) => ['history', 'rlhf'].includes(p.name))) await rebuildProjection(server.app.knex, server.app.store, p);
    server.app.runner!.start();
    for (const t of [secrets.plan, secrets.system, secrets.comment]) assert.deepEqual(await tablesContaining(t), []);
    const bobView = await gql(tokens.bob!, `{ conversations { edges { node { messages { content } } } } }`);
    assert.match(JSON.stringify(bobView.data), new RegExp(secrets.bob), "bob's data is untouched by the rebuild");
    const rows = await server.app.knex('history_messages').where({ owner_id: 'alice' });
    assert.deepEqual(rows, []);
  });

  it('erases conversations past their tenant retention period, as events', async () => {
    const d = await chat('dave', 'Convert 3 km to meters');
    await chat('bob', 'still mine');
    for (const p of projections) while (await server.app.runner!.step(p) > 0);
    const erased = await runRetention(server.app.knex, server.app.commands, server.app.keys, { defaultDays: null, tenantDays: { t2: 0 } });
    assert.deepEqual(erased, [d.conversationId]);
    const events = await server.app.store.readStream(`conversation-${d.conversationId}`);
    assert.equal(events.at(-1)!.type, 'ConversationErased');
    assert.ok(events.some((e) => e.type === 'MessageSubmitted' && e.data.content === ERASED));
    // The runner restarted by the previous test may hold a projection's batch (step() then applies
    // nothing): wait for the read model rather than for one round of steps (failed at load ~20).
    let left = 1;
    for (let i = 0; i < 200 && left > 0; i++) {
      for (const p of projections) while (await server.app.runner!.step(p) > 0);
      left = (await server.app.knex('history_conversations').where({ id: d.conversationId })).length;
      if (left > 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(left, 0, 'the erased conversation leaves the history read model');
    assert.ok((await server.app.knex('history_conversations').where({ owner_id: 'bob' })).length >= 2, 'other tenants keep theirs');
  });

  it('a ciphertext moved to another event fails to decrypt with a clear error', async () => {
    const a = await chat('bob', 'first message');
    const b = await chat('bob', 'second message');
    const q = (id: string) => server.app.knex.raw(`select position, data from parley_events where stream_id = ? and type = 'MessageSubmitted'`, [`conversation-${id}`]);
    const [from, to] = [(await q(a.conversationId)).rows[0], (await q(b.conversationId)).rows[0]];
    await server.app.knex.raw(`update parley_events set data = jsonb_set(data, '{content}', ?::jsonb) where position = ?`, [JSON.stringify(from.data.content), to.position]);
    await assert.rejects(server.app.store.readStream(`conversation-${b.conversationId}`), /MessageSubmitted .*content: ciphertext failed authentication/);
  });
});
