import type { CommandOf } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { MEMORIES_PER_USER } from '../schemas/knowledge.ts';
import { canActOn } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

// A user's memories: one stream per user (memory-<tenant>/<user>), holding the facts they asked
// Parley to remember across conversations. Only the user themself saves or forgets them (a tool
// acting in a user's turn acts as that user).

export type Memory = { memoryId: string; text: string; savedAt: string };
export type MemoryState = { facts: Map<string, Memory> };

export const initialMemoryState = (): MemoryState => ({ facts: new Map() });

export function evolveMemory(state: MemoryState, event: ParleyEvent): MemoryState {
  if (event.type === 'MemorySaved') {
    const facts = new Map(state.facts);
    facts.set(event.data.memoryId, { memoryId: event.data.memoryId, text: event.data.text, savedAt: event.metadata.occurredAt });
    return { facts };
  }
  if (event.type === 'MemoryForgotten') {
    const facts = new Map(state.facts);
    facts.delete(event.data.memoryId);
    return { facts };
  }
  return state;
}

export type MemoryCommand = CommandOf<'SaveMemory'> | CommandOf<'ForgetMemory'>;

export const memoryStreamOf = (tenantId: string, userId: string) => `memory-${tenantId}/${userId}`;

export function decideMemory(command: MemoryCommand, state: MemoryState): Decision {
  const { userId, tenantId } = command.metadata.actor;
  if (command.type === 'SaveMemory') {
    if (state.facts.has(command.data.memoryId)) return reject('ALREADY_EXISTS', 'a memory with this id exists', 'memoryId');
    if (state.facts.size >= MEMORIES_PER_USER) {
      return reject('INVALID_FIELD', `at most ${MEMORIES_PER_USER} memories are kept per user; forget one first`, 'text');
    }
    return accept({ type: 'MemorySaved', version: 1, data: { memoryId: command.data.memoryId, userId, tenantId, text: command.data.text } });
  }
  // Someone else's memory: only an admin of that user's tenant (the retention job is one) forgets it.
  const owner = { userId: command.data.userId ?? userId, tenantId: command.data.tenantId ?? tenantId };
  if ((owner.userId !== userId || owner.tenantId !== tenantId) && !canActOn(command.metadata.actor, { ownerId: owner.userId, tenantId: owner.tenantId })) {
    return reject('NOT_FOUND', 'no such memory', 'id');
  }
  if (!state.facts.has(command.data.memoryId)) return reject('NOT_FOUND', 'no such memory', 'id');
  return accept({
    type: 'MemoryForgotten', version: 1,
    data: { memoryId: command.data.memoryId, ...owner, ...(command.data.reason ? { reason: command.data.reason } : {}) },
  });
}
