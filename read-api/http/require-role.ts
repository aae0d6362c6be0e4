import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth.ts';
import type { Actor, Role } from '../../schemas/common.ts';
import { sendJson } from './json.ts';

// Bearer JWT with one of `roles`, for plain HTTP routes: answers 401/403 itself and returns null then.
export async function requireHttpRole(secret: string, req: IncomingMessage, res: ServerResponse, roles: readonly Role[]): Promise<Actor | null> {
  const auth = await authenticate(secret, req.headers.authorization);
  if (!auth.actor) {
    sendJson(res, 401, { error: { message: auth.error ?? 'missing bearer token', code: 'UNAUTHENTICATED' } }, { 'www-authenticate': 'Bearer' });
    return null;
  }
  const actor = auth.actor;
  if (!roles.some((r) => actor.roles.includes(r))) {
    sendJson(res, 403, { error: { message: `needs one of the roles: ${roles.join(', ')}`, code: 'FORBIDDEN' } });
    return null;
  }
  return actor;
}
