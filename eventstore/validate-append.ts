import { EventMetadata } from '../schemas/common.ts';
import { currentVersion, eventSchemas, type EventType } from '../schemas/events.ts';
import { InvalidEventError, type EventToAppend, type StreamAppend } from './port.ts';

// Every adapter checks an event the same way before storing it: a known type and version, and the
// full schema when it is the current version (older versions come from old writers and tests).
export function validateForAppend(event: EventToAppend): void {
  const type = event.type as EventType;
  const current = currentVersion[type];
  if (current === undefined) throw new InvalidEventError(`unknown event type "${event.type}"`);
  if (event.version > current || event.version < 1) throw new InvalidEventError(`${type} has no version ${event.version}`);
  const result = event.version === current ? eventSchemas[type].safeParse(event) : EventMetadata.safeParse(event.metadata);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new InvalidEventError(`${type}: ${issue.path.join('.')}: ${issue.message}`);
  }
}

// The shape every adapter requires of an appendMany call: each stream once, at least one event per
// stream, every event valid, and no event id twice (it would be one event in two places).
export function validateAppendMany(appends: readonly StreamAppend[]): void {
  const streams = new Set<string>();
  const ids = new Set<string>();
  for (const a of appends) {
    if (!a.streamId) throw new InvalidEventError('stream id is empty');
    if (streams.has(a.streamId)) throw new InvalidEventError(`stream ${a.streamId} appears twice in one appendMany`);
    streams.add(a.streamId);
    if (a.events.length === 0) throw new InvalidEventError(`${a.streamId}: append needs at least one event`);
    for (const e of a.events) {
      validateForAppend(e);
      if (ids.has(e.metadata.eventId)) throw new InvalidEventError(`event ${e.metadata.eventId} appears twice in one appendMany`);
      ids.add(e.metadata.eventId);
    }
  }
}
