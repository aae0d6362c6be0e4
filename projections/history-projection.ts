import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';
import type { ApplyContext, Projection, TableNames } from './projection.ts';
import { sealerFor } from './sealed-text.ts';

type T = 'history_conversations' | 'history_messages';

// Conversations and their messages as frontends read them. An assistant message is a
// generation (id = generation id), its text assembled from TokensGenerated chunks.
// Titles, system prompts, message text and feedback comments are sealed with the conversation's
// data key when the store encrypts (`kid` names it; see sealed-text.ts), opened by the read side.
export const historyProjection: Projection<T> = {
  name: 'history',
  version: 2, // 2: personal text sealed (kid), no full-text index over it
  tables: ['history_conversations', 'history_messages'],
  types: [
    'ConversationStarted', 'ConversationRenamed', 'ConversationDeleted', 'MessageSubmitted', 'SafetyChecked',
    'GenerationRequested', 'TokensGenerated', 'GenerationCompleted', 'GenerationFailed', 'GenerationCancelled',
    'FeedbackGiven', 'UserDataErased', 'ConversationErased',
  ],

  async createTables(knex, n) {
    await knex.raw(`
      create table if not exists ${n.history_conversations} (
        id text primary key,
        owner_id text not null,
        tenant_id text not null,
        title text not null,
        system_prompt text,
        kid text,
        model text not null,
        message_count int not null default 0,
        deleted boolean not null default false,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        seq bigint not null
      );
      create index if not exists ${n.history_conversations}_owner on ${n.history_conversations} (owner_id, updated_at desc, id desc);
      create table if not exists ${n.history_messages} (
        id text primary key,
        conversation_id text not null,
        owner_id text not null,
        role text not null,
        content text not null default '',
        status text not null,
        parent_id text,
        reply_to text,
        generation_id text,
        sibling_of text,
        attempt int not null default 0,
        token_count int not null default 0,
        safety_verdict text,
        safety_categories jsonb,
        finish_reason text,
        error text,
        prompt_tokens int,
        completion_tokens int,
        ttft_ms double precision,
        tpot_ms double precision,
        feedback_rating text,
        feedback_comment text,
        kid text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        seq bigint not null
      );
      create index if not exists ${n.history_messages}_conv on ${n.history_messages} (conversation_id, seq);
      create index if not exists ${n.history_messages}_owner on ${n.history_messages} (owner_id);
    `);
  },

  async apply(trx, events, n, context) {
    for (const e of events) await applyOne(trx, e, n, context);
  },
};

async function applyOne(trx: Knex.Transaction, e: RecordedEvent, n: TableNames<T>, context?: ApplyContext): Promise<void> {
  const at = e.metadata.occurredAt;
  const seq = Number(e.position.split('/')[1]);
  const C = n.history_conversations;
  const M = n.history_messages;
  switch (e.type) {
    case 'ConversationStarted': {
      const d = e.data;
      const s = await sealerFor(context, e);
      await trx(C).insert({
        id: d.conversationId, owner_id: d.ownerId, tenant_id: d.tenantId, title: s.text('history_conversations.title', d.conversationId, d.title),
        system_prompt: s.nullable('history_conversations.system_prompt', d.conversationId, d.systemPrompt), kid: s.kid,
        model: d.model, created_at: at, updated_at: at, seq,
      }).onConflict('id').ignore();
      return;
    }
    case 'ConversationRenamed': {
      const s = await sealerFor(context, e);
      const id = e.data.conversationId;
      await trx(C).where({ id }).update({ title: s.text('history_conversations.title', id, e.data.title), ...(s.kid ? { kid: s.kid } : {}), updated_at: at });
      return;
    }
    case 'ConversationDeleted':
      await trx(C).where({ id: e.data.conversationId }).update({ deleted: true, updated_at: at });
      return;
    case 'MessageSubmitted': {
      const d = e.data;
      const conv = await trx(C).where({ id: d.conversationId }).first('owner_id');
      if (!conv) return;
      const s = await sealerFor(context, e);
      await trx(M).insert({
        id: d.messageId, conversation_id: d.conversationId, owner_id: conv.owner_id, role: 'user',
        content: s.text('history_messages.content', d.messageId, d.content), kid: s.kid,
        status: 'pending', parent_id: d.parentMessageId, generation_id: d.generationId, created_at: at, updated_at: at, seq,
      }).onConflict('id').ignore();
      await trx(C).where({ id: d.conversationId }).update({ message_count: trx.raw('message_count + 1'), updated_at: at });
      return;
    }
    case 'SafetyChecked': {
      const d = e.data;
      const id = d.stage === 'input' ? d.messageId : d.generationId;
      if (!id) return;
      const patch: Record<string, unknown> = { safety_verdict: d.verdict, safety_categories: JSON.stringify(d.categories), updated_at: at };
      if (d.stage === 'input') patch.status = d.verdict === 'blocked' ? 'blocked' : 'completed';
      await trx(M).where({ id }).update(patch);
      return;
    }
    case 'GenerationRequested': {
      const d = e.data;
      await trx(M).insert({
        id: d.generationId, conversation_id: d.conversationId, owner_id: d.ownerId, role: 'assistant', status: 'streaming',
        reply_to: d.messageId, generation_id: d.generationId, sibling_of: d.siblingOf, prompt_tokens: d.context.promptTokens,
        created_at: at, updated_at: at, seq,
      }).onConflict('id').ignore();
      await trx(C).where({ id: d.conversationId }).update({ message_count: trx.raw('message_count + 1'), updated_at: at });
      return;
    }
    case 'TokensGenerated': {
      const d = e.data;
      const s = await sealerFor(context, e);
      const chunk = s.text('history_messages.content', d.generationId, d.text);
      // A retry attempt restarts the text; within an attempt chunks are contiguous.
      await trx(M).where({ id: d.generationId }).update({
        content: trx.raw(`case when attempt < ? then ? else content || ${s.appendSql} end`, [d.attempt, chunk, chunk]),
        ...(s.kid ? { kid: s.kid } : {}),
        token_count: trx.raw('case when attempt < ? then ? else token_count + ? end', [d.attempt, d.tokenIds.length, d.tokenIds.length]),
        attempt: trx.raw('greatest(attempt, ?)', [d.attempt]),
        updated_at: at,
      });
      return;
    }
    case 'GenerationCompleted': {
      const d = e.data;
      await trx(M).where({ id: d.generationId }).update({
        status: d.finishReason === 'content_filter' ? 'blocked' : 'completed', finish_reason: d.finishReason,
        prompt_tokens: d.usage.promptTokens, completion_tokens: d.usage.completionTokens, ttft_ms: d.ttftMs, tpot_ms: d.tpotMs, updated_at: at,
      });
      return;
    }
    case 'GenerationFailed':
      await trx(M).where({ id: e.data.generationId }).update({ status: 'failed', error: e.data.reason, updated_at: at });
      return;
    case 'GenerationCancelled':
      await trx(M).where({ id: e.data.generationId }).update({
        status: 'cancelled', finish_reason: 'cancelled', completion_tokens: e.data.usage?.completionTokens ?? null, updated_at: at,
      });
      return;
    case 'FeedbackGiven': {
      // The latest feedback replaces the earlier one.
      const s = await sealerFor(context, e);
      const id = e.data.generationId;
      await trx(M).where({ id }).update({
        feedback_rating: e.data.rating, feedback_comment: s.nullable('history_messages.feedback_comment', id, e.data.comment),
        ...(s.kid ? { kid: s.kid } : {}), updated_at: at,
      });
      return;
    }
    case 'UserDataErased': {
      // A user is (tenant, user): the same user id in another tenant keeps its history.
      const theirs = trx(C).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).select('id');
      await trx(M).whereIn('conversation_id', theirs).delete();
      await trx(C).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
      return;
    }
    case 'ConversationErased':
      await trx(M).where({ conversation_id: e.data.conversationId }).delete();
      await trx(C).where({ id: e.data.conversationId }).delete();
      return;
    default:
      return;
  }
}
