import { z } from 'zod';

// Shared vocabulary of the safety pipeline: events, policies and the cascade all speak it.
export const SafetyCategory = z.enum([
  'harassment',
  'hate',
  'sexual',
  'sexual_minors',
  'dangerous',
  'self_harm',
  'pii',
  'prompt_injection',
]);
export type SafetyCategory = z.infer<typeof SafetyCategory>;

export const Severity = z.enum(['NEGLIGIBLE', 'LOW', 'MEDIUM', 'HIGH']);
export type Severity = z.infer<typeof Severity>;

// Gemini-style per-category thresholds.
export const BlockThreshold = z.enum([
  'BLOCK_NONE',
  'BLOCK_ONLY_HIGH',
  'BLOCK_MEDIUM_AND_ABOVE',
  'BLOCK_LOW_AND_ABOVE',
]);
export type BlockThreshold = z.infer<typeof BlockThreshold>;

export const SafetySettings = z.partialRecord(SafetyCategory, BlockThreshold);
export type SafetySettings = z.infer<typeof SafetySettings>;

export const SafetyStage = z.enum(['input', 'output']);
export type SafetyStage = z.infer<typeof SafetyStage>;

export const SafetyVerdict = z.enum(['allowed', 'blocked', 'flagged']);
export type SafetyVerdict = z.infer<typeof SafetyVerdict>;

export const CategoryScore = z.object({
  category: SafetyCategory,
  score: z.number().min(0).max(1),
  severity: Severity,
  blocked: z.boolean(),
});
export type CategoryScore = z.infer<typeof CategoryScore>;
