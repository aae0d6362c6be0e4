import type { Knex } from 'knex';
import type { HttpRoute } from '../server.ts';
import { sendJson } from './json.ts';

// GET /healthz: the process is alive (no dependency is checked: a restart would not fix them).
// GET /readyz: this process should receive traffic — 200 when every check passes, else 503 with
// the failing checks: the database answers, Redis answers (when configured), the model is loaded
// (where this process serves or runs it), every projection is within the lag bound, and the
// process is not shutting down.

export type Check = { ok: boolean; detail?: unknown };
export type Readiness = { ok: boolean; checks: Record<string, Check> };

export type ReadinessOptions = {
  knex: Knex;
  redis?: { ping(): Promise<unknown> } | null;
  /** true when the model this process needs is loaded; absent when it needs none */
  modelLoaded?: (() => boolean) | null;
  projections: string[];
  lag: (knex: Knex, name: string) => Promise<{ events: number; seconds: number }>;
  maxLagSeconds: number;
  draining: () => boolean;
};

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref())]);

export function readinessChecks(o: ReadinessOptions): () => Promise<Readiness> {
  return async () => {
    const checks: Record<string, Check> = {};
    const run = async (name: string, fn: () => Promise<Check>) => {
      try {
        checks[name] = await withTimeout(fn(), 2000);
      } catch (error) {
        checks[name] = { ok: false, detail: (error as Error).message };
      }
    };
    await Promise.all([
      run('database', async () => (await o.knex.raw('select 1'), { ok: true })),
      o.redis ? run('redis', async () => (await o.redis!.ping(), { ok: true })) : null,
      o.modelLoaded ? run('model', async () => ({ ok: o.modelLoaded!() })) : null,
      run('projections', async () => {
        const lags = Object.fromEntries(await Promise.all(o.projections.map(async (n) => [n, await o.lag(o.knex, n)] as const)));
        const behind = Object.entries(lags).filter(([, l]) => l.seconds > o.maxLagSeconds).map(([n]) => n);
        return { ok: behind.length === 0, detail: { maxLagSeconds: o.maxLagSeconds, lag: lags, ...(behind.length ? { behind } : {}) } };
      }),
    ]);
    checks.accepting = { ok: !o.draining(), ...(o.draining() ? { detail: 'shutting down' } : {}) };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
}

export function createHealthRoute(ready?: () => Promise<Readiness | boolean>): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok' }, { 'cache-control': 'no-store' });
      return true;
    }
    if (url.pathname !== '/readyz') return false;
    let result: Readiness;
    try {
      const r = ready ? await ready() : true;
      result = typeof r === 'boolean' ? { ok: r, checks: {} } : r;
    } catch (error) {
      result = { ok: false, checks: { ready: { ok: false, detail: (error as Error).message } } };
    }
    sendJson(res, result.ok ? 200 : 503, { status: result.ok ? 'ready' : 'not ready', checks: result.checks }, { 'cache-control': 'no-store' });
    return true;
  };
}
