// `npm run bench retrieval-pgvector`: the pgvector HNSW search path (knowledge/vector-index.ts)
// against the exact in-process path on the same passages. No PostgreSQL server here has pgvector,
// so this runs on PGlite (PostgreSQL 17 compiled to WASM, single-threaded, in this process) with the
// real pgvector 0.8 extension, over the wire protocol (pglite-socket) — recall is the figure that
// carries over to a server; PGlite's latencies are not a server's. Writes
// bench/results/retrieval-pgvector-<passages>.{json,md} (BENCH_PGVECTOR_PASSAGES, default 10000).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import knexFactory from 'knex';
import { createEmbedder } from '../inference/embeddings/index.ts';
import { CHUNKS, createDocumentTables, DOCUMENTS, HybridSearch, prepareVectorIndex, VECTOR_COLUMN } from '../knowledge/index.ts';
import { packVector } from '../knowledge/tables.ts';
import { vectorLiteral, type VectorPath } from '../knowledge/vector-index.ts';
import type { Actor } from '../schemas/common.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const EVAL = path.join(here, '..', 'inference', 'embeddings', 'train', 'eval-qa.jsonl');
const actor: Actor = { userId: 'bench', tenantId: 'bench', roles: ['user'] };
const QUESTIONS = 400; // of the 1300: the run stays within a few minutes on a shared 2-core machine
const SIZE = Number(process.env.BENCH_PGVECTOR_PASSAGES ?? 10_000);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function run(): Promise<void> {
  const pairs = readFileSync(EVAL, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { query: string; passage: string });
  const pglite = await PGlite.create({ extensions: { vector } });
  const socket = new PGLiteSocketServer({ db: pglite, port: 0, host: '127.0.0.1', maxConnections: 2 });
  await socket.start();
  const knex = knexFactory({ client: 'pg', connection: `postgres://postgres@${socket.getServerConn()}/postgres`, pool: { min: 0, max: 1 } });
  const embedder = await createEmbedder({ maxBatch: 32 });
  try {
    await createDocumentTables(knex);
    const hnsw = await prepareVectorIndex(knex, embedder.dimensions);
    if (hnsw.kind !== 'pgvector') throw new Error(`pgvector did not come up on PGlite: ${hnsw.reason}`);
    const { vectors } = await embedder.embed(pairs.map((p) => p.passage));
    await knex(DOCUMENTS).insert({ id: 'eval', tenant_id: 'bench', owner_id: 'bench', collection: 'eval', visibility: 'shared', title: 'eval', chunks: pairs.length, chars: 0, added_at: new Date() });
    const t0 = performance.now();
    const rows = pairs.map((p, i) => ({
      id: `eval:${i}`, document_id: 'eval', tenant_id: 'bench', owner_id: 'bench', collection: 'eval', visibility: 'shared', ord: i, text: p.passage,
      tsv: knex.raw(`to_tsvector('english', ?)`, [p.passage]), embedding: packVector(vectors[i]!), [VECTOR_COLUMN]: knex.raw('?::vector', [vectorLiteral(vectors[i]!)]),
    }));
    for (let i = 0; i < rows.length; i += 250) await knex(CHUNKS).insert(rows.slice(i, i + 250));
    // Up to SIZE passages: copies of the set in another collection (the same vectors: the index is
    // larger and the collection filter keeps a small share of it, the case HNSW filtering is weakest at).
    for (let c = 0; pairs.length * (c + 1) < SIZE; c++) {
      await knex.raw(`insert into ${CHUNKS} (id, document_id, tenant_id, owner_id, collection, visibility, ord, text, tsv, embedding, ${VECTOR_COLUMN})
        select id || ':c' || ?::text, document_id, tenant_id, owner_id, 'load', visibility, ord, text, tsv, embedding, ${VECTOR_COLUMN}
          from ${CHUNKS} where collection = 'eval' limit ?`, [c, Math.min(pairs.length, SIZE - pairs.length * (c + 1))]);
    }
    const insertS = (performance.now() - t0) / 1000;
    const total = Number((await knex(CHUNKS).count<{ count: string }[]>('* as count'))[0]!.count);
    const search = new HybridSearch(knex, async () => embedder);
    const paths: Record<string, VectorPath> = { hnsw, exact: { kind: 'exact', reason: 'bench' } };

    const recall: Record<string, number> = {};
    for (const [name, p] of Object.entries(paths)) {
      search.vectorPath = p;
      let hits = 0;
      for (const [i, q] of pairs.slice(0, QUESTIONS).entries()) {
        const found = await search.search(actor, { collections: ['eval'], query: q.query, topK: 5, mode: 'vector' });
        if (found.some((f) => f.chunkId === `eval:${i}`)) hits++;
      }
      recall[name] = hits / QUESTIONS;
    }
    const latency: Record<string, { p50: number; p95: number }> = {};
    for (const [name, p] of Object.entries(paths)) {
      search.vectorPath = p;
      await search.search(actor, { collections: ['eval', 'load'], query: pairs[0]!.query, topK: 5, mode: 'vector' }); // warm (exact: loads the vectors)
      const times: number[] = [];
      for (const q of pairs.slice(1, 61)) {
        const t = performance.now();
        await search.search(actor, { collections: ['eval', 'load'], query: q.query, topK: 5, mode: 'vector' });
        times.push(performance.now() - t);
      }
      latency[name] = { p50: pct(times, 50), p95: pct(times, 95) };
    }

    const result = { date: new Date().toISOString(), cpus: os.cpus().length, load: os.loadavg()[0], engine: 'PGlite 0.5 (PostgreSQL 17, WASM) + pgvector ' + hnsw.version, passages: total, questions: QUESTIONS, insertSeconds: insertS, recallAt5: recall, latencyMs: latency };
    const share = `${((pairs.length / total) * 100).toPrecision(2)} %`;
    writeFileSync(path.join(here, 'results', `retrieval-pgvector-${SIZE}.json`), JSON.stringify(result, null, 2) + '\n');
    const f = (x: number, d = 1) => x.toFixed(d);
    const md = [
      '# Retrieval: pgvector HNSW vs exact (issue 19)', '',
      `Measured ${result.date} by \`npm run bench retrieval-pgvector\` on ${result.cpus} shared cores (1-min load average at the end: ${f(result.load)}).`,
      `Engine: ${result.engine}, served over the wire protocol (pglite-socket) to the server's own knex/pg search code. No PostgreSQL server here has pgvector, so`,
      'this is the only place the HNSW path runs: **recall carries over to a server; latencies do not** (WASM, one thread, in the benchmark\'s own process).', '',
      `${total} passages: the 1300 of the generated set (inference/embeddings/train/eval-qa.jsonl) in collection "eval", the rest copies in "load"`,
      '(the same vectors again: many exact duplicates, which makes the HNSW graph harder to search than real text would);',
      `HNSW index (m = 16, ef_construction = 64, pgvector defaults) on inner product; queries with hnsw.ef_search = 40 and iterative scans (relaxed order).`,
      `Insert of all passages with the index in place: ${f(insertS)} s.`, '',
      `## Recall@5, vector path only, first ${QUESTIONS} questions, collection "eval" (${share} of the index)`, '',
      '| path | recall@5 |', '|---|---|',
      ...Object.entries(recall).map(([k, v]) => `| ${k} | ${f(v, 3)} |`), '',
      '## Query latency, vector path (ms; 60 queries, both collections, the query embedding included)', '',
      '| path | p50 | p95 |', '|---|---|---|',
      ...Object.entries(latency).map(([k, v]) => `| ${k} | ${f(v.p50)} | ${f(v.p95)} |`), '',
    ].join('\n');
    writeFileSync(path.join(here, 'results', `retrieval-pgvector-${SIZE}.md`), md);
    console.log(md);
  } finally {
    await embedder.close();
    await knex.destroy();
    await socket.stop();
    await pglite.close();
  }
}
