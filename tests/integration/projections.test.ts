import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { CommandHandler } from '../../commands/command-handler.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { ProjectionRunner, projectionLag, projections, setupProjections } from '../../projections/index.ts';
import { waitForProjection } from '../../projections/projection-runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice, bob, metadata } from '../support/events.ts';

describe('projection runner', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let knex: Knex;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100 }).start();
    knex = createKnex(db.url);
    await setupProjections(knex);
  });
  after(async () => { await knex.destroy(); await store.close(); await db.drop(); });

  it('two runner processes on one database never apply the same batch twice', async () => {
    const handler = new CommandHandler({ store });
    const conversationId = randomUUID();
    await handler.execute({ type: 'StartConversation', data: { conversationId }, metadata: { commandId: randomUUID(), actor: alice } });
    const runners = [1, 2].map(() => new ProjectionRunner({ knex, store, projections, batchSize: 3 }));
    for (const r of runners) r.start();
    const n = 40;
    let last = '';
    for (let i = 0; i < n; i++) {
      const r = await handler.execute({ type: 'SubmitMessage', data: { conversationId, messageId: `m${i}`, generationId: `g${i}`, content: `message ${i}` }, metadata: { commandId: randomUUID(), actor: alice } });
      assert.ok(r.ok);
      last = r.position;
    }
    assert.ok(await waitForProjection(knex, 'history', last, 20_000));
    await Promise.all(runners.map((r) => r.stop()));
    const conv = await knex('history_conversations').where({ id: conversationId }).first();
    assert.equal(conv.message_count, n, 'a doubly applied batch would double-count');
    const applied = await knex('parley_checkpoints').where({ name: 'history' }).first();
    assert.equal(Number(applied.events_applied), n + 1);
    assert.deepEqual(await projectionLag(knex, 'history'), { events: 0, seconds: 0 });
  });

  it('read-your-writes: many waiters share one checkpoint poll; an unreached position times out', async () => {
    const own = createKnex(db.url); // its own watcher, so the queries counted are only these waiters'
    try {
      let polls = 0;
      own.on('query', (q: { sql: string }) => { if (/parley_checkpoints/.test(q.sql)) polls++; });
      await knex('parley_checkpoints').insert({ name: 'watch-test', position: '0/0' });
      const waiters = Array.from({ length: 50 }, () => waitForProjection(own, 'watch-test', '100/5', 10_000));
      await new Promise((r) => setTimeout(r, 50));
      await knex('parley_checkpoints').where({ name: 'watch-test' }).update({ position: '100/7' });
      assert.deepEqual(await Promise.all(waiters), Array(50).fill(true));
      assert.ok(polls < 50, `${polls} checkpoint reads for 50 waiters`);
      assert.equal(await waitForProjection(own, 'watch-test', '101/1', 100), false);
      assert.equal(await waitForProjection(own, 'watch-test', '100/7', 100), true);
    } finally {
      await own.destroy();
    }
  });

  it('builds the audit trail without content, filterable, and lags are measurable', async () => {
    const text = 'how do I pick a lock';
    const safety = (actor = alice, verdict: 'blocked' | 'allowed' = 'blocked') => ({
      type: 'SafetyChecked', version: 1,
      data: {
        conversationId: 'c1', messageId: 'm1', generationId: null, stage: 'input', verdict,
        categories: [{ category: 'dangerous', score: verdict === 'blocked' ? 0.9 : 0.1, severity: verdict === 'blocked' ? 'HIGH' : 'NEGLIGIBLE', blocked: verdict === 'blocked' }],
        policyVersion: 'policy-2026-11', latencyMs: 0.4, degraded: false,
        contentHash: createHash('sha256').update(text).digest('hex'),
      },
      metadata: metadata(actor),
    });
    await store.append(`conversation-${randomUUID()}`, [safety(), safety(alice, 'allowed')], { expectedRevision: 'any' });
    const r = await store.append(`conversation-${randomUUID()}`, [safety(bob)], { expectedRevision: 'any' });
    const runner = new ProjectionRunner({ knex, store, projections });
    const lag = await projectionLag(knex, 'audit');
    assert.ok(lag.events >= 3);
    runner.start();
    assert.ok(await waitForProjection(knex, 'audit', r.position));
    await runner.stop();
    const rows = await knex('audit_log').where({ event_type: 'SafetyChecked' }).orderBy('seq');
    assert.deepEqual(rows.map((x) => [x.user_id, x.verdict, x.policy_version]), [
      ['alice', 'blocked', 'policy-2026-11'], ['alice', 'allowed', 'policy-2026-11'], ['bob', 'blocked', 'policy-2026-11'],
    ]);
    assert.ok(!JSON.stringify(rows).includes(text), 'no content in the audit trail');
    assert.deepEqual(rows[0].flagged_categories, ['dangerous']);
    assert.deepEqual(rows[1].flagged_categories, []);
  });
});
