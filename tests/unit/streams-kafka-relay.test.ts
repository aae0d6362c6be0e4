// The Kafka relay's checkpoint/ack logic against a fake broker that implements kafkajs's Producer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ProducerConfig } from 'kafkajs';
import { START, type Position } from '../../eventstore/port.ts';
import type { RelayCheckpoints } from '../../streams/kafka/checkpoints.ts';
import { createRelayProducer, HEADER, KafkaRelay, type KafkaRelayOptions } from '../../streams/kafka/relay.ts';
import { categoryOf, parseTopicMapping, topicFor } from '../../streams/kafka/topics.ts';
import { assertRelayed, carol, ev, FakeProducer, MemoryEventStore, seedStory } from '../support/streams-fixtures.ts';

class MemoryCheckpoints implements RelayCheckpoints {
  readonly positions = new Map<string, Position>();
  readonly history: Position[] = [];
  failNextSaves = 0;
  async load(name: string) { return this.positions.get(name) ?? START; }
  async save(name: string, position: Position) {
    if (this.failNextSaves > 0) {
      this.failNextSaves--;
      throw new Error('connection terminated');
    }
    this.positions.set(name, position);
    this.history.push(position);
  }
}

const topics = parseTopicMapping('appeal=compliance.appeals', 'parley.');

function relay(store: MemoryEventStore, producer: FakeProducer, checkpoints: MemoryCheckpoints, extra: Partial<KafkaRelayOptions> = {}) {
  const errors: unknown[] = [];
  const r = new KafkaRelay({
    name: 'main', store, producer, checkpoints, topics, batchSize: 4, retry: { initialMs: 1, maxMs: 5 },
    onError: (e) => errors.push(e), ...extra,
  });
  return Object.assign(r, { errors });
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('Kafka relay: checkpoint and acknowledgement', () => {
  it('produces every event once, in stream order, to a topic per category, keyed by stream, with headers and acks = -1', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    const checkpoints = new MemoryCheckpoints();
    const r = relay(store, producer, checkpoints);
    r.start();
    const all = await store.readAll();
    await until(() => producer.log.length === all.length, 'all events');
    await r.stop();

    assertRelayed(producer.log, all);
    assert.equal(checkpoints.positions.get('main'), all.at(-1)!.position);
    assert.ok(producer.requests.every((b) => b.acks === -1), 'every request waits for all in-sync replicas');
    for (const d of producer.log) {
      const e = all.find((x) => x.metadata.eventId === d.headers[HEADER.eventId])!;
      assert.equal(d.key, e.streamId);
      assert.equal(d.topic, `parley.${categoryOf(e.streamId)}`);
      assert.equal(d.headers[HEADER.type], e.type);
      assert.equal(d.headers[HEADER.schemaVersion], String(e.version));
      assert.equal(d.headers[HEADER.position], e.position);
      assert.equal(d.headers[HEADER.schemaId], d.value.schemaId);
      assert.equal(d.value.position, e.position);
    }
    assert.deepEqual(new Set(producer.log.map((d) => d.topic)), new Set(['parley.conversation', 'parley.generation', 'parley.user']));
  });

  it('never moves the checkpoint before the broker acknowledges', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    let open!: () => void;
    producer.gate = new Promise((r) => (open = r));
    const checkpoints = new MemoryCheckpoints();
    const r = relay(store, producer, checkpoints);
    r.start();
    await until(() => producer.requests.length === 1, 'a produce request');
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(checkpoints.history.length, 0, 'no checkpoint while the ack is pending');
    open();
    producer.gate = null;
    await until(() => checkpoints.history.length > 0, 'a checkpoint');
    const firstBatch = (await store.readAll({ limit: 4 })).at(-1)!.position;
    assert.equal(checkpoints.history[0], firstBatch);
    await r.stop();
  });

  it('retries a rejected batch without advancing, and loses nothing', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    producer.script = ['ack', 'reject', 'reject', 'error-code', 'ack'];
    const checkpoints = new MemoryCheckpoints();
    const r = relay(store, producer, checkpoints);
    r.start();
    const all = await store.readAll();
    await until(() => checkpoints.positions.get('main') === all.at(-1)!.position, 'the end of the log');
    await r.stop();
    assertRelayed(producer.log, all, '(rejected batches were not written, retried ones were)');
    assert.equal(r.errors.length, 3);
    // The checkpoint only ever moved forward, one acknowledged batch at a time.
    assert.deepEqual(checkpoints.history, [...new Set(checkpoints.history)]);
    assert.equal(checkpoints.history.length, Math.ceil(all.length / 4));
  });

  it('re-sends a batch whose acknowledgement was lost: at least once, and deduplicated by the event-id header', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    producer.script = ['ack', 'write-then-reject'];
    const checkpoints = new MemoryCheckpoints();
    const r = relay(store, producer, checkpoints);
    r.start();
    const all = await store.readAll();
    await until(() => checkpoints.positions.get('main') === all.at(-1)!.position, 'the end of the log');
    await r.stop();
    assert.equal(producer.log.length, all.length + 4, 'the second batch twice');
    const deduped = [...new Map(producer.log.map((d) => [d.headers[HEADER.eventId], d])).values()];
    assertRelayed(deduped, all, '(after dedupe by event id)');
  });

  it('after an acknowledged batch, retries only the checkpoint, never the send', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    const checkpoints = new MemoryCheckpoints();
    checkpoints.failNextSaves = 2;
    const r = relay(store, producer, checkpoints);
    r.start();
    const all = await store.readAll();
    await until(() => checkpoints.positions.get('main') === all.at(-1)!.position, 'the end of the log');
    await r.stop();
    assertRelayed(producer.log, all, '(no duplicate)');
    assert.equal(r.errors.length, 2);
  });

  it('restarts from its checkpoint after a crash, losing nothing', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const all = await store.readAll();
    const checkpoints = new MemoryCheckpoints();
    // First process: two batches acknowledged, then the broker stops answering; the process dies.
    const broken = new FakeProducer();
    broken.script = ['ack', 'ack', 'hang'];
    const first = relay(store, broken, checkpoints);
    first.start();
    await until(() => broken.requests.length === 3, 'the hanging request');
    const crashedAt = checkpoints.positions.get('main')!;
    assert.equal(crashedAt, all[7]!.position);
    // (no stop(): the process is gone)

    // Meanwhile the log grows.
    const c = randomUUID();
    await store.append(`conversation-${c}`, [ev.started(c, carol, 'after the crash')], { expectedRevision: 'no_stream' });

    const producer = new FakeProducer();
    const second = relay(store, producer, checkpoints);
    second.start();
    const now = await store.readAll();
    await until(() => checkpoints.positions.get('main') === now.at(-1)!.position, 'the end of the log');
    await second.stop();
    assertRelayed(producer.log, now.slice(8), '(resumed right after the checkpoint)');
    assertRelayed([...broken.log, ...producer.log], now);
  });

  it('a crash between the acknowledgement and the checkpoint re-sends that batch on restart', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const all = await store.readAll();
    const checkpoints = new MemoryCheckpoints();
    const producer = new FakeProducer();
    checkpoints.failNextSaves = 1_000_000; // the database is gone
    const first = relay(store, producer, checkpoints);
    first.start();
    await until(() => first.errors.length > 0, 'a failed checkpoint');
    await first.stop(); // gives up on the checkpoint when stopping
    assert.equal(checkpoints.positions.get('main'), undefined);
    checkpoints.failNextSaves = 0;
    const second = relay(store, producer, checkpoints);
    second.start();
    await until(() => checkpoints.positions.get('main') === all.at(-1)!.position, 'the end of the log');
    await second.stop();
    assertRelayed(producer.log.slice(0, 4), all.slice(0, 4));
    assertRelayed(producer.log.slice(4), all, '(the unsaved batch again, then the rest)');
  });

  it('follows the log live after catching up', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const producer = new FakeProducer();
    const checkpoints = new MemoryCheckpoints();
    const r = relay(store, producer, checkpoints);
    r.start();
    const before = (await store.readAll()).length;
    await until(() => producer.log.length === before, 'catch-up');
    const c = randomUUID();
    await store.append(`conversation-${c}`, [ev.started(c, carol, 'live')], { expectedRevision: 'no_stream' });
    await until(() => producer.log.length === before + 1, 'the live event');
    await r.stop();
    assert.equal(producer.log.at(-1)!.value.data.title, 'live');
  });

  it('withholds erased users\' content in the records, or everyone\'s with includeContent: false', async () => {
    const store = new MemoryEventStore();
    const story = await seedStory(store);
    const producer = new FakeProducer();
    const r = relay(store, producer, new MemoryCheckpoints());
    r.start();
    const n = (await store.readAll()).length;
    await until(() => producer.log.length === n, 'all events');
    await r.stop();
    const text = (streamId: string) => producer.log.filter((d) => d.key === streamId && d.value.type === 'TokensGenerated')[0]!.value.data.text;
    assert.deepEqual(text(`generation-${story.erased.generationId}`), { withheld: 'erased' });
    assert.equal(text(`generation-${story.kept.generationId}`), 'carol tok');

    const blind = new FakeProducer();
    const r2 = relay(store, blind, new MemoryCheckpoints(), { includeContent: false });
    r2.start();
    await until(() => blind.log.length === n, 'all events');
    await r2.stop();
    assert.doesNotMatch(JSON.stringify(blind.log.map((d) => d.value.data)), /carol (title|message|tok|comment)/);
  });

  it('creates an idempotent producer with one request in flight', () => {
    let config: ProducerConfig | undefined;
    createRelayProducer({ producer: (c?: ProducerConfig) => { config = c; return new FakeProducer(); } }, { idempotent: false, maxInFlightRequests: 5 });
    assert.equal(config?.idempotent, true);
    assert.equal(config?.maxInFlightRequests, 1);
  });
});

describe('Kafka relay: topic mapping', () => {
  it('maps stream categories to topics, with overrides and a catch-all', () => {
    const m = parseTopicMapping('conversation=chat.conv, *=chat.misc', 'x.');
    assert.equal(topicFor(m, 'conversation-1'), 'chat.conv');
    assert.equal(topicFor(m, 'generation-1'), 'chat.misc');
    const d = parseTopicMapping(undefined);
    assert.equal(topicFor(d, 'generation-abc-def'), 'parley.generation');
    assert.equal(topicFor(d, 'nodash'), 'parley.other');
    for (const bad of ['conversation', 'a=b=c', 'a=has space', 'a=x,a=y']) assert.throws(() => parseTopicMapping(bad), Error, bad);
    assert.throws(() => parseTopicMapping('', 'bad prefix'), /prefix/);
  });
});
