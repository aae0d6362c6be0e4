// deploy/grafana/parley.json references only metrics Parley exports (read-api/http/metrics.ts, with
// its Node process metrics) or the recording rules of deploy/prometheus over them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deployPath, prometheusMissing, promqlMetricNames, usableNames } from './deploy-support.ts';

type Panel = { type: string; title: string; targets?: { expr: string }[]; panels?: Panel[] };
const dashboard = JSON.parse(readFileSync(deployPath('grafana', 'parley.json'), 'utf8')) as { title: string; uid: string; panels: Panel[] };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

test('the dashboard has panels with queries, each naming at least one metric', () => {
  assert.equal(dashboard.uid, 'parley-overview');
  assert.ok(exprs.length >= 20, `${exprs.length} queries`);
  for (const { panel, expr } of exprs) {
    if (/^[\d.]+$/.test(expr)) continue; // an objective line
    assert.ok(promqlMetricNames(expr).length > 0, `${panel}: ${expr}`);
  }
});

test('every metric the dashboard references is one Parley exports or records', async () => {
  const { exported, recorded } = await usableNames();
  const unknown = exprs.flatMap(({ panel, expr }) => promqlMetricNames(expr).filter((n) => !exported.has(n) && !recorded.has(n)).map((n) => `${panel}: ${n}`));
  assert.deepEqual(unknown, []);
  // the check fails on a name Parley does not export (vLLM's own, say)
  assert.deepEqual(promqlMetricNames('sum(vllm:gpu_cache_usage_perc)').filter((n) => !exported.has(n) && !recorded.has(n)), ['vllm:gpu_cache_usage_perc']);
});

test('the dashboard covers the SLOs, the queue, lag, lease losses, fail-open and append errors', () => {
  const all = exprs.map((e) => e.expr).join('\n');
  for (const name of ['parley:http_request_errors:ratio_rate5m', 'parley:ttft_seconds:p95_5m', 'parley:job_queue_depth:queued', 'parley:projection_lag_seconds:max', 'parley:job_lease_losses:increase15m', 'parley:safety_degraded:rate5m', 'parley:event_store_append_errors:rate5m']) {
    assert.ok(all.includes(name), `no panel shows ${name}`);
  }
});

test("every dashboard query is valid PromQL (promtool parses them as rules)", { skip: prometheusMissing(process.env.PROMTOOL ?? '/usr/bin/promtool') }, async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const promtool = process.env.PROMTOOL ?? '/usr/bin/promtool';
  const dir = mkdtempSync('/tmp/parley-grafana-');
  const rules = exprs.map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e.expr.replaceAll('$__rate_interval', '5m'))}`);
  writeFileSync(`${dir}/dashboard.yml`, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
  const r = spawnSync(promtool, ['check', 'rules', `${dir}/dashboard.yml`], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
});
