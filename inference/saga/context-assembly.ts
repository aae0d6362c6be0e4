import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { EventOf } from '../../schemas/events.ts';

export type ChatTurnMessage = { role: 'system' | 'user' | 'assistant'; content: string };
export type Turn = { messageId: string; user: string; assistant: string | null };
export type Thread = { systemPrompt: string | null; turns: Turn[] };
export type ChatModel = {
  config: { contextLength: number };
  tokenizer: { encode(text: string): number[] };
  applyChatTemplate(messages: ChatTurnMessage[]): number[];
};

export type AssembledContext = {
  promptIds: number[];
  includedMessageIds: string[];
  droppedMessageIds: string[];
  promptTokens: number;
};

export class ContextTooLongError extends Error {
  readonly code = 'CONTEXT_TOO_LONG';
}

// The turns a message answers to, oldest first, ending with the message itself. A normal message
// follows the one submitted before it; an edit (parentMessageId) replaces its parent, so it follows
// whatever the parent followed.
export async function loadThread(store: EventStore, conversationId: string, messageId: string, events?: RecordedEvent[]): Promise<Thread> {
  events ??= await store.readStream(`conversation-${conversationId}`);
  const started = events.find((e) => e.type === 'ConversationStarted') as EventOf<'ConversationStarted'> | undefined;
  const messages = events.filter((e) => e.type === 'MessageSubmitted') as EventOf<'MessageSubmitted'>[];
  const byId = new Map(messages.map((m, i) => [m.data.messageId, { m, i }]));
  const chain: EventOf<'MessageSubmitted'>[] = [];
  const before = (id: string): void => {
    const entry = byId.get(id);
    if (!entry) return;
    const parent = entry.m.data.parentMessageId;
    if (parent) return before(parent);
    if (entry.i > 0) {
      const prev = messages[entry.i - 1]!;
      before(prev.data.messageId);
      chain.push(prev);
    }
  };
  before(messageId);
  const target = byId.get(messageId)?.m;
  if (!target) throw new Error(`message ${messageId} is not in conversation ${conversationId}`);
  const turns: Turn[] = [];
  for (const m of chain) turns.push({ messageId: m.data.messageId, user: m.data.content, assistant: await answerText(store, m.data.generationId) });
  turns.push({ messageId, user: target.data.content, assistant: null });
  return { systemPrompt: started?.data.systemPrompt ?? null, turns };
}

// The completed answer of a generation (the text of its last attempt), or null.
async function answerText(store: EventStore, generationId: string): Promise<string | null> {
  const events = await store.readStream(`generation-${generationId}`);
  if (!events.some((e) => e.type === 'GenerationCompleted' && e.data.finishReason !== 'content_filter')) return null;
  let attempt = 0;
  let text = '';
  for (const e of events) {
    if (e.type !== 'TokensGenerated') continue;
    if (e.data.attempt > attempt) { attempt = e.data.attempt; text = ''; }
    text += e.data.text;
  }
  return text;
}

export function renderTurns(thread: Thread, turns: Turn[]): ChatTurnMessage[] {
  const messages: ChatTurnMessage[] = thread.systemPrompt ? [{ role: 'system', content: thread.systemPrompt }] : [];
  for (const t of turns) {
    messages.push({ role: 'user', content: t.user });
    if (t.assistant !== null) messages.push({ role: 'assistant', content: t.assistant });
  }
  return messages;
}

// System prompt + the most recent turns that fit + the new message, within the context length
// minus the answer's token budget, counted with the model's own tokenizer and chat template.
// Dropped turns are reported. (Seam: a summarizer could replace dropped turns with a summary here.)
export function fitToContext(model: ChatModel, thread: Thread, maxTokens: number): AssembledContext {
  const budget = model.config.contextLength - maxTokens;
  const turns = [...thread.turns];
  const dropped: string[] = [];
  for (;;) {
    const promptIds = model.applyChatTemplate(renderTurns(thread, turns));
    if (promptIds.length <= budget) {
      return { promptIds, includedMessageIds: turns.map((t) => t.messageId), droppedMessageIds: dropped, promptTokens: promptIds.length };
    }
    if (turns.length === 1) {
      throw new ContextTooLongError(
        `the message needs ${promptIds.length} prompt tokens but only ${Math.max(0, budget)} fit (context ${model.config.contextLength} minus maxTokens ${maxTokens})`,
      );
    }
    dropped.push(turns.shift()!.messageId);
  }
}

// The prompt a worker runs: exactly the turns the saga included when it requested the generation.
export async function promptFor(store: EventStore, model: ChatModel, request: EventOf<'GenerationRequested'>['data']): Promise<number[]> {
  const thread = await loadThread(store, request.conversationId, request.messageId);
  const included = new Set(request.context.includedMessageIds);
  return model.applyChatTemplate(renderTurns(thread, thread.turns.filter((t) => included.has(t.messageId))));
}
