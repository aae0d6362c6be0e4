import type { Knex } from 'knex';
import type { MigrationSet } from '../../eventstore/postgres/migrations.ts';

export const jobQueueMigrations: MigrationSet = {
  name: 'jobs',
  migrations: {
    '001_generation_jobs': {
      async up(knex) {
        await knex.raw(`
          create table generation_jobs (
            generation_id text primary key,
            priority int not null default 0,
            status text not null default 'queued',  -- queued | running | done | cancelled | failed
            attempt int not null default 0,
            max_attempts int not null default 3,
            worker_id text,
            lease_until timestamptz,
            created_at timestamptz not null default now(),
            updated_at timestamptz not null default now()
          );
          create index generation_jobs_claim on generation_jobs (status, priority desc, created_at);
        `);
      },
      async down(knex) {
        await knex.raw('drop table generation_jobs');
      },
    },
    // Jobs carry their model (PARLEY_MODELS): a worker claims only jobs for models it has loaded.
    // null: a job queued before models were routed, for whichever worker serves the default.
    '002_generation_jobs_model': {
      async up(knex) {
        await knex.raw(`alter table generation_jobs add column model text`);
      },
      async down(knex) {
        await knex.raw('alter table generation_jobs drop column model');
      },
    },
  },
};

// The models a worker claims for: their names, and whether it also takes unrouted (null-model) jobs.
export type ClaimModels = { names: readonly string[]; includeUnrouted: boolean };

export type ModelLoad = { queued: number; running: number; oldestQueuedMs: number };

export type ClaimedJob = { generationId: string; attempt: number; priority: number };

// Generation jobs in PostgreSQL: claimed with FOR UPDATE SKIP LOCKED and leased. A worker that dies
// stops renewing its lease; another worker then claims the job again as a new attempt.
export class JobQueue {
  constructor(private readonly knex: Knex, private readonly leaseMs = 10_000) {}

  // Idempotent: the saga may enqueue the same generation again after a restart.
  async enqueue(trx: Knex | Knex.Transaction, generationId: string, priority = 0, maxAttempts = 3, model: string | null = null): Promise<void> {
    await trx('generation_jobs').insert({ generation_id: generationId, priority, max_attempts: maxAttempts, model }).onConflict('generation_id').ignore();
  }

  // Enqueues outside any checkpoint transaction and wakes idle workers (they listen for appends).
  // One statement, one round trip (it runs for every message).
  async enqueueAndNotify(generationId: string, priority = 0, maxAttempts = 3): Promise<void> {
    await this.knex.raw(
      `with queued as (insert into generation_jobs (generation_id, priority, max_attempts) values (?, ?, ?) on conflict (generation_id) do nothing)
       select pg_notify('parley_events', '')`,
      [generationId, priority, maxAttempts],
    );
  }

  // A batch of jobs (a burst the saga requested together): one statement, one NOTIFY.
  async enqueueManyAndNotify(jobs: readonly { generationId: string; priority: number; model?: string | null }[], maxAttempts = 3): Promise<void> {
    if (jobs.length === 0) return;
    await this.knex.raw(
      `with queued as (insert into generation_jobs (generation_id, priority, max_attempts, model)
                        select g, p, ?, m from unnest(?::text[], ?::int[], ?::text[]) as j(g, p, m)
                       on conflict (generation_id) do nothing)
       select pg_notify('parley_events', '')`,
      [maxAttempts, jobs.map((j) => j.generationId), jobs.map((j) => j.priority), jobs.map((j) => j.model ?? null) as string[]],
    );
  }

  // `models`: only jobs for these models (a worker's loaded set); absent: any job.
  async claim(workerId: string, limit: number, models?: ClaimModels): Promise<ClaimedJob[]> {
    if (limit <= 0) return [];
    const forModels = models ? `and (model = any(?::text[])${models.includeUnrouted ? ' or model is null' : ''})` : '';
    const { rows } = await this.knex.raw(
      `update generation_jobs set status = 'running', attempt = attempt + 1, worker_id = ?,
              lease_until = now() + ? * interval '1 millisecond', updated_at = now()
        where generation_id in (
          select generation_id from generation_jobs
           where (status = 'queued' or (status = 'running' and lease_until < now())) and attempt < max_attempts ${forModels}
           order by priority desc, created_at
           limit ? for update skip locked)
        returning generation_id, attempt, priority`,
      [workerId, this.leaseMs, ...(models ? [[...models.names]] : []), limit],
    );
    return rows.map((r: { generation_id: string; attempt: number; priority: number }) => ({ generationId: r.generation_id, attempt: r.attempt, priority: r.priority }));
  }

  // Jobs whose last allowed attempt's lease expired: they will not be retried.
  async reapExhausted(): Promise<ClaimedJob[]> {
    const { rows } = await this.knex.raw(
      `update generation_jobs set status = 'failed', updated_at = now()
        where generation_id in (
          select generation_id from generation_jobs
           where status = 'running' and lease_until < now() and attempt >= max_attempts
           for update skip locked)
        returning generation_id, attempt, priority`,
    );
    return rows.map((r: { generation_id: string; attempt: number; priority: number }) => ({ generationId: r.generation_id, attempt: r.attempt, priority: r.priority }));
  }

  async heartbeat(workerId: string, generationIds: string[]): Promise<void> {
    if (generationIds.length === 0) return;
    await this.knex.raw(
      `update generation_jobs set lease_until = now() + ? * interval '1 millisecond'
        where worker_id = ? and status = 'running' and generation_id = any(?)`,
      [this.leaseMs, workerId, generationIds],
    );
  }

  // Ends many jobs in one statement (a worker's generations that ended in the same tick), each only
  // if its attempt still owns it; returns the ids that were ended.
  async finishMany(workerId: string, jobs: readonly { generationId: string; attempt: number; status: 'done' | 'failed' | 'cancelled' }[]): Promise<Set<string>> {
    if (jobs.length === 0) return new Set();
    const { rows } = await this.knex.raw(
      `update generation_jobs j set status = f.status, updated_at = now(), lease_until = null
         from unnest(?::text[], ?::int[], ?::text[]) as f(generation_id, attempt, status)
        where j.generation_id = f.generation_id and j.attempt = f.attempt and j.worker_id = ? and j.status = 'running'
        returning j.generation_id`,
      [jobs.map((j) => j.generationId), jobs.map((j) => j.attempt), jobs.map((j) => j.status), workerId],
    );
    return new Set(rows.map((r: { generation_id: string }) => r.generation_id));
  }

  // Returns true when this worker's attempt still owns the job (it was not re-leased elsewhere).
  async owns(generationId: string, workerId: string, attempt: number): Promise<boolean> {
    const row = await this.knex('generation_jobs').where({ generation_id: generationId, worker_id: workerId, attempt, status: 'running' }).first('generation_id');
    return Boolean(row);
  }

  async cancelQueued(trx: Knex | Knex.Transaction, generationId: string): Promise<void> {
    await trx('generation_jobs').where({ generation_id: generationId, status: 'queued' }).update({ status: 'cancelled', updated_at: trx.fn.now() });
  }

  async releaseAll(workerId: string): Promise<void> {
    // Graceful shutdown: hand unfinished jobs back at once instead of waiting for the lease.
    await this.knex('generation_jobs').where({ worker_id: workerId, status: 'running' }).update({ lease_until: this.knex.fn.now() });
  }

  // Attempts after each job's first: each began because an earlier lease expired or was handed back.
  async leaseLosses(): Promise<number> {
    const { rows } = await this.knex.raw('select coalesce(sum(attempt - 1), 0)::bigint as n from generation_jobs where attempt > 1');
    return Number(rows[0]?.n ?? 0);
  }

  // Per model (the router's fallback): jobs waiting for a worker, jobs running, and how long the
  // oldest has waited. Unrouted jobs count as ''.
  async loadByModel(): Promise<Map<string, ModelLoad>> {
    const { rows } = await this.knex.raw(
      `select coalesce(model, '') as model,
              count(*) filter (where status = 'queued')::int as queued,
              count(*) filter (where status = 'running')::int as running,
              coalesce(extract(epoch from now() - min(created_at) filter (where status = 'queued')) * 1000, 0)::float8 as oldest
         from generation_jobs where status in ('queued', 'running') group by 1`,
    );
    return new Map(rows.map((r: { model: string; queued: number; running: number; oldest: number }) => [r.model, { queued: Number(r.queued), running: Number(r.running), oldestQueuedMs: Number(r.oldest) }]));
  }

  async depth(): Promise<{ queued: number; running: number }> {
    const rows: { status: string; n: string | number }[] = await this.knex('generation_jobs').whereIn('status', ['queued', 'running']).groupBy('status').select('status').count({ n: '*' }) as never;
    const get = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    return { queued: get('queued'), running: get('running') };
  }
}
