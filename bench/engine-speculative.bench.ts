// Prompt-lookup speculative decoding rows of `npm run bench:engine` (also alone:
// `npm run bench engine-speculative`). Writes bench/results/engine-speculative.{json,md,svg}.
//
// For each model (the shipped one and the random-weight test model) these request sets:
//   - copy-heavy: requests whose answer copies text from the prompt. Shipped model: "repeat that"
//     follow-ups (its answer copies the previous one), a grounded answer that quotes a passage given
//     in the system turn, a summary of a conversation, "repeat this text" — whichever of them the
//     model actually copies on is visible in the acceptance column; the random-weight model: prompts
//     made of a short segment repeated, of which the quarter whose greedy continuation (computed
//     first with the plain Runner) repeats the most — the share of its tokens prompt lookup
//     predicts — is kept: a random model copies only when it happens to fall into a loop;
//   - other: ordinary chat questions (shipped model) / random-token and chat prompts (random model);
//   - shipped model only: the copy-heavy turns offered the calculator under its tool-call constraint.
// Each set runs on a fresh engine with speculation off (EngineOptions.speculative = false) and on
// (the defaults), one request at a time (c = 1) and 8 clients at once (c = 8), off and on
// interleaved and repeated (BENCH_SPEC_REPEATS, default 3) because the machine is shared: the
// ratio reported is the median of the per-repeat ratios. Decode tokens/s = tokens after the first
// ÷ time from the first token to the last, summed over requests (how fast an answer streams once
// it has started); tokens/CPU-s = all generated tokens ÷ CPU time of the process (all threads).
// Greedy outputs with and without speculation are compared token for token.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type EngineOptions } from '../inference/engine/engine.ts';
import { loadModel, SHIPPED_MODEL_DIR, type ChatMessage, type LoadedModel } from '../inference/engine/model.ts';
import { Runner } from '../inference/engine/runner.ts';
import { proposeNgram } from '../inference/engine/speculative.ts';
import { prng as mulberry32 } from './prng.ts';
import type { Constraint } from '../schemas/constraint.ts';
import { builtinTools, toolCallConstraint, toolFunctions } from '../inference/tools/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const resultsDir = path.join(here, 'results');
const THREADS = Number(process.env.PARLEY_INTRA_OP_THREADS ?? 2);
const REPEATS = Number(process.env.BENCH_SPEC_REPEATS ?? 3);
const SCALE = Number(process.env.BENCH_ENGINE_SCALE ?? 1);

interface Req {
  kind: string;
  prompt: number[];
  maxTokens: number;
  /** the output constraint, as the saga sets one on a turn offered tools */
  constraint?: Constraint;
}

interface Measure {
  decodeTokens: number;
  decodeSeconds: number;
  tokens: number;
  cpuSeconds: number;
  wallSeconds: number;
  drafted: number;
  accepted: number;
  drafts: number;
  /** engine steps (one model call each) during the run */
  steps: number;
  outputs: number[][];
}

export interface SpecRow {
  model: string;
  set: string;
  kinds: string;
  concurrency: number;
  requests: number;
  outputTokens: number;
  offDecodeTps: number;
  onDecodeTps: number;
  /** median over repeats of on ÷ off decode tokens/s */
  decodeRatio: number;
  offTokPerCpuS: number;
  onTokPerCpuS: number;
  cpuRatio: number;
  draftTokens: number;
  acceptedTokens: number;
  acceptanceRate: number;
  /** mean draft tokens accepted per verification (+1 emitted token each) */
  acceptedPerDraft: number;
  identical: string;
  /** engine steps (model calls) per output token, off and on: what speculation saves,
   *  independent of the machine's load */
  offStepsPerToken: number;
  onStepsPerToken: number;
  perKind?: Record<string, { acceptanceRate: number; outputTokens: number }>;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const round = (x: number, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- request sets ---------------------------------------------------------------------------------

const CAPITALS: [string, string][] = [['Chile', 'Santiago'], ['Egypt', 'Cairo'], ['Ireland', 'Dublin'], ['Peru', 'Lima'], ['Japan', 'Tokyo'], ['Kenya', 'Nairobi'], ['Norway', 'Oslo'], ['Canada', 'Ottawa']];
const REPEATS_Q = ['Can you repeat that?', 'Say that again.', 'Repeat that please.', 'What did you say?'];
const PASSAGES = [
  'The Parley engine batches requests so that many answers are computed in one model call. Each request keeps its own key and value cache in blocks of sixteen tokens.',
  'Santiago is the capital of Chile. It lies in a valley between the Andes and the coastal range, and about seven million people live there.',
  'Tokens are computed in steps. A step runs the model once for every request in the batch, and a request that waits for its first token is prefilled in chunks.',
];

function chat(model: LoadedModel, messages: ChatMessage[]): number[] {
  return model.applyChatTemplate(messages);
}

async function shippedSets(model: LoadedModel, n: number): Promise<Record<string, Req[]>> {
  const copy: Req[] = [];
  const copyConstrained: Req[] = [];
  const other: Req[] = [];
  // The same copy-heavy turns offered the calculator, under its call constraint (tool choice auto),
  // as the saga runs a turn offered tools: constrained rows are speculated too (engine-loop verify).
  const calculator = builtinTools({ searchHistory: async () => [] }).filter((t) => t.name === 'calculator');
  const tools = toolFunctions(calculator).map((f) => ({ type: 'function', function: f }));
  const constraint = toolCallConstraint(calculator)!;
  for (let i = 0; copy.length < n; i++) {
    const [country, city] = CAPITALS[i % CAPITALS.length];
    const passage = PASSAGES[i % PASSAGES.length];
    const kind = ['repeat', 'grounded', 'summary', 'repeat-text'][i % 4];
    const messages: ChatMessage[] =
      kind === 'repeat'
        ? [{ role: 'user', content: `What is the capital of ${country}?` }, { role: 'assistant', content: `The capital of ${country} is ${city}.` }, { role: 'user', content: REPEATS_Q[i % REPEATS_Q.length] }]
        : kind === 'grounded'
          ? [{ role: 'system', content: `Answer from this source and cite it.\n[1] ${passage}` }, { role: 'user', content: 'What does the source say? Quote it.' }]
          : kind === 'summary'
            ? [{ role: 'user', content: passage }, { role: 'assistant', content: 'Noted.' }, { role: 'user', content: 'Summarise this conversation.' }]
            : [{ role: 'user', content: `Repeat this text exactly: ${passage}` }];
    copy.push({ kind, prompt: chat(model, messages), maxTokens: 96 });
    copyConstrained.push({ kind, prompt: model.applyChatTemplate(messages, { tools }), maxTokens: 96, constraint });
  }
  for (let i = 0; other.length < n; i++) {
    const [country] = CAPITALS[i % CAPITALS.length];
    const content = [`What is the capital of ${country}?`, `What is ${7 + i} plus ${12 + 2 * i}?`, 'Hello! Who are you?', `How many meters are in ${i + 2} kilometers?`][i % 4];
    other.push({ kind: ['capital', 'arithmetic', 'greeting', 'units'][i % 4], prompt: chat(model, [{ role: 'user', content }]), maxTokens: 96 });
  }
  return { 'copy-heavy': copy, 'copy-heavy, tool-call constraint': copyConstrained, other };
}

/** Tokens per step prompt lookup would give on this output (drafts of up to 8, greedy acceptance). */
function predictability(prompt: number[], output: number[]): number {
  const all = [...prompt, ...output];
  let pos = prompt.length + 1;
  let steps = 0;
  while (pos < all.length) {
    const d = proposeNgram(all.slice(0, pos), 8, 2, 4);
    let a = 0;
    while (a < d.length && pos + a < all.length && d[a] === all[pos + a]) a++;
    pos += a + 1;
    steps++;
  }
  return (output.length - 1) / Math.max(1, steps);
}

async function randomSets(model: LoadedModel, n: number): Promise<Record<string, Req[]>> {
  const rnd = mulberry32(20261130);
  const V = model.config.vocabSize;
  const tok = () => 10 + Math.floor(rnd() * (V - 10));
  const candidates: Req[] = [];
  for (let i = 0; candidates.length < 4 * n; i++) {
    const seg = Array.from({ length: 2 + (i % 3) }, tok);
    candidates.push({ kind: 'repeated segment', prompt: Array.from({ length: 6 + (i % 5) }, () => seg).flat(), maxTokens: 96 });
  }
  const runner = await Runner.create(model, { threads: THREADS });
  const scored: [number, Req][] = [];
  for (const c of candidates) scored.push([predictability(c.prompt, (await runner.complete(c.prompt, { temperature: 0, maxTokens: c.maxTokens })).ids), c]);
  await runner.session.release();
  scored.sort((a, b) => b[0] - a[0]);
  const copy = scored.slice(0, n).map(([, r]) => r);
  console.log(`[spec] test-random copy-heavy: kept ${n} of ${candidates.length} candidates, predicted tokens per step ${scored[n - 1][0].toFixed(2)}–${scored[0][0].toFixed(2)} (median of all ${scored[scored.length >> 1][0].toFixed(2)})`);
  const other: Req[] = [];
  const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
  for (let i = 0; other.length < n; i++) {
    const prompt = i % 2 === 0
      ? Array.from({ length: 8 + Math.floor(rnd() * 56) }, tok)
      : chat(model, [{ role: 'user', content: Array.from({ length: 2 + Math.floor(rnd() * 20) }, () => words[Math.floor(rnd() * words.length)]).join(' ') }]);
    other.push({ kind: i % 2 === 0 ? 'random tokens' : 'chat', prompt, maxTokens: 96 });
  }
  return { 'copy-heavy': copy, other };
}

// ---- runs -----------------------------------------------------------------------------------------

async function measure(modelDir: string, reqs: Req[], concurrency: number, speculative: EngineOptions['speculative']): Promise<Measure> {
  const engine = await createEngine({ modelDir, threads: THREADS, maxSeqs: 64, speculative });
  // warm-up (session, allocator): not measured
  for await (const _ of engine.submit({ requestId: 'warm', promptIds: reqs[0].prompt, params: { temperature: 0, maxTokens: 4 } }));
  const m0 = engine.metrics();
  const outputs: number[][] = [];
  let decodeTokens = 0;
  let decodeSeconds = 0;
  let tokens = 0;
  const one = async (k: number) => {
    const ids: number[] = [];
    let first = -1;
    let last = -1;
    const params = { temperature: 0, maxTokens: reqs[k].maxTokens, ...(reqs[k].constraint ? { constraint: reqs[k].constraint } : {}) };
    for await (const t of engine.submit({ requestId: `spec-${k}`, promptIds: reqs[k].prompt, params })) {
      if (t.index !== ids.length) continue;
      last = performance.now();
      if (first < 0) first = last;
      ids.push(t.id);
    }
    outputs[k] = ids;
    tokens += ids.length;
    if (ids.length > 1) {
      decodeTokens += ids.length - 1;
      decodeSeconds += (last - first) / 1000;
    }
  };
  const c0 = cpu();
  const w0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < reqs.length) await one(next++);
  }));
  const wall = (performance.now() - w0) / 1000;
  const cpuS = cpu() - c0;
  const m = engine.metrics();
  await engine.close();
  const d = (k: string) => (m[k] as number) - (m0[k] as number);
  return {
    decodeTokens, decodeSeconds, tokens, cpuSeconds: cpuS, wallSeconds: wall, outputs,
    drafted: d('vllm:spec_decode_num_draft_tokens_total'), accepted: d('vllm:spec_decode_num_accepted_tokens_total'), drafts: d('vllm:spec_decode_num_drafts_total'),
    steps: d('parley:engine_steps_total'),
  };
}

async function row(modelName: string, modelDir: string, set: string, reqs: Req[], concurrency: number): Promise<SpecRow> {
  const offs: Measure[] = [];
  const ons: Measure[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const off = await measure(modelDir, reqs, concurrency, false);
    const on = await measure(modelDir, reqs, concurrency, undefined);
    offs.push(off);
    ons.push(on);
    ratios.push(on.decodeTokens / on.decodeSeconds / (off.decodeTokens / off.decodeSeconds));
    cpuRatios.push(on.tokens / on.cpuSeconds / (off.tokens / off.cpuSeconds));
  }
  const sum = (ms: Measure[], f: (m: Measure) => number) => ms.reduce((a, m) => a + f(m), 0);
  const identical = reqs.filter((_, k) => ons.every((on, r) => on.outputs[k].join() === offs[r].outputs[k].join())).length;
  const drafted = sum(ons, (m) => m.drafted);
  const accepted = sum(ons, (m) => m.accepted);
  const perKind: SpecRow['perKind'] = {};
  for (const kind of new Set(reqs.map((q) => q.kind))) {
    // acceptance per kind needs a run of that kind alone; report its output size only
    perKind[kind] = { acceptanceRate: NaN, outputTokens: reqs.reduce((a, q, k) => a + (q.kind === kind ? ons[0].outputs[k].length : 0), 0) };
  }
  const out: SpecRow = {
    model: modelName,
    set,
    kinds: [...new Set(reqs.map((q) => q.kind))].join(', '),
    concurrency,
    requests: reqs.length,
    outputTokens: ons[0].tokens,
    offDecodeTps: round(sum(offs, (m) => m.decodeTokens) / sum(offs, (m) => m.decodeSeconds), 1),
    onDecodeTps: round(sum(ons, (m) => m.decodeTokens) / sum(ons, (m) => m.decodeSeconds), 1),
    decodeRatio: round(median(ratios), 3),
    offTokPerCpuS: round(sum(offs, (m) => m.tokens) / sum(offs, (m) => m.cpuSeconds), 1),
    onTokPerCpuS: round(sum(ons, (m) => m.tokens) / sum(ons, (m) => m.cpuSeconds), 1),
    cpuRatio: round(median(cpuRatios), 3),
    draftTokens: drafted,
    acceptedTokens: accepted,
    acceptanceRate: round(accepted / Math.max(1, drafted), 3),
    acceptedPerDraft: round(accepted / Math.max(1, sum(ons, (m) => m.drafts)), 2),
    identical: `${identical}/${reqs.length}`,
    offStepsPerToken: round(sum(offs, (m) => m.steps) / sum(offs, (m) => m.tokens), 3),
    onStepsPerToken: round(sum(ons, (m) => m.steps) / sum(ons, (m) => m.tokens), 3),
    perKind,
  };
  console.log(
    `[spec] ${modelName.padEnd(12)} ${set.padEnd(10)} c=${concurrency} decode tok/s off ${out.offDecodeTps} on ${out.onDecodeTps} → ×${out.decodeRatio} (tok/CPU-s ×${out.cpuRatio})  acceptance ${out.acceptanceRate} (${accepted}/${drafted})  steps/token ${out.offStepsPerToken} → ${out.onStepsPerToken}  identical ${out.identical}`,
  );
  return out;
}

/** Acceptance per kind of copy-heavy request (one request of each kind at a time, speculation on). */
async function acceptanceByKind(modelDir: string, reqs: Req[]): Promise<Record<string, { acceptanceRate: number; draftTokens: number; outputTokens: number }>> {
  const out: Record<string, { acceptanceRate: number; draftTokens: number; outputTokens: number }> = {};
  for (const kind of new Set(reqs.map((q) => q.kind))) {
    const m = await measure(modelDir, reqs.filter((q) => q.kind === kind), 1, undefined);
    out[kind] = { acceptanceRate: round(m.accepted / Math.max(1, m.drafted), 3), draftTokens: m.drafted, outputTokens: m.tokens };
  }
  return out;
}

// ---- report ---------------------------------------------------------------------------------------

function markdown(rows: SpecRow[], kinds: Record<string, Record<string, { acceptanceRate: number; draftTokens: number; outputTokens: number }>>, meta: Record<string, unknown>): string {
  const out = [
    '# Speculative decoding (prompt lookup)', '',
    `Generated by \`npm run bench:engine\` (bench/engine-speculative.bench.ts) on ${meta.date}; ${meta.cores} cores shared with other work (load ${meta.loadavg}); onnxruntime threads ${THREADS}; ${REPEATS} repeats, off and on interleaved; ${meta.seconds} s.`, '',
    'Decode tokens/s: tokens after the first ÷ time from first to last token, over all requests of the run (client-side, streaming speed once an answer has started). Ratio = median over repeats of on ÷ off. tokens/CPU-s: all generated tokens ÷ process CPU time. Acceptance rate = `vllm:spec_decode_num_accepted_tokens_total` ÷ `vllm:spec_decode_num_draft_tokens_total`; accepted per draft = accepted tokens ÷ `vllm:spec_decode_num_drafts_total` (each verification also emits one token of its own). Steps / token: engine steps (one batched model call each, prefill included) per output token — what speculation saves, independent of the machine’s load. Identical: greedy outputs with speculation equal to those without, in every repeat.', '',
    '| model | set | c | requests | output tokens | decode tok/s off | decode tok/s on | on ÷ off | tok/CPU-s off | tok/CPU-s on | on ÷ off (CPU) | draft tokens | accepted | acceptance rate | accepted per draft | steps / token off | steps / token on | identical | target | met |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const copyHeavy = r.set.startsWith('copy-heavy');
    const target = copyHeavy ? '≥ 1.5' : '≥ 0.95';
    const met = copyHeavy ? r.decodeRatio >= 1.5 : r.decodeRatio >= 0.95;
    out.push(`| ${r.model} | ${r.set} (${r.kinds}) | ${r.concurrency} | ${r.requests} | ${r.outputTokens} | ${r.offDecodeTps} | ${r.onDecodeTps} | **${r.decodeRatio}** | ${r.offTokPerCpuS} | ${r.onTokPerCpuS} | ${r.cpuRatio} | ${r.draftTokens} | ${r.acceptedTokens} | ${r.acceptanceRate} | ${r.acceptedPerDraft} | ${r.offStepsPerToken} | ${r.onStepsPerToken} | ${r.identical} | ${target} | ${met ? 'yes' : '**no**'} |`);
  }
  out.push('', 'Acceptance per kind of copy-heavy request (each kind alone, c = 1, speculation on):', '', '| model | kind | output tokens | draft tokens | acceptance rate |', '|---|---|---|---|---|');
  for (const [model, ks] of Object.entries(kinds)) for (const [k, v] of Object.entries(ks)) out.push(`| ${model} | ${k} | ${v.outputTokens} | ${v.draftTokens} | ${v.acceptanceRate} |`);
  out.push('', '![decode tokens/s with and without speculation](engine-speculative.svg)', '');
  return out.join('\n');
}

function svg(rows: SpecRow[]): string {
  const barW = 22;
  const gap = 26;
  const pad = { l: 60, t: 34, b: 92 };
  const H = 300;
  const groupW = 2 * barW + gap;
  const W = pad.l + rows.length * groupW + 20;
  const ymax = Math.max(...rows.flatMap((r) => [r.offDecodeTps, r.onDecodeTps])) * 1.15 || 1;
  const ys = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / ymax);
  const g: string[] = [`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">decode tokens/s without (grey) and with (blue) prompt-lookup speculation</text>`];
  g.push(`<line x1="${pad.l}" y1="${ys(0)}" x2="${W - 10}" y2="${ys(0)}" stroke="#333"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = (ymax / 4) * k;
    g.push(`<text x="${pad.l - 6}" y="${ys(v) + 4}" text-anchor="end" font-size="10">${Math.round(v)}</text><line x1="${pad.l}" y1="${ys(v)}" x2="${W - 10}" y2="${ys(v)}" stroke="#eee"/>`);
  }
  rows.forEach((r, i) => {
    const x = pad.l + 10 + i * groupW;
    g.push(`<rect x="${x}" y="${ys(r.offDecodeTps)}" width="${barW}" height="${ys(0) - ys(r.offDecodeTps)}" fill="#999"/>`);
    g.push(`<rect x="${x + barW}" y="${ys(r.onDecodeTps)}" width="${barW}" height="${ys(0) - ys(r.onDecodeTps)}" fill="#1f77b4"/>`);
    g.push(`<text x="${x + barW}" y="${ys(Math.max(r.onDecodeTps, r.offDecodeTps)) - 4}" text-anchor="middle" font-size="10">×${r.decodeRatio}</text>`);
    const label = `${r.model} ${r.set} c=${r.concurrency}`;
    g.push(`<text transform="translate(${x + barW},${ys(0) + 10}) rotate(35)" font-size="10">${label}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${g.join('\n')}\n</svg>\n`;
}

export async function run(): Promise<void> {
  const os = await import('node:os');
  const t0 = performance.now();
  const n = Math.max(4, Math.round(16 * SCALE));
  const models: [string, string, (m: LoadedModel, n: number) => Promise<Record<string, Req[]>>][] = [];
  if (existsSync(path.join(SHIPPED_MODEL_DIR, 'config.json'))) models.push(['parley-tiny', SHIPPED_MODEL_DIR, shippedSets]);
  models.push(['test-random', path.join(root, 'inference/model/test-random'), randomSets]);
  const rows: SpecRow[] = [];
  const kinds: Record<string, Record<string, { acceptanceRate: number; draftTokens: number; outputTokens: number }>> = {};
  for (const [name, dir, sets] of models) {
    const model = loadModel(dir);
    const s = await sets(model, n);
    for (const [set, reqs] of Object.entries(s)) for (const c of [1, 8]) rows.push(await row(name, dir, set, reqs, c));
    kinds[name] = await acceptanceByKind(dir, s['copy-heavy']);
  }
  for (const r of rows) delete r.perKind;
  const meta = {
    date: new Date().toISOString(),
    cores: os.availableParallelism(),
    loadavg: os.loadavg().map((x) => x.toFixed(1)).join(' / '),
    threads: THREADS,
    repeats: REPEATS,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'engine-speculative.json'), JSON.stringify({ meta, rows, acceptanceByKind: kinds }, null, 2) + '\n');
  writeFileSync(path.join(resultsDir, 'engine-speculative.md'), markdown(rows, kinds, meta));
  writeFileSync(path.join(resultsDir, 'engine-speculative.svg'), svg(rows));
  console.log(`[bench] wrote bench/results/engine-speculative.{json,md,svg} in ${meta.seconds} s`);
}
