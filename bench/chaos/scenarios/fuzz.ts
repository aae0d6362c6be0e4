// 10,000 property-based fuzzed requests (fast-check, the shared arbitraries in
// tests/support/fuzz-arbitraries.ts) against GraphQL and /v1, sent with a rotating set of
// identities (two users of one tenant, a user of another tenant, admin, compliance,
// data_scientist, no token, a garbage token). The property: no 5xx, no INTERNAL error, every
// request answered within 30 s (a streaming answer may stay open: it is read for 3 s then closed),
// and the API process's memory back near its baseline once the load is over.
import fc from 'fast-check';
import { Cluster, rssOf, sleep } from '../cluster.ts';
import { send, tokenFor } from '../client.ts';
import { loadFuzzRequests, type FuzzRequest } from '../fuzz-source.ts';
import { check, countBy, zero, type Scenario } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

const HANG_MS = 30_000;
const STREAM_READ_MS = 3_000;

type Outcome = { status: number | null; internal: boolean; hang: boolean; transport: string | null; ms: number; req: FuzzRequest };

async function fire(base: string, req: FuzzRequest, token: string | null): Promise<Outcome> {
  const t0 = performance.now();
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), HANG_MS);
  try {
    const headers = { ...req.headers, ...(token !== null && !Object.keys(req.headers).some((h) => h.toLowerCase() === 'authorization') ? { authorization: `Bearer ${token}` } : {}) };
    const res = await fetch(base + req.path, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body, signal: ctl.signal });
    let text = '';
    if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const reader = res.body!.getReader();
      const until = Date.now() + STREAM_READ_MS;
      const dec = new TextDecoder();
      while (Date.now() < until) {
        const r = await Promise.race([reader.read(), sleep(until - Date.now()).then(() => null)]);
        if (!r || r.done) break;
        text += dec.decode(r.value);
      }
      await reader.cancel().catch(() => {});
    } else text = await res.text();
    return { status: res.status, internal: /"code"\s*:\s*"INTERNAL"|"INTERNAL_SERVER_ERROR"/.test(text), hang: false, transport: null, ms: performance.now() - t0, req };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const hang = ctl.signal.aborted;
    return { status: null, internal: false, hang, transport: hang ? 'timeout' : (err.cause?.code ?? err.message), ms: performance.now() - t0, req };
  } finally {
    clearTimeout(timer);
  }
}

const describe = (o: Outcome) => `${o.req.method} ${o.req.path} ${(o.req.body ?? '').slice(0, 300)} → ${o.status ?? o.transport}`;

export const fuzz: Scenario = {
  name: 'fuzz',
  title: '10,000 property-based fuzzed requests over GraphQL and /v1',
  async run({ quick }) {
    const total = quick ? 1000 : 10_000;
    const source = await loadFuzzRequests();
    if ('missing' in source) {
      return {
        setup: 'not run',
        checks: [check('fuzz arbitraries available', false, 'tests/support/fuzz-arbitraries.ts', false)],
        figures: {},
        notes: [`not run: ${source.missing}. The scenario uses the project's shared arbitraries and has none of its own.`],
      };
    }
    // the null model answers without computing: the fuzz is about the API, not the engine
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker'], redis: true, env: { PARLEY_NULL_MODEL: '1' } });
    const bar = progressBar('fuzz');
    try {
      const ids = [
        { user: 'fz-alice', tenant: 'acme' }, { user: 'fz-bob', tenant: 'acme' }, { user: 'fz-alice', tenant: 'evil' },
        { user: 'fz-admin', tenant: 'acme', roles: ['admin'] }, { user: 'fz-comp', tenant: 'acme', roles: ['compliance'] },
        { user: 'fz-ds', tenant: 'acme', roles: ['data_scientist'] },
      ];
      const tokens: (string | null)[] = [...(await Promise.all(ids.map((w) => tokenFor(c.jwtSecret, w)))), null, 'not.a.jwt'];
      // some real objects to aim at
      await send(c.apiUrl, tokens[0]!, { content: 'hello, fuzz target', params: { maxTokens: 4 } });
      const api = c.byRoles('api,projector,saga')[0]!;
      // warm-up with harmless traffic, then the baseline
      for (let i = 0; i < 50; i++) await fetch(`${c.apiUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[0]}` }, body: JSON.stringify({ query: '{ me { userId } conversations { edges { node { id } } } }' }) });
      await sleep(3000);
      const baseline = rssOf(api.pid)!;
      const requests = fc.sample(source.arbitrary, { numRuns: total, seed: 20261129 });
      const outcomes: Outcome[] = [];
      const rss: [number, number][] = [[0, baseline / 2 ** 20]];
      let next = 0;
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        while (next < requests.length) {
          const i = next++;
          outcomes.push(await fire(c.apiUrl, requests[i]!, tokens[(i * 7 + w) % tokens.length]!));
          if (outcomes.length % 100 === 0) { bar.update(outcomes.length, total); const r = rssOf(api.pid); if (r) rss.push([outcomes.length, r / 2 ** 20]); }
        }
      }));
      bar.update(total, total);
      const peak = Math.max(...rss.map((x) => x[1])) * 2 ** 20;
      await sleep(20_000); // idle: timers, caches and the GC settle
      const after = rssOf(api.pid);
      rss.push([total + 1, (after ?? 0) / 2 ** 20]);
      const fivexx = outcomes.filter((o) => (o.status ?? 0) >= 500);
      const internal = outcomes.filter((o) => o.internal);
      const hangs = outcomes.filter((o) => o.hang);
      const resets = outcomes.filter((o) => o.transport && !o.hang);
      const tolerance = Math.max(1.25 * baseline, baseline + 64 * 2 ** 20);
      const mb = (b: number | null) => (b === null ? null : Math.round(b / 2 ** 20));
      return {
        setup: `processes: api,projector,saga | worker (PARLEY_NULL_MODEL=1), own redis-server, quotas on (premium tier); ${total} requests from ${source.module} (${source.used.join(', ')}), fast-check seed 20261129, 4 in flight, identities rotating over 6 tokens + none + garbage`,
        checks: [
          zero('5xx responses', fivexx.length),
          zero('INTERNAL errors', internal.length),
          zero('hangs (no answer in 30 s)', hangs.length),
          zero('connections reset without an answer', resets.length),
          check('API process alive', api.alive, 'true', api.alive),
          check('RSS back to baseline after 20 s idle (MB)', `${mb(baseline)} → peak ${mb(peak)} → ${mb(after)}`, `≤ ${mb(tolerance)}`, after !== null && after <= tolerance),
        ],
        figures: {
          requests: total, bySurface: countBy(outcomes, (o) => o.req.surface), byStatus: countBy(outcomes, (o) => String(o.status ?? o.transport)),
          rssBaselineMB: mb(baseline), rssPeakMB: mb(peak), rssAfterMB: mb(after),
        },
        rounds: [...fivexx, ...internal, ...hangs, ...resets].slice(0, 25).map((o) => ({ kind: o.hang ? 'hang' : o.internal ? 'INTERNAL' : o.transport ? 'reset' : '5xx', request: describe(o) })),
        series: { title: 'API process RSS during the fuzz', xLabel: 'requests sent', yLabel: 'MB', lines: [{ name: 'RSS', points: rss }] },
        notes: [],
      };
    } finally {
      bar.stop();
      await c.stop();
    }
  },
};
