import { AppendSignal } from '../append-signal.ts';
import { validateAppendMany, validateForAppend } from '../validate-append.ts';
import {
  ANY, BACKWARDS, END, EventStoreDBClient, eventTypeFilter, FORWARDS, jsonEvent, NO_STREAM, START as ESDB_START, STREAM_EXISTS,
  StreamNotFoundError, WrongExpectedVersionError,
  type AllStreamResolvedEvent, type AppendExpectedRevision, type AppendResult as EsdbAppendResult, type EventData, type JSONType,
  type Position as EsdbPosition, type ReadAllOptions as EsdbReadAllOptions, type ReadStreamOptions, type ResolvedEvent,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';
import { eventTypes } from '../../schemas/events.ts';
import { upcast } from '../../schemas/upcasters.ts';
import {
  comparePositions, ConcurrencyError, InvalidEventError, parsePosition, START,
  type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type Position, type ReadAllOptions,
  type RecordedEvent, type StreamAppend, type SubscribeOptions,
} from '../port.ts';

// What the adapter needs of @eventstore/db-client (EventStoreDBClient satisfies it; tests may fake it).
export interface EsdbClient {
  appendToStream(streamName: string, events: EventData[], options: { expectedRevision: AppendExpectedRevision }): Promise<EsdbAppendResult>;
  readStream(streamName: string, options: ReadStreamOptions): AsyncIterable<ResolvedEvent>;
  readAll(options: EsdbReadAllOptions): AsyncIterable<AllStreamResolvedEvent>;
  subscribeToAll(options: SubscribeToAllOptions): AsyncIterable<AllStreamResolvedEvent> & { unsubscribe(): Promise<void> };
  dispose(): Promise<void>;
}

// The schema version of `data` travels in the event's metadata (EventStoreDB has no such field).
const VERSION_KEY = 'parleyVersion';

export type EsdbSubscribeOptions = SubscribeOptions & {
  // Server-side filtered subscriptions report how far they have searched, even through stretches
  // with no matching event: a checkpointed consumer can store this position and resume after it.
  onCheckpoint?: (position: Position) => void | Promise<void>;
};

export type EsdbEventStoreOptions = { pollMs?: number; pageSize?: number };

// The EventStore port on EventStoreDB. Positions are $all positions written "<commit>/<prepare>",
// which order exactly like the port's "<xid>/<seq>" strings (comparePositions works unchanged).
// Streams keep Parley's names (conversation-<id>…); only Parley's event types are read from $all,
// so system events ($…) and other applications' events in a shared database are skipped.
export class EsdbEventStore implements EventStore {
  private readonly appends = new AppendSignal();
  private wake: (AsyncIterable<AllStreamResolvedEvent> & { unsubscribe(): Promise<void> }) | null = null;
  private closed = false;
  private readonly pollMs: number;
  private readonly pageSize: number;

  constructor(private readonly client: EsdbClient, options: EsdbEventStoreOptions = {}) {
    this.pollMs = options.pollMs ?? 500;
    this.pageSize = options.pageSize ?? 1000;
  }

  // ESDB_URL, e.g. esdb://localhost:2113?tls=false
  static connect(connectionString: string, options: EsdbEventStoreOptions = {}): EsdbEventStore {
    const client: EsdbClient = EventStoreDBClient.connectionString(connectionString);
    return new EsdbEventStore(client, options);
  }

  async append(streamId: string, events: EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (events.length === 0) throw new InvalidEventError('append needs at least one event');
    if (!streamId) throw new InvalidEventError('stream id is empty');
    events.forEach(validateForAppend);
    const expected = toExpected(options.expectedRevision);

    // Idempotent append: the same event ids again answer with the stored copy. (EventStoreDB's own
    // idempotency check covers concurrent retries, but answers without saying it was a duplicate.)
    const stored = await this.findStored(streamId, events);
    if (stored === 'some') throw new InvalidEventError('some of these events are already stored, others are not');
    if (stored) return { nextRevision: stored.revision, position: stored.position, duplicate: true };

    let result: EsdbAppendResult;
    try {
      result = await this.client.appendToStream(streamId, events.map(encode), { expectedRevision: expected });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM || error.actualVersion === undefined ? null : Number(error.actualVersion);
        throw new ConcurrencyError(streamId, options.expectedRevision, actual);
      }
      throw error;
    }
    const nextRevision = Number(result.nextExpectedRevision);
    // The $all position of the last event, read back: the append result carries the commit's
    // position, which need not equal the position readers see for the event.
    const [last] = await this.readStream(streamId, { fromRevision: nextRevision, limit: 1 });
    this.bump();
    return { nextRevision, position: last?.position ?? (result.position ? toPosition(result.position) : START), duplicate: false };
  }

  // NOT atomic on EventStoreDB: its appends are per stream (no multi-stream transaction in the
  // gRPC API), so this appends stream by stream, in the order given. A conflict on the k-th stream
  // throws its ConcurrencyError with the streams before it already appended. Retrying the same call
  // is safe: those streams answer duplicate (idempotent by event id) and the rest are tried again.
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    validateAppendMany(appends);
    const results: AppendResult[] = [];
    for (const a of appends) results.push(await this.append(a.streamId, a.events, { expectedRevision: a.expectedRevision }));
    return results;
  }

  async readStream(streamId: string, options: { fromRevision?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamId, {
        fromRevision: BigInt(options.fromRevision ?? 0), maxCount: options.limit ?? Number.MAX_SAFE_INTEGER, direction: FORWARDS,
      })) {
        if (resolved.event) out.push(decode(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return out;
  }

  // Not one call on EventStoreDB: its gRPC reads one stream at a time (concurrently here).
  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    const ids = [...new Set(streamIds)];
    const read = await Promise.all(ids.map((id) => this.readStream(id)));
    return new Map(ids.map((id, i) => [id, read[i]!]));
  }

  async streamRevision(streamId: string): Promise<number | null> {
    try {
      for await (const resolved of this.client.readStream(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: 1 })) {
        if (resolved.event) return Number(resolved.event.revision);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    return null;
  }

  // EventStoreDB reads $all without a server-side filter (the client offers filters only on
  // subscriptions), so types are filtered here, page by page.
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = options.limit ?? 1000;
    const wanted = new Set<string>(options.types?.length ? options.types : eventTypes);
    const out: RecordedEvent[] = [];
    let cursor = options.from ?? START;
    for (;;) {
      const pageSize = Math.max(this.pageSize, limit) + 1; // + 1: the read starts AT `from`, which is skipped
      let read = 0;
      let moved = false;
      for await (const resolved of this.client.readAll({ fromPosition: toReadPosition(cursor), maxCount: pageSize, direction: FORWARDS })) {
        read++;
        const event = resolved.event;
        if (!event?.position) continue;
        const position = toPosition(event.position);
        if (comparePositions(position, cursor) <= 0) continue;
        cursor = position;
        moved = true;
        if (!wanted.has(event.type)) continue;
        out.push(decode(event));
        if (out.length >= limit) return out;
      }
      if (read < pageSize || !moved) return out;
    }
  }

  // Catch-up then live on one server-side subscription (filtered by type), resumed from the
  // last delivered position if the connection drops.
  async *subscribe(options: EsdbSubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    const signal = options.signal;
    let cursor = options.from ?? START;
    let failures = 0;
    while (!signal?.aborted && !this.closed) {
      const subscription = this.client.subscribeToAll({
        fromPosition: toReadPosition(cursor),
        filter: eventTypeFilter({
          regex: typeRegex(options.types),
          checkpointInterval: 1,
          checkpointReached: async (_sub, position) => { await options.onCheckpoint?.(toPosition(position)); },
        }),
      });
      const stop = () => void subscription.unsubscribe().catch(() => undefined);
      signal?.addEventListener('abort', stop, { once: true });
      try {
        for await (const resolved of subscription) {
          const event = resolved.event;
          if (!event?.position) continue;
          const position = toPosition(event.position);
          if (comparePositions(position, cursor) <= 0) continue;
          const recorded = decode(event);
          cursor = position;
          failures = 0;
          yield recorded;
          if (signal?.aborted) return;
        }
      } catch (error) {
        if (signal?.aborted || this.closed) return;
        if (++failures > 5) throw error;
        await sleep(Math.min(5000, 100 * 2 ** failures), signal);
      } finally {
        signal?.removeEventListener('abort', stop);
        stop();
      }
    }
  }

  async headPosition(): Promise<Position> {
    let from: EsdbReadAllOptions['fromPosition'] = END;
    for (;;) {
      let read = 0;
      let last: EsdbPosition | null = null;
      const page: AsyncIterable<AllStreamResolvedEvent> = this.client.readAll({ fromPosition: from, direction: BACKWARDS, maxCount: 100 });
      for await (const resolved of page) {
        read++;
        const event = resolved.event;
        if (!event?.position) continue;
        if ((eventTypes as string[]).includes(event.type)) return toPosition(event.position);
        last = event.position;
      }
      if (read < 100 || !last) return START;
      from = last;
    }
  }

  // Wake-ups for pollers (the projection runner, the relay): a live subscription bumps a counter.
  get appendVersion(): number {
    return this.appends.current;
  }

  waitForAppend(seen: number, signal?: AbortSignal): Promise<void> {
    this.ensureWake();
    return this.appends.wait(seen, this.pollMs, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.appends.release();
    await this.wake?.unsubscribe().catch(() => undefined);
    await this.client.dispose();
  }

  private ensureWake(): void {
    if (this.wake || this.closed) return;
    const wake = this.client.subscribeToAll({ fromPosition: END, filter: eventTypeFilter({ regex: typeRegex(), checkpointInterval: 1 }) });
    this.wake = wake;
    void (async () => {
      try {
        for await (const _ of wake) this.bump();
      } catch {
        // dropped: pollers fall back to their timeout; the next wait resubscribes
      }
      if (this.wake === wake) this.wake = null;
    })();
  }

  private bump(): void {
    this.appends.bump();
  }

  // Are these events (by id) already at the end of the stream? Looks at the stream's tail only:
  // a retried append finds its events there (event ids are unique per command and stream).
  private async findStored(streamId: string, events: EventToAppend[]): Promise<{ revision: number; position: Position } | 'some' | null> {
    const ids = new Set(events.map((e) => e.metadata.eventId));
    const lastId = events[events.length - 1]!.metadata.eventId;
    let found = 0;
    let last: RecordedEvent | null = null;
    try {
      for await (const resolved of this.client.readStream(streamId, { fromRevision: END, direction: BACKWARDS, maxCount: Math.max(64, events.length * 4) })) {
        const event = resolved.event;
        if (!event || !ids.has(event.id)) continue;
        found++;
        if (event.id === lastId) last = decode(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    if (found === 0) return null;
    if (found < events.length || !last) return 'some';
    return { revision: last.revision, position: last.position };
  }
}

export function toPosition(p: EsdbPosition): Position {
  return `${p.commit}/${p.prepare}`;
}

export function toEsdbPosition(position: Position): EsdbPosition {
  const { xid, seq } = parsePosition(position);
  return { commit: xid, prepare: seq };
}

function toReadPosition(position: Position): EsdbReadAllOptions['fromPosition'] {
  return position === START ? ESDB_START : toEsdbPosition(position);
}

export function toExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  if (!Number.isInteger(expected) || expected < 0) throw new InvalidEventError(`invalid expected revision ${expected}`);
  return BigInt(expected);
}

export function typeRegex(types?: readonly string[]): string {
  const list = types?.length ? types : eventTypes;
  return `^(?:${list.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
}

export function encode(event: EventToAppend): EventData {
  const m = event.metadata;
  return jsonEvent({
    id: m.eventId,
    type: event.type,
    data: event.data as JSONType,
    metadata: {
      ...m,
      [VERSION_KEY]: event.version,
      // EventStoreDB's own correlation/causation fields, for its system projections.
      $correlationId: m.correlationId,
      ...(m.causationId ? { $causationId: m.causationId } : {}),
    },
  });
}

type EsdbRecorded = { streamId: string; id: string; type: string; revision: bigint; created: Date | string | number; data: unknown; metadata: unknown; position?: EsdbPosition };

export function decode(event: EsdbRecorded): RecordedEvent {
  if (!event.position) {
    throw new Error('EventStoreDB did not return the event\'s $all position on a stream read: Parley needs EventStoreDB 22.6 or later');
  }
  const { [VERSION_KEY]: version, $correlationId: _c, $causationId: _k, ...metadata } = (event.metadata ?? {}) as Record<string, unknown>;
  const storedVersion = typeof version === 'number' ? version : 1;
  const upcasted = upcast({ type: event.type, version: storedVersion, data: event.data, metadata });
  return Object.assign(upcasted, {
    streamId: event.streamId,
    revision: Number(event.revision),
    position: toPosition(event.position),
    storedVersion,
    recordedAt: new Date(event.created).toISOString(),
  });
}


function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}
