// The Kafka relay against a real broker: runs when KAFKA_BROKERS is set (host:port[,host:port]),
// reported as skipped otherwise (no broker can run in CI). Optional: KAFKA_SSL=1 and
// KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD. It creates topics named
// parley-test-<random>.<category> (3 partitions) and deletes them afterwards.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { PgRelayCheckpoints, relayMigrations } from '../../streams/kafka/checkpoints.ts';
import { createKafka, ensureTopics, parseBrokers, relayTopics, saslFromEnv } from '../../streams/kafka/client.ts';
import { createRelayProducer, HEADER, KafkaRelay } from '../../streams/kafka/relay.ts';
import { categoryOf, parseTopicMapping } from '../../streams/kafka/topics.ts';
import type { WireEvent } from '../../streams/privacy.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { carol, ev, seedStory } from '../support/streams-fixtures.ts';

const BROKERS = process.env.KAFKA_BROKERS;

if (!BROKERS) {
  describe('Kafka relay contract (KAFKA_BROKERS)', () => {
    it('relays the log to a real broker', { skip: 'KAFKA_BROKERS is not set (no Kafka broker here); see README "Event streams for data scientists"' }, () => {});
  });
} else {
  describe('Kafka relay contract against a real broker', () => {
    let db: TestDatabase;
    let store: PostgresEventStore;
    let knex: ReturnType<typeof createKnex>;
    let kafka: Kafka;
    const prefix = `parley-test-${randomBytes(4).toString('hex')}.`;
    const topics = parseTopicMapping(undefined, prefix);

    before(async () => {
      db = await createTestDatabase(relayMigrations);
      store = await new PostgresEventStore({ connectionString: db.url, pollMs: 100 }).start();
      knex = createKnex(db.url, 2);
      kafka = createKafka({ brokers: parseBrokers(BROKERS), clientId: 'parley-contract-test', ssl: process.env.KAFKA_SSL === '1', sasl: saslFromEnv() });
      await ensureTopics(kafka, relayTopics(topics), 3, -1);
    });

    after(async () => {
      const admin = kafka?.admin();
      if (admin) {
        await admin.connect();
        await admin.deleteTopics({ topics: relayTopics(topics) }).catch(() => undefined);
        await admin.disconnect();
      }
      await store?.close();
      await knex?.destroy();
      await db?.drop();
    });

    async function relayToHead(name: string) {
      const producer = createRelayProducer(kafka);
      await producer.connect();
      const checkpoints = new PgRelayCheckpoints(knex);
      const relay = new KafkaRelay({ name, store, producer, checkpoints, topics, batchSize: 5, onError: (e) => console.error('relay error', e) });
      relay.start();
      const head = await store.headPosition();
      const deadline = Date.now() + 60_000;
      while ((await checkpoints.load(name)) !== head) {
        if (Date.now() > deadline) throw new Error(`relay did not reach ${head}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await relay.stop();
      await producer.disconnect();
      return head;
    }

    it('delivers every event (key = stream id, headers, topic per category), in stream order, and resumes after a restart without loss', async () => {
      await seedStory(store);
      await relayToHead('contract');
      // The relay is restarted (a new process would do the same): it resumes from its checkpoint.
      const c = randomUUID();
      await store.append(`conversation-${c}`, [ev.started(c, carol, 'after restart'), ev.renamed(c, 'renamed', carol)], { expectedRevision: 'no_stream' });
      await relayToHead('contract');
      const log = await store.readAll({ limit: 10_000 });

      const consumer = kafka.consumer({ groupId: `parley-contract-${randomUUID()}` });
      const received: { topic: string; partition: number; offset: bigint; key: string; headers: Record<string, string>; value: WireEvent }[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: relayTopics(topics), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          received.push({
            topic, partition, offset: BigInt(message.offset), key: message.key!.toString(),
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
            value: JSON.parse(message.value!.toString()) as WireEvent,
          });
        },
      });
      const deadline = Date.now() + 60_000;
      while (new Set(received.map((r) => r.headers[HEADER.eventId])).size < log.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await consumer.disconnect();

      // At least once: every event is there (duplicates would be allowed, consumers dedupe by event id).
      const byId = new Map(received.map((r) => [r.headers[HEADER.eventId], r]));
      assert.deepEqual([...byId.keys()].sort(), log.map((e) => e.metadata.eventId).sort());
      for (const e of log) {
        const r = byId.get(e.metadata.eventId)!;
        assert.equal(r.key, e.streamId);
        assert.equal(r.topic, `${prefix}${categoryOf(e.streamId)}`);
        assert.equal(r.headers[HEADER.type], e.type);
        assert.equal(r.headers[HEADER.schemaVersion], String(e.version));
        assert.equal(r.headers[HEADER.position], e.position);
        assert.equal(r.value.eventId, e.metadata.eventId);
      }
      // A stream's events share a partition and arrive in revision order.
      const byKey = new Map<string, typeof received>();
      for (const r of received) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
      for (const [key, records] of byKey) {
        assert.equal(new Set(records.map((r) => `${r.topic}/${r.partition}`)).size, 1, `${key} in one partition`);
        const firstSeen = [...new Map([...records].sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((r) => [r.headers[HEADER.eventId], r.value.revision])).values()];
        assert.deepEqual(firstSeen, [...firstSeen].sort((a, b) => a - b), `${key} in revision order`);
      }
    });
  });
}
