// `npm run bench:retrieval`: the figures of issue 19 that exist without retrieval in the turn —
// recall@5 of each search path on a generated question→passage set (held-out names), embedding
// throughput (batch 1 vs 32, same run, same worker), and query latency (p50/p95) of each path with
// 10k and 100k passages. Writes bench/results/retrieval.{json,md}.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { createEmbedder } from '../inference/embeddings/index.ts';
import { CHUNKS, createDocumentTables, DOCUMENTS, HybridSearch } from '../knowledge/index.ts';
import { packVector } from '../knowledge/tables.ts';
import type { Actor } from '../schemas/common.ts';
import { createTestDatabase } from '../tests/support/database.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const EVAL = path.join(here, '..', 'inference', 'embeddings', 'train', 'eval-qa.jsonl');
const actor: Actor = { userId: 'bench', tenantId: 'bench', roles: ['user'] };
const modes = ['hybrid', 'text', 'vector'] as const;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function run(): Promise<void> {
  const pairs = readFileSync(EVAL, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { query: string; passage: string });
  const db = await createTestDatabase();
  const knex = createKnex(db.url, 4);
  const embedder = await createEmbedder({ maxBatch: 32 });
  try {
    await createDocumentTables(knex);
    // --- throughput: batch 1 vs 32, then batch 1 again (noise) ---
    const texts = pairs.slice(0, 256).map((p) => p.passage);
    const timeIt = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return texts.length / ((performance.now() - t) / 1000); };
    const one = async () => { for (const t of texts) await embedder.embed([t]); };
    const batched = async () => { await embedder.embed(texts); };
    const throughput = { batch1: await timeIt(one), batch32: await timeIt(batched), batch1Again: await timeIt(one) };

    // --- recall@5 on the generated set: one passage per fact, 1300 facts about 300 held-out names ---
    const { vectors } = await embedder.embed(pairs.map((p) => p.passage));
    await knex(DOCUMENTS).insert({ id: 'eval', tenant_id: 'bench', owner_id: 'bench', collection: 'eval', visibility: 'shared', title: 'eval', chunks: pairs.length, chars: 0, added_at: new Date() });
    const rows = pairs.map((p, i) => ({
      id: `eval:${i}`, document_id: 'eval', tenant_id: 'bench', owner_id: 'bench', collection: 'eval', visibility: 'shared', ord: i, text: p.passage,
      tsv: knex.raw(`to_tsvector('english', ?)`, [p.passage]), embedding: packVector(vectors[i]!),
    }));
    for (let i = 0; i < rows.length; i += 500) await knex(CHUNKS).insert(rows.slice(i, i + 500));
    const search = new HybridSearch(knex, async () => embedder);
    const recall: Record<string, number> = {};
    for (const mode of modes) {
      let hits = 0;
      for (const [i, p] of pairs.entries()) {
        const found = await search.search(actor, { collections: ['eval'], query: p.query, topK: 5, mode });
        if (found.some((f) => f.chunkId === `eval:${i}`)) hits++;
      }
      recall[mode] = hits / pairs.length;
    }

    // --- latency with 10k and 100k passages (the set copied under new ids, in SQL) ---
    const latency: Record<string, Record<string, { p50: number; p95: number; coldMs: number }>> = {};
    for (const size of [10_000, 100_000]) {
      const have = Number((await knex(CHUNKS).count<{ count: string }[]>('* as count'))[0]!.count);
      const copies = Math.ceil((size - have) / pairs.length);
      for (let c = 0; c < copies; c++) {
        await knex.raw(`insert into ${CHUNKS} (id, document_id, tenant_id, owner_id, collection, visibility, ord, text, tsv, embedding)
          select id || ':c' || ?::text || ':' || ?::text, document_id, tenant_id, owner_id, 'load', visibility, ord, text, tsv, embedding
            from ${CHUNKS} where collection = 'eval' limit ?`, [size, c, Math.min(pairs.length, size - have - c * pairs.length)]);
      }
      await knex.raw(`analyze ${CHUNKS}`);
      latency[String(size)] = {};
      for (const mode of modes) {
        const t0 = performance.now();
        await search.search(actor, { collections: ['eval', 'load'], query: pairs[0]!.query, topK: 5, mode });
        const coldMs = performance.now() - t0; // the first vector query loads the collection's vectors
        const times: number[] = [];
        for (const p of pairs.slice(1, 61)) {
          const t = performance.now();
          await search.search(actor, { collections: ['eval', 'load'], query: p.query, topK: 5, mode });
          times.push(performance.now() - t);
        }
        latency[String(size)]![mode] = { p50: pct(times, 50), p95: pct(times, 95), coldMs };
      }
    }

    const result = { date: new Date().toISOString(), cpus: os.cpus().length, load: os.loadavg()[0], model: embedder.model, dimensions: embedder.dimensions, evalPairs: pairs.length, recallAt5: recall, throughputTextsPerS: throughput, latencyMs: latency };
    writeFileSync(path.join(here, 'results', 'retrieval.json'), JSON.stringify(result, null, 2) + '\n');
    const f = (x: number, d = 1) => x.toFixed(d);
    const md = [
      '# Retrieval (issue 19)', '',
      `Measured ${result.date} by \`npm run bench:retrieval\` on ${result.cpus} shared cores (1-min load average at the end: ${f(result.load)}; the machine was shared with other jobs, so absolute times are noisy — compare rows within this run).`,
      `Model: ${result.model} (${result.dimensions} dimensions, inference/embeddings), one worker thread, 1 intra-op thread.`, '',
      `## Recall@5 on the generated question→passage set`, '',
      `${pairs.length} questions about facts of 300 fictional names held out from training (inference/embeddings/train/eval-qa.jsonl, generated by pairs.py); each question has one right passage among ${pairs.length}.`, '',
      '| path | recall@5 |', '|---|---|',
      ...modes.map((m) => `| ${m} | ${f(recall[m]!, 3)} |`), '',
      'The set is easy for full text: every question names its entity, a made-up word found in few passages. It checks that each path and the fusion work end to end; it says little about paraphrase-heavy questions.', '',
      '## Embedding throughput (texts/s, 256 short passages)', '',
      '| batch 1 | batch 32 | batch 1 again |', '|---|---|---|',
      `| ${f(throughput.batch1)} | ${f(throughput.batch32)} | ${f(throughput.batch1Again)} |`, '',
      '## Query latency (ms; 60 queries after one cold query)', '',
      'text: PostgreSQL full text (GIN index, ts_rank_cd); vector: exact dot products in process over the cached Float32Arrays (the query embedding included); hybrid: both, fused by reciprocal rank, plus the read of the passages. Cold: the first query, which loads the vectors of the collections.', '',
      '| passages | path | p50 | p95 | cold |', '|---|---|---|---|---|',
      ...Object.entries(latency).flatMap(([size, byMode]) => modes.map((m) => `| ${size} | ${m} | ${f(byMode[m]!.p50)} | ${f(byMode[m]!.p95)} | ${f(byMode[m]!.coldMs)} |`)), '',
      'The end-to-end TTFT cost of retrieval in the turn at 16 users is measured by the pipeline bench (`npm run bench:pipeline -- --models shipped --users 16 --out pipeline-retrieval --retrieval 200`, with and without): bench/results/pipeline-retrieval.md.', '',
    ].join('\n');
    writeFileSync(path.join(here, 'results', 'retrieval.md'), md);
    console.log(md);
  } finally {
    await embedder.close();
    await knex.destroy();
    await db.drop();
  }
}
