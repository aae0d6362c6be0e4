// `npm run bench:safety`: latency and throughput of the safety pipeline.
//   1. input cascade (rules + PII + injection, no classifier) on 1 KB and 8 KB texts: p50/p95/p99
//      per check and sequential checks/s, for the async API (`check`, what the saga calls) and the
//      synchronous one (`checkSync`);
//   2. the same on 1 KB with the linear classifier consulted on every check (its worst case);
//   3. the streaming output filter: time added per streamed token (push of a ~4-char delta),
//      p50/p95/p99 and mean, over whole answers of ~4 KB, ending with `end()`;
//   4. the moderation model (the cascade's main stage): the cascade with the model on 1 KB, and the
//      model alone (worker round trip) on one 1 KB input and on a batch of 32 prompts;
//   5. quality on the held-out split: the table `npm run safety:train` measured on the model trained
//      without that split (bench/results/safety-model.md), copied in, since the shipped model has
//      also learned the held-out rows and must not be measured on them.
// Texts are built from the labelled fixtures' benign rows plus chat-like filler, seeded, so every
// run measures the same work. Results: bench/results/safety.{json,md}.
import { prng } from './prng.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  createLinearClassifier,
  createOutputFilter,
  createModerationModel,
  createSafetyCascade,
  loadLinearModel,
  type SafetyCascade,
} from '../safety/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCALE = Number(process.env.BENCH_SCALE ?? 1);


const FILLER = [
  'Sure, here is a detailed explanation of how the algorithm works.',
  'First, we initialise the state and read the configuration file.',
  'The function returns a promise that resolves once the data is written.',
  'You can run the tests with npm test, and the linter with npm run lint.',
  'In the second step, the scheduler picks the next batch of requests.',
  'Let me know if you would like an example in Python as well!',
  'The capital of Australia is Canberra, not Sydney as many people think.',
  'Add two cups of flour, a pinch of salt and mix until smooth.',
  'This approach trades a little memory for a large gain in speed.',
  'Here is the revised paragraph with the changes you asked for:\n',
];

function corpus(): string[] {
  const file = path.join(here, '..', 'tests', 'fixtures', 'safety', 'labelled.jsonl');
  const benign = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { labels: string[]; text: string })
    .filter((r) => r.labels.length === 0)
    .map((r) => r.text);
  return [...benign, ...FILLER, ...FILLER];
}

function makeTexts(size: number, count: number, seed: number, sentences: string[] = corpus(), exact = true): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let t = '';
    while (t.length < size) t += sentences[Math.floor(rnd() * sentences.length)] + (rnd() < 0.15 ? '\n' : ' ');
    out.push(exact ? t.slice(0, size) : t); // not exact: whole sentences, at least `size`
  }
  return out;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

interface LatencyRow {
  name: string;
  bytes: number;
  checks: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  checksPerSec: number;
}

async function measureInput(name: string, cascade: SafetyCascade, texts: string[], iterations: number, mode: 'async' | 'sync'): Promise<LatencyRow> {
  const warm = Math.min(500, iterations);
  for (let i = 0; i < warm; i++) {
    if (mode === 'async') await cascade.check(texts[i % texts.length]);
    else cascade.checkSync(texts[i % texts.length]);
  }
  const samples = new Float64Array(iterations);
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const text = texts[i % texts.length];
    const s = performance.now();
    if (mode === 'async') await cascade.check(text);
    else cascade.checkSync(text);
    samples[i] = performance.now() - s;
  }
  const total = performance.now() - t0;
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return {
    name,
    bytes: Buffer.byteLength(texts[0]),
    checks: iterations,
    p50Ms: round(pct(sorted, 50)),
    p95Ms: round(pct(sorted, 95)),
    p99Ms: round(pct(sorted, 99)),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / iterations),
    checksPerSec: Math.round(iterations / (total / 1000)),
  };
}

/** Splits an answer into token-like deltas: a leading space plus up to 4 characters. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\s*\S{1,4}|\s+/g)) out.push(m[0]);
  return out;
}

interface FilterRow {
  answers: number;
  tokens: number;
  charsPerAnswer: number;
  perTokenP50Us: number;
  perTokenP95Us: number;
  perTokenP99Us: number;
  perTokenMeanUs: number;
  checksPerAnswer: number;
  releasedIdentical: boolean;
  stoppedAnswers: number;
}

function measureFilter(answers: string[]): FilterRow {
  const streams = answers.map(tokenize);
  // Warm-up
  for (const toks of streams.slice(0, 20)) {
    const f = createOutputFilter();
    for (const t of toks) f.push(t);
    f.end();
  }
  const perToken: number[] = [];
  let identical = true;
  let stoppedAnswers = 0;
  let totalTokens = 0;
  let totalMs = 0;
  for (let a = 0; a < streams.length; a++) {
    const toks = streams[a];
    const f = createOutputFilter({ scrubPii: false });
    let out = '';
    for (const t of toks) {
      const s = performance.now();
      out += f.push(t).emit;
      const d = performance.now() - s;
      perToken.push(d);
      totalMs += d;
    }
    const s = performance.now();
    out += f.end().emit;
    const d = performance.now() - s;
    perToken[perToken.length - 1] += d;
    totalMs += d;
    totalTokens += toks.length;
    if (f.stopped) stoppedAnswers++;
    if (out !== answers[a]) identical = false;
  }
  const sorted = perToken.sort((x, y) => x - y);
  const checksEstimate = answers.reduce((n, a) => n + (a.match(/[.!?]\s|\n/g)?.length ?? 0) + 1, 0) / answers.length;
  return {
    answers: answers.length,
    tokens: totalTokens,
    charsPerAnswer: Math.round(answers.reduce((n, a) => n + a.length, 0) / answers.length),
    perTokenP50Us: round(pct(sorted, 50) * 1000, 2),
    perTokenP95Us: round(pct(sorted, 95) * 1000, 2),
    perTokenP99Us: round(pct(sorted, 99) * 1000, 2),
    perTokenMeanUs: round((totalMs / totalTokens) * 1000, 2),
    checksPerAnswer: Math.round(checksEstimate),
    releasedIdentical: identical,
    stoppedAnswers,
  };
}

export async function run(): Promise<void> {
  const cascade = createSafetyCascade();
  const withClassifier = createSafetyCascade({
    classifier: createLinearClassifier(loadLinearModel()),
    uncertainBand: [0, 1.01],
  });
  const t1k = makeTexts(1024, 64, 1);
  const t8k = makeTexts(8192, 32, 2);
  const n1 = Math.max(200, Math.round(5000 * SCALE));
  const n8 = Math.max(100, Math.round(1500 * SCALE));
  // Each variant is measured REPS times (interleaved); the run with the median p95 is reported,
  // so one burst of load on a shared machine does not decide the figure.
  const REPS = 3;
  const variants: [string, SafetyCascade, string[], number, 'async' | 'sync'][] = [
    ['check (async), no classifier', cascade, t1k, n1, 'async'],
    ['check (async), no classifier', cascade, t8k, n8, 'async'],
    ['checkSync, no classifier', cascade, t1k, n1, 'sync'],
    ['checkSync, no classifier', cascade, t8k, n8, 'sync'],
    ['check (async), linear classifier on every check', withClassifier, t1k, n1, 'async'],
  ];
  const runs: LatencyRow[][] = variants.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    for (let v = 0; v < variants.length; v++) runs[v].push(await measureInput(...variants[v]));
  }
  const input: LatencyRow[] = runs.map((rs) => [...rs].sort((a, b) => a.p95Ms - b.p95Ms)[Math.floor(rs.length / 2)]);
  const p95Spread = runs.map((rs) => rs.map((r) => r.p95Ms));
  for (const r of input) console.log(`${r.name.padEnd(50)} ${String(r.bytes).padStart(5)} B  p50 ${r.p50Ms} ms  p95 ${r.p95Ms} ms  p99 ${r.p99Ms} ms  ${r.checksPerSec} checks/s`);

  // Answers are built from sentences the output check lets through on their own, so the filter
  // should release every answer unchanged (a mismatch is reported, not hidden).
  const passing = corpus().filter((t) => cascade.checkSync(t, undefined, { stage: 'output' }).verdict !== 'blocked');
  const answers = makeTexts(4096, Math.max(20, Math.round(200 * SCALE)), 3, passing, false);
  const filter = measureFilter(answers);
  console.log(
    `output filter: ${filter.tokens} tokens in ${filter.answers} answers of ~${filter.charsPerAnswer} chars; added per token p50 ${filter.perTokenP50Us} µs, p95 ${filter.perTokenP95Us} µs, p99 ${filter.perTokenP99Us} µs, mean ${filter.perTokenMeanUs} µs; safe text released unchanged: ${filter.releasedIdentical} (${filter.stoppedAnswers} answers stopped)`,
  );

  // The moderation model: the cascade with it (what checkInput runs), and the model alone.
  const model = createModerationModel();
  await model.warm();
  const withModel = createSafetyCascade({ model });
  const modelRuns: LatencyRow[] = [];
  for (let rep = 0; rep < REPS; rep++) modelRuns.push(await measureInput('check (async), rules + moderation model', withModel, t1k, Math.max(200, Math.round(2000 * SCALE)), 'async'));
  const cascadeWithModel = [...modelRuns].sort((a, b) => a.p95Ms - b.p95Ms)[1];
  input.push(cascadeWithModel);
  const timeIt = async (n: number, f: () => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await f();
    const xs: number[] = [];
    for (let i = 0; i < n; i++) { const t = performance.now(); await f(); xs.push(performance.now() - t); }
    xs.sort((a, b) => a - b);
    return { n, p50Ms: round(pct(xs, 50)), p95Ms: round(pct(xs, 95)), p99Ms: round(pct(xs, 99)) };
  };
  const prompts = makeTexts(160, 64, 4, corpus(), false);
  const alone = async (m: ReturnType<typeof createModerationModel>) => ({
    oneKb: await timeIt(Math.max(200, Math.round(2000 * SCALE)), () => m.classify(t1k[0])),
    batch32: await timeIt(Math.max(50, Math.round(300 * SCALE)), () => m.classifyMany(prompts.slice(0, 32))),
  });
  const modelAlone = await alone(model);
  await model.close();
  console.log(`model alone: 1 KB p50 ${modelAlone.oneKb.p50Ms} ms p95 ${modelAlone.oneKb.p95Ms} ms; batch of 32 p50 ${modelAlone.batch32.p50Ms} ms p95 ${modelAlone.batch32.p95Ms} ms`);
  // BENCH_SAFETY_PEER=<card.json>: another model measured the same way in the same run (e.g. the one a
  // retrain replaces, from git history), for a before/after ratio.
  let peer: { id: string; alone: typeof modelAlone } | null = null;
  if (process.env.BENCH_SAFETY_PEER) {
    const other = createModerationModel(process.env.BENCH_SAFETY_PEER);
    await other.warm();
    peer = { id: other.id, alone: await alone(other) };
    await other.close();
    console.log(`peer ${peer.id} alone: 1 KB p95 ${peer.alone.oneKb.p95Ms} ms; batch of 32 p95 ${peer.alone.batch32.p95Ms} ms`);
  }
  const qualityFile = path.join(here, 'results', 'safety-model.md');
  const quality = readFileSync(qualityFile, 'utf8').replace(/^# .*\n+/, '');

  const target = input[0];
  const result = {
    benchmark: 'safety',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cpus: os.cpus().length, node: process.version, platform: `${os.platform()} ${os.arch()}`, loadAverage1m: round(os.loadavg()[0], 2) },
    policyVersion: cascade.policyVersion,
    scale: SCALE,
    input,
    inputP95AllRuns: p95Spread,
    outputFilter: filter,
    ...(peer ? { peer } : {}),
    model: { id: model.id, cascadeOneKb: cascadeWithModel, alone: modelAlone, targets: { oneKbP95Ms: 5, batch32P95Ms: 40, met: cascadeWithModel.p95Ms < 5 && modelAlone.batch32.p95Ms < 40 } },
    target: { description: 'input cascade p95 < 2 ms for 1 KB without the classifier', p95Ms: target.p95Ms, met: target.p95Ms < 2 },
  };
  const dir = path.join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'safety.json'), JSON.stringify(result, null, 2) + '\n');
  const md = [
    '# Safety pipeline benchmark',
    '',
    `${result.date} · ${result.machine.cpu} (${result.machine.cpus} CPUs) · Node ${result.machine.node} · ${result.machine.platform}`,
    `Policy version: \`${result.policyVersion}\` · scale ${SCALE} · 1-minute load average at the end: ${result.machine.loadAverage1m}`,
    '',
    '## Input cascade (one check at a time, one thread)',
    '',
    `Each row is the median (by p95) of ${REPS} runs; p95 of every run: ${p95Spread.map((x) => x.join(' / ')).join('; ')} ms.`,
    '',
    '| variant | text | checks | p50 ms | p95 ms | p99 ms | mean ms | checks/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...input.map((r) => `| ${r.name} | ${r.bytes} B | ${r.checks} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${r.meanMs} | ${r.checksPerSec} |`),
    '',
    `Target (p95 < 2 ms for 1 KB, no classifier): **${result.target.met ? 'met' : 'NOT met'}** (p95 ${target.p95Ms} ms).`,
    '',
    '## Streaming output filter',
    '',
    `${filter.answers} safe answers of ~${filter.charsPerAnswer} characters, streamed as ${filter.tokens} token-sized deltas (≤ 4 characters each); the time of each \`push\` (and the final \`end\`) is the latency the filter adds to that token.`,
    '',
    '| per token | p50 µs | p95 µs | p99 µs | mean µs |',
    '|---|---:|---:|---:|---:|',
    `| added latency | ${filter.perTokenP50Us} | ${filter.perTokenP95Us} | ${filter.perTokenP99Us} | ${filter.perTokenMeanUs} |`,
    '',
    `Safe text released unchanged: ${filter.releasedIdentical} (${filter.stoppedAnswers} of ${filter.answers} answers stopped). Most pushes only append; a check runs at each sentence/line end (~${filter.checksPerAnswer} per answer), which is where the p95/p99 come from. Held-back text (at most one sentence) is a display delay, not compute, and is not in these numbers.`,
    '',
    `## Moderation model (\`${model.id}\`)`,
    '',
    '| what | n | p50 ms | p95 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    `| input cascade with the model, 1 KB (median of ${REPS} runs by p95) | ${cascadeWithModel.checks} | ${cascadeWithModel.p50Ms} | ${cascadeWithModel.p95Ms} | ${cascadeWithModel.p99Ms} |`,
    `| model alone (worker round trip), one 1 KB input | ${modelAlone.oneKb.n} | ${modelAlone.oneKb.p50Ms} | ${modelAlone.oneKb.p95Ms} | ${modelAlone.oneKb.p99Ms} |`,
    `| model alone, a batch of 32 prompts (~160 B each) | ${modelAlone.batch32.n} | ${modelAlone.batch32.p50Ms} | ${modelAlone.batch32.p95Ms} | ${modelAlone.batch32.p99Ms} |`,
    ...(peer ? [
      `| peer \`${peer.id}\` alone, one 1 KB input | ${peer.alone.oneKb.n} | ${peer.alone.oneKb.p50Ms} | ${peer.alone.oneKb.p95Ms} | ${peer.alone.oneKb.p99Ms} |`,
      `| peer alone, a batch of 32 prompts | ${peer.alone.batch32.n} | ${peer.alone.batch32.p50Ms} | ${peer.alone.batch32.p95Ms} | ${peer.alone.batch32.p99Ms} |`,
      '',
      `Against the peer in this run (p95): one 1 KB input ${(modelAlone.oneKb.p95Ms / peer.alone.oneKb.p95Ms).toFixed(2)}×, a batch of 32 ${(modelAlone.batch32.p95Ms / peer.alone.batch32.p95Ms).toFixed(2)}× (BENCH_SAFETY_PEER).`,
    ] : []),
    '',
    `Targets (p95 < 5 ms per 1 KB with the model, < 40 ms per batch of 32): **${result.model.targets.met ? 'met' : 'NOT met'}**.`,
    '',
    '## Quality on the held-out split (from `npm run safety:train`)',
    '',
    'Measured by the training run on the sibling model trained without the held-out split (whole intents held out in every language and obfuscation); copied from `bench/results/safety-model.md`. The shipped model also learned those rows, so it is not re-measured on them here.',
    '',
    quality,
  ].join('\n');
  writeFileSync(path.join(dir, 'safety.md'), md);
  console.log(`wrote ${path.join(dir, 'safety.json')} and safety.md`);
}
