// `npm run bench [name...] [--option ...]`: runs bench/<name>.ts (each exports `run()`), or every benchmark.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { answers, redisServerInstalled, startLocalPostgres, startLocalRedis } from '../tests/support/local-services.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
// Names come first; options after them (`npm run bench:pipeline -- --tree ../before`) are the benchmark's own.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
// Rows kept in their own file but run by another benchmark's script: `bench:engine` also runs the
// speculative-decoding rows (engine.bench.ts is long enough); each also runs alone by its name.
const ALSO: Record<string, string[]> = { engine: ['engine-speculative'] };
const names = [...new Set((wanted.length ? wanted : all).flatMap((n) => [n, ...(ALSO[n] ?? [])]))];
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark "${name}"; known: ${all.join(', ')}`);
    process.exit(2);
  }
}
// What each benchmark needs besides Node (the others start their own embedded PostgreSQL or need
// nothing). On a machine where it is not running: PostgreSQL is started embedded for the run;
// Redis is started when redis-server is installed, and otherwise the benchmark is skipped with one
// line saying what to install. (engine checks python3-torch itself.)
const NEEDS: Record<string, ('postgres' | 'redis')[]> = {
  'append-many': ['postgres'], encryption: ['postgres'], eventstore: ['postgres'], projections: ['postgres'],
  'readmodel-encryption': ['postgres'], 'event-footprint': ['postgres'], roles: ['postgres'], e2e: ['postgres', 'redis'], retrieval: ['postgres'],
};
const say = (line: string) => console.log(`[bench] ${line}`);
const hostPort = (url: string) => { const u = new URL(url); return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)}`; };
const stops: (() => unknown)[] = [];
const skipped = new Set<string>();
if (names.some((n) => NEEDS[n]?.includes('postgres'))) {
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  if (!(await answers(hostPort(url)))) {
    say(`no PostgreSQL at ${hostPort(url)} (BENCH_DATABASE_URL): using an embedded one for this run`);
    const pg = await startLocalPostgres(say);
    process.env.BENCH_DATABASE_URL = process.env.TEST_DATABASE_URL = pg.url;
    stops.push(pg.stop);
  }
}
if (names.some((n) => NEEDS[n]?.includes('redis'))) {
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await answers(hostPort(url)))) {
    if (redisServerInstalled()) {
      const redis = await startLocalRedis(say);
      process.env.BENCH_REDIS_URL = redis.url;
      stops.push(redis.stop);
    } else {
      for (const n of names.filter((n) => NEEDS[n]?.includes('redis'))) {
        say(`${n}: skipped — needs Redis at ${hostPort(url)} (BENCH_REDIS_URL) or redis-server installed (apt-get install redis-server)`);
        skipped.add(n);
      }
    }
  }
}
try {
  for (const name of names.filter((n) => !skipped.has(n))) {
    console.log(`\n=== bench: ${name} ===`);
    const mod = (await import(path.join(here, `${name}.bench.ts`))) as { run: () => Promise<void> };
    await mod.run();
  }
} finally {
  for (const stop of stops) await stop();
}
process.exit(skipped.size ? 1 : 0);
