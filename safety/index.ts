// Public API of the safety pipeline. Other folders import from here only.
export {
  checkInput,
  checkOutput,
  createSafetyCascade,
  getDefaultCascade,
  setDefaultJudge,
  type CascadeOptions,
  type CheckOptions,
  type SafetyCascade,
} from './cascade.ts';
export {
  toSafetyCheckedData,
  contentHashOf,
  type CascadeStageName,
  type Finding,
  type SafetyCheckResult,
  type SafetyCheckedData,
  type StageFailure,
} from './cascade-result.ts';
export { OUTPUT_CATEGORIES } from './cascade-verdict.ts';
export type { CascadeStages } from './cheap-stages.ts';
export {
  createOutputFilter,
  createDefaultOutputFilter,
  filterText,
  filterTextAsync,
  type FilterStep,
  type FilterStop,
  type OutputFilter,
  type OutputFilterOptions,
} from './output-filter.ts';
export {
  POLICY_BASE_VERSION,
  PLATFORM_DEFAULTS,
  PLATFORM_FLOORS,
  PLATFORM_FAILURE_MODE,
  blocks,
  failureMode,
  floorViolations,
  policyVersionFor,
  resolveSettings,
  stricter,
  type EffectiveThresholds,
  type FailureMode,
  type ResolvedSettings,
  type TenantSafetyPolicy,
} from './policy.ts';
export { refusalFor, outputPolicyNotice, CATEGORY_LABEL, type Refusal, type RefusalReason } from './refusal.ts';
export { detectPii, scrubPii, luhnValid, ibanValid, type PiiKind, type PiiMatch, type PiiOptions, type ScrubResult } from './pii.ts';
export { normalize, type NormalizedText } from './normalize.ts';
export { scanInjection, decodeTextBlock, type InjectionScan, type InjectionSignal } from './injection.ts';
export { compileRules, loadRuleFiles, getDefaultRules, RuleFile, type RuleSet, type RuleHit } from './rules.ts';
export {
  createLinearClassifier,
  loadLinearModel,
  scoreLinear,
  trainLinearModel,
  LinearModel,
  type SafetyClassifier,
  type ClassifierScores,
  type TrainingExample,
} from './classifier.ts';
export { severityOf, SEVERITY_FLOOR } from './scoring.ts';

import { getDefaultCascade } from './cascade.ts';
/** The version string recorded in SafetyChecked events by the default cascade. */
export function policyVersion(): string {
  return getDefaultCascade().policyVersion;
}

/**
 * The policy version of the shipped cascade, recorded in every SafetyChecked event it produces:
 * `POLICY_BASE_VERSION` plus the hash of the rule files. Loads the rules on first import.
 */
export const POLICY_VERSION: string = policyVersion();
export { moderate, toModerationResult, OPENAI_CATEGORIES, type ModerationResult } from './moderation.ts';
export { createModerationModel, getDefaultModel, loadModelCard, type ModerationModel, type ModerationModelCard } from './model.ts';
export { guardPrompt, parseGuardOutput, GUARD_CATEGORIES, type GuardJudge, type GuardVerdict } from './guard.ts';
