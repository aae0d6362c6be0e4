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
  // Added with the learned moderation model (issue 16).
  'fraud_scams',
  'privacy',
  'cyber',
  'weapons',
  'violent_extremism',
  'misinformation',
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

// A tenant's safety policy (PARLEY_TENANT_POLICY: {"<tenant>": TenantSafetyPolicy}): its defaults a
// request may override, its floors no request may go below, categories to fail closed.
export const TenantSafetyPolicy = z.strictObject({
  defaults: SafetySettings.optional(),
  floors: SafetySettings.optional(),
  failClosed: z.array(SafetyCategory).optional(),
});
export type TenantSafetyPolicy = z.infer<typeof TenantSafetyPolicy>;
export const TenantPolicies = z.record(z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'tenant ids use letters, digits, _ . : -'), TenantSafetyPolicy);
export type TenantPolicies = z.infer<typeof TenantPolicies>;

// The thresholds a check ran under (platform defaults < tenant defaults < request, raised to the
// floors), recorded on SafetyChecked so an auditor sees the policy as it applied to that message.
export const EffectivePolicy = z.object({
  thresholds: z.record(SafetyCategory, BlockThreshold),
  raisedToFloor: z.array(SafetyCategory),
  // Whether a tenant policy applied (known where the input is checked; absent on output decisions).
  tenantPolicy: z.boolean().optional(),
});
export type EffectivePolicy = z.infer<typeof EffectivePolicy>;

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
