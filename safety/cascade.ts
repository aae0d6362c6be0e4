// The input cascade, cheapest stage first: normalize → rules → ROT13/reversed readings → PII →
// injection heuristics (→ a second pass over decoded payloads) → the moderation model (the main
// stage, when configured; getDefaultCascade has it) → the old classifier, only when the cheap stages
// are uncertain → the optional LLM judge. A result maps field for field onto a SafetyChecked event's
// data (see toSafetyCheckedData).
//
// This file is the wiring: options, the order of the stages and the shipped default cascade. The
// stages themselves are in cheap-stages.ts (synchronous) and consulted-stages.ts (model, classifier,
// judge, under time limits); the running tally in cascade-scores.ts; the policy decision in
// cascade-verdict.ts; the result's shape in cascade-result.ts.
import { performance } from 'node:perf_hooks';
import { SafetyCategory, type SafetySettings, type SafetyStage } from '../schemas/safety.ts';
import type { SafetyCheckResult } from './cascade-result.ts';
import { newAccumulator } from './cascade-scores.ts';
import { decide } from './cascade-verdict.ts';
import { createCheapStages, type CascadeStages } from './cheap-stages.ts';
import type { SafetyClassifier } from './classifier.ts';
import { runClassifier, runJudge, runModel, type CascadeModel } from './consulted-stages.ts';
import type { GuardJudge } from './guard.ts';
import { scanInjection } from './injection.ts';
import { getDefaultModel } from './model.ts';
import { normalize } from './normalize.ts';
import { detectPii, type PiiOptions } from './pii.ts';
import { policyVersionFor, type TenantSafetyPolicy } from './policy.ts';
import { getDefaultRules, type RuleSet } from './rules.ts';
import { SEVERITY_FLOOR } from './scoring.ts';

export { MIN_MODEL_WORDS } from './consulted-stages.ts';

export interface CascadeOptions {
  readonly rules?: RuleSet;
  /**
   * The learned moderation model (model.ts), the main stage: consulted for every input of
   * MIN_MODEL_WORDS words or more (and its ROT13/reversed readings), its
   * calibrated probability per category raising that category's score (rules are the fast path
   * and hold the allow-lists). Absent: rules only. `getDefaultCascade` uses the shipped model.
   */
  readonly model?: CascadeModel;
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

export function createSafetyCascade(options: CascadeOptions = {}): SafetyCascade {
  const rules = options.rules ?? getDefaultRules();
  // The model and the judge are part of the policy: a retrained model or another judge is a new version
  // in every SafetyChecked event (the same string the cascade advertises).
  const policyVersion = policyVersionFor(rules.hash) + (options.model ? `+model.${options.model.id}` : '') + (options.judge ? `+judge.${options.judge.id}` : '');
  const stages: CascadeStages = {
    normalize: options.stages?.normalize ?? normalize,
    rules: options.stages?.rules ?? ((n) => rules.match(n)),
    pii: options.stages?.pii ?? ((t) => detectPii(t, options.piiOptions)),
    injection: options.stages?.injection ?? scanInjection,
  };
  const cheap = createCheapStages({ stages, ruleCategories: rules.categories, maxDepth: options.maxDecodeDepth ?? 2 });
  const uncertainBand = options.uncertainBand ?? [SEVERITY_FLOOR.LOW, SEVERITY_FLOOR.HIGH];
  const classifierTimeoutMs = options.classifierTimeoutMs ?? 250;

  function checkSync(text: string, settings?: SafetySettings, opts: CheckOptions = {}): SafetyCheckResult {
    const started = performance.now();
    const stage = opts.stage ?? 'input';
    const acc = newAccumulator();
    cheap(text, acc, stage, 0);
    const tenant = opts.tenant ?? options.tenant;
    return decide({ text, acc, stage, settings, tenant, started, classifierConsulted: false, policyVersion });
  }

  async function check(text: string, settings?: SafetySettings, opts: CheckOptions = {}): Promise<SafetyCheckResult> {
    const started = performance.now();
    const stage = opts.stage ?? 'input';
    const acc = newAccumulator();
    cheap(text, acc, stage, 0);
    if (options.model) await runModel(options.model, text, acc, stage, options.modelTimeoutMs ?? 2000);
    const classifierConsulted = options.classifier
      ? await runClassifier(options.classifier, text, acc, stage, uncertainBand, classifierTimeoutMs)
      : false;
    if (options.judge && stage === 'input') await runJudge(options.judge, text, acc, options.judgeTimeoutMs ?? 5000);
    const tenant = opts.tenant ?? options.tenant;
    return decide({ text, acc, stage, settings, tenant, started, classifierConsulted, policyVersion });
  }

  return { policyVersion, check, checkSync };
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
