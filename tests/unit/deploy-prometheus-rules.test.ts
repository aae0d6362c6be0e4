// deploy/prometheus: the rules load in Debian's promtool, every alert has a unit test that passes,
// and every metric the rules read is one Parley exports. promtool missing: skipped with the reason
// (deploy-support.ts), a failure under PARLEY_REQUIRE_PROMETHEUS=1 (CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { deployPath, prometheusMissing, promqlMetricNames, readRules, usableNames } from './deploy-support.ts';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
const missing = prometheusMissing(PROMTOOL);
function promtool(...args: string[]) {
  return spawnSync(PROMTOOL, args, { cwd: deployPath('prometheus'), encoding: 'utf8' });
}

test('promtool check rules accepts the recording rules and the alerts', { skip: missing }, () => {
  const r = promtool('check', 'rules', 'recording-rules.yml', 'alerts.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /recording-rules\.yml\s+SUCCESS: \d+ rules found/);
  assert.match(r.stdout, /alerts\.yml\s+SUCCESS: \d+ rules found/);
});

test('promtool test rules passes alerts.test.yml', { skip: missing }, () => {
  const r = promtool('test', 'rules', 'alerts.test.yml');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test('promtool test rules fails when an expectation is wrong (the unit tests can fail)', { skip: missing }, async () => {
  const { mkdtempSync, writeFileSync, copyFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/parley-promtool-');
  for (const f of ['recording-rules.yml', 'alerts.yml']) copyFileSync(deployPath('prometheus', f), `${dir}/${f}`);
  const broken = readFileSync(deployPath('prometheus', 'alerts.test.yml'), 'utf8').replace('exp_labels: { severity: warning, projection: conversations }', 'exp_labels: { severity: page, projection: conversations }');
  writeFileSync(`${dir}/alerts.test.yml`, broken);
  const r = spawnSync(PROMTOOL, ["test", "rules", "alerts.test.yml"], { cwd: dir, encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /ParleyProjectionLag/);
});

test('every alert has a firing case in alerts.test.yml', () => {
  const alerts = readRules('alerts.yml').map((r) => r.alert!).filter(Boolean);
  type T = { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
  const tests = (parse(readFileSync(deployPath('prometheus', 'alerts.test.yml'), 'utf8')) as T).tests;
  const firing = new Set(tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
  for (const a of ['ParleyAvailabilityBurnFast', 'ParleyAvailabilityBurnSlow', 'ParleyTTFTBurnFast', 'ParleyTTFTBurnSlow', 'ParleyJobQueueBacklog', 'ParleyProjectionLag', 'ParleySagaLag', 'ParleyWorkerLeaseLosses', 'ParleySafetyFailOpen', 'ParleyEventStoreAppendErrors']) {
    assert.ok(alerts.includes(a), `alerts.yml lacks ${a}`);
  }
  assert.deepEqual(alerts.filter((a) => !firing.has(a)), [], 'alerts without a firing unit test');
});

test('the rules read only metrics Parley exports (or recording rules over them)', async () => {
  const { exported, recorded } = await usableNames();
  const rules = [...readRules('recording-rules.yml'), ...readRules('alerts.yml')];
  const unknown = rules.flatMap((r) => promqlMetricNames(r.expr).filter((n) => !exported.has(n) && !recorded.has(n)).map((n) => `${r.record ?? r.alert}: ${n}`));
  assert.deepEqual(unknown, []);
  // and the check itself catches a name Parley does not export
  assert.deepEqual(promqlMetricNames('rate(parley_made_up_total[5m])').filter((n) => !exported.has(n)), ['parley_made_up_total']);
  // the rules use the metrics added for them
  const all = rules.map((r) => r.expr).join('\n');
  for (const m of ['parley_job_lease_losses_total', 'parley_safety_degraded_total', 'parley_event_store_append_errors_total', 'parley_gateway_time_to_first_token_seconds_bucket', 'parley_job_queue_depth', 'parley_projection_lag_seconds']) assert.match(all, new RegExp(m));
});

