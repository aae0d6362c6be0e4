// Document vector search paths (knowledge/vector-index.ts): the PostgreSQL here has no pgvector
// (Debian bookworm ships no postgresql-15-pgvector), so start-up detection keeps the exact search
// in process; pgvector's own HNSW path runs for real against PGlite (PostgreSQL compiled to WASM)
// with the pgvector 0.8 extension, served over the PostgreSQL wire protocol (pglite-socket) to the
// same knex/pg client the server uses, and must agree with the exact path.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import knexFactory, { type Knex } from 'knex';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { CHUNKS, createDocumentTables, createKnowledge, detectPgvector, prepareVectorIndex, VECTOR_COLUMN, type Knowledge } from '../../knowledge/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let pglite: PGlite;
let socket: PGLiteSocketServer;
let lite: Knex;
let knowledge: Knowledge;

before(async () => {
  db = await createTestDatabase();
  pglite = await PGlite.create({ extensions: { vector } });
  socket = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1', maxConnections: 4 });
  await socket.start();
  lite = knexFactory({ client: 'pg', connection: `postgres://postgres@${socket.getServerConn()}/postgres`, pool: { min: 0, max: 2 } });
  await createDocumentTables(lite);
  knowledge = createKnowledge(lite);
});
after(async () => {
  await knowledge?.close();
  await lite?.destroy();
  await socket?.stop();
  await pglite?.close();
  await db?.drop();
});

const added = (tenantId: string, ownerId: string, title: string, text: string, visibility: 'shared' | 'private' = 'shared') => ({
  type: 'DocumentAdded', version: 1, storedVersion: 1, streamId: 'document-x', revision: 0, position: '1', recordedAt: new Date().toISOString(),
  data: { documentId: randomUUID(), tenantId, ownerId, collection: 'kb', visibility, title, text },
  metadata: { eventId: randomUUID(), correlationId: randomUUID(), causationId: null, commandId: null, actor: { userId: ownerId, tenantId, roles: ['user'] }, occurredAt: new Date().toISOString() },
}) as unknown as RecordedEvent & { data: { documentId: string } };

async function index(events: RecordedEvent[]) {
  const consumer = knowledge.indexer();
  await consumer.prepare!(events);
  await lite.transaction((trx) => consumer.handle(trx, events));
}

test('the PostgreSQL server here has no pgvector: detection keeps the exact in-process search, with the reason', async () => {
  const knex = knexFactory({ client: 'pg', connection: db.url });
  try {
    await createDocumentTables(knex);
    assert.deepEqual(await detectPgvector(knex), { available: false, installed: null, defaultVersion: null });
    const path = await prepareVectorIndex(knex, 128);
    assert.equal(path.kind, 'exact');
    assert.match(path.kind === 'exact' ? path.reason : '', /no pgvector extension/);
    const { rows } = await knex.raw(`select count(*)::int as n from information_schema.columns where table_name = ? and column_name = ?`, [CHUNKS, VECTOR_COLUMN]);
    assert.equal(rows[0].n, 0, 'no vector column without the extension');
  } finally {
    await knex.destroy();
  }
});

const docs = [
  ['acme', 'ann', 'Leave', 'Holidays: every employee has 28 days of paid leave per year. Unused days expire in March.'],
  ['acme', 'ann', 'Expenses', 'Travel costs are refunded within 30 days when the receipt is uploaded to the portal.'],
  ['acme', 'ann', 'Badges', 'Badges must be worn inside the building at all times. Lost badges are replaced by reception.'],
  ['acme', 'ann', 'Lunch', 'The canteen serves lunch from noon to two, with a vegetarian dish every day.'],
  ['acme', 'ann', 'Parking', 'Visitors park on level minus two; employees use the permit spaces by the north entrance.'],
] as const;

test('with pgvector (PGlite 0.8): HNSW index, the same passages as the exact path, tenant and visibility kept, older passages backfilled', async () => {
  // A passage indexed before pgvector was set up (exact path): its vector column is filled at set-up.
  const early = added('acme', 'ann', 'Security', 'The server room on floor 3 opens with an admin badge only.');
  await index([early]);
  const path = await knowledge.prepareVectorSearch();
  assert.equal(path.kind, 'pgvector');
  assert.ok(path.kind === 'pgvector' && path.version.startsWith('0.8') && path.iterativeScan);
  const { rows: idx } = await lite.raw(`select indexdef from pg_indexes where tablename = ? and indexdef like '%hnsw%'`, [CHUNKS]);
  assert.match(idx[0].indexdef, /USING hnsw \(embedding_v vector_ip_ops\)/);
  assert.equal((await lite(CHUNKS).whereNull(VECTOR_COLUMN).count({ n: '*' }))[0]!.n, 0, 'backfilled');

  const events = docs.map(([t, o, title, text]) => added(t, o, title, text));
  const secret = added('acme', 'ann', 'Ann private', 'The locker code of Ann is 4817, locker 12 in the gym.', 'private');
  const other = added('globex', 'gus', 'Globex leave', 'Holidays: Globex employees have 35 days of paid leave per year.');
  await index([...events, secret, other]);
  assert.equal((await lite(CHUNKS).whereNull(VECTOR_COLUMN).count({ n: '*' }))[0]!.n, 0, 'the indexer writes the vector column');

  const bob = { userId: 'bob', tenantId: 'acme', roles: ['user' as const] };
  const ann = { userId: 'ann', tenantId: 'acme', roles: ['user' as const] };
  const questions = ['How many days of paid leave do employees get?', 'When are travel costs refunded?', 'Where do visitors park?', 'What is the locker code of Ann?'];
  for (const q of questions) {
    for (const who of [bob, ann]) {
      knowledge.search.vectorPath = path;
      const hnsw = await knowledge.search.vectorSearch(who, ['kb'], q, 5);
      knowledge.search.vectorPath = { kind: 'exact', reason: 'test' };
      const exact = await knowledge.search.vectorSearch(who, ['kb'], q, 5);
      assert.deepEqual(hnsw.map((h) => h.id), exact.map((e) => e.id), `same neighbours for "${q}" as ${who.userId}`);
      hnsw.forEach((h, i) => assert.ok(Math.abs(h.score - exact[i]!.score) < 1e-4, 'same cosine'));
      const ids = new Set(hnsw.map((h) => h.id.split(':')[0]));
      assert.ok(!ids.has(other.data.documentId), 'never another tenant\'s passage');
      if (who === bob) assert.ok(!ids.has(secret.data.documentId), 'never someone else\'s private passage');
    }
  }
  knowledge.search.vectorPath = path;
  const hybrid = await knowledge.search.search(bob, { collections: ['kb'], query: 'How many days of paid leave do employees get?', topK: 3 });
  assert.match(hybrid[0]!.text, /28 days of paid leave/);
  assert.ok(hybrid[0]!.vectorRank !== null && hybrid[0]!.textRank !== null);
  const mine = await knowledge.search.search(ann, { collections: ['kb'], query: 'locker code of Ann', topK: 3, mode: 'vector' });
  assert.equal(mine[0]!.documentId, secret.data.documentId, 'the owner finds her private passage through the index');

  // The ordered scan can use the HNSW index (on a table this small the planner needs seq scans off to
  // prefer it; with a selective tenant filter it may take the (tenant, collection) B-tree and sort
  // exactly, which is exact and cheap for a small tenant).
  const [{ v }] = (await lite.raw(`select ${VECTOR_COLUMN}::text as v from ${CHUNKS} limit 1`)).rows;
  const plan = await lite.transaction(async (trx) => {
    await trx.raw('set local enable_seqscan = off');
    const { rows } = await trx.raw(`explain select id from ${CHUNKS} order by ${VECTOR_COLUMN} <#> ?::vector limit 5`, [v]);
    return rows.map((r: Record<string, string>) => Object.values(r)[0]).join('\n');
  });
  assert.match(plan, /Index Scan using parley_document_chunks_hnsw/);
});
