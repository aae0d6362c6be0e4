// `npm run bench:eventstore`: Parley's PostgresEventStore against Emmett's PostgreSQL event store
// (@event-driven-io/emmett-postgresql), on the same PostgreSQL server, in the same run:
//   1. append, one stream, sequential (1 event per append, exact expected revision)
//   2. append, 100 streams, 16 concurrent writers (1 event per append, exact expected revision)
//   3. catch-up read: the whole log from the start, in batches of READ_BATCH
// Each engine runs in its own child process with its own fresh database, so neither sees the
// other's global state (Emmett's dumbo sets process-wide pg type parsers for int8/json/jsonb).
// The parent interleaves the engines rep by rep (alternating who goes first) so background noise
// on a shared machine spreads over both. Every phase is warmed up, then timed 3 times; we report
// the median. Results: bench/results/eventstore.{json,md}.
import { prng } from './prng.ts';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCALE = Number(process.env.BENCH_SCALE ?? 1); // < 1 for a quick smoke run
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 10); // both stores' default pg pool size
const STREAMS = 100;
const WRITERS = 16;
const READ_BATCH = 1000;
const REPS = 3;
const COUNTS = {
  seq: Math.max(50, Math.round(1500 * SCALE)),
  concurrent: Math.max(200, Math.round(8000 * SCALE)),
  readLog: Math.max(5000, Math.round(100_000 * SCALE)),
  warmupSeq: Math.max(20, Math.round(300 * SCALE)),
  warmupConcurrent: Math.max(100, Math.round(1600 * SCALE)),
};

type Engine = 'parley' | 'emmett';
type Phase = 'seq' | 'concurrent' | 'read';
const ENGINES: Engine[] = ['parley', 'emmett'];
const PHASE_LABEL: Record<Phase, string> = {
  seq: 'append, 1 stream, sequential',
  concurrent: `append, ${STREAMS} streams, ${WRITERS} writers`,
  read: `catch-up read, batches of ${READ_BATCH}`,
};

// ---------------------------------------------------------------------------------------------
// Workload: the same payloads for both engines (seeded), fresh event ids per run.

type Meta = {
  eventId: string;
  correlationId: string;
  causationId: string | null;
  commandId: string | null;
  actor: { userId: string; tenantId: string; roles: ('user' | 'compliance' | 'data_scientist' | 'admin')[] };
  occurredAt: string;
};
type BenchEvent = { type: 'ConversationRenamed' | 'MessageSubmitted'; version: number; data: Record<string, unknown>; metadata: Meta };

const WORDS = ('the model conversation please explain how why what when token prompt answer context window event '
  + 'stream store summary example code function error result data table chart write rewrite shorter longer '
  + 'translate french german python typescript postgres index query plan latency throughput memory').split(' ');
function words(rand: () => number, chars: number): string {
  let s = '';
  while (s.length < chars) s += (s ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)];
  return s;
}
function hexId(rand: () => number, prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 16; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

// One conversation's next event: mostly user messages (100-900 chars, avg ~500), a rename every ~8th.
function makeEvent(rand: () => number, conversationId: string, last: { messageId: string | null }, index: number): BenchEvent {
  const metadata: Meta = {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: null,
    commandId: randomUUID(),
    actor: { userId: 'user_42', tenantId: 'tenant_7', roles: ['user'] },
    occurredAt: new Date().toISOString(),
  };
  if (index % 8 === 7) {
    return { type: 'ConversationRenamed', version: 1, data: { conversationId, title: words(rand, 20 + Math.floor(rand() * 40)) }, metadata };
  }
  const messageId = hexId(rand, 'msg_');
  const data = {
    conversationId,
    messageId,
    generationId: hexId(rand, 'gen_'),
    role: 'user',
    content: words(rand, 100 + Math.floor(rand() * 800)),
    parentMessageId: last.messageId,
    params: { temperature: 0.7, topP: 1, topK: 0, maxTokens: 256, seed: null, stop: [] },
  };
  last.messageId = messageId;
  return { type: 'MessageSubmitted', version: 2, data, metadata };
}

// `count` single-event appends spread round-robin over `streams` new conversations.
type Work = { streams: string[]; appends: { stream: number; event: BenchEvent }[] };
function makeWork(seed: number, streams: number, count: number): Work {
  const rand = prng(seed);
  const ids = Array.from({ length: streams }, () => hexId(rand, 'conv_'));
  const last = ids.map(() => ({ messageId: null as string | null }));
  const perStream = ids.map(() => 0);
  const appends = Array.from({ length: count }, (_, i) => {
    const s = i % streams;
    return { stream: s, event: makeEvent(rand, ids[s]!, last[s]!, perStream[s]!++) };
  });
  // Stream names are unique per run (a phase repeats on the same database); payloads stay seeded.
  const run = randomBytes(4).toString('hex');
  return { streams: ids.map((id) => `conversation-${id}-${run}`), appends };
}

// ---------------------------------------------------------------------------------------------
// Adapters: the same three operations on each engine, each doing what a real caller would.

type Adapter = {
  // Appends one event with the exact previous revision; `previous` is null for a new stream.
  append(stream: string, event: BenchEvent, previous: number | null): Promise<void>;
  appendMany(stream: string, events: BenchEvent[], previous: number | null): Promise<void>;
  // Reads the whole log from the start in batches; returns each delivered event's global position.
  readAll(batch: number): Promise<unknown[]>;
  close(): Promise<void>;
};

async function parleyAdapter(url: string): Promise<Adapter> {
  const { createKnex } = await import('../eventstore/postgres/connect.ts');
  const { eventStoreMigrations, runMigrations } = await import('../eventstore/postgres/migrations.ts');
  const { PostgresEventStore } = await import('../eventstore/postgres/event-store.ts');
  const knex = createKnex(url, 2);
  await runMigrations(knex, eventStoreMigrations);
  await knex.destroy();
  const store = await new PostgresEventStore({ connectionString: url, poolSize: POOL_SIZE }).start();
  return {
    async append(stream, event, previous) {
      await store.append(stream, [event], { expectedRevision: previous ?? 'no_stream' });
    },
    async appendMany(stream, events, previous) {
      await store.append(stream, events, { expectedRevision: previous ?? 'no_stream' });
    },
    async readAll(batch) {
      let from = '0/0';
      const seen: string[] = [];
      for (;;) {
        const events = await store.readAll({ from, limit: batch });
        for (const e of events) seen.push(e.position);
        if (events.length < batch) return seen;
        from = events[events.length - 1]!.position;
      }
    },
    close: () => store.close(),
  };
}

async function emmettAdapter(url: string): Promise<Adapter> {
  const { getPostgreSQLEventStore, readMessagesBatch } = await import('@event-driven-io/emmett-postgresql');
  const { dumbo } = await import('@event-driven-io/dumbo');
  // One pg.Pool of the same size for appends and reads (Emmett's own default would also be 10).
  const pgPool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  const pool = dumbo({ connectionString: url, pool: pgPool });
  const store = getPostgreSQLEventStore(url, { connectionOptions: { dumbo: pool } });
  await store.schema.migrate(); // before timing: otherwise the first append migrates
  // Emmett's stream version counts events (0 = no stream); Parley's revision is the last index.
  const toEmmett = (e: BenchEvent) => ({ type: e.type, data: e.data, metadata: { ...e.metadata, messageId: e.metadata.eventId } });
  return {
    async append(stream, event, previous) {
      await store.appendToStream(stream, [toEmmett(event)], { expectedStreamVersion: BigInt(previous === null ? 0 : previous + 1) });
    },
    async appendMany(stream, events, previous) {
      await store.appendToStream(stream, events.map(toEmmett), { expectedStreamVersion: BigInt(previous === null ? 0 : previous + 1) });
    },
    // readMessagesBatch is what Emmett's consumers and message batch puller call in a loop (the
    // puller adds a pull interval on top); calling it directly is its fastest catch-up read.
    async readAll(batch) {
      let after = 0n;
      const seen: bigint[] = [];
      for (;;) {
        const result = await readMessagesBatch(pool.execute, { after, batchSize: batch });
        for (const m of result.messages) seen.push(m.metadata.globalPosition);
        if (!result.areMessagesLeft) return seen;
        after = result.currentGlobalPosition;
      }
    },
    async close() {
      await store.close();
      await pgPool.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Worker: one engine, one database; runs phases on request from the parent.

type Request =
  | { cmd: 'setup' }
  | { cmd: 'seq' | 'concurrent'; count: number; seed: number }
  | { cmd: 'seed'; total: number; seed: number }
  | { cmd: 'read' }
  | { cmd: 'teardown' };
// For reads: `events` is what the reader delivered; `distinct`/`expected` expose skips and repeats.
type Measurement = { events: number; ms: number; perSecond: number; distinct?: number; expected?: number };
type Reply = { ok: true; value?: unknown } | { ok: false; error: string };

async function worker(engine: Engine): Promise<void> {
  const dbName = `parley_bench_${engine}_${randomBytes(4).toString('hex')}`;
  let adapter: Adapter | undefined;
  let logSize = 0;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  };

  const measure = async (events: number, body: () => Promise<void>): Promise<Measurement> => {
    const start = process.hrtime.bigint();
    await body();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    return { events, ms, perSecond: events / (ms / 1000) };
  };

  const handle = async (req: Request): Promise<unknown> => {
    switch (req.cmd) {
      case 'setup': {
        await admin(`create database ${dbName}`);
        const u = new URL(ADMIN_URL);
        u.pathname = `/${dbName}`;
        adapter = engine === 'parley' ? await parleyAdapter(u.toString()) : await emmettAdapter(u.toString());
        return { database: dbName };
      }
      case 'seq': {
        const work = makeWork(req.seed, 1, req.count);
        const stream = work.streams[0]!;
        logSize += req.count;
        return measure(req.count, async () => {
          for (let i = 0; i < work.appends.length; i++) await adapter!.append(stream, work.appends[i]!.event, i === 0 ? null : i - 1);
        });
      }
      case 'concurrent': {
        const work = makeWork(req.seed, STREAMS, req.count);
        const revision: (number | null)[] = work.streams.map(() => null);
        // A writer takes the next append; appends to one stream are chained (a real handler would
        // retry a conflict; here there is none to retry, and the chain almost never waits).
        const tail: Promise<void>[] = work.streams.map(() => Promise.resolve());
        let next = 0;
        logSize += req.count;
        return measure(req.count, async () => {
          await Promise.all(
            Array.from({ length: WRITERS }, async () => {
              while (next < work.appends.length) {
                const { stream, event } = work.appends[next++]!;
                const prev = tail[stream]!;
                const mine = prev.then(async () => {
                  await adapter!.append(work.streams[stream]!, event, revision[stream]!);
                  revision[stream] = (revision[stream] ?? -1) + 1;
                });
                tail[stream] = mine.catch(() => undefined);
                await mine;
              }
            }),
          );
        });
      }
      case 'seed': {
        // Untimed: grow the log to `total` events with 100-event appends (4 at a time).
        const missing = req.total - logSize;
        const perStream = 100;
        const work = makeWork(req.seed, Math.ceil(missing / perStream), missing);
        const byStream = work.streams.map(() => [] as BenchEvent[]);
        for (const a of work.appends) byStream[a.stream]!.push(a.event);
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next < byStream.length) {
              const s = next++;
              await adapter!.appendMany(work.streams[s]!, byStream[s]!, null);
            }
          }),
        );
        logSize = req.total;
        return { logSize };
      }
      case 'read': {
        // Throughput counts the events the reader delivered; a correct reader delivers each once.
        const start = process.hrtime.bigint();
        const seen = await adapter!.readAll(READ_BATCH);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        return { events: seen.length, ms, perSecond: seen.length / (ms / 1000), distinct: new Set(seen).size, expected: logSize };
      }
      case 'teardown':
        await adapter?.close();
        await admin(`drop database if exists ${dbName} with (force)`);
        return null;
    }
  };

  process.on('message', (req: Request) => {
    handle(req).then(
      (value) => process.send!({ ok: true, value } satisfies Reply),
      (error: unknown) => process.send!({ ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies Reply),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Parent: spawns one worker per engine, interleaves them, writes the report.

class Worker {
  private readonly child: ChildProcess;
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
  constructor(readonly engine: Engine) {
    this.child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, EVENTSTORE_BENCH_ENGINE: engine },
      execArgv: process.execArgv,
    });
    this.child.on('message', (reply: Reply) => {
      const p = this.pending;
      this.pending = undefined;
      if (reply.ok) p?.resolve(reply.value);
      else p?.reject(new Error(`${engine} worker: ${reply.error}`));
    });
    this.child.on('exit', (code) => this.pending?.reject(new Error(`${engine} worker exited with ${code}`)));
  }
  call<T>(req: Request): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending = { resolve: resolve as (v: unknown) => void, reject };
      this.child.send(req);
    });
  }
  kill(): void {
    this.child.kill();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function machineInfo() {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  const settings = await client.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings where name in ('server_version', 'synchronous_commit', 'fsync', 'shared_buffers', 'max_connections')`,
  );
  const version = await client.query<{ version: string }>('select version()');
  await client.end();
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg(),
    postgres: version.rows[0]!.version,
    postgresSettings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
  };
}

function packageVersion(name: string): string {
  // Read the installed package.json directly: export maps hide it from require().
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', name, 'package.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function run(): Promise<void> {
  const started = Date.now();
  const machine = await machineInfo();
  const workers = Object.fromEntries(ENGINES.map((e) => [e, new Worker(e)])) as Record<Engine, Worker>;
  const runs: Record<Phase, Record<Engine, Measurement[]>> = {
    seq: { parley: [], emmett: [] },
    concurrent: { parley: [], emmett: [] },
    read: { parley: [], emmett: [] },
  };
  const anomalies: string[] = [];
  const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  let seed = 1;
  try {
    for (const e of ENGINES) log(`${e}: database ${(await workers[e].call<{ database: string }>({ cmd: 'setup' })).database}`);

    // Each rep runs both engines back to back, alternating which goes first.
    const both = async (phase: Phase, req: Request, rep: number | 'warmup') => {
      const order = rep === 'warmup' || rep % 2 === 0 ? ENGINES : [...ENGINES].reverse();
      for (const e of order) {
        const m = await workers[e].call<Measurement>(req);
        if (rep !== 'warmup') runs[phase][e].push(m);
        const odd = m.expected !== undefined && (m.events !== m.expected || m.distinct !== m.expected)
          ? ` -- delivered ${m.events} (${m.distinct} distinct) of a ${m.expected}-event log` : '';
        if (odd) anomalies.push(`${e}, ${PHASE_LABEL[phase]} ${rep === 'warmup' ? 'warm-up' : `rep ${rep + 1}`}:${odd.slice(3)}`);
        log(`${PHASE_LABEL[phase]} ${rep === 'warmup' ? 'warm-up' : `rep ${rep + 1}`}: ${e} ${fmt(m.perSecond)} events/s (${m.events} in ${(m.ms / 1000).toFixed(2)}s)${odd}`);
      }
    };

    await both('seq', { cmd: 'seq', count: COUNTS.warmupSeq, seed: seed++ }, 'warmup');
    await both('concurrent', { cmd: 'concurrent', count: COUNTS.warmupConcurrent, seed: seed++ }, 'warmup');
    for (let r = 0; r < REPS; r++) await both('seq', { cmd: 'seq', count: COUNTS.seq, seed: seed++ }, r);
    for (let r = 0; r < REPS; r++) await both('concurrent', { cmd: 'concurrent', count: COUNTS.concurrent, seed: seed++ }, r);

    const seedReq: Request = { cmd: 'seed', total: COUNTS.readLog, seed: seed++ };
    for (const e of ENGINES) {
      await workers[e].call(seedReq);
      log(`${e}: log grown to ${COUNTS.readLog} events (untimed)`);
    }
    await both('read', { cmd: 'read' }, 'warmup');
    for (let r = 0; r < REPS; r++) await both('read', { cmd: 'read' }, r);
  } finally {
    for (const e of ENGINES) {
      await workers[e].call({ cmd: 'teardown' }).catch((error: Error) => console.error(error.message));
      workers[e].kill();
    }
  }

  const phases = (Object.keys(runs) as Phase[]).map((phase) => {
    const parley = median(runs[phase].parley.map((m) => m.perSecond));
    const emmett = median(runs[phase].emmett.map((m) => m.perSecond));
    return { phase, label: PHASE_LABEL[phase], parley, emmett, ratio: parley / emmett };
  });
  const targets = {
    appendAtLeastEmmett: phases.filter((p) => p.phase !== 'read').every((p) => p.ratio >= 1),
    catchUpReadAtLeast50k: phases.find((p) => p.phase === 'read')!.parley >= 50_000,
  };
  const rows = phases.map((p) => `| ${p.label} | ${fmt(p.parley)} | ${fmt(p.emmett)} | ${p.ratio.toFixed(2)}× |`);
  const table = ['| phase | Parley events/s | Emmett events/s | Parley/Emmett |', '|---|---:|---:|---:|', ...rows].join('\n');
  const md = [
    '# Event store benchmark: Parley vs Emmett (PostgreSQL)',
    '',
    `${machine.date} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · ${machine.postgres.split(' on ')[0]} · pool size ${POOL_SIZE} for both · median of ${REPS} runs after a warm-up`,
    '',
    table,
    '',
    `Counts per run: ${COUNTS.seq} sequential appends; ${COUNTS.concurrent} appends over ${STREAMS} streams by ${WRITERS} writers; `
      + `catch-up read of a ${COUNTS.readLog}-event log in batches of ${READ_BATCH}. One event per append, exact expected revision, `
      + 'same seeded ConversationRenamed/MessageSubmitted payloads for both stores.',
    '',
    `Targets: append ≥ 1.0× Emmett: ${targets.appendAtLeastEmmett ? 'met' : 'NOT met'}; catch-up read ≥ 50,000 events/s: ${targets.catchUpReadAtLeast50k ? 'met' : 'NOT met'}.`,
    'The machine is shared (other work runs concurrently), so compare the ratios rather than the absolute numbers.',
    '',
    `Emmett (@event-driven-io/emmett-postgresql ${packageVersion('@event-driven-io/emmett-postgresql')}) reads with \`readMessagesBatch\`, what its consumers and `
      + 'message batch puller call in a loop. Its messages table has no index for the (transaction_id, global_position) order that query '
      + 'sorts by, so every batch sorts the rest of the log: its catch-up rate falls as the log grows. Its cursor is global_position '
      + 'alone, so where concurrent commits make transaction-id order and position order disagree at a batch boundary, it can repeat '
      + 'or skip events (any this run saw are listed below). Parley pages on the (transaction_id, position) pair with an index on it.',
    '',
    ...(anomalies.length ? ['Catch-up reads that did not deliver the log exactly once:', '', ...anomalies.map((a) => `- ${a}`), ''] : []),
  ].join('\n');

  const results = {
    machine,
    versions: {
      emmettPostgresql: packageVersion('@event-driven-io/emmett-postgresql'),
      pg: packageVersion('pg'),
    },
    config: { poolSize: POOL_SIZE, streams: STREAMS, writers: WRITERS, readBatch: READ_BATCH, reps: REPS, scale: SCALE, counts: COUNTS },
    // Per rep, Parley/Emmett of the two back-to-back runs: shows how much of the median is noise.
    phases: phases.map((p) => ({
      ...p,
      pairedRatios: runs[p.phase].parley.map((m, i) => m.perSecond / runs[p.phase].emmett[i]!.perSecond),
      runs: runs[p.phase],
    })),
    targets,
    anomalies,
    durationSeconds: (Date.now() - started) / 1000,
  };
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'eventstore.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(dir, 'eventstore.md'), md);
  console.log(`\n${table}\n`);
  console.log(`targets: append ≥ 1.0× Emmett ${targets.appendAtLeastEmmett ? 'met' : 'NOT met'}; catch-up ≥ 50k/s ${targets.catchUpReadAtLeast50k ? 'met' : 'NOT met'}`);
  for (const a of anomalies) console.log(`read anomaly: ${a}`);
  console.log(`wrote bench/results/eventstore.json and eventstore.md (${results.durationSeconds.toFixed(0)}s)`);
}

const workerEngine = process.env.EVENTSTORE_BENCH_ENGINE as Engine | undefined;
if (workerEngine && process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await worker(workerEngine);
