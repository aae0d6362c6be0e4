import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventStoreContract } from '../support/eventstore-contract.ts';
import { renamed } from '../support/events.ts';

eventStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  const store = await new PostgresEventStore({ connectionString: db.url, pollMs: 200 }).start();
  return { store, cleanup: async () => { await store.close(); await db.drop(); } };
});

describe('PostgreSQL event store under out-of-order commits', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100 }).start();
  });
  after(async () => { await store.close(); await db.drop(); });

  it('a subscriber sees every event exactly once, in one consistent order, when commits land late', async () => {
    const writers = 12;
    const txPerWriter = 8;
    const total = writers * txPerWriter * 2;
    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const subscriber = (async () => {
      for await (const e of store.subscribe({ signal: controller.signal, batchSize: 7 })) {
        seen.push(e);
        if (seen.length === total) controller.abort();
      }
    })();

    // Each writer holds its transaction open for a random time after appending, so a transaction
    // that took its position early often commits after later ones: a bare position cursor would skip it.
    const streams = Array.from({ length: 5 }, () => `conversation-${randomUUID()}`);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        for (let t = 0; t < txPerWriter; t++) {
          const events = [renamed('c', `${w}-${t}-a`), renamed('c', `${w}-${t}-b`)];
          await client.query('begin');
          await client.query(
            'select * from parley_append($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])',
            [streams[(w + t) % streams.length], 'any', events.map((e) => e.metadata.eventId), events.map((e) => e.type),
              events.map((e) => e.version), events.map((e) => JSON.stringify(e.data)), events.map((e) => JSON.stringify(e.metadata))],
          );
          await new Promise((r) => setTimeout(r, Math.random() * 40));
          await client.query('commit');
        }
        await client.end();
      }),
    );
    const timeout = setTimeout(() => controller.abort(), 60_000); // liveness bound only
    await subscriber;
    clearTimeout(timeout);

    const ids = seen.map((e) => e.metadata.eventId);
    assert.equal(new Set(ids).size, ids.length, 'no event delivered twice');
    assert.equal(ids.length, total, 'every event delivered');
    const replay = await store.readAll({ limit: 10_000 });
    assert.deepEqual(ids, replay.map((e) => e.metadata.eventId), 'live order equals replay order');
    // Within a stream, revisions arrive in order.
    for (const s of streams) {
      const revs = seen.filter((e) => e.streamId === s).map((e) => e.revision);
      assert.deepEqual(revs, [...revs].sort((a, b) => a - b));
    }
  });

  // The race behind a once-failing run of the test above: the log is read in transaction-id order,
  // so an append that took its id and THEN waited for a stream wrote later revisions under a lower
  // id (the log had 2, 3, 0, 1). Here: a two-stream append writes its first stream, then waits for
  // the second. Whoever waits for a stream must not hold an id yet (see STREAM_LOCK_NOTE).
  it('an append that waits for a stream holds no transaction id while it waits', async () => {
    const first = `conversation-1${randomUUID()}`;
    const second = `conversation-2${randomUUID()}`;
    await store.append(second, [renamed('c', 'second-0')], { expectedRevision: 'no_stream' });
    const holder = new pg.Client({ connectionString: db.url });
    const observer = new pg.Client({ connectionString: db.url });
    await Promise.all([holder.connect(), observer.connect()]);
    try {
      const e = renamed('c', 'holder');
      await holder.query('begin');
      await holder.query('select * from parley_append($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])',
        [second, 'any', [e.metadata.eventId], [e.type], [e.version], [JSON.stringify(e.data)], [JSON.stringify(e.metadata)]]);
      const waiting = store.appendMany([
        { streamId: first, events: [renamed('c', 'first-0')], expectedRevision: 'any' },
        { streamId: second, events: [renamed('c', 'waiter')], expectedRevision: 'any' },
      ]);
      let state: { backend_xid: string | null } | undefined;
      for (let i = 0; i < 400 && !state; i++) {
        state = (await observer.query(`select backend_xid::text from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%parley_append_many%'`)).rows[0];
        if (!state) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(state, 'the two-stream append waits for the held stream');
      assert.equal(state.backend_xid, null, 'and holds no transaction id while it waits');
      await holder.query('commit');
      await waiting;
    } finally {
      await Promise.all([holder.end(), observer.end()]);
    }
    const inLog = (await store.readAll({ limit: 10_000 })).filter((e) => e.streamId === second);
    assert.deepEqual(inLog.map((e) => e.revision), [0, 1, 2], 'the log holds the stream in revision order');
    assert.deepEqual(inLog.map((e) => e.type === 'ConversationRenamed' && e.data.title), ['second-0', 'holder', 'waiter']);
  });

  it('holds back events behind a transaction that is still open, then delivers them', async () => {
    const from = await store.headPosition();
    const slow = new pg.Client({ connectionString: db.url });
    await slow.connect();
    await slow.query('begin');
    const early = renamed('c', 'early-but-slow');
    await slow.query('select * from parley_append($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])',
      [`conversation-${randomUUID()}`, 'any', [early.metadata.eventId], [early.type], [1], [JSON.stringify(early.data)], [JSON.stringify(early.metadata)]]);
    await store.append(`conversation-${randomUUID()}`, [renamed('c', 'late-but-fast')], { expectedRevision: 'no_stream' });
    assert.deepEqual(await store.readAll({ from }), [], 'nothing is readable past an open older transaction');
    await slow.query('commit');
    await slow.end();
    let after = await store.readAll({ from });
    for (let i = 0; i < 200 && after.length < 2; i++) { await new Promise((r) => setTimeout(r, 25)); after = await store.readAll({ from }); }
    const titles = after.map((e) => e.type === 'ConversationRenamed' && e.data.title);
    assert.deepEqual(titles, ['early-but-slow', 'late-but-fast']);
  });
});
