// `npm run bench:engine`: Parley's engine (continuous batching, paged KV, prefix caching on / off)
// against transformers.js on the same model files (one request at a time, and static padded
// batches of 8), on the shipped model and on a ~25M-parameter random-weight model of the same
// architecture exported by inference/model/train.py. Writes bench/results/engine.{json,md,svg}.
//
// One request set per model: prompt lengths 16–512 tokens, outputs 32–256 tokens (maxTokens; a
// random-weight model rarely samples EOS, a trained one may stop earlier: only tokens actually
// generated are counted), half of the requests starting with a common 288-token system prompt.
// Lengths are stratified so that every prefix of 8 requests has the same length distribution,
// which lets smaller runs use a prefix of the set.
//
// Runs (each on a fresh engine, so one run's cache does not help the next):
//   - Parley, prefix caching on and off, closed loop at concurrency 1, 8, 32, 64 (c clients each
//     sending its next request when the previous one ends; the first c requests arrive at once);
//   - Parley at a fixed arrival rate (60% of the throughput measured at concurrency 32);
//   - transformers.js one request at a time (concurrency 1) and in static batches of 8 (a batch
//     runs until its longest request is done; the next batch starts after);
//   - TTFT of requests whose 288-token system prompt is in the prefix cache vs cold.
// Request counts are scaled so the whole benchmark takes about 10 minutes on 2 cores
// (BENCH_ENGINE_SCALE multiplies them). Timings are client-side (what a caller of the API sees).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type EngineOptions, type InferenceEngine } from '../inference/engine/engine.ts';
import { loadModel, SHIPPED_MODEL_DIR, type LoadedModel } from '../inference/engine/model.ts';
import { KvStore } from '../inference/engine/kv-store.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const resultsDir = path.join(here, 'results');
const SCALE = Number(process.env.BENCH_ENGINE_SCALE ?? 1);
const THREADS = Number(process.env.PARLEY_INTRA_OP_THREADS ?? 2);
const SYSTEM_LEN = 288;
const CONCURRENCY = [1, 8, 32, 64];

interface Req {
  i: number;
  prompt: number[];
  maxTokens: number;
  shared: boolean;
}

interface RunStats {
  system: string;
  concurrency: number | string;
  requests: number;
  outputTokens: number;
  wallSeconds: number;
  tokensPerSecond: number;
  /** output tokens per CPU-second of this process (all threads): less sensitive than wall time to
   *  other work on a shared machine */
  tokensPerCpuSecond: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  itlP50Ms: number;
  itlP95Ms: number;
  kvWaste: number | null;
  bytesCopiedPerToken: number | null;
  /** past KV the model gathers per generated token (Parley: the in-graph Gather of every row's
   *  past, padding included; transformers.js: its past is fed back as is, no gather) */
  pastGatheredPerToken: number | null;
  prefixHitRate: number | null;
  preemptions?: number;
  notes?: string;
}

const q = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const now = () => performance.now();
/** CPU seconds used by this process so far (every thread: main, engine worker, onnxruntime pool) */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const round = (x: number, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

// ---- the request set --------------------------------------------------------------------------

function makeRequests(model: LoadedModel, n: number): Req[] {
  let s = 20240601;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const specials = new Set([...model.tokenizer.specialIds, ...model.config.eosTokenIds, model.config.bosTokenId ?? -1, model.config.padTokenId ?? -1]);
  const lo = Math.max(...[...specials].filter((x) => x >= 0)) + 1;
  const tok = () => {
    let t: number;
    do t = lo + Math.floor(rnd() * (model.config.vocabSize - lo));
    while (specials.has(t));
    return t;
  };
  const system = Array.from({ length: SYSTEM_LEN }, tok);
  const reqs: Req[] = [];
  for (let g = 0; g < Math.ceil(n / 8); g++) {
    // stratified: 8 evenly spaced prompt and output lengths per group, shuffled
    const slots = Array.from({ length: 8 }, (_, k) => k).sort(() => rnd() - 0.5);
    const outs = Array.from({ length: 8 }, (_, k) => k).sort(() => rnd() - 0.5);
    for (let k = 0; k < 8 && reqs.length < n; k++) {
      const shared = k % 2 === 0;
      const u = (slots[k] + rnd()) / 8;
      const len = shared ? Math.round(SYSTEM_LEN + 16 + u * (512 - SYSTEM_LEN - 16)) : Math.round(16 + u * (512 - 16));
      const prompt = shared ? [...system, ...Array.from({ length: len - SYSTEM_LEN }, tok)] : Array.from({ length: len }, tok);
      const maxTokens = Math.round(32 + ((outs[k] + rnd()) / 8) * (256 - 32));
      reqs.push({ i: reqs.length, prompt, maxTokens, shared });
    }
  }
  return reqs;
}

// ---- Parley ---------------------------------------------------------------------------------

interface ParleyRun {
  stats: RunStats;
  outputs: Map<number, number[]>;
}

async function runParley(
  label: string,
  modelDir: string,
  opts: EngineOptions,
  reqs: Req[],
  arrival: { concurrency: number } | { ratePerSecond: number },
): Promise<ParleyRun> {
  const engine: InferenceEngine = await createEngine({ modelDir, threads: THREADS, maxSeqs: 64, ...opts });
  const ttft: number[] = [];
  const itl: number[] = [];
  const outputs = new Map<number, number[]>();
  let tokens = 0;
  const one = async (r: Req) => {
    const t0 = now();
    let last = -1;
    const ids: number[] = [];
    for await (const t of engine.submit({ requestId: `bench-${r.i}`, promptIds: r.prompt, params: { temperature: 0, maxTokens: r.maxTokens } })) {
      const t1 = now();
      if (t.index !== ids.length) continue; // an EOS that releases held-back text
      if (last < 0) ttft.push(t1 - t0);
      else itl.push(t1 - last);
      last = t1;
      ids.push(t.id);
    }
    tokens += ids.length;
    outputs.set(r.i, ids);
  };
  const start = now();
  const cpu0 = cpu();
  if ('concurrency' in arrival) {
    let next = 0;
    await Promise.all(
      Array.from({ length: arrival.concurrency }, async () => {
        while (next < reqs.length) await one(reqs[next++]);
      }),
    );
  } else {
    const gap = 1000 / arrival.ratePerSecond;
    await Promise.all(reqs.map(async (r, k) => {
      await new Promise((res) => setTimeout(res, k * gap));
      await one(r);
    }));
  }
  const wall = (now() - start) / 1000;
  const cpuS = cpu() - cpu0;
  const m = engine.metrics();
  await engine.close();
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : 0);
  const moved = num('parley:kv_bytes_gathered_total') + num('parley:kv_bytes_scattered_total') + num('parley:kv_bytes_returned_total');
  const queries = num('vllm:prefix_cache_queries_total');
  return {
    outputs,
    stats: {
      system: label,
      concurrency: 'concurrency' in arrival ? arrival.concurrency : `rate ${round(arrival.ratePerSecond, 2)}/s`,
      requests: reqs.length,
      outputTokens: tokens,
      wallSeconds: round(wall),
      tokensPerSecond: round(tokens / wall, 1),
      tokensPerCpuSecond: round(tokens / cpuS, 1),
      ttftP50Ms: round(q(ttft, 0.5), 1),
      ttftP95Ms: round(q(ttft, 0.95), 1),
      itlP50Ms: round(q(itl, 0.5), 2),
      itlP95Ms: round(q(itl, 0.95), 2),
      kvWaste: round(1 - num('parley:kv_slots_used_total') / Math.max(1, num('parley:kv_slots_allocated_total')), 4),
      bytesCopiedPerToken: Math.round(moved / Math.max(1, tokens)),
      pastGatheredPerToken: Math.round(num('parley:kv_bytes_past_read_total') / Math.max(1, tokens)),
      prefixHitRate: opts.prefixCaching === false ? null : round(num('vllm:prefix_cache_hits_total') / Math.max(1, queries), 3),
      preemptions: num('vllm:num_preemptions_total'),
    },
  };
}

/** TTFT of requests whose system prompt is cached vs the same requests with caching off. */
async function cachedTtft(modelDir: string, model: LoadedModel, reqs: Req[]): Promise<{ coldMs: number; cachedMs: number; ratio: number; cachedTokens: number }> {
  const shared = reqs.filter((r) => r.shared).slice(0, 7);
  // the same system prompt, then a short distinct user part
  const prompts = shared.map((r) => r.prompt.slice(0, SYSTEM_LEN + 24));
  const measure = async (prefixCaching: boolean) => {
    const e = await createEngine({ modelDir, threads: THREADS, maxSeqs: 8, prefixCaching });
    const ttfts: number[] = [];
    let cachedTokens = 0;
    for (let k = 0; k < prompts.length; k++) {
      const t0 = now();
      const h = e.submit({ requestId: `ttft-${k}`, promptIds: prompts[k], params: { temperature: 0, maxTokens: 2 } });
      let first = -1;
      for await (const _ of h) if (first < 0) first = now() - t0;
      const r = await h.result;
      if (k > 0) {
        ttfts.push(first); // request 0 warms the cache (and the session)
        cachedTokens = r.cachedPromptTokens ?? 0;
      }
    }
    await e.close();
    return { ttft: q(ttfts, 0.5), cachedTokens };
  };
  void model;
  const cold = await measure(false);
  const warm = await measure(true);
  return { coldMs: round(cold.ttft, 1), cachedMs: round(warm.ttft, 1), ratio: round(warm.ttft / cold.ttft, 3), cachedTokens: warm.cachedTokens };
}

// ---- transformers.js ----------------------------------------------------------------------------

async function loadTjs(modelDir: string) {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = path.dirname(modelDir) + '/';
  const model = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(modelDir), {
    dtype: 'fp32',
    local_files_only: true,
    // the same onnxruntime settings as Parley's engine (threads, no spinning)
    session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: process.env.PARLEY_ORT_SPINNING === '1' ? '1' : '0' } } } },
  } as never);
  return { tjs, model };
}

type Tjs = Awaited<ReturnType<typeof loadTjs>>;

async function tjsGenerate(t: Tjs, batch: Req[], pad: number, eos: Set<number>) {
  const { tjs, model } = t;
  const L = Math.max(...batch.map((r) => r.prompt.length));
  const ids = new BigInt64Array(batch.length * L).fill(BigInt(pad));
  const mask = new BigInt64Array(batch.length * L);
  batch.forEach((r, b) => {
    const off = L - r.prompt.length; // left padding, as for decoder-only generation
    r.prompt.forEach((x, k) => {
      ids[b * L + off + k] = BigInt(x);
      mask[b * L + off + k] = 1n;
    });
  });
  const stepTimes: number[] = [];
  let puts = 0;
  const streamer = new (class extends tjs.BaseStreamer {
    put() {
      if (puts++ > 0) stepTimes.push(now()); // the first put is the prompt
    }
    end() {}
  })();
  const maxNew = Math.max(...batch.map((r) => r.maxTokens));
  const t0 = now();
  const out = (await model.generate({
    input_ids: new tjs.Tensor('int64', ids, [batch.length, L]),
    attention_mask: new tjs.Tensor('int64', mask, [batch.length, L]),
    max_new_tokens: maxNew,
    do_sample: false,
    streamer,
  } as never)) as { tolist(): bigint[][] };
  const rows = out.tolist();
  const outputs = batch.map((r, b) => {
    const gen = rows[b].slice(L).map(Number);
    const res: number[] = [];
    for (const x of gen) {
      if (eos.has(x) || res.length >= r.maxTokens) break;
      res.push(x);
    }
    return res;
  });
  return { t0, stepTimes, outputs, L, steps: stepTimes.length };
}

async function runTjs(label: string, t: Tjs, model: LoadedModel, reqs: Req[], batchSize: number): Promise<{ stats: RunStats; outputs: Map<number, number[]> }> {
  const eos = new Set(model.config.eosTokenIds);
  const pad = model.config.padTokenId ?? 0;
  const perToken = KvStore.bytesPerToken(model.config);
  const ttft: number[] = [];
  const itl: number[] = [];
  const outputs = new Map<number, number[]>();
  let tokens = 0;
  let returnedBytes = 0;
  let allocated = 0;
  let used = 0;
  const start = now();
  const cpu0 = cpu();
  for (let k = 0; k < reqs.length; k += batchSize) {
    const batch = reqs.slice(k, k + batchSize);
    const submitted = now();
    const g = await tjsGenerate(t, batch, pad, eos);
    batch.forEach((r, b) => {
      const n = g.outputs[b].length;
      outputs.set(r.i, g.outputs[b]);
      tokens += n;
      if (n > 0) ttft.push(g.stepTimes[0] - submitted);
      for (let s = 1; s < n; s++) itl.push(g.stepTimes[s] - g.stepTimes[s - 1]);
    });
    // every step returns the whole present KV of every row out of onnxruntime; the KV tensors
    // hold rows × (L + step) positions, of which a row uses its prompt + what it generated so far
    for (let s = 0; s < g.steps; s++) {
      returnedBytes += batch.length * (g.L + s + 1) * perToken;
      allocated += batch.length * (g.L + s + 1);
      for (let b = 0; b < batch.length; b++) used += batch[b].prompt.length + Math.min(s + 1, g.outputs[b].length + 1);
    }
  }
  const wall = (now() - start) / 1000;
  const cpuS = cpu() - cpu0;
  return {
    outputs,
    stats: {
      system: label,
      concurrency: batchSize,
      requests: reqs.length,
      outputTokens: tokens,
      wallSeconds: round(wall),
      tokensPerSecond: round(tokens / wall, 1),
      tokensPerCpuSecond: round(tokens / cpuS, 1),
      ttftP50Ms: round(q(ttft, 0.5), 1),
      ttftP95Ms: round(q(ttft, 0.95), 1),
      itlP50Ms: round(q(itl, 0.5), 2),
      itlP95Ms: round(q(itl, 0.95), 2),
      kvWaste: round(1 - used / Math.max(1, allocated), 4),
      bytesCopiedPerToken: Math.round(returnedBytes / Math.max(1, tokens)),
      pastGatheredPerToken: 0,
      prefixHitRate: null,
      notes: batchSize > 1 ? 'a batch runs until its longest request ends; only each request’s own tokens are counted' : undefined,
    },
  };
}

// ---- models ---------------------------------------------------------------------------------

const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const RANDOM_25M_DIR = path.join(root, '.parley', 'bench-models', 'random-25m');

// The 25M comparison model is exported by train.py, which needs Python with PyTorch (Debian's
// python3-torch). Without it (and no export from an earlier run) the comparison is skipped.
function random25mUnavailable(): string | null {
  if (existsSync(path.join(RANDOM_25M_DIR, 'onnx', 'model.onnx'))) return null;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  return probe.status === 0 ? null : `skipped the ~25M-parameter comparison model: exporting it needs ${PYTHON} with PyTorch (apt-get install python3-torch)`;
}

function ensureRandom25m(): string {
  const dir = RANDOM_25M_DIR;
  if (!existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    mkdirSync(path.dirname(dir), { recursive: true });
    console.log('[bench] exporting the ~25M-parameter random-weight model (inference/model/train.py --random-init)');
    execFileSync(
      PYTHON,
      [
        path.join(root, 'inference/model/train.py'), '--random-init', '--out', dir, '--tokenizer-from', path.join(root, 'inference/model/test-random'),
        '--layers', '8', '--hidden', '512', '--heads', '8', '--kv-heads', '2', '--intermediate', '1536',
        '--corpus-size', '200', '--golden-size', '10', '--threads', '1', '--name', 'parley-random-25m',
      ],
      { stdio: 'inherit' },
    );
  }
  return dir;
}

interface ModelReport {
  name: string;
  dir: string;
  parameters: number | null;
  note?: string;
  runs: RunStats[];
  cachedTtft: Awaited<ReturnType<typeof cachedTtft>>;
  greedyAgreement: { identical: number; compared: number; note: string };
  targets: Record<string, { value: number; target: string; met: boolean }>;
}

async function benchModel(name: string, dir: string, sizes: { tjs1: number; tjs8: number; c: Record<number, number>; rate: number }, note?: string): Promise<ModelReport> {
  const model = loadModel(dir);
  const reqs = makeRequests(model, Math.max(64, ...Object.values(sizes.c), sizes.tjs1, sizes.tjs8, sizes.rate));
  const runs: RunStats[] = [];
  const log = (s: RunStats) => {
    runs.push(s);
    console.log(
      `[${name}] ${s.system.padEnd(26)} c=${String(s.concurrency).padEnd(10)} ${String(s.requests).padStart(3)} req ${String(s.outputTokens).padStart(6)} tok ${String(s.tokensPerSecond).padStart(7)} tok/s ${String(s.tokensPerCpuSecond).padStart(7)} tok/cpu-s  TTFT p50 ${s.ttftP50Ms} ms  ITL p50 ${s.itlP50Ms} ms  waste ${s.kvWaste}  hit ${s.prefixHitRate}`,
    );
  };
  const t = await loadTjs(dir);
  await tjsGenerate(t, reqs.slice(0, 1).map((r) => ({ ...r, maxTokens: 2 })), model.config.padTokenId ?? 0, new Set()); // warm-up
  const one = await runTjs('transformers.js one-at-a-time', t, model, reqs.slice(0, sizes.tjs1), 1);
  log(one.stats);
  const static8 = await runTjs('transformers.js static batch 8', t, model, reqs.slice(0, sizes.tjs8), 8);
  log(static8.stats);
  await (t.model as unknown as { dispose?: () => Promise<void> }).dispose?.();

  const parleyOutputs: Map<number, number[]>[] = [];
  let tput32 = 0;
  for (const prefixCaching of [true, false]) {
    const label = `Parley prefix cache ${prefixCaching ? 'on' : 'off'}`;
    for (const c of CONCURRENCY) {
      const r = await runParley(label, dir, { prefixCaching }, reqs.slice(0, sizes.c[c]), { concurrency: c });
      log(r.stats);
      parleyOutputs.push(r.outputs);
      if (c === 32 && prefixCaching) tput32 = r.stats.tokensPerSecond;
    }
  }
  const meanOut = reqs.reduce((a, r) => a + r.maxTokens, 0) / reqs.length;
  const rate = (0.6 * tput32) / meanOut;
  for (const prefixCaching of [true, false]) {
    const r = await runParley(`Parley prefix cache ${prefixCaching ? 'on' : 'off'}`, dir, { prefixCaching }, reqs.slice(0, sizes.rate), { ratePerSecond: rate });
    log(r.stats);
    parleyOutputs.push(r.outputs);
  }
  const ct = await cachedTtft(dir, model, reqs);
  console.log(`[${name}] TTFT with the system prompt cached ${ct.cachedMs} ms vs cold ${ct.coldMs} ms (ratio ${ct.ratio})`);

  // greedy agreement with transformers.js one-at-a-time: every Parley run (alone, batched,
  // cache on/off, fixed rate) that served the same request
  let identical = 0;
  let compared = 0;
  for (const [i, ids] of one.outputs) {
    for (const outs of parleyOutputs) {
      const p = outs.get(i);
      if (!p) continue;
      compared++;
      if (p.join() === ids.join()) identical++;
    }
  }
  const find = (sys: string, c: number) => runs.find((r) => r.system === sys && r.concurrency === c)!;
  const p32on = find('Parley prefix cache on', 32);
  const p32off = find('Parley prefix cache off', 32);
  const best32 = Math.max(p32on.tokensPerSecond, p32off.tokensPerSecond);
  const best32cpu = Math.max(p32on.tokensPerCpuSecond, p32off.tokensPerCpuSecond);
  const wasteMax = Math.max(...runs.filter((r) => r.system.startsWith('Parley')).map((r) => r.kvWaste ?? 0));
  const targets = {
    'throughput@32 ÷ transformers.js one-at-a-time': { value: round(best32 / one.stats.tokensPerSecond, 2), target: '≥ 4', met: best32 / one.stats.tokensPerSecond >= 4 },
    'throughput@32 ÷ transformers.js static batch 8': { value: round(best32 / static8.stats.tokensPerSecond, 2), target: '≥ 1.5', met: best32 / static8.stats.tokensPerSecond >= 1.5 },
    'tokens per CPU-second@32 ÷ transformers.js one-at-a-time': { value: round(best32cpu / one.stats.tokensPerCpuSecond, 2), target: '≥ 4', met: best32cpu / one.stats.tokensPerCpuSecond >= 4 },
    'tokens per CPU-second@32 ÷ transformers.js static batch 8': { value: round(best32cpu / static8.stats.tokensPerCpuSecond, 2), target: '≥ 1.5', met: best32cpu / static8.stats.tokensPerCpuSecond >= 1.5 },
    'KV waste (worst Parley run)': { value: wasteMax, target: '< 0.04', met: wasteMax < 0.04 },
    'TTFT cached system prompt ÷ cold': { value: ct.ratio, target: '≤ 0.25', met: ct.ratio <= 0.25 },
  };
  const params = (model.config.raw.parley as { parameters?: number } | undefined)?.parameters ?? null;
  return {
    name,
    dir: path.relative(root, dir),
    parameters: params,
    note,
    runs,
    cachedTtft: ct,
    greedyAgreement: { identical, compared, note: `request outputs compared: the ${one.outputs.size} requests transformers.js ran one at a time, in every Parley run that served them (alone, batched at c = 8/32/64, prefix cache on/off, fixed rate)` },
    targets,
  };
}

// ---- report -------------------------------------------------------------------------------------

function markdown(reports: ModelReport[], meta: Record<string, unknown>): string {
  const out: string[] = ['# Inference engine benchmark', '', `Generated by \`npm run bench:engine\` (bench/engine.bench.ts) on ${meta.date}.`, ''];
  out.push(`Machine: ${meta.cpus} (${meta.cores} cores, shared with other work while this ran: ${meta.loadavg}); onnxruntime intra-op threads: ${THREADS} (no spinning, for both systems); scale ${SCALE}.`, '');
  out.push('Request set: prompts 16–512 tokens, outputs 32–256 tokens (greedy; only generated tokens are counted), half of the requests share a 288-token system prompt. Request counts are scaled down so the whole run takes about 10 minutes (counts per run in the table). "c" is the number of concurrent clients (closed loop: each client sends its next request when the previous one ends, so the first c requests arrive at once); "rate" rows send requests at a fixed rate. Timings are client-side; tokens/CPU-s divides by the CPU time of the benchmark process (all its threads), which other work on the machine disturbs less than wall time. transformers.js rows: one request at a time (c = 1) and static padded batches of 8 (c = 8), same model files, same threads.', '');
  out.push('Columns: KV waste = allocated-but-unused KV slots ÷ allocated (Parley: tails of blocks, averaged over steps; transformers.js static batches: padding and finished rows); bytes copied per generated token = KV bytes the engine moves between its blocks and onnxruntime (Parley: the KV of the new positions returned by the model + the same written into blocks; transformers.js: the whole present KV that every step returns from onnxruntime); past KV gathered in-graph = what the paged graph copies out of the block pool into a dense past for attention every step (rows × padded past; onnxruntime-internal, not a JS copy, and transformers.js has no equivalent because it feeds its dense present back as the next past).', '');
  for (const r of reports) {
    out.push(`## ${r.name}${r.parameters ? ` (${(r.parameters / 1e6).toFixed(1)}M parameters)` : ''}`, '');
    if (r.note) out.push(`> ${r.note}`, '');
    out.push('| system | c | requests | output tokens | tokens/s | tokens/CPU-s | TTFT p50 ms | TTFT p95 ms | ITL p50 ms | ITL p95 ms | KV waste | bytes copied / token | past KV gathered in-graph / token | prefix hit rate | preemptions |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of r.runs) {
      out.push(`| ${s.system} | ${s.concurrency} | ${s.requests} | ${s.outputTokens} | ${s.tokensPerSecond} | ${s.tokensPerCpuSecond} | ${s.ttftP50Ms} | ${s.ttftP95Ms} | ${s.itlP50Ms} | ${s.itlP95Ms} | ${s.kvWaste === null ? '–' : (s.kvWaste * 100).toFixed(2) + '%'} | ${s.bytesCopiedPerToken === null ? '–' : s.bytesCopiedPerToken.toLocaleString('en')} | ${s.pastGatheredPerToken === null ? '–' : s.pastGatheredPerToken.toLocaleString('en')} | ${s.prefixHitRate === null ? '–' : (s.prefixHitRate * 100).toFixed(1) + '%'} | ${s.preemptions ?? '–'} |`);
    }
    out.push('', `TTFT of a request whose 288-token system prompt is cached: ${r.cachedTtft.cachedMs} ms (cached prompt tokens ${r.cachedTtft.cachedTokens}) vs cold ${r.cachedTtft.coldMs} ms → ratio ${r.cachedTtft.ratio}.`, '');
    out.push(`Greedy outputs identical to transformers.js: ${r.greedyAgreement.identical}/${r.greedyAgreement.compared} (${r.greedyAgreement.note}).`, '');
    out.push('| target | value | goal | met |', '|---|---|---|---|');
    for (const [k, v] of Object.entries(r.targets)) out.push(`| ${k} | ${v.value} | ${v.target} | ${v.met ? 'yes' : '**no**'} |`);
    out.push('');
  }
  out.push('![throughput and TTFT against concurrency](engine.svg)', '');
  return out.join('\n');
}

function svg(reports: ModelReport[]): string {
  const W = 460;
  const H = 260;
  const pad = { l: 60, r: 16, t: 30, b: 40 };
  const colors: Record<string, string> = {
    'Parley prefix cache on': '#1f77b4',
    'Parley prefix cache off': '#2ca02c',
    'transformers.js one-at-a-time': '#d62728',
    'transformers.js static batch 8': '#ff7f0e',
  };
  const panels: string[] = [];
  reports.forEach((r, ri) => {
    (['tokensPerSecond', 'ttftP50Ms'] as const).forEach((metric, mi) => {
      const x0 = mi * W;
      const y0 = ri * H;
      const rows = r.runs.filter((s) => typeof s.concurrency === 'number');
      const ymax = Math.max(...rows.map((s) => s[metric])) * 1.1 || 1;
      const xs = (c: number) => x0 + pad.l + (Math.log2(c) / 6) * (W - pad.l - pad.r);
      const ys = (v: number) => y0 + H - pad.b - (v / ymax) * (H - pad.t - pad.b);
      const g: string[] = [];
      g.push(`<text x="${x0 + W / 2}" y="${y0 + 18}" text-anchor="middle" font-size="13">${r.name}: ${metric === 'tokensPerSecond' ? 'output tokens/s' : 'TTFT p50 (ms)'} vs concurrency</text>`);
      g.push(`<line x1="${x0 + pad.l}" y1="${y0 + H - pad.b}" x2="${x0 + W - pad.r}" y2="${y0 + H - pad.b}" stroke="#333"/>`);
      g.push(`<line x1="${x0 + pad.l}" y1="${y0 + pad.t}" x2="${x0 + pad.l}" y2="${y0 + H - pad.b}" stroke="#333"/>`);
      for (const c of CONCURRENCY) g.push(`<text x="${xs(c)}" y="${y0 + H - pad.b + 16}" text-anchor="middle" font-size="11">${c}</text>`);
      for (let k = 0; k <= 4; k++) {
        const v = (ymax / 4) * k;
        g.push(`<text x="${x0 + pad.l - 6}" y="${ys(v) + 4}" text-anchor="end" font-size="10">${v >= 100 ? Math.round(v) : v.toFixed(1)}</text>`);
        g.push(`<line x1="${x0 + pad.l}" y1="${ys(v)}" x2="${x0 + W - pad.r}" y2="${ys(v)}" stroke="#eee"/>`);
      }
      for (const [sys, color] of Object.entries(colors)) {
        const pts = rows.filter((s) => s.system === sys).sort((a, b) => (a.concurrency as number) - (b.concurrency as number));
        if (!pts.length) continue;
        const d = pts.map((s, k) => `${k ? 'L' : 'M'}${xs(s.concurrency as number).toFixed(1)},${ys(s[metric]).toFixed(1)}`).join(' ');
        g.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
        for (const s of pts) g.push(`<circle cx="${xs(s.concurrency as number).toFixed(1)}" cy="${ys(s[metric]).toFixed(1)}" r="3.5" fill="${color}"/>`);
      }
      panels.push(g.join('\n'));
    });
  });
  const legend = Object.entries(colors)
    .map(([k, c], i) => `<rect x="${20 + i * 230}" y="${reports.length * H + 8}" width="12" height="12" fill="${c}"/><text x="${36 + i * 230}" y="${reports.length * H + 18}" font-size="12">${k}</text>`)
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${reports.length * H + 30}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n${legend}\n</svg>\n`;
}

export async function run(): Promise<void> {
  const os = await import('node:os');
  const t0 = now();
  const n = (x: number) => Math.max(1, Math.round(x * SCALE));
  // Parley runs get 3-4× more requests than clients so that most of a run is the steady state,
  // not the first burst or the drain at the end
  const small = { tjs1: n(8), tjs8: n(16), c: { 1: n(6), 8: n(32), 32: n(96), 64: n(128) }, rate: n(32) };
  const big = { tjs1: n(4), tjs8: n(16), c: { 1: n(4), 8: n(32), 32: n(96), 64: n(128) }, rate: n(32) };
  const reports: ModelReport[] = [];
  const skip25m = process.env.BENCH_ENGINE_SKIP_25M === '1' ? null : random25mUnavailable();
  if (skip25m) console.log(`[bench] engine: ${skip25m}; the shipped model's rows still run`);
  if (existsSync(path.join(SHIPPED_MODEL_DIR, 'config.json'))) {
    reports.push(await benchModel('parley-tiny (shipped)', SHIPPED_MODEL_DIR, small));
  } else {
    reports.push(
      await benchModel('test-random (stand-in for the shipped model)', path.join(root, 'inference/model/test-random'), small,
        'inference/model/parley-tiny was not present when this ran; inference/model/test-random (random weights, exported by the same train.py) stands in for it.'),
    );
  }
  if (process.env.BENCH_ENGINE_SKIP_25M !== '1' && !skip25m) reports.push(await benchModel('random-25m', ensureRandom25m(), big));
  const meta = {
    date: new Date().toISOString(),
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    loadavg: os.loadavg().map((x) => x.toFixed(1)).join(' / '),
    node: process.version,
    threads: THREADS,
    scale: SCALE,
    seconds: round((now() - t0) / 1000, 1),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'engine.json'), JSON.stringify({ meta, models: reports }, null, 2) + '\n');
  writeFileSync(path.join(resultsDir, 'engine.md'), markdown(reports, meta) + (skip25m ? `\nNot run: ${skip25m}.\n` : '') + `\nTotal benchmark time: ${meta.seconds} s.\n`);
  if (skip25m) console.log(`[bench] engine: ${skip25m}`);
  writeFileSync(path.join(resultsDir, 'engine.svg'), svg(reports));
  console.log(`[bench] wrote bench/results/engine.{json,md,svg} in ${meta.seconds} s`);
}
