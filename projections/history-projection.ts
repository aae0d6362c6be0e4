import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';
import { SEALED_CHUNK_SEPARATOR } from '../eventstore/crypto/read-model-cipher.ts';
import { insertIgnoring, rowsWhereIn } from './batch-sql.ts';
import type { ApplyContext, Projection, TableNames } from './projection.ts';
import { applyCutAtErasures, RowPatches } from './row-patches.ts';
import { sealerFor } from './sealed-text.ts';

type T = 'history_conversations' | 'history_messages' | 'history_tool_calls';

// Conversations and their messages as frontends read them. An assistant message is a
// generation (id = generation id), its text assembled from TokensGenerated chunks.
// Titles, system prompts, message text and feedback comments are sealed with the conversation's
// data key when the store encrypts (`kid` names it; see sealed-text.ts), opened by the read side.
// Server-side tool calls are rows of their own (history_tool_calls, by the generation that made
// them), their arguments, results and failure messages sealed the same way; a continuation after a
// tool round is an assistant message whose `continues` names the generation before it.
export const historyProjection: Projection<T> = {
  name: 'history',
  version: 3, // 2: personal text sealed (kid), no full-text index over it; 3: tool calls
  tables: ['history_conversations', 'history_messages', 'history_tool_calls'],
  types: [
    'ConversationStarted', 'ConversationRenamed', 'ConversationDeleted', 'MessageSubmitted', 'SafetyChecked',
    'GenerationRequested', 'TokensGenerated', 'GenerationCompleted', 'GenerationFailed', 'GenerationCancelled',
    'FeedbackGiven', 'UserDataErased', 'ConversationErased', 'ToolCallRequested', 'ToolCallCompleted', 'ToolCallFailed',
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
        continues text,
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
      create table if not exists ${n.history_tool_calls} (
        id text primary key,
        generation_id text not null,
        conversation_id text not null,
        owner_id text not null,
        tenant_id text not null,
        round int not null,
        idx int not null,
        name text not null,
        arguments text not null,
        status text not null,
        result text,
        truncated boolean,
        error_code text,
        error text,
        latency_ms double precision,
        kid text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        seq bigint not null
      );
      create index if not exists ${n.history_tool_calls}_generation on ${n.history_tool_calls} (generation_id, idx);
      create index if not exists ${n.history_tool_calls}_conversation on ${n.history_tool_calls} (conversation_id);
    `);
  },

  // A batch costs a handful of statements, not one or two per event: rows created (conversations,
  // then messages), then every change to existing rows folded per row and written with one
  // statement per table (row-patches.ts). Erasures cut the batch: what came before is written, then
  // the rows are deleted, as applying the events one by one would.
  async apply(trx, events, n, context) {
    await applyCutAtErasures(events, (segment) => applySegment(trx, segment, n, context), (e) => erase(trx, e, n));
  },
};

const CONVERSATION_COLUMNS = { title: 'text', kid: 'text', deleted: 'boolean', updated_at: 'timestamptz' };
const MESSAGE_COLUMNS = {
  kid: 'text', status: 'text', safety_verdict: 'text', safety_categories: 'jsonb', finish_reason: 'text', error: 'text',
  prompt_tokens: 'int', completion_tokens: 'int', ttft_ms: 'double precision', tpot_ms: 'double precision',
  feedback_rating: 'text', feedback_comment: 'text', updated_at: 'timestamptz',
};
const TOOL_CALL_COLUMNS = {
  status: 'text', result: 'text', truncated: 'boolean', error_code: 'text', error: 'text', latency_ms: 'double precision', kid: 'text', updated_at: 'timestamptz',
};

async function applySegment(trx: Knex.Transaction, events: RecordedEvent[], n: TableNames<T>, context?: ApplyContext): Promise<void> {
  if (events.length === 0) return;
  const C = n.history_conversations;
  const M = n.history_messages;
  const started: Record<string, unknown>[] = [];
  const created: Record<string, unknown>[] = []; // messages
  // A user message needs its conversation (started before it, in this batch or earlier) and takes
  // its owner from there: the owners of the conversations the batch writes to, read once.
  const owners = new Map((await rowsWhereIn<{ id: string; owner_id: string }>(trx, C, 'id',
    events.flatMap((e) => (e.type === 'MessageSubmitted' ? [e.data.conversationId] : [])), ['id', 'owner_id'])).map((c) => [c.id, c.owner_id]));
  const conversations = new RowPatches(CONVERSATION_COLUMNS);
  const messages = new RowPatches(MESSAGE_COLUMNS, { text: 'content', count: 'token_count', attempt: 'attempt' });
  const calls: Record<string, unknown>[] = [];
  const callPatches = new RowPatches(TOOL_CALL_COLUMNS);
  for (const e of events) {
    const at = e.metadata.occurredAt;
    const seq = Number(e.position.split('/')[1]);
    switch (e.type) {
      case 'ConversationStarted': {
        const d = e.data;
        const s = await sealerFor(context, e);
        if (!owners.has(d.conversationId)) owners.set(d.conversationId, d.ownerId); // a row already there is kept
        started.push({
          id: d.conversationId, owner_id: d.ownerId, tenant_id: d.tenantId, title: s.text('history_conversations.title', d.conversationId, d.title),
          system_prompt: s.nullable('history_conversations.system_prompt', d.conversationId, d.systemPrompt), kid: s.kid,
          model: d.model, created_at: at, updated_at: at, seq,
        });
        break;
      }
      case 'ConversationRenamed': {
        const s = await sealerFor(context, e);
        const id = e.data.conversationId;
        conversations.set(id, { title: s.text('history_conversations.title', id, e.data.title), ...(s.kid ? { kid: s.kid } : {}), updated_at: at });
        break;
      }
      case 'ConversationDeleted':
        conversations.set(e.data.conversationId, { deleted: true, updated_at: at });
        break;
      case 'MessageSubmitted': {
        const d = e.data;
        const owner = owners.get(d.conversationId);
        if (!owner) break;
        const s = await sealerFor(context, e);
        created.push({
          id: d.messageId, conversation_id: d.conversationId, owner_id: owner, role: 'user',
          content: s.text('history_messages.content', d.messageId, d.content), kid: s.kid,
          status: 'pending', parent_id: d.parentMessageId, generation_id: d.generationId, created_at: at, updated_at: at, seq,
        });
        conversations.add(d.conversationId, 'message_count', 1);
        conversations.set(d.conversationId, { updated_at: at });
        break;
      }
      case 'SafetyChecked': {
        const d = e.data;
        const id = d.stage === 'input' ? d.messageId : d.generationId;
        if (!id) break;
        messages.set(id, {
          safety_verdict: d.verdict, safety_categories: d.categories, updated_at: at,
          ...(d.stage === 'input' ? { status: d.verdict === 'blocked' ? 'blocked' : 'completed' } : {}),
        });
        break;
      }
      case 'GenerationRequested': {
        const d = e.data;
        // A rolling summary's generation is not an answer (its later events update no row).
        if (d.summarizes) break;
        created.push({
          id: d.generationId, conversation_id: d.conversationId, owner_id: d.ownerId, role: 'assistant', status: 'streaming',
          reply_to: d.messageId, generation_id: d.generationId, sibling_of: d.siblingOf, continues: d.continues?.generationId ?? null, prompt_tokens: d.context.promptTokens,
          created_at: at, updated_at: at, seq,
        });
        conversations.add(d.conversationId, 'message_count', 1);
        conversations.set(d.conversationId, { updated_at: at });
        break;
      }
      case 'TokensGenerated': {
        const d = e.data;
        const s = await sealerFor(context, e);
        // A retry attempt restarts the text; within an attempt chunks are contiguous.
        messages.chunk(d.generationId, d.attempt, s.text('history_messages.content', d.generationId, d.text), d.tokenCount, s.kid ? SEALED_CHUNK_SEPARATOR : '');
        messages.set(d.generationId, { ...(s.kid ? { kid: s.kid } : {}), updated_at: at });
        break;
      }
      case 'GenerationCompleted': {
        const d = e.data;
        messages.set(d.generationId, {
          status: d.finishReason === 'content_filter' ? 'blocked' : 'completed', finish_reason: d.finishReason,
          prompt_tokens: d.usage.promptTokens, completion_tokens: d.usage.completionTokens, ttft_ms: d.ttftMs, tpot_ms: d.tpotMs, updated_at: at,
        });
        break;
      }
      case 'GenerationFailed':
        messages.set(e.data.generationId, { status: 'failed', error: e.data.reason, updated_at: at });
        break;
      case 'GenerationCancelled':
        messages.set(e.data.generationId, { status: 'cancelled', finish_reason: 'cancelled', completion_tokens: e.data.usage?.completionTokens ?? null, updated_at: at });
        break;
      case 'FeedbackGiven': {
        // The latest feedback replaces the earlier one.
        const s = await sealerFor(context, e);
        const id = e.data.generationId;
        messages.set(id, {
          feedback_rating: e.data.rating, feedback_comment: s.nullable('history_messages.feedback_comment', id, e.data.comment),
          ...(s.kid ? { kid: s.kid } : {}), updated_at: at,
        });
        break;
      }
      case 'ToolCallRequested': {
        const d = e.data;
        const s = await sealerFor(context, e);
        calls.push({
          id: d.toolCallId, generation_id: d.generationId, conversation_id: d.conversationId, owner_id: d.ownerId, tenant_id: d.tenantId,
          round: d.round, idx: d.index, name: d.name, arguments: s.text('history_tool_calls.arguments', d.toolCallId, d.arguments), kid: s.kid,
          status: 'requested', created_at: at, updated_at: at, seq,
        });
        break;
      }
      case 'ToolCallCompleted': {
        const d = e.data;
        const s = await sealerFor(context, e);
        callPatches.set(d.toolCallId, {
          status: 'completed', result: s.text('history_tool_calls.result', d.toolCallId, d.result), truncated: d.truncated, latency_ms: d.latencyMs,
          ...(s.kid ? { kid: s.kid } : {}), updated_at: at,
        });
        break;
      }
      case 'ToolCallFailed': {
        const d = e.data;
        const s = await sealerFor(context, e);
        callPatches.set(d.toolCallId, {
          status: 'failed', error_code: d.code, error: s.text('history_tool_calls.error', d.toolCallId, d.message), latency_ms: d.latencyMs,
          ...(s.kid ? { kid: s.kid } : {}), updated_at: at,
        });
        break;
      }
      default:
        break;
    }
  }
  await insertIgnoring(trx, C, started, 'id');
  await insertIgnoring(trx, M, created, 'id');
  await insertIgnoring(trx, n.history_tool_calls, calls, 'id');
  await conversations.write(trx, C);
  await messages.write(trx, M);
  await callPatches.write(trx, n.history_tool_calls);
}

async function erase(trx: Knex.Transaction, e: RecordedEvent, n: TableNames<T>): Promise<void> {
  const C = n.history_conversations;
  const M = n.history_messages;
  if (e.type === 'UserDataErased') {
    // A user is (tenant, user): the same user id in another tenant keeps its history.
    const theirs = trx(C).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).select('id');
    await trx(n.history_tool_calls).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
    await trx(M).whereIn('conversation_id', theirs).delete();
    await trx(C).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
  } else if (e.type === 'ConversationErased') {
    await trx(n.history_tool_calls).where({ conversation_id: e.data.conversationId }).delete();
    await trx(M).where({ conversation_id: e.data.conversationId }).delete();
    await trx(C).where({ id: e.data.conversationId }).delete();
  }
}
