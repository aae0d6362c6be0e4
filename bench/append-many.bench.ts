// `npm run bench append-many`: EventStore.appendMany against single appends, on PostgreSQL, in one
// run window. The workload is a worker's tick (issue 15.5): 64 running generations each append two
// TokensGenerated chunks, with exact expected revisions, as
//   many        one appendMany of 64 streams × 2 events;
//   concurrent  64 appends at once (the store's pool of 10 connections);
//   sequential  64 appends one after another.
// With and without encryption at rest (the default deployment encrypts: the chunks' text is sealed
// with each generation's conversation key). Warm: subjects and keys cached, as in steady state.
// Cold: a new store (empty caches) and a fresh set of generations: the first tick after a start.
// The modes take turns batch by batch (rotating who goes first); round trips per batch come from
// the process's query counter (the NOTIFY after appends included). Results: bench/results/append-many.{json,md}.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CommandHandler } from '../commands/command-handler.ts';
import { keyStoreMigrations } from '../eventstore/crypto/key-store.ts';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../eventstore/postgres/event-store.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import { queryCounts } from '../eventstore/postgres/query-counter.ts';
import type { EventToAppend, StreamAppend } from '../eventstore/port.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STREAMS = 64;
const EVENTS_PER_STREAM = 2;
const BATCHES = Number(process.env.BENCH_APPEND_MANY_BATCHES ?? 30);
const WARMUP = 3;
const COLD_REPS = Number(process.env.BENCH_APPEND_MANY_COLD ?? 5);
type Mode = 'many' | 'concurrent' | 'sequential';
const MODES: Mode[] = ['many', 'concurrent', 'sequential'];

const actor = { userId: 'bench-user', tenantId: 'bench', roles: ['user' as const] };
const worker = { userId: 'worker', tenantId: 'bench', roles: ['admin' as const] };

function chunk(generationId: string, index: number): EventToAppend {
  const text = ` token${index} and${index}`;
  return {
    type: 'TokensGenerated', version: 1,
    data: { generationId, attempt: 1, firstIndex: index * 2, tokenIds: [index % 50, (index + 1) % 50], text },
    metadata: { eventId: randomUUID(), correlationId: generationId, causationId: null, commandId: null, actor: worker, occurredAt: new Date().toISOString() },
  };
}

// Generations as the saga leaves them: a conversation with a message, and a requested generation.
async function generations(store: PostgresEventStore, n: number): Promise<{ stream: string; id: string; revision: number; next: number }[]> {
  const handler = new CommandHandler({ store });
  const cmd = (type: string, data: object) => ({ type, data, metadata: { commandId: randomUUID(), actor } });
  const out: { stream: string; id: string; revision: number; next: number }[] = [];
  const turns = Array.from({ length: n }, () => ({ c: randomUUID(), m: randomUUID(), g: randomUUID() }));
  const check = (rs: { ok: boolean }[]) => { const bad = rs.find((r) => !r.ok); if (bad) throw new Error(JSON.stringify(bad)); };
  check(await handler.executeMany(turns.map(({ c, m, g }) => [
    cmd('StartConversation', { conversationId: c, title: 'bench' }),
    cmd('SubmitMessage', { conversationId: c, messageId: m, generationId: g, content: 'a question' }),
  ])));
  check(await handler.executeMany(turns.map(({ c, m, g }) => [cmd('RequestGeneration', {
    generationId: g, conversationId: c, messageId: m, ownerId: actor.userId, tenantId: actor.tenantId, model: 'parley-tiny',
    params: { temperature: 0, topP: 1, topK: 0, maxTokens: 256, seed: null, stop: [] },
    context: { includedMessageIds: [m], droppedMessageIds: [], promptTokens: 8 },
  })])));
  for (const { g } of turns) out.push({ stream: `generation-${g}`, id: g, revision: 0, next: 0 });
  return out;
}

type Gen = Awaited<ReturnType<typeof generations>>[number];

// One worker tick: two chunks for every generation.
async function tick(store: PostgresEventStore, mode: Mode, gens: Gen[]): Promise<void> {
  const appends: StreamAppend[] = gens.map((g) => ({
    streamId: g.stream, events: [chunk(g.id, g.next), chunk(g.id, g.next + 1)], expectedRevision: g.revision,
  }));
  if (mode === 'many') await store.appendMany(appends);
  else if (mode === 'concurrent') await Promise.all(appends.map((a) => store.append(a.streamId, a.events, { expectedRevision: a.expectedRevision })));
  else for (const a of appends) await store.append(a.streamId, a.events, { expectedRevision: a.expectedRevision });
  for (const g of gens) { g.revision += EVENTS_PER_STREAM; g.next += EVENTS_PER_STREAM; }
}

const totalQueries = () => [...queryCounts().values()].reduce((a, b) => a + b, 0);

async function measure(body: () => Promise<void>): Promise<{ ms: number; queries: number }> {
  const q0 = totalQueries();
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10)); // the throttled NOTIFY that follows an append
  return { ms, queries: totalQueries() - q0 };
}

type Sample = { variant: string; mode: Mode; ms: number; queries: number };

export async function run(): Promise<void> {
  const dbName = `parley_bench_many_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const knex = createKnex(url, 2);
  await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
  await knex.destroy();
  const samples: Sample[] = [];
  const stores: PostgresEventStore[] = [];
  const open = async (encrypted: boolean) => {
    const store = await new PostgresEventStore({ connectionString: url, ...(encrypted ? { encryption: { masterKey } } : {}) }).start();
    stores.push(store);
    await Promise.all(Array.from({ length: 10 }, () => store.headPosition())); // open the pool's connections
    return store;
  };
  const close = async (store: PostgresEventStore) => { stores.splice(stores.indexOf(store), 1); await store.close(); };
  const masterKey = randomBytes(32);
  const started = Date.now();
  try {
    for (const encrypted of [true, false]) {
      const variant = encrypted ? 'encrypted' : 'clear';
      // Warm: one store, its caches filled by the warm-up ticks.
      const store = await open(encrypted);
      const sets = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await generations(store, STREAMS)] as const))) as Record<Mode, Gen[]>;
      for (let b = 0; b < WARMUP + BATCHES; b++) {
        const order = MODES.map((_, i) => MODES[(i + b) % MODES.length]!);
        for (const mode of order) {
          const m = await measure(() => tick(store, mode, sets[mode]));
          if (b >= WARMUP) samples.push({ variant: `${variant}, warm`, mode, ...m });
        }
      }
      // Cold: a new store and new generations for each measurement.
      for (let r = 0; r < COLD_REPS; r++) {
        for (const mode of MODES) {
          const setup = await open(encrypted);
          const gens = await generations(setup, STREAMS);
          await close(setup);
          const fresh = await open(encrypted);
          samples.push({ variant: `${variant}, cold`, mode, ...(await measure(() => tick(fresh, mode, gens))) });
          await close(fresh);
        }
      }
      await close(store);
      console.log(`${variant}: done (${((Date.now() - started) / 1000).toFixed(0)}s)`);
    }
  } finally {
    for (const s of stores) await s.close();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }

  const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
  const variants = [...new Set(samples.map((s) => s.variant))];
  const rows = variants.flatMap((variant) => {
    const of = (mode: Mode) => samples.filter((s) => s.variant === variant && s.mode === mode);
    const many = pct(of('many').map((s) => s.ms), 0.5);
    return MODES.map((mode) => {
      const ss = of(mode);
      const p50 = pct(ss.map((s) => s.ms), 0.5);
      return {
        variant, mode, batches: ss.length, p50, p90: pct(ss.map((s) => s.ms), 0.9),
        eventsPerSecond: (STREAMS * EVENTS_PER_STREAM) / (p50 / 1000), roundTrips: pct(ss.map((s) => s.queries), 0.5), vsMany: p50 / many,
      };
    });
  });
  const f = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });
  const table = [
    '| variant | mode | batches | p50 ms | p90 ms | events/s | round trips | p50 / appendMany p50 |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.variant} | ${r.mode} | ${r.batches} | ${f(r.p50)} | ${f(r.p90)} | ${f(r.eventsPerSecond, 0)} | ${r.roundTrips} | ${f(r.vsMany, 2)}× |`),
  ].join('\n');
  const md = [
    '# appendMany: one call for 64 streams × 2 events vs 64 appends',
    '',
    `${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · Node ${process.version} · PostgreSQL at ${new URL(ADMIN_URL).host} · pool of 10`,
    '',
    table,
    '',
    `A batch is one worker tick: ${STREAMS} generations × ${EVENTS_PER_STREAM} TokensGenerated chunks, exact expected revisions. Warm: ${BATCHES} batches per mode after ${WARMUP} warm-up ones, `
      + `the modes taking turns (rotating order) on one store; cold: ${COLD_REPS} batches per mode, each on a new store (no cached subjects or keys) `
      + 'and new generations. Round trips: the median per batch from the process\'s query counter, including the NOTIFY that follows appends (throttled, '
      + 'so concurrent appends share one). The machine is shared with other work: compare the ratios, not the absolute times.',
    '',
  ].join('\n');
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'append-many.json'), `${JSON.stringify({ config: { streams: STREAMS, eventsPerStream: EVENTS_PER_STREAM, batches: BATCHES, warmup: WARMUP, coldReps: COLD_REPS }, rows, samples }, null, 2)}\n`);
  writeFileSync(path.join(dir, 'append-many.md'), md);
  console.log(`\n${table}\n\nwrote bench/results/append-many.{json,md}`);
}
