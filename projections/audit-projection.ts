import type { RecordedEvent } from '../eventstore/port.ts';
import { insertIgnoring, rowsWhereIn } from './batch-sql.ts';
import type { Projection } from './projection.ts';

type T = 'audit_log' | 'audit_conversations';

// One row per safety decision and per moderation-relevant event, for compliance.
// Holds ids, verdicts, scores and a content hash, never the content itself. Every server-side tool
// call has its rows too (requested, then completed or failed): the tool, the user it ran for, its
// status (verdict), failure code (outcome) and latency — never its arguments or result. A generation
// whose prompt held retrieved passages (retrieval in the turn) has a row with their ids and scores
// (sources) — never their text.
export const auditProjection: Projection<T> = {
  name: 'audit',
  version: 3, // 2: tool calls (tool_name, latency_ms); 3: retrieval sources (GenerationRequested rows, sources)
  tables: ['audit_log', 'audit_conversations'],
  types: [
    'ConversationStarted', 'SafetyChecked', 'AppealFiled', 'AppealResolved', 'ConversationDeleted', 'UserDataErased', 'UserDataExported', 'ConversationErased',
    'ToolCallRequested', 'ToolCallCompleted', 'ToolCallFailed', 'GenerationRequested',
  ],

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
        tool_name text,
        latency_ms double precision,
        sources jsonb,
        occurred_at timestamptz not null
      );
      create index if not exists ${n.audit_log}_time on ${n.audit_log} (occurred_at desc, seq desc);
      create index if not exists ${n.audit_log}_user on ${n.audit_log} (user_id, occurred_at desc);
      create index if not exists ${n.audit_log}_tenant on ${n.audit_log} (tenant_id, occurred_at desc);
    `);
  },

  // One statement per table per batch: the conversations started, then one read of the owners and
  // appeals the batch refers to, then every audit row in one insert.
  async apply(trx, events, n) {
    await insertIgnoring(trx, n.audit_conversations, events.flatMap((e) =>
      e.type === 'ConversationStarted' ? [{ id: e.data.conversationId, owner_id: e.data.ownerId, tenant_id: e.data.tenantId }] : []), 'id');
    const rows = events.flatMap((e) => { const row = auditRow(e); return row ? [{ e, row }] : []; });
    // Safety decisions are attributed to the conversation's owner (started in this batch or before).
    const owners = new Map((await rowsWhereIn<{ id: string; owner_id: string; tenant_id: string }>(trx, n.audit_conversations, 'id',
      rows.flatMap(({ e }) => (e.type === 'SafetyChecked' ? [e.data.conversationId] : [])))).map((o) => [o.id, o]));
    // A resolution is filed under the appellant: from this batch's AppealFiled rows, or stored ones.
    const filed = new Map<string, Record<string, unknown>>();
    for (const { e, row } of rows) if (e.type === 'AppealFiled' && !filed.has(e.data.appealId)) filed.set(e.data.appealId, row);
    const stored = await rowsWhereIn<Record<string, unknown>>(trx, n.audit_log, 'appeal_id',
      rows.flatMap(({ e }) => (e.type === 'AppealResolved' && !filed.has(e.data.appealId) ? [e.data.appealId] : [])));
    for (const r of stored) if (r.event_type === 'AppealFiled' && !filed.has(r.appeal_id as string)) filed.set(r.appeal_id as string, r);
    for (const { e, row } of rows) {
      if (e.type === 'SafetyChecked') {
        const owner = owners.get(e.data.conversationId);
        if (owner) Object.assign(row, { user_id: owner.owner_id, tenant_id: owner.tenant_id });
      }
      if (e.type === 'AppealResolved') {
        // actor_id keeps who resolved it.
        const f = filed.get(e.data.appealId);
        if (f) Object.assign(row, { user_id: f.user_id, tenant_id: f.tenant_id, safety_event_id: f.safety_event_id });
      }
    }
    await insertIgnoring(trx, n.audit_log, rows.map(({ row }) => row), 'event_id');
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
    case 'UserDataExported':
      // user_id: whose data; actor_id: who exported it; outcome: the channel (graphql, http, cli).
      return { ...base, user_id: e.data.userId, tenant_id: e.data.tenantId, outcome: e.data.channel };
    case 'ConversationErased':
      return { ...base, user_id: e.data.ownerId, tenant_id: e.data.tenantId, conversation_id: e.data.conversationId, outcome: e.data.reason };
    case 'ToolCallRequested':
    case 'ToolCallCompleted':
    case 'ToolCallFailed': {
      // The caller is the generation's owner (the saga runs the call on their behalf: actor_id).
      const d = e.data;
      const status = e.type === 'ToolCallRequested' ? 'requested' : e.type === 'ToolCallCompleted' ? 'completed' : 'failed';
      return {
        ...base, user_id: d.ownerId, tenant_id: d.tenantId, conversation_id: d.conversationId, generation_id: d.generationId,
        tool_name: d.name, verdict: status, outcome: e.type === 'ToolCallFailed' ? e.data.code : null,
        latency_ms: e.type === 'ToolCallRequested' ? null : e.data.latencyMs,
      };
    }
    case 'GenerationRequested': {
      // Only a request that retrieved: which passages its prompt held (verdict: the search's status).
      const r = e.data.retrieval;
      if (!r) return null;
      return {
        ...base, user_id: e.data.ownerId, tenant_id: e.data.tenantId, conversation_id: e.data.conversationId, generation_id: e.data.generationId,
        verdict: r.status, outcome: r.error ?? null,
        sources: JSON.stringify(r.sources.map((x) => ({ index: x.index, documentId: x.documentId, chunkId: x.chunkId, collection: x.collection, score: x.score }))),
      };
    }
    default:
      return null;
  }
}
