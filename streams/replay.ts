import { comparePositions, START, type EventStore, type Position } from '../eventstore/port.ts';
import type { EventType } from '../schemas/events.ts';
import { ErasureIndex, present, type WireEvent } from './privacy.ts';

export type ReplayRange = {
  after?: Position;
  types?: readonly EventType[];
  // Stop after this many events (default: no limit).
  limit?: number;
  // Stop at this position (inclusive), typically the head when the replay started.
  until?: Position;
  pageSize?: number;
  includeContent: boolean;
  // Only this tenant's events (see privacy.ts PresentOptions); null/absent: every tenant's.
  tenantId?: string | null;
  signal?: AbortSignal;
};

const MAX_SCAN_PAGES = 20;

// Replay and follow of the event log for data scientists: the one place the HTTP, GraphQL, CLI and
// Kafka paths read the log through, so they all apply the same privacy rules and emit the same shape.
export class EventStreams {
  readonly erasures: ErasureIndex;
  private readonly shutdown = new AbortController();

  constructor(readonly store: EventStore) {
    this.erasures = new ErasureIndex(store);
  }

  // Aborted when the process stops: every open follow ends.
  get signal(): AbortSignal {
    return this.shutdown.signal;
  }

  close(): void {
    this.shutdown.abort();
  }

  headPosition(): Promise<Position> {
    return this.store.headPosition();
  }

  // One page after `after`, whether more exist, and the cursor to continue from. With a tenant
  // filter, other tenants' events are skipped: it reads on (up to MAX_SCAN_PAGES reads) to fill
  // the page, and `endCursor` is the last event it looked at, so a client never re-reads them.
  async page(options: { after?: Position; types?: readonly EventType[]; first: number; includeContent: boolean; tenantId?: string | null }): Promise<{ events: WireEvent[]; hasNextPage: boolean; endCursor: Position | null }> {
    const out: WireEvent[] = [];
    let cursor = options.after ?? START;
    let scanned: Position | null = null;
    for (let reads = 0; reads < MAX_SCAN_PAGES; reads++) {
      const want = options.first - out.length;
      const events = await this.store.readAll({ from: cursor, types: options.types, limit: want + 1 });
      const page = events.slice(0, want);
      out.push(...await present(this.erasures, page, options));
      if (page.length > 0) scanned = cursor = page[page.length - 1]!.position;
      if (events.length <= want) return { events: out, hasNextPage: false, endCursor: scanned };
      if (out.length >= options.first) break;
    }
    return { events: out, hasNextPage: true, endCursor: scanned };
  }

  // Pages of events in log order, from `after` to `until`/`limit` (or to whatever exists when reading stops).
  async *replay(range: ReplayRange): AsyncGenerator<WireEvent[]> {
    let cursor = range.after ?? START;
    let remaining = range.limit ?? Infinity;
    const pageSize = range.pageSize ?? 1000;
    const signal = anySignal(range.signal, this.signal);
    while (remaining > 0 && !signal.aborted) {
      const read = await this.store.readAll({ from: cursor, types: range.types, limit: Math.min(pageSize, remaining) });
      const until = range.until;
      const events = until ? read.filter((e) => comparePositions(e.position, until) <= 0) : read;
      if (events.length === 0) return;
      cursor = events[events.length - 1]!.position;
      remaining -= events.length;
      yield await present(this.erasures, events, range);
      const more = read.length === Math.min(pageSize, remaining + events.length) && events.length === read.length;
      if (!more) return;
    }
  }

  // Catch-up from `after`, then live, one event at a time, in log order: the store's subscription
  // does both on one cursor, so nothing is skipped or repeated where catch-up meets live.
  // return() ends it at once, even while it is waiting for the next append (a plain async
  // generator would only notice at its next yield, keeping a disconnected client's poll alive).
  follow(options: { after?: Position; types?: readonly EventType[]; includeContent: boolean; tenantId?: string | null; signal?: AbortSignal }): AsyncIterableIterator<WireEvent> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    this.signal.addEventListener('abort', stop, { once: true });
    const source = this.store.subscribe({ from: options.after ?? START, types: options.types, signal: controller.signal })[Symbol.asyncIterator]();
    let finished = false;
    const finish = () => {
      finished = true;
      controller.abort();
      options.signal?.removeEventListener('abort', stop);
      this.signal.removeEventListener('abort', stop);
    };
    const done = { done: true as const, value: undefined };
    const iterator: AsyncIterableIterator<WireEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        if (finished) return done;
        try {
          const r = await source.next();
          if (r.done || finished) {
            finish();
            return done;
          }
          const [wire] = await present(this.erasures, [r.value], options);
          if (finished) return done;
          if (!wire) return iterator.next(); // another tenant's event
          return { done: false, value: wire };
        } catch (error) {
          const aborted = controller.signal.aborted;
          finish();
          if (aborted) return done;
          throw error;
        }
      },
      return: async () => {
        finish();
        return done;
      },
      throw: async (error?: unknown) => {
        finish();
        throw error;
      },
    };
    return iterator;
  }
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => !!s);
  return present.length === 1 ? present[0]! : AbortSignal.any(present);
}
