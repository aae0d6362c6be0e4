import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { JobQueue, jobQueueMigrations } from '../../inference/worker/job-queue.ts';
import { JobFinisher } from '../../inference/worker/job-finisher.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Generation jobs on real PostgreSQL: a worker ends the jobs of the generations that ended in one
// tick with one statement, and only those its attempt still owns.
describe('job queue: ending jobs in batches', () => {
  let db: TestDatabase;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase(jobQueueMigrations);
    knex = createKnex(db.url, 4);
  });
  after(async () => {
    await knex?.destroy();
    await db?.drop();
  });

  it('ends the owned attempts in one statement and leaves a job re-leased to another worker alone', async () => {
    const jobs = new JobQueue(knex, 50);
    await jobs.enqueueManyAndNotify(['a', 'b', 'c'].map((generationId) => ({ generationId, priority: 0 })));
    assert.equal((await jobs.claim('w1', 3)).length, 3);
    // c's lease expires and w2 takes it over as attempt 2.
    await knex('generation_jobs').where({ generation_id: 'c' }).update({ lease_until: knex.raw("now() - interval '1 second'") });
    assert.deepEqual((await jobs.claim('w2', 3)).map((j) => [j.generationId, j.attempt]), [['c', 2]]);

    let statements = 0;
    const counting = { finishMany: (w: string, batch: Parameters<JobQueue['finishMany']>[1]) => { statements++; return jobs.finishMany(w, batch); } };
    const finisher = new JobFinisher(counting, 'w1');
    const owned = await Promise.all([finisher.finish('a', 1, 'done'), finisher.finish('b', 1, 'cancelled'), finisher.finish('c', 1, 'done')]);
    assert.deepEqual(owned, [true, true, false]);
    assert.equal(statements, 1, 'endings in one tick share one statement');
    const rows = await knex('generation_jobs').orderBy('generation_id').select('generation_id', 'status', 'worker_id', 'lease_until');
    assert.deepEqual(rows.map((r) => [r.generation_id, r.status, r.worker_id]), [['a', 'done', 'w1'], ['b', 'cancelled', 'w1'], ['c', 'running', 'w2']]);
    assert.equal(rows[0].lease_until, null);
    // w2 ends its attempt of c; an ending of a finished job is refused.
    assert.deepEqual([...(await jobs.finishMany('w2', [{ generationId: 'c', attempt: 2, status: 'done' }]))], ['c']);
    assert.equal((await jobs.finishMany('w1', [{ generationId: 'a', attempt: 1, status: 'failed' }])).size, 0);
    assert.equal((await knex('generation_jobs').where({ generation_id: 'a' }).first('status')).status, 'done');
  });
});
