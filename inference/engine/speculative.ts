// Prompt-lookup (n-gram) speculative decoding: what to propose, how long a step's drafts are, and
// how drafts are verified. Policy only: the scheduler asks for drafts (scheduler.ts `drafter`),
// the batch runner feeds them as extra query positions of the same row, the engine loop verifies
// them with verifyDrafts() and rolls the KV of rejected positions back (kv-cache-manager.ts
// `rollback`).
//
// - Proposal: the last n generated-or-prompt tokens (n from nMax down to nMin) are looked up in
//   the sequence's own tokens (prompt + answer so far), the most recent earlier occurrence first;
//   the tokens that followed it are the draft (at most k). A draft that runs into the end of the
//   sequence continues with itself (a loop of period p repeats), so a repeating output still gets
//   k drafts.
// - Verification keeps the output exactly what decoding without speculation gives: at each draft
//   position the sequence's own sampler picks the token from the target model's logits, as it
//   would have one step at a time (greedy: argmax; sampled: one draw of its seeded PRNG per emitted
//   token, in the same order); the draft is accepted while the picked token equals it, and the
//   first token that differs (or the one after the last draft: the bonus token) is emitted too.
//   For a deterministic draft this is the rejection-sampling rule itself (accept x with
//   probability p(x), else draw from p without x), so sampled requests keep their distribution —
//   and, beyond that, the same seed gives the same text with and without speculation.
// - Draft length of a step: every row of a step is padded to the longest (dense batch), so the
//   step's draft length K is chosen for the whole decode batch: the K that maximises expected
//   tokens emitted ÷ cost, with cost = overheadTokens + rows × (1 + K) (a step's fixed cost in
//   token-equivalents plus the tokens computed) and a row's expected accepted drafts
//   Σ_{i ≤ min(K, its draft)} αⁱ, α being that sequence's acceptance estimate (decayed counts).
//   K = 0 (no speculation) wins whenever drafts do not pay for their padding.
// - The prior of a sequence's estimate is the engine's recent acceptance rate (counts decayed every
//   decode step, prior ½), not a fixed ½: short answers end before their own evidence counts, so
//   with a fixed ½ every new answer paid for a few rejected drafts first (shipped model, "other"
//   requests at 8 concurrent: 3 of 36 draft tokens accepted; 0 of 18 with this prior). The per-step decay
//   pulls a low engine-wide rate back towards ½ while nothing drafts, so a workload that starts
//   copying is tried again rather than never drafted.

export interface SpecConfig {
  /** most draft tokens per step */
  k: number;
  /** shortest and longest n-gram looked up */
  nMin: number;
  nMax: number;
  /** a step's fixed cost (session call, input preparation, messages) in tokens computed; 16
   *  from timing steps of the shipped and test models on 2 cores (B = 1: a step of 9 positions
   *  costs about 2× one of 1; B = 8: the fixed part is worth ~30 tokens) */
  overheadTokens: number;
}

export const DEFAULT_SPEC: SpecConfig = { k: 8, nMin: 2, nMax: 4, overheadTokens: 16 };

export function resolveSpecConfig(opt: Partial<SpecConfig> | false | undefined): SpecConfig | null {
  if (opt === false) return null;
  const c = { ...DEFAULT_SPEC, ...(opt ?? {}) };
  const int = (v: number, min: number, name: string) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`speculative.${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(c.k, 1, 'k');
  int(c.nMin, 1, 'nMin');
  int(c.nMax, c.nMin, 'nMax');
  if (!Number.isFinite(c.overheadTokens) || c.overheadTokens < 0) throw new RangeError(`speculative.overheadTokens must be ≥ 0, got ${c.overheadTokens}`);
  return c;
}

/** An acceptance history: decayed counts of accepted draft tokens and of trials (a trial ends at
 *  an accepted token or at the first rejected one). */
export class SpecState {
  private acc = 0;
  private trials = 0;
  /** totals, for tests and logs */
  drafted = 0;
  accepted = 0;

  /** @param decay weight of the past at each record (0.8: a sequence follows the phase of the
   *  answer it is in) */
  constructor(private readonly decay = 0.8) {}

  /** estimated probability that the next draft token is accepted, `prior` counting as two trials */
  alpha(prior = 0.5): number {
    return (this.acc + 2 * prior) / (this.trials + 2);
  }

  /** After a verification: `drafted` tokens proposed, the first `accepted` of them kept. */
  record(drafted: number, accepted: number): void {
    this.age(this.decay);
    this.acc += accepted;
    this.trials += accepted + (accepted < drafted ? 1 : 0);
    this.drafted += drafted;
    this.accepted += accepted;
  }

  /** Weighs the past down without new evidence. */
  age(factor: number): void {
    this.acc *= factor;
    this.trials *= factor;
  }
}

/** Engine-wide history: every verification counts (no decay per record); aged once per decode
 *  step instead, so its memory is about the last hundred steps. */
const ENGINE_DECAY_PER_STEP = 0.99;

/** Up to `k` tokens predicted by the most recent earlier occurrence of the sequence's last n tokens. */
export function proposeNgram(tokens: readonly number[], k: number, nMin: number, nMax: number): number[] {
  const L = tokens.length;
  if (k <= 0) return [];
  for (let n = Math.min(nMax, L - 1); n >= nMin; n--) {
    // `end`: index of the last token of an earlier occurrence of tokens[L-n, L)
    for (let end = L - 2; end >= n - 1; end--) {
      let j = 0;
      while (j < n && tokens[end - j] === tokens[L - 1 - j]) j++;
      if (j < n) continue;
      const out: number[] = [];
      for (let i = 0; i < k; i++) {
        const p = end + 1 + i;
        out.push(p < L ? tokens[p] : out[p - L]);
      }
      return out;
    }
  }
  return [];
}

/** What the drafter needs of a sequence. */
export interface SpecSequence {
  readonly tokens: readonly number[];
  readonly maxTokens: number;
  readonly outputLen: number;
  /** null: this request opted out */
  readonly spec: SpecState | null;
}

/** Expected tokens emitted by a row for a step draft length K. */
function expectedTokens(alpha: number, draftLen: number, K: number): number {
  let e = 1;
  let p = 1;
  for (let i = 0; i < Math.min(K, draftLen); i++) {
    p *= alpha;
    e += p;
  }
  return e;
}

export class PromptLookupDrafter {
  /** the engine's recent acceptance: the prior of every sequence's estimate */
  readonly engine = new SpecState(1);

  constructor(readonly config: SpecConfig) {}

  /** After a row's verification (the engine loop calls the sequence's own record too). */
  record(drafted: number, accepted: number): void {
    this.engine.record(drafted, accepted);
  }

  /** The drafts of a decode step's rows (in order), all cut to the step's draft length (possibly 0:
   *  every array empty). `budget` bounds rows × (1 + K). */
  drafts(seqs: readonly SpecSequence[], budget: number): number[][] {
    const { k, nMin, nMax, overheadTokens } = this.config;
    this.engine.age(ENGINE_DECAY_PER_STEP);
    const prior = this.engine.alpha();
    const rows = seqs.length;
    const maxK = Math.min(k, Math.floor(budget / Math.max(1, rows)) - 1);
    const props = seqs.map((s) => {
      // the step emits at most K + 1 tokens: never draft past maxTokens (nor so past the context)
      const room = Math.min(maxK, s.maxTokens - s.outputLen - 1);
      return s.spec && room > 0 ? proposeNgram(s.tokens, room, nMin, nMax) : [];
    });
    const longest = Math.max(0, ...props.map((d) => d.length));
    let bestK = 0;
    let bestRate = rows / (overheadTokens + rows);
    for (let K = 1; K <= longest; K++) {
      let gain = 0;
      for (let r = 0; r < rows; r++) gain += props[r].length ? expectedTokens(seqs[r].spec!.alpha(prior), props[r].length, K) : 1;
      const rate = gain / (overheadTokens + rows * (1 + K));
      if (rate > bestRate) {
        bestRate = rate;
        bestK = K;
      }
    }
    return props.map((d) => d.slice(0, bestK));
  }
}

/**
 * Verifies one row's drafts. `pick(i)` is the sampler's token from the logits at query position i
 * (0: after the row's last real token; i: after draft i−1); `emit(id)` hands a token to the
 * sequence and returns false once the sequence has ended (EOS, stop string, maxTokens). Tokens are
 * picked and emitted in order and picking stops at the first mismatch, so the sampler sees exactly
 * the calls it would without speculation. Returns the number of drafts accepted (and emitted).
 */
export function verifyDrafts(draft: readonly number[], pick: (i: number) => number, emit: (id: number) => boolean): number {
  for (let a = 0; ; a++) {
    const id = pick(a);
    const matched = a < draft.length && id === draft[a];
    if (!emit(id) || !matched) return matched ? a + 1 : a;
  }
}
