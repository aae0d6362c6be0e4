// The cascade, cheapest stage first: normalize → rules → ROT13/reversed readings → PII → injection
// heuristics (→ a second pass over decoded payloads) → the moderation model (the main stage, when
// configured; getDefaultCascade has it) → the old classifier, only when the cheap stages are uncertain.
// A result maps field for field onto a SafetyChecked event's data (see toSafetyCheckedData).
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  SafetyCategory,
  type CategoryScore,
  type SafetySettings,
  type SafetyStage,
  type SafetyVerdict,
  type Severity,
} from '../schemas/safety.ts';
import type { SafetyClassifier, ClassifierScores } from './classifier.ts';
import { decodings } from './decode.ts';
import type { GuardJudge, GuardVerdict } from './guard.ts';
import { getDefaultModel } from './model.ts';
import { scanInjection, type InjectionScan } from './injection.ts';
import { normalize, type NormalizedText } from './normalize.ts';
import { detectPii, PII_SEVERITY, type PiiKind, type PiiMatch, type PiiOptions } from './pii.ts';
import {
  ALL_CATEGORIES,
  blocks,
  failureMode,
  policyVersionFor,
  resolveSettings,
  type TenantSafetyPolicy,
} from './policy.ts';
import { refusalFor, REFUSAL_PRIORITY, type Refusal } from './refusal.ts';
import { combineScores, getDefaultRules, type RuleResults, type RuleSet } from './rules.ts';
import { SEVERITY_FLOOR, SEVERITY_SCORE, clamp01, roundScore, severityOf } from './scoring.ts';

export type CascadeStageName = 'normalize' | 'rules' | 'pii' | 'injection' | 'model' | 'classifier' | 'judge';

/** Stage implementations; replaceable for tests (e.g. to inject a failure). */
export interface CascadeStages {
  normalize(text: string): NormalizedText;
  rules(text: NormalizedText): RuleResults;
  pii(text: string): PiiMatch[];
  injection(text: string): InjectionScan;
}

export interface StageFailure {
  readonly stage: CascadeStageName;
  readonly reason: 'error' | 'timeout';
  readonly message: string;
  readonly categories: readonly SafetyCategory[];
}

/** What was found, per category, without any of the text: rule ids, PII kinds, signal ids. */
export interface Finding {
  readonly category: SafetyCategory;
  readonly evidence: readonly string[];
}

export interface SafetyCheckResult {
  readonly stage: SafetyStage;
  readonly verdict: SafetyVerdict;
  /** One entry per category evaluated at this stage, in SafetyCategory order. */
  readonly categories: readonly CategoryScore[];
  readonly policyVersion: string;
  readonly latencyMs: number;
  /** A stage failed or timed out; fail-open categories were let through unchecked. */
  readonly degraded: boolean;
  /** sha256 (hex) of the checked text: audit can prove what was checked without keeping it. */
  readonly contentHash: string;
  /** For a blocked input: the message to show instead of an answer. */
  readonly refusal?: Refusal;
  readonly blockedCategories: readonly SafetyCategory[];
  /** Blocked only because a stage covering them failed and they fail closed. */
  readonly failClosed: readonly SafetyCategory[];
  readonly findings: readonly Finding[];
  /** PII spans in the checked text (offsets into it), for callers that scrub. */
  readonly pii: readonly PiiMatch[];
  readonly failures: readonly StageFailure[];
  readonly classifierConsulted: boolean;
}

/** Exactly the data of a SafetyChecked event. */
export interface SafetyCheckedData {
  readonly stage: SafetyStage;
  readonly verdict: SafetyVerdict;
  readonly categories: CategoryScore[];
  readonly policyVersion: string;
  readonly latencyMs: number;
  readonly degraded: boolean;
  readonly contentHash: string;
}

/** sha256 hex of a text, as recorded in SafetyChecked.contentHash. */
export function contentHashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The stage-level fields of a SafetyChecked event; the caller adds conversationId, messageId and
 * generationId.
 */
export function toSafetyCheckedData(r: SafetyCheckResult): SafetyCheckedData {
  return {
    stage: r.stage,
    verdict: r.verdict,
    categories: r.categories.map((c) => ({ ...c })),
    policyVersion: r.policyVersion,
    latencyMs: r.latencyMs,
    degraded: r.degraded,
    contentHash: r.contentHash,
  };
}

export interface CascadeOptions {
  readonly rules?: RuleSet;
  /**
   * The learned moderation model (model.ts), the main stage: consulted for every input of
   * MIN_MODEL_WORDS words or more (and its ROT13/reversed readings), its
   * calibrated probability per category raising that category's score (rules are the fast path
   * and hold the allow-lists). Absent: rules only. `getDefaultCascade` uses the shipped model.
   */
  readonly model?: SafetyClassifier & { warm?(): Promise<void> };
  /** Time limit of one model call, after the model has loaded (default 2000 ms). */
  readonly modelTimeoutMs?: number;
  /**
   * The optional LLM judge (guard.ts): a guard model consulted only when no category is blocked
   * and some category's score is in the uncertain band [LOW, MEDIUM); "unsafe" raises the
   * categories it names to MEDIUM (blocked under the default policy), "safe" changes nothing.
   * Off unless set (bin/ sets it on the default cascade when SAFETY_GUARD_MODEL_DIR is given).
   */
  readonly judge?: GuardJudge;
  /** Time limit of one judge call (default 5000 ms); over it the result is degraded, not blocked. */
  readonly judgeTimeoutMs?: number;
  /** Off (undefined) by default: see classifier.ts for its measured quality. */
  readonly classifier?: SafetyClassifier;
  readonly classifierTimeoutMs?: number;
  /** Rule scores in [low, high) count as uncertain and are referred to the classifier. */
  readonly uncertainBand?: readonly [number, number];
  /** Tenant policy applied when a call does not pass its own. */
  readonly tenant?: TenantSafetyPolicy;
  readonly piiOptions?: PiiOptions;
  /** Replace stage implementations (tests, experiments). */
  readonly stages?: Partial<CascadeStages>;
  /** How deep decoded payloads are re-scanned (default 2). */
  readonly maxDecodeDepth?: number;
}

export interface CheckOptions {
  readonly stage?: SafetyStage;
  readonly tenant?: TenantSafetyPolicy;
}

export interface SafetyCascade {
  readonly policyVersion: string;
  /** Full cascade, the classifier included when configured and the cheap stages are uncertain. */
  check(text: string, settings?: SafetySettings, options?: CheckOptions): Promise<SafetyCheckResult>;
  /** Cheap stages only (no classifier); synchronous, for the streaming output filter. */
  checkSync(text: string, settings?: SafetySettings, options?: CheckOptions): SafetyCheckResult;
}

/** Categories judged on model output: injection is about input; PII is scrubbed, not blocked. */
export const OUTPUT_CATEGORIES: readonly SafetyCategory[] = ALL_CATEGORIES.filter((c) => c !== 'prompt_injection');

interface Accumulator {
  scores: Map<SafetyCategory, number>;
  evidence: Map<SafetyCategory, Set<string>>;
  failures: StageFailure[];
  pii: PiiMatch[];
}

function addEvidence(acc: Accumulator, category: SafetyCategory, id: string): void {
  let s = acc.evidence.get(category);
  if (!s) acc.evidence.set(category, (s = new Set()));
  s.add(id);
}

function raise(acc: Accumulator, category: SafetyCategory, score: number): void {
  acc.scores.set(category, Math.max(acc.scores.get(category) ?? 0, clamp01(score)));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The model judges inputs of at least this many words. Below that a bag of n-grams has too little
 * context: measured, it read single words ("secret", "talk") as requests, so short inputs are the
 * rules' alone (they hold the short harmful phrases: "kill yourself", "pipe bomb").
 */
export const MIN_MODEL_WORDS = 5;

function wordCount(text: string): number {
  const m = text.match(/[\p{L}\p{N}]+/gu);
  return m ? m.length : 0;
}

export function createSafetyCascade(options: CascadeOptions = {}): SafetyCascade {
  const rules = options.rules ?? getDefaultRules();
  // The model is part of the policy: a retrained model is a new version in every SafetyChecked event.
  const policyVersion = policyVersionFor(rules.hash) + (options.model ? `+model.${options.model.id}` : '');
  const stages: CascadeStages = {
    normalize: options.stages?.normalize ?? normalize,
    rules: options.stages?.rules ?? ((n) => rules.match(n)),
    pii: options.stages?.pii ?? ((t) => detectPii(t, options.piiOptions)),
    injection: options.stages?.injection ?? scanInjection,
  };
  const ruleCategories = rules.categories;
  const maxDepth = options.maxDecodeDepth ?? 2;
  const [uncertainLow, uncertainHigh] = options.uncertainBand ?? [SEVERITY_FLOOR.LOW, SEVERITY_FLOOR.HIGH];
  const classifierTimeoutMs = options.classifierTimeoutMs ?? 250;

  // A stage that threw (or, for the model and the classifier, timed out: their errors say so).
  function fail(acc: Accumulator, stage: CascadeStageName, e: unknown, categories: readonly SafetyCategory[]): void {
    acc.failures.push({ stage, reason: (e as { timeout?: boolean }).timeout ? 'timeout' : 'error', message: message(e), categories });
  }

  /** Runs the cheap stages over `text` (and, recursively, over decoded payloads). */
  function cheap(text: string, acc: Accumulator, stage: SafetyStage, depth: number): void {
    let norm: NormalizedText;
    try {
      norm = stages.normalize(text);
    } catch (e) {
      fail(acc, 'normalize', e, ruleCategories);
      norm = { text: text.toLowerCase(), variants: [text.toLowerCase()] };
    }
    try {
      const r = stages.rules(norm);
      for (const [cat, res] of Object.entries(r) as [SafetyCategory, NonNullable<RuleResults[SafetyCategory]>][]) {
        raise(acc, cat, res.score);
        for (const h of res.hits) addEvidence(acc, cat, h.ruleId);
      }
    } catch (e) {
      fail(acc, 'rules', e, ruleCategories);
    }
    // ROT13 and reversed readings that look like language are checked too (both ways), on input:
    // a model's own answer has no reason to be enciphered, and gibberish can decode to noise.
    if (depth === 0 && stage === 'input') for (const d of decodings(text)) rescan(d.text, d.kind, acc, stage, maxDepth);
    if (depth === 0) {
      try {
        const found = stages.pii(text);
        acc.pii.push(...found);
        const kinds = [...new Set(found.map((m) => m.kind))] as PiiKind[];
        if (kinds.length) {
          raise(acc, 'pii', combineScores(kinds.map((k) => SEVERITY_SCORE[PII_SEVERITY[k]])));
          for (const k of kinds) addEvidence(acc, 'pii', `pii/${k}`);
        }
      } catch (e) {
        fail(acc, 'pii', e, ['pii']);
      }
    }
    if (stage === 'output') return; // injection heuristics are about input
    let scan: InjectionScan;
    try {
      scan = stages.injection(text);
    } catch (e) {
      fail(acc, 'injection', e, ['prompt_injection']);
      return;
    }
    if (scan.signals.length) {
      const rulesScore = acc.scores.get('prompt_injection') ?? 0;
      const scores = scan.signals.map((s) => s.score);
      raise(acc, 'prompt_injection', combineScores(rulesScore ? [rulesScore, ...scores] : scores));
      for (const s of scan.signals) addEvidence(acc, 'prompt_injection', s.id);
    }
    if (depth >= maxDepth) return;
    for (const decoded of scan.decoded) rescan(decoded, 'decoded', acc, stage, depth);
  }

  /**
   * Scans decoded text (a base64 payload, a ROT13 or reversed reading) with the cheap stages and
   * merges what it finds. Hiding a flagged request inside an encoding is itself an evasion
   * attempt, so a flagged decoding also raises prompt_injection on input.
   */
  function rescan(decoded: string, how: string, acc: Accumulator, stage: SafetyStage, depth: number): void {
    const inner: Accumulator = { scores: new Map(), evidence: new Map(), failures: acc.failures, pii: [] };
    cheap(decoded, inner, stage, depth + 1);
    let smuggled = false;
    for (const [cat, score] of inner.scores) {
      raise(acc, cat, score);
      for (const id of inner.evidence.get(cat) ?? []) addEvidence(acc, cat, `${how}:${id}`);
      if (score >= SEVERITY_FLOOR.LOW) smuggled = true;
    }
    if (smuggled && stage === 'input') {
      raise(acc, 'prompt_injection', SEVERITY_SCORE.MEDIUM);
      addEvidence(acc, 'prompt_injection', 'injection/encoded-flagged-content');
    }
  }

  function finish(
    text: string,
    acc: Accumulator,
    stage: SafetyStage,
    settings: SafetySettings | undefined,
    tenant: TenantSafetyPolicy | undefined,
    started: number,
    classifierConsulted: boolean,
  ): SafetyCheckResult {
    const { thresholds } = resolveSettings(settings, tenant);
    const evaluated = stage === 'output' ? OUTPUT_CATEGORIES : ALL_CATEGORIES;
    const failed = new Set(acc.failures.flatMap((f) => f.categories));
    const categories: CategoryScore[] = [];
    const blockedCategories: SafetyCategory[] = [];
    const unverified = new Set<SafetyCategory>();
    for (const c of evaluated) {
      const score = roundScore(acc.scores.get(c) ?? 0);
      const severity: Severity = severityOf(score);
      // On output, personal data is scrubbed by the filter rather than blocking the answer.
      let blocked = !(stage === 'output' && c === 'pii') && blocks(severity, thresholds[c]);
      if (!blocked && failed.has(c) && failureMode(c, tenant) === 'closed') {
        blocked = true;
        unverified.add(c);
      }
      if (blocked) blockedCategories.push(c);
      categories.push({ category: c, score, severity, blocked });
    }
    const verdict: SafetyVerdict = blockedCategories.length
      ? 'blocked'
      : categories.some((c) => c.severity !== 'NEGLIGIBLE')
        ? 'flagged'
        : 'allowed';
    let refusal: Refusal | undefined;
    if (verdict === 'blocked' && stage === 'input') {
      const primary = REFUSAL_PRIORITY.find((c) => blockedCategories.includes(c) && !unverified.has(c))
        ?? REFUSAL_PRIORITY.find((c) => blockedCategories.includes(c))!;
      refusal = refusalFor(primary, unverified.has(primary) ? 'unverified' : 'violation');
    }
    const findings: Finding[] = [];
    for (const c of evaluated) {
      const ev = acc.evidence.get(c);
      if (ev?.size) findings.push({ category: c, evidence: [...ev].sort() });
    }
    return {
      stage,
      verdict,
      categories,
      policyVersion,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
      degraded: acc.failures.length > 0,
      contentHash: contentHashOf(text),
      refusal,
      blockedCategories,
      failClosed: [...unverified],
      findings,
      pii: acc.pii.sort((a, b) => a.start - b.start),
      failures: acc.failures,
      classifierConsulted,
    };
  }

  const newAcc = (): Accumulator => ({ scores: new Map(), evidence: new Map(), failures: [], pii: [] });

  function checkSync(text: string, settings?: SafetySettings, opts: CheckOptions = {}): SafetyCheckResult {
    const started = performance.now();
    const stage = opts.stage ?? 'input';
    const acc = newAcc();
    cheap(text, acc, stage, 0);
    return finish(text, acc, stage, settings, opts.tenant ?? options.tenant, started, false);
  }

  function consult(classifier: SafetyClassifier, text: string, timeoutMs = classifierTimeoutMs): Promise<ClassifierScores> {
    return withTimeout(classifier.id, (signal) => classifier.classify(text, signal), timeoutMs);
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

  /**
   * The main stage: the model scores the text and each ROT13/reversed reading of it; the highest
   * probability per category raises that category's score. A model failure or timeout marks the
   * result degraded but fails nothing closed: the rules, which ran, still cover every category.
   */
  async function runModel(model: NonNullable<CascadeOptions['model']>, text: string, acc: Accumulator, stage: SafetyStage): Promise<void> {
    const readings = [text, ...decodings(text).map((d) => d.text)].filter((t) => wordCount(t) >= MIN_MODEL_WORDS);
    if (readings.length === 0) return;
    try {
      await model.warm?.();
      const all = await Promise.all(readings.map((t) => consult(model, t, options.modelTimeoutMs ?? 2000)));
      for (const c of model.categories) {
        if (stage === 'output' && c === 'prompt_injection') continue;
        const p = Math.max(...all.map((s) => s[c] ?? 0).filter(Number.isFinite));
        if (p < SEVERITY_FLOOR.LOW) continue;
        raise(acc, c, p);
        addEvidence(acc, c, `model/${model.id}`);
      }
    } catch (e) {
      fail(acc, 'model', e, []);
    }
  }

  async function check(text: string, settings?: SafetySettings, opts: CheckOptions = {}): Promise<SafetyCheckResult> {
    const started = performance.now();
    const stage = opts.stage ?? 'input';
    const acc = newAcc();
    cheap(text, acc, stage, 0);
    if (options.model) await runModel(options.model, text, acc, stage);
    const classifier = options.classifier;
    let consulted = false;
    if (classifier) {
      const uncertain = classifier.categories.filter((c) => {
        const s = acc.scores.get(c) ?? 0;
        return s >= uncertainLow && s < uncertainHigh && !(stage === 'output' && c === 'prompt_injection');
      });
      if (uncertain.length) {
        consulted = true;
        try {
          const scores = await consult(classifier, text);
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
      }
    }
    if (options.judge && stage === 'input') await runJudge(options.judge, text, acc);
    return finish(text, acc, stage, settings, opts.tenant ?? options.tenant, started, consulted);
  }

  /** The LLM judge, for inputs the other stages left uncertain (none at MEDIUM, some at LOW). */
  async function runJudge(judge: GuardJudge, text: string, acc: Accumulator): Promise<void> {
    const scores = [...acc.scores].filter(([c]) => c !== 'pii');
    const uncertain = scores.filter(([, s]) => s >= SEVERITY_FLOOR.LOW && s < SEVERITY_FLOOR.MEDIUM).map(([c]) => c);
    if (uncertain.length === 0 || scores.some(([, s]) => s >= SEVERITY_FLOOR.MEDIUM)) return;
    try {
      const verdict: GuardVerdict = await withTimeout(judge.id, (signal) => judge.judge(text, signal), options.judgeTimeoutMs ?? 5000);
      if (verdict.safe) return;
      // An unsafe verdict naming no category Parley has raises the uncertain ones.
      const named = verdict.categories.length ? verdict.categories : uncertain;
      for (const c of named) {
        raise(acc, c, SEVERITY_FLOOR.MEDIUM);
        addEvidence(acc, c, `judge/${judge.id}`);
      }
    } catch (e) {
      fail(acc, 'judge', e, []);
    }
  }

  return { policyVersion: policyVersion + (options.judge ? `+judge.${options.judge.id}` : ''), check, checkSync };
}

let defaultCascade: SafetyCascade | undefined;
let defaultJudge: GuardJudge | undefined;
/**
 * The shipped cascade: rules and the shipped moderation model (one worker per process).
 * `PARLEY_SAFETY_MODEL=off` leaves the model out (rules only). With a judge set by
 * `setDefaultJudge` (bin/, from SAFETY_GUARD_MODEL_DIR) the uncertain band goes to it.
 */
export function getDefaultCascade(): SafetyCascade {
  return (defaultCascade ??= createSafetyCascade({
    ...(process.env.PARLEY_SAFETY_MODEL === 'off' ? {} : { model: getDefaultModel() }),
    ...(defaultJudge ? { judge: defaultJudge } : {}),
  }));
}

/** Sets (or clears) the default cascade's LLM judge; the cascade is rebuilt on next use. */
export function setDefaultJudge(judge: GuardJudge | undefined): void {
  defaultJudge = judge;
  defaultCascade = undefined;
}

/** Checks a user message before the model sees it. */
export function checkInput(text: string, settings?: SafetySettings, options?: Omit<CheckOptions, 'stage'>): Promise<SafetyCheckResult> {
  return getDefaultCascade().check(text, settings, { ...options, stage: 'input' });
}

/** Checks a complete model answer (the streaming filter checks piecewise). */
export function checkOutput(text: string, settings?: SafetySettings, options?: Omit<CheckOptions, 'stage'>): SafetyCheckResult {
  return getDefaultCascade().checkSync(text, settings, { ...options, stage: 'output' });
}

export const CATEGORIES = SafetyCategory.options;
