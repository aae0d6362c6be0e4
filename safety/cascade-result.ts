// What one run of the input cascade (or a check of model output) returns, and how that maps onto a
// SafetyChecked event. Kept apart from the stages so callers that only read results (the output
// filter, moderations, the event writers) need not know how a result was reached.
import { createHash } from 'node:crypto';
import type {
  CategoryScore,
  SafetyCategory,
  SafetyStage,
  SafetyVerdict,
} from '../schemas/safety.ts';
import type { PiiMatch } from './pii.ts';
import type { Refusal } from './refusal.ts';

export type CascadeStageName = 'normalize' | 'rules' | 'pii' | 'injection' | 'model' | 'classifier' | 'judge';

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
