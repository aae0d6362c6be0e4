// The EventStore port's contract: every adapter (PostgreSQL, EventStoreDB) must pass it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConcurrencyError, InvalidEventError, START, type EventStore, type RecordedEvent } from '../../eventstore/port.ts';
import { metadata, renamed } from './events.ts';
import type { EventType } from '../../schemas/events.ts';

export function eventStoreContract(name: string, open: () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>) {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    const stream = () => `conversation-${randomUUID()}`;

    before(async () => ({ store, cleanup } = await open()));

    // Readers see an append once every older transaction on the server has ended (PostgreSQL's xid
    // fence), so "the head" is taken after a marker event has become readable.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    async function freshHead(): Promise<string> {
      const r = await store.append(stream(), [renamed('c', 'marker')], { expectedRevision: 'no_stream' });
      for (let i = 0; i < 400; i++) {
        if ((await store.headPosition()) === r.position) return r.position;
        await sleep(25);
      }
      throw new Error('an appended event never became readable');
    }
    async function readAllEventually(from: string, count: number, types?: readonly EventType[]) {
      for (let i = 0; i < 400; i++) {
        const events = await store.readAll({ from, types });
        if (events.length >= count) return events;
        await sleep(25);
      }
      return store.readAll({ from, types });
    }
    after(async () => cleanup?.());

    it('appends to a new stream and reads it back in order', async () => {
      const s = stream();
      const first = await store.append(s, [renamed('c1', 'a'), renamed('c1', 'b')], { expectedRevision: 'no_stream' });
      assert.equal(first.nextRevision, 1);
      await store.append(s, [renamed('c1', 'c')], { expectedRevision: 1 });
      const events = await store.readStream(s);
      assert.deepEqual(events.map((e) => e.type === 'ConversationRenamed' && e.data.title), ['a', 'b', 'c']);
      assert.deepEqual(events.map((e) => e.revision), [0, 1, 2]);
      assert.equal(await store.streamRevision(s), 2);
    });

    it('enforces all four expected-revision forms with a typed error', async () => {
      const s = stream();
      await assert.rejects(store.append(s, [renamed('c', 'x')], { expectedRevision: 'stream_exists' }), ConcurrencyError);
      await assert.rejects(store.append(s, [renamed('c', 'x')], { expectedRevision: 0 }), ConcurrencyError);
      await store.append(s, [renamed('c', 'x')], { expectedRevision: 'any' });
      await assert.rejects(store.append(s, [renamed('c', 'y')], { expectedRevision: 'no_stream' }), (e: unknown) => {
        assert.ok(e instanceof ConcurrencyError);
        assert.equal(e.actual, 0);
        return true;
      });
      await assert.rejects(store.append(s, [renamed('c', 'y')], { expectedRevision: 5 }), ConcurrencyError);
      await store.append(s, [renamed('c', 'y')], { expectedRevision: 'stream_exists' });
      await store.append(s, [renamed('c', 'z')], { expectedRevision: 1 });
      await store.append(s, [renamed('c', 'w')], { expectedRevision: 'any' });
      assert.equal((await store.readStream(s)).length, 4);
    });

    it('lets exactly one of N concurrent appends at the same expected revision win', async () => {
      const s = stream();
      await store.append(s, [renamed('c', 'base')], { expectedRevision: 'no_stream' });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.append(s, [renamed('c', `w${i}`)], { expectedRevision: 0 })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConcurrencyError);
      assert.equal((await store.readStream(s)).length, 2);
    });

    it('lets exactly one of N concurrent creations of a new stream win', async () => {
      const s = stream();
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.append(s, [renamed('c', `w${i}`)], { expectedRevision: 'no_stream' })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((await store.readStream(s)).length, 1);
    });

    it('stores a re-appended event (same event id) once', async () => {
      const s = stream();
      const events = [renamed('c', 'once'), renamed('c', 'twice')];
      const a = await store.append(s, events, { expectedRevision: 'no_stream' });
      const b = await store.append(s, events, { expectedRevision: 'no_stream' });
      assert.equal(b.duplicate, true);
      assert.equal(b.nextRevision, a.nextRevision);
      assert.equal(b.position, a.position);
      const concurrent = [renamed('c', 'race')];
      await Promise.all([1, 2, 3].map(() => store.append(s, concurrent, { expectedRevision: 'any' })));
      assert.equal((await store.readStream(s)).length, 3);
    });

    it('reads a stream that does not exist as empty', async () => {
      assert.deepEqual(await store.readStream(stream()), []);
      assert.equal(await store.streamRevision(stream()), null);
    });

    it('rejects an invalid event and appends nothing', async () => {
      const s = stream();
      const bad = { ...renamed('c', 'x'), data: { conversationId: 'c' } };
      await assert.rejects(store.append(s, [renamed('c', 'ok'), bad], { expectedRevision: 'any' }), InvalidEventError);
      await assert.rejects(store.append(s, [{ ...renamed('c', 'x'), type: 'NoSuchEvent' }], { expectedRevision: 'any' }), InvalidEventError);
      // PostgreSQL text columns reject NUL: no event may carry one into the read models.
      await assert.rejects(store.append(s, [renamed('c', 'a\u0000b')], { expectedRevision: 'any' }), InvalidEventError);
      assert.deepEqual(await store.readStream(s), []);
    });

    it('reads all events in global order, filtered by type, resumable from a position', async () => {
      const head = await freshHead();
      const s = stream();
      await store.append(s, [renamed('c', '1'), renamed('c', '2')], { expectedRevision: 'no_stream' });
      await store.append(`generation-${randomUUID()}`, [{
        type: 'GenerationFailed', version: 1, data: { generationId: 'g', attempt: 0, code: 'X', reason: 'r' }, metadata: metadata(),
      }], { expectedRevision: 'no_stream' });
      const all = await readAllEventually(head, 3);
      assert.deepEqual(all.map((e) => e.type), ['ConversationRenamed', 'ConversationRenamed', 'GenerationFailed']);
      const onlyFailed = await readAllEventually(head, 1, ['GenerationFailed']);
      assert.deepEqual(onlyFailed.map((e) => e.type), ['GenerationFailed']);
      const rest = await store.readAll({ from: all[0]!.position, limit: 1 });
      assert.equal(rest[0]!.position, all[1]!.position);
      assert.equal(await store.headPosition(), all[2]!.position);
    });

    it('subscribes: catches up, then follows live appends', async () => {
      const from = await freshHead();
      const s = stream();
      await store.append(s, [renamed('c', 'before')], { expectedRevision: 'no_stream' });
      const controller = new AbortController();
      const seen: RecordedEvent[] = [];
      const done = (async () => {
        for await (const e of store.subscribe({ from, signal: controller.signal })) {
          seen.push(e);
          if (seen.length === 3) controller.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await store.append(s, [renamed('c', 'live1')], { expectedRevision: 0 });
      await store.append(s, [renamed('c', 'live2')], { expectedRevision: 1 });
      await done;
      assert.deepEqual(seen.map((e) => e.type === 'ConversationRenamed' && e.data.title), ['before', 'live1', 'live2']);
    });

    it('upcasts an old event version on read and never rewrites it', async () => {
      const s = stream();
      const v1 = {
        type: 'MessageSubmitted',
        version: 1,
        data: { conversationId: 'c', messageId: 'm1', role: 'user', content: 'hi', params: { temperature: 0, topP: 1, topK: 0, maxTokens: 8, seed: null, stop: [] } },
        metadata: metadata(),
      };
      await store.append(s, [v1], { expectedRevision: 'no_stream' });
      const [read] = await store.readStream(s);
      assert.equal(read!.type, 'MessageSubmitted');
      assert.equal(read!.version, 2);
      assert.equal(read!.storedVersion, 1);
      assert.equal(read!.type === 'MessageSubmitted' && read!.data.parentMessageId, null);
      assert.equal(read!.type === 'MessageSubmitted' && read!.data.generationId, 'gen-m1');
    });
  });
}
