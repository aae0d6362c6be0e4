import { z } from 'zod';

// Server-side tools Parley runs itself (inference/tools/), by name.
export const ToolName = z.enum(['calculator', 'convert_units', 'current_datetime', 'search_history']);
export type ToolName = z.infer<typeof ToolName>;

// PARLEY_TENANT_TOOLS: {"<tenant>": {"enabled": false}} switches a tenant's tools off;
// {"<tenant>": {"allow": ["calculator"]}} narrows them. A tenant not named gets every tool.
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

// The tools on for a tenant: every tool unless its policy switches them off or narrows them.
export function toolsForTenant(policies: TenantToolPolicies | undefined, tenantId: string, all: readonly ToolName[] = ToolName.options): ToolName[] {
  const p = policies?.[tenantId];
  if (!p) return [...all];
  if (p.enabled === false) return [];
  return p.allow ? all.filter((n) => p.allow!.includes(n)) : [...all];
}
