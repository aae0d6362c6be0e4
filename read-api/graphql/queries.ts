import { z } from 'zod';
import { hasRoleIn, reachesTenant } from '../../domain/access.ts';
import { isPosition } from '../../eventstore/port.ts';
import { Id, IsoDateTime, IsoDay } from '../../schemas/common.ts';
import { waitForProjection } from '../../projections/projection-runner.ts';
import { requireActor, requireRole, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import {
  auditQuery, getConversation, getGeneration, listConversations, toAuditEntry, toConversation, toGeneration,
  type AuditFilter,
} from '../read-models.ts';
import { decodeCursor, encodeCursor, pageSize } from './cursor.ts';

// Read-your-writes: wait (bounded) until the history read model has applied `position`.
export async function consistentWith(ctx: GraphQLContext, position: string | null | undefined, projection = 'history') {
  if (!position) return;
  if (!isPosition(position)) throw apiError('BAD_USER_INPUT', 'consistentWith must be a position returned by a mutation', { field: 'consistentWith' });
  await waitForProjection(ctx.services.knex, projection, position);
}

const ConversationCursor = z.object({ updatedAt: IsoDateTime, id: Id });
const AuditCursor = z.object({ occurredAt: IsoDateTime, seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
const IsoDate = IsoDateTime.or(IsoDay);

export const queryResolvers = {
  me: (_: unknown, __: unknown, ctx: GraphQLContext) => requireActor(ctx),

  conversations: async (_: unknown, args: { first?: number; after?: string; search?: string; consistentWith?: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    await consistentWith(ctx, args.consistentWith);
    const first = pageSize(args.first);
    const after = decodeCursor(ctx.services.jwtSecret, ConversationCursor, args.after);
    const search = args.search?.trim() || null;
    if (search && search.length > 200) throw apiError('BAD_USER_INPUT', 'search is longer than 200 characters', { field: 'search' });
    const rows = await listConversations(ctx.services.knex, actor, { first, after, search }, ctx.services.keys);
    const page = rows.slice(0, first);
    const edges = page.map((r) => ({ cursor: encodeCursor(ctx.services.jwtSecret, { updatedAt: r.updated_at.toISOString(), id: r.id }), node: toConversation(r) }));
    return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  },

  conversation: async (_: unknown, args: { id: string; consistentWith?: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    await consistentWith(ctx, args.consistentWith);
    const row = await getConversation(ctx.services.knex, actor, args.id, ctx.services.keys);
    return row ? toConversation(row) : null;
  },

  generation: async (_: unknown, args: { id: string; consistentWith?: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    await consistentWith(ctx, args.consistentWith);
    const row = await getGeneration(ctx.services.knex, actor, args.id, ctx.services.keys);
    return row ? toGeneration(row) : null;
  },

  auditLog: async (_: unknown, args: { filter?: AuditFilter; first?: number; after?: string }, ctx: GraphQLContext) => {
    const actor = requireRole(ctx, 'compliance');
    const first = pageSize(args.first, 500);
    const filter = args.filter ?? {};
    if (filter.tenantId && !reachesTenant(actor, filter.tenantId)) throw apiError('FORBIDDEN', 'the compliance role reads its own tenant\'s audit log only', { field: 'filter.tenantId' });
    for (const f of ['from', 'to'] as const) {
      if (filter[f] && !IsoDate.safeParse(filter[f]).success) throw apiError('BAD_USER_INPUT', `${f} must be an ISO date or date-time`, { field: `filter.${f}` });
    }
    const after = decodeCursor(ctx.services.jwtSecret, AuditCursor, args.after);
    const q = auditQuery(ctx.services.knex, actor, filter);
    if (after) q.whereRaw('(occurred_at, seq) < (?::timestamptz, ?)', [after.occurredAt, after.seq]);
    const rows = await q.orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'seq', order: 'desc' }]).limit(first + 1);
    const edges = rows.slice(0, first).map((r: Record<string, any>) => ({
      cursor: encodeCursor(ctx.services.jwtSecret, { occurredAt: new Date(r.occurred_at).toISOString(), seq: Number(r.seq) }),
      node: toAuditEntry(r),
    }));
    return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
  },

  usage: async (_: unknown, args: { from?: string; to?: string; userId?: string; consistentWith?: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    await consistentWith(ctx, args.consistentWith, 'usage');
    if (args.userId && args.userId !== actor.userId && !hasRoleIn(actor, 'admin', actor.tenantId)) throw apiError('FORBIDDEN', 'only admins read other users\' usage');
    for (const f of ['from', 'to'] as const) {
      if (args[f] && !IsoDay.safeParse(args[f]).success) throw apiError('BAD_USER_INPUT', `${f} must be a date (YYYY-MM-DD)`, { field: f });
    }
    // A user is (tenant, user): usage is always read within the caller's tenant.
    const q = ctx.services.knex('usage_daily').where({ tenant_id: actor.tenantId, user_id: args.userId ?? actor.userId });
    if (args.from) q.where('day', '>=', args.from);
    if (args.to) q.where('day', '<=', args.to);
    const rows = await q.orderBy('day');
    return rows.map((r: Record<string, any>) => ({
      day: r.day instanceof Date ? r.day.toISOString().slice(0, 10) : String(r.day), userId: r.user_id, tenantId: r.tenant_id,
      requests: r.requests, promptTokens: Number(r.prompt_tokens), completionTokens: Number(r.completion_tokens),
    }));
  },
};
