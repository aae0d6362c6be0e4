// Next-token choice from a row of logits: greedy, or temperature → top-k → top-p → seeded draw
// (the order of Hugging Face's logits warpers). The same seed and logits give the same tokens.
import type { Constraint } from '../../schemas/constraint.ts';
import { createRng, randomSeed, type Rng } from './rng.ts';

export interface SamplingParams {
  /** 0 (or greedy: true) picks the most likely token; default: see resolveSamplingParams */
  temperature?: number;
  /** keep the k most likely tokens (0 = off) */
  topK?: number;
  /** keep the smallest set of most likely tokens whose probability reaches p (1 = off) */
  topP?: number;
  /** seed of the sampling PRNG; same seed → same text. Random if absent. */
  seed?: number;
  /** maximum number of generated tokens */
  maxTokens?: number;
  /** stop when the generated text contains one of these (the stop string is not emitted) */
  stop?: string[];
  /** look for the stop strings only outside `<tool_call>` blocks (stop-strings.ts): the calls are
   *  server-side, and a client's stop applies to the text it is shown */
  stopOutsideToolCalls?: boolean;
  /** force greedy decoding whatever the temperature */
  greedy?: boolean;
  /** only tokens that keep the output valid for this constraint (JSON Schema, JSON object, tool
   *  calls) may be sampled; the generation ends when the JSON is complete (token-mask.ts) */
  constraint?: Constraint;
  /** prompt-lookup speculative decoding for this request (default true when the engine has it on;
   *  the output is the same either way: inference/engine/speculative.ts) */
  speculative?: boolean;
}

export interface ResolvedSamplingParams {
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  maxTokens: number;
  stop: string[];
  stopOutsideToolCalls: boolean;
}

export class SamplingParamsError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'SamplingParamsError';
  }
}

/**
 * Fills the defaults and validates. Defaults come from generation_config.json when given
 * (do_sample false → greedy; temperature, top_k, top_p, max_new_tokens), else temperature 1,
 * top-k off, top-p off, 256 tokens.
 */
export function resolveSamplingParams(
  p: SamplingParams = {},
  generationConfig: Record<string, unknown> = {},
): ResolvedSamplingParams {
  const d = modelSamplingDefaults(generationConfig);
  const temperature = p.temperature ?? d.temperature;
  const topK = p.topK ?? d.topK;
  const topP = p.topP ?? d.topP;
  const maxTokens = p.maxTokens ?? num(generationConfig.max_new_tokens) ?? 256;
  const stop = p.stop ?? [];
  if (!Number.isFinite(temperature) || temperature < 0) throw new SamplingParamsError(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new SamplingParamsError(`topK must be an integer ≥ 0, got ${topK}`);
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new SamplingParamsError(`topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new SamplingParamsError(`maxTokens must be an integer ≥ 1, got ${maxTokens}`);
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new SamplingParamsError('stop must be a list of non-empty strings');
  }
  const seed = p.seed ?? randomSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) throw new SamplingParamsError(`seed must be a non-negative integer, got ${seed}`);
  return { greedy: p.greedy === true || temperature === 0, temperature, topK, topP, seed, maxTokens, stop: [...stop], stopOutsideToolCalls: p.stopOutsideToolCalls === true };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A model's own sampling defaults, from its generation_config.json (as transformers reads it:
 *  do_sample false → greedy, i.e. temperature 0). The APIs fill a request's missing temperature,
 *  top_p and top_k with these (vLLM's default too), so a client that sends none gets what the
 *  model's authors chose rather than the API's generic default. */
export function modelSamplingDefaults(g: Record<string, unknown>): { temperature: number; topP: number; topK: number } {
  if (g.do_sample === false) return { temperature: 0, topP: 1, topK: 0 };
  return { temperature: num(g.temperature) ?? 1, topP: num(g.top_p) ?? 1, topK: num(g.top_k) ?? 0 };
}

/** Index of the largest value; the first one on ties (as transformers.js and PyTorch argmax). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

/** k-th largest value of xs (1-based k), by quickselect on a copy. */
function kthLargest(xs: ArrayLike<number>, k: number): number {
  const a = Float64Array.from(xs);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

export class Sampler {
  readonly params: ResolvedSamplingParams;
  private readonly rng: Rng;

  constructor(params: ResolvedSamplingParams) {
    this.params = params;
    this.rng = createRng(params.seed);
  }

  /** Picks the next token from one row of logits (length = vocabulary size). */
  sample(logits: ArrayLike<number>): number {
    const { greedy, temperature, topK, topP } = this.params;
    if (greedy) return argmax(logits);
    const n = logits.length;
    // candidates after top-k (ties at the k-th value are kept, as in HF's TopKLogitsWarper)
    let cutoff = -Infinity;
    if (topK > 0 && topK < n) cutoff = kthLargest(logits, topK);
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (logits[i] >= cutoff && logits[i] > max) max = logits[i];
    if (max === -Infinity || Number.isNaN(max)) return argmax(logits);
    const cand: number[] = [];
    const probs: number[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = logits[i];
      if (v >= cutoff && v > -Infinity) {
        const e = Math.exp((v - max) / temperature);
        if (e > 0) {
          cand.push(i);
          probs.push(e);
          total += e;
        }
      }
    }
    for (let j = 0; j < probs.length; j++) probs[j] /= total;

    let keptIdx = cand;
    let keptP = probs;
    if (topP < 1) [keptIdx, keptP] = nucleus(cand, probs, topP);

    let mass = 0;
    for (const q of keptP) mass += q;
    let u = this.rng.next() * mass;
    for (let j = 0; j < keptIdx.length; j++) {
      u -= keptP[j];
      if (u < 0) return keptIdx[j];
    }
    return keptIdx[keptIdx.length - 1];
  }
}

/**
 * The smallest set of most likely tokens whose mass reaches p: a token is kept when the mass of the
 * tokens ranked above it is < p (HF's TopPLogitsWarper, min_tokens_to_keep = 1). Only the tokens
 * above a probability threshold are sorted; the threshold is lowered until they cover p.
 */
function nucleus(idx: number[], probs: number[], p: number): [number[], number[]] {
  let pmax = 0;
  for (const q of probs) if (q > pmax) pmax = q;
  for (let threshold = pmax * 1e-3; ; threshold /= 1000) {
    const sel: number[] = [];
    let mass = 0;
    for (let j = 0; j < probs.length; j++) {
      if (probs[j] >= threshold || threshold < 1e-30) {
        sel.push(j);
        mass += probs[j];
      }
    }
    if (mass >= p || threshold < 1e-30) {
      sel.sort((a, b) => probs[b] - probs[a] || idx[a] - idx[b]);
      const outI: number[] = [];
      const outP: number[] = [];
      let above = 0;
      for (const j of sel) {
        if (above >= p && outI.length > 0) break;
        outI.push(idx[j]);
        outP.push(probs[j]);
        above += probs[j];
      }
      return [outI, outP];
    }
  }
}
