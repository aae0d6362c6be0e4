import type { Knex } from 'knex';
import { dot, type Embedder } from '../inference/embeddings/index.ts';
import type { Actor } from '../schemas/common.ts';
import { CHUNKS, DOCUMENTS, unpackVector } from './tables.ts';
import { VECTOR_COLUMN, vectorLiteral, type VectorPath } from './vector-index.ts';

// Hybrid retrieval over a tenant's collections: PostgreSQL full-text search (ts_rank_cd with
// length normalisation, the BM25-like ranking PostgreSQL has; query words OR-ed, so a question
// need not contain every word of a passage) and exact vector search in process (cosine of unit
// vectors = dot product over Float32Arrays), fused by reciprocal rank (RRF, k = 60).
//
// Tenant isolation is the first filter of both paths: every SQL statement names the caller's
// tenant, and the vector cache is keyed by tenant; within the tenant a private document is seen
// only by its owner (and the tenant's admins).
//
// Vector paths (vector-index.ts decides at start): with pgvector, an HNSW index scan in PostgreSQL
// (approximate; its limits are there). Without it, exact search in process: O(chunks × dimensions)
// per query, in the event loop; the vectors of a (tenant, collection) are cached in memory
// (dimensions × 4 bytes per chunk) and reloaded when the collection changes.

export const RRF_K = 60;

export type Passage = {
  chunkId: string;
  documentId: string;
  title: string;
  collection: string;
  text: string;
  /** fused score: Σ 1 / (RRF_K + rank) over the paths that found it */
  score: number;
  /** 1-based rank in each path, null when that path did not return it */
  textRank: number | null;
  vectorRank: number | null;
  vectorScore: number | null;
};

export type SearchOptions = { collections: string[]; query: string; topK?: number; mode?: 'hybrid' | 'text' | 'vector' };

type CacheEntry = { version: string; ids: string[]; owners: string[]; shared: boolean[]; dims: number; matrix: Float32Array };

export class HybridSearch {
  private readonly cache = new Map<string, CacheEntry>();
  /** set at start by prepareVectorIndex (exact until then) */
  vectorPath: VectorPath = { kind: 'exact', reason: 'not detected yet' };

  constructor(private readonly knex: Knex, private readonly embedder: () => Promise<Embedder>) {}

  async search(actor: Actor, opts: SearchOptions): Promise<Passage[]> {
    const topK = opts.topK ?? 5;
    const depth = Math.max(topK * 4, 20);
    const mode = opts.mode ?? 'hybrid';
    const [text, vector] = await Promise.all([
      mode === 'vector' ? [] : this.textSearch(actor, opts.collections, opts.query, depth),
      mode === 'text' ? [] : this.vectorSearch(actor, opts.collections, opts.query, depth),
    ]);
    const fused = new Map<string, { score: number; textRank: number | null; vectorRank: number | null; vectorScore: number | null }>();
    text.forEach((id, i) => fused.set(id, { score: 1 / (RRF_K + i + 1), textRank: i + 1, vectorRank: null, vectorScore: null }));
    vector.forEach(({ id, score }, i) => {
      const f = fused.get(id) ?? { score: 0, textRank: null, vectorRank: null, vectorScore: null };
      fused.set(id, { ...f, score: f.score + 1 / (RRF_K + i + 1), vectorRank: i + 1, vectorScore: score });
    });
    const best = [...fused.entries()].sort((a, b) => b[1].score - a[1].score || a[0].localeCompare(b[0])).slice(0, topK);
    if (best.length === 0) return [];
    const rows = await this.knex(`${CHUNKS} as c`).join(`${DOCUMENTS} as d`, 'd.id', 'c.document_id')
      // the same tenant and visibility rules again, so a passage never leaks through one path's slip
      .where('c.tenant_id', actor.tenantId).whereIn('c.id', best.map(([id]) => id))
      .andWhere((q) => { q.where('c.visibility', 'shared').orWhere('c.owner_id', actor.userId); if (isAdmin(actor)) q.orWhereRaw('true'); })
      .select('c.id', 'c.document_id', 'c.text', 'c.collection', 'd.title') as { id: string; document_id: string; text: string; collection: string; title: string }[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    return best.flatMap(([id, f]) => {
      const r = byId.get(id);
      return r ? [{ chunkId: id, documentId: r.document_id, title: r.title, collection: r.collection, text: r.text, ...f }] : [];
    });
  }

  /** Chunk ids by full-text rank (best first). */
  async textSearch(actor: Actor, collections: string[], query: string, limit: number): Promise<string[]> {
    const { rows } = await this.knex.raw(
      `with q as (select nullif(replace(plainto_tsquery('english', ?)::text, '&', '|'), '')::tsquery as q)
       select c.id from ${CHUNKS} c, q
        where q.q is not null and c.tenant_id = ? and c.collection = any(?) and (c.visibility = 'shared' or c.owner_id = ? or ?)
          and c.tsv @@ q.q
        order by ts_rank_cd(c.tsv, q.q, 1) desc, c.id
        limit ?`,
      [query, actor.tenantId, collections, actor.userId, isAdmin(actor), limit],
    );
    return (rows as { id: string }[]).map((r) => r.id);
  }

  /** Chunk ids by cosine similarity to the query's embedding (best first): pgvector's HNSW index, or exact in process. */
  async vectorSearch(actor: Actor, collections: string[], query: string, limit: number): Promise<{ id: string; score: number }[]> {
    const embedder = await this.embedder();
    const [q] = (await embedder.embed([query])).vectors;
    if (this.vectorPath.kind === 'pgvector') return this.indexSearch(actor, collections, q!, limit, this.vectorPath.iterativeScan);
    const top: { id: string; score: number }[] = [];
    const admin = isAdmin(actor);
    for (const entry of await this.entries(actor.tenantId, collections)) {
      for (let i = 0; i < entry.ids.length; i++) {
        if (!entry.shared[i] && entry.owners[i] !== actor.userId && !admin) continue;
        const score = dot(q!, entry.matrix.subarray(i * entry.dims, (i + 1) * entry.dims));
        if (top.length < limit || score > top[top.length - 1]!.score) {
          top.push({ id: entry.ids[i]!, score });
          top.sort((a, b) => b.score - a.score);
          if (top.length > limit) top.pop();
        }
      }
    }
    return top;
  }

  /** The HNSW path: inner product on unit vectors (= cosine), filtered by tenant and visibility. */
  private async indexSearch(actor: Actor, collections: string[], q: Float32Array, limit: number, iterativeScan: boolean): Promise<{ id: string; score: number }[]> {
    const literal = vectorLiteral(q);
    const rows = await this.knex.transaction(async (trx) => {
      await trx.raw(`select set_config('hnsw.ef_search', ?, true)`, [String(Math.min(1000, Math.max(40, limit * 2)))]);
      // Keep scanning the graph until enough candidates pass the filters (pgvector >= 0.8).
      if (iterativeScan) await trx.raw(`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      const { rows } = await trx.raw(
        `select id, -(${VECTOR_COLUMN} <#> ?::vector) as score from ${CHUNKS}
          where tenant_id = ? and collection = any(?) and (visibility = 'shared' or owner_id = ? or ?) and ${VECTOR_COLUMN} is not null
          order by ${VECTOR_COLUMN} <#> ?::vector
          limit ?`,
        [literal, actor.tenantId, collections, actor.userId, isAdmin(actor), literal, limit],
      );
      return rows as { id: string; score: number }[];
    });
    // relaxed_order may return neighbours slightly out of order: sort by the exact score.
    return rows.map((r) => ({ id: r.id, score: Number(r.score) })).sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  }

  /** The cached vectors of each (tenant, collection), reloaded when its rows changed. */
  private async entries(tenantId: string, collections: string[]): Promise<CacheEntry[]> {
    const { rows } = await this.knex.raw(
      `select collection, count(*)::text || ':' || coalesce(max(seq), 0)::text as version from ${CHUNKS}
        where tenant_id = ? and collection = any(?) group by collection`,
      [tenantId, collections],
    );
    const out: CacheEntry[] = [];
    for (const { collection, version } of rows as { collection: string; version: string }[]) {
      const key = `${tenantId}\u0000${collection}`;
      let entry = this.cache.get(key);
      if (entry?.version !== version) {
        entry = await this.load(tenantId, collection, version);
        this.cache.set(key, entry);
      }
      out.push(entry);
    }
    return out;
  }

  private async load(tenantId: string, collection: string, version: string): Promise<CacheEntry> {
    const rows = await this.knex(CHUNKS).where({ tenant_id: tenantId, collection }).orderBy('seq')
      .select('id', 'owner_id', 'visibility', 'embedding') as { id: string; owner_id: string; visibility: string; embedding: Buffer }[];
    const dims = rows[0] ? rows[0].embedding.length / 4 : 0;
    const matrix = new Float32Array(rows.length * dims);
    rows.forEach((r, i) => matrix.set(unpackVector(r.embedding), i * dims));
    return { version, ids: rows.map((r) => r.id), owners: rows.map((r) => r.owner_id), shared: rows.map((r) => r.visibility === 'shared'), dims, matrix };
  }
}

const isAdmin = (actor: Actor) => actor.roles.includes('admin');
