// `npm run bench projections`: what applying the read-model projections costs, per batch of the
// log: SQL statements per batch (round trips inside the checkpoint transaction) and events/s.
// One log of chat turns is written once (through CommandHandler.executeMany, plus the saga's and
// worker's SafetyChecked records), then every projection replays it from the start into fresh
// tables, in batches of BATCH events, as the projection runner does.
// BENCH_BEFORE_TREE=<another checkout> also measures that checkout's projections on the same log,
// interleaved rep by rep with this one's (same database, same run window): the before/after table.
// Results: bench/results/projections.{json,md}.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CommandHandler } from '../commands/command-handler.ts';
import { deterministicEventId } from '../commands/event-ids.ts';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../eventstore/postgres/event-store.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import { START, type EventToAppend, type RecordedEvent, type StreamAppend } from '../eventstore/port.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONVERSATIONS = Number(process.env.BENCH_PROJ_CONVERSATIONS ?? 200);
const ROUNDS = Number(process.env.BENCH_PROJ_ROUNDS ?? 10); // turns per conversation
const BATCH = 500; // the projection runner's default batch
const REPS = 3;

type ProjectionLike = {
  name: string;
  tables: readonly string[];
  types: readonly string[];
  createTables(knex: unknown, names: Record<string, string>): Promise<void>;
  apply(trx: unknown, events: RecordedEvent[], names: Record<string, string>, context?: unknown): Promise<void>;
};

const actor = (i: number) => ({ userId: `user${i % 50}`, tenantId: 'bench', roles: ['user' as const] });
const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] };
const hash = 'a'.repeat(64);

function safety(stage: 'input' | 'output', conversationId: string, messageId: string, generationId: string, cause: string, streamId: string): EventToAppend {
  return {
    type: 'SafetyChecked', version: 1,
    data: {
      conversationId, messageId: stage === 'input' ? messageId : null, generationId, stage, verdict: 'allowed',
      categories: [{ category: 'dangerous', score: 0.01, severity: 'NEGLIGIBLE', blocked: false }],
      policyVersion: 'bench', latencyMs: 0.2, degraded: false, contentHash: hash,
    },
    metadata: {
      eventId: deterministicEventId(`bench:${stage}:${cause}`, streamId, 0), correlationId: cause, causationId: null, commandId: null,
      actor: { userId: 'saga', tenantId: 'bench', roles: ['admin'] }, occurredAt: new Date().toISOString(),
    },
  };
}

// A chat log: CONVERSATIONS conversations × ROUNDS turns (message, input check, request, three
// token chunks, output check, completion; feedback on every 4th answer, a rename every 10th turn).
async function writeLog(store: PostgresEventStore): Promise<number> {
  const handler = new CommandHandler({ store });
  const ok = (rs: { ok: boolean }[]) => { const bad = rs.find((r) => !r.ok); if (bad) throw new Error(JSON.stringify(bad)); };
  const cmd = (type: string, data: object, i: number) => ({ type, data, metadata: { commandId: randomUUID(), actor: actor(i) } });
  const convs = Array.from({ length: CONVERSATIONS }, () => randomUUID());
  ok(await handler.executeMany(convs.map((c, i) => [cmd('StartConversation', { conversationId: c, title: `conversation ${i}`, systemPrompt: 'Be brief.' }, i)])));
  for (let round = 0; round < ROUNDS; round++) {
    const turns = convs.map((c) => ({ c, m: randomUUID(), g: randomUUID() }));
    ok(await handler.executeMany(turns.map(({ c, m, g }, i) => [cmd('SubmitMessage', { conversationId: c, messageId: m, generationId: g, content: `question ${round} about things` }, i)])));
    const inputChecks: StreamAppend[] = turns.map(({ c, m, g }) => ({ streamId: `conversation-${c}`, events: [safety('input', c, m, g, m, `conversation-${c}`)], expectedRevision: 'any' }));
    ok(await handler.executeMany(turns.map(({ c, m, g }, i) => [cmd('RequestGeneration', {
      generationId: g, conversationId: c, messageId: m, ownerId: actor(i).userId, tenantId: 'bench', model: 'parley-tiny', params,
      context: { includedMessageIds: [m], droppedMessageIds: [], promptTokens: 20 }, siblingOf: null,
    }, i)]), { also: inputChecks }));
    for (let k = 0; k < 3; k++) {
      ok(await handler.executeMany(turns.map(({ g }, i) => [cmd('AppendTokens', { generationId: g, attempt: 1, firstIndex: k * 4, tokenIds: [1, 2, 3, 4], text: `word${k} ` }, i)])));
    }
    const outputChecks: StreamAppend[] = turns.map(({ c, g }) => ({ streamId: `conversation-${c}`, events: [safety('output', c, g, g, g, `conversation-${c}`)], expectedRevision: 'any' }));
    ok(await handler.executeMany(turns.map(({ g }, i) => [cmd('CompleteGeneration', {
      generationId: g, attempt: 1, finishReason: 'stop', usage: { promptTokens: 20, completionTokens: 12 }, ttftMs: 5, tpotMs: 2, workerId: 'bench',
    }, i)]), { also: outputChecks }));
    const extra = turns.flatMap(({ c, g }, i) => [
      ...(i % 4 === 0 ? [[cmd('GiveFeedback', { generationId: g, rating: i % 8 === 0 ? 'up' : 'down', comment: 'fine' }, i)]] : []),
      ...(i % 10 === 0 ? [[cmd('RenameConversation', { conversationId: c, title: `renamed ${round}` }, i)]] : []),
    ]);
    ok(await handler.executeMany(extra));
  }
  let n = 0;
  for (let from = START; ;) {
    const page = await store.readAll({ from, limit: 10_000 });
    if (page.length === 0) return n;
    n += page.length;
    from = page[page.length - 1]!.position;
  }
}

type Run = { tree: string; projection: string; events: number; relevant: number; batches: number; statements: number; ms: number; digest: string };

async function replay(store: PostgresEventStore, url: string, tree: string, label: string, p: ProjectionLike, suffix: string): Promise<Run> {
  const knex = createKnex(url, 2);
  const names = Object.fromEntries(p.tables.map((t) => [t, `${t}_${suffix}`]));
  for (const t of Object.values(names)) await knex.raw(`drop table if exists ${t} cascade`);
  await p.createTables(knex, names);
  let statements = 0;
  let counting = false;
  knex.on('query', (q: { sql: string }) => { if (counting && !/^(begin|commit|rollback)/i.test(q.sql.trim())) statements++; });
  let events = 0;
  let relevant = 0;
  let batches = 0;
  let ms = 0;
  for (let from = START; ;) {
    const batch = await store.readAll({ from, limit: BATCH });
    if (batch.length === 0) break;
    from = batch[batch.length - 1]!.position;
    events += batch.length;
    const mine = batch.filter((e) => p.types.includes(e.type));
    if (mine.length === 0) continue;
    relevant += mine.length;
    batches++;
    const started = performance.now();
    await knex.transaction(async (trx) => {
      counting = true;
      await p.apply(trx, mine, names, { cipher: null });
      counting = false;
    });
    ms += performance.now() - started;
  }
  // What the tables hold, row by row (both trees must build the same read model from the same log).
  const digests: string[] = [];
  for (const t of p.tables) {
    const { rows } = await knex.raw(`select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as d from ${names[t]} x`);
    digests.push(`${t}:${rows[0].d}`);
  }
  for (const t of Object.values(names)) await knex.raw(`drop table if exists ${t} cascade`);
  await knex.destroy();
  return { tree: label, projection: p.name, events, relevant, batches, statements, ms, digest: digests.join(' ') };
}

export async function run(): Promise<void> {
  const dbName = `parley_bench_proj_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const knex = createKnex(url, 2);
  await runMigrations(knex, eventStoreMigrations);
  await knex.destroy();
  const store = await new PostgresEventStore({ connectionString: url }).start();
  const trees: [string, string][] = [['after', path.resolve(here, '..')]];
  if (process.env.BENCH_BEFORE_TREE) trees.unshift(['before', path.resolve(process.env.BENCH_BEFORE_TREE)]);
  const runs: Run[] = [];
  try {
    const t0 = performance.now();
    const total = await writeLog(store);
    console.log(`log: ${total} events in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    const sets = await Promise.all(trees.map(async ([label, dir]) => {
      const mod = (await import(path.join(dir, 'projections', 'index.ts'))) as { projections: ProjectionLike[] };
      return [label, dir, mod.projections] as const;
    }));
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? sets : [...sets].reverse();
      for (const [label, dir, projections] of order) {
        for (const p of projections) {
          const r = await replay(store, url, dir, label, p, `bench_${label}`);
          runs.push(r);
          console.log(`rep ${rep + 1} ${label} ${p.name}: ${r.relevant} events in ${r.batches} batches, ${(r.statements / r.batches).toFixed(1)} statements/batch, ${Math.round(r.relevant / (r.ms / 1000))} events/s`);
        }
      }
    }
  } finally {
    await store.close();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const names = [...new Set(runs.map((r) => r.projection))];
  const rows = names.map((name) => {
    const of = (label: string) => runs.filter((r) => r.projection === name && r.tree === label);
    const summary = (label: string) => {
      const rs = of(label);
      if (rs.length === 0) return null;
      return { statementsPerBatch: rs[0]!.statements / rs[0]!.batches, statementsPerEvent: rs[0]!.statements / rs[0]!.relevant, eventsPerSecond: median(rs.map((r) => r.relevant / (r.ms / 1000))), relevant: rs[0]!.relevant, batches: rs[0]!.batches };
    };
    const digests = new Set(runs.filter((r) => r.projection === name).map((r) => r.digest));
    return { projection: name, before: summary('before'), after: summary('after')!, sameRows: digests.size === 1 };
  });
  const f = (n: number | undefined, d = 1) => (n === undefined ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: d }));
  const table = [
    '| projection | events (batches) | statements/batch before | after | events/s before | after | same rows |',
    '|---|---:|---:|---:|---:|---:|:-:|',
    ...rows.map((r) => `| ${r.projection} | ${r.after.relevant} (${r.after.batches}) | ${f(r.before?.statementsPerBatch)} | ${f(r.after.statementsPerBatch)} | ${f(r.before?.eventsPerSecond, 0)} | ${f(r.after.eventsPerSecond, 0)} | ${r.sameRows ? 'yes' : 'NO'} |`),
  ].join('\n');
  const md = [
    '# Projections: statements per batch',
    '',
    `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version} · median of ${REPS} reps, before and after interleaved on one log`,
    '',
    table,
    '',
    `Log: ${CONVERSATIONS} conversations × ${ROUNDS} turns (message, input check, request, 3 token chunks, output check, completion; feedback on every 4th answer, a rename every 10th turn), `
      + `replayed from the start in batches of ${BATCH} events (the runner's default); statements are those a projection sends inside its checkpoint transaction (begin/commit not counted). `
      + '"same rows": every rep of both trees left identical tables (md5 over all rows). The machine is shared with other work: events/s are indicative, statements are exact.',
    '',
  ].join('\n');
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'projections.json'), `${JSON.stringify({ config: { conversations: CONVERSATIONS, rounds: ROUNDS, batch: BATCH, reps: REPS, trees: trees.map(([l, d]) => ({ label: l, dir: d })) }, rows, runs }, null, 2)}\n`);
  writeFileSync(path.join(dir, 'projections.md'), md);
  console.log(`\n${table}\n\nwrote bench/results/projections.{json,md}`);
}
