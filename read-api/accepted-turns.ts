import type { Owned } from '../domain/access.ts';
import type { Actor } from '../schemas/common.ts';
import { ExpiringMap } from './expiring-map.ts';

// Generations this API process accepted a moment ago, each with someone who may act on it.
//
// Why: a client subscribes to its answer right after sendMessage, usually before the saga has
// appended GenerationRequested; without this the subscription polls the generation's stream
// (and the saga's checkpoint) until the request appears — ~4 round trips per turn at 64 users.
// A hit here authorizes at once; a miss (another API process, an old id) falls back to the log.
//
// Invariants:
// - An entry is recorded only after the turn's append committed, for the actor whose command the
//   decider accepted: that actor could act on the conversation, so it may read the generation.
// - The entry names the submitter's own (tenant, user). canActOn then admits the submitter and
//   the admins of the submitter's tenant — which is the conversation's tenant, because without
//   platform_operator a role does not reach another tenant. A platform operator's turns are not
//   recorded (its tenant need not be the conversation's); they go through the log.
// - Bounded: at most `maxEntries` (oldest dropped first) and `ttlMs` old.
export class AcceptedTurns {
  private readonly entries: ExpiringMap<Owned>;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.entries = new ExpiringMap(options.maxEntries ?? 10_000, this.now);
  }

  remember(generationId: string, actor: Actor): void {
    if (actor.roles.includes('platform_operator')) return;
    this.entries.set(generationId, { ownerId: actor.userId, tenantId: actor.tenantId }, this.now() + this.ttlMs);
  }

  /** who may act on the generation, if this process accepted it recently */
  lookup(generationId: string): Owned | null {
    return this.entries.get(generationId) ?? null;
  }
}
