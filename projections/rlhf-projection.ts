import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';
import { SEALED_CHUNK_SEPARATOR } from '../eventstore/crypto/read-model-cipher.ts';
import { insertIgnoring, rowsWhereIn } from './batch-sql.ts';
import type { ApplyContext, Projection, TableNames } from './projection.ts';
import { applyCutAtErasures, RowPatches } from './row-patches.ts';
import { sealerFor } from './sealed-text.ts';

type T = 'rlhf_conversations' | 'rlhf_messages' | 'rlhf_generations' | 'rlhf_tool_calls';

// What the RLHF exports need: each generation's context (which turns it saw), its final text,
// and its latest rating. Pairs and samples are composed at export time (rlhf-export.ts).
// Personal text is sealed with the conversation's data key when the store encrypts (sealed-text.ts).
// Tool turns: a generation's server-side tool calls (rlhf_tool_calls) and the continuation that
// followed them (`continues`), so an export writes the calls and results as the formats expect.
export const rlhfProjection: Projection<T> = {
  name: 'rlhf',
  version: 3, // 2: personal text sealed (kid); 3: tool turns
  tables: ['rlhf_conversations', 'rlhf_messages', 'rlhf_generations', 'rlhf_tool_calls'],
  types: [
    'ConversationStarted', 'MessageSubmitted', 'GenerationRequested', 'TokensGenerated', 'GenerationCompleted',
    'GenerationFailed', 'GenerationCancelled', 'FeedbackGiven', 'ConversationDeleted', 'UserDataErased', 'ConversationErased',
    'ToolCallRequested', 'ToolCallCompleted', 'ToolCallFailed',
  ],

  async createTables(knex, n) {
    await knex.raw(`
      create table if not exists ${n.rlhf_conversations} (
        id text primary key, owner_id text not null, tenant_id text not null, system_prompt text, deleted boolean not null default false,
        kid text
      );
      create table if not exists ${n.rlhf_messages} (
        id text primary key, conversation_id text not null, owner_id text not null, content text not null, seq bigint not null, kid text
      );
      create table if not exists ${n.rlhf_generations} (
        id text primary key,
        conversation_id text not null,
        message_id text not null,
        owner_id text not null,
        included_message_ids jsonb not null,
        sibling_of text,
        continues text,
        text text not null default '',
        attempt int not null default 0,
        status text not null,
        rating text,
        comment text,
        kid text,
        seq bigint not null,
        completed_seq bigint
      );
      create index if not exists ${n.rlhf_generations}_msg on ${n.rlhf_generations} (message_id, seq);
      create table if not exists ${n.rlhf_tool_calls} (
        id text primary key, generation_id text not null, conversation_id text not null, owner_id text not null, tenant_id text not null,
        idx int not null, name text not null, arguments text not null, status text not null, result text, error_code text, error text,
        kid text, seq bigint not null
      );
      create index if not exists ${n.rlhf_tool_calls}_gen on ${n.rlhf_tool_calls} (generation_id, idx);
    `);
  },

  // A batch costs a handful of statements, not one or two per event: rows created, then every change
  // folded per row and written with one statement per table (row-patches.ts). Erasures cut the
  // batch: what came before is written, then the rows are deleted, as one by one.
  async apply(trx, events, n, context) {
    await applyCutAtErasures(events, (segment) => applySegment(trx, segment, n, context), (e) => erase(trx, e, n));
  },
};

async function applySegment(trx: Knex.Transaction, events: RecordedEvent[], n: TableNames<T>, context?: ApplyContext): Promise<void> {
  if (events.length === 0) return;
  const conversations: Record<string, unknown>[] = [];
  const messages: Record<string, unknown>[] = [];
  const generations: Record<string, unknown>[] = [];
  const deleted = new RowPatches({ deleted: 'boolean' });
  const changed = new RowPatches({ status: 'text', completed_seq: 'bigint', rating: 'text', comment: 'text', kid: 'text' }, { text: 'text', attempt: 'attempt' });
  const calls: Record<string, unknown>[] = [];
  const ended = new RowPatches({ status: 'text', result: 'text', error_code: 'text', error: 'text', kid: 'text' });
  // A message needs its conversation (started before it, in this batch or earlier): owners read once.
  const owners = new Map((await rowsWhereIn<{ id: string; owner_id: string }>(trx, n.rlhf_conversations, 'id',
    events.flatMap((e) => (e.type === 'MessageSubmitted' ? [e.data.conversationId] : [])), ['id', 'owner_id'])).map((c) => [c.id, c.owner_id]));
  for (const e of events) {
    const seq = Number(e.position.split('/')[1]);
    switch (e.type) {
      case 'ConversationStarted': {
        const s = await sealerFor(context, e);
        const id = e.data.conversationId;
        if (!owners.has(id)) owners.set(id, e.data.ownerId); // a row already there is kept
        conversations.push({
          id, owner_id: e.data.ownerId, tenant_id: e.data.tenantId, system_prompt: s.nullable('rlhf_conversations.system_prompt', id, e.data.systemPrompt), kid: s.kid,
        });
        break;
      }
      case 'ConversationDeleted':
        deleted.set(e.data.conversationId, { deleted: true });
        break;
      case 'MessageSubmitted': {
        const owner = owners.get(e.data.conversationId);
        if (!owner) break;
        const s = await sealerFor(context, e);
        const id = e.data.messageId;
        messages.push({ id, conversation_id: e.data.conversationId, owner_id: owner, content: s.text('rlhf_messages.content', id, e.data.content), seq, kid: s.kid });
        break;
      }
      case 'GenerationRequested':
        // A rolling summary's generation is not an answer to rate.
        if (e.data.summarizes) break;
        generations.push({
          id: e.data.generationId, conversation_id: e.data.conversationId, message_id: e.data.messageId, owner_id: e.data.ownerId,
          included_message_ids: JSON.stringify(e.data.context.includedMessageIds), sibling_of: e.data.siblingOf,
          continues: e.data.continues?.generationId ?? null, status: 'streaming', seq,
        });
        break;
      case 'TokensGenerated': {
        const s = await sealerFor(context, e);
        const id = e.data.generationId;
        changed.chunk(id, e.data.attempt, s.text('rlhf_generations.text', id, e.data.text), 0, s.kid ? SEALED_CHUNK_SEPARATOR : '');
        if (s.kid) changed.set(id, { kid: s.kid });
        break;
      }
      case 'GenerationCompleted':
        changed.set(e.data.generationId, { status: e.data.finishReason === 'content_filter' ? 'blocked' : 'completed', completed_seq: seq });
        break;
      case 'GenerationFailed':
      case 'GenerationCancelled':
        changed.set(e.data.generationId, { status: e.type === 'GenerationFailed' ? 'failed' : 'cancelled' });
        break;
      case 'FeedbackGiven': {
        const s = await sealerFor(context, e);
        const id = e.data.generationId;
        changed.set(id, { rating: e.data.rating, comment: s.nullable('rlhf_generations.comment', id, e.data.comment), ...(s.kid ? { kid: s.kid } : {}) });
        break;
      }
      case 'ToolCallRequested': {
        const d = e.data;
        const s = await sealerFor(context, e);
        calls.push({
          id: d.toolCallId, generation_id: d.generationId, conversation_id: d.conversationId, owner_id: d.ownerId, tenant_id: d.tenantId,
          idx: d.index, name: d.name, arguments: s.text('rlhf_tool_calls.arguments', d.toolCallId, d.arguments), status: 'requested', kid: s.kid, seq,
        });
        break;
      }
      case 'ToolCallCompleted':
      case 'ToolCallFailed': {
        const d = e.data;
        const s = await sealerFor(context, e);
        ended.set(d.toolCallId, e.type === 'ToolCallCompleted'
          ? { status: 'completed', result: s.text('rlhf_tool_calls.result', d.toolCallId, e.data.result), ...(s.kid ? { kid: s.kid } : {}) }
          : { status: 'failed', error_code: e.data.code, error: s.text('rlhf_tool_calls.error', d.toolCallId, e.data.message), ...(s.kid ? { kid: s.kid } : {}) });
        break;
      }
      default:
        break;
    }
  }
  await insertIgnoring(trx, n.rlhf_conversations, conversations, 'id');
  await insertIgnoring(trx, n.rlhf_messages, messages, 'id');
  await insertIgnoring(trx, n.rlhf_generations, generations, 'id');
  await insertIgnoring(trx, n.rlhf_tool_calls, calls, 'id');
  await deleted.write(trx, n.rlhf_conversations);
  await changed.write(trx, n.rlhf_generations);
  await ended.write(trx, n.rlhf_tool_calls);
}

async function erase(trx: Knex.Transaction, e: RecordedEvent, n: TableNames<T>): Promise<void> {
  if (e.type === 'ConversationErased') {
    await trx(n.rlhf_tool_calls).where({ conversation_id: e.data.conversationId }).delete();
    await trx(n.rlhf_generations).where({ conversation_id: e.data.conversationId }).delete();
    await trx(n.rlhf_messages).where({ conversation_id: e.data.conversationId }).delete();
    await trx(n.rlhf_conversations).where({ id: e.data.conversationId }).delete();
  } else if (e.type === 'UserDataErased') {
    // A user is (tenant, user): the same user id in another tenant keeps its data.
    const theirs = trx(n.rlhf_conversations).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).select('id');
    await trx(n.rlhf_tool_calls).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
    await trx(n.rlhf_generations).whereIn('conversation_id', theirs).delete();
    await trx(n.rlhf_messages).whereIn('conversation_id', theirs).delete();
    await trx(n.rlhf_conversations).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
  }
}
