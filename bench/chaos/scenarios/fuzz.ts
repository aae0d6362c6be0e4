// 10,000 property-based fuzzed requests against GraphQL and /v1, generated and judged by the
// project's one fuzz kit (tests/support/fuzz-arbitraries.ts + fuzz-runner.ts, shared with the CI
// fuzz test): no 5xx, no INTERNAL error, no hang, no connection dropped without an answer. This
// scenario adds the deployment, the identities (two users of one tenant, the same user id in
// another tenant, admin, compliance, data_scientist, no token, a garbage token), an ordinary turn
// afterwards, and the API process's memory: RSS sampled during the run and after 20 s idle.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
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
    // SIGUSR2 makes a process write a heap snapshot, which runs a full GC first: the memory check
    // reads the heap after one, so garbage an idle process has not collected yet is not counted.
    const snapshots = mkdtempSync(path.join(os.tmpdir(), 'parley-chaos-heap-'));
    const c = await Cluster.start({ processes: ['api,projector,saga', 'worker'], redis: true, env: { PARLEY_NULL_MODEL: '1', NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` } });
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
      const heapBaseline = await collectedMemory(api.pid, c.apiUrl, snapshots);
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
      const heapAfter = await collectedMemory(api.pid, c.apiUrl, snapshots);
      const turn = await kit.normalTurn(c.apiUrl, tokens[1]!).then((t) => `answered (${t.finishReason})`, (e: Error) => `failed: ${e.message.slice(0, 200)}`);
      const kinds = (k: string) => report.failures.filter((f) => f.kind === k).length;
      const heapTolerance = Math.max(1.25 * heapBaseline, heapBaseline + 32 * 2 ** 20);
      const mb = (b: number | null) => (b === null ? null : Math.round(b / 2 ** 20));
      return {
        setup: `processes: api,projector,saga | worker (PARLEY_NULL_MODEL=1: a fixed answer without computing), own redis-server, quotas on (premium tier); ${report.requests} requests from ${KIT} (runFuzz), seed ${report.seed}, 4 in flight, identities rotating over 6 tokens + none + garbage, aimed at real ids of one user`,
        checks: [
          zero('5xx responses', kinds('5xx')),
          zero('INTERNAL errors', kinds('INTERNAL')),
          zero('hangs (no complete answer in 30 s)', kinds('hang')),
          zero('connections dropped without an answer', kinds('transport')),
          check('API process alive, an ordinary turn answered afterwards', `${api.alive}, ${turn}`, 'true, answered', api.alive && turn.startsWith('answered')),
          // A leak is memory the process still uses after a full GC: the V8 heap and the external (Buffer) memory.
          // RSS is reported beside it: V8 and the C allocator keep freed pages mapped after a peak,
          // so RSS stays near its high-water mark even when nothing is held (see notes).
          check('API heap used + external memory after a full GC, back near baseline 20 s after (MB)', `${mb(heapBaseline)} → ${mb(heapAfter)}`, `≤ ${mb(heapTolerance)} (max of +25 %, +32 MB)`, heapAfter <= heapTolerance),
        ],
        figures: { requests: report.requests, seconds: report.ms / 1000, byStatus: report.byStatus, byLabel: report.byLabel, rssBaselineMB: mb(baseline), rssPeakMB: mb(peak), rssAfterMB: mb(after) },
        rounds: report.failures.slice(0, 30).map((f) => ({ kind: f.kind, label: f.label, status: f.status, request: f.request.slice(0, 240), detail: f.detail.slice(0, 200) })),
        series: { title: 'API process RSS during the fuzz (last point: 20 s idle after)', xLabel: 'requests sent', yLabel: 'MB', lines: [{ name: 'RSS', points: rss }] },
        notes: [`RSS (not a pass/fail check): ${mb(baseline)} MB before, ${mb(peak)} MB at the peak, ${mb(after)} MB 20 s after — freed pages stay mapped by V8 and the allocator`, ...(report.failures.length > 30 ? [`${report.failures.length} failures; the first 30 are listed`] : []), ...c.procs.filter((p) => !p.alive).map((p) => p.deathNote())],
      };
    } finally {
      bar.stop();
      await c.stop();
      rmSync(snapshots, { recursive: true, force: true });
    }
  },
};

// Has the process write a heap snapshot (a full GC runs first), waits until the file is complete,
// deletes it, then reads the heap in use.
async function collectedMemory(pid: number, apiUrl: string, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0, last = -1; i < 240; i++) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (!file) continue;
    const size = statSync(path.join(dir, file)).size;
    if (size > 0 && size === last) { rmSync(path.join(dir, file), { force: true }); return jsMemory(apiUrl); }
    last = size;
  }
  throw new Error('the API process wrote no heap snapshot in 120 s');
}

// The API process's V8 heap in use plus its external (Buffer) memory, from its own /metrics.
async function jsMemory(apiUrl: string): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const total = value('parley_process_nodejs_heap_size_used_bytes') + value('parley_process_nodejs_external_memory_bytes');
  if (!Number.isFinite(total)) throw new Error('the API /metrics lacks parley_process_nodejs_heap_size_used_bytes / external_memory_bytes');
  return total;
}
