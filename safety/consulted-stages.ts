// The asynchronous stages of the input cascade, each a call to something slower than a rule and
// run under a time limit: the moderation model (the main stage), the old classifier (uncertain
// band only) and the optional LLM judge. A failure or timeout in any of them is recorded in the
// tally (degraded) and never throws out of the cascade; the cheap stages are in cheap-stages.ts.
import type { SafetyCategory, SafetyStage } from '../schemas/safety.ts';
import { addEvidence, fail, raise, type Accumulator } from './cascade-scores.ts';
import type { ClassifierScores, SafetyClassifier } from './classifier.ts';
import { decodings } from './decode.ts';
import type { GuardJudge, GuardVerdict } from './guard.ts';
import { SEVERITY_FLOOR, clamp01 } from './scoring.ts';

/**
 * The model judges inputs of at least this many words. Below that a bag of n-grams has too little
 * context: measured, it read single words ("secret", "talk") as requests, so short inputs are the
 * rules' alone (they hold the short harmful phrases: "kill yourself", "pipe bomb").
 */
export const MIN_MODEL_WORDS = 5;

/**
 * Below this many words the model alone blocks only at HIGH confidence; a MEDIUM score of its own is
 * kept just under MEDIUM, in the uncertain band (the LLM judge's, when one is configured), so a short
 * input needs a second signal — a rule, or the judge — to be blocked. Why: short conversational turns
 * are where the model's false positives were ("Could you say that again?", "What did you just say?"
 * as harassment, "Can you elaborate on the second point?" as dangerous). Measured on round 7's seed-17
 * sibling (held-out split, safety/README.md): held-out public requests blocked 44.2% → 42.9%,
 * everyday prompts (set 1) 9 → 6 of 285, look-alikes 2.4% → 2.3%.
 */
export const SHORT_INPUT_WORDS = 8;
const UNCERTAIN_TOP = SEVERITY_FLOOR.MEDIUM - 0.01;

function wordCount(text: string): number {
  const m = text.match(/[\p{L}\p{N}]+/gu);
  return m ? m.length : 0;
}

/** Runs `f`, aborting its signal and rejecting (an error flagged `timeout`) after `timeoutMs`. */
async function withTimeout<T>(id: string, f: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(Object.assign(new Error(`${id} timed out after ${timeoutMs} ms`), { timeout: true }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([f(ctl.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function consult(classifier: SafetyClassifier, text: string, timeoutMs: number): Promise<ClassifierScores> {
  return withTimeout(classifier.id, (signal) => classifier.classify(text, signal), timeoutMs);
}

/** The model stage's type: a classifier that may load lazily (`warm`). */
export type CascadeModel = SafetyClassifier & { warm?(): Promise<void> };

/**
 * The main stage: the model scores the text and each ROT13/reversed reading of it; the highest
 * probability per category raises that category's score. A model failure or timeout marks the
 * result degraded but fails nothing closed: the rules, which ran, still cover every category.
 */
export async function runModel(model: CascadeModel, text: string, acc: Accumulator, stage: SafetyStage, timeoutMs: number): Promise<void> {
  const readings = [text, ...decodings(text).map((d) => d.text)].filter((t) => wordCount(t) >= MIN_MODEL_WORDS);
  if (readings.length === 0) return;
  try {
    await model.warm?.();
    const all = await Promise.all(readings.map((t) => consult(model, t, timeoutMs)));
    const short = wordCount(text) < SHORT_INPUT_WORDS;
    for (const c of model.categories) {
      if (stage === 'output' && c === 'prompt_injection') continue;
      let p = Math.max(...all.map((s) => s[c] ?? 0).filter(Number.isFinite));
      if (short && p < SEVERITY_FLOOR.HIGH) p = Math.min(p, UNCERTAIN_TOP);
      if (p < SEVERITY_FLOOR.LOW) continue;
      raise(acc, c, p);
      addEvidence(acc, c, `model/${model.id}`);
    }
  } catch (e) {
    fail(acc, 'model', e, []);
  }
}

/**
 * The old classifier, for the categories whose score is in [low, high): it referees, averaging its
 * probability with the score so far. Returns whether it was consulted at all.
 */
export async function runClassifier(
  classifier: SafetyClassifier,
  text: string,
  acc: Accumulator,
  stage: SafetyStage,
  band: readonly [number, number],
  timeoutMs: number,
): Promise<boolean> {
  const [uncertainLow, uncertainHigh] = band;
  const uncertain = classifier.categories.filter((c) => {
    const s = acc.scores.get(c) ?? 0;
    return s >= uncertainLow && s < uncertainHigh && !(stage === 'output' && c === 'prompt_injection');
  });
  if (!uncertain.length) return false;
  try {
    const scores = await consult(classifier, text, timeoutMs);
    for (const c of uncertain) {
      const p = scores[c];
      if (p === undefined || !Number.isFinite(p)) continue;
      // Referee, not override: the rule score and the model's probability are averaged.
      acc.scores.set(c, ((acc.scores.get(c) ?? 0) + clamp01(p)) / 2);
      addEvidence(acc, c, `classifier/${classifier.id}`);
    }
  } catch (e) {
    fail(acc, 'classifier', e, uncertain);
  }
  return true;
}

/** The LLM judge, for inputs the other stages left uncertain (none at MEDIUM, some at LOW). */
export async function runJudge(judge: GuardJudge, text: string, acc: Accumulator, timeoutMs: number): Promise<void> {
  const scores = [...acc.scores].filter(([c]) => c !== 'pii');
  const uncertain = scores.filter(([, s]) => s >= SEVERITY_FLOOR.LOW && s < SEVERITY_FLOOR.MEDIUM).map(([c]) => c);
  if (uncertain.length === 0 || scores.some(([, s]) => s >= SEVERITY_FLOOR.MEDIUM)) return;
  try {
    const verdict: GuardVerdict = await withTimeout(judge.id, (signal) => judge.judge(text, signal), timeoutMs);
    if (verdict.safe) return;
    // An unsafe verdict naming no category Parley has raises the uncertain ones.
    const named: readonly SafetyCategory[] = verdict.categories.length ? verdict.categories : uncertain;
    for (const c of named) {
      raise(acc, c, SEVERITY_FLOOR.MEDIUM);
      addEvidence(acc, c, `judge/${judge.id}`);
    }
  } catch (e) {
    fail(acc, 'judge', e, []);
  }
}
