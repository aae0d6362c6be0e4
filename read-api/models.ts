import type { Actor } from '../schemas/common.ts';
import type { Services } from './context.ts';

// The model a request names, checked against the registry for the caller's tenant (and tier, when
// known), or the tenant's default when it names none. One check for both APIs: each turns a refusal
// into its own error shape (OpenAI 404 model_not_found, GraphQL BAD_USER_INPUT field model).

export type ModelChoice = { ok: true; model: string } | { ok: false; message: string };

export function chooseModel(services: Pick<Services, 'models' | 'defaultModel'>, actor: Actor, asked: string | null | undefined, tier?: string | null): ModelChoice {
  const registry = services.models;
  if (!registry) {
    if (asked == null || asked === services.defaultModel) return { ok: true, model: services.defaultModel };
    return { ok: false, message: `The model '${asked.slice(0, 128)}' does not exist (served: ${services.defaultModel})` };
  }
  const model = asked ?? registry.defaultFor(actor.tenantId);
  const check = registry.check(model, { tenantId: actor.tenantId, tier: tier ?? null });
  return check.ok ? { ok: true, model } : { ok: false, message: check.message };
}

/** the models a caller may use (GET /v1/models), at its tier when known */
export function modelsFor(services: Pick<Services, 'models' | 'defaultModel'>, actor: Actor, tier?: string | null): string[] {
  return services.models ? services.models.listFor({ tenantId: actor.tenantId, tier: tier ?? null }).map((m) => m.name) : [services.defaultModel];
}
