import type { Knex } from 'knex';
import { z } from 'zod';
import { isPlatformOperator } from '../../domain/access.ts';
import { IsoDateTime, IsoDay, type Actor } from '../../schemas/common.ts';
import { requireRole, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import { toAuditEntry } from '../read-models.ts';
import { decodeCursor, encodeCursor, pageSize } from './cursor.ts';
import { consistentWith } from './queries.ts';

// The compliance console's queries: the appeal queue and the charts' aggregates. Both read the
// caller's tenant only (a platform operator: every tenant), for the compliance and admin roles.

const AppealCursor = z.object({ filedAt: IsoDateTime, seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
const Status = z.enum(['open', 'upheld', 'overturned']);

const inScope = (actor: Actor, column = 'tenant_id') => (q: Knex.QueryBuilder) => {
  if (!isPlatformOperator(actor)) q.where(column, actor.tenantId);
};
const day = (d: Date | string) => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10));

function dateRange(args: { from?: string | null; to?: string | null }) {
  for (const f of ['from', 'to'] as const) {
    if (args[f] && !IsoDay.safeParse(args[f]).success) throw apiError('BAD_USER_INPUT', `${f} must be a date (YYYY-MM-DD)`, { field: f });
  }
  return { from: args.from ?? null, to: args.to ?? null };
}

export const complianceResolvers = {
  Query: {
    appeals: async (_: unknown, args: { status?: string | null; first?: number; after?: string | null; consistentWith?: string | null }, ctx: GraphQLContext) => {
      const actor = requireRole(ctx, 'compliance', 'admin');
      await consistentWith(ctx, args.consistentWith, 'audit'); // e.g. the position resolveAppeal returned
      const status = args.status == null ? null : Status.safeParse(args.status);
      if (status && !status.success) throw apiError('BAD_USER_INPUT', 'status must be open, upheld or overturned', { field: 'status' });
      const first = pageSize(args.first, 100);
      const after = decodeCursor(ctx.services.jwtSecret, AppealCursor, args.after);
      const { knex } = ctx.services;
      const q = knex('audit_log as f')
        .leftJoin('audit_log as r', function join() { this.on('r.appeal_id', 'f.appeal_id').andOnVal('r.event_type', 'AppealResolved'); })
        .where('f.event_type', 'AppealFiled').modify(inScope(actor, 'f.tenant_id'))
        .select('f.appeal_id', 'f.safety_event_id', 'f.user_id', 'f.tenant_id', 'f.occurred_at', 'f.seq', 'r.outcome', 'r.actor_id as resolved_by', 'r.occurred_at as resolved_at');
      if (status?.success) {
        if (status.data === 'open') q.whereNull('r.event_id');
        else q.where('r.outcome', status.data);
      }
      if (after) q.whereRaw('(f.occurred_at, f.seq) < (?::timestamptz, ?)', [after.filedAt, after.seq]);
      const rows: Record<string, any>[] = await q.orderBy([{ column: 'f.occurred_at', order: 'desc' }, { column: 'f.seq', order: 'desc' }]).limit(first + 1);
      const page = rows.slice(0, first);
      const decisions = new Map((await knex('audit_log').whereIn('event_id', page.map((r) => r.safety_event_id).filter(Boolean))).map((d) => [d.event_id, toAuditEntry(d)]));
      // The reason (sealed under the appellant's key) and the note live in the appeal's own stream.
      const edges = await Promise.all(page.map(async (r) => {
        const stream = await ctx.services.store.readStream(`appeal-${r.appeal_id}`);
        const filed = stream.find((e) => e.type === 'AppealFiled');
        const resolved = stream.find((e) => e.type === 'AppealResolved');
        return {
          cursor: encodeCursor(ctx.services.jwtSecret, { filedAt: new Date(r.occurred_at).toISOString(), seq: Number(r.seq) }),
          node: {
            id: r.appeal_id, safetyEventId: r.safety_event_id, userId: r.user_id, tenantId: r.tenant_id,
            reason: filed?.type === 'AppealFiled' ? filed.data.reason : '', status: r.outcome ?? 'open',
            note: resolved?.type === 'AppealResolved' ? resolved.data.note || null : null, resolvedBy: r.resolved_by ?? null,
            filedAt: new Date(r.occurred_at).toISOString(), resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
            decision: decisions.get(r.safety_event_id) ?? null,
          },
        };
      }));
      return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
    },

    complianceStats: async (_: unknown, args: { from?: string | null; to?: string | null }, ctx: GraphQLContext) => {
      const actor = requireRole(ctx, 'compliance', 'admin');
      const range = dateRange(args);
      const { knex } = ctx.services;
      // UTC days of audit rows; `to` is inclusive.
      const auditDay = `(occurred_at at time zone 'UTC')::date`;
      const within = (column: string) => (q: Knex.QueryBuilder) => {
        if (range.from) q.whereRaw(`${column} >= ?::date`, [range.from]);
        if (range.to) q.whereRaw(`${column} <= ?::date`, [range.to]);
      };
      const decisions = knex('audit_log').where('event_type', 'SafetyChecked').modify(inScope(actor)).modify(within(auditDay));
      const [perCategory, perTenant, tokens, feedback] = await Promise.all([
        knex.raw(`select ${auditDay} as day, c.category, count(*)::int as flagged,
                    count(*) filter (where a.categories @> jsonb_build_array(jsonb_build_object('category', c.category, 'blocked', true)))::int as blocked
                  from (${decisions.clone().select('*').toString()}) a, unnest(a.flagged_categories) as c(category)
                  group by 1, 2 order by 1, 2`),
        decisions.clone().select('tenant_id').count({ decisions: '*' }).select(knex.raw(`count(*) filter (where verdict = 'blocked')::int as blocked`)).groupBy('tenant_id').orderBy('tenant_id'),
        knex('usage_daily').modify(inScope(actor)).modify(within('day')).select('day', 'tenant_id').sum({ prompt: 'prompt_tokens', completion: 'completion_tokens' })
          .groupBy('day', 'tenant_id').orderBy(['day', 'tenant_id']),
        knex('history_messages as m').join('history_conversations as c', 'c.id', 'm.conversation_id').whereNotNull('m.feedback_rating')
          .modify(inScope(actor, 'c.tenant_id')).modify(within(`(m.updated_at at time zone 'UTC')::date`))
          .select(knex.raw(`(m.updated_at at time zone 'UTC')::date as day`))
          .select(knex.raw(`count(*) filter (where m.feedback_rating = 'up')::int as up`), knex.raw(`count(*) filter (where m.feedback_rating = 'down')::int as down`))
          .groupByRaw('1').orderByRaw('1'),
      ]);
      return {
        decisionsPerCategoryPerDay: perCategory.rows.map((r: any) => ({ day: day(r.day), category: r.category, flagged: r.flagged, blocked: r.blocked })),
        blockRatePerTenant: perTenant.map((r: any) => ({ tenantId: r.tenant_id, decisions: Number(r.decisions), blocked: Number(r.blocked), rate: Number(r.blocked) / Math.max(1, Number(r.decisions)) })),
        tokensPerDayPerTenant: tokens.map((r: any) => ({ day: day(r.day), tenantId: r.tenant_id, promptTokens: Number(r.prompt), completionTokens: Number(r.completion) })),
        thumbsUpRatePerDay: feedback.map((r: any) => ({ day: day(r.day), up: r.up, down: r.down, rate: r.up / Math.max(1, r.up + r.down) })),
      };
    },
  },
};
