// From the tally of a cascade check to its result: the policy (thresholds, floors, fail-closed
// categories) decides which categories block, which refusal the user sees, and what evidence the
// result carries. Separate from the stages: they measure, this decides.
import { performance } from 'node:perf_hooks';
import type {
  CategoryScore,
  SafetyCategory,
  SafetySettings,
  SafetyStage,
  SafetyVerdict,
  Severity,
} from '../schemas/safety.ts';
import { contentHashOf, type Finding, type SafetyCheckResult } from './cascade-result.ts';
import type { Accumulator } from './cascade-scores.ts';
import { ALL_CATEGORIES, blocks, failureMode, resolveSettings, type TenantSafetyPolicy } from './policy.ts';
import { refusalFor, REFUSAL_PRIORITY, type Refusal } from './refusal.ts';
import { roundScore, severityOf } from './scoring.ts';

/** Categories judged on model output: injection is about input; PII is scrubbed, not blocked. */
export const OUTPUT_CATEGORIES: readonly SafetyCategory[] = ALL_CATEGORIES.filter((c) => c !== 'prompt_injection');

export interface VerdictInput {
  readonly text: string;
  readonly acc: Accumulator;
  readonly stage: SafetyStage;
  readonly settings: SafetySettings | undefined;
  readonly tenant: TenantSafetyPolicy | undefined;
  /** performance.now() when the check started, for latencyMs. */
  readonly started: number;
  readonly classifierConsulted: boolean;
  readonly policyVersion: string;
}

export function decide(input: VerdictInput): SafetyCheckResult {
  const { text, acc, stage, settings, tenant, started, classifierConsulted, policyVersion } = input;
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
