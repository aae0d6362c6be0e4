// Where the fuzz scenario's requests come from: the project's one set of fast-check arbitraries for
// hostile input (tests/support/fuzz-arbitraries.ts, shared with the CI fuzz test). This file only
// adapts whatever that module exports into HTTP requests; it generates nothing of its own.
//
// Accepted shapes of a generated value (any exported fc.Arbitrary whose values match one is used):
//   { query: string, variables?, operationName? }              → POST /graphql
//   { method, path | url, headers?, body? (string | object) }  → that HTTP request
//   { messages: [...], model?, ... } (an OpenAI request body)  → POST /v1/chat/completions
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARBITRARY_MODULES = ['tests/support/fuzz-arbitraries.ts', 'tests/support/fuzz.ts', 'tests/support/arbitraries.ts'];

export type FuzzRequest = { method: string; path: string; headers: Record<string, string>; body?: string; surface: 'graphql' | 'v1' | 'other' };

function toRequest(v: unknown): FuzzRequest | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const json = { 'content-type': 'application/json' };
  if (typeof o.query === 'string') {
    return { method: 'POST', path: '/graphql', headers: json, body: JSON.stringify({ query: o.query, variables: o.variables ?? {}, ...(o.operationName ? { operationName: o.operationName } : {}) }), surface: 'graphql' };
  }
  const p = typeof o.path === 'string' ? o.path : typeof o.url === 'string' ? o.url : null;
  if (typeof o.method === 'string' && p) {
    const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    const headers = { ...(body !== undefined ? json : {}), ...((o.headers as Record<string, string>) ?? {}) };
    return { method: o.method.toUpperCase(), path: p.startsWith('/') ? p : `/${p}`, headers, body, surface: p.includes('graphql') ? 'graphql' : p.includes('/v1') ? 'v1' : 'other' };
  }
  if (Array.isArray(o.messages)) return { method: 'POST', path: '/v1/chat/completions', headers: json, body: JSON.stringify(o), surface: 'v1' };
  return null;
}

const isArbitrary = (x: unknown): x is fc.Arbitrary<unknown> => !!x && typeof x === 'object' && typeof (x as { generate?: unknown }).generate === 'function' && typeof (x as { filter?: unknown }).filter === 'function';

export async function loadFuzzRequests(): Promise<{ arbitrary: fc.Arbitrary<FuzzRequest>; module: string; used: string[] } | { missing: string }> {
  const file = ARBITRARY_MODULES.find((f) => existsSync(path.join(root, f)));
  if (!file) return { missing: `none of ${ARBITRARY_MODULES.join(', ')} exists yet` };
  const mod = (await import(pathToFileURL(path.join(root, file)).href)) as Record<string, unknown>;
  const used: string[] = [];
  const arbs: fc.Arbitrary<FuzzRequest>[] = [];
  for (const [name, value] of Object.entries(mod)) {
    const arb = isArbitrary(value) ? value : typeof value === 'function' && value.length === 0 ? (() => { try { const a = (value as () => unknown)(); return isArbitrary(a) ? a : null; } catch { return null; } })() : null;
    if (!arb) continue;
    const sample = fc.sample(arb, { numRuns: 5, seed: 1 });
    if (!sample.every((s) => toRequest(s))) continue;
    used.push(name);
    arbs.push(arb.map((s) => toRequest(s)!));
  }
  if (!arbs.length) return { missing: `${file} exports no arbitrary of requests in a shape bench/chaos/fuzz-source.ts understands` };
  return { arbitrary: fc.oneof(...arbs), module: file, used };
}
