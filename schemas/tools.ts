import { z } from 'zod';

// Server-side tools Parley runs itself (inference/tools/), by name.
export const ToolName = z.enum(['calculator', 'convert_units', 'current_datetime', 'search_history', 'search_documents']);
export type ToolName = z.infer<typeof ToolName>;
// The tools a tenant gets unless its policy names others. search_documents is opt-in (`allow`): its
// schema adds ~350 tokens to every system turn, and the shipped model's whole context is 2048.
export const DEFAULT_TOOLS: readonly ToolName[] = ToolName.options.filter((n) => n !== 'search_documents');

// PARLEY_TENANT_TOOLS: {"<tenant>": {"enabled": false}} switches a tenant's tools off;
// {"<tenant>": {"allow": ["calculator"]}} names them. A tenant not named (or without `allow`) gets
// DEFAULT_TOOLS; search_documents only when `allow` names it.
export const TenantToolPolicy = z.strictObject({
  enabled: z.boolean().optional(),
  allow: z.array(ToolName).optional(),
});
export type TenantToolPolicy = z.infer<typeof TenantToolPolicy>;
export const TenantToolPolicies = z.record(z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'tenant ids use letters, digits, _ . : -'), TenantToolPolicy);
export type TenantToolPolicies = z.infer<typeof TenantToolPolicies>;

// How a tool call failed (ToolCallFailed.code).
export const ToolFailureCode = z.enum([
  'UNKNOWN_TOOL', // no such tool, or not enabled for the tenant
  'INVALID_ARGUMENTS', // the arguments do not match the tool's schema
  'INVALID_CALL', // a <tool_call> block that is not a valid call
  'TOOL_ERROR', // the tool ran and refused (e.g. division by zero)
  'TIMEOUT',
  'RESULT_BLOCKED', // the result failed the prompt-injection check and was kept out of the context
  'TOO_MANY_ROUNDS', // the turn already used its tool rounds
]);
export type ToolFailureCode = z.infer<typeof ToolFailureCode>;

// The tools on for a tenant: the default ones unless its policy switches them off or names them.
export function toolsForTenant(policies: TenantToolPolicies | undefined, tenantId: string, defaults: readonly ToolName[] = DEFAULT_TOOLS): ToolName[] {
  const p = policies?.[tenantId];
  if (!p) return [...defaults];
  if (p.enabled === false) return [];
  return p.allow ? ToolName.options.filter((n) => p.allow!.includes(n)) : [...defaults];
}
