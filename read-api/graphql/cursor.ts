import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { apiError } from '../errors.ts';

// Page cursors are opaque to clients and signed: "<base64url JSON>.<base64url HMAC-SHA256, 16 bytes>",
// keyed by a key derived from the JWT secret (every process of a deployment shares it, so a cursor
// from one API process works on another). A hand-made or edited cursor is refused as BAD_USER_INPUT
// before anything of it reaches SQL; the payload is then checked against its schema as well (dates
// that PostgreSQL accepts, ids in the id format), so even a leaked key cannot inject garbage.

const keys = new Map<string, Buffer>();
function keyFor(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createHmac('sha256', secret).update('parley page cursor v1').digest()));
  return key;
}

const mac = (secret: string, payload: string) => createHmac('sha256', keyFor(secret)).update(payload).digest().subarray(0, 16);

export function encodeCursor(secret: string, value: unknown): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

const MAX_CURSOR = 1024;

export function decodeCursor<T>(secret: string, schema: z.ZodType<T>, cursor: string | null | undefined, field = 'after'): T | null {
  if (!cursor) return null;
  const refuse = () => apiError('BAD_USER_INPUT', `${field} is not a cursor this API issued`, { field });
  const dot = cursor.indexOf('.');
  if (cursor.length > MAX_CURSOR || dot < 0) throw refuse();
  const payload = cursor.slice(0, dot);
  const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse();
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw refuse();
}

export function pageSize(first: number | null | undefined, max = 100): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > max) throw apiError('BAD_USER_INPUT', `first must be between 1 and ${max}`, { field: 'first' });
  return n;
}
