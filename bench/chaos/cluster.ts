// The scaled deployment the chaos scenarios hurt: `parley serve --role …` OS processes sharing one
// fresh PostgreSQL database (parley_chaos_<random>, dropped at the end) and, when asked, a
// redis-server of our own on a free port (never the shared 6379, which others use).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openEventStore } from '../../eventstore/esdb/select.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { answers, freePort } from '../../tests/support/local-services.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_URL = process.env.CHAOS_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const RANDOM_MODEL_DIR = path.join(root, 'inference/model/test-random');
export const SHIPPED_MODEL_DIR = path.join(root, 'inference/model/parley-tiny');

export const HARNESS_APP = 'parley-chaos-harness';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { freePort };

/** Resident set size of a process in bytes (Linux /proc), null once it is gone. */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export class RoleProcess {
  child!: ChildProcess;
  out = '';
  private exited!: Promise<void>;
  constructor(readonly roles: string, private readonly env: Record<string, string>) {}

  get pid(): number { return this.child.pid!; }

  /** How it died, for the report: the first error lines of its output, and its exit code or signal. */
  deathNote(): string {
    const lines = this.out.split('\n');
    const at = lines.findIndex((l) => /Error|error:|FATAL|Unhandled|uncaught/i.test(l));
    const head = at >= 0 ? lines.slice(Math.max(0, at - 1), at + 4).join(' ').replace(/\s+/g, ' ').slice(0, 600) : this.out.slice(-300);
    return `process "${this.roles}" (pid ${this.child.pid}) exited (${this.child.exitCode ?? this.child.signalCode}): ${head}`;
  }
  get alive(): boolean { return this.child.exitCode === null && this.child.signalCode === null; }

  async start(): Promise<this> {
    const home = mkdtempSync(path.join(os.tmpdir(), 'parley-chaos-'));
    this.out = '';
    this.child = spawn(process.execPath, ['bin/parley.mjs', 'serve', '--role', this.roles], {
      cwd: root,
      env: { ...process.env, PARLEY_HOME: home, PARLEY_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = this.child;
    this.exited = new Promise((r) => child.once('exit', () => { rmSync(home, { recursive: true, force: true }); r(); }));
    const keep = (d: Buffer) => { this.out = (this.out + d).slice(-200_000); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.roles}: no PARLEY_READY in 120 s:\n${this.out.slice(-4000)}`)), 120_000);
      const check = () => { if (this.out.includes('PARLEY_READY')) { clearTimeout(timer); child.stdout!.off('data', check); resolve(); } };
      child.stdout!.on('data', check);
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${this.roles} exited (${code ?? signal}) before ready:\n${this.out.slice(-4000)}`)); });
    });
    return this;
  }

  /** kill -9, and wait until the OS has reaped it. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(35_000).then(() => false)]);
    if (!done) await this.kill9();
  }
}

/** A redis-server of our own (no persistence) that a scenario may pause, kill and restart. */
export class OwnRedis {
  child: ChildProcess | null = null;
  constructor(readonly port: number) {}
  get url() { return `redis://127.0.0.1:${this.port}`; }
  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await answers(`127.0.0.1:${this.port}`)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }
  pause() { this.child?.kill('SIGSTOP'); }
  resume() { this.child?.kill('SIGCONT'); }
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGCONT');
    c.kill('SIGKILL');
    await gone;
  }
}

export type ClusterOptions = {
  /** role sets, one process each, started in this order; the first must include `api`. */
  processes: string[];
  redis?: boolean;
  modelDir?: string;
  env?: Record<string, string>;
};

/** One deployment on its own database. */
export class Cluster {
  readonly dbName = `parley_chaos_${randomBytes(5).toString('hex')}`;
  readonly url: string;
  readonly env: Record<string, string>;
  readonly procs: RoleProcess[] = [];
  redis: OwnRedis | null = null;
  pool!: pg.Pool;
  store!: EventStore & { close(): Promise<void> };
  apiUrl = '';
  readonly masterKey = randomBytes(32);
  readonly jwtSecret = randomBytes(32).toString('hex');

  private constructor(readonly options: ClusterOptions, private readonly apiPort: number) {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${this.dbName}`;
    this.url = u.toString();
    this.env = {
      DATABASE_URL: this.url,
      PARLEY_MASTER_KEY: this.masterKey.toString('hex'),
      PARLEY_JWT_SECRET: this.jwtSecret,
      MODEL_DIR: options.modelDir ?? RANDOM_MODEL_DIR,
      PARLEY_LEASE_MS: '1500',
      // two cores shared by everything: one onnxruntime thread per worker
      PARLEY_INTRA_OP_THREADS: '1',
      HOST: '127.0.0.1',
      ...options.env,
    };
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(options, await freePort());
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${c.dbName}`);
    await admin.end();
    if (options.redis) {
      c.redis = new OwnRedis(await freePort());
      await c.redis.start();
      c.env.REDIS_URL = c.redis.url;
    }
    c.apiUrl = `http://127.0.0.1:${c.apiPort}`;
    c.pool = new pg.Pool({ connectionString: c.harnessUrl, max: 4 });
    c.pool.on('error', () => {}); // an idle connection terminated by a scenario: the pool replaces it
    try {
      for (const roles of options.processes) {
        const env = roles.split(',').includes('api') ? { ...c.env, PORT: String(c.apiPort) } : { ...c.env, PORT: '0' };
        const p = new RoleProcess(roles, env);
        c.procs.push(p);
        await p.start();
      }
      c.store = await openEventStore({ connectionString: c.harnessUrl, masterKey: c.masterKey });
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** The harness's own connections carry this application_name, so a scenario can spare them. */
  get harnessUrl(): string {
    const u = new URL(this.url);
    u.searchParams.set('application_name', HARNESS_APP);
    return u.toString();
  }

  /** The processes running exactly these roles. */
  byRoles(roles: string): RoleProcess[] { return this.procs.filter((p) => p.roles === roles); }

  /** Starts a (killed) process again; when it does not come up, says what its database sessions wait for. */
  async restart(p: RoleProcess): Promise<void> {
    try {
      await p.start();
    } catch (e) {
      const rows = await this.query(`select pid, application_name, state, wait_event_type, wait_event, now() - xact_start as xact_age, left(query, 160) as query
        from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`).catch(() => []);
      throw new Error(`${(e as Error).message}\nsessions of ${this.dbName}:\n${rows.map((r) => JSON.stringify(r)).join('\n')}`);
    }
  }

  async query<T = any>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  async stop(): Promise<void> {
    for (const p of [...this.procs].reverse()) if (p.child) await p.stop();
    await this.store?.close().catch(() => {});
    await this.pool?.end().catch(() => {});
    await this.redis?.kill9();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${this.dbName} with (force)`);
    await admin.end();
  }
}
