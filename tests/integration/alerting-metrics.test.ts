// The three metrics added for deploy/prometheus/alerts.yml, from their real sources: lease losses
// counted from generation_jobs on real PostgreSQL, fail-open safety decisions, and event-store
// appends that throw (counted, then rethrown unchanged).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { JobQueue, jobQueueMigrations } from '../../inference/worker/job-queue.ts';
import { Metrics } from '../../read-api/http/metrics.ts';
import { observedStore } from '../../read-api/observability/instrument.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const value = async (m: Metrics, name: string, labels: Record<string, string> = {}) => {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = metric?.values.find((s) => Object.entries(labels).every(([k, l]) => s.labels[k] === l));
  return v?.value ?? 0;
};

describe('metrics behind the alerts', () => {
  let db: TestDatabase;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase(jobQueueMigrations);
    knex = createKnex(db.url, 2);
  });
  after(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it('parley_job_lease_losses_total counts attempts that took over a lost lease', async () => {
    const jobs = new JobQueue(knex, 60_000);
    const m = new Metrics();
    m.addDatabase(knex, [], async () => ({ events: 0, seconds: 0 }), () => jobs.depth(), () => jobs.leaseLosses());
    await jobs.enqueueManyAndNotify(['a', 'b'].map((generationId) => ({ generationId, priority: 0 })));
    assert.equal((await jobs.claim('w1', 2)).length, 2);
    assert.equal(await value(m, 'parley_job_lease_losses_total'), 0);
    // w1 dies: a's lease expires and w2 takes it over as attempt 2.
    await knex('generation_jobs').where({ generation_id: 'a' }).update({ lease_until: knex.raw("now() - interval '1 second'") });
    assert.deepEqual((await jobs.claim('w2', 2)).map((j) => [j.generationId, j.attempt]), [['a', 2]]);
    assert.equal(await value(m, 'parley_job_lease_losses_total'), 1);
    // A graceful shutdown hands b back: the next attempt counts too; a scrape without change adds nothing.
    await jobs.releaseAll('w1');
    assert.equal((await jobs.claim('w3', 2)).length, 1);
    assert.equal(await value(m, 'parley_job_lease_losses_total'), 2);
    assert.equal(await value(m, 'parley_job_lease_losses_total'), 2);
  });

  it('parley_safety_degraded_total counts fail-open decisions by stage', async () => {
    const m = new Metrics();
    m.safety('input', 'allowed', [], false);
    m.safety('input', 'allowed', [], true);
    m.safety('output', 'flagged', [{ category: 'harassment', score: 0.6, blocked: false }], true);
    assert.equal(await value(m, 'parley_safety_degraded_total', { stage: 'input' }), 1);
    assert.equal(await value(m, 'parley_safety_degraded_total', { stage: 'output' }), 1);
    assert.equal(await value(m, 'parley_safety_decisions_total', { stage: 'input', verdict: 'allowed' }), 2);
  });

  it('parley_event_store_append_errors_total counts appends that throw and rethrows them', async () => {
    const m = new Metrics();
    class ConcurrencyError extends Error { override name = 'ConcurrencyError'; }
    let next: Error | null = new Error('connection terminated');
    const store = {
      append: async (_s: string, _e: unknown[], _o: object) => { if (next) throw next; return { duplicate: false }; },
      appendMany: async (_a: unknown[]) => { throw new ConcurrencyError('expected version 3, found 4'); },
    };
    const observed = observedStore(store as never, m) as unknown as typeof store;
    await assert.rejects(observed.append('s', [], {}), /connection terminated/);
    await assert.rejects(observed.appendMany([]), ConcurrencyError);
    next = null;
    await observed.append('s', [], {});
    assert.equal(await value(m, 'parley_event_store_append_errors_total', { kind: 'error' }), 1);
    assert.equal(await value(m, 'parley_event_store_append_errors_total', { kind: 'conflict' }), 1);
  });
});
