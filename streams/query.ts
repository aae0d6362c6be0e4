import { isPosition, START, type Position } from '../eventstore/port.ts';
import { eventTypes, type EventType } from '../schemas/events.ts';

// Bad replay parameters, with the field at fault: the API turns it into a 400 / BAD_USER_INPUT.
export class ReplayInputError extends Error {
  readonly code = 'BAD_USER_INPUT';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export function parseAfter(value: string | null | undefined, field = 'after'): Position {
  if (value === null || value === undefined || value === '') return START;
  if (!isPosition(value)) throw new ReplayInputError(field, `${field} must be a cursor ("<n>/<n>") taken from an event's position`);
  return value;
}

// Accepts a list and/or comma-separated values; null/empty means every type.
export function parseTypes(values: readonly string[] | string | null | undefined, field = 'types'): EventType[] | undefined {
  if (values === null || values === undefined) return undefined;
  const list = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (list.length === 0) return undefined;
  const unknown = list.filter((t) => !(eventTypes as string[]).includes(t));
  if (unknown.length > 0) throw new ReplayInputError(field, `unknown event type(s): ${unknown.join(', ')} (known: ${eventTypes.join(', ')})`);
  return [...new Set(list)] as EventType[];
}

export function parseLimit(value: string | number | null | undefined, max: number, field = 'limit'): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ReplayInputError(field, `${field} must be an integer between 1 and ${max}`);
  return n;
}
