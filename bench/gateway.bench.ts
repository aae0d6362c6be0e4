// `npm run bench:gateway`: the OpenAI-compatible endpoint (POST /v1/chat/completions, stream: true)
// under 16, 64 and 128 concurrent streaming clients (the official `openai` client, in a separate
// client process), on the embedded setup (one process with every role, local PostgreSQL, the
// shipped model). Three parts, each on a fresh database:
//   A. capacity: N premium clients send at the same instant (a burst), R rounds per N;
//      TTFT (send → first content delta) p50/p95, time to the role chunk, e2e, rejections;
//   B. overload: waves of 128 requests a second (open loop, far above capacity), a third each
//      free / paid / premium, with shedding watermarks at 16 (brownout) and 48 (shed) turns waiting:
//      the share of each tier admitted, shed (503), rate-limited (429), browned out;
//   C. the engine alone (createEngine, same model and prompts, same burst sizes): TTFT and e2e,
//      so the gateway's overhead is gateway − engine at the same concurrency.
// Results: bench/results/gateway.{json,md}.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONCURRENCY = [16, 64, 128] as const;
const ROUNDS: Record<number, number> = { 16: Number(process.env.BENCH_GW_ROUNDS_16 ?? 10), 64: Number(process.env.BENCH_GW_ROUNDS_64 ?? 6), 128: Number(process.env.BENCH_GW_ROUNDS_128 ?? 5) };
const OVERLOAD_WAVES = Number(process.env.BENCH_GW_OVERLOAD_WAVES ?? 15);
const MAX_TOKENS = 48;
const SECRET = 'gateway-bench-secret-of-at-least-32-chars';
const PROMPTS = [
  'What is the capital of France?', 'What is the capital of Japan?', 'What is the capital of Italy?',
  'What is the capital of Germany?', 'What is the capital of Spain?', 'What is the capital of Canada?',
  'What is 2 + 3?', 'What is 7 times 8?', 'What is 12 minus 5?', 'What is 9 + 14?', 'What is 6 times 7?',
  'Hello!', 'Hi there', 'Good morning, how are you?', 'Hey, who are you?',
  'How many centimeters are in a meter?', 'How many grams are in a kilogram?', 'How many minutes are in an hour?',
];

// ---------------------------------------------------------------------------------------------
// Client process.

type Job = { token: string; prompt: string; tier: string; delayMs?: number };
type Result = {
  tier: string; status: number; code: string | null; sendMs: number; roleMs: number | null; firstTokenMs: number | null; doneMs: number | null;
  completionTokens: number | null; finishReason: string | null; retryAfter: string | null; error: string | null;
};
type ClientRequest = { url: string; jobs: Job[]; maxTokens: number };

async function clientMain(): Promise<void> {
  const { default: OpenAI } = await import('openai');
  async function one(url: string, job: Job, maxTokens: number): Promise<Result> {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: job.token, maxRetries: 0, timeout: 180_000 });
    const t0 = performance.now();
    const r: Result = { tier: job.tier, status: 0, code: null, sendMs: 0, roleMs: null, firstTokenMs: null, doneMs: null, completionTokens: null, finishReason: null, retryAfter: null, error: null };
    try {
      const stream = await client.chat.completions.create({
        model: 'parley-tiny', messages: [{ role: 'user', content: job.prompt }], stream: true, stream_options: { include_usage: true }, max_tokens: maxTokens, temperature: 0,
      });
      r.status = 200;
      for await (const c of stream) {
        const now = performance.now() - t0;
        r.roleMs ??= now;
        if (c.choices[0]?.delta.content && r.firstTokenMs === null) r.firstTokenMs = now;
        if (c.choices[0]?.finish_reason) r.finishReason = c.choices[0].finish_reason;
        if (c.usage) r.completionTokens = c.usage.completion_tokens;
      }
      r.doneMs = performance.now() - t0;
    } catch (error) {
      const e = error as { status?: number; code?: string; headers?: Headers; message?: string };
      r.status = e.status ?? 0;
      r.code = e.code ?? null;
      r.retryAfter = e.headers?.get('retry-after') ?? null;
      if (!e.status) r.error = e.message ?? String(error);
    }
    return r;
  }
  process.on('message', async (req: ClientRequest) => {
    const results = await Promise.all(req.jobs.map(async (j) => {
      if (j.delayMs) await new Promise((r) => setTimeout(r, j.delayMs));
      return one(req.url, j, req.maxTokens);
    }));
    process.send!({ results });
  });
  process.send!({ ready: true });
}

class Clients {
  private readonly child: ChildProcess;
  private waiting: ((v: { results?: Result[]; ready?: boolean }) => void) | null = null;
  readonly ready: Promise<unknown>;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, PARLEY_GATEWAY_CLIENT: '1' }, execArgv: process.execArgv });
    this.child.on('message', (m: { results?: Result[]; ready?: boolean }) => { const w = this.waiting; this.waiting = null; w?.(m); });
    this.ready = new Promise((resolve) => (this.waiting = resolve));
  }
  run(req: ClientRequest): Promise<Result[]> {
    return new Promise((resolve) => {
      this.waiting = (m) => resolve(m.results ?? []);
      this.child.send(req);
    });
  }
  stop() {
    this.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------
// Parent.

const pct = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return Math.round((s[lo]! + (s[hi]! - s[lo]!) * (i - lo)) * 10) / 10;
};
const share = (n: number, d: number) => (d ? Math.round((1000 * n) / d) / 10 : 0);

async function startEmbedded(env: Record<string, string>) {
  const { createTestDatabase } = await import('../tests/support/database.ts');
  const { startApp, ALL_ROLES } = await import('../bin/app.ts');
  const { loadConfig } = await import('../bin/config.ts');
  const { TEST_MODEL_DIR } = await import('../tests/support/server.ts');
  const db = await createTestDatabase();
  const home = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-gw-'));
  const config = loadConfig({
    DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', PARLEY_HOME: home, MODEL_DIR: TEST_MODEL_DIR, PARLEY_JWT_SECRET: SECRET,
    PARLEY_LOG_LEVEL: 'warn', PARLEY_MASTER_KEY: 'cd'.repeat(32), ...env,
  });
  const app = await startApp(config, ALL_ROLES);
  return { app, db, modelDir: TEST_MODEL_DIR, stop: async () => { await app.stop(); await db.drop(); } };
}

async function tokenFor(userId: string, tenantId: string, tier: string): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({ tenant: tenantId, roles: ['user'], tier }).setProtectedHeader({ alg: 'HS256' }).setSubject(userId)
    .setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(SECRET));
}

type CapacityRow = {
  concurrency: number; requests: number; ok: number; rejected: number; errors: number;
  ttftP50: number | null; ttftP95: number | null; roleP50: number | null; e2eP50: number | null; e2eP95: number | null;
  meanCompletionTokens: number | null; tokensPerSecond: number; brownouts: number;
};
type EngineRow = { concurrency: number; requests: number; ttftP50: number | null; ttftP95: number | null; e2eP50: number | null; e2eP95: number | null; meanCompletionTokens: number | null };

export async function run(): Promise<void> {
  const started = Date.now();
  const loadBefore = os.loadavg();
  const clients = new Clients();
  await clients.ready;

  // A. capacity.
  console.log('A. capacity (premium clients, default watermarks)');
  const a = await startEmbedded({});
  const capacity: CapacityRow[] = [];
  let brownoutsSeen = 0;
  try {
    const warm = await Promise.all(Array.from({ length: 8 }, async (_, i) => ({ token: await tokenFor(`warm-${i}`, `tw-${i}`, 'premium'), prompt: PROMPTS[i]!, tier: 'premium' })));
    await clients.run({ url: a.app.url!, jobs: warm, maxTokens: MAX_TOKENS });
    for (const n of CONCURRENCY) {
      const all: Result[] = [];
      let wall = 0;
      for (let round = 0; round < ROUNDS[n]!; round++) {
        const jobs = await Promise.all(Array.from({ length: n }, async (_, i) => ({ token: await tokenFor(`a${n}-${round}-${i}`, `ta-${i}`, 'premium'), prompt: PROMPTS[(i * 7 + round) % PROMPTS.length]!, tier: 'premium' })));
        const t0 = Date.now();
        all.push(...await clients.run({ url: a.app.url!, jobs, maxTokens: MAX_TOKENS }));
        wall += Date.now() - t0;
      }
      const metrics = await (await fetch(`${a.app.url}/metrics`)).text();
      const brownouts = [...metrics.matchAll(/^parley_brownout_admissions_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
      const ok = all.filter((r) => r.status === 200 && r.finishReason);
      const tokens = ok.reduce((s, r) => s + (r.completionTokens ?? 0), 0);
      const row: CapacityRow = {
        concurrency: n, requests: all.length, ok: ok.length, rejected: all.filter((r) => r.status === 429 || r.status === 503).length,
        errors: all.filter((r) => r.status !== 200 && r.status !== 429 && r.status !== 503).length + all.filter((r) => r.status === 200 && !r.finishReason).length,
        ttftP50: pct(ok.map((r) => r.firstTokenMs!).filter((x) => x !== null), 0.5), ttftP95: pct(ok.map((r) => r.firstTokenMs!).filter((x) => x !== null), 0.95),
        roleP50: pct(ok.map((r) => r.roleMs!), 0.5), e2eP50: pct(ok.map((r) => r.doneMs!), 0.5), e2eP95: pct(ok.map((r) => r.doneMs!), 0.95),
        meanCompletionTokens: ok.length ? Math.round((10 * tokens) / ok.length) / 10 : null,
        tokensPerSecond: Math.round(tokens / (wall / 1000)), brownouts: brownouts - brownoutsSeen,
      };
      brownoutsSeen = brownouts;
      capacity.push(row);
      console.log(`  ${n} concurrent: TTFT p50 ${row.ttftP50} ms p95 ${row.ttftP95} ms; ok ${row.ok}/${row.requests}; ${row.tokensPerSecond} tok/s`);
    }
  } finally {
    await a.stop();
  }

  // B. overload with tiers.
  console.log(`B. overload (${OVERLOAD_WAVES} waves of 128 requests, one a second: free / paid / premium; brownout at 16 turns waiting, shed at 48)`);
  const b = await startEmbedded({ PARLEY_BROWNOUT_QUEUE_DEPTH: '16', PARLEY_SHED_QUEUE_DEPTH: '48', PARLEY_BROWNOUT_MAX_TOKENS: '16', PARLEY_SHED_RETRY_AFTER_S: '2' });
  const tiers = ['free', 'paid', 'premium'];
  const overload: Record<string, { requests: number; admitted: number; shed: number; rateLimited: number; errors: number; brownout: number; ttftP50: number | null; ttftP95: number | null }> = {};
  try {
    const jobs: Job[] = [];
    for (let wave = 0; wave < OVERLOAD_WAVES; wave++) {
      for (let i = 0; i < 128; i++) {
        const tier = tiers[i % 3]!;
        jobs.push({ token: await tokenFor(`b-${wave}-${i}`, `tb-${i}`, tier), prompt: PROMPTS[(i * 5 + wave) % PROMPTS.length]!, tier, delayMs: wave * 1000 });
      }
    }
    const all = await clients.run({ url: b.app.url!, jobs, maxTokens: MAX_TOKENS });
    const browned = await b.app.knex('generation_admissions').where({ brownout: true }).groupBy('tier').select('tier').count({ n: '*' }) as { tier: string; n: string }[];
    for (const tier of tiers) {
      const rs = all.filter((r) => r.tier === tier);
      const ok = rs.filter((r) => r.status === 200 && r.finishReason);
      overload[tier] = {
        requests: rs.length, admitted: ok.length, shed: rs.filter((r) => r.status === 503).length, rateLimited: rs.filter((r) => r.status === 429).length,
        errors: rs.length - ok.length - rs.filter((r) => r.status === 503 || r.status === 429).length,
        brownout: Number(browned.find((x) => x.tier === tier)?.n ?? 0),
        ttftP50: pct(ok.map((r) => r.firstTokenMs!).filter((x) => x !== null), 0.5), ttftP95: pct(ok.map((r) => r.firstTokenMs!).filter((x) => x !== null), 0.95),
      };
      const o = overload[tier]!;
      console.log(`  ${tier}: admitted ${share(o.admitted, o.requests)}%, shed ${share(o.shed, o.requests)}%, 429 ${share(o.rateLimited, o.requests)}%, browned out ${o.brownout}`);
    }
  } finally {
    await b.stop();
    clients.stop();
  }

  // C. the engine alone.
  console.log('C. engine alone (same model, prompts, bursts)');
  const { createEngine } = await import('../inference/engine/engine.ts');
  const { TEST_MODEL_DIR } = await import('../tests/support/server.ts');
  const engine = await createEngine({ modelDir: TEST_MODEL_DIR });
  const engineRows: EngineRow[] = [];
  try {
    const burst = async (n: number, round: number) => Promise.all(Array.from({ length: n }, async (_, i) => {
      const promptIds = engine.model.applyChatTemplate([{ role: 'user', content: PROMPTS[(i * 7 + round) % PROMPTS.length]! }]);
      const t0 = performance.now();
      const h = engine.submit({ requestId: randomUUID(), promptIds, params: { temperature: 0, maxTokens: MAX_TOKENS } });
      let first: number | null = null;
      for await (const _ of h) first ??= performance.now() - t0;
      const r = await h.result;
      return { ttft: first, e2e: performance.now() - t0, tokens: r.completionTokens };
    }));
    await burst(8, 0);
    for (const n of CONCURRENCY) {
      const rs: { ttft: number | null; e2e: number; tokens: number }[] = [];
      for (let round = 0; round < ROUNDS[n]!; round++) rs.push(...await burst(n, round));
      engineRows.push({
        concurrency: n, requests: rs.length,
        ttftP50: pct(rs.map((r) => r.ttft!).filter((x) => x !== null), 0.5), ttftP95: pct(rs.map((r) => r.ttft!).filter((x) => x !== null), 0.95),
        e2eP50: pct(rs.map((r) => r.e2e), 0.5), e2eP95: pct(rs.map((r) => r.e2e), 0.95),
        meanCompletionTokens: Math.round((10 * rs.reduce((s, r) => s + r.tokens, 0)) / rs.length) / 10,
      });
      console.log(`  ${n} concurrent: engine TTFT p50 ${engineRows.at(-1)!.ttftP50} ms`);
    }
  } finally {
    await engine.close();
  }

  const results = {
    generatedAt: new Date().toISOString(), durationS: Math.round((Date.now() - started) / 1000),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadBefore, loadAfter: os.loadavg() },
    setup: { model: 'parley-tiny', maxTokens: MAX_TOKENS, temperature: 0, rounds: ROUNDS, overloadWaves: OVERLOAD_WAVES, prompts: PROMPTS.length },
    capacity, overload, engine: engineRows,
    overhead: capacity.map((c) => {
      const e = engineRows.find((r) => r.concurrency === c.concurrency)!;
      return { concurrency: c.concurrency, ttftP50Ms: c.ttftP50 !== null && e.ttftP50 !== null ? Math.round((c.ttftP50 - e.ttftP50) * 10) / 10 : null, e2eP50Ms: c.e2eP50 !== null && e.e2eP50 !== null ? Math.round((c.e2eP50 - e.e2eP50) * 10) / 10 : null };
    }),
  };
  const out = path.join(here, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'gateway.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(out, 'gateway.md'), report(results));
  console.log(`wrote bench/results/gateway.{json,md} (${results.durationS} s)`);
}

export function report(r: any): string {
  const L: string[] = [];
  const la = (x: number[]) => x.map((v) => v.toFixed(2)).join(' / ');
  L.push('# Gateway benchmark (issue 8): the OpenAI-compatible endpoint', '');
  L.push(`Generated by \`npm run bench:gateway\` (bench/gateway.bench.ts) on ${r.generatedAt}, ${r.durationS} s.`, '');
  L.push(`Machine: ${r.machine.cpu}, ${r.machine.cpus} cores, ${r.machine.memGiB} GiB; Node ${r.machine.node}. Load average before ${la(r.machine.loadBefore)}, after ${la(r.machine.loadAfter)} (the cores are shared with other work: figures move between runs).`, '');
  L.push(`Setup: embedded (one process: API, projector, saga, worker with one engine of 64 sequences; local PostgreSQL; in-process token bus), the shipped model ${r.setup.model}, temperature 0, max_tokens ${r.setup.maxTokens}, ${r.setup.prompts} short prompts. Clients: the official \`openai\` package with \`stream: true\` and \`stream_options.include_usage\`, in a separate process; a round is N requests sent at the same instant, each read to \`[DONE]\`; rounds ${JSON.stringify(r.setup.rounds)}.`, '');
  L.push('## A. Streaming clients (premium tier, default watermarks)', '');
  L.push('| concurrent | requests | ok | rejected | errors | TTFT p50 ms | TTFT p95 ms | role chunk p50 ms | e2e p50 ms | e2e p95 ms | mean tokens | tokens/s | browned out |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of r.capacity) L.push(`| ${c.concurrency} | ${c.requests} | ${c.ok} | ${c.rejected} | ${c.errors} | ${c.ttftP50} | ${c.ttftP95} | ${c.roleP50} | ${c.e2eP50} | ${c.e2eP95} | ${c.meanCompletionTokens} | ${c.tokensPerSecond} | ${c.brownouts} |`);
  L.push('', 'TTFT: before `create()` → first chunk with content. Role chunk: the first SSE frame, written once the turn is appended — so it is the gateway\'s own share (HTTP, JWT, admission, two commands appended); the rest of the TTFT is the pipeline behind it (saga, job queue, worker, engine, output filter, token bus). Tokens/s: completion tokens ÷ the rounds\' wall time.', '');
  L.push('## B. Overload: rejected share per tier', '');
  L.push(`Open loop: ${r.setup.overloadWaves} waves of 128 requests, one wave a second (far above what the engine finishes in a second), a third each free / paid / premium, one user and tenant per client (no quota in the way). Watermarks on the queue depth (turns waiting: messages not yet requested by the saga + jobs not yet claimed by a worker): brownout at 16 (max_tokens capped to 16), shed at 48 (the lowest tier, free, gets 503 + Retry-After: 2). The depth is read at admission (cached ≤ 250 ms), so the first wave passes before its own turns are counted.`, '');
  L.push('| tier | requests | admitted | shed (503) | rate-limited (429) | errors | browned out | TTFT p50 ms (admitted) | TTFT p95 ms |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const [tier, o] of Object.entries(r.overload) as [string, any][]) {
    L.push(`| ${tier} | ${o.requests} | ${o.admitted} (${share(o.admitted, o.requests)}%) | ${o.shed} (${share(o.shed, o.requests)}%) | ${o.rateLimited} (${share(o.rateLimited, o.requests)}%) | ${o.errors} | ${o.brownout} | ${o.ttftP50} | ${o.ttftP95} |`);
  }
  L.push('', 'Admitted free requests show a lower TTFT than paid and premium ones because free requests are only admitted while the queue is below the shed mark. Paid and premium TTFTs are alike: the waiting happens mostly before the engine (in the saga), where tier priority does not apply; priority orders the job queue and the engine\'s scheduler.', '');
  L.push('## C. Gateway overhead vs the engine alone', '');
  L.push('The same prompts and bursts submitted straight to `createEngine()` in the bench process (no HTTP, no event log, no saga, no job queue, no safety).', '');
  L.push('| concurrent | engine TTFT p50 ms | engine TTFT p95 ms | engine e2e p50 ms | gateway TTFT p50 ms | overhead TTFT p50 ms | overhead e2e p50 ms |');
  L.push('|---|---|---|---|---|---|---|');
  for (const o of r.overhead) {
    const e = r.engine.find((x: any) => x.concurrency === o.concurrency);
    const c = r.capacity.find((x: any) => x.concurrency === o.concurrency);
    L.push(`| ${o.concurrency} | ${e.ttftP50} | ${e.ttftP95} | ${e.e2eP50} | ${c.ttftP50} | ${o.ttftP50Ms} | ${o.e2eP50Ms} |`);
  }
  L.push('', 'The overhead is everything a turn goes through besides the model: HTTP and JSON, JWT, admission (load snapshot, quota buckets), two commands appended to PostgreSQL, the saga (input safety, context assembly, GenerationRequested, job enqueue), the worker claiming the job and reading the conversation, the output safety filter (which holds text until a sentence is complete), the token bus and the SSE frames; on 2 shared cores all of it competes with the engine for CPU.', '');
  return `${L.join('\n')}\n`;
}

if (process.env.PARLEY_GATEWAY_CLIENT) void clientMain();
