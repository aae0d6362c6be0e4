// What the scenarios check, read from the deployment's own database: the event log (the truth)
// and the read models against a rebuild of them from that log.
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { projections, rebuildProjection } from '../../projections/index.ts';
import { readCheckpoint } from '../../eventstore/postgres/checkpoints.ts';
import type { Cluster } from './cluster.ts';
import { waitUntil } from './client.ts';

const TERMINAL = ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'];

export type Outcomes = {
  generations: number;
  ended: number;
  /** accepted but no terminal event by the deadline */
  lost: string[];
  /** more than one terminal event */
  doubleEnded: string[];
  byOutcome: Record<string, number>;
};

/** Terminal events of these generations (GenerationCompleted by finish reason, failures by code). */
export async function outcomes(c: Cluster, ids: string[]): Promise<Outcomes> {
  const rows = ids.length === 0 ? [] : await c.query<{ g: string; type: string; reason: string | null }>(
    `select data->>'generationId' as g, type, coalesce(data->>'finishReason', data->>'code', data->>'reason') as reason
       from parley_events where type = any($1) and data->>'generationId' = any($2)`,
    [TERMINAL, ids],
  );
  const per = new Map<string, number>();
  const byOutcome: Record<string, number> = {};
  for (const r of rows) {
    per.set(r.g, (per.get(r.g) ?? 0) + 1);
    const k = r.type === 'GenerationCompleted' ? `completed:${r.reason}` : `${r.type.replace('Generation', '').toLowerCase()}:${r.reason}`;
    byOutcome[k] = (byOutcome[k] ?? 0) + 1;
  }
  return {
    generations: ids.length,
    ended: ids.filter((g) => per.has(g)).length,
    lost: ids.filter((g) => !per.has(g)),
    doubleEnded: ids.filter((g) => (per.get(g) ?? 0) > 1),
    byOutcome,
  };
}

/** Resolves once this generation has a terminal event (or after `timeoutMs`): a client waiting for its answer. */
export async function answered(c: Cluster, generationId: string, timeoutMs = 60_000): Promise<boolean> {
  return (await waitUntil(async () => (await c.query(`select 1 from parley_events where type = any($1) and data->>'generationId' = $2 limit 1`, [TERMINAL, generationId])).length > 0, timeoutMs, 150)) !== null;
}

/** Where turns without an outcome are stuck: no GenerationRequested yet, or the job's status. */
export async function whereStuck(c: Cluster, ids: string[]): Promise<Record<string, number | string>> {
  if (!ids.length) return {};
  const rows = await c.query<{ g: string; requested: boolean; blocked: boolean; status: string | null; attempt: number | null }>(
    `select g, exists (select 1 from parley_events where type = 'GenerationRequested' and data->>'generationId' = g) as requested,
            j.status, j.attempt
       from unnest($1::text[]) as g left join generation_jobs j on j.generation_id = g`, [ids]);
  const out: Record<string, number | string> = {};
  // Readers only read below the oldest running transaction of the whole server (README, "The event
  // store"): a long transaction of another database on a shared PostgreSQL stalls the pipeline.
  const [oldest] = await c.query<{ datname: string; age: number }>(
    `select datname, extract(epoch from now() - xact_start)::int as age from pg_stat_activity where backend_xid is not null or backend_xmin is not null order by xact_start limit 1`);
  if (oldest) out['oldest transaction on the server'] = `${oldest.age} s in ${oldest.datname}`;
  for (const r of rows) {
    const k = !r.requested ? 'no GenerationRequested' : r.status === null ? 'requested, no job' : `job ${r.status} (attempt ${r.attempt})`;
    out[k] = Number(out[k] ?? 0) + 1;
  }
  return out;
}

/** Waits until every generation has ended (or the deadline), then reports. */
export async function waitForOutcomes(c: Cluster, ids: string[], timeoutMs: number): Promise<Outcomes & { waitedMs: number }> {
  const t0 = Date.now();
  await waitUntil(async () => (await outcomes(c, ids)).ended === ids.length, timeoutMs, 500);
  return { ...(await outcomes(c, ids)), waitedMs: Date.now() - t0 };
}

/** The answer as the log has it: the text of the attempt that completed (the last one), and any token index written twice. */
export async function serverText(c: Cluster, generationId: string): Promise<{ text: string; attempt: number; duplicateChunks: number; finishReason: string | null }> {
  const events = await c.store.readStream(`generation-${generationId}`);
  let attempt = 0;
  let finishReason: string | null = null;
  for (const e of events) {
    if (e.type === 'TokensGenerated') attempt = Math.max(attempt, e.data.attempt);
    if (e.type === 'GenerationCompleted') { attempt = e.data.attempt; finishReason = e.data.finishReason; }
  }
  const chunks = events.flatMap((e) => (e.type === 'TokensGenerated' && e.data.attempt === attempt ? [e.data] : []));
  const seen = new Set<number>();
  let duplicateChunks = 0;
  for (const ch of chunks) (seen.has(ch.firstIndex) ? duplicateChunks++ : seen.add(ch.firstIndex));
  const text = [...new Map(chunks.map((ch) => [ch.firstIndex, ch.text])).entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join('');
  return { text, attempt, duplicateChunks, finishReason };
}

/** Per event type, events whose id or (stream, content) appears more than once: duplicates a crash might leave. */
export async function duplicateEvents(c: Cluster): Promise<{ duplicateMessages: number; duplicateInputChecks: number; duplicateRequests: number }> {
  const [m] = await c.query(`select count(*)::int as n from (select data->>'messageId' from parley_events where type = 'MessageSubmitted' group by 1 having count(*) > 1) x`);
  const [s] = await c.query(`select count(*)::int as n from (select data->>'messageId' from parley_events where type = 'SafetyChecked' and data->>'stage' = 'input' group by 1 having count(*) > 1) x`);
  const [r] = await c.query(`select count(*)::int as n from (select data->>'generationId' from parley_events where type = 'GenerationRequested' group by 1 having count(*) > 1) x`);
  return { duplicateMessages: m.n, duplicateInputChecks: s.n, duplicateRequests: r.n };
}

/** Columns filled from a sequence differ after a crash repeats a batch without meaning anything: left out. */
async function comparableColumns(c: Cluster, table: string): Promise<string[]> {
  const rows = await c.query<{ column_name: string; column_default: string | null }>(
    `select column_name, column_default from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`, [table]);
  return rows.filter((r) => !(r.column_default ?? '').startsWith('nextval(')).map((r) => r.column_name);
}

async function snapshot(c: Cluster, table: string, columns: string[]): Promise<string[]> {
  const cols = columns.map((x) => `"${x}"`).join(', ');
  const rows = await c.query(`select ${cols} from ${table}`);
  return rows.map((r) => JSON.stringify(r)).sort();
}

export type ReadModelDiff = { table: string; live: number; rebuilt: number; onlyLive: number; onlyRebuilt: number; differingColumns?: Record<string, number>; example?: { live?: string; rebuilt?: string } };

/** For rows present on both sides under the same first column (the key) but different: which columns differ, and one example. */
function columnDiff(onlyLive: string[], onlyRebuilt: string[]): { counts: Record<string, number>; example?: { live: string; rebuilt: string } } {
  const key = (r: Record<string, unknown>) => JSON.stringify(Object.values(r)[0]);
  const rebuilt = new Map(onlyRebuilt.map((r) => { const o = JSON.parse(r); return [key(o), o as Record<string, unknown>]; }));
  const counts: Record<string, number> = {};
  let example: { live: string; rebuilt: string } | undefined;
  for (const r of onlyLive) {
    const a = JSON.parse(r) as Record<string, unknown>;
    const b = rebuilt.get(key(a));
    if (!b) continue;
    const cols = Object.keys(a).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    for (const k of cols) counts[k] = (counts[k] ?? 0) + 1;
    example ??= { live: JSON.stringify(Object.fromEntries([[Object.keys(a)[0], Object.values(a)[0]], ...cols.map((k) => [k, a[k]])])).slice(0, 400),
      rebuilt: JSON.stringify(Object.fromEntries(cols.map((k) => [k, b[k]]))).slice(0, 400) };
  }
  return { counts, example };
}

/**
 * Waits for every projection to reach the head of the log, snapshots its tables, rebuilds it from
 * the log (projections/rebuild.ts, what `parley project rebuild --all` runs) and compares the rows.
 * The rebuild is swapped in, so the deployment ends up with the rebuilt tables.
 */
export async function readModelsVersusRebuild(c: Cluster): Promise<{ equal: boolean; caughtUpMs: number | null; tables: ReadModelDiff[] }> {
  const knex = createKnex(c.harnessUrl, 2);
  try {
    const caughtUpMs = await waitUntil(async () => {
      const head = await c.store.headPosition();
      for (const p of projections) if ((await readCheckpoint(knex, p.name)) !== head) return false;
      return true;
    }, 120_000, 500);
    if (caughtUpMs === null) return { equal: false, caughtUpMs, tables: [] }; // still behind: nothing fair to compare
    const tables: ReadModelDiff[] = [];
    for (const p of projections) {
      const before = new Map<string, string[]>();
      const cols = new Map<string, string[]>();
      for (const t of p.tables) {
        cols.set(t, await comparableColumns(c, t));
        before.set(t, await snapshot(c, t, cols.get(t)!));
      }
      await rebuildProjection(knex, c.store, p);
      for (const t of p.tables) {
        const live = before.get(t)!;
        const rebuilt = await snapshot(c, t, cols.get(t)!);
        const liveSet = new Set(live);
        const rebuiltSet = new Set(rebuilt);
        const onlyLive = live.filter((r) => !rebuiltSet.has(r));
        const onlyRebuilt = rebuilt.filter((r) => !liveSet.has(r));
        const diff = onlyLive.length || onlyRebuilt.length ? columnDiff(onlyLive, onlyRebuilt) : null;
        tables.push({
          table: t, live: live.length, rebuilt: rebuilt.length, onlyLive: onlyLive.length, onlyRebuilt: onlyRebuilt.length,
          ...(diff ? { differingColumns: diff.counts, example: diff.example ?? { live: onlyLive[0]?.slice(0, 400), rebuilt: onlyRebuilt[0]?.slice(0, 400) } } : {}),
        });
      }
    }
    return { equal: tables.every((t) => t.onlyLive === 0 && t.onlyRebuilt === 0), caughtUpMs, tables };
  } finally {
    await knex.destroy();
  }
}
