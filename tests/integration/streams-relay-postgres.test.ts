// The Kafka relay's PostgreSQL side (its checkpoint table, the one-relay-per-name lease) and a
// relay over the real PostgreSQL event store, with a fake broker (see kafka-relay-contract for a real one).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { START } from '../../eventstore/port.ts';
import { PgRelayCheckpoints, RelayLease, relayMigrations } from '../../streams/kafka/checkpoints.ts';
import { HEADER, KafkaRelay } from '../../streams/kafka/relay.ts';
import { parseTopicMapping } from '../../streams/kafka/topics.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { assertRelayed, carol, ev, FakeProducer, seedStory } from '../support/streams-fixtures.ts';

describe('Kafka relay on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let knex: ReturnType<typeof createKnex>;

  before(async () => {
    db = await createTestDatabase(relayMigrations);
    store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100 }).start();
    knex = createKnex(db.url, 3);
  });
  after(async () => {
    await store?.close();
    await knex?.destroy();
    await db?.drop();
  });

  it('keeps checkpoints per relay name; --from only seeds a relay that has none', async () => {
    const checkpoints = new PgRelayCheckpoints(knex);
    assert.equal(await checkpoints.load('a'), START);
    await checkpoints.init('a', '5/5');
    await checkpoints.init('a', '9/9');
    assert.equal(await checkpoints.load('a'), '5/5');
    await checkpoints.save('a', '6/1', 3);
    await checkpoints.save('b', '7/1', 2);
    assert.equal(await checkpoints.load('a'), '6/1');
    assert.equal(await checkpoints.load('b'), '7/1');
    const row = await knex('parley_relay_checkpoints').where({ name: 'a' }).first();
    assert.equal(Number(row.events_relayed), 3);
  });

  it('lets one relay per name run; a standby takes over when it goes', async () => {
    const first = new RelayLease(db.url, 'leased');
    const second = new RelayLease(db.url, 'leased');
    const other = new RelayLease(db.url, 'other-name');
    assert.equal(await first.acquire(new AbortController().signal), true);
    assert.equal(await other.acquire(new AbortController().signal), true);
    let waiting = false;
    const standby = second.acquire(new AbortController().signal, () => (waiting = true), 50);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(waiting, true);
    await first.release();
    assert.equal(await standby, true);
    await second.release();
    await other.release();
  });

  it('relays the log, survives a restart from its checkpoint, and follows live appends', async () => {
    await seedStory(store);
    const checkpoints = new PgRelayCheckpoints(knex);
    const topics = parseTopicMapping(undefined);
    const broken = new FakeProducer();
    broken.script = ['ack', 'hang'];
    const first = new KafkaRelay({ name: 'pg', store, producer: broken, checkpoints, topics, batchSize: 5 });
    first.start();
    while (broken.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    const log = await store.readAll();
    assert.equal(await checkpoints.load('pg'), log[4]!.position, 'only the acknowledged batch is checkpointed');

    const producer = new FakeProducer();
    const second = new KafkaRelay({ name: 'pg', store, producer, checkpoints, topics, batchSize: 5 });
    second.start();
    while ((await checkpoints.load('pg')) !== log.at(-1)!.position) await new Promise((r) => setTimeout(r, 10));
    const c = randomUUID();
    await store.append(`conversation-${c}`, [ev.started(c, carol, 'live')], { expectedRevision: 'no_stream' });
    const now = await store.readAll();
    while ((await checkpoints.load('pg')) !== now.at(-1)!.position) await new Promise((r) => setTimeout(r, 10));
    await second.stop();

    assertRelayed([...broken.log, ...producer.log], now, 'across the restart');
    assert.ok(producer.log.every((d) => d.headers[HEADER.eventId] !== broken.log[0]!.headers[HEADER.eventId]), 'the acknowledged batch is not sent again');
  });
});
