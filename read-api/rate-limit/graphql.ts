import type { Actor } from '../../schemas/common.ts';
import type { GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import { admissionOf, type Admitted } from './admission.ts';
import { sharesFor } from './graphql-batch.ts';

const DEFAULT_MAX_TOKENS = 256; // SamplingParams' default

// Admission for GraphQL turns (sendMessage, regenerate): the same shedding and quotas as the
// OpenAI endpoint, except the concurrent-stream limit (a GraphQL stream is a resumable
// subscription a client may reopen; its generation is metered by rpm and tpm).
export type TurnGate = {
  admitted: Admitted | null;
  /** sampling params with the brownout cap applied */
  params<T extends Record<string, unknown>>(params: T): T;
  /** priority and brownout for a RequestGeneration issued directly (regenerate) */
  request(): { priority?: number; brownout?: boolean };
  /** appends through `append`; a rejected command refunds the reservation, an accepted one is settled when its generation ends */
  run<R>(generationId: string, append: () => Promise<R>, options?: { hint?: boolean }): Promise<R>;
};

const open: TurnGate = { admitted: null, params: (p) => p, request: () => ({}), run: (_, append) => append() };

export async function admitTurn(
  ctx: GraphQLContext & { request?: Request },
  actor: Actor,
  asked: { maxTokens?: number | null; promptText?: string; promptTokens?: number },
  /** the field's response key (info.path.key): a turn of a multi-turn request was admitted with the request */
  field?: string | number,
): Promise<TurnGate> {
  const admission = admissionOf(ctx.services);
  if (!admission) return open;
  const maxTokens = asked.maxTokens ?? DEFAULT_MAX_TOKENS;
  const promptTokens = asked.promptTokens ?? admission.estimateTokens(asked.promptText ?? '');
  const share = field === undefined ? undefined : sharesFor(ctx)?.take(String(field));
  const a = share ?? await admission.admit({ actor, tier: admission.tierOf(ctx.request?.headers.get('authorization')), maxTokens, promptTokens, stream: false });
  if (!a.ok) {
    // Nothing is appended for a refused turn.
    if (a.kind === 'unavailable') throw apiError('UNAVAILABLE', a.message, { retryAfter: a.retryAfterS });
    throw apiError('RATE_LIMITED', a.message, { retryAfter: a.retryAfterS, reason: a.kind === 'overloaded' ? 'OVERLOADED' : 'QUOTA', ...(a.limit ? { limit: a.limit, scope: a.scope } : {}) });
  }
  return {
    admitted: a,
    params: (p) => (a.brownout ? { ...p, maxTokens: Math.min(Number(p.maxTokens ?? DEFAULT_MAX_TOKENS), a.maxTokens) } : p),
    request: () => ({ priority: a.priority, brownout: a.brownout }),
    async run(generationId, append, options = { hint: true }) {
      if (options.hint !== false) await admission.recordHint(generationId, a);
      try {
        const result = await append();
        admission.track(generationId, a.ticket, promptTokens);
        return result;
      } catch (error) {
        await admission.settle(a.ticket, 0);
        if (options.hint !== false) await admission.forgetHint(generationId);
        throw error;
      }
    },
  };
}

/**
 * Admission for a GraphQL request that is not a turn (Query.moderate): the same shedding, rpm and
 * tpm as POST /v1/moderations (one request, its input's estimated tokens, nothing generated).
 * Refused: RATE_LIMITED (or UNAVAILABLE) with retryAfter, before any work. Returns `settle`, to be
 * called once the work is done (it charges the estimate; a failure refunds it).
 */
export async function admitRequest(
  ctx: GraphQLContext & { request?: Request },
  actor: Actor,
  promptText: string,
): Promise<{ settle(ok: boolean): Promise<void> }> {
  const admission = admissionOf(ctx.services);
  if (!admission) return { settle: async () => {} };
  const promptTokens = admission.estimateTokens(promptText);
  const a = await admission.admit({ actor, tier: admission.tierOf(ctx.request?.headers.get('authorization')), maxTokens: 0, promptTokens, stream: false });
  if (!a.ok) {
    if (a.kind === 'unavailable') throw apiError('UNAVAILABLE', a.message, { retryAfter: a.retryAfterS });
    throw apiError('RATE_LIMITED', a.message, { retryAfter: a.retryAfterS, reason: a.kind === 'overloaded' ? 'OVERLOADED' : 'QUOTA', ...(a.limit ? { limit: a.limit, scope: a.scope } : {}) });
  }
  return { settle: (ok) => admission.settle(a.ticket, ok ? promptTokens : 0) };
}
