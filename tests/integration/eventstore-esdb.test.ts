// The EventStore contract on the EventStoreDB adapter.
// - Against a real node when ESDB_URL is set (e.g. ESDB_URL=esdb://localhost:2113?tls=false);
//   reported as skipped otherwise: no EventStoreDB server runs in CI.
// - Always against an in-memory stand-in for @eventstore/db-client, which checks the adapter's own
//   logic (expected revisions, idempotency, positions, type filtering, resumable subscriptions) but
//   not EventStoreDB itself.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ANY, BACKWARDS, END, NO_STREAM, START, STREAM_EXISTS, StreamNotFoundError, WrongExpectedVersionError,
  type AllStreamResolvedEvent, type AppendExpectedRevision, type AppendResult, type EventData, type Position as EsdbPosition,
  type ReadAllOptions, type ReadStreamOptions, type ResolvedEvent, type SubscribeToAllOptions,
} from '@eventstore/db-client';
import { EsdbEventStore, toEsdbPosition, toPosition, type EsdbClient } from '../../eventstore/esdb/event-store.ts';
import { comparePositions, START as PORT_START, type RecordedEvent } from '../../eventstore/port.ts';
import { eventStoreContract } from '../support/eventstore-contract.ts';
import { renamed } from '../support/events.ts';

const ESDB_URL = process.env.ESDB_URL;

if (ESDB_URL) {
  eventStoreContract('EventStoreDB (ESDB_URL)', async () => {
    const store = EsdbEventStore.connect(ESDB_URL, { pollMs: 200 });
    return { store, cleanup: () => store.close() };
  }, { atomicAppendMany: false });
} else {
  describe('EventStore contract: EventStoreDB (ESDB_URL)', () => {
    it('runs against a real EventStoreDB node', { skip: 'ESDB_URL is not set (no EventStoreDB server here); see README "Event streams for data scientists"' }, () => {});
  });
}

type Stored = {
  streamId: string; id: string; type: string; revision: bigint; created: Date; data: unknown; metadata: unknown; position: EsdbPosition;
  isJson: true;
};

// A small EventStoreDB in memory, behind the same client interface: one writer (appends are
// atomic), per-stream revisions, $all positions, inclusive reads, exclusive subscriptions,
// server-side type filters, system events in $all, and idempotent re-appends of the same ids.
class FakeEsdb implements EsdbClient {
  private readonly all: Stored[] = [];
  private readonly streams = new Map<string, Stored[]>();
  private readonly listeners = new Set<() => void>();
  private next = 1000n;

  constructor() {
    this.write('$stats-127.0.0.1:2113', '$statistics-collected', {});
  }

  private write(streamId: string, type: string, data: unknown, id: string = randomUUID(), metadata: unknown = {}): Stored {
    const stream = this.streams.get(streamId) ?? [];
    this.next += 137n;
    const e: Stored = { streamId, id, type, revision: BigInt(stream.length), created: new Date(), data, metadata, position: { commit: this.next, prepare: this.next }, isJson: true };
    stream.push(e);
    this.streams.set(streamId, stream);
    this.all.push(e);
    return e;
  }

  async appendToStream(streamName: string, events: EventData[], options: { expectedRevision: AppendExpectedRevision }): Promise<AppendResult> {
    await new Promise((r) => setImmediate(r)); // concurrent calls interleave up to here, then write atomically
    const stream = this.streams.get(streamName);
    const current = stream ? BigInt(stream.length - 1) : NO_STREAM;
    const existing = stream?.filter((e) => events.some((n) => n.id === e.id)) ?? [];
    if (existing.length === events.length) {
      // EventStoreDB's idempotency: success, nothing written.
      return { success: true, nextExpectedRevision: existing.at(-1)!.revision, position: existing.at(-1)!.position };
    }
    const expected = options.expectedRevision;
    const ok = expected === ANY || (expected === NO_STREAM && !stream) || (expected === STREAM_EXISTS && !!stream) || (typeof expected === 'bigint' && expected === current);
    if (!ok) throw new WrongExpectedVersionError(undefined, { streamName, expected, current });
    let last!: Stored;
    for (const e of events) last = this.write(streamName, e.type, e.data, e.id, e.metadata);
    for (const l of [...this.listeners]) l();
    // Like the server: the commit's position, not necessarily the one readers see for the event.
    return { success: true, nextExpectedRevision: last.revision, position: { commit: last.position.commit + 1n, prepare: last.position.prepare } };
  }

  async *readStream(streamName: string, options: ReadStreamOptions): AsyncIterable<ResolvedEvent> {
    const stream = this.streams.get(streamName);
    if (!stream) throw new StreamNotFoundError(undefined, streamName);
    const backwards = options.direction === BACKWARDS;
    const from = options.fromRevision === END || options.fromRevision === undefined && backwards ? BigInt(stream.length - 1) : options.fromRevision === START || options.fromRevision === undefined ? 0n : options.fromRevision;
    const ordered = backwards ? stream.filter((e) => e.revision <= from).reverse() : stream.filter((e) => e.revision >= from);
    for (const event of ordered.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER))) yield { event: structuredClone(event) as never };
  }

  async *readAll(options: ReadAllOptions): AsyncIterable<AllStreamResolvedEvent> {
    const backwards = options.direction === BACKWARDS;
    const from = options.fromPosition;
    const after = (e: Stored) => from === START || from === undefined ? true : from === END ? false : e.position.commit >= from.commit;
    const before = (e: Stored) => from === END || from === undefined ? true : from === START ? false : e.position.commit <= from.commit;
    const ordered = backwards ? this.all.filter(before).reverse() : this.all.filter(after);
    for (const event of ordered.slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER))) yield { event: structuredClone(event) as never };
  }

  subscribeToAll(options: SubscribeToAllOptions) {
    const from = options.fromPosition;
    let index = from === END ? this.all.length : from === START || from === undefined ? 0 : this.all.findIndex((e) => e.position.commit > from.commit);
    if (index < 0) index = this.all.length;
    const regex = options.filter && 'regex' in options.filter ? new RegExp(options.filter.regex) : null;
    let stopped = false;
    let wake: (() => void) | null = null;
    const listener = () => wake?.();
    this.listeners.add(listener);
    const self = this;
    const iterable = {
      async *[Symbol.asyncIterator]() {
        try {
          while (!stopped) {
            if (index < self.all.length) {
              const event = self.all[index++]!;
              if (!regex || regex.test(event.type)) yield { event: structuredClone(event) as never } as AllStreamResolvedEvent;
              continue;
            }
            await new Promise<void>((r) => (wake = r));
            wake = null;
          }
        } finally {
          self.listeners.delete(listener);
        }
      },
      async unsubscribe() {
        stopped = true;
        wake?.();
      },
    };
    return iterable;
  }

  async dispose() {}

  // Something else writes to the database (another application, a system projection).
  foreign(streamId: string, type: string) {
    this.write(streamId, type, { x: 1 });
    for (const l of [...this.listeners]) l();
  }
}

eventStoreContract('EventStoreDB adapter over an in-memory client', async () => {
  const store = new EsdbEventStore(new FakeEsdb(), { pollMs: 100, pageSize: 3 });
  return { store, cleanup: () => store.close() };
}, { atomicAppendMany: false });

describe('EventStoreDB adapter specifics (in-memory client)', () => {
  it('maps positions both ways and keeps their order', () => {
    const p = { commit: 123456789012345n, prepare: 123456789012300n };
    assert.equal(toPosition(p), '123456789012345/123456789012300');
    assert.deepEqual(toEsdbPosition(toPosition(p)), p);
    assert.ok(comparePositions(toPosition({ commit: 10n, prepare: 9n }), toPosition({ commit: 11n, prepare: 0n })) < 0);
  });

  it('skips system and foreign events in $all, reads, subscribes and reports the head past them', async () => {
    const fake = new FakeEsdb();
    const store = new EsdbEventStore(fake, { pollMs: 50, pageSize: 2 });
    const s = `conversation-${randomUUID()}`;
    await store.append(s, [renamed('c', 'a')], { expectedRevision: 'no_stream' });
    fake.foreign('$stats-node', '$statistics-collected');
    fake.foreign('orders-1', 'OrderPlaced');
    await store.append(s, [renamed('c', 'b')], { expectedRevision: 0 });
    fake.foreign('orders-1', 'OrderShipped');
    const all = await store.readAll();
    assert.deepEqual(all.map((e) => e.type === 'ConversationRenamed' && e.data.title), ['a', 'b']);
    assert.equal(await store.headPosition(), all[1]!.position);

    const controller = new AbortController();
    const seen: RecordedEvent[] = [];
    const done = (async () => {
      for await (const e of store.subscribe({ from: PORT_START, signal: controller.signal })) {
        seen.push(e);
        if (seen.length === 3) controller.abort();
      }
    })();
    fake.foreign('orders-2', 'OrderPlaced');
    await store.append(s, [renamed('c', 'c')], { expectedRevision: 1 });
    await done;
    assert.deepEqual(seen.map((e) => e.type === 'ConversationRenamed' && e.data.title), ['a', 'b', 'c']);
    await store.close();
  });

  it('returns the position readers see for the appended event, and wakes pollers on append', async () => {
    const store = new EsdbEventStore(new FakeEsdb(), { pollMs: 5000 });
    const s = `conversation-${randomUUID()}`;
    const seen = store.appendVersion;
    const woken = store.waitForAppend(seen);
    const result = await store.append(s, [renamed('c', 'a'), renamed('c', 'b')], { expectedRevision: 'no_stream' });
    const [, second] = await store.readStream(s);
    assert.equal(result.position, second!.position);
    assert.equal(result.nextRevision, 1);
    const started = Date.now();
    await woken;
    assert.ok(Date.now() - started < 1000);
    await store.close();
  });

  it('keeps the stored version in metadata and upcasts on read', async () => {
    const store = new EsdbEventStore(new FakeEsdb());
    const s = `conversation-${randomUUID()}`;
    await store.append(s, [renamed('c', 'x')], { expectedRevision: 'any' });
    const [e] = await store.readStream(s);
    assert.equal(e!.storedVersion, 1);
    assert.deepEqual(Object.keys(e!.metadata).sort(), ['actor', 'causationId', 'commandId', 'correlationId', 'eventId', 'occurredAt']);
    await store.close();
  });
});
