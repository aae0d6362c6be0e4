import { memoriesOfMany, memoryStreamOf, type Memory } from '../../commands/memory.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { Thread } from './context-assembly.ts';

// User memory in context assembly: the facts a user asked Parley to remember go into the system
// turn, after the conversation's own system prompt. They are read as they are when the turn is
// assembled (one read for a burst's users), so a forgotten or erased fact is gone from the next
// prompt; the prompt recorded in GenerationRequested keeps what this turn used.

export const MEMORY_HEADER = 'Facts the user asked you to remember:';

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

export const threadWithMemories = (thread: Thread, facts: readonly Memory[]): Thread => ({ ...thread, systemPrompt: withMemories(thread.systemPrompt, facts) });
