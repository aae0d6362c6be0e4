import { readGeneration } from '../../commands/read-generation.ts';
import { answerText } from '../../domain/generation-view.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { EventOf } from '../../schemas/events.ts';
import { unpackTokenIds } from '../../schemas/prompt.ts';
import { hasToolCallMarkup } from '../tools/index.ts';

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
// `answerOf` may know earlier answers already (the saga's conversation fold): text, null for none,
// undefined to read the generation.
export async function loadThread(
  store: EventStore, conversationId: string, messageId: string, events?: RecordedEvent[],
  answerOf: (generationId: string) => string | null | undefined = () => undefined,
): Promise<Thread> {
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
  for (const m of chain) {
    const known = answerOf(m.data.generationId);
    turns.push({ messageId: m.data.messageId, user: m.data.content, assistant: known !== undefined ? known : await turnAnswer(store, m.data.generationId) });
  }
  turns.push({ messageId, user: target.data.content, assistant: null });
  return { systemPrompt: started?.data.systemPrompt ?? null, turns };
}

// A turn's answer as the next turn's context sees it. A turn that called server-side tools answered
// in its last continuation (`<generation>.t<round>`, inference/saga/tool-round.ts): the chain is
// followed while an answer still holds <tool_call> markup.
export async function turnAnswer(store: Pick<EventStore, 'readStream'>, generationId: string): Promise<string | null> {
  let text = answerText(await readGeneration(store, generationId));
  for (let round = 1; text !== null && hasToolCallMarkup(text) && round <= 8; round++) {
    const next = await readGeneration(store, `${generationId}.t${round}`);
    if (!next.request) break;
    text = answerText(next);
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

export class PromptUnavailableError extends Error {
  readonly code = 'CONTEXT_UNAVAILABLE';
}

// The prompt a worker runs: the one the saga assembled and counted, recorded in the request
// (GenerationRequested v2; a regenerated sibling carries its original's). A request without one
// (v1) is rebuilt from the turns the saga included, as v1 workers did — with the answers as they
// are now, which is how concurrent turns once overflowed the context.
export async function promptFor(store: EventStore, model: ChatModel, request: EventOf<'GenerationRequested'>['data']): Promise<number[]> {
  if (request.prompt !== null) {
    const ids = unpackTokenIds(request.prompt);
    // "[erased]": the owner's key is gone, and so is the prompt.
    if (!ids) throw new PromptUnavailableError('the recorded prompt cannot be read (erased, or a format this build does not know)');
    return ids;
  }
  const thread = await loadThread(store, request.conversationId, request.messageId);
  const included = new Set(request.context.includedMessageIds);
  return model.applyChatTemplate(renderTurns(thread, thread.turns.filter((t) => included.has(t.messageId))));
}
