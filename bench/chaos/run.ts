// `npm run chaos [-- --only a,b] [--quick]`: the chaos and fuzz suite of issue 14, one scenario at
// a time (each on its own fresh deployment and database), then bench/results/chaos.{json,md} and
// chaos-<scenario>.svg. Not part of `npm test`: it kills processes and takes minutes.
// With --only, the other scenarios' previous results are kept in the report.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReport, type Report } from './report.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';
import { workerKill } from './scenarios/worker-kill.ts';
import { sagaKill, projectorKill } from './scenarios/consumer-kill.ts';
import { apiKill } from './scenarios/api-kill.ts';
import { pgTerminate } from './scenarios/pg-terminate.ts';
import { redisOutage } from './scenarios/redis-outage.ts';
import { concurrentSends } from './scenarios/concurrent-sends.ts';
import { fuzz } from './scenarios/fuzz.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.resolve(here, '../results');
const SCENARIOS: Scenario[] = [workerKill, sagaKill, projectorKill, apiKill, pgTerminate, redisOutage, concurrentSends, fuzz];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.flatMap((a, i) => (a === '--only' ? (args[i + 1] ?? '').split(',') : a.startsWith('--only=') ? a.slice(7).split(',') : [])).filter(Boolean);
const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = only.length ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;

// CHAOS_COMMIT: when the suite runs from an exported tree (no .git), the commit it was exported from
const commit = process.env.CHAOS_COMMIT ?? (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return 'unknown'; } })();
const t0 = Date.now();
const results: ScenarioResult[] = [];
for (const s of chosen) {
  console.log(`\n=== chaos: ${s.name} (${s.title})${quick ? ' --quick' : ''} ===`);
  const s0 = Date.now();
  let r: ScenarioResult;
  try {
    const out = await s.run({ quick });
    r = { name: s.name, title: s.title, passed: out.checks.every((c) => c.ok), seconds: (Date.now() - s0) / 1000, ranAt: new Date().toISOString(), commit, ...out };
  } catch (e) {
    const err = e as Error;
    r = { name: s.name, title: s.title, setup: '-', passed: false, seconds: (Date.now() - s0) / 1000, ranAt: new Date().toISOString(), commit, checks: [{ name: 'scenario ran to the end', value: 'threw', expected: 'ran', ok: false }], figures: {}, notes: [`the harness threw: ${(err.stack ?? String(err)).slice(0, 1500)}`] };
  }
  results.push(r);
  for (const c of r.checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${typeof c.value === 'object' ? JSON.stringify(c.value) : c.value} (expected ${c.expected})`);
  for (const n of r.notes) console.log(`  note: ${n.slice(0, 500)}`);
}

const previous: Report | null = only.length && existsSync(path.join(resultsDir, 'chaos.json')) ? JSON.parse(readFileSync(path.join(resultsDir, 'chaos.json'), 'utf8')) : null;
const merged = SCENARIOS.flatMap((s) => results.find((r) => r.name === s.name) ?? previous?.scenarios.find((r) => r.name === s.name) ?? []);
mkdirSync(resultsDir, { recursive: true });
writeReport(resultsDir, {
  ranAt: new Date().toISOString(), commit, quick,
  machine: `${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} at the end`,
  seconds: (Date.now() - t0) / 1000, scenarios: merged,
});
console.log(`\nwrote bench/results/chaos.{json,md}: ${results.filter((r) => r.passed).length}/${results.length} scenarios passed`);
process.exit(0);
