import { randomUUID } from 'node:crypto';
import type { EventToAppend } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';

export const alice: Actor = { userId: 'alice', tenantId: 't1', roles: ['user'] };
export const bob: Actor = { userId: 'bob', tenantId: 't1', roles: ['user'] };
export const admin: Actor = { userId: 'root', tenantId: 't1', roles: ['admin'] };
export const compliance: Actor = { userId: 'carol', tenantId: 't1', roles: ['compliance'] };

export function metadata(actor: Actor = alice, extra: Partial<EventToAppend['metadata']> = {}): EventToAppend['metadata'] {
  return {
    eventId: randomUUID(),
    correlationId: randomUUID(),
    causationId: null,
    commandId: null,
    actor,
    occurredAt: new Date().toISOString(),
    ...extra,
  };
}

// A valid current-version event for store tests.
export function renamed(conversationId: string, title: string, actor: Actor = alice): EventToAppend {
  return { type: 'ConversationRenamed', version: 1, data: { conversationId, title }, metadata: metadata(actor) };
}
