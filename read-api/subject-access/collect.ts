import type { Knex } from 'knex';
import type { EventStore } from '../../eventstore/port.ts';
import type { KeyStore } from '../../eventstore/crypto/key-store.ts';
import { listMemories } from '../../commands/memory.ts';
import { DOCUMENTS } from '../../knowledge/index.ts';
import { openConversations, openMessages, type ConversationRow, type MessageRow } from '../read-models.ts';

// Everything Parley holds about one user (tenant, user), decrypted, as records of one bundle:
// conversations (deleted ones too: the log still holds them), their messages and answers, feedback,
// appeals (the reason from the appeal's own stream), the safety decisions on their content, and usage.
// Read models are the source: erasure deletes the user's history rows and destroys their keys, so an
// export after erasure holds ids, verdicts and counts but no personal text.
export type ExportRecord =
  | { kind: 'conversation'; id: string; title: string; systemPrompt: string | null; model: string; deleted: boolean; messageCount: number; createdAt: string; updatedAt: string }
  | { kind: 'message' | 'answer'; id: string; conversationId: string; content: string; status: string; parentId: string | null; replyTo: string | null; siblingOf: string | null; safetyVerdict: string | null; finishReason: string | null; promptTokens: number | null; completionTokens: number | null; createdAt: string }
  | { kind: 'feedback'; generationId: string; conversationId: string; rating: string; comment: string | null }
  | { kind: 'appeal'; appealId: string; safetyEventId: string | null; reason: string | null; filedAt: string; outcome: string | null; note: string | null; resolvedAt: string | null }
  | { kind: 'safety_decision'; eventId: string; stage: string | null; verdict: string | null; categories: unknown; policyVersion: string | null; conversationId: string | null; generationId: string | null; occurredAt: string }
  | { kind: 'usage'; day: string; requests: number; promptTokens: number; completionTokens: number }
  | { kind: 'summary'; id: string; conversationId: string; messageIds: string[]; text: string; createdAt: string }
  | { kind: 'memory'; id: string; text: string; savedAt: string }
  | { kind: 'document'; id: string; collection: string; visibility: string; title: string; text: string; chunks: number; addedAt: string };

export type ExportKind = ExportRecord['kind'];
export const EXPORT_KINDS: ExportKind[] = ['conversation', 'message', 'answer', 'feedback', 'appeal', 'safety_decision', 'usage', 'summary', 'memory', 'document'];

export type ExportSources = { knex: Knex; store: EventStore; keys?: KeyStore | null };
export type Subject = { tenantId: string; userId: string };

const iso = (d: Date | string) => new Date(d).toISOString();
const PAGE = 200;

// Has Parley any trace of this user (a conversation, an audit row, usage, a document)? An unknown user is a 404.
export async function userIsKnown(knex: Knex, s: Subject): Promise<boolean> {
  const [c, a, u, d] = await Promise.all([
    knex('audit_conversations').where({ owner_id: s.userId, tenant_id: s.tenantId }).first('id'),
    knex('audit_log').where({ user_id: s.userId, tenant_id: s.tenantId }).first('event_id'),
    knex('usage_daily').where({ user_id: s.userId, tenant_id: s.tenantId }).first('day'),
    knex.schema.hasTable(DOCUMENTS).then((has) => has ? knex(DOCUMENTS).where({ owner_id: s.userId, tenant_id: s.tenantId }).first('id') : null),
  ]);
  return Boolean(c || a || u || d);
}

export async function* collectUserData(src: ExportSources, s: Subject): AsyncGenerator<ExportRecord> {
  yield* conversationsAndMessages(src, s);
  yield* appeals(src, s);
  yield* safetyDecisions(src.knex, s);
  yield* usage(src.knex, s);
  yield* memories(src, s);
  yield* documents(src, s);
}

// The facts the user asked Parley to remember, from their memory stream (decrypted; an erased
// user's, or a forgotten one, is not listed).
async function* memories(src: ExportSources, s: Subject): AsyncGenerator<ExportRecord> {
  for (const m of await listMemories(src.store, s.tenantId, s.userId)) yield { kind: 'memory', id: m.memoryId, text: m.text, savedAt: m.savedAt };
}

// The documents the user added that are still held (private and shared): the read model says which,
// the document's own stream holds the text (sealed with its key: removed or erased ones are gone).
async function* documents(src: ExportSources, s: Subject): AsyncGenerator<ExportRecord> {
  if (!(await src.knex.schema.hasTable(DOCUMENTS))) return;
  const rows = await src.knex(DOCUMENTS).where({ owner_id: s.userId, tenant_id: s.tenantId }).orderBy([{ column: 'added_at' }, { column: 'id' }]);
  for (const r of rows) {
    const added = (await src.store.readStream(`document-${r.id}`)).find((e) => e.type === 'DocumentAdded');
    yield {
      kind: 'document', id: r.id, collection: r.collection, visibility: r.visibility, title: r.title,
      text: added?.type === 'DocumentAdded' ? added.data.text : '', chunks: r.chunks, addedAt: iso(r.added_at),
    };
  }
}

// Page by page (conversations by id), so a long history is streamed, not held in memory.
async function* conversationsAndMessages(src: ExportSources, s: Subject): AsyncGenerator<ExportRecord> {
  let after = '';
  for (;;) {
    const page: ConversationRow[] = await openConversations(src.keys, await src.knex('history_conversations')
      .where({ owner_id: s.userId, tenant_id: s.tenantId }).where('id', '>', after).orderBy('id').limit(PAGE));
    if (page.length === 0) return;
    after = page.at(-1)!.id;
    const messages: MessageRow[] = await openMessages(src.keys, await src.knex('history_messages')
      .whereIn('conversation_id', page.map((c) => c.id)).orderBy([{ column: 'conversation_id' }, { column: 'seq' }]));
    // Rolling summaries are in no read model: read from the conversations' streams (decrypted).
    const streams = await src.store.readStreams(page.map((c) => `conversation-${c.id}`));
    for (const c of page) {
      yield {
        kind: 'conversation', id: c.id, title: c.title, systemPrompt: c.system_prompt, model: c.model, deleted: c.deleted,
        messageCount: c.message_count, createdAt: iso(c.created_at), updatedAt: iso(c.updated_at),
      };
      for (const m of messages.filter((r) => r.conversation_id === c.id)) {
        yield {
          kind: m.role === 'user' ? 'message' : 'answer', id: m.id, conversationId: m.conversation_id, content: m.content, status: m.status,
          parentId: m.parent_id, replyTo: m.reply_to, siblingOf: m.sibling_of, safetyVerdict: m.safety_verdict, finishReason: m.finish_reason,
          promptTokens: m.prompt_tokens, completionTokens: m.completion_tokens, createdAt: iso(m.created_at),
        };
        if (m.feedback_rating) yield { kind: 'feedback', generationId: m.id, conversationId: m.conversation_id, rating: m.feedback_rating, comment: m.feedback_comment };
      }
      for (const e of streams.get(`conversation-${c.id}`) ?? []) {
        if (e.type !== 'ConversationSummarized') continue;
        yield { kind: 'summary', id: e.data.summaryId, conversationId: c.id, messageIds: e.data.messageIds, text: e.data.text, createdAt: iso(e.metadata.occurredAt) };
      }
    }
  }
}

// Appeals are in the audit log by appellant; the reason is personal text kept only in the appeal's
// stream (encrypted under the user's key: "[erased]" once they are erased).
async function* appeals(src: ExportSources, s: Subject): AsyncGenerator<ExportRecord> {
  const rows = await src.knex('audit_log').where({ user_id: s.userId, tenant_id: s.tenantId }).whereIn('event_type', ['AppealFiled', 'AppealResolved'])
    .orderBy([{ column: 'occurred_at' }, { column: 'seq' }]);
  for (const filed of rows.filter((r) => r.event_type === 'AppealFiled')) {
    const resolved = rows.find((r) => r.event_type === 'AppealResolved' && r.appeal_id === filed.appeal_id);
    const stream = await src.store.readStream(`appeal-${filed.appeal_id}`);
    const reason = stream.find((e) => e.type === 'AppealFiled');
    const resolution = stream.find((e) => e.type === 'AppealResolved');
    yield {
      kind: 'appeal', appealId: filed.appeal_id, safetyEventId: filed.safety_event_id,
      reason: reason?.type === 'AppealFiled' ? reason.data.reason : null, filedAt: iso(filed.occurred_at),
      outcome: resolved?.outcome ?? null, note: resolution?.type === 'AppealResolved' ? resolution.data.note : null,
      resolvedAt: resolved ? iso(resolved.occurred_at) : null,
    };
  }
}

async function* safetyDecisions(knex: Knex, s: Subject): AsyncGenerator<ExportRecord> {
  const rows = await knex('audit_log').where({ user_id: s.userId, tenant_id: s.tenantId, event_type: 'SafetyChecked' })
    .orderBy([{ column: 'occurred_at' }, { column: 'seq' }]);
  for (const r of rows) {
    yield {
      kind: 'safety_decision', eventId: r.event_id, stage: r.stage, verdict: r.verdict, categories: r.categories,
      policyVersion: r.policy_version, conversationId: r.conversation_id, generationId: r.generation_id, occurredAt: iso(r.occurred_at),
    };
  }
}

async function* usage(knex: Knex, s: Subject): AsyncGenerator<ExportRecord> {
  const rows = await knex('usage_daily').where({ user_id: s.userId, tenant_id: s.tenantId }).orderBy('day');
  for (const r of rows) {
    yield {
      kind: 'usage', day: r.day instanceof Date ? r.day.toISOString().slice(0, 10) : String(r.day), requests: r.requests,
      promptTokens: Number(r.prompt_tokens), completionTokens: Number(r.completion_tokens),
    };
  }
}
