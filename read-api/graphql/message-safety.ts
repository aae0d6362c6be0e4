import DataLoader from 'dataloader';
import type { Knex } from 'knex';
import { CHECKPOINTS } from '../../eventstore/postgres/checkpoints.ts';
import { waitForProjection } from '../../projections/projection-runner.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { GraphQLContext } from '../context.ts';

// Message.safetyEventId / safetyCategory / policyVersion / appeal: read from the audit log (which
// keeps every decision by generation, and every appeal by the decision it names), one query per page
// of messages. The audit projection runs beside history; a page first lets it catch up with what
// history has shown (bounded), so a message shown as blocked has its decision id to appeal.

type Decision = { eventId: string; stage: string; verdict: string; category: string | null; policyVersion: string | null };
type Appeal = { id: string; status: 'open' | 'upheld' | 'overturned'; note: string | null; filedAt: string; resolvedAt: string | null };
type Found = { input: Decision | null; output: Decision | null; appeals: Map<string, Appeal> };
type MessageLike = { id: string; role: string; generationId: string | null };

const loaders = new WeakMap<GraphQLContext, DataLoader<string, Found>>();

function loaderOf(ctx: GraphQLContext): DataLoader<string, Found> {
  let loader = loaders.get(ctx);
  if (!loader) loaders.set(ctx, (loader = new DataLoader((ids: readonly string[]) => decisionsOf(ctx.services.knex, ctx.services.store, ids))));
  return loader;
}

async function decisionsOf(knex: Knex, store: EventStore, generationIds: readonly string[]): Promise<Found[]> {
  const history = await knex(CHECKPOINTS).where({ name: 'history' }).first('position');
  if (history?.position) await waitForProjection(knex, 'audit', history.position, 3000);
  const rows = await knex('audit_log').where('event_type', 'SafetyChecked').whereIn('generation_id', generationIds as string[]);
  const eventIds = rows.map((r) => r.event_id);
  const appealRows = eventIds.length ? await knex('audit_log').whereIn('event_type', ['AppealFiled', 'AppealResolved']).whereIn('safety_event_id', eventIds).orderBy('seq') : [];
  // The resolver's note is kept in the appeal's own stream (two events), not in the audit log.
  const notes = new Map<string, string>();
  await Promise.all(appealRows.filter((r) => r.event_type === 'AppealResolved').map(async (r) => {
    const resolved = (await store.readStream(`appeal-${r.appeal_id}`)).find((e) => e.type === 'AppealResolved');
    if (resolved?.type === 'AppealResolved' && resolved.data.note) notes.set(r.appeal_id, resolved.data.note);
  }));
  return generationIds.map((g) => {
    const mine = rows.filter((r) => r.generation_id === g);
    const found: Found = { input: decision(mine.find((r) => r.stage === 'input')), output: decision(mine.find((r) => r.stage === 'output')), appeals: new Map() };
    for (const r of appealRows) {
      if (!mine.some((m) => m.event_id === r.safety_event_id)) continue;
      if (r.event_type === 'AppealFiled') found.appeals.set(r.safety_event_id, { id: r.appeal_id, status: 'open', note: null, filedAt: new Date(r.occurred_at).toISOString(), resolvedAt: null });
    }
    for (const r of appealRows) {
      const filed = [...found.appeals.values()].find((a) => a.id === r.appeal_id);
      if (r.event_type === 'AppealResolved' && filed) Object.assign(filed, { status: r.outcome, note: notes.get(r.appeal_id) ?? null, resolvedAt: new Date(r.occurred_at).toISOString() });
    }
    return found;
  });
}

function decision(r: Record<string, any> | undefined): Decision | null {
  if (!r) return null;
  const blocked = (r.categories as { category: string; blocked: boolean }[]).find((c) => c.blocked);
  return { eventId: r.event_id, stage: r.stage, verdict: r.verdict, category: blocked?.category ?? null, policyVersion: r.policy_version };
}

// The decision a message shows: a user message its input check; an answer its output check, unless
// its question was blocked (then the refusal's reason is the input check).
async function decisionFor(m: MessageLike, ctx: GraphQLContext): Promise<{ decision: Decision | null; found: Found | null }> {
  if (!m.generationId) return { decision: null, found: null };
  const found = await loaderOf(ctx).load(m.generationId);
  if (m.role === 'user') return { decision: found.input, found };
  const decision = found.input?.verdict === 'blocked' ? found.input : found.output ?? found.input;
  return { decision, found };
}

export const messageSafetyResolvers = {
  Message: {
    safetyEventId: async (m: MessageLike, _: unknown, ctx: GraphQLContext) => (await decisionFor(m, ctx)).decision?.eventId ?? null,
    safetyCategory: async (m: MessageLike, _: unknown, ctx: GraphQLContext) => (await decisionFor(m, ctx)).decision?.category ?? null,
    policyVersion: async (m: MessageLike, _: unknown, ctx: GraphQLContext) => (await decisionFor(m, ctx)).decision?.policyVersion ?? null,
    appeal: async (m: MessageLike, _: unknown, ctx: GraphQLContext) => {
      const { decision, found } = await decisionFor(m, ctx);
      return (decision && found?.appeals.get(decision.eventId)) ?? null;
    },
  },
};
