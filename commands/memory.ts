import { randomUUID } from 'node:crypto';
import { evolveMemory, initialMemoryState, memoryStreamOf, type Memory } from '../domain/memory.ts';
import { ERASED } from '../eventstore/crypto/field-codec.ts';
import type { EventStore } from '../eventstore/port.ts';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { subjectOf, type Actor } from '../schemas/common.ts';
import type { CommandHandler } from './command-handler.ts';
import type { CommandResult } from './command-result.ts';

// A user's memories: saved and forgotten through commands (SaveMemory / ForgetMemory on the user's
// memory stream), read by folding that stream. No read model: the stream is small (≤ 200 facts)
// and decrypted on read, so an erased user's facts read as "[erased]" and are left out here.
//
// rememberFact is what a `remember` server-side tool calls, acting as the user whose turn it runs in.

export type { Memory } from '../domain/memory.ts';

export type MemoryResult = { ok: true; memory: Memory; position: string } | Extract<CommandResult, { ok: false }>;

export async function rememberFact(
  commands: CommandHandler, actor: Actor, text: string,
  opts: { memoryId?: string; commandId?: string; correlationId?: string; causationId?: string } = {},
): Promise<MemoryResult> {
  const memoryId = opts.memoryId ?? randomUUID();
  const result = await commands.execute({
    type: 'SaveMemory',
    data: { memoryId, text },
    metadata: { commandId: opts.commandId ?? randomUUID(), actor, ...(opts.correlationId ? { correlationId: opts.correlationId } : {}), ...(opts.causationId ? { causationId: opts.causationId } : {}) },
  });
  if (!result.ok) return result;
  const saved = result.events.find((e) => e.type === 'MemorySaved');
  if (saved?.type !== 'MemorySaved') return { ok: false, error: { code: 'ALREADY_EXISTS', message: 'a memory with this id exists' } };
  return { ok: true, memory: { memoryId: saved.data.memoryId, text: saved.data.text, savedAt: saved.metadata.occurredAt }, position: result.position };
}

// Forgetting records MemoryForgotten, then destroys the fact's own key (scope memory-<id>): the
// log's copy reads "[erased]" from then on, as after an erasure. `owner` names another user's fact
// (an admin of their tenant, or the retention job with reason 'retention').
export async function forgetFact(
  commands: CommandHandler, actor: Actor, memoryId: string, commandId: string = randomUUID(),
  opts: { keys?: KeyStore | null; owner?: { tenantId: string; userId: string }; reason?: 'user_request' | 'retention' } = {},
): Promise<CommandResult> {
  // An erased user's stream takes nothing new. SaveMemory is refused when the store cannot seal its
  // text with the destroyed key; MemoryForgotten carries no personal field, so nothing would stop it
  // (it was accepted and appended after an erasure): the key store is asked here.
  const subject = subjectOf(opts.owner?.tenantId ?? actor.tenantId, opts.owner?.userId ?? actor.userId);
  if (await opts.keys?.isErased(subject)) return { ok: false, error: { code: 'FORBIDDEN', message: `${subject} was erased: nothing new is stored for them` } };
  const result = await commands.execute({
    type: 'ForgetMemory',
    data: { memoryId, ...(opts.owner ?? {}), ...(opts.reason ? { reason: opts.reason } : {}) },
    metadata: { commandId, actor },
  });
  if (result.ok) {
    const forgotten = result.events.find((e) => e.type === 'MemoryForgotten');
    if (forgotten?.type === 'MemoryForgotten') await opts.keys?.destroy(subjectOf(forgotten.data.tenantId, forgotten.data.userId), `memory-${memoryId}`);
  }
  return result;
}

/** The user's memories, oldest first (erased ones left out). */
export async function listMemories(store: EventStore, tenantId: string, userId: string): Promise<Memory[]> {
  return (await memoriesOfMany(store, [{ tenantId, userId }])).get(memoryStreamOf(tenantId, userId)) ?? [];
}

/** Many users' memories in one read (the saga's burst of messages), keyed by memory stream id. */
export async function memoriesOfMany(store: EventStore, users: readonly { tenantId: string; userId: string }[]): Promise<Map<string, Memory[]>> {
  const ids = [...new Set(users.map((u) => memoryStreamOf(u.tenantId, u.userId)))];
  if (ids.length === 0) return new Map();
  const streams = await store.readStreams(ids);
  const out = new Map<string, Memory[]>();
  for (const [id, events] of streams) {
    const facts = [...events.reduce(evolveMemory, initialMemoryState()).facts.values()].filter((m) => m.text !== ERASED);
    out.set(id, facts);
  }
  return out;
}

export { memoryStreamOf };
