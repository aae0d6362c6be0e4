import { memoriesOfMany, memoryStreamOf, type Memory } from '../../commands/memory.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { ChatModel, Thread } from './context-assembly.ts';

// User memory in context assembly: the facts a user asked Parley to remember go into the system
// turn, after the conversation's own system prompt. They are read as they are when the turn is
// assembled (one read for a burst's users), so a forgotten or erased fact is gone from the next
// prompt; the prompt recorded in GenerationRequested keeps what this turn used.
//
// The limits allow 200 facts of 1000 characters, far more than a context holds, so the facts take
// at most a share of the context, as a summary does (summary-context.ts): without a cap a few long
// facts made every turn of their user fail as too long.

export const MEMORY_HEADER = 'Facts the user asked you to remember:';
/** the memories take at most this share of the context; the oldest facts are left out first */
export const MEMORY_CONTEXT_SHARE = 0.25;

/**
 * The facts that fit in their share of the context, in the order they were saved. The newest are
 * kept and the oldest left out first: a fact saved later is likelier to be current, and to correct
 * an older one ("I moved to Lisbon"). Stops at the first fact that does not fit, so a burst's cost
 * is bounded by the share, not by how many facts a user keeps. Counted as the sum of each line's
 * tokens: close to the block's own count, and fitToContext checks the whole prompt exactly.
 */
export function capMemories(model: ChatModel, facts: readonly Memory[]): Memory[] {
  const cap = Math.floor(model.config.contextLength * MEMORY_CONTEXT_SHARE);
  let used = model.tokenizer.encode(MEMORY_HEADER).length;
  let kept = 0;
  for (let i = facts.length - 1; i >= 0; i--) {
    used += model.tokenizer.encode(`\n- ${facts[i]!.text}`).length;
    if (used > cap) break;
    kept++;
  }
  return facts.slice(facts.length - kept);
}

export function withMemories(systemPrompt: string | null, facts: readonly Memory[]): string | null {
  if (facts.length === 0) return systemPrompt;
  const block = [MEMORY_HEADER, ...facts.map((f) => `- ${f.text}`)].join('\n');
  return systemPrompt ? `${systemPrompt}\n\n${block}` : block;
}

export type MemoryLookup = (tenantId: string, userId: string) => Memory[];

/** The memories of every owner in a burst, read together. */
export async function memoryLookup(store: EventStore, owners: readonly { tenantId: string; userId: string }[]): Promise<MemoryLookup> {
  const byStream = await memoriesOfMany(store, owners);
  return (tenantId, userId) => byStream.get(memoryStreamOf(tenantId, userId)) ?? [];
}

/** The thread's system turn with the owner's facts that fit their share of the context. */
export const threadWithMemories = (model: ChatModel, thread: Thread, facts: readonly Memory[]): Thread =>
  ({ ...thread, systemPrompt: withMemories(thread.systemPrompt, capMemories(model, facts)) });
