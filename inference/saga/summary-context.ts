import { createHash } from 'node:crypto';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { packTokenIds } from '../../schemas/prompt.ts';
import type { SummaryRequest } from '../../schemas/summary.ts';
import { ContextTooLongError, fitToContext, type AssembledContext, type ChatModel, type ChatTurnMessage, type Thread, type Turn } from './context-assembly.ts';

// Rolling summaries in context assembly (issue 19 item 1). Kept apart from context-assembly.ts so
// other steps that add to the system turn (retrieval) merge beside it.
//
// context = system prompt (+ memory, tools) + the latest summary as a system-turn section + the
// most recent turns that fit. When turns are still dropped beyond what the summary covers, the
// saga asks for a summary of them: a generation on the same job queue and engine at the lowest
// job priority, whose prompt is the dropped turns as user/assistant messages followed by the user
// message "Summarise this conversation." (the format chat model v2 learns: "Summary:\n- Q: …\n  A: …").
// Its answer is appended to the previous summary's text and recorded as ConversationSummarized
// (summary-recorder.ts), so each summary job reads only the newly dropped turns.

export const SUMMARY_INSTRUCTION = 'Summarise this conversation.';
export const SUMMARY_HEADER = 'Summary of the earlier conversation:';
/** below every admission tier (0–9): a summary job runs when no answer is waiting */
export const SUMMARY_JOB_PRIORITY = -1;
/** the summary generation's answer budget */
export const SUMMARY_MAX_TOKENS = 256;
/** a summary takes at most this share of the context; its oldest lines go first */
export const SUMMARY_CONTEXT_SHARE = 0.25;

const SUMMARY_ID_PREFIX = 'summary-';
/** One summary generation per (conversation, last turn it covers): a repeated request is the same one. */
export const summaryGenerationId = (conversationId: string, throughMessageId: string) =>
  SUMMARY_ID_PREFIX + createHash('sha256').update(`${conversationId}\u0000${throughMessageId}`).digest('hex').slice(0, 40);
export const isSummaryGenerationId = (generationId: string) => generationId.startsWith(SUMMARY_ID_PREFIX);

export type RecordedSummary = { summaryId: string; messageIds: string[]; previousSummaryId: string | null; text: string };

/** The summaries recorded on a conversation's stream, oldest first. */
export function summariesOf(history: readonly RecordedEvent[]): RecordedSummary[] {
  return history.flatMap((e) => (e.type === 'ConversationSummarized'
    ? [{ summaryId: e.data.summaryId, messageIds: e.data.messageIds, previousSummaryId: e.data.previousSummaryId, text: e.data.text }]
    : []));
}

/**
 * The recorded summary that covers the longest run of the thread's first turns, never the message
 * being answered (the last turn). A summary of another branch (an edit) does not match this
 * thread's turns and is not used.
 */
export function summaryFor(history: readonly RecordedEvent[], thread: Thread): RecordedSummary | null {
  const earlier = thread.turns.slice(0, -1).map((t) => t.messageId);
  let best: RecordedSummary | null = null;
  for (const s of summariesOf(history)) {
    if (s.messageIds.length > earlier.length || !s.messageIds.every((id, i) => earlier[i] === id)) continue;
    if (!best || s.messageIds.length >= best.messageIds.length) best = s;
  }
  return best;
}

export function withSummary(systemPrompt: string | null, text: string): string | null {
  if (text.trim().length === 0) return systemPrompt;
  const block = `${SUMMARY_HEADER}\n${text.trim()}`;
  return systemPrompt ? `${systemPrompt}\n\n${block}` : block;
}

/** The thread's system turn with a recorded summary after what it holds (as the first round of a turn
 *  showed it; a continuation after tool calls shows it again, tool-round.ts). */
export function withRecordedSummary(model: ChatModel, thread: Thread, summary: Pick<RecordedSummary, 'text'>): Thread {
  return { ...thread, systemPrompt: withSummary(thread.systemPrompt, capSummary(model, summary.text)) };
}

/** The summary cut to its share of the context: whole lines, the oldest dropped first. */
export function capSummary(model: ChatModel, text: string): string {
  const cap = Math.floor(model.config.contextLength * SUMMARY_CONTEXT_SHARE);
  let lines = text.trim().split('\n');
  while (lines.length > 1 && model.tokenizer.encode(lines.join('\n')).length > cap) {
    // Keep a "Summary:" header line; drop the oldest entry after it.
    const first = /^summary:\s*$/i.test(lines[0]!) ? 1 : 0;
    if (first >= lines.length - 1) break;
    lines = [...lines.slice(0, first), ...lines.slice(first + 1)];
  }
  return lines.join('\n');
}

export type SummarizedContext = AssembledContext & {
  /** the summary the prompt carries (null: none) */
  summary: RecordedSummary | null;
  /** the dropped turns no summary covers yet, oldest first (empty: nothing to summarise) */
  unsummarized: Turn[];
};

/**
 * fitToContext with the conversation's latest summary in the system turn. The summary's turns are
 * reported as dropped (they are not in the prompt verbatim); the turns dropped beyond them are
 * what a new summary should cover. If even the summary and the new message do not fit, the
 * summary is left out (the context is assembled as without summaries).
 */
export function fitWithSummary(model: ChatModel, thread: Thread, maxTokens: number, history: readonly RecordedEvent[]): SummarizedContext {
  const summary = summaryFor(history, thread);
  if (summary) {
    const rest = thread.turns.slice(summary.messageIds.length);
    try {
      const ctx = fitToContext(model, { ...withRecordedSummary(model, thread, summary), turns: rest }, maxTokens);
      return {
        ...ctx, droppedMessageIds: [...summary.messageIds, ...ctx.droppedMessageIds], summary,
        unsummarized: rest.slice(0, ctx.droppedMessageIds.length),
      };
    } catch (error) {
      if (!(error instanceof ContextTooLongError)) throw error;
    }
  }
  const ctx = fitToContext(model, thread, maxTokens);
  return { ...ctx, summary: null, unsummarized: thread.turns.slice(0, ctx.droppedMessageIds.length) };
}

export function renderForSummary(turns: readonly Turn[]): ChatTurnMessage[] {
  const messages: ChatTurnMessage[] = [];
  for (const t of turns) {
    messages.push({ role: 'user', content: t.user });
    if (t.assistant !== null) messages.push({ role: 'assistant', content: t.assistant });
  }
  messages.push({ role: 'user', content: SUMMARY_INSTRUCTION });
  return messages;
}

/**
 * The summary generation's prompt for the unsummarised turns: as many of them, oldest first, as fit
 * with the answer budget (the rest wait for the next refresh). null when not even one turn fits.
 */
export function summaryPrompt(model: ChatModel, turns: readonly Turn[]): { promptIds: number[]; turns: Turn[] } | null {
  const budget = model.config.contextLength - SUMMARY_MAX_TOKENS;
  for (let k = turns.length; k >= 1; k--) {
    const promptIds = model.applyChatTemplate(renderForSummary(turns.slice(0, k)));
    if (promptIds.length <= budget) return { promptIds, turns: turns.slice(0, k) };
  }
  return null;
}

/** Conversations with a summary generation asked for and not ended (in this process): one at a time each. */
export class PendingSummaries {
  private readonly pending = new Map<string, { generationId: string; at: number }>();
  constructor(private readonly staleMs = 10 * 60_000, private readonly now: () => number = Date.now) {}
  has(conversationId: string): boolean {
    const p = this.pending.get(conversationId);
    if (p && this.now() - p.at > this.staleMs) this.pending.delete(conversationId); // a lost job does not block refreshes for ever
    return this.pending.has(conversationId);
  }
  start(conversationId: string, generationId: string): void {
    this.pending.set(conversationId, { generationId, at: this.now() });
  }
  end(generationId: string): void {
    for (const [c, p] of this.pending) if (p.generationId === generationId) this.pending.delete(c);
  }
}

export type SummaryRequestInput = {
  conversationId: string; ownerId: string; tenantId: string; model: string;
  safetySettings: unknown; previous: RecordedSummary | null; turns: Turn[];
};

/**
 * The RequestGeneration data of a summary generation (null: nothing fits). It covers the previous
 * summary's turns and the new ones; the job is queued at SUMMARY_JOB_PRIORITY by the saga when
 * the request comes back through the log.
 */
export function summaryRequestData(model: ChatModel, input: SummaryRequestInput): Record<string, unknown> | null {
  const prompt = summaryPrompt(model, input.turns);
  if (!prompt) return null;
  const covered = prompt.turns.map((t) => t.messageId);
  const through = covered.at(-1)!;
  const summarizes: SummaryRequest = { messageIds: [...(input.previous?.messageIds ?? []), ...covered], previousSummaryId: input.previous?.summaryId ?? null };
  return {
    generationId: summaryGenerationId(input.conversationId, through),
    conversationId: input.conversationId, messageId: through, ownerId: input.ownerId, tenantId: input.tenantId, model: input.model,
    params: { temperature: 0, maxTokens: SUMMARY_MAX_TOKENS },
    context: { includedMessageIds: covered, droppedMessageIds: [], promptTokens: prompt.promptIds.length },
    prompt: packTokenIds(prompt.promptIds),
    safetySettings: input.safetySettings, inputCheck: null, priority: 0, brownout: false, siblingOf: null,
    summarizes,
  };
}

/** The new summary's text: the previous one's, then the new turns' entries (the reply's own "Summary:" line left out). */
export function mergeSummaries(previous: string | null, reply: string): string {
  const body = reply.trim();
  if (!previous || previous.trim().length === 0) return body;
  const entries = body.replace(/^summary:\s*\n?/i, '').trim();
  return entries.length ? `${previous.trimEnd()}\n${entries}` : previous;
}
