// Scores and severities: one scale for every stage, so rules, PII, injection heuristics and the
// classifier can be compared and combined.
import type { Severity } from '../schemas/safety.ts';

/** The score a rule of a given severity contributes. */
export const SEVERITY_SCORE: Readonly<Record<Exclude<Severity, 'NEGLIGIBLE'>, number>> = {
  LOW: 0.45,
  MEDIUM: 0.7,
  HIGH: 0.92,
};

/** Lower bounds of the severity bands on the score scale. */
export const SEVERITY_FLOOR: Readonly<Record<Exclude<Severity, 'NEGLIGIBLE'>, number>> = {
  LOW: 0.3,
  MEDIUM: 0.6,
  HIGH: 0.85,
};

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { NEGLIGIBLE: 0, LOW: 1, MEDIUM: 2, HIGH: 3 };

export function severityOf(score: number): Severity {
  if (score >= SEVERITY_FLOOR.HIGH) return 'HIGH';
  if (score >= SEVERITY_FLOOR.MEDIUM) return 'MEDIUM';
  if (score >= SEVERITY_FLOOR.LOW) return 'LOW';
  return 'NEGLIGIBLE';
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 0;
}

/** Rounds a score for events and reports (4 decimals). */
export function roundScore(x: number): number {
  return Math.round(clamp01(x) * 10000) / 10000;
}
