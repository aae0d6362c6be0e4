import type { z } from 'zod';
import type { DomainErrorCode } from '../domain/decision.ts';
import type { Position, RecordedEvent } from '../eventstore/port.ts';
import type { ParleyEvent } from '../schemas/events.ts';

export type CommandErrorCode = 'VALIDATION' | 'CONCURRENCY' | DomainErrorCode;
export type CommandError = { code: CommandErrorCode; message: string; field?: string };

export type CommandSuccess = {
  ok: true;
  streamId: string;
  nextRevision: number;
  // Global position of the last event: readers wait for projections to reach it (read-your-writes).
  position: Position;
  events: ParleyEvent[];
  duplicate: boolean;
};
export type CommandResult = CommandSuccess | { ok: false; error: CommandError };

export function validationError(error: z.ZodError): { ok: false; error: CommandError } {
  const issue = error.issues[0]!;
  // Report the field inside `data` (what the caller sent), not the envelope path.
  const path = issue.path[0] === 'data' ? issue.path.slice(1) : issue.path;
  const field = path.join('.') || undefined;
  return { ok: false, error: { code: 'VALIDATION', message: field ? `${field}: ${issue.message}` : issue.message, ...(field ? { field } : {}) } };
}

// A success's events as the log records them (stream, revision, position), for a caller that keeps
// its own copy of the stream (the saga's conversation fold, a worker's generation history).
export function recordedEvents(result: CommandSuccess): RecordedEvent[] {
  const n = result.events.length;
  const at = new Date().toISOString();
  return result.events.map((e, j) => ({
    ...e, streamId: result.streamId, revision: result.nextRevision - (n - 1 - j), position: result.position, storedVersion: e.version, recordedAt: at,
  }) as RecordedEvent);
}
