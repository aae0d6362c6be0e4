import type { Knex } from 'knex';
import { CHUNKS, unpackVector } from './tables.ts';

// Which vector search path this database gives: pgvector's HNSW index when the server has the
// extension (detected at start: pg_available_extensions), otherwise the exact in-process scan over
// Float32Arrays (hybrid-search.ts). With pgvector, the passages get a second copy of their
// embedding in a `vector(dims)` column (embedding_v) with an HNSW index on inner product (the
// vectors are unit length, so inner product = cosine); the bytea column stays the source, so
// switching paths needs no re-embedding, only the backfill below.
//
// Limits of the pgvector path: HNSW is approximate (recall depends on hnsw.ef_search, set per query
// to max(40, 2 × depth)); the tenant / collection / visibility filters run on the index's
// candidates, so a tenant with a small share of a big index could get fewer passages than asked —
// pgvector ≥ 0.8's iterative scans (hnsw.iterative_scan = relaxed_order, set when available) keep
// scanning until enough pass the filter; before 0.8 they are not available and the results may be
// short. Creating the extension needs the privilege to (a superuser, or a trusted extension on
// managed services); without it the exact path is used and the reason is logged.

export type VectorPath =
  | { kind: 'pgvector'; version: string; iterativeScan: boolean }
  | { kind: 'exact'; reason: string };

export const VECTOR_COLUMN = 'embedding_v';
const INDEX = `${CHUNKS}_hnsw`;

/** Is the extension there to be created (available), and is it created (installed)? */
export async function detectPgvector(knex: Knex): Promise<{ available: boolean; installed: string | null; defaultVersion: string | null }> {
  const { rows } = await knex.raw(`select default_version, installed_version from pg_available_extensions where name = 'vector'`);
  const row = rows[0] as { default_version: string; installed_version: string | null } | undefined;
  return { available: Boolean(row), installed: row?.installed_version ?? null, defaultVersion: row?.default_version ?? null };
}

/**
 * Detects pgvector and, when the server has it, creates the extension, the vector column and the
 * HNSW index (idempotent; several processes may race here: a lost race is re-checked), then fills
 * the column for passages indexed before. `mode: 'exact'` (PARLEY_VECTOR_SEARCH=exact) skips it all.
 */
export async function prepareVectorIndex(knex: Knex, dims: number, mode: 'auto' | 'exact' = 'auto'): Promise<VectorPath> {
  if (mode === 'exact') return { kind: 'exact', reason: 'PARLEY_VECTOR_SEARCH=exact' };
  const found = await detectPgvector(knex);
  if (!found.available) return { kind: 'exact', reason: 'the PostgreSQL server has no pgvector extension (pg_available_extensions)' };
  try {
    if (!found.installed) await knex.raw('create extension if not exists vector');
  } catch (error) {
    if (!(await detectPgvector(knex)).installed) return { kind: 'exact', reason: `pgvector is available but could not be created: ${(error as Error).message}` };
  }
  try {
    await knex.raw(`alter table ${CHUNKS} add column if not exists ${VECTOR_COLUMN} vector(${dims})`);
    await knex.raw(`create index if not exists ${INDEX} on ${CHUNKS} using hnsw (${VECTOR_COLUMN} vector_ip_ops)`);
  } catch (error) {
    // Another process created them first (a race of "if not exists"), or the column has other dimensions.
    const { rows } = await knex.raw(`select format_type(a.atttypid, a.atttypmod) as type from pg_attribute a where a.attrelid = ?::regclass and a.attname = ? and not a.attisdropped`, [CHUNKS, VECTOR_COLUMN]);
    const type = (rows[0] as { type: string } | undefined)?.type;
    if (type !== `vector(${dims})`) return { kind: 'exact', reason: `the ${VECTOR_COLUMN} column is ${type ?? 'missing'}, not vector(${dims}): ${(error as Error).message}` };
  }
  await backfill(knex);
  const version = (await detectPgvector(knex)).installed ?? found.defaultVersion ?? '0';
  return { kind: 'pgvector', version, iterativeScan: atLeast(version, [0, 8]) };
}

/** pgvector's text form of a vector: '[x,y,…]'. */
export const vectorLiteral = (v: Float32Array | readonly number[]) => `[${Array.from(v).join(',')}]`;

// Passages written before the column existed (or by a process on the exact path) get their vector.
async function backfill(knex: Knex): Promise<void> {
  for (;;) {
    const rows = await knex(CHUNKS).whereNull(VECTOR_COLUMN).select('id', 'embedding').limit(500) as { id: string; embedding: Buffer }[];
    if (rows.length === 0) return;
    await knex.raw(
      `update ${CHUNKS} c set ${VECTOR_COLUMN} = x.v::vector from jsonb_to_recordset(?::jsonb) as x(id text, v text) where c.id = x.id`,
      [JSON.stringify(rows.map((r) => ({ id: r.id, v: vectorLiteral(unpackVector(r.embedding)) })))],
    );
  }
}

function atLeast(version: string, min: [number, number]): boolean {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > min[0] || (major === min[0] && minor >= min[1]);
}
