// `npm run bench:pipeline [-- --tree <dir>] [--label <name>] [--models shipped,null] [--users 1,16,64,256]
//   [--env KEY=VALUE ...] [--out pipeline] [--cpu-prof <dir>] [--retrieval <passages>]`
// The pipeline benchmark of issue 15: what a turn costs Parley itself, measured from outside.
//
// For each model ((a) the shipped model, (b) the NULL MODEL — PARLEY_NULL_MODEL=1, a benchmark
// instrument that answers 32 fixed tokens without computing, inference/engine/null-engine.ts) it
// starts the embedded default as a child process, exactly as a user would (`node bin/parley.mjs
// serve` in <dir>, a fresh PARLEY_HOME, so its own embedded PostgreSQL; no DATABASE_URL, no Redis),
// then for N = 1, 16, 64, 256 simultaneous users runs a closed loop: each user sends a message
// (GraphQL `sendMessage`, a new conversation each time) and streams its answer to the end with the
// graphql-sse client (from a separate client process), then sends the next, until the level's fixed
// number of turns is done. Per level:
//   round trips/turn  Δ parley_db_queries_total (scraped from /metrics before and after the level,
//                     minus what the scrapes themselves cost) ÷ turns; also the part the idle
//                     server spends anyway (pollers), measured before the levels, and per operation;
//   CPU ms/turn       Δ utime+stime (+ reaped children) of the WHOLE server process tree — Parley's
//                     node process and the embedded PostgreSQL's postmaster and backends — from
//                     /proc, ÷ turns; split into node and postgres;
//   turns/s           turns ÷ (first send → last answer done);
//   TTFT p50/p95      client clock: before the mutation → first chunk with text;
//   delivery p50/p95  client arrival − the worker's sampledAt, over live chunks.
// After the last answer the level waits until the projections and the job queue are idle, so the
// work a level causes is counted in that level (the settle time is not in turns/s).
//
// --tree <dir> runs another checkout (e.g. a git worktree of the commit before a change, with
// node_modules symlinked) so before and after are measured in one run window; --label names the
// run. Results merge into bench/results/pipeline.json (runs with the same label are replaced) and
// bench/results/pipeline.{md,svg} are redrawn from every run there (bench/pipeline-report.ts).
//
// --retrieval <passages> (issue 19): before the levels, <passages> one-sentence documents go into a
// shared collection of the users' tenant (GraphQL addDocument, waited for until indexed), and every
// turn sends `retrieval: {collections: [that one], topK: 4}`: the saga searches (hybrid: full text
// + the query's embedding) and the prompt holds 4 passages. Compare with a run without it.
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeReport, type LevelResult, type PipelineRun } from './pipeline-report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
export const MAX_TOKENS = 64; // the null model answers 32 tokens; the shipped model ~10
const STREAM_TIMEOUT_MS = 120_000;
// Turns per level (each of the N users runs turns/N of them back to back): short runs, 2 shared cores.
export const TURNS: Record<number, number> = { 1: 20, 16: 64, 64: 128, 256: 256 };
const PROMPTS = [
  'What is the capital of France?', 'What is the capital of Japan?', 'What is 2 + 3?', 'What is 7 times 8?',
  'Hello!', 'Good morning, how are you?', 'How many grams are in a kilogram?', 'How many minutes are in an hour?',
];

type Options = { tree: string; label: string; models: ('shipped' | 'null')[]; users: number[]; env: Record<string, string>; out: string; cpuProf: string | null; retrieval: number };

function parseArgs(argv: string[]): Options {
  const get = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const tree = path.resolve(get('tree') ?? root);
  if (!existsSync(path.join(tree, 'bin/parley.mjs'))) throw new Error(`--tree ${tree}: no bin/parley.mjs there`);
  const models = (get('models') ?? 'shipped,null').split(',') as Options['models'];
  for (const m of models) if (m !== 'shipped' && m !== 'null') throw new Error(`--models: shipped or null, got ${m}`);
  const users = (get('users') ?? '1,16,64,256').split(',').map(Number);
  for (const u of users) if (!Number.isInteger(u) || u < 1) throw new Error(`--users: positive integers, got ${u}`);
  // --env KEY=VALUE (repeatable): extra server environment, e.g. pool sizes; recorded with the run.
  const env: Record<string, string> = {};
  argv.forEach((a, i) => {
    if (a !== '--env') return;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(argv[i + 1] ?? '');
    if (!m) throw new Error(`--env KEY=VALUE, got ${argv[i + 1]}`);
    env[m[1]!] = m[2]!;
  });
  const out = get('out') ?? 'pipeline';
  if (!/^[a-z0-9-]+$/.test(out)) throw new Error(`--out: a file name stem like pipeline-pools, got ${out}`);
  // --cpu-prof <dir>: the server runs under `node --cpu-prof` (profiles written when it exits;
  // read them with `node --import tsx bench/cpu-profile-groups.ts <file> <from s> <to s>`).
  const cpuProf = get('cpu-prof') ? path.resolve(get('cpu-prof')!) : null;
  const retrieval = Number(get('retrieval') ?? 0);
  if (!Number.isInteger(retrieval) || retrieval < 0) throw new Error(`--retrieval: a number of passages, got ${get('retrieval')}`);
  return { tree, label: get('label') ?? 'after', models, users, env, out, cpuProf, retrieval };
}

// ---------------------------------------------------------------------------------------------
// Client process: the simulated users.

export type TurnResult = { user: number; sendAt: number; firstAt: number | null; doneAt: number | null; completionTokens: number | null; deliveries: number[]; liveChunks: number; error: string | null };
export type ClientRequest = { url: string; tokens: string[]; turnsPerUser: number; maxTokens: number; promptOffset: number; retrieval?: { collections: string[]; topK: number } };

async function clientMain(): Promise<void> {
  const { streamChunks } = await import('../tests/support/sse.ts');
  const MUTATION = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }';
  async function turn(url: string, token: string, user: number, prompt: string, maxTokens: number, retrieval?: ClientRequest['retrieval']): Promise<TurnResult> {
    const r: TurnResult = { user, sendAt: Date.now(), firstAt: null, doneAt: null, completionTokens: null, deliveries: [], liveChunks: 0, error: null };
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: MUTATION, variables: { input: { content: prompt, params: { temperature: 0, maxTokens }, ...(retrieval ? { retrieval } : {}) } } }),
      });
      const body = (await res.json()) as { data?: { sendMessage?: { generation: { id: string } } }; errors?: unknown[] };
      if (body.errors || !body.data?.sendMessage) throw new Error(`sendMessage: HTTP ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
      let timer: NodeJS.Timeout | undefined;
      const chunks = await Promise.race([
        streamChunks(url, token, body.data.sendMessage.generation.id, {
          // What the benchmark reads, and what every tree it compares serves (no `position` before issue 23).
          fields: 'index delta done error sampledAt usage { promptTokens completionTokens }',
          onChunk: (c, at) => {
            if (r.firstAt === null && c.delta !== '') r.firstAt = at;
            if (c.sampledAt != null) { r.liveChunks++; r.deliveries.push(at - c.sampledAt); }
            if (c.done) { r.doneAt = at; r.completionTokens = c.usage?.completionTokens ?? null; if (c.error) r.error = `stream ended with error: ${c.error}`; }
          },
        }),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no end of stream within ${STREAM_TIMEOUT_MS} ms`)), STREAM_TIMEOUT_MS); }),
      ]).finally(() => clearTimeout(timer));
      if (!chunks.at(-1)?.done) r.error ??= 'stream closed without a done chunk';
    } catch (error) {
      r.error = (error as Error).message.slice(0, 300);
    }
    return r;
  }
  process.on('message', (req: ClientRequest) => {
    const cpu = process.cpuUsage();
    Promise.all(req.tokens.map(async (token, user) => {
      const out: TurnResult[] = [];
      for (let k = 0; k < req.turnsPerUser; k++) out.push(await turn(req.url, token, user, PROMPTS[(user + k + req.promptOffset) % PROMPTS.length]!, req.maxTokens, req.retrieval));
      return out;
    })).then(
      (rs) => { const c = process.cpuUsage(cpu); process.send!({ ok: true, turns: rs.flat(), cpuMs: (c.user + c.system) / 1000 }); },
      (error: unknown) => process.send!({ ok: false, error: String(error) }),
    );
  });
  process.send!({ ok: true, turns: [], cpuMs: 0 });
}

export class Clients {
  private readonly child: ChildProcess;
  private pending: { resolve: (v: { turns: TurnResult[]; cpuMs: number }) => void; reject: (e: Error) => void } | undefined;
  readonly ready: Promise<unknown>;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, PARLEY_PIPELINE_CLIENT: '1' }, execArgv: process.execArgv });
    this.ready = new Promise((resolve, reject) => (this.pending = { resolve: resolve as never, reject }));
    this.child.on('message', (m: { ok: true; turns: TurnResult[]; cpuMs: number } | { ok: false; error: string }) => {
      const p = this.pending;
      this.pending = undefined;
      if (m.ok) p?.resolve(m); else p?.reject(new Error(`client process: ${m.error}`));
    });
    this.child.on('exit', (code) => this.pending?.reject(new Error(`client process exited with ${code}`)));
  }
  run(req: ClientRequest): Promise<{ turns: TurnResult[]; cpuMs: number }> {
    return new Promise((resolve, reject) => { this.pending = { resolve, reject }; this.child.send(req); });
  }
  stop() { this.child.kill('SIGTERM'); }
}

// ---------------------------------------------------------------------------------------------
// The server under test and what is read from outside it.

type Server = { child: ChildProcess; url: string; home: string; output: () => string };

async function startServer(tree: string, env: Record<string, string>, cpuProf: string | null = null): Promise<Server> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-pipeline-'));
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'REDIS_URL', 'ESDB_URL', 'MODEL_DIR', 'PARLEY_NULL_MODEL', 'NODE_OPTIONS'].includes(k) && !k.startsWith('PARLEY_')));
  const child = spawn(process.execPath, [...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : []), 'bin/parley.mjs', 'serve'], { cwd: tree, env: { ...base, ...env, PARLEY_HOME: home, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; if (out.length > 200_000) out = out.slice(-100_000); });
  child.stderr!.on('data', (d) => { out += d; if (out.length > 200_000) out = out.slice(-100_000); });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 120 s:\n${out.slice(-2000)}`)), 120_000);
    const check = () => {
      const m = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(out);
      if (m && out.includes('PARLEY_READY')) { clearTimeout(timer); resolve(m[1]!); }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out.slice(-2000)}`)); });
  });
  return { child, url, home, output: () => out };
}

async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    const t = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
  rmSync(s.home, { recursive: true, force: true });
}

// CPU of a process tree from /proc: utime + stime of every live process under `rootPid`, plus the
// cutime + cstime of each (children it already reaped: PostgreSQL backends that ended), in ms.
const CLK_TCK = 100;
function treeCpuMs(rootPid: number): { total: number; node: number; postgres: number; processes: number } {
  const stats: { pid: number; ppid: number; comm: string; ms: number }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' '); // f[0] = state (field 3)
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
      stats.push({ pid: Number(d), ppid: Number(f[1]), comm, ms: (ticks * 1000) / CLK_TCK });
    } catch { /* exited meanwhile */ }
  }
  const children = new Map<number, number[]>();
  for (const p of stats) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const byPid = new Map(stats.map((p) => [p.pid, p]));
  const out = { total: 0, node: 0, postgres: 0, processes: 0 };
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.pop()!;
    const p = byPid.get(pid);
    if (!p) continue;
    out.total += p.ms;
    if (p.comm.startsWith('postgres')) out.postgres += p.ms; else out.node += p.ms;
    out.processes++;
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

type Scrape = { queries: Map<string, number>; lagEvents: number; jobs: number };
export async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const queries = new Map<string, number>();
  let lagEvents = 0;
  let jobs = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (m[1] === 'parley_db_queries_total') {
      const op = /op="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? '?';
      queries.set(op, (queries.get(op) ?? 0) + value);
    } else if (m[1] === 'parley_projection_lag_events') lagEvents += value;
    else if (m[1] === 'parley_job_queue_depth') jobs += value;
  }
  if (queries.size === 0) throw new Error(`${url}/metrics has no parley_db_queries_total: does this tree have the query counter?`);
  return { queries, lagEvents, jobs };
}
const totalOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const diff = (a: Map<string, number>, b: Map<string, number>) => new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  return s[lo]! + (s[Math.ceil(rank)]! - s[lo]!) * (rank - lo);
}
export const r1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

// ---------------------------------------------------------------------------------------------

async function measureModel(opts: Options, model: 'shipped' | 'null', clients: Clients): Promise<PipelineRun> {
  const secret = randomBytes(32).toString('hex');
  // Admission runs as always, with limits no level reaches (this measures cost, not refusals).
  const env = {
    PARLEY_JWT_SECRET: secret, PARLEY_MASTER_KEY: randomBytes(32).toString('hex'), PARLEY_LOG_LEVEL: 'warn', PARLEY_NULL_MODEL: model === 'null' ? '1' : '0',
    PARLEY_TIERS: JSON.stringify({ free: { user: { rpm: 1_000_000, tpm: 1_000_000_000, streams: 10_000 }, tenant: { rpm: 1_000_000, tpm: 1_000_000_000, streams: 100_000 } } }),
    PARLEY_BROWNOUT_QUEUE_DEPTH: '1000000', PARLEY_SHED_QUEUE_DEPTH: '1000000', PARLEY_SHUTDOWN_GRACE_MS: '2000',
    // One generation per turn, as in every earlier run: since 10124ce the shipped model's server-side tools
    // are on and half of PROMPTS would add a tool round (a second generation). `--env PARLEY_TOOLS=auto`
    // measures turns with their tool rounds.
    PARLEY_TOOLS: 'off',
    ...opts.env,
  };
  const startedAt = new Date().toISOString();
  const server = await startServer(opts.tree, env, opts.cpuProf);
  const pid = server.child.pid!;
  try {
    const { signToken } = (await import(pathToFileURL(path.join(opts.tree, 'read-api/auth.ts')).href)) as { signToken: (s: string, a: { userId: string; tenantId: string; roles: string[] }) => Promise<string> };
    const maxUsers = Math.max(...opts.users);
    const tokens = await Promise.all(Array.from({ length: maxUsers }, (_, i) => signToken(secret, { userId: `bench-user-${i}`, tenantId: 'bench', roles: ['user'] })));
    const settle = async () => {
      let scrapes = 0;
      for (let i = 0; i < 120; i++) {
        const s = await scrape(server.url);
        scrapes++;
        if (s.lagEvents === 0 && s.jobs === 0) return { scrape: s, scrapes };
        await sleep(250);
      }
      throw new Error('the server did not settle within 30 s');
    };
    const retrieval = opts.retrieval > 0 ? await addPassages(server.url, tokens[0]!, opts.retrieval) : undefined;
    // Warm-up (JIT, pools, model), then the idle cost: pollers, and one scrape's own round trips.
    await clients.run({ url: server.url, tokens: tokens.slice(0, 8), turnsPerUser: 1, maxTokens: MAX_TOKENS, promptOffset: 3, retrieval });
    await settle();
    await sleep(1000);
    const idleWindowMs = 5000;
    const a = await scrape(server.url);
    const cpuA = treeCpuMs(pid);
    await sleep(idleWindowMs);
    const b = await scrape(server.url);
    const cpuB = treeCpuMs(pid);
    const c = await scrape(server.url);
    const scrapeQueries = totalOf(diff(b.queries, c.queries));
    const idle = {
      queriesPerSec: r1((totalOf(diff(a.queries, b.queries)) - scrapeQueries) / (idleWindowMs / 1000))!,
      cpuMsPerSec: r1((cpuB.total - cpuA.total) / (idleWindowMs / 1000))!,
      scrapeQueries,
      byOpPerSec: Object.fromEntries([...diff(a.queries, b.queries)].filter(([, v]) => v > 0).map(([k, v]) => [k, r1(v / (idleWindowMs / 1000))])),
    };
    console.log(`  ${opts.label}/${model}: idle ${idle.queriesPerSec} queries/s, ${idle.cpuMsPerSec} CPU ms/s; a scrape costs ${scrapeQueries} queries`);

    const levels: LevelResult[] = [];
    let promptOffset = 0;
    for (const users of opts.users) {
      const turnsPerUser = Math.max(1, Math.round((TURNS[users] ?? users) / users));
      const before = await scrape(server.url);
      const cpu0 = treeCpuMs(pid);
      const t0 = Date.now();
      const load = os.loadavg()[0]!;
      const { turns, cpuMs: clientCpuMs } = await clients.run({ url: server.url, tokens: tokens.slice(0, users), turnsPerUser, maxTokens: MAX_TOKENS, promptOffset: promptOffset++, retrieval });
      const wallMs = Math.max(...turns.map((t) => t.doneAt ?? Date.now())) - Math.min(...turns.map((t) => t.sendAt));
      const { scrape: after, scrapes } = await settle();
      const cpu1 = treeCpuMs(pid);
      const windowMs = Date.now() - t0;
      const ok = turns.filter((t) => !t.error);
      const n = turns.length;
      const byOp = diff(before.queries, after.queries);
      const measured = totalOf(byOp) - scrapes * scrapeQueries;
      const ttfts = turns.filter((t) => t.firstAt !== null).map((t) => t.firstAt! - t.sendAt);
      const deliveries = turns.flatMap((t) => t.deliveries);
      const level: LevelResult = {
        users, turns: n, turnsPerUser, errors: n - ok.length, errorMessages: [...new Set(turns.filter((t) => t.error).map((t) => t.error!))].slice(0, 5),
        wallMs, settleMs: windowMs - wallMs, turnsPerSec: r1((ok.length * 1000) / wallMs)!,
        ttftP50: r1(percentile(ttfts, 50)), ttftP95: r1(percentile(ttfts, 95)),
        deliveryP50: r1(percentile(deliveries, 50)), deliveryP95: r1(percentile(deliveries, 95)), liveChunks: deliveries.length,
        meanCompletionTokens: r1(ok.reduce((s, t) => s + (t.completionTokens ?? 0), 0) / Math.max(1, ok.length)),
        queriesPerTurn: r1(measured / n)!, idleQueriesPerTurn: r1((idle.queriesPerSec * windowMs) / 1000 / n)!,
        queriesByOpPerTurn: Object.fromEntries([...byOp].filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, r1(v / n)!])),
        cpuMsPerTurn: r1((cpu1.total - cpu0.total) / n)!, nodeCpuMsPerTurn: r1((cpu1.node - cpu0.node) / n)!, postgresCpuMsPerTurn: r1((cpu1.postgres - cpu0.postgres) / n)!,
        idleCpuMsPerTurn: r1((idle.cpuMsPerSec * windowMs) / 1000 / n)!, treeProcesses: cpu1.processes, clientCpuMsPerTurn: r1(clientCpuMs / n)!, loadavg1Before: r1(load)!,
      };
      levels.push(level);
      console.log(`  ${opts.label}/${model} ${users} users: ${n} turns, ${level.turnsPerSec} turns/s, TTFT p50 ${level.ttftP50} p95 ${level.ttftP95} ms, ${level.queriesPerTurn} queries/turn, ${level.cpuMsPerTurn} CPU ms/turn (node ${level.nodeCpuMsPerTurn}, postgres ${level.postgresCpuMsPerTurn}), errors ${level.errors}`);
    }
    if (retrieval) {
      // That the turns did retrieve: the sources of bench-user-0's latest answer (history read model).
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` },
        body: JSON.stringify({ query: '{ conversations(first: 1) { edges { node { messages { role sources { index } } } } } }' }) });
      const body = (await res.json()) as { data?: { conversations: { edges: { node: { messages: { role: string; sources: unknown[] }[] } }[] } } };
      const answer = body.data?.conversations.edges[0]?.node.messages.find((m) => m.role === 'assistant');
      console.log(`  retrieval check: the latest answer's prompt held ${answer?.sources.length ?? 'no'} sources`);
    }
    const errorLines = server.output().split('\n').filter((l) => /"level":(50|60)|"level":"(error|fatal)"/.test(l));
    return { label: opts.label, model, tree: opts.tree, commit: commitOf(opts.tree), env: { ...opts.env, ...(opts.retrieval ? { retrievalPassages: String(opts.retrieval), retrievalTopK: '4' } : {}) }, startedAt, finishedAt: new Date().toISOString(), idle, levels, serverErrorLines: errorLines.length, firstServerError: errorLines[0]?.slice(0, 300) ?? null };
  } finally {
    await stopServer(server);
  }
}

// --retrieval: one-sentence facts (capitals, units and numbers, as the prompts ask about, and filler
// about made-up places) in one shared collection, added one document each and waited for until the
// indexer has them all.
async function addPassages(url: string, token: string, n: number): Promise<{ collections: string[]; topK: number }> {
  const facts = ['The capital of France is Paris.', 'The capital of Japan is Tokyo.', 'A kilogram has 1000 grams.', 'An hour has 60 minutes.', '7 times 8 is 56.', '2 + 3 is 5.'];
  const gql = async (query: string, variables: object) => {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`--retrieval: ${JSON.stringify(body.errors).slice(0, 300)}`);
    return body.data;
  };
  let position = '';
  for (let i = 0; i < n; i++) {
    const text = i < facts.length ? facts[i]! : `The town of Vel${i} has ${100 + i} bridges and a market on day ${1 + (i % 28)}.`;
    position = (await gql('mutation($i: AddDocumentInput!) { addDocument(input: $i) { position } }', { i: { collection: 'bench', title: `Fact ${i}`, text } })).addDocument.position;
  }
  for (let t = 0; t < 60; t++) {
    const docs = (await gql('query($p: String) { documents(collection: "bench", consistentWith: $p) { chunks } }', { p: position })).documents as { chunks: number | null }[];
    if (docs.length === n && docs.every((d) => d.chunks !== null)) return { collections: ['bench'], topK: 4 };
  }
  throw new Error('--retrieval: the documents were not indexed in time');
}

export function commitOf(tree: string): string {
  try {
    const head = execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', tree, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return 'unknown';
  }
}

export async function run(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  console.log(`tree ${opts.tree} (${commitOf(opts.tree)}), label ${opts.label}, models ${opts.models.join(', ')}, users ${opts.users.join(', ')}; ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  const clients = new Clients();
  await clients.ready;
  const runs: PipelineRun[] = [];
  try {
    for (const model of opts.models) runs.push(await measureModel(opts, model, clients));
  } finally {
    clients.stop();
  }
  writeReport(path.join(here, 'results'), opts.out, runs, { cpuModel: os.cpus()[0]?.model ?? '?', cores: os.cpus().length, node: process.version });
  console.log(`wrote bench/results/${opts.out}.{json,md,svg} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

if (process.env.PARLEY_PIPELINE_CLIENT === '1' && process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await clientMain();
