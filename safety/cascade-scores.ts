// The running tally of one cascade check: each stage raises category scores, adds evidence ids and
// records its own failure here, and the verdict (cascade-verdict.ts) is read off it at the end.
// Shared by the cheap stages, the consulted stages and the verdict, so it lives on its own.
import type { SafetyCategory } from '../schemas/safety.ts';
import type { CascadeStageName, StageFailure } from './cascade-result.ts';
import type { PiiMatch } from './pii.ts';
import { clamp01 } from './scoring.ts';

export interface Accumulator {
  scores: Map<SafetyCategory, number>;
  evidence: Map<SafetyCategory, Set<string>>;
  failures: StageFailure[];
  pii: PiiMatch[];
}

export const newAccumulator = (): Accumulator => ({ scores: new Map(), evidence: new Map(), failures: [], pii: [] });

export function addEvidence(acc: Accumulator, category: SafetyCategory, id: string): void {
  let s = acc.evidence.get(category);
  if (!s) acc.evidence.set(category, (s = new Set()));
  s.add(id);
}

/** Scores only go up: each stage can raise a category, none can clear what another found. */
export function raise(acc: Accumulator, category: SafetyCategory, score: number): void {
  acc.scores.set(category, Math.max(acc.scores.get(category) ?? 0, clamp01(score)));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A stage that threw (or, for the model and the classifier, timed out: their errors say so). */
export function fail(acc: Accumulator, stage: CascadeStageName, e: unknown, categories: readonly SafetyCategory[]): void {
  acc.failures.push({ stage, reason: (e as { timeout?: boolean }).timeout ? 'timeout' : 'error', message: message(e), categories });
}
