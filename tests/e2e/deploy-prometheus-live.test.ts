// Debian's real `prometheus` scrapes a running Parley with deploy/prometheus's rules loaded: every
// rule evaluates without error against Parley's real /metrics, no alert fires on a healthy server,
// and recording rules are read back over Prometheus's HTTP API. A missing binary: skipped with the
// reason (deploy-support.ts), a failure under PARLEY_REQUIRE_PROMETHEUS=1 (CI).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/local-services.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { parse } from 'yaml';
import { deployPath, prometheusMissing, readRules } from '../unit/deploy-support.ts';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

type Sample = { metric: Record<string, string>; value: [number, string] };

describe('a real Prometheus over a running Parley', { timeout: 180_000, skip: prometheusMissing(PROMETHEUS) }, () => {
  let server: TestServer;
  let prom: ChildProcess | null = null;
  let promLog = '';
  let dir = '';
  let api = '';

  before(async () => {
    server = await startTestServer();
    dir = mkdtempSync(path.join(os.tmpdir(), 'parley-prometheus-'));
    const target = new URL(server.url).host;
    writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
      'rule_files:', `  - ${deployPath('prometheus', 'recording-rules.yml')}`, `  - ${deployPath('prometheus', 'alerts.yml')}`,
      'scrape_configs:', '  - job_name: parley', '    metrics_path: /metrics', '    static_configs:', `      - targets: ['${target}']`, '',
    ].join('\n'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prom = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => { promLog += d; });
    prom.stderr!.on('data', (d) => { promLog += d; });
    for (;;) {
      if (prom.exitCode !== null) assert.fail(`prometheus exited (${prom.exitCode}): ${promLog.slice(-2000)}`);
      const ready = await fetch(`${api}/-/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      await sleep(200);
    }
  });

  after(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const query = async (q: string): Promise<Sample[]> => {
    const body = await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as { status: string; data: { result: Sample[] } };
    assert.equal(body.status, 'success');
    return body.data.result;
  };
  /** polls until the query has a result satisfying ok (scrapes and rules run every second);
   *  meanwhile does `each` (e.g. a request, so a counter keeps rising between scrapes) */
  const eventually = async (q: string, ok: (r: Sample[]) => boolean, each?: () => Promise<void>): Promise<Sample[]> => {
    let last: Sample[] = [];
    for (let i = 0; i < 400; i++) {
      await each?.();
      last = await query(q);
      if (ok(last)) return last;
      await sleep(250);
    }
    return assert.fail(`${q} never satisfied the check; last result ${JSON.stringify(last)}`);
  };

  it('scrapes Parley and evaluates every recording rule and alert without an error', async () => {
    await eventually('up{job="parley"}', (r) => r[0]?.value[1] === '1');
    const names = new Set([...readRules('recording-rules.yml').map((r) => r.record), ...readRules('alerts.yml').map((r) => r.alert)]);
    type Rule = { name: string; health: string; lastError?: string; state?: string };
    for (;;) {
      const body = await (await fetch(`${api}/api/v1/rules`)).json() as { data: { groups: { rules: Rule[] }[] } };
      const rules = body.data.groups.flatMap((g) => g.rules);
      assert.deepEqual(new Set(rules.map((r) => r.name)), names, 'Prometheus loaded exactly the rules of deploy/prometheus');
      const bad = rules.filter((r) => r.health === 'err');
      assert.deepEqual(bad.map((r) => `${r.name}: ${r.lastError}`), []);
      if (rules.every((r) => r.health === 'ok')) {
        assert.deepEqual(rules.filter((r) => r.state === 'firing').map((r) => r.name), [], 'no alert fires on a healthy, idle Parley');
        break;
      }
      await sleep(250);
    }
  });

  it('reads recording rules back over the HTTP API: queue depth, projection lag, request rate, error ratio', async () => {
    const depth = await eventually('parley:job_queue_depth:queued', (r) => r.length === 1);
    assert.equal(depth[0]!.value[1], '0');
    const lag = await eventually('parley:projection_lag_seconds:max', (r) => r.some((s) => s.metric.projection === 'inference-saga'));
    assert.ok(lag.length > 1, 'one series per projection, the saga among them');
    // Traffic Parley serves (not probes): the request-rate rule rises above zero, and none was a 5xx.
    // A request each poll: prom-client shows a label set only once observed, so the counter must
    // rise between two scrapes for rate() to see it.
    const request = async () => {
      const res = await fetch(`${server.url}/v1/models`);
      assert.ok(res.status < 500, `GET /v1/models: ${res.status}`);
      await res.arrayBuffer();
    };
    const rate = await eventually('parley:http_requests:rate5m', (r) => r.length === 1 && Number(r[0]!.value[1]) > 0, request);
    assert.ok(Number(rate[0]!.value[1]) > 0);
    const errors = await eventually('parley:http_request_errors:ratio_rate5m', (r) => r.length === 1);
    assert.equal(Number(errors[0]!.value[1]), 0);
  });

  it("evaluates the KEDA ScaledObject's worker-scaling query against the scraped Parley", async () => {
    const scaled = parse(readFileSync(deployPath('k8s', 'keda-scaledobject.yaml'), 'utf8')) as { spec: { triggers: { metadata: { query: string } }[] } };
    const result = await eventually(scaled.spec.triggers[0]!.metadata.query, (r) => r.length === 1);
    assert.equal(result[0]!.value[1], '0', 'an idle Parley has no queued generation jobs');
  });
});
