import type { EventStore, RecordedEvent } from '../eventstore/port.ts';

// Recently loaded stream histories, so a command reads only the events appended since (a worker's
// AppendTokens every 16 tokens would otherwise reload and decrypt the whole growing generation:
// O(n²) for a long answer). Streams are append-only, so a cached prefix never goes stale; entries
// expire after `ttlMs` like the key cache, so decrypted text does not outlive an erasure for long.
export class StreamCache {
  private readonly entries = new Map<string, { events: RecordedEvent[]; at: number }>();

  constructor(
    private readonly store: EventStore,
    private readonly options: { maxStreams?: number; ttlMs?: number; now?: () => number } = {},
  ) {}

  async read(streamId: string): Promise<RecordedEvent[]> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.entries.get(streamId);
    const fresh = cached && now - cached.at < (this.options.ttlMs ?? 30_000) ? cached.events : [];
    const newer = await this.store.readStream(streamId, { fromRevision: fresh.length });
    const events = newer.length === 0 ? fresh : [...fresh, ...newer];
    // Re-inserted so the Map's order is least recently used first.
    this.entries.delete(streamId);
    this.entries.set(streamId, { events, at: cached && fresh.length > 0 ? cached.at : now });
    const max = this.options.maxStreams ?? 1000;
    for (const key of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.entries.delete(key);
    }
    return events;
  }
}
