// The EventStore port's contract: every adapter (PostgreSQL, EventStoreDB) must pass it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { comparePositions, ConcurrencyError, InvalidEventError, START, type EventStore, type RecordedEvent } from '../../eventstore/port.ts';
import { metadata, renamed } from './events.ts';
import type { EventType } from '../../schemas/events.ts';

// `atomicAppendMany`: false for an adapter whose appendMany appends stream by stream (EventStoreDB);
// its all-or-nothing tests are then reported as skipped, with the reason.
export type ContractOptions = { atomicAppendMany: boolean };

export function eventStoreContract(
  name: string,
  open: () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>,
  options: ContractOptions = { atomicAppendMany: true },
) {
  const notAtomic = options.atomicAppendMany ? false : 'this adapter documents appendMany as not atomic (it appends stream by stream)';
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

    it('reads many whole streams at once, each in revision order, a missing one as empty', async () => {
      const [a, b, missing] = [stream(), stream(), stream()];
      await store.append(a, [renamed('ca', 'a0'), renamed('ca', 'a1')], { expectedRevision: 'no_stream' });
      await store.append(b, [renamed('cb', 'b0')], { expectedRevision: 'no_stream' });
      await store.append(a, [renamed('ca', 'a2')], { expectedRevision: 1 });
      const read = await store.readStreams([b, missing, a]);
      assert.deepEqual([...read.keys()].sort(), [a, b, missing].sort());
      const titles = (id: string) => read.get(id)!.map((e) => (e.type === 'ConversationRenamed' ? e.data.title : e.type));
      assert.deepEqual(titles(a), ['a0', 'a1', 'a2']);
      assert.deepEqual(read.get(a)!.map((e) => e.revision), [0, 1, 2]);
      assert.deepEqual(titles(b), ['b0']);
      assert.deepEqual(read.get(missing), []);
      assert.deepEqual(await store.readStreams([]), new Map());
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

    describe('appendMany', () => {
      const titles = async (s: string) => (await store.readStream(s)).map((e) => e.type === 'ConversationRenamed' && e.data.title);
      // n streams, each holding `existing` events already.
      async function streams(n: number, existing: number) {
        const ids = Array.from({ length: n }, stream);
        for (const s of ids) {
          if (existing > 0) await store.append(s, Array.from({ length: existing }, (_, i) => renamed('c', `old${i}`)), { expectedRevision: 'no_stream' });
        }
        return ids;
      }

      it('appends to many streams in one call, each with its own expected revision', async () => {
        const [a, b, c, d] = await streams(4, 2);
        const fresh = stream();
        const freshAny = stream();
        const results = await store.appendMany([
          { streamId: a!, events: [renamed('c', 'a1'), renamed('c', 'a2')], expectedRevision: 1 },
          { streamId: fresh, events: [renamed('c', 'f1')], expectedRevision: 'no_stream' },
          { streamId: b!, events: [renamed('c', 'b1')], expectedRevision: 'any' },
          { streamId: freshAny, events: [renamed('c', 'g1'), renamed('c', 'g2')], expectedRevision: 'any' },
          { streamId: c!, events: [renamed('c', 'c1')], expectedRevision: 'stream_exists' },
        ]);
        assert.deepEqual(results.map((r) => [r.nextRevision, r.duplicate]), [[3, false], [0, false], [2, false], [1, false], [2, false]]);
        assert.deepEqual(await titles(a!), ['old0', 'old1', 'a1', 'a2']);
        assert.deepEqual(await titles(fresh), ['f1']);
        assert.deepEqual(await titles(b!), ['old0', 'old1', 'b1']);
        assert.deepEqual(await titles(freshAny), ['g1', 'g2']);
        assert.deepEqual(await titles(c!), ['old0', 'old1', 'c1']);
        assert.deepEqual(await titles(d!), ['old0', 'old1'], 'a stream not in the call is not touched');
        assert.deepEqual(await store.appendMany([]), []);
      });

      it('a conflict fails the call with a ConcurrencyError naming the stream', async () => {
        const ids = await streams(5, 1);
        const attempt = () => store.appendMany(ids.map((s, i) => ({
          streamId: s, events: [renamed('c', `new${i}`)], expectedRevision: i === 2 ? 7 : 0,
        })));
        await assert.rejects(attempt(), (e: unknown) => {
          assert.ok(e instanceof ConcurrencyError);
          assert.equal(e.streamId, ids[2]);
          assert.equal(e.expected, 7);
          assert.equal(e.actual, 0);
          return true;
        });
        const fresh = stream();
        await assert.rejects(store.appendMany([{ streamId: fresh, events: [renamed('c', 'x')], expectedRevision: 'stream_exists' }]), (e: unknown) => {
          assert.ok(e instanceof ConcurrencyError);
          assert.equal(e.streamId, fresh);
          assert.equal(e.actual, null);
          return true;
        });
      });

      it('is all or nothing: a conflict on stream 3 of 5 leaves all 5 untouched', { skip: notAtomic }, async () => {
        const ids = await streams(5, 1);
        const before = await Promise.all(ids.map((s) => store.readStream(s)));
        for (const conflict of [2, 4, 0] as const) {
          await assert.rejects(store.appendMany(ids.map((s, i) => ({
            streamId: s, events: [renamed('c', `new${i}`), renamed('c', `more${i}`)], expectedRevision: i === conflict ? 'no_stream' : 0,
          }))), ConcurrencyError);
        }
        // A new stream in the call is not created either.
        const fresh = stream();
        await assert.rejects(store.appendMany([
          { streamId: fresh, events: [renamed('c', 'x')], expectedRevision: 'no_stream' },
          { streamId: ids[0]!, events: [renamed('c', 'y')], expectedRevision: 3 },
        ]), ConcurrencyError);
        assert.deepEqual(await Promise.all(ids.map((s) => store.readStream(s))), before);
        assert.equal(await store.streamRevision(fresh), null);
        // ...and the same call with the right revisions then succeeds.
        const ok = await store.appendMany(ids.map((s, i) => ({ streamId: s, events: [renamed('c', `new${i}`)], expectedRevision: 0 })));
        assert.deepEqual(ok.map((r) => r.nextRevision), [1, 1, 1, 1, 1]);
      });

      it('lets exactly one of N concurrent calls over the same streams win, whatever their stream order', { skip: notAtomic }, async () => {
        const [a, b, c] = await streams(3, 1);
        const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => {
          const order = i % 2 === 0 ? [a!, b!, c!] : [c!, b!, a!];
          return store.appendMany(order.map((s) => ({ streamId: s, events: [renamed('c', `w${i}`)], expectedRevision: 0 })));
        }));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof ConcurrencyError, String(r.reason));
        const winners = await Promise.all([a!, b!, c!].map(async (s) => (await titles(s))[1]));
        assert.equal(new Set(winners).size, 1, 'the same call won on every stream');
      });

      it('is idempotent by event id: the whole call replayed answers duplicate and stores nothing new', async () => {
        const ids = await streams(3, 1);
        const fresh = stream();
        const call = [
          ...ids.map((s, i) => ({ streamId: s, events: [renamed('c', `n${i}`), renamed('c', `m${i}`)], expectedRevision: 0 as const })),
          { streamId: fresh, events: [renamed('c', 'f')], expectedRevision: 'no_stream' as const },
        ];
        const first = await store.appendMany(call);
        const again = await store.appendMany(call);
        assert.deepEqual(again.map((r) => r.duplicate), [true, true, true, true]);
        assert.deepEqual(again.map((r) => [r.nextRevision, r.position]), first.map((r) => [r.nextRevision, r.position]));
        // Replayed concurrently too (a retry racing the original).
        const racing = [stream(), stream()].map((s) => ({ streamId: s, events: [renamed('c', 'r1'), renamed('c', 'r2')], expectedRevision: 'no_stream' as const }));
        const raced = await Promise.all([1, 2, 3].map(() => store.appendMany(racing)));
        for (const r of raced) assert.deepEqual(r.map((x) => x.nextRevision), [1, 1]);
        for (const s of [...ids, fresh, ...racing.map((r) => r.streamId)]) {
          const events = await store.readStream(s);
          assert.equal(new Set(events.map((e) => e.metadata.eventId)).size, events.length);
        }
        assert.deepEqual(await Promise.all(ids.map((s) => titles(s))), ids.map((_, i) => ['old0', `n${i}`, `m${i}`]));
        // A stream whose events are already stored is a duplicate even next to new streams.
        const next = stream();
        const mixed = await store.appendMany([call[0]!, { streamId: next, events: [renamed('c', 'z')], expectedRevision: 'no_stream' }]);
        assert.deepEqual(mixed.map((r) => r.duplicate), [true, false]);
        assert.deepEqual(await titles(next), ['z']);
      });

      it('rejects a malformed call and appends nothing', async () => {
        const [a, b] = await streams(2, 0);
        const bad = { ...renamed('c', 'x'), data: { conversationId: 'c' } };
        await assert.rejects(store.appendMany([
          { streamId: a!, events: [renamed('c', 'ok')], expectedRevision: 'any' },
          { streamId: b!, events: [bad], expectedRevision: 'any' },
        ]), InvalidEventError);
        await assert.rejects(store.appendMany([
          { streamId: a!, events: [renamed('c', 'x')], expectedRevision: 'any' },
          { streamId: a!, events: [renamed('c', 'y')], expectedRevision: 'any' },
        ]), InvalidEventError, 'a stream twice in one call');
        await assert.rejects(store.appendMany([{ streamId: a!, events: [], expectedRevision: 'any' }]), InvalidEventError);
        const twice = renamed('c', 'same id');
        await assert.rejects(store.appendMany([
          { streamId: a!, events: [twice], expectedRevision: 'any' },
          { streamId: b!, events: [twice], expectedRevision: 'any' },
        ]), InvalidEventError, 'one event id in two streams');
        assert.deepEqual(await store.readStream(a!), []);
        assert.deepEqual(await store.readStream(b!), []);
      });

      it('orders the call\'s events as given, and a subscriber sees all of them', async () => {
        const from = await freshHead();
        const ids = await streams(4, 0);
        const controller = new AbortController();
        const seen: RecordedEvent[] = [];
        const done = (async () => {
          for await (const e of store.subscribe({ from, signal: controller.signal })) {
            seen.push(e);
            if (seen.length === 8) controller.abort();
          }
        })();
        const call = ids.map((s, i) => ({ streamId: s, events: [renamed('c', `${i}a`), renamed('c', `${i}b`)], expectedRevision: 'no_stream' as const }));
        const results = await store.appendMany(call);
        await done;
        assert.deepEqual(seen.map((e) => e.metadata.eventId), call.flatMap((a) => a.events.map((e) => e.metadata.eventId)));
        assert.deepEqual(seen.map((e) => e.revision), [0, 1, 0, 1, 0, 1, 0, 1]);
        // Each stream's result is the position of its last event, as readers see it.
        assert.deepEqual(results.map((r) => r.position), [1, 3, 5, 7].map((i) => seen[i]!.position));
        for (let i = 1; i < seen.length; i++) assert.ok(comparePositions(seen[i - 1]!.position, seen[i]!.position) < 0);
      });
    });
  });
}
