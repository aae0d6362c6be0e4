// `npm run bench:readmodel`: what sealing personal text in the read models costs the read path
// (issue 14.5). Two databases on the same PostgreSQL get the same commands: one through a store
// without encryption (read models in clear, as before), one through an encrypting store (read
// models sealed, opened on read). Reads alternate between the two in one run window.
// Writes bench/results/readmodel.{json,md}.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import type { Knex } from 'knex';
import { CommandHandler } from '../commands/command-handler.ts';
import { keyStoreMigrations } from '../eventstore/crypto/key-store.ts';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../eventstore/postgres/event-store.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import { ProjectionRunner, projections, rebuildProjection, setupProjections } from '../projections/index.ts';
import { getConversation, listConversations, messagesByConversation } from '../read-api/read-models.ts';
import type { Actor } from '../schemas/common.ts';

const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LIST = 100; // conversations in the listing (one turn each)
const LONG = 100; // turns of the long conversation: 200 messages
const CHUNKS = 13; // TokensGenerated per answer (~200 tokens flushed every 16)
const REPS = Number(process.env.BENCH_REPS ?? 40);
const user: Actor = { userId: 'u1', tenantId: 't1', roles: ['user'] };
const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 256, seed: null, stop: [] };
const sentence = (i: number) => `Message ${i}: tell me about the history of lighthouses and the keepers who lived in them, part ${i}.`;
const chunk = (i: number, k: number) => ` Keepers trimmed wicks and logged ships, note ${i}.${k}, every single night`;

type Side = { name: string; knex: Knex; store: PostgresEventStore; admin: pg.Client; db: string; longId: string; keys: PostgresEventStore['keys'] };

async function open(encrypted: boolean): Promise<Side> {
  const db = `parley_bench_rm_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`create database ${db}`);
  const url = new URL(ADMIN); url.pathname = `/${db}`;
  const knex = createKnex(url.toString(), 4);
  await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
  await setupProjections(knex);
  const store = await new PostgresEventStore({ connectionString: url.toString(), ...(encrypted ? { encryption: { masterKey: randomBytes(32) } } : {}) }).start();
  return { name: encrypted ? 'sealed' : 'plain', knex, store, admin, db, longId: '', keys: store.keys };
}

async function write(side: Side): Promise<void> {
  const handler = new CommandHandler({ store: side.store });
  const run = async (type: string, data: object) => {
    const r = await handler.execute({ type, data, metadata: { commandId: randomUUID(), actor: user } });
    if (!r.ok) throw new Error(`${type}: ${JSON.stringify(r)}`);
  };
  const turn = async (conversationId: string, i: number) => {
    const messageId = randomUUID(); const generationId = randomUUID();
    await run('SubmitMessage', { conversationId, messageId, generationId, content: sentence(i) });
    await run('RequestGeneration', {
      generationId, conversationId, messageId, ownerId: user.userId, tenantId: user.tenantId, model: 'parley-tiny', params,
      context: { includedMessageIds: [messageId], droppedMessageIds: [], promptTokens: 30 }, siblingOf: null,
    });
    for (let k = 0; k < CHUNKS; k++) await run('AppendTokens', { generationId, attempt: 1, firstIndex: k * 16, tokenIds: Array.from({ length: 16 }, (_, t) => t + 1), text: chunk(i, k) });
    await run('CompleteGeneration', { generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 30, completionTokens: 16 * CHUNKS }, ttftMs: 5, tpotMs: 2, workerId: 'bench' });
  };
  side.longId = randomUUID();
  await run('StartConversation', { conversationId: side.longId, title: 'Lighthouses, at length', systemPrompt: 'Be thorough.' });
  for (let i = 0; i < LONG; i++) await turn(side.longId, i);
  await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
    for (let c = lane; c < LIST; c += 4) {
      const id = randomUUID();
      await run('StartConversation', { conversationId: id, title: `Trip ${c}: ${sentence(c).slice(0, 40)}`, systemPrompt: null });
      await turn(id, c);
    }
  }));
}

async function catchUp(side: Side): Promise<number> {
  const head = await side.store.headPosition();
  for (let i = 0; i < 200 && (await side.store.readAll({ from: head, limit: 1 })).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const runner = new ProjectionRunner({ knex: side.knex, store: side.store, projections, batchSize: 1000 });
  const t0 = performance.now();
  for (const p of projections.filter((p) => p.name === 'history' || p.name === 'rlhf')) while ((await runner.step(p)) > 0);
  const ms = performance.now() - t0;
  for (const p of projections) while ((await runner.step(p)) > 0);
  return ms;
}

// The search before this change: ILIKE on the title or the messages' stored tsvector (GIN index).
async function addOldSearchIndex(side: Side) {
  await side.knex.raw(`alter table history_messages add column search tsvector generated always as (to_tsvector('english', content)) stored`);
  await side.knex.raw(`create index history_messages_search on history_messages using gin (search)`);
  await side.knex.raw('analyze');
}
async function oldSearch(side: Side, search: string, first: number) {
  return side.knex('history_conversations as c').select('c.*').where('c.deleted', false).where('c.tenant_id', user.tenantId).where('c.owner_id', user.userId)
    .where((w) => {
      w.whereILike('c.title', `%${search}%`).orWhereExists(
        side.knex('history_messages as m').whereRaw('m.conversation_id = c.id').where('m.owner_id', user.userId).whereRaw(`m.search @@ websearch_to_tsquery('english', ?)`, [search]),
      );
    })
    .orderBy([{ column: 'c.updated_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]).limit(first + 1);
}

type Op = { label: string; plain: (s: Side) => Promise<unknown>; sealed: (s: Side) => Promise<unknown>; check: (r: unknown) => number };

export async function run(): Promise<void> {
  const plain = await open(false);
  const sealed = await open(true);
  try {
    const tw = performance.now();
    await write(plain);
    await write(sealed);
    console.log(`wrote ${LIST + 1} conversations × 2 databases in ${((performance.now() - tw) / 1000).toFixed(1)} s`);
    const projectMs = { plain: await catchUp(plain), sealed: await catchUp(sealed) };
    // Rebuilds alternate, twice each: projecting the log (write side) in clear vs sealed.
    const rebuildMs: Record<'plain' | 'sealed', number[]> = { plain: [], sealed: [] };
    for (let r = 0; r < 2; r++) {
      for (const side of [plain, sealed]) {
        const t0 = performance.now();
        for (const p of projections.filter((p) => p.name === 'history' || p.name === 'rlhf')) await rebuildProjection(side.knex, side.store, p);
        rebuildMs[side.name as 'plain' | 'sealed'].push(performance.now() - t0);
      }
    }
    await addOldSearchIndex(plain);

    const list = (s: Side) => listConversations(s.knex, user, { first: LIST, after: null, search: null }, s.keys);
    const ops: Op[] = [
      { label: `list ${LIST} conversations (titles)`, plain: list, sealed: list, check: (r) => (r as unknown[]).length },
      {
        label: `list ${LIST} conversations with their messages`,
        plain: async (s) => messagesByConversation(s.knex, (await list(s)).map((c) => c.id), s.keys),
        sealed: async (s) => messagesByConversation(s.knex, (await list(s)).map((c) => c.id), s.keys),
        check: (r) => (r as unknown[][]).flat().length,
      },
      {
        label: `open one conversation of ${2 * LONG} messages`,
        plain: async (s) => [await getConversation(s.knex, user, s.longId, s.keys), ...(await messagesByConversation(s.knex, [s.longId], s.keys))[0]!],
        sealed: async (s) => [await getConversation(s.knex, user, s.longId, s.keys), ...(await messagesByConversation(s.knex, [s.longId], s.keys))[0]!],
        check: (r) => (r as unknown[]).length,
      },
      {
        label: 'search, first page of 20, common word ("keepers")',
        plain: (s) => oldSearch(s, 'keepers', 20),
        sealed: (s) => listConversations(s.knex, user, { first: 20, after: null, search: 'keepers' }, s.keys),
        check: (r) => (r as unknown[]).length,
      },
      {
        label: `search, one match in ${LIST + 1} conversations ("Trip 7:")`,
        plain: (s) => oldSearch(s, 'Trip 7:', 20),
        sealed: (s) => listConversations(s.knex, user, { first: 20, after: null, search: 'Trip 7:' }, s.keys),
        check: (r) => (r as unknown[]).length,
      },
      {
        label: `search, no match in ${LIST + 1} conversations`,
        plain: (s) => oldSearch(s, 'zeppelin', 20),
        sealed: (s) => listConversations(s.knex, user, { first: 20, after: null, search: 'zeppelin' }, s.keys),
        check: (r) => (r as unknown[]).length,
      },
    ];
    const results: { label: string; plainMs: number; sealedMs: number; ratio: number; rows: [number, number] }[] = [];
    for (const op of ops) {
      const rows: [number, number] = [op.check(await op.plain(plain)), op.check(await op.sealed(sealed))];
      if (rows[0] !== rows[1]) throw new Error(`${op.label}: ${rows[0]} rows in clear, ${rows[1]} sealed`);
      for (let w = 0; w < 3; w++) { await op.plain(plain); await op.sealed(sealed); }
      const t: { plain: number[]; sealed: number[] } = { plain: [], sealed: [] };
      for (let i = 0; i < REPS; i++) {
        let t0 = performance.now(); await op.plain(plain); t.plain.push(performance.now() - t0);
        t0 = performance.now(); await op.sealed(sealed); t.sealed.push(performance.now() - t0);
      }
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const r = { label: op.label, plainMs: median(t.plain), sealedMs: median(t.sealed), ratio: median(t.sealed) / median(t.plain), rows };
      results.push(r);
      console.log(`${r.label}: ${r.plainMs.toFixed(2)} ms → ${r.sealedMs.toFixed(2)} ms (${r.ratio.toFixed(2)}×)`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const md = [
      '# Read models sealed at rest: cost on the read path',
      '',
      `${new Date().toISOString()} · one PostgreSQL, two databases with the same ${LIST + 1} conversations of user u1 (${LIST} of one turn, one of ${LONG} turns; `
        + `each answer ${CHUNKS} TokensGenerated chunks): **plain** = a store without encryption, read models in clear and the old full-text search `
        + `(stored tsvector + GIN index); **sealed** = the encrypting store, read models sealed with the conversations' data keys (cached), opened on read, `
        + `search by opening the caller's conversations. Median of ${REPS} alternating runs each, read-model functions called in process (no HTTP).`,
      '',
      '| read | plain, ms | sealed, ms | sealed ÷ plain | rows |',
      '|---|---:|---:|---:|---:|',
      ...results.map((r) => `| ${r.label} | ${r.plainMs.toFixed(2)} | ${r.sealedMs.toFixed(2)} | ${r.ratio.toFixed(2)}× | ${r.rows[0]} |`),
      '',
      '| write side | plain, ms | sealed, ms | sealed ÷ plain |',
      '|---|---:|---:|---:|',
      `| history + rlhf projections catch up on the log | ${projectMs.plain.toFixed(0)} | ${projectMs.sealed.toFixed(0)} | ${(projectMs.sealed / projectMs.plain).toFixed(2)}× |`,
      `| rebuild history + rlhf (mean of 2) | ${mean(rebuildMs.plain).toFixed(0)} | ${mean(rebuildMs.sealed).toFixed(0)} | ${(mean(rebuildMs.sealed) / mean(rebuildMs.plain)).toFixed(2)}× |`,
      '',
      'The write side includes the event store\'s own decryption of the log (sealed side only).',
      '',
    ].join('\n');
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/readmodel.json', JSON.stringify({ at: new Date().toISOString(), reps: REPS, conversations: LIST + 1, longConversationMessages: 2 * LONG, chunksPerAnswer: CHUNKS, results, projectMs, rebuildMs }, null, 2) + '\n');
    writeFileSync('bench/results/readmodel.md', md);
    console.log(md);
  } finally {
    for (const side of [plain, sealed]) {
      await side.store.close();
      await side.knex.destroy();
      await side.admin.query(`drop database if exists ${side.db} with (force)`);
      await side.admin.end();
    }
  }
}
