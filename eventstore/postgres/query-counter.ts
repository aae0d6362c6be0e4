import pg from 'pg';

// Counts every round trip this process makes to PostgreSQL, by operation: the event store's pool,
// knex (read models, projections, checkpoints, job queue, admission), the key store and the
// LISTEN client all send their statements through pg.Client.prototype.query (pg.Pool and knex's pg
// dialect both call it on a pooled Client), so one wrapper there sees them all; new connections
// are counted too (op "connect": the startup handshake is a round trip of its own).
// Exposed as parley_db_queries_total{role,op} (read-api/http/metrics.ts); the benchmark
// bench/pipeline.bench.ts divides it by turns.
//
// Cost per query: one Map lookup of the SQL text (its label is classified once and memoised) and
// one integer increment; no prom-client call on the hot path (the counter is read at scrape time).

const counts = new Map<string, number>();
const labels = new Map<string, string>();
const MAX_MEMO = 4096; // distinct statement texts remembered (multi-row inserts vary; beyond this, classify each time)
let installed = false;

export function installQueryCounter(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown; connect: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function countedQuery(this: unknown, ...args: unknown[]) {
    const config = args[0];
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text;
    count(typeof text === 'string' ? opOf(text) : 'other');
    return query.apply(this, args);
  };
  const connect = proto.connect;
  proto.connect = function countedConnect(this: unknown, ...args: unknown[]) {
    count('connect');
    return connect.apply(this, args);
  };
}

function count(op: string): void {
  counts.set(op, (counts.get(op) ?? 0) + 1);
}

/** Round trips so far in this process, by operation (cumulative). */
export function queryCounts(): ReadonlyMap<string, number> {
  return counts;
}

function opOf(sql: string): string {
  let op = labels.get(sql);
  if (op === undefined) {
    op = classifyQuery(sql);
    if (labels.size < MAX_MEMO) labels.set(sql, op);
  }
  return op;
}

// A bounded set of labels: Parley's own statements by name, anything else as sql:<verb>:<table>
// (table names stripped of digits and hex suffixes, so rebuild tables do not add labels).
export function classifyQuery(sql: string): string {
  const s = sql.trimStart().slice(0, 2000).toLowerCase();
  const verb = /^[a-z]+/.exec(s)?.[0] ?? 'other';
  if (verb === 'begin' || verb === 'commit' || verb === 'rollback' || verb === 'savepoint' || verb === 'release') return `tx:${verb}`;
  if (verb === 'listen' || verb === 'unlisten') return verb;
  if (s.includes('parley_append(')) return 'append';
  if (s.includes('parley_append_many(')) return 'append_many';
  if (s.includes('generation_jobs')) {
    if (s.includes('insert into') || s.startsWith('insert')) return 'job_enqueue';
    if (s.includes('skip locked')) return s.includes("'failed'") ? 'job_reap' : 'job_claim';
    if (verb === 'update' && s.includes('lease_until = now() +')) return 'job_heartbeat';
    if (verb === 'update') return 'job_finish';
    return `job:${verb}`;
  }
  if (s.includes('pg_notify(')) return 'notify';
  if (s.includes('subject_keys')) return 'key';
  if (s.includes('parley_checkpoints')) return `checkpoint:${verb}`;
  if (s.includes('parley_events')) {
    if (s.includes('stream_revision = 0')) return 'stream_subject';
    if (s.includes('stream_id = $1') || s.includes('stream_id = any(')) return 'read_stream';
    if (s.includes('(transaction_id, position) >')) return 'read_all';
    if (s.includes('order by transaction_id desc')) return 'head';
    return `events:${verb}`;
  }
  if (s.includes('parley_streams')) return 'stream_revision';
  const table = /\b(?:from|into|update|join)\s+"?(?:[a-z_][a-z0-9_]*"?\.)?"?([a-z_][a-z0-9_]*)/.exec(s)?.[1];
  if (!table) return `sql:${verb}`;
  return `sql:${verb}:${table.replace(/(_[0-9a-f]{6,}|[0-9])+$/g, '').replace(/[0-9]/g, '').slice(0, 40)}`;
}
