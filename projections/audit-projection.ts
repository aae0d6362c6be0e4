import type { RecordedEvent } from '../eventstore/port.ts';
import type { Projection } from './projection.ts';

type T = 'audit_log' | 'audit_conversations';

// One row per safety decision and per moderation-relevant event, for compliance.
// Holds ids, verdicts, scores and a content hash, never the content itself.
export const auditProjection: Projection<T> = {
  name: 'audit',
  tables: ['audit_log', 'audit_conversations'],
  types: ['ConversationStarted', 'SafetyChecked', 'AppealFiled', 'AppealResolved', 'ConversationDeleted', 'UserDataErased', 'ConversationErased'],

  async createTables(knex, n) {
    await knex.raw(`
      -- who owns a conversation: safety decisions are attributed to the user, not the checker
      create table if not exists ${n.audit_conversations} (id text primary key, owner_id text not null, tenant_id text not null);
      create table if not exists ${n.audit_log} (
        event_id uuid primary key,
        position text not null,
        seq bigint not null,
        event_type text not null,
        user_id text not null,
        tenant_id text not null,
        actor_id text not null,
        stage text,
        verdict text,
        categories jsonb not null default '[]',
        flagged_categories text[] not null default '{}',
        policy_version text,
        degraded boolean,
        correlation_id text not null,
        conversation_id text,
        generation_id text,
        appeal_id text,
        safety_event_id uuid,
        outcome text,
        content_hash text,
        occurred_at timestamptz not null
      );
      create index if not exists ${n.audit_log}_time on ${n.audit_log} (occurred_at desc, seq desc);
      create index if not exists ${n.audit_log}_user on ${n.audit_log} (user_id, occurred_at desc);
      create index if not exists ${n.audit_log}_tenant on ${n.audit_log} (tenant_id, occurred_at desc);
    `);
  },

  async apply(trx, events, n) {
    for (const e of events) {
      if (e.type === 'ConversationStarted') {
        await trx(n.audit_conversations).insert({ id: e.data.conversationId, owner_id: e.data.ownerId, tenant_id: e.data.tenantId }).onConflict('id').ignore();
        continue;
      }
      const row = auditRow(e);
      if (!row) continue;
      if (e.type === 'SafetyChecked') {
        const owner = await trx(n.audit_conversations).where({ id: e.data.conversationId }).first();
        if (owner) Object.assign(row, { user_id: owner.owner_id, tenant_id: owner.tenant_id });
      }
      if (e.type === 'AppealResolved') {
        // Filed under the appellant; actor_id keeps who resolved it.
        const filed = await trx(n.audit_log).where({ appeal_id: e.data.appealId, event_type: 'AppealFiled' }).first();
        if (filed) Object.assign(row, { user_id: filed.user_id, tenant_id: filed.tenant_id, safety_event_id: filed.safety_event_id });
      }
      await trx(n.audit_log).insert(row).onConflict('event_id').ignore();
    }
  },
};

function auditRow(e: RecordedEvent): Record<string, unknown> | null {
  const m = e.metadata;
  const base = {
    event_id: m.eventId, position: e.position, seq: Number(e.position.split('/')[1]), event_type: e.type,
    user_id: m.actor.userId, tenant_id: m.actor.tenantId, actor_id: m.actor.userId, correlation_id: m.correlationId,
    occurred_at: m.occurredAt,
  };
  switch (e.type) {
    case 'SafetyChecked': {
      const d = e.data;
      return {
        ...base, stage: d.stage, verdict: d.verdict, categories: JSON.stringify(d.categories),
        flagged_categories: d.categories.filter((c) => c.severity !== 'NEGLIGIBLE').map((c) => c.category),
        policy_version: d.policyVersion, degraded: d.degraded, conversation_id: d.conversationId,
        generation_id: d.generationId, content_hash: d.contentHash,
      };
    }
    case 'AppealFiled':
      return { ...base, user_id: e.data.userId, tenant_id: e.data.tenantId, appeal_id: e.data.appealId, safety_event_id: e.data.safetyEventId };
    case 'AppealResolved':
      return { ...base, appeal_id: e.data.appealId, outcome: e.data.outcome };
    case 'ConversationDeleted':
      return { ...base, conversation_id: e.data.conversationId };
    case 'UserDataErased':
      return { ...base, user_id: e.data.userId, tenant_id: e.data.tenantId, outcome: e.data.reason };
    case 'ConversationErased':
      return { ...base, user_id: e.data.ownerId, tenant_id: e.data.tenantId, conversation_id: e.data.conversationId, outcome: e.data.reason };
    default:
      return null;
  }
}
