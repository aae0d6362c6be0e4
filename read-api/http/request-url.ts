import type { IncomingMessage } from 'node:http';

// The request's URL, or null when its target is no URL path at all. Node passes the request target
// through as the client sent it, and some ("//", "///x", "//@") make `new URL()` throw: thrown
// outside a route's try, that was an uncaught exception which took the whole process down with one
// request. Callers answer null with a 400.
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

export const BAD_TARGET = { error: { message: 'the request target is not a valid URL path', code: 'BAD_USER_INPUT' } };
