// `npm run bench:e2e`: the end-to-end benchmark of issue 7. N simulated users (16 and 64) each send
// one message with the GraphQL mutation `sendMessage` and follow its answer with the official
// graphql-sse client (`generationStream`, distinct-connections mode, as in tests/support/sse.ts),
// against two setups in the same run:
//   (a) embedded: one process with every role (api, projector, saga, worker; in-process token bus);
//   (b) scaled: 1 API process (api, projector, saga) + 2 worker processes (`parley serve --role
//       worker`), live tokens fanned out over Redis.
// Both on the local PostgreSQL (a fresh database per setup) with the shipped model (parley-tiny).
//
// A round = N users sending at the same instant (a burst), each then streaming its answer to the
// end; rounds run one after another. A 1-user baseline (one request at a time) comes first. The simulated users run in a separate client process (forked
// from this file) so their work does not share the API's event loop; on this 2-core machine they
// still share the CPU with everything else.
//
// Measured per request, on the client's clock (Date.now(), 1 ms resolution, the same clock the
// worker stamps `sampledAt` with):
//   TTFT            send (before the mutation) → first chunk with a non-empty delta or index ≥ 0;
//   tokens/s        per stream: completion tokens ÷ (last token chunk − send); total: completion
//                   tokens of a round ÷ the round's wall time (first send → last stream done);
//   delivery        arrival − sampledAt for every live chunk (chunks replayed from the event log
//                   carry no sampledAt, so they are counted separately as "from the log").
// Also from the event log after each round: where the time before the first token went (saga,
// worker pick-up + engine, engine's own TTFT). Results: bench/results/e2e.{json,md}.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
// 1 user: a baseline (requests one at a time) for the fixed latencies of the pipeline.
const USERS = [1, 16, 64] as const;
const ROUNDS: Record<number, number> = { 1: Number(process.env.BENCH_E2E_ROUNDS_1 ?? 5), 16: Number(process.env.BENCH_E2E_ROUNDS_16 ?? 5), 64: Number(process.env.BENCH_E2E_ROUNDS_64 ?? 4) };
const MAX_TOKENS = 64; // the shipped model's answers are far shorter; below the brownout cap (128)
const STREAM_TIMEOUT_MS = 60_000;
const BUDGET_MS = 6.5 * 60_000; // rounds still to run after this are skipped (and reported as skipped)
const TENANT = 'bench';

// Questions the shipped model was trained on: capitals, arithmetic, greetings, unit conversions.
const PROMPTS = [
  'What is the capital of France?', 'What is the capital of Japan?', 'What is the capital of Italy?',
  'What is the capital of Germany?', 'What is the capital of Spain?', 'What is the capital of Canada?',
  'What is the capital of Egypt?', 'What is the capital of Brazil?',
  'What is 2 + 3?', 'What is 7 times 8?', 'What is 12 minus 5?', 'What is 9 + 14?',
  'What is 6 times 7?', 'What is 100 minus 37?', 'What is 15 + 27?', 'What is 81 divided by 9?',
  'Hello!', 'Hi there', 'Good morning, how are you?', 'Hey, who are you?', 'Good evening!',
  'How many centimeters are in a meter?', 'How many grams are in a kilogram?', 'How many minutes are in an hour?',
];

// ---------------------------------------------------------------------------------------------
// Client process: the simulated users.

type UserJob = { user: number; token: string; prompt: string };
type UserResult = {
  user: number; prompt: string; generationId: string | null;
  sendAt: number; mutationMs: number | null; firstAt: number | null; firstLive: boolean | null; firstIndex: number | null;
  lastTokenAt: number | null; lastIndex: number | null; doneAt: number | null;
  chunks: number; liveChunks: number; logChunks: number; deliveries: number[];
  completionTokens: number | null; promptTokens: number | null; finishReason: string | null;
  textLength: number; indicesMonotonic: boolean; error: string | null;
};
type ClientRequest = { url: string; jobs: UserJob[]; maxTokens: number };
type ClientReply = { ok: true; results: UserResult[]; cpuMs: number } | { ok: false; error: string };

async function clientMain(): Promise<void> {
  const { streamChunks, textOf } = await import('../tests/support/sse.ts');
  const MUTATION = 'mutation($input: SendMessageInput!) { sendMessage(input: $input) { generation { id } } }';

  async function oneUser(url: string, job: UserJob, maxTokens: number): Promise<UserResult> {
    const r: UserResult = {
      user: job.user, prompt: job.prompt, generationId: null, sendAt: Date.now(), mutationMs: null, firstAt: null, firstLive: null, firstIndex: null,
      lastTokenAt: null, lastIndex: null, doneAt: null, chunks: 0, liveChunks: 0, logChunks: 0, deliveries: [], completionTokens: null, promptTokens: null,
      finishReason: null, textLength: 0, indicesMonotonic: true, error: null,
    };
    try {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${job.token}` },
        body: JSON.stringify({ query: MUTATION, variables: { input: { content: job.prompt, params: { temperature: 0, maxTokens } } } }),
      });
      const body = (await res.json()) as { data?: { sendMessage?: { generation: { id: string } } }; errors?: unknown[] };
      r.mutationMs = Date.now() - r.sendAt;
      if (body.errors || !body.data?.sendMessage) throw new Error(`sendMessage: HTTP ${res.status} ${JSON.stringify(body.errors ?? body)}`);
      const id = body.data.sendMessage.generation.id;
      r.generationId = id;
      let lastIndex = -Infinity;
      const stream = streamChunks(url, job.token, id, {
        onChunk: (c, at) => {
          r.chunks++;
          if (!c.done) {
            if (c.reset) lastIndex = -Infinity;
            if (c.index <= lastIndex) r.indicesMonotonic = false;
            lastIndex = c.index;
          }
          if (r.firstAt === null && (c.delta !== '' || c.index >= 0)) { r.firstAt = at; r.firstLive = c.sampledAt != null; r.firstIndex = c.index; }
          if (c.delta !== '') { r.lastTokenAt = at; r.lastIndex = c.index; }
          if (c.sampledAt != null) { r.liveChunks++; r.deliveries.push(at - c.sampledAt); } else if (!c.done) r.logChunks++;
          if (c.done) {
            r.doneAt = at;
            r.finishReason = c.finishReason;
            r.completionTokens = c.usage?.completionTokens ?? null;
            r.promptTokens = c.usage?.promptTokens ?? null;
            if (c.error) r.error = `stream ended with error: ${c.error}`;
          }
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no end of stream within ${STREAM_TIMEOUT_MS} ms`)), STREAM_TIMEOUT_MS); });
      const chunks = await Promise.race([stream, timeout]).finally(() => clearTimeout(timer));
      r.textLength = textOf(chunks).length;
      if (!chunks.at(-1)?.done) r.error ??= 'stream closed without a done chunk';
    } catch (error) {
      r.error = (error as Error).message.slice(0, 500);
    }
    return r;
  }

  process.on('message', (req: ClientRequest) => {
    const cpu = process.cpuUsage();
    Promise.all(req.jobs.map((j) => oneUser(req.url, j, req.maxTokens))).then(
      (results) => { const c = process.cpuUsage(cpu); process.send!({ ok: true, results, cpuMs: (c.user + c.system) / 1000 } satisfies ClientReply); },
      (error: unknown) => process.send!({ ok: false, error: String(error) } satisfies ClientReply),
    );
  });
  process.send!({ ok: true, results: [], cpuMs: 0 } satisfies ClientReply); // ready
}

class Clients {
  private readonly child: ChildProcess;
  private pending: { resolve: (v: { results: UserResult[]; cpuMs: number }) => void; reject: (e: Error) => void } | undefined;
  readonly ready: Promise<unknown>;
  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, PARLEY_E2E_CLIENT: '1' }, execArgv: process.execArgv });
    this.ready = new Promise((resolve, reject) => (this.pending = { resolve: resolve as never, reject }));
    this.child.on('message', (reply: ClientReply) => {
      const p = this.pending;
      this.pending = undefined;
      if (reply.ok) p?.resolve({ results: reply.results, cpuMs: reply.cpuMs });
      else p?.reject(new Error(`client process: ${reply.error}`));
    });
    this.child.on('exit', (code) => this.pending?.reject(new Error(`client process exited with ${code}`)));
  }
  run(req: ClientRequest): Promise<{ results: UserResult[]; cpuMs: number }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(req);
    });
  }
  stop() {
    this.child.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: the setups, the rounds, the report.

type Breakdown = {
  generationId: string; user: number;
  sendToSubmittedMs: number | null; // client send → MessageSubmitted recorded
  submittedToRequestedMs: number | null; // saga: input safety + context assembly → GenerationRequested
  requestedToFirstChunkMs: number | null; // job enqueue, worker pick-up, prompt, engine TTFT, first flush
  requestedToJobMs: number | null; // GenerationRequested → the saga's transaction that enqueues the job (generation_jobs.created_at)
  jobToFirstChunkMs: number | null; // that transaction → first TokensGenerated (worker pick-up, prompt, engine, first flush)
  engineTtftMs: number | null; // engine: submit → first token (GenerationCompleted.ttftMs)
  engineTpotMs: number | null;
  workerId: string | null; brownout: boolean | null; attempts: number | null;
};
type RoundResult = {
  setup: string; users: number; round: number; startedAt: string; wallMs: number;
  clientCpuMs: number; apiProcessCpuMs: number; workerProcessesCpuMs: number[] | null;
  loadavgBefore: number[]; loadavgAfter: number[];
  requests: UserResult[]; breakdown: Breakdown[];
};
type Summary = {
  setup: string; users: number; rounds: number; requests: number; completed: number; errors: number; errorMessages: string[];
  ttftP50: number | null; ttftP95: number | null; ttftMax: number | null;
  mutationP50: number | null;
  perStreamTokensPerSecMedian: number | null; perStreamTokensPerSecMean: number | null;
  decodeTokensPerSecMedian: number | null; decodeStreams: number;
  totalTokensPerSec: number | null;
  deliveryP50: number | null; deliveryP95: number | null; deliveryMax: number | null; liveChunks: number; logChunks: number;
  firstChunkLiveShare: number | null; meanTokensInFirstChunk: number | null; brownouts: number; retriedGenerations: number;
  meanCompletionTokens: number | null; finishReasons: Record<string, number>; nonMonotonicStreams: number;
  breakdownMedians: { sendToSubmittedMs: number | null; submittedToRequestedMs: number | null; requestedToFirstChunkMs: number | null; requestedToJobMs: number | null; jobToFirstChunkMs: number | null; engineTtftMs: number | null; engineTpotMs: number | null };
  byWorker: Record<string, number>;
  meanClientCpuMs: number; meanApiProcessCpuMs: number; meanWorkerProcessesCpuMs: number[] | null;
};

// Linear interpolation between closest ranks (numpy's default).
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}
const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);
const round1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);

function procCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return null;
  }
}

function machineInfo() {
  const cpus = os.cpus();
  const sh = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return null; } };
  return {
    cpuModel: cpus[0]?.model ?? 'unknown', cores: cpus.length, totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version,
    postgres: sh('psql', ['--version']), redis: sh('redis-server', ['--version'])?.split(' ').slice(0, 3).join(' ') ?? null,
    loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    // Other work on the machine when the run started (the 2 cores are shared); ps's %CPU is each process's lifetime average.
    busiestProcessesAtStartPsPcpu: (sh('ps', ['-eo', 'pcpu,args', '--sort=-pcpu']) ?? '').split('\n').slice(1, 9).map((l) => l.trim().slice(0, 120)),
  };
}

async function runRounds(
  setup: string, url: string, tokens: string[], clients: Clients, started: number,
  store: { readStream: (id: string) => Promise<{ type: string; recordedAt: string; data: any }[]> },
  knex: (table: string) => any,
  workerPids: number[] | null, skipped: string[],
): Promise<RoundResult[]> {
  const rounds: RoundResult[] = [];
  let promptOffset = 0;
  for (const users of USERS) {
    for (let round = 1; round <= ROUNDS[users]!; round++) {
      if (Date.now() - started > BUDGET_MS) { skipped.push(`${setup} ${users} users round ${round}`); continue; }
      const jobs: UserJob[] = Array.from({ length: users }, (_, user) => ({ user, token: tokens[user]!, prompt: PROMPTS[(user + promptOffset) % PROMPTS.length]! }));
      promptOffset += 7;
      const loadavgBefore = os.loadavg();
      const apiCpu = process.cpuUsage();
      const workerCpu = workerPids?.map(procCpuMs) ?? null;
      const startedAt = new Date().toISOString();
      const { results, cpuMs } = await clients.run({ url, jobs, maxTokens: MAX_TOKENS });
      const apiCpuUsed = process.cpuUsage(apiCpu);
      const workerCpuUsed = workerPids ? workerPids.map((pid, i) => (procCpuMs(pid) ?? NaN) - (workerCpu![i] ?? NaN)) : null;
      const firstSend = Math.min(...results.map((r) => r.sendAt));
      const lastDone = Math.max(...results.map((r) => r.doneAt ?? r.lastTokenAt ?? r.sendAt));
      const breakdown: Breakdown[] = [];
      const ids = results.map((r) => r.generationId).filter((x): x is string => x !== null);
      const jobRows = (await knex('generation_jobs').whereIn('generation_id', ids).select('generation_id', 'created_at')) as { generation_id: string; created_at: Date }[];
      const jobCreated = new Map(jobRows.map((j) => [j.generation_id, new Date(j.created_at).getTime()]));
      for (const r of results) {
        if (!r.generationId) continue;
        const gen = await store.readStream(`generation-${r.generationId}`);
        const requested = gen.find((e) => e.type === 'GenerationRequested');
        const conv = requested ? await store.readStream(`conversation-${requested.data.conversationId}`) : [];
        const submitted = conv.find((e) => e.type === 'MessageSubmitted' && e.data.generationId === r.generationId);
        const firstChunk = gen.find((e) => e.type === 'TokensGenerated');
        const completed = gen.find((e) => e.type === 'GenerationCompleted');
        const t = (e: { recordedAt: string } | undefined) => (e ? new Date(e.recordedAt).getTime() : null);
        const diff = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);
        breakdown.push({
          generationId: r.generationId, user: r.user,
          sendToSubmittedMs: diff(r.sendAt, t(submitted)),
          submittedToRequestedMs: diff(t(submitted), t(requested)),
          requestedToFirstChunkMs: diff(t(requested), t(firstChunk)),
          requestedToJobMs: diff(t(requested), jobCreated.get(r.generationId) ?? null),
          jobToFirstChunkMs: diff(jobCreated.get(r.generationId) ?? null, t(firstChunk)),
          engineTtftMs: completed?.data.ttftMs ?? null, engineTpotMs: completed?.data.tpotMs ?? null,
          workerId: completed?.data.workerId ?? null, brownout: requested?.data.brownout ?? null,
          attempts: completed?.data.attempt ?? null,
        });
      }
      rounds.push({
        setup, users, round, startedAt, wallMs: lastDone - firstSend,
        clientCpuMs: cpuMs, apiProcessCpuMs: (apiCpuUsed.user + apiCpuUsed.system) / 1000, workerProcessesCpuMs: workerCpuUsed,
        loadavgBefore, loadavgAfter: os.loadavg(), requests: results, breakdown,
      });
      const ttfts = results.filter((r) => r.firstAt !== null).map((r) => r.firstAt! - r.sendAt);
      const errs = results.filter((r) => r.error).length;
      console.log(`  ${setup} ${users} users round ${round}: wall ${lastDone - firstSend} ms, TTFT p50 ${round1(percentile(ttfts, 50))} p95 ${round1(percentile(ttfts, 95))} ms, errors ${errs}`);
    }
  }
  return rounds;
}

function summarize(setup: string, users: number, rounds: RoundResult[]): Summary {
  const reqs = rounds.flatMap((r) => r.requests);
  const errors = reqs.filter((r) => r.error);
  const ok = reqs.filter((r) => !r.error && r.doneAt !== null);
  const ttfts = reqs.filter((r) => r.firstAt !== null).map((r) => r.firstAt! - r.sendAt);
  const perStream = ok.filter((r) => r.lastTokenAt !== null && r.completionTokens).map((r) => r.completionTokens! / ((Math.max(1, r.lastTokenAt! - r.sendAt)) / 1000));
  // Rate once tokens flow: tokens after the first chunk ÷ (last token chunk − first chunk), where they arrived spread over time.
  const decode = ok.filter((r) => r.lastTokenAt !== null && r.firstAt !== null && r.lastTokenAt > r.firstAt && r.lastIndex !== null && r.firstIndex !== null && r.lastIndex > r.firstIndex)
    .map((r) => (r.lastIndex! - r.firstIndex!) / ((r.lastTokenAt! - r.firstAt!) / 1000));
  const tokensPerRound = rounds.map((r) => r.requests.reduce((s, q) => s + (q.error ? 0 : q.completionTokens ?? 0), 0));
  const totalWall = rounds.reduce((s, r) => s + r.wallMs, 0);
  const deliveries = reqs.flatMap((r) => r.deliveries);
  const finishReasons: Record<string, number> = {};
  for (const r of reqs) finishReasons[r.finishReason ?? 'none'] = (finishReasons[r.finishReason ?? 'none'] ?? 0) + 1;
  const bd = rounds.flatMap((r) => r.breakdown);
  const med = (k: keyof Breakdown) => round1(percentile(bd.map((b) => b[k]).filter((x): x is number => typeof x === 'number'), 50));
  const byWorker: Record<string, number> = {};
  for (const b of bd) if (b.workerId) byWorker[b.workerId] = (byWorker[b.workerId] ?? 0) + 1;
  const withFirst = reqs.filter((r) => r.firstLive !== null);
  const workerCpu = rounds[0]?.workerProcessesCpuMs ? rounds[0].workerProcessesCpuMs.map((_, i) => Math.round(mean(rounds.map((r) => r.workerProcessesCpuMs![i]!))!)) : null;
  return {
    setup, users, rounds: rounds.length, requests: reqs.length, completed: ok.length, errors: errors.length,
    errorMessages: [...new Set(errors.map((e) => e.error!))].slice(0, 10),
    ttftP50: round1(percentile(ttfts, 50)), ttftP95: round1(percentile(ttfts, 95)), ttftMax: ttfts.length ? Math.max(...ttfts) : null,
    mutationP50: round1(percentile(reqs.filter((r) => r.mutationMs !== null).map((r) => r.mutationMs!), 50)),
    perStreamTokensPerSecMedian: round1(percentile(perStream, 50)), perStreamTokensPerSecMean: round1(mean(perStream)),
    decodeTokensPerSecMedian: round1(percentile(decode, 50)), decodeStreams: decode.length,
    totalTokensPerSec: totalWall > 0 ? round1(tokensPerRound.reduce((a, b) => a + b, 0) / (totalWall / 1000)) : null,
    deliveryP50: round1(percentile(deliveries, 50)), deliveryP95: round1(percentile(deliveries, 95)), deliveryMax: deliveries.length ? Math.max(...deliveries) : null,
    liveChunks: deliveries.length, logChunks: reqs.reduce((s, r) => s + r.logChunks, 0),
    firstChunkLiveShare: withFirst.length ? round1((100 * withFirst.filter((r) => r.firstLive).length) / withFirst.length) : null,
    meanTokensInFirstChunk: round1(mean(reqs.filter((r) => r.firstIndex !== null && r.firstIndex >= 0).map((r) => r.firstIndex! + 1))),
    brownouts: bd.filter((b) => b.brownout).length, retriedGenerations: bd.filter((b) => (b.attempts ?? 1) > 1).length,
    meanCompletionTokens: round1(mean(ok.filter((r) => r.completionTokens !== null).map((r) => r.completionTokens!))),
    finishReasons, nonMonotonicStreams: reqs.filter((r) => !r.indicesMonotonic).length,
    breakdownMedians: { sendToSubmittedMs: med('sendToSubmittedMs'), submittedToRequestedMs: med('submittedToRequestedMs'), requestedToFirstChunkMs: med('requestedToFirstChunkMs'), requestedToJobMs: med('requestedToJobMs'), jobToFirstChunkMs: med('jobToFirstChunkMs'), engineTtftMs: med('engineTtftMs'), engineTpotMs: med('engineTpotMs') },
    byWorker,
    meanClientCpuMs: Math.round(mean(rounds.map((r) => r.clientCpuMs)) ?? 0), meanApiProcessCpuMs: Math.round(mean(rounds.map((r) => r.apiProcessCpuMs)) ?? 0),
    meanWorkerProcessesCpuMs: workerCpu,
  };
}

export async function run(): Promise<void> {
  const started = Date.now();
  const { startTestServer, TEST_MODEL_DIR } = await import('../tests/support/server.ts');
  const { startRoleProcess } = await import('../tests/support/processes.ts');
  const machine = machineInfo();
  const modelConfig = JSON.parse(readFileSync(path.join(TEST_MODEL_DIR, 'config.json'), 'utf8')) as { parley?: { name?: string; parameters?: number } };
  console.log(`model ${modelConfig.parley?.name ?? TEST_MODEL_DIR} (${modelConfig.parley?.parameters ?? '?'} parameters); ${machine.cores} cores, load average ${machine.loadavgAtStart.join(' / ')}`);
  const clients = new Clients();
  await clients.ready;
  // Every process of a setup shares the master key (README: "Every process needs the same
  // PARLEY_JWT_SECRET and PARLEY_MASTER_KEY"); the workers need it to read the sealed prompts.
  const masterKey = randomBytes(32).toString('hex');
  const common = { PARLEY_LOG_LEVEL: 'warn', PARLEY_MASTER_KEY: masterKey };
  const actors = Array.from({ length: Math.max(...USERS) }, (_, i) => ({ userId: `bench-user-${i}`, tenantId: TENANT, roles: ['user' as const] }));
  const allRounds: RoundResult[] = [];
  const setupErrors: Record<string, string> = {};
  const skipped: string[] = [];
  const setups: { name: string; detail: string }[] = [];

  const warmUp = async (url: string, tokens: string[], n: number) => {
    const { results } = await clients.run({ url, maxTokens: MAX_TOKENS, jobs: Array.from({ length: n }, (_, i) => ({ user: i, token: tokens[i]!, prompt: PROMPTS[(i * 5) % PROMPTS.length]! })) });
    const failed = results.filter((r) => r.error);
    if (failed.length) console.log(`  warm-up: ${failed.length}/${n} failed: ${failed[0]!.error}`);
  };

  // (a) embedded: one process with all roles.
  {
    const name = 'embedded';
    setups.push({ name, detail: 'one process: api, projector, saga, worker; in-process token bus' });
    console.log(`\n(a) ${name}`);
    let server: Awaited<ReturnType<typeof startTestServer>> | null = null;
    try {
      server = await startTestServer({ env: common });
      const tokens = await Promise.all(actors.map((a) => server!.token(a)));
      await warmUp(server.url, tokens, 8);
      allRounds.push(...await runRounds(name, server.url, tokens, clients, started, server.app.store as never, server.app.knex, null, skipped));
    } catch (error) {
      setupErrors[name] = (error as Error).stack ?? String(error);
      console.error(`  ${name} failed: ${(error as Error).message}`);
    } finally {
      await server?.stop().catch((e) => console.error(`  ${name} stop failed: ${(e as Error).message}`));
    }
  }

  // (b) scaled: 1 API process (in this process) + 2 worker processes, Redis for the live tokens.
  {
    const name = 'scaled';
    setups.push({ name, detail: '1 API process (api, projector, saga) + 2 worker processes; Redis token bus' });
    console.log(`\n(b) ${name}`);
    let server: Awaited<ReturnType<typeof startTestServer>> | null = null;
    const workers: Awaited<ReturnType<typeof startRoleProcess>>[] = [];
    try {
      server = await startTestServer({ roles: ['api', 'projector', 'saga'], env: { ...common, REDIS_URL } });
      const env = { ...common, DATABASE_URL: server.db.url, REDIS_URL, MODEL_DIR: TEST_MODEL_DIR };
      workers.push(...await Promise.all([startRoleProcess('worker', env), startRoleProcess('worker', env)]));
      const tokens = await Promise.all(actors.map((a) => server!.token(a)));
      await warmUp(server.url, tokens, 16);
      allRounds.push(...await runRounds(name, server.url, tokens, clients, started, server.app.store as never, server.app.knex, workers.map((w) => w.child.pid!), skipped));
      const logs = workers.map((w) => w.output()).join('\n').split('\n').filter((l) => /"level":"(error|fatal)"|"level":50|"level":60/.test(l));
      if (logs.length) console.log(`  worker error log lines: ${logs.length}; first: ${logs[0]!.slice(0, 300)}`);
    } catch (error) {
      setupErrors[name] = (error as Error).stack ?? String(error);
      console.error(`  ${name} failed: ${(error as Error).message}`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await server?.stop().catch((e) => console.error(`  ${name} stop failed: ${(e as Error).message}`));
    }
  }
  clients.stop();

  const summaries: Summary[] = [];
  for (const s of setups) for (const users of USERS) {
    const rounds = allRounds.filter((r) => r.setup === s.name && r.users === users);
    if (rounds.length) summaries.push(summarize(s.name, users, rounds));
  }

  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '–' : String(v));
  const header = '| setup | users | requests | TTFT p50 ms | TTFT p95 ms | tokens/s per stream | total tokens/s | delivery p50 ms | delivery p95 ms | tokens delivered live | mean completion tokens | errors |';
  const rows = summaries.map((s) => `| ${s.setup} | ${s.users} | ${s.requests} | ${fmt(s.ttftP50)} | ${fmt(s.ttftP95)} | ${fmt(s.perStreamTokensPerSecMedian)} | ${fmt(s.totalTokensPerSec)} | ${fmt(s.deliveryP50)} | ${fmt(s.deliveryP95)} | ${s.liveChunks} live / ${s.logChunks} log chunks | ${fmt(s.meanCompletionTokens)} | ${s.errors} |`);
  const table = [header, '|---|---|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
  const targets = summaries.map((s) => ({
    setup: s.setup, users: s.users,
    deliveryP95Under5ms: s.deliveryP95 === null ? null : s.deliveryP95 < 5,
    ttftP95Under500msAt64: s.users === 64 ? (s.ttftP95 === null ? null : s.ttftP95 < 500) : undefined,
  }));
  const durationSeconds = (Date.now() - started) / 1000;
  const results = {
    benchmark: 'e2e', generatedAt: new Date().toISOString(), durationSeconds,
    machine: { ...machine, loadavgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    model: { dir: path.relative(root, TEST_MODEL_DIR), ...modelConfig.parley },
    config: { users: USERS, rounds: ROUNDS, maxTokens: MAX_TOKENS, temperature: 0, prompts: PROMPTS, tenant: TENANT, quotas: 'default (free tier)', logLevel: 'warn', redisUrl: REDIS_URL, streamTimeoutMs: STREAM_TIMEOUT_MS, clientMode: 'graphql-sse distinct connections, separate client process' },
    setups, setupErrors, skipped, summaries, targets, rounds: allRounds,
  };
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'e2e.json'), `${JSON.stringify(results, null, 2)}\n`);

  const notes: string[] = [];
  for (const s of summaries) {
    const b = s.breakdownMedians;
    notes.push(`- ${s.setup}, ${s.users} users: sendMessage round trip p50 ${fmt(s.mutationP50)} ms; medians from the event log: send → MessageSubmitted ${fmt(b.sendToSubmittedMs)} ms, → GenerationRequested +${fmt(b.submittedToRequestedMs)} ms, → first TokensGenerated +${fmt(b.requestedToFirstChunkMs)} ms (of which GenerationRequested → job enqueued ${fmt(b.requestedToJobMs)} ms, job enqueued → first TokensGenerated ${fmt(b.jobToFirstChunkMs)} ms; engine's own TTFT ${fmt(b.engineTtftMs)} ms, TPOT ${fmt(b.engineTpotMs)} ms); first chunk live for ${fmt(s.firstChunkLiveShare)}% of streams, carrying ${fmt(s.meanTokensInFirstChunk)} tokens on average; finish reasons ${JSON.stringify(s.finishReasons)}${s.brownouts ? `; brownout (max_tokens capped) ${s.brownouts}` : ''}${s.retriedGenerations ? `; retried ${s.retriedGenerations}` : ''}${Object.keys(s.byWorker).length > 1 ? `; per worker ${JSON.stringify(Object.values(s.byWorker))}` : ''}; CPU per round: client ${s.meanClientCpuMs} ms, API process ${s.meanApiProcessCpuMs} ms${s.meanWorkerProcessesCpuMs ? `, workers ${s.meanWorkerProcessesCpuMs.join(' + ')} ms` : ''}.`);
    if (s.errors) notes.push(`  errors: ${s.errorMessages.join(' | ')}`);
  }
  const md = [
    '# End-to-end benchmark (issue 7)',
    '',
    `Generated by \`npm run bench:e2e\` (bench/e2e.bench.ts) on ${results.generatedAt}, ${durationSeconds.toFixed(0)} s.`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.totalMemoryGiB} GiB; ${machine.platform}; Node ${machine.node}; ${machine.postgres ?? 'PostgreSQL'}; ${machine.redis ?? 'Redis'}. Load average at start ${machine.loadavgAtStart.join(' / ')}, at end ${results.machine.loadavgAtEnd.join(' / ')} (the cores were shared with other work).`,
    '',
    `Model: ${modelConfig.parley?.name ?? 'shipped'} (${modelConfig.parley?.parameters ?? '?'} parameters), temperature 0, maxTokens ${MAX_TOKENS}, ${PROMPTS.length} prompts (capitals, arithmetic, greetings, unit conversions). Setups: embedded = one process with every role, in-process token bus; scaled = 1 API process (api, projector, saga) + 2 worker processes, Redis token bus. Both on the local PostgreSQL, log level warn, default quotas. A round = N users sending at once, each streaming its answer to the end with the graphql-sse client (distinct connections) from a separate client process; rounds per N: ${USERS.map((u) => `${u} → ${ROUNDS[u]}`).join(', ')} (1 user: a baseline, one request at a time).`,
    '',
    table,
    '',
    'TTFT: send (before the mutation) → first chunk with text or index ≥ 0. Tokens/s per stream: median over streams of completion tokens ÷ (last token chunk − send). Total tokens/s: completion tokens of all rounds ÷ the rounds\' wall time. Delivery: arrival at the client − `sampledAt` (stamped by the worker when it takes the token from the engine), over live chunks only, 1 ms clock resolution on both sides; chunks replayed from the event log carry no `sampledAt` and are not in it.',
    '',
    '| target | setup | users | value | met |',
    '|---|---|---|---|---|',
    ...summaries.map((s) => `| delivery p95 < 5 ms | ${s.setup} | ${s.users} | ${fmt(s.deliveryP95)} ms | ${s.deliveryP95 === null ? '–' : s.deliveryP95 < 5 ? 'yes' : '**no**'} |`),
    ...summaries.filter((s) => s.users === 64).map((s) => `| TTFT p95 < 500 ms | ${s.setup} | 64 | ${fmt(s.ttftP95)} ms | ${s.ttftP95 === null ? '–' : s.ttftP95 < 500 ? 'yes' : '**no**'} |`),
    '',
    '## Details',
    '',
    ...notes,
    ...(Object.keys(setupErrors).length ? ['', '## Setup failures', '', ...Object.entries(setupErrors).map(([k, v]) => `- ${k}: \`${v.split('\n')[0]}\``)] : []),
    ...(skipped.length ? ['', `Skipped (time budget): ${skipped.join(', ')}.`] : []),
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'e2e.md'), md);
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(n);
  for (const t of targets) console.log(`target ${t.setup} ${t.users}: delivery p95 < 5 ms ${t.deliveryP95Under5ms === null ? 'n/a' : t.deliveryP95Under5ms ? 'met' : 'NOT met'}${t.ttftP95Under500msAt64 === undefined ? '' : `; TTFT p95 < 500 ms ${t.ttftP95Under500msAt64 ? 'met' : 'NOT met'}`}`);
  console.log(`wrote bench/results/e2e.json and e2e.md (${durationSeconds.toFixed(0)} s)`);
}

if (process.env.PARLEY_E2E_CLIENT === '1' && process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await clientMain();
