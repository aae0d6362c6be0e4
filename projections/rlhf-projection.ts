import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';
import type { ApplyContext, Projection, TableNames } from './projection.ts';
import { sealerFor } from './sealed-text.ts';

type T = 'rlhf_conversations' | 'rlhf_messages' | 'rlhf_generations';

// What the RLHF exports need: each generation's context (which turns it saw), its final text,
// and its latest rating. Pairs and samples are composed at export time (rlhf-export.ts).
// Personal text is sealed with the conversation's data key when the store encrypts (sealed-text.ts).
export const rlhfProjection: Projection<T> = {
  name: 'rlhf',
  version: 2, // 2: personal text sealed (kid)
  tables: ['rlhf_conversations', 'rlhf_messages', 'rlhf_generations'],
  types: [
    'ConversationStarted', 'MessageSubmitted', 'GenerationRequested', 'TokensGenerated', 'GenerationCompleted',
    'GenerationFailed', 'GenerationCancelled', 'FeedbackGiven', 'ConversationDeleted', 'UserDataErased', 'ConversationErased',
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
    `);
  },

  async apply(trx, events, n, context) {
    for (const e of events) await applyOne(trx, e, n, context);
  },
};

async function applyOne(trx: Knex.Transaction, e: RecordedEvent, n: TableNames<T>, context?: ApplyContext) {
  const seq = Number(e.position.split('/')[1]);
  switch (e.type) {
    case 'ConversationStarted': {
      const s = await sealerFor(context, e);
      const id = e.data.conversationId;
      await trx(n.rlhf_conversations).insert({
        id, owner_id: e.data.ownerId, tenant_id: e.data.tenantId, system_prompt: s.nullable('rlhf_conversations.system_prompt', id, e.data.systemPrompt), kid: s.kid,
      }).onConflict('id').ignore();
      return;
    }
    case 'ConversationDeleted':
      await trx(n.rlhf_conversations).where({ id: e.data.conversationId }).update({ deleted: true });
      return;
    case 'MessageSubmitted': {
      const conv = await trx(n.rlhf_conversations).where({ id: e.data.conversationId }).first('owner_id');
      if (!conv) return;
      const s = await sealerFor(context, e);
      const id = e.data.messageId;
      await trx(n.rlhf_messages).insert({
        id, conversation_id: e.data.conversationId, owner_id: conv.owner_id, content: s.text('rlhf_messages.content', id, e.data.content), seq, kid: s.kid,
      }).onConflict('id').ignore();
      return;
    }
    case 'GenerationRequested':
      await trx(n.rlhf_generations).insert({
        id: e.data.generationId, conversation_id: e.data.conversationId, message_id: e.data.messageId, owner_id: e.data.ownerId,
        included_message_ids: JSON.stringify(e.data.context.includedMessageIds), sibling_of: e.data.siblingOf, status: 'streaming', seq,
      }).onConflict('id').ignore();
      return;
    case 'TokensGenerated': {
      const s = await sealerFor(context, e);
      const chunk = s.text('rlhf_generations.text', e.data.generationId, e.data.text);
      await trx(n.rlhf_generations).where({ id: e.data.generationId }).update({
        text: trx.raw(`case when attempt < ? then ? else text || ${s.appendSql} end`, [e.data.attempt, chunk, chunk]),
        attempt: trx.raw('greatest(attempt, ?)', [e.data.attempt]),
        ...(s.kid ? { kid: s.kid } : {}),
      });
      return;
    }
    case 'GenerationCompleted':
      await trx(n.rlhf_generations).where({ id: e.data.generationId }).update({
        status: e.data.finishReason === 'content_filter' ? 'blocked' : 'completed', completed_seq: seq,
      });
      return;
    case 'GenerationFailed':
    case 'GenerationCancelled':
      await trx(n.rlhf_generations).where({ id: e.data.generationId }).update({ status: e.type === 'GenerationFailed' ? 'failed' : 'cancelled' });
      return;
    case 'FeedbackGiven': {
      const s = await sealerFor(context, e);
      const id = e.data.generationId;
      await trx(n.rlhf_generations).where({ id }).update({
        rating: e.data.rating, comment: s.nullable('rlhf_generations.comment', id, e.data.comment), ...(s.kid ? { kid: s.kid } : {}),
      });
      return;
    }
    case 'ConversationErased':
      await trx(n.rlhf_generations).where({ conversation_id: e.data.conversationId }).delete();
      await trx(n.rlhf_messages).where({ conversation_id: e.data.conversationId }).delete();
      await trx(n.rlhf_conversations).where({ id: e.data.conversationId }).delete();
      return;
    case 'UserDataErased': {
      // A user is (tenant, user): the same user id in another tenant keeps its data.
      const theirs = trx(n.rlhf_conversations).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).select('id');
      await trx(n.rlhf_generations).whereIn('conversation_id', theirs).delete();
      await trx(n.rlhf_messages).whereIn('conversation_id', theirs).delete();
      await trx(n.rlhf_conversations).where({ owner_id: e.data.userId, tenant_id: e.data.tenantId }).delete();
      return;
    }
    default:
      return;
  }
}
