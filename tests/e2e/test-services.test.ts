// `npm test` on a machine with nothing running: tests/support/services.ts starts an embedded
// PostgreSQL and a redis-server of its own for the run and stops them after. Exercised here with the
// probe pointed at ports where nothing answers (the shared PostgreSQL and Redis keep running).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { ADMIN_URL } from '../support/database.ts';

const exec = promisify(execFile);
const DEAD = '127.0.0.1:1'; // nothing listens on port 1
const answers = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port });
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

// What the command run under services.ts sees: the database server it reaches and a Redis PING.
const INSPECT = `
const pg = require('pg'); const net = require('node:net');
(async () => {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL }); await c.connect();
  const r = (await c.query("select current_setting('data_directory') as dir, current_setting('port') as port")).rows[0]; await c.end();
  const u = new URL(process.env.TEST_REDIS_URL);
  const pong = await new Promise((resolve, reject) => { const s = net.connect(Number(u.port), u.hostname, () => s.write('PING\\r\\n'));
    s.on('data', (d) => { s.destroy(); resolve(String(d).trim()); }); s.on('error', reject); });
  console.log(JSON.stringify({ dir: r.dir, port: Number(r.port), redisPort: Number(u.port), pong }));
})().catch((e) => { console.error(e); process.exit(3); });`;

function servicesEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of ['TEST_DATABASE_URL', 'TEST_REDIS_URL']) if (!(key in extra)) delete env[key];
  delete env.NODE_TEST_CONTEXT; // a test run started from this test reports like a top-level one
  return env;
}

describe('tests that set themselves up (tests/support/services.ts)', () => {
  it('with nothing answering, starts an embedded PostgreSQL and a redis-server for the command, then stops both', async () => {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'tests/support/services.ts', '--', process.execPath, '-e', INSPECT],
      { env: servicesEnv({ TEST_PG_PROBE: DEAD, TEST_REDIS_PROBE: DEAD }) });
    const seen = JSON.parse(stdout.trim()) as { dir: string; port: number; redisPort: number; pong: string };
    const announced = /starting an embedded PostgreSQL in (\S+)/.exec(stderr)?.[1];
    assert.ok(announced, stderr);
    assert.notEqual(seen.port, 5432, 'not the shared PostgreSQL');
    assert.equal(seen.dir, announced, 'the tests reach the embedded PostgreSQL it announced');
    assert.equal(seen.pong, '+PONG');
    assert.notEqual(seen.redisPort, 6379, 'not the shared Redis');
    assert.match(stderr, /embedded PostgreSQL stopped/);
    assert.equal(existsSync(seen.dir), false, 'the data directory is removed');
    assert.equal(await answers(seen.port), false, 'the embedded PostgreSQL is stopped');
    assert.equal(await answers(seen.redisPort), false, 'the redis-server is stopped');
  });

  it('passes the command\'s exit code through', async () => {
    const e = await exec(process.execPath, ['--import', 'tsx', 'tests/support/services.ts', '--', process.execPath, '-e', 'process.exit(7)'],
      { env: servicesEnv({ TEST_DATABASE_URL: ADMIN_URL, TEST_REDIS_PROBE: DEAD }) }).then(() => null, (error: { code: number }) => error);
    assert.equal(e?.code, 7);
  });

  it('without redis-server installed, says in one line what to install', async () => {
    // A PATH with node and nothing else: no redis-server to find.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'parley-path-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const { stderr } = await exec(process.execPath, ['--import', 'tsx', 'tests/support/services.ts', '--', process.execPath, '-e', ''],
      { env: servicesEnv({ PATH: bin, TEST_DATABASE_URL: ADMIN_URL, TEST_REDIS_PROBE: DEAD }) });
    assert.equal(stderr, '[test services] no Redis at 127.0.0.1:1 and redis-server is not installed: the Redis tests will fail; apt-get install redis-server\n');
  });

  it('a Redis test without a Redis fails with one line saying what to install (never skipped)', async () => {
    const e = await exec(process.execPath, ['--import', 'tsx', '--test', 'tests/unit/quota-limiter.test.ts'],
      { env: servicesEnv({ TEST_DATABASE_URL: ADMIN_URL, TEST_REDIS_URL: 'redis://127.0.0.1:1' }) })
      .then(() => null, (error: { code: number; stdout: string }) => error);
    assert.ok(e, 'the run fails');
    assert.equal(e.code, 1);
    assert.match(e.stdout, /no Redis answers at 127\.0\.0\.1:1: install redis-server \(apt-get install redis-server; npm test then starts its own\) or set TEST_REDIS_URL/);
    assert.match(e.stdout, /# skipped 0/);
    assert.match(e.stdout, /# cancelled [1-9]/); // a failed before hook cancels its tests and fails the run
  });
});
