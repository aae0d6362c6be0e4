import type { EventType, ParleyEvent } from '../schemas/events.ts';

// What a decider emits: an event without metadata. The command side stamps ids, actor and time.
export type DomainEvent = { [T in EventType]: Omit<Extract<ParleyEvent, { type: T }>, 'metadata'> }[EventType];

export type DomainErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FORBIDDEN'
  | 'CONVERSATION_DELETED'
  | 'INVALID_FIELD'
  | 'TOO_MANY_MESSAGES'
  | 'PARENT_NOT_FOUND'
  | 'DUPLICATE_MESSAGE'
  | 'GENERATION_NOT_RUNNING'
  | 'GENERATION_NOT_COMPLETED'
  | 'TOKEN_INDEX_GAP'
  | 'STALE_ATTEMPT'
  | 'APPEAL_ALREADY_RESOLVED'
  | 'BELOW_THRESHOLD';

// Domain errors are values with a stable code, never thrown strings.
export type DomainError = { code: DomainErrorCode; message: string; field?: string };

export type Decision = { ok: true; events: DomainEvent[] } | { ok: false; error: DomainError };

export const accept = (...events: DomainEvent[]): Decision => ({ ok: true, events });
export const reject = (code: DomainErrorCode, message: string, field?: string): Decision => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});
