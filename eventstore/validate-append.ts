import { EventMetadata } from '../schemas/common.ts';
import { currentVersion, eventSchemas, type EventType } from '../schemas/events.ts';
import { InvalidEventError, type EventToAppend } from './port.ts';

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
