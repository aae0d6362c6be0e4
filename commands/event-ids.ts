import { createHash } from 'node:crypto';

// Event ids derived from the command id: a command retried after a timeout produces the same
// ids, and the store's idempotent append keeps one copy.
export function deterministicEventId(commandId: string, streamId: string, index: number): string {
  const h = createHash('sha256').update(`${commandId}\u0000${streamId}\u0000${index}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// One appeal per safety decision: the appeal's id is derived from the decision's, so the appeal
// decider refuses a second appeal of it (its stream already exists), whoever files it and however
// concurrently.
export const appealIdOf = (safetyEventId: string) => deterministicEventId(`appeal-of:${safetyEventId.toLowerCase()}`, 'appeal', 0);
