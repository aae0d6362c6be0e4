import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoute } from '../server.ts';
import { sendJson } from './json.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// The page talks to this origin only; no inline script or style.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

export const defaultWebDir = fileURLToPath(new URL('../../web/', import.meta.url));

// Serves the reference chat page: `/` is web/index.html, `/web/<file>` the files beside it. Only the
// files present at start (flat, known extensions) are served, so no request path reaches the disk.
export function createWebRoute({ dir = defaultWebDir }: { dir?: string } = {}): HttpRoute {
  const files = new Map<string, string>();
  for (const name of safeList(dir)) if (TYPES[path.extname(name)]) files.set(`/web/${name}`, path.join(dir, name));
  if (files.has('/web/index.html')) files.set('/', path.join(dir, 'index.html'));
  if (files.has('/web/console.html')) files.set('/console', path.join(dir, 'console.html')); // the compliance console

  return async (req, res, url) => {
    const file = files.get(url.pathname);
    if (!file) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { message: `${req.method} is not allowed here`, code: 'METHOD_NOT_ALLOWED' } }, { allow: 'GET, HEAD' });
      return true;
    }
    const body = await readFile(file);
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const headers: Record<string, string> = {
      'content-type': TYPES[path.extname(file)]!,
      // Always revalidate: a new build is picked up at once, an unchanged file costs a 304.
      'cache-control': 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (file.endsWith('.html')) headers['content-security-policy'] = CSP;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return [];
  }
}
