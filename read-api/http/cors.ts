import type { IncomingMessage, ServerResponse } from 'node:http';

// Cross-origin access for browser apps on other origins (a Vite dev server on :5173, an app's own
// domain) to the OpenAI endpoint (/v1) and GraphQL (/graphql, /graphql/stream).
//
// Allowed origins come from PARLEY_CORS_ORIGINS, a comma-separated list of origins, where a port may
// be `*` (`http://localhost:*`); the default is `http://localhost:*` — and always the server's own
// origin (a page Parley serves itself). `*` alone allows every origin. Parley authenticates with a
// bearer token, never a cookie, so no response ever carries Access-Control-Allow-Credentials: an
// allowed origin is echoed (with Vary: Origin), and a listed `*` is answered with `*` itself, never
// with the caller's origin. A preflight from an origin not allowed is refused with 403 and no CORS
// headers; other requests from it are served without CORS headers, so the browser withholds them.

export const DEFAULT_CORS_ORIGINS = 'http://localhost:*';

// What a browser client may read: the ids of the turn, the request id, and when to retry.
const EXPOSED = ['X-Parley-Conversation', 'X-Parley-Generation', 'X-Parley-Position', 'X-Request-Id', 'Retry-After', 'Retry-After-Ms'].join(', ');
// What it may send (the OpenAI client adds its x-stainless-* headers; graphql-sse its stream token).
const METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const PATHS = (pathname: string) => pathname === '/graphql' || pathname === '/graphql/stream' || pathname === '/v1' || pathname.startsWith('/v1/');

export type CorsPolicy = { any: boolean; allows: (origin: string, req: IncomingMessage) => boolean };

/** a policy from PARLEY_CORS_ORIGINS (undefined: the default); throws on an entry that is not an origin */
export function corsPolicy(setting: string | undefined): CorsPolicy {
  const entries = (setting ?? DEFAULT_CORS_ORIGINS).split(',').map((s) => s.trim()).filter(Boolean);
  const any = entries.includes('*');
  const patterns = entries.filter((e) => e !== '*').map(originPattern);
  return {
    any,
    allows: (origin, req) => any || sameOrigin(origin, req) || patterns.some((p) => p.test(origin)),
  };
}

function originPattern(entry: string): RegExp {
  const m = /^(https?):\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::(\d{1,5}|\*))?$/.exec(entry);
  if (!m) throw new Error(`PARLEY_CORS_ORIGINS: "${entry}" is not an origin (scheme://host[:port], port may be *)`);
  const [, scheme, host, port] = m;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const portPart = port === '*' ? '(?::\\d{1,5})?' : port ? `:${port}` : '';
  return new RegExp(`^${scheme}://${escape(host!.toLowerCase())}${portPart}$`, 'i');
}

// The page's own origin: the request's Origin names the host it was sent to.
function sameOrigin(origin: string, req: IncomingMessage): boolean {
  const host = req.headers.host;
  return !!host && (origin.toLowerCase() === `http://${host}`.toLowerCase() || origin.toLowerCase() === `https://${host}`.toLowerCase());
}

/** sets the CORS headers on a /v1 or GraphQL response; true when it answered a preflight itself */
export function applyCors(policy: CorsPolicy, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (!PATHS(pathname)) return false;
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
  if (typeof origin !== 'string') {
    if (!preflight) return false;
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('a CORS preflight needs an Origin header');
    return true;
  }
  res.setHeader('vary', 'Origin');
  if (!policy.allows(origin, req)) {
    if (!preflight) return false;
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(`origin ${origin.slice(0, 200)} is not allowed (PARLEY_CORS_ORIGINS)`);
    return true;
  }
  // `*` is a literal answer, not a reflection: a browser then sends no credentials.
  res.setHeader('access-control-allow-origin', policy.any ? '*' : origin);
  res.setHeader('access-control-expose-headers', EXPOSED);
  if (!preflight) return false;
  const asked = String(req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim()).filter((h) => HEADER_NAME.test(h));
  res.writeHead(204, {
    'access-control-allow-methods': METHODS,
    ...(asked.length ? { 'access-control-allow-headers': asked.join(', ') } : {}),
    'access-control-max-age': '600',
    'content-length': '0',
  });
  res.end();
  return true;
}
