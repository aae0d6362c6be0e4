import type { Position } from '../eventstore/port.ts';
import type { EventType } from '../schemas/events.ts';
import type { WireEvent, WithheldReason } from './privacy.ts';

// What a replay file holds, written beside it: where it starts and ends (the cursors to resume
// from), how many events of which types, and the schema versions they conform to.
export type ReplayManifestJson = {
  file: string;
  after: Position;
  types: EventType[] | null;
  limit: number | null;
  count: number;
  firstCursor: Position | null;
  lastCursor: Position | null;
  schemaVersions: Record<string, { version: number; schemaId: string; count: number; storedVersions: Record<string, number> }>;
  withheld: Partial<Record<WithheldReason, number>>;
  content: 'included' | 'withheld';
  headAtStart: Position | null;
  // True once every event up to headAtStart (or `limit` of them) is in the file.
  complete: boolean;
  follow: boolean;
  startedAt: string;
  updatedAt: string;
};

type ManifestLine = Pick<WireEvent, 'position' | 'type' | 'version' | 'storedVersion' | 'schemaId' | 'withheld'>;

export class ReplayManifest {
  private readonly m: ReplayManifestJson;

  constructor(init: { file: string; after: Position; types?: readonly EventType[]; limit?: number; includeContent: boolean; follow: boolean; headAtStart: Position | null }) {
    const now = new Date().toISOString();
    this.m = {
      file: init.file,
      after: init.after,
      types: init.types ? [...init.types] : null,
      limit: init.limit ?? null,
      count: 0,
      firstCursor: null,
      lastCursor: null,
      schemaVersions: {},
      withheld: {},
      content: init.includeContent ? 'included' : 'withheld',
      headAtStart: init.headAtStart,
      complete: false,
      follow: init.follow,
      startedAt: now,
      updatedAt: now,
    };
  }

  add(e: ManifestLine): void {
    const m = this.m;
    m.count++;
    m.firstCursor ??= e.position;
    m.lastCursor = e.position;
    const s = (m.schemaVersions[e.type] ??= { version: e.version, schemaId: e.schemaId, count: 0, storedVersions: {} });
    s.count++;
    s.storedVersions[e.storedVersion] = (s.storedVersions[e.storedVersion] ?? 0) + 1;
    if (e.withheld) m.withheld[e.withheld.reason] = (m.withheld[e.withheld.reason] ?? 0) + 1;
  }

  get count(): number {
    return this.m.count;
  }

  get lastCursor(): Position | null {
    return this.m.lastCursor;
  }

  markComplete(): void {
    this.m.complete = true;
  }

  toJSON(): ReplayManifestJson {
    return { ...this.m, updatedAt: new Date().toISOString() };
  }
}
