// A bounded map whose entries expire, for what this process remembers a moment to save work (verified
// tokens, turns it just accepted). Invariants: at most `maxEntries` (the least recently set dropped
// first); an entry past its `until` (epoch ms) is never returned and is dropped when met.
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  set(key: string, value: V, until: number): void {
    this.entries.delete(key); // re-inserted: the Map's order is least recently set first
    this.entries.set(key, { value, until });
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.until) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }
}
