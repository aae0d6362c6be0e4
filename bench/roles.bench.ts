// `npm run bench:roles [-- --users 16,64] [--model null|shipped]`: what a turn costs each role.
//
// The pipeline benchmark (pipeline.bench.ts) measures the embedded default — every role in one
// Node process — so it gives one CPU figure per turn. An operator sizes each Deployment separately
// (deploy/k8s: api, saga, projector, worker), and `parley plan` prints one line per role, so this
// benchmark runs the SCALED deployment instead: one `parley serve --role <r>` OS process per role
// (bench/chaos/cluster.ts), a fresh database on the machine's PostgreSQL, a redis-server of its own
// for the live tokens, and the same simulated users as the pipeline benchmark (its client process:
// GraphQL sendMessage, then the answer streamed over graphql-sse to its end).
//
// Per level: CPU ms per turn of each role process (utime + stime from /proc, its worker threads
// included), and of the PostgreSQL backends serving this benchmark's database (recognised by the
// database name in their process title). PostgreSQL's shared background processes (checkpointer,
// WAL writer) serve every database on the machine and are not counted: the total is a lower bound
// on PostgreSQL's share. The default model is the null model (PARLEY_NULL_MODEL=1: 32 fixed tokens,
// no compute), as the planner wants Parley's own cost; GPUs are sized separately.
// Results: bench/results/roles.{json,md,svg}; the planner (bin/plan) reads roles.json.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Cluster, SHIPPED_MODEL_DIR, sleep } from './chaos/cluster.ts';
import { Clients, commitOf, MAX_TOKENS, percentile, r1, scrape, TURNS } from './pipeline.bench.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROLES = ['api', 'saga', 'projector', 'worker'] as const;
type Role = (typeof ROLES)[number];
type Part = Role | 'postgres';
const CLK_TCK = 100;

export type RoleLevel = {
  users: number; turns: number; errors: number; turnsPerSec: number; ttftP50: number | null; ttftP95: number | null;
  cpuMsPerTurn: Record<Part, number>; totalCpuMsPerTurn: number; postgresBackends: number;
};
export type RolesResult = { generatedAt: string; commit: string; model: 'null' | 'shipped'; machine: string; levels: RoleLevel[] };

/** utime + stime (+ reaped children) of one process, in ms; 0 once it is gone. */
function processCpuMs(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** CPU of the PostgreSQL backends whose process title names this database ("postgres: user db host(port) state"). */
function backendsCpuMs(dbName: string): { ms: number; count: number } {
  let ms = 0;
  let count = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const title = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!title.startsWith('postgres:') || !title.includes(` ${dbName} `)) continue;
      ms += processCpuMs(Number(d));
      count++;
    } catch { /* exited meanwhile */ }
  }
  return { ms, count };
}

function snapshot(cluster: Cluster): { parts: Record<Part, number>; backends: number } {
  const parts = Object.fromEntries(ROLES.map((r) => [r, processCpuMs(cluster.byRoles(r)[0]!.pid)])) as Record<Part, number>;
  const pg = backendsCpuMs(cluster.dbName);
  parts.postgres = pg.ms;
  return { parts, backends: pg.count };
}

function parseArgs(argv: string[]) {
  const get = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const users = (get('users') ?? '16,64').split(',').map(Number);
  for (const u of users) if (!Number.isInteger(u) || u < 1) throw new Error(`--users: positive integers, got ${u}`);
  const model = get('model') ?? 'null';
  if (model !== 'null' && model !== 'shipped') throw new Error(`--model: null or shipped, got ${model}`);
  return { users, model: model as 'null' | 'shipped' };
}

export async function run(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  console.log(`roles benchmark: ${ROLES.join(', ')} as separate processes, ${opts.model} model, users ${opts.users.join(', ')}; ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  const cluster = await Cluster.start({
    processes: [...ROLES], redis: true, modelDir: SHIPPED_MODEL_DIR,
    env: {
      PARLEY_NULL_MODEL: opts.model === 'null' ? '1' : '0', PARLEY_LEASE_MS: '30000',
      // Admission runs as always, with limits no level reaches (this measures cost, not refusals).
      PARLEY_TIERS: JSON.stringify({ free: { user: { rpm: 1_000_000, tpm: 1_000_000_000, streams: 10_000 }, tenant: { rpm: 1_000_000, tpm: 1_000_000_000, streams: 100_000 } } }),
      PARLEY_BROWNOUT_QUEUE_DEPTH: '1000000', PARLEY_SHED_QUEUE_DEPTH: '1000000', PARLEY_SHUTDOWN_GRACE_MS: '2000',
    },
  });
  // The cluster's JWT secret is its own; sign with it.
  const { signToken } = await import(pathToFileURL(path.join(here, '../read-api/auth.ts')).href) as { signToken: (s: string, a: { userId: string; tenantId: string; roles: string[] }) => Promise<string> };
  const clients = new Clients();
  await clients.ready;
  const levels: RoleLevel[] = [];
  try {
    const tokens = await Promise.all(Array.from({ length: Math.max(...opts.users) }, (_, i) => signToken(cluster.jwtSecret, { userId: `roles-user-${i}`, tenantId: 'bench', roles: ['user'] })));
    const settle = async () => {
      for (let i = 0; i < 240; i++) {
        const s = await scrape(cluster.apiUrl);
        if (s.lagEvents === 0 && s.jobs === 0) return;
        await sleep(250);
      }
      throw new Error('the cluster did not settle within 60 s');
    };
    await clients.run({ url: cluster.apiUrl, tokens: tokens.slice(0, 8), turnsPerUser: 1, maxTokens: MAX_TOKENS, promptOffset: 3 }); // warm-up
    await settle();
    for (const [k, users] of opts.users.entries()) {
      const turnsPerUser = Math.max(1, Math.round((TURNS[users] ?? users) / users));
      const before = snapshot(cluster);
      const { turns } = await clients.run({ url: cluster.apiUrl, tokens: tokens.slice(0, users), turnsPerUser, maxTokens: MAX_TOKENS, promptOffset: k });
      const wallMs = Math.max(...turns.map((t) => t.doneAt ?? Date.now())) - Math.min(...turns.map((t) => t.sendAt));
      await settle();
      const after = snapshot(cluster);
      const n = turns.length;
      const ok = turns.filter((t) => !t.error);
      const cpuMsPerTurn = Object.fromEntries((['api', 'saga', 'projector', 'worker', 'postgres'] as Part[]).map((p) => [p, r1((after.parts[p] - before.parts[p]) / n)!])) as Record<Part, number>;
      const ttfts = ok.filter((t) => t.firstAt !== null).map((t) => t.firstAt! - t.sendAt);
      const level: RoleLevel = {
        users, turns: n, errors: n - ok.length, turnsPerSec: r1((ok.length * 1000) / wallMs)!, ttftP50: r1(percentile(ttfts, 50)), ttftP95: r1(percentile(ttfts, 95)),
        cpuMsPerTurn, totalCpuMsPerTurn: r1(Object.values(cpuMsPerTurn).reduce((a, b) => a + b, 0))!, postgresBackends: after.backends,
      };
      levels.push(level);
      console.log(`  ${users} users: ${n} turns (${level.errors} errors), ${level.turnsPerSec} turns/s; CPU ms/turn ${Object.entries(cpuMsPerTurn).map(([p, v]) => `${p} ${v}`).join(', ')} (total ${level.totalCpuMsPerTurn})`);
      if (level.errors) console.log(`  first error: ${turns.find((t) => t.error)?.error}`);
    }
  } finally {
    clients.stop();
    await cluster.stop();
  }
  const result: RolesResult = { generatedAt: new Date().toISOString(), commit: commitOf(path.join(here, '..')), model: opts.model, machine: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, Node ${process.version}`, levels };
  writeFileSync(path.join(here, 'results/roles.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(here, 'results/roles.md'), markdown(result));
  writeFileSync(path.join(here, 'results/roles.svg'), svg(result));
  console.log('wrote bench/results/roles.{json,md,svg}');
}

function markdown(r: RolesResult): string {
  const parts: Part[] = ['api', 'saga', 'projector', 'worker', 'postgres'];
  return [
    '# CPU per turn, by role (`npm run bench:roles`)',
    '',
    `${r.generatedAt}, commit ${r.commit}, ${r.model} model, ${r.machine}. Scaled deployment: one process per role, the machine's PostgreSQL`,
    '(this database\'s backends only), an own redis-server. CPU = utime + stime from /proc over the level, ÷ turns.',
    '',
    `| users | turns | errors | turns/s | TTFT p50 / p95 ms | ${parts.join(' | ')} | total |`,
    `|---:|---:|---:|---:|---:|${parts.map(() => '---:').join('|')}|---:|`,
    ...r.levels.map((l) => `| ${l.users} | ${l.turns} | ${l.errors} | ${l.turnsPerSec} | ${l.ttftP50} / ${l.ttftP95} | ${parts.map((p) => l.cpuMsPerTurn[p]).join(' | ')} | ${l.totalCpuMsPerTurn} |`),
    '',
    '![CPU ms per turn by role](roles.svg)',
    '',
  ].join('\n');
}

// One stacked bar per level: where a turn's CPU goes.
function svg(r: RolesResult): string {
  const parts: Part[] = ['api', 'saga', 'projector', 'worker', 'postgres'];
  const colors: Record<Part, string> = { api: '#4e79a7', saga: '#f28e2b', projector: '#59a14f', worker: '#e15759', postgres: '#76b7b2' };
  const max = Math.max(...r.levels.map((l) => l.totalCpuMsPerTurn), 1);
  const W = 640, barH = 28, left = 90, top = 40, scale = (W - left - 40) / max;
  const rows = r.levels.map((l, i) => {
    let x = left;
    const y = top + i * (barH + 14);
    const segs = parts.map((p) => {
      const w = l.cpuMsPerTurn[p] * scale;
      const rect = `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0, w).toFixed(1)}" height="${barH}" fill="${colors[p]}"><title>${p}: ${l.cpuMsPerTurn[p]} ms</title></rect>`;
      x += Math.max(0, w);
      return rect;
    }).join('');
    return `<text x="${left - 8}" y="${y + 19}" text-anchor="end">${l.users} users</text>${segs}<text x="${(x + 6).toFixed(1)}" y="${y + 19}">${l.totalCpuMsPerTurn} ms</text>`;
  }).join('');
  const legendY = top + r.levels.length * (barH + 14) + 10;
  const legend = parts.map((p, i) => `<rect x="${left + i * 100}" y="${legendY}" width="12" height="12" fill="${colors[p]}"/><text x="${left + i * 100 + 16}" y="${legendY + 11}">${p}</text>`).join('');
  const H = legendY + 30;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12"><text x="${left}" y="22" font-size="14">CPU ms per turn by role (${r.model} model, commit ${r.commit})</text>${rows}${legend}</svg>\n`;
}
