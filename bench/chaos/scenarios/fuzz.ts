// 10,000 property-based fuzzed requests against GraphQL and /v1, generated and judged by the
// project's one fuzz kit (tests/support/fuzz-arbitraries.ts + fuzz-runner.ts, shared with the CI
// fuzz test): no 5xx, no INTERNAL error, no hang, no connection dropped without an answer. This
// scenario adds the deployment, the identities (two users of one tenant, the same user id in
// another tenant, admin, compliance, data_scientist, no token, a garbage token), an ordinary turn
// afterwards, and the API process's memory: RSS sampled during the run and after 20 s idle.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Cluster, rssOf, sleep } from '../cluster.ts';
import { tokenFor } from '../client.ts';
import { check, zero, type Scenario } from '../scenario.ts';
import { progressBar } from '../../../bin/progress.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const KIT = 'tests/support/fuzz-arbitraries.ts';
const SEED = 20261129;

// The parts of the kit this scenario uses (loaded at run time, so the suite runs without it).
type Failure = { kind: string; label: string; status: number | null; request: string; detail: string };
type Kit = {
  runFuzz(baseUrl: string, tokens: (string | null)[], numRuns: number, options: { seed?: number; concurrency?: number; pools?: unknown; onProgress?: (done: number, total: number) => void }): Promise<{ seed: number; requests: number; ms: number; byStatus: Record<string, number>; byLabel: Record<string, number>; failures: Failure[] }>;
  collectPools(baseUrl: string, token: string): Promise<unknown>;
  normalTurn(baseUrl: string, token: string, content?: string): Promise<{ text: string; finishReason: string | null }>;
};

export const fuzz: Scenario = {
  name: 'fuzz',
  title: '10,000 property-based fuzzed requests over GraphQL and /v1',
  async run({ quick }) {
    const total = quick ? 1000 : 10_000;
    if (!existsSync(path.join(root, KIT))) {
      return { setup: 'not run', checks: [check('fuzz kit available', false, KIT, false)], figures: {}, notes: [`not run: ${KIT} is not in this tree; the scenario has no generators of its own.`] };
    }
    const kit = (await import(pathToFileURL(path.join(root, KIT)).href)) as Kit;
    // the null model answers without computing: the fuzz is about the API, not the engine
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker'], redis: true, env: { PARLEY_NULL_MODEL: '1' } });
    const bar = progressBar('fuzz');
    try {
      const who = [
        { user: 'fz-alice', tenant: 'acme' }, { user: 'fz-bob', tenant: 'acme' }, { user: 'fz-alice', tenant: 'evil' },
        { user: 'fz-admin', tenant: 'acme', roles: ['admin'] }, { user: 'fz-comp', tenant: 'acme', roles: ['compliance'] },
        { user: 'fz-ds', tenant: 'acme', roles: ['data_scientist'] },
      ];
      const tokens: (string | null)[] = [...(await Promise.all(who.map((w) => tokenFor(c.jwtSecret, w)))), null, 'not.a.jwt'];
      const pools = await kit.collectPools(c.apiUrl, tokens[0]!); // alice's real ids, positions, cursors
      const api = c.byRoles('api,projector,saga')[0]!;
      await sleep(3000);
      const baseline = rssOf(api.pid)!;
      const rss: [number, number][] = [[0, baseline / 2 ** 20]];
      const report = await kit.runFuzz(c.apiUrl, tokens, total, {
        seed: SEED, concurrency: 4, pools,
        onProgress: (done, n) => {
          if (done % 100 !== 0 && done !== n) return;
          bar.update(done, n);
          const r = rssOf(api.pid);
          if (r) rss.push([done, r / 2 ** 20]);
        },
      });
      bar.stop();
      const peak = Math.max(...rss.map((x) => x[1])) * 2 ** 20;
      await sleep(20_000); // idle: timers, caches and the GC settle
      const after = rssOf(api.pid);
      if (after) rss.push([total + 200, after / 2 ** 20]);
      const turn = await kit.normalTurn(c.apiUrl, tokens[1]!).then((t) => `answered (${t.finishReason})`, (e: Error) => `failed: ${e.message.slice(0, 200)}`);
      const kinds = (k: string) => report.failures.filter((f) => f.kind === k).length;
      const tolerance = Math.max(1.25 * baseline, baseline + 64 * 2 ** 20);
      const mb = (b: number | null) => (b === null ? null : Math.round(b / 2 ** 20));
      return {
        setup: `processes: api,projector,saga | worker (PARLEY_NULL_MODEL=1: a fixed answer without computing), own redis-server, quotas on (premium tier); ${report.requests} requests from ${KIT} (runFuzz), seed ${report.seed}, 4 in flight, identities rotating over 6 tokens + none + garbage, aimed at real ids of one user`,
        checks: [
          zero('5xx responses', kinds('5xx')),
          zero('INTERNAL errors', kinds('INTERNAL')),
          zero('hangs (no complete answer in 30 s)', kinds('hang')),
          zero('connections dropped without an answer', kinds('transport')),
          check('API process alive, an ordinary turn answered afterwards', `${api.alive}, ${turn}`, 'true, answered', api.alive && turn.startsWith('answered')),
          check('API RSS back near baseline 20 s after (MB)', `${mb(baseline)} → peak ${mb(peak)} → ${mb(after)}`, `≤ ${mb(tolerance)} (max of +25 %, +64 MB)`, after !== null && after <= tolerance),
        ],
        figures: { requests: report.requests, seconds: report.ms / 1000, byStatus: report.byStatus, byLabel: report.byLabel, rssBaselineMB: mb(baseline), rssPeakMB: mb(peak), rssAfterMB: mb(after) },
        rounds: report.failures.slice(0, 30).map((f) => ({ kind: f.kind, label: f.label, status: f.status, request: f.request.slice(0, 240), detail: f.detail.slice(0, 200) })),
        series: { title: 'API process RSS during the fuzz (last point: 20 s idle after)', xLabel: 'requests sent', yLabel: 'MB', lines: [{ name: 'RSS', points: rss }] },
        notes: [...(report.failures.length > 30 ? [`${report.failures.length} failures; the first 30 are listed`] : []), ...c.procs.filter((p) => !p.alive).map((p) => p.deathNote())],
      };
    } finally {
      bar.stop();
      await c.stop();
    }
  },
};
