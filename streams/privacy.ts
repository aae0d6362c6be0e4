import { comparePositions, START, type EventStore, type Position, type RecordedEvent } from '../eventstore/port.ts';
import { subjectOf, type EventMetadata } from '../schemas/common.ts';
import { schemaId, type EventType } from '../schemas/events.ts';

// What leaves the log for data scientists (NDJSON lines, GraphQL nodes, Kafka values): the event
// upcast to its current version, its JSON Schema id, and its place in the log. `position` is the
// cursor to resume after.
export type WireEvent = {
  position: Position;
  eventId: string;
  type: EventType;
  version: number;
  storedVersion: number;
  schemaId: string;
  streamId: string;
  revision: number;
  recordedAt: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  withheld: { reason: WithheldReason; fields: string[] } | null;
};

// 'erased': the user the content belongs to has a UserDataErased event (at any position).
// 'no_content_access': the reader may see metadata but not content.
export type WithheldReason = 'erased' | 'no_content_access';

// The personal text of each event type. Token ids are text in another alphabet, so they go too
// (and the per-token text offsets with them).
// Everything else (ids, verdicts, scores, usage, timings) stays: it is what the analysis is about.
export const CONTENT_FIELDS: Partial<Record<EventType, readonly string[]>> = {
  ConversationStarted: ['title', 'systemPrompt'],
  MessageSubmitted: ['content'],
  GenerationRequested: ['prompt'],
  TokensGenerated: ['text', 'tokens', 'textOffsets'],
  FeedbackGiven: ['comment'],
  ConversationRenamed: ['title'],
  AppealFiled: ['reason'],
  AppealResolved: ['note'],
  // Long-term knowledge and rolling summaries: the user's facts, a document's title and text, a
  // conversation's summary.
  MemorySaved: ['text'],
  DocumentAdded: ['title', 'text'],
  ConversationSummarized: ['text'],
};

// A withheld field's value: self-describing, and never a string a careless consumer could mistake for the text.
export const withheldMarker = (reason: WithheldReason) => ({ withheld: reason });

type ErasureSource = Pick<EventStore, 'readAll' | 'readStream' | 'headPosition'>;

// The user a stream belongs to: a user is (tenant, user).
export type StreamOwner = { userId: string; tenantId: string };

// Who was erased, and who owns which stream. One per process, shared by every reader: the erased
// set only grows and stream owners never change, so both are cached; the erased set is refreshed
// incrementally (the UserDataErased events after the last one seen). Erased users are kept as
// subjects ("<tenant>/<user>"), so erasing alice@acme leaves alice@evil readable.
export class ErasureIndex {
  private readonly erased = new Set<string>();
  private cursor: Position = START; // erasures are read after this position
  private checkedUpTo: Position = START; // every erasure at or before this position is known
  private requested = 0;
  private completed = 0;
  private running: Promise<void> | null = null;
  private readonly owners = new Map<string, StreamOwner | null>();
  private readonly ownerLookups = new Map<string, Promise<StreamOwner | null>>();

  constructor(private readonly store: ErasureSource, private readonly maxOwners = 200_000) {}

  isErased(owner: StreamOwner | null | undefined): boolean {
    return !!owner && this.erased.has(subjectOf(owner.tenantId, owner.userId));
  }

  get hasErasures(): boolean {
    return this.erased.size > 0;
  }

  // Learns every erasure appended so far. Concurrent callers share a refresh, but a caller never
  // settles for one that started before it asked.
  async refresh(): Promise<void> {
    const ticket = ++this.requested;
    while (this.completed < ticket) {
      if (!this.running) {
        const upTo = this.requested;
        this.running = this.load()
          .then(() => { this.completed = Math.max(this.completed, upTo); })
          .finally(() => { this.running = null; });
      }
      await this.running;
    }
  }

  // Makes sure erasures up to `position` are known (refreshes only when the position is new).
  async covers(position: Position): Promise<void> {
    if (comparePositions(position, this.checkedUpTo) > 0) await this.refresh();
  }

  private async load(): Promise<void> {
    const head = await this.store.headPosition();
    for (;;) {
      const page = await this.store.readAll({ from: this.cursor, types: ['UserDataErased'], limit: 1000 });
      for (const e of page) if (e.type === 'UserDataErased') this.erased.add(subjectOf(e.data.tenantId, e.data.userId));
      if (page.length > 0) this.cursor = page[page.length - 1]!.position;
      if (page.length < 1000) break;
    }
    // Nothing can appear at or before a head already read (the stores only expose positions no
    // later commit can get behind), so the next refresh starts there: it reads only what is new,
    // also on EventStoreDB, where a type filter scans $all.
    if (comparePositions(head, this.cursor) > 0) this.cursor = head;
    if (comparePositions(this.cursor, this.checkedUpTo) > 0) this.checkedUpTo = this.cursor;
  }

  // The user a stream's content belongs to: the owner named by the stream's first event
  // (ConversationStarted.ownerId, GenerationRequested.ownerId, AppealFiled.userId, each with tenantId).
  async ownerOf(streamId: string): Promise<StreamOwner | null> {
    if (this.owners.has(streamId)) return this.owners.get(streamId)!;
    let lookup = this.ownerLookups.get(streamId);
    if (!lookup) {
      lookup = this.store.readStream(streamId, { limit: 1 }).then((events) => {
        const owner = events[0] ? ownerNamedBy(events[0]) : null;
        // Only a stream that exists is cached: its first event never changes.
        if (events[0]) this.remember(streamId, owner);
        return owner;
      }).finally(() => this.ownerLookups.delete(streamId));
      this.ownerLookups.set(streamId, lookup);
    }
    return lookup;
  }

  // A first event seen in passing saves a lookup later.
  learn(event: RecordedEvent): void {
    if (event.revision === 0 && !this.owners.has(event.streamId)) this.remember(event.streamId, ownerNamedBy(event));
  }

  private remember(streamId: string, owner: StreamOwner | null): void {
    if (this.owners.size >= this.maxOwners) this.owners.delete(this.owners.keys().next().value!);
    this.owners.set(streamId, owner);
  }
}

function ownerNamedBy(event: RecordedEvent): StreamOwner | null {
  const data = event.data as Record<string, unknown>;
  if (typeof data.tenantId !== 'string') return null;
  if (typeof data.ownerId === 'string') return { userId: data.ownerId, tenantId: data.tenantId };
  if (typeof data.userId === 'string') return { userId: data.userId, tenantId: data.tenantId };
  return null;
}

// Who reads the raw log, and who of them also sees content (message, token, title, prompt, comment text).
export const LOG_ROLES = ['data_scientist'] as const;
export const CONTENT_ROLES: readonly string[] = ['data_scientist'];
export const canSeeContent = (roles: readonly string[]) => roles.some((r) => CONTENT_ROLES.includes(r));

// `tenantId`: only events of streams owned in this tenant are presented (the data_scientist role
// reads its own tenant's log); null: every tenant's (a platform operator, the Kafka relay, the CLI).
export type PresentOptions = { includeContent: boolean; tenantId?: string | null };

// Turns recorded events into wire events, withholding content as the policy says and leaving out
// other tenants' events. The caller passes events in log order; erasures are known at least up to
// the last of them.
export async function present(index: ErasureIndex, events: RecordedEvent[], options: PresentOptions): Promise<WireEvent[]> {
  if (events.length === 0) return [];
  for (const e of events) index.learn(e);
  if (options.tenantId) events = await inTenant(index, events, options.tenantId);
  if (events.length === 0) return [];
  if (!options.includeContent) return events.map((e) => toWire(e, 'no_content_access'));
  await index.covers(events[events.length - 1]!.position);
  return Promise.all(events.map(async (e) => toWire(e, (await isContentOfErasedUser(index, e)) ? 'erased' : null)));
}

// A stream without an owning tenant (none exist today) is shown to no tenant-scoped reader.
async function inTenant(index: ErasureIndex, events: RecordedEvent[], tenantId: string): Promise<RecordedEvent[]> {
  const owners = await Promise.all(events.map((e) => index.ownerOf(e.streamId)));
  return events.filter((_, i) => owners[i]?.tenantId === tenantId);
}

async function isContentOfErasedUser(index: ErasureIndex, e: RecordedEvent): Promise<boolean> {
  if (!index.hasErasures || !hasContent(e)) return false; // no erasure: no owner lookups either
  const data = e.data as Record<string, unknown>;
  const tenantId = typeof data.tenantId === 'string' ? data.tenantId : e.metadata.actor.tenantId;
  const named = [e.metadata.actor, ...[data.ownerId, data.userId].filter((s): s is string => typeof s === 'string').map((userId) => ({ userId, tenantId }))];
  if (named.some((s) => index.isErased(s))) return true;
  return index.isErased(await index.ownerOf(e.streamId));
}

function hasContent(e: RecordedEvent): boolean {
  const fields = CONTENT_FIELDS[e.type];
  if (!fields) return false;
  const data = e.data as Record<string, unknown>;
  return fields.some((f) => data[f] !== null && data[f] !== undefined);
}

export function toWire(e: RecordedEvent, withhold: WithheldReason | null): WireEvent {
  let data = e.data as Record<string, unknown>;
  let withheld: WireEvent['withheld'] = null;
  if (withhold) {
    const fields = (CONTENT_FIELDS[e.type] ?? []).filter((f) => data[f] !== null && data[f] !== undefined);
    if (fields.length > 0) {
      data = { ...data };
      for (const f of fields) data[f] = withheldMarker(withhold);
      withheld = { reason: withhold, fields };
    }
  }
  return {
    position: e.position,
    eventId: e.metadata.eventId,
    type: e.type,
    version: e.version,
    storedVersion: e.storedVersion,
    schemaId: schemaId(e.type),
    streamId: e.streamId,
    revision: e.revision,
    recordedAt: e.recordedAt,
    data,
    metadata: e.metadata,
    withheld,
  };
}
