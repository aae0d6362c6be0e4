import type { EventMetadata } from '../schemas/common.ts';
import type { EventType, ParleyEvent } from '../schemas/events.ts';

// A global cursor "<transaction id>/<position>": events are ordered by commit-safe (xid, position),
// not by position alone (see postgres/event-store.ts). Opaque to clients.
export type Position = string;
export const START: Position = '0/0';

export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

// An event to store. `version` may be older than current (old writers, tests); readers upcast.
export type EventToAppend = { type: string; version: number; data: unknown; metadata: EventMetadata };

export type RecordedEvent = ParleyEvent & {
  streamId: string;
  revision: number; // 0-based index within its stream
  position: Position;
  storedVersion: number; // the version as written, before upcasting
  recordedAt: string;
};

export type AppendResult = { nextRevision: number; position: Position; duplicate: boolean };

// One stream's part of an appendMany call.
export type StreamAppend = { streamId: string; events: EventToAppend[]; expectedRevision: ExpectedRevision };

export type ReadAllOptions = { from?: Position; types?: readonly EventType[]; limit?: number };
export type SubscribeOptions = { from?: Position; types?: readonly EventType[]; signal?: AbortSignal; batchSize?: number };

export interface EventStore {
  append(streamId: string, events: EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  // Appends to many streams in one call, each with its own expected revision; one result per
  // stream, in the order given. Each stream is idempotent by event id as in append (a stream whose
  // events are all stored answers duplicate). A ConcurrencyError names the stream that failed.
  // Atomic where the adapter says so (PostgreSQL: all or nothing, one round trip); the EventStoreDB
  // adapter appends stream by stream (see esdb/event-store.ts). A stream may appear only once.
  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  // Events of one stream in revision order; [] when the stream does not exist.
  readStream(streamId: string, options?: { fromRevision?: number; limit?: number }): Promise<RecordedEvent[]>;
  // Whole streams, many at once: every id maps to its events in revision order ([] when it does not
  // exist). One round trip on PostgreSQL; stream by stream on EventStoreDB.
  readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>>;
  // The stream's last revision, or null when it does not exist.
  streamRevision(streamId: string): Promise<number | null>;
  // Events after `from` in global order, only those already safe to read (no later gap can appear).
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  // Catch-up then live; each event's `position` is the checkpoint to resume after.
  subscribe(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;
  headPosition(): Promise<Position>;
  close(): Promise<void>;
}

export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: expected revision ${String(expected)}, actual ${actual === null ? 'no stream' : actual}`);
  }
}

export class InvalidEventError extends Error {
  readonly code = 'INVALID_EVENT';
}

export function parsePosition(position: Position): { xid: bigint; seq: bigint } {
  const match = /^(\d+)\/(\d+)$/.exec(position);
  if (!match) throw new RangeError(`invalid position "${position}" (expected "<xid>/<seq>")`);
  return { xid: BigInt(match[1]!), seq: BigInt(match[2]!) };
}

// A position a client may hand back: both parts in range of their columns (xid8 is an unsigned
// 64-bit integer, the sequence a bigint), so a forged one is refused before it reaches SQL.
const MAX_XID = 2n ** 64n - 1n;
const MAX_SEQ = 2n ** 63n - 1n;
export function isPosition(value: string): boolean {
  const match = /^(\d{1,20})\/(\d{1,19})$/.exec(value);
  return match !== null && BigInt(match[1]!) <= MAX_XID && BigInt(match[2]!) <= MAX_SEQ;
}

export function comparePositions(a: Position, b: Position): number {
  const pa = parsePosition(a);
  const pb = parsePosition(b);
  if (pa.xid !== pb.xid) return pa.xid < pb.xid ? -1 : 1;
  return pa.seq === pb.seq ? 0 : pa.seq < pb.seq ? -1 : 1;
}
