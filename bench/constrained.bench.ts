// `npm run bench:constrained`: what constrained decoding costs the engine.
//
// 1. Throughput: 16 clients in a closed loop (each sends its next request when the previous ends,
//    so the batch stays 16 rows) on the random-weight model (it never stops by itself), for a
//    fixed number of tokens; tokens/s with half the rows constrained to a nested JSON Schema vs
//    none. A constrained request ends when its JSON is complete (then its client sends the next
//    one), so the unconstrained round replays the same workload: the same clients send requests
//    of the lengths the constrained ones had (same request count, same prefills, same tokens) —
//    only the masking differs. Rounds alternate half / none so a noisy shared machine hits both
//    alike; the median round is reported. Target: ≤ 10% loss.
// 2. Masks: the time to compute one mask on a cache miss (the trie walk) and to apply a cached one
//    to a logit row, on the model's vocabulary and on a synthetic 50 000-token vocabulary (the
//    model's token texts plus pairs of them), over the states of a sample JSON text.
// Writes bench/results/constrained.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, type InferenceEngine } from '../inference/engine/engine.ts';
import { loadModel } from '../inference/engine/model.ts';
import { CompiledConstraint, ConstraintCursor, Vocabulary } from '../inference/engine/token-mask.ts';
import { walk, type State } from '../inference/engine/json-grammar.ts';
import type { ParleyTokenizer } from '../inference/engine/tokenizer.ts';
import type { Constraint } from '../schemas/constraint.ts';
import { RANDOM_MODEL_DIR } from '../tests/support/models.ts';
import { prng } from './prng.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
const CLIENTS = 16;
const TOKENS_PER_ROUND = Number(process.env.BENCH_CONSTRAINED_TOKENS ?? 6000);
const ROUNDS = Number(process.env.BENCH_CONSTRAINED_ROUNDS ?? 5);
const THREADS = Number(process.env.PARLEY_INTRA_OP_THREADS ?? 2);

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    roles: { type: 'array', items: { type: 'string', enum: ['admin', 'user', 'guest'] } },
    address: { anyOf: [{ type: 'null' }, { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'number' } }, required: ['city', 'zip'], additionalProperties: false }] },
    active: { type: 'boolean' },
  },
  required: ['name', 'age', 'roles', 'address', 'active'],
  additionalProperties: false,
};
const constraint: Constraint = { type: 'json_schema', schema, strict: true };
const SAMPLE = '{"name": "Ann Lee", "age": 42, "roles": ["admin", "guest"], "address": {"city": "Paris", "zip": 75001.5}, "active": true}';

type Round = { mode: 'none' | 'half'; tokens: number; seconds: number; tokensPerSecond: number; requests: number; constrainedRequests: number };

/** lengths[c]: the completion lengths of client c's requests in the last 'half' round */
async function round(engine: InferenceEngine, prompt: number[], mode: Round['mode'], seed0: number, lengths: number[][]): Promise<Round> {
  let tokens = 0;
  let requests = 0;
  let constrainedRequests = 0;
  const t0 = performance.now();
  const client = async (c: number) => {
    const replay = mode === 'none' ? lengths[c] ?? [] : [];
    if (mode === 'half') lengths[c] = [];
    for (let k = 0; mode === 'half' ? tokens < TOKENS_PER_ROUND : k < replay.length; k++) {
      const constrained = mode === 'half' && c % 2 === 0;
      const maxTokens = mode === 'none' ? Math.max(1, replay[k]!) : 96;
      const h = engine.submit({ requestId: `b${c}`, promptIds: prompt, params: { temperature: 1, seed: seed0 + c * 1000 + k, maxTokens, ...(constrained ? { constraint } : {}) } });
      let n = 0;
      for await (const _ of h) n++;
      tokens += n;
      if (mode === 'half') lengths[c]!.push(n);
      requests++;
      if (constrained) constrainedRequests++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const seconds = (performance.now() - t0) / 1000;
  return { mode, tokens, seconds, tokensPerSecond: tokens / seconds, requests, constrainedRequests };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** half ÷ none of each round (the two runs of a round are back to back: the fairest pair) */
const pairRatios = (rounds: Round[]) => rounds.filter((x) => x.mode === 'half').map((h, i) => h.tokensPerSecond / rounds.filter((x) => x.mode === 'none')[i]!.tokensPerSecond);

/** a tokenizer over given texts (for the synthetic vocabulary) */
function textTokenizer(texts: string[]): ParleyTokenizer {
  return {
    encode: () => [], decode: (ids) => ids.map((i) => texts[i]).join(''), tokenToId: () => undefined,
    idToToken: (id) => texts[id], specialIds: new Set(), config: {}, specialToken: () => null,
  };
}

function maskTimes(vocab: Vocabulary) {
  // cache misses: a fresh compiled constraint, the states after each prefix of the sample
  const compiled = new CompiledConstraint(constraint, vocab);
  const grammarStates: State[][] = [[compiled.grammar.start()]];
  for (let i = 0; i < SAMPLE.length - 1; i++) grammarStates.push(walk(grammarStates[i]!, SAMPLE[i]!));
  const t0 = performance.now();
  for (const s of grammarStates) compiled.mask(s);
  const missMs = (performance.now() - t0) / grammarStates.length;
  const distinct = compiled.masksComputed;
  // cached masks applied to a logit row at every state of the sample (what a constrained row costs
  // per step, budget not binding)
  const cursors = grammarStates.map((s) => new ConstraintCursor(compiled, s));
  const row = new Float32Array(vocab.size);
  const passes = Math.max(1, Math.round(200_000 / vocab.size));
  let t = 0;
  for (let p = 0; p < passes; p++) {
    for (const c of cursors) {
      row.fill(0);
      const t1 = performance.now();
      c.apply(row, 10_000);
      t += performance.now() - t1;
    }
  }
  const applyUs = (t / (passes * cursors.length)) * 1000;
  return { vocabulary: vocab.size, states: grammarStates.length, distinctStates: distinct, missMsPerMask: missMs, applyUsPerRow: applyUs };
}

export async function run(): Promise<void> {
  const engine = await createEngine({ modelDir: RANDOM_MODEL_DIR, maxSeqs: CLIENTS, kvCacheTokens: 16384, threads: THREADS });
  const prompt = engine.model.applyChatTemplate([{ role: 'user', content: 'Describe a person as JSON, please.' }]);
  // warm-up: compiles the constraint and fills the mask cache as a long-running worker would have
  await round(engine, prompt, 'half', 999_000, []);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const lengths: number[][] = [];
    for (const mode of ['half', 'none'] as const) {
      const x = await round(engine, prompt, mode, r * 100_000, lengths);
      rounds.push(x);
      console.log(`[constrained] round ${r} ${mode}: ${x.tokens} tokens in ${x.seconds.toFixed(2)} s = ${x.tokensPerSecond.toFixed(1)} tok/s (${x.requests} requests, ${x.constrainedRequests} constrained)`);
    }
  }
  const counters = engine.metrics();
  const constraintSeconds = Number(counters['parley:engine_constraint_seconds_total'] ?? 0);
  const modelSeconds = Number(counters['parley:engine_model_seconds_total'] ?? 0);
  await engine.close();
  const none = median(rounds.filter((x) => x.mode === 'none').map((x) => x.tokensPerSecond));
  const half = median(rounds.filter((x) => x.mode === 'half').map((x) => x.tokensPerSecond));
  const lossPct = (1 - half / none) * 100;
  const pairedLossPct = (1 - median(pairRatios(rounds))) * 100;

  const model = loadModel(RANDOM_MODEL_DIR);
  const real = new Vocabulary(model.tokenizer, model.config.vocabSize, model.config.eosTokenIds);
  const texts = real.texts.filter((t): t is string => t !== null);
  const rand = prng(7);
  // the model's tokens (single characters among them, as in any byte-level vocabulary) plus pairs
  const synthetic = [...texts, ...Array.from({ length: 50_000 - texts.length }, () => texts[Math.floor(rand() * texts.length)]! + texts[Math.floor(rand() * texts.length)]!)];
  const masks = [maskTimes(real), maskTimes(new Vocabulary(textTokenizer(synthetic), synthetic.length, []))];

  const result = { clients: CLIENTS, tokensPerRound: TOKENS_PER_ROUND, rounds, medianTokensPerSecond: { none, half }, lossPct, pairedLossPct, constraintSeconds, modelSeconds, constraintShareOfStepPct: (constraintSeconds / modelSeconds) * 100, masks, threads: THREADS };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'constrained.json'), `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    '# Constrained decoding (npm run bench:constrained)',
    '',
    `Random-weight model, ${CLIENTS} clients in a closed loop, about ${TOKENS_PER_ROUND} tokens per round, temperature 1, ${THREADS} onnxruntime threads. Each round runs half the rows constrained, then replays the same requests (same lengths) unconstrained; median of ${ROUNDS} rounds.`,
    '',
    '| rows constrained | tokens/s (median) |',
    '|---|---|',
    `| none | ${none.toFixed(1)} |`,
    `| half (nested JSON Schema) | ${half.toFixed(1)} |`,
    '',
    `Loss: **${lossPct.toFixed(1)}%** of the medians; **${pairedLossPct.toFixed(1)}%** as the median of each round's half ÷ none (target ≤ 10%). The machine is shared: compare rounds, not runs.`,
    '',
    `Engine time masking and advancing constrained rows (\`parley:engine_constraint_seconds_total\`, all rounds and the warm-up): ${constraintSeconds.toFixed(3)} s, ${((constraintSeconds / modelSeconds) * 100).toFixed(2)}% of the engine's model time (\`parley:engine_model_seconds_total\`, ${modelSeconds.toFixed(1)} s) — the direct measure of what constraints cost, insensitive to the machine's noise.`,
    '',
    '| round | mode | tokens | s | tokens/s | requests | constrained |',
    '|---|---|---|---|---|---|---|',
    ...rounds.map((x, i) => `| ${Math.floor(i / 2)} | ${x.mode} | ${x.tokens} | ${x.seconds.toFixed(2)} | ${x.tokensPerSecond.toFixed(1)} | ${x.requests} | ${x.constrainedRequests} |`),
    '',
    '## Masks',
    '',
    `Over the ${SAMPLE.length} states of a sample JSON text: a mask computed on a cache miss (trie walk), and a cached mask applied to one logit row.`,
    '',
    '| vocabulary | distinct states | ms per mask (miss) | µs per row (apply) |',
    '|---|---|---|---|',
    ...masks.map((m) => `| ${m.vocabulary} | ${m.distinctStates} | ${m.missMsPerMask.toFixed(3)} | ${m.applyUsPerRow.toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(path.join(resultsDir, 'constrained.md'), md);
  console.log(md);
}
