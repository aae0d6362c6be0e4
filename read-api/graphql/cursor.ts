import { z } from 'zod';
import { apiError } from '../errors.ts';

export const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeCursor<T>(schema: z.ZodType<T>, cursor: string | null | undefined, field = 'after'): T | null {
  if (!cursor) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw apiError('BAD_USER_INPUT', `${field} is not a cursor this API issued`, { field });
}

export function pageSize(first: number | null | undefined, max = 100): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > max) throw apiError('BAD_USER_INPUT', `first must be between 1 and ${max}`, { field: 'first' });
  return n;
}
