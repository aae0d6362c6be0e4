import type { Knex } from 'knex';
import { isPlatformOperator } from '../domain/access.ts';
import type { Actor } from '../schemas/common.ts';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import { openRows } from '../projections/sealed-text.ts';
import { searchConversations } from './conversation-search.ts';

export type ConversationRow = {
  id: string; owner_id: string; tenant_id: string; title: string; system_prompt: string | null; model: string;
  message_count: number; deleted: boolean; created_at: Date; updated_at: Date; seq: number;
};
export type MessageRow = {
  id: string; conversation_id: string; owner_id: string; role: string; content: string; status: string;
  parent_id: string | null; reply_to: string | null; generation_id: string | null; sibling_of: string | null; continues?: string | null;
  safety_verdict: string | null; safety_categories: unknown; finish_reason: string | null; error: string | null;
  prompt_tokens: number | null; completion_tokens: number | null; ttft_ms: number | null; tpot_ms: number | null;
  feedback_rating: string | null; feedback_comment: string | null; created_at: Date; seq: number;
};

// Personal text is sealed in the history read model when the store encrypts (projections/sealed-text.ts):
// every row read here is opened with the data keys (`keys`, from the store; cached, so a page of
// rows costs one AES-GCM open per value, not a key fetch).
const cipherOf = (keys: KeyStore | null | undefined) => (keys ? ReadModelCipher.of(keys) : null);
export const openConversations = <R extends ConversationRow | undefined>(keys: KeyStore | null | undefined, rows: R[]) =>
  openRows(cipherOf(keys), 'history_conversations', rows.filter((r): r is NonNullable<R> => !!r), ['title', 'system_prompt']).then(() => rows);
export const openMessages = <R extends MessageRow | undefined>(keys: KeyStore | null | undefined, rows: R[]) =>
  openRows(cipherOf(keys), 'history_messages', rows.filter((r): r is NonNullable<R> => !!r), ['content', 'feedback_comment']).then(() => rows);

// The owner, or an admin of the owner's tenant (domain/access.ts canActOn, as a WHERE clause on a
// conversation row `c`). Another tenant's rows never match, whatever the ids: only an admin who is
// also a platform operator reaches past the token's tenant ([platform_operator] alone grants nothing).
const visibleTo = (actor: Actor, c = 'c') => (q: Knex.QueryBuilder) => {
  const admin = actor.roles.includes('admin');
  if (!(admin && isPlatformOperator(actor))) q.where(`${c}.tenant_id`, actor.tenantId);
  if (!admin) q.where(`${c}.owner_id`, actor.userId);
};

export async function listConversations(
  knex: Knex, actor: Actor, opts: { first: number; after: { updatedAt: string; id: string } | null; search: string | null },
  keys?: KeyStore | null,
): Promise<ConversationRow[]> {
  // A list is always the caller's own conversations (an admin opens others' by id).
  const q = knex('history_conversations as c').select('c.*').where('c.deleted', false)
    .where('c.tenant_id', actor.tenantId).where('c.owner_id', actor.userId);
  // Sealed text cannot be matched in SQL: search opens the caller's conversations page by page.
  if (opts.search) return searchConversations<ConversationRow>(knex, q, actor, { ...opts, search: opts.search }, cipherOf(keys));
  if (opts.after) {
    q.whereRaw('(c.updated_at, c.id) < (?::timestamptz, ?)', [opts.after.updatedAt, opts.after.id]);
  }
  return openConversations(keys, await q.orderBy([{ column: 'c.updated_at', order: 'desc' }, { column: 'c.id', order: 'desc' }]).limit(opts.first + 1));
}

export async function getConversation(knex: Knex, actor: Actor, id: string, keys?: KeyStore | null): Promise<ConversationRow | undefined> {
  const row: ConversationRow | undefined = await knex('history_conversations as c').select('c.*').where({ 'c.id': id, 'c.deleted': false }).modify(visibleTo(actor)).first();
  return (await openConversations(keys, [row]))[0];
}

export async function messagesByConversation(knex: Knex, ids: readonly string[], keys?: KeyStore | null): Promise<MessageRow[][]> {
  const rows: MessageRow[] = await openMessages(keys, await knex('history_messages').whereIn('conversation_id', ids).orderBy('seq'));
  return ids.map((id) => rows.filter((r) => r.conversation_id === id));
}

export async function getGeneration(knex: Knex, actor: Actor, id: string, keys?: KeyStore | null): Promise<MessageRow | undefined> {
  const row: MessageRow | undefined = await knex('history_messages as m').select('m.*')
    .join('history_conversations as c', 'c.id', 'm.conversation_id')
    .where({ 'm.id': id, 'm.role': 'assistant' }).modify(visibleTo(actor)).first();
  return (await openMessages(keys, [row]))[0];
}

export function toMessage(r: MessageRow) {
  return {
    id: r.id, role: r.role, content: r.content, status: r.status, parentId: r.parent_id, replyTo: r.reply_to,
    generationId: r.generation_id, siblingOf: r.sibling_of, continues: r.continues ?? null, safetyVerdict: r.safety_verdict,
    safetyCategories: r.safety_categories, finishReason: r.finish_reason,
    usage: r.completion_tokens === null ? null : { promptTokens: r.prompt_tokens ?? 0, completionTokens: r.completion_tokens },
    ttftMs: r.ttft_ms, tpotMs: r.tpot_ms,
    feedback: r.feedback_rating ? { rating: r.feedback_rating.toUpperCase(), comment: r.feedback_comment } : null,
    createdAt: r.created_at.toISOString(),
  };
}

export function toGeneration(r: MessageRow) {
  return { ...toMessage(r), conversationId: r.conversation_id, messageId: r.reply_to, error: r.error };
}

export function toConversation(r: ConversationRow) {
  return {
    id: r.id, title: r.title, systemPrompt: r.system_prompt, model: r.model, messageCount: r.message_count,
    createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString(),
  };
}

export type AuditFilter = { userId?: string | null; tenantId?: string | null; verdict?: string | null; category?: string | null; eventType?: string | null; from?: string | null; to?: string | null };

// Audit rows the caller's compliance role reaches: its own tenant's (every tenant's for a platform
// operator). Asking for another tenant is the caller's error (FORBIDDEN), checked by auditScope.
export function auditQuery(knex: Knex, actor: Actor, f: AuditFilter): Knex.QueryBuilder {
  const q = knex('audit_log');
  if (!isPlatformOperator(actor)) q.where('tenant_id', actor.tenantId);
  if (f.userId) q.where('user_id', f.userId);
  if (f.tenantId) q.where('tenant_id', f.tenantId);
  if (f.verdict) q.where('verdict', f.verdict);
  if (f.eventType) q.where('event_type', f.eventType);
  if (f.category) q.whereRaw('? = any(flagged_categories)', [f.category]);
  if (f.from) q.where('occurred_at', '>=', f.from);
  if (f.to) q.where('occurred_at', '<', f.to);
  return q;
}

export function toAuditEntry(r: Record<string, any>) {
  return {
    eventId: r.event_id, eventType: r.event_type, userId: r.user_id, tenantId: r.tenant_id, actorId: r.actor_id, stage: r.stage, verdict: r.verdict,
    categories: r.categories ?? [], policyVersion: r.policy_version, degraded: r.degraded, correlationId: r.correlation_id,
    conversationId: r.conversation_id, generationId: r.generation_id, appealId: r.appeal_id, outcome: r.outcome,
    contentHash: r.content_hash, toolName: r.tool_name ?? null, latencyMs: r.latency_ms ?? null, sources: r.sources ?? null, occurredAt: new Date(r.occurred_at).toISOString(), position: r.position,
  };
}
