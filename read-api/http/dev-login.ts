import { signToken } from '../auth.ts';
import type { HttpRoute } from '../server.ts';
import { answerUnreadBody, readBody } from './body.ts';
import { sendJson } from './json.ts';

export type DevLoginOptions = {
  /** Off unless the deployment is the embedded default (see devLoginEnabled). */
  enabled: boolean;
  secret: string;
  tenantId?: string;
};

/**
 * One-click sign-in for the embedded default: anyone who can reach the server names themselves and
 * gets a user token. That is what `npm start` already prints, so it opens nothing new there; in any
 * other deployment it is off (the page then asks for a token).
 * Default: on when there is no DATABASE_URL and NODE_ENV is not production.
 * PARLEY_DEV_LOGIN=on|off overrides the default, except that production is always off.
 */
export function devLoginEnabled(config: { DATABASE_URL?: string }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_ENV === 'production') return false;
  const flag = env.PARLEY_DEV_LOGIN?.trim().toLowerCase();
  if (flag === 'on' || flag === '1' || flag === 'true') return true;
  if (flag === 'off' || flag === '0' || flag === 'false') return false;
  return !config.DATABASE_URL;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_BODY = 4096;

// GET /auth/dev-login → {enabled: true} (the page's probe); POST {name} → {token, userId, tenantId, roles}.
// When disabled the route does not exist (404), so the page falls back to pasting a token.
export function createDevLoginRoute({ enabled, secret, tenantId = 'default' }: DevLoginOptions): HttpRoute {
  return async (req, res, url) => {
    if (!enabled || url.pathname !== '/auth/dev-login') return false;
    if (req.method === 'GET') {
      sendJson(res, 200, { enabled: true, tenantId }, { 'cache-control': 'no-store' });
      return true;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: { message: 'use POST with {"name": "..."}', code: 'METHOD_NOT_ALLOWED' } }, { allow: 'GET, POST' });
      return true;
    }
    // JSON only: a cross-site HTML form cannot send it without a CORS preflight, which we never grant.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      sendJson(res, 415, { error: { message: 'send Content-Type: application/json', code: 'BAD_USER_INPUT' } });
      return true;
    }
    const read = await readBody(req, MAX_BODY);
    if (!read.ok) {
      answerUnreadBody(req, res, 413, JSON.stringify({ error: { message: `body larger than ${MAX_BODY} bytes`, code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' } }));
      return true;
    }
    const raw = read.body.toString('utf8');
    let name: unknown;
    try {
      name = (JSON.parse(raw) as { name?: unknown } | null)?.name;
    } catch {
      sendJson(res, 400, { error: { message: 'body is not valid JSON', code: 'BAD_USER_INPUT' } });
      return true;
    }
    const userId = typeof name === 'string' ? name.trim() : '';
    if (!NAME.test(userId)) {
      sendJson(res, 400, {
        error: { message: 'name must be 1–64 letters, digits, "_", "." or "-"', code: 'BAD_USER_INPUT', field: 'name' },
      });
      return true;
    }
    const actor = { userId, tenantId, roles: ['user' as const] };
    const token = await signToken(secret, actor, '7d');
    sendJson(res, 200, { token, ...actor }, { 'cache-control': 'no-store' });
    return true;
  };
}
