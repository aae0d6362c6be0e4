import { randomUUID } from 'node:crypto';
import { GENERATION_END_TYPES } from '../../domain/generation-view.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import { subjectOf, type Actor } from '../../schemas/common.ts';
import type { AdmissionHints } from './hints.ts';
import type { LimitName, QuotaLimiter, Ticket } from './limiter.ts';
import { loadLevel, type LoadMonitor, type SheddingConfig } from './load.ts';
import { DEFAULT_TIER, lowestTiers, tierOfToken, type Tiers } from './tiers.ts';

export type AdmissionObserver = {
  rejected?(scope: 'user' | 'tenant', limit: LimitName, tier: string): void;
  shed?(tier: string): void;
  brownout?(tier: string): void;
  /** the quota store failed (e.g. Redis unreachable): the request was refused as unavailable */
  limiterFailed?(error: unknown): void;
};

export type AdmitInput = {
  actor: Actor;
  tier: string;
  /** max_tokens asked for (before any brownout cap) */
  maxTokens: number;
  /** prompt tokens (exact or estimated) */
  promptTokens: number;
  /** holds a concurrent-stream slot (the OpenAI endpoint) */
  stream: boolean;
  /** turns admitted together (one GraphQL request's mutations): charged as this many requests */
  requests?: number;
};

export type Admitted = {
  ok: true;
  tier: string;
  priority: number;
  brownout: boolean;
  /** max_tokens to use: the asked value, or the brownout cap */
  maxTokens: number;
  ticket: Ticket | null;
};

export type Refused = {
  ok: false;
  // unavailable: the quota store could not be reached (nothing charged, nothing accepted; retryable)
  kind: 'rate_limited' | 'overloaded' | 'unavailable';
  retryAfterS: number;
  limit?: LimitName;
  scope?: 'user' | 'tenant';
  message: string;
};

// The Admission of an app, found from GraphQL resolvers by the app's knex instance (one per app).
const byApp = new WeakMap<object, Admission>();
export function registerAdmission(knex: object, admission: Admission | null): void {
  if (admission) byApp.set(knex, admission);
  else byApp.delete(knex);
}
export function admissionOf(services: { knex: object }): Admission | null {
  return byApp.get(services.knex) ?? null;
}
/** The token's tier of a GraphQL request (graphql-yoga puts the Request on the context), read as
 *  the OpenAI routes read it; null when quotas are off (no Admission: every tier's models). */
export function tierOfGraphQL(ctx: { services: { knex: object } }): string | null {
  const request = (ctx as { request?: Request }).request;
  return admissionOf(ctx.services)?.tierOf(request?.headers.get('authorization')) ?? null;
}

const TERMINAL = GENERATION_END_TYPES;
const MAX_HOLD_MS = 15 * 60_000;

// Admission of a new generation: load shedding first (so a refused request costs no quota), then
// quotas, then the hint the saga records (priority, brownout). Tickets are settled when the
// generation ends: by the OpenAI handler directly, or (GraphQL) by a watcher of terminal events.
export class Admission {
  private readonly lowest: Set<string>;
  private readonly tracked = new Map<string, { ticket: Ticket; promptTokens: number; since: number }>();
  private readonly controller = new AbortController();
  private renewTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: {
    tiers: Tiers;
    limiter: QuotaLimiter | null; // null: quotas off
    load: LoadMonitor | null; // null: no shedding
    shedding: SheddingConfig;
    hints: AdmissionHints;
    observer?: AdmissionObserver;
    /** typical characters per token of the served model: estimates are counted, never tokenized, before admission */
    charsPerToken?: number;
  }) {
    this.lowest = lowestTiers(o.tiers);
  }

  get tiers(): Tiers {
    return this.o.tiers;
  }

  tierOf(authorization: string | null | undefined): string {
    return tierOfToken(authorization, this.o.tiers);
  }

  estimateTokens(text: string): number {
    return Math.ceil(text.length / (this.o.charsPerToken ?? 4));
  }

  async admit(input: AdmitInput): Promise<Admitted | Refused> {
    const tierName = Object.hasOwn(this.o.tiers, input.tier) ? input.tier : DEFAULT_TIER;
    const tier = this.o.tiers[tierName]!;
    let brownout = false;
    let maxTokens = input.maxTokens;
    if (this.o.load) {
      const level = loadLevel(await this.o.load.snapshot(), this.o.shedding);
      if (level === 2 && this.lowest.has(tierName)) {
        this.o.observer?.shed?.(tierName);
        return { ok: false, kind: 'overloaded', retryAfterS: this.o.shedding.retryAfterS, message: `the service is overloaded; requests of the ${tierName} tier are refused for now — retry later` };
      }
      if (level >= 1) {
        brownout = true;
        maxTokens = Math.min(maxTokens, this.o.shedding.brownoutMaxTokens);
        this.o.observer?.brownout?.(tierName);
      }
    }
    let ticket: Ticket | null = null;
    if (this.o.limiter) {
      const scopes = [
        { key: `u:${subjectOf(input.actor.tenantId, input.actor.userId)}`, limits: tier.user },
        { key: `t:${input.actor.tenantId}`, limits: tier.tenant },
      ];
      const ticketId = randomUUID();
      let r: Awaited<ReturnType<QuotaLimiter['admit']>>;
      try {
        r = await this.o.limiter.admit({ ticketId, scopes, tokens: input.promptTokens + maxTokens, stream: input.stream, requests: input.requests ?? 1 });
      } catch (error) {
        // Quotas that cannot be checked are not waived (fail closed), but the refusal says what it is:
        // a retryable outage, not an internal error and not the caller's limit.
        this.o.observer?.limiterFailed?.(error);
        return { ok: false, kind: 'unavailable', retryAfterS: 1, message: 'quotas cannot be checked right now (the quota store is unreachable); nothing was accepted — retry shortly' };
      }
      if (!r.ok) {
        const scope = r.scope.startsWith('u:') ? 'user' : 'tenant';
        this.o.observer?.rejected?.(scope, r.limit, tierName);
        const what = { rpm: 'requests per minute', tpm: 'tokens per minute', streams: 'concurrent streams' }[r.limit];
        return {
          ok: false, kind: 'rate_limited', retryAfterS: Math.max(1, Math.ceil(r.retryAfterMs / 1000)), limit: r.limit, scope,
          message: `rate limit reached: ${what} of the ${tierName} tier for this ${scope}`,
        };
      }
      ticket = { ticketId, scopes, reserved: r.reserved, stream: input.stream };
    }
    return { ok: true, tier: tierName, priority: tier.priority, brownout, maxTokens, ticket };
  }

  /** records priority and brownout for the saga's GenerationRequested */
  async recordHint(generationId: string, a: Admitted): Promise<void> {
    if (a.priority === 0 && !a.brownout) return; // the saga's defaults
    await this.o.hints.put(generationId, a.tier, { priority: a.priority, brownout: a.brownout });
  }

  async forgetHint(generationId: string): Promise<void> {
    await this.o.hints.delete(generationId).catch(() => undefined);
  }

  hint(generationId: string) {
    return this.o.hints.get(generationId);
  }

  /** settles a ticket now (actual prompt + completion tokens) */
  async settle(ticket: Ticket | null, actualTokens: number): Promise<void> {
    if (!ticket) return;
    for (const [id, t] of this.tracked) if (t.ticket === ticket) this.tracked.delete(id);
    await this.o.limiter?.settle(ticket, actualTokens).catch(() => undefined);
  }

  /** settles the ticket when the generation's terminal event shows up (GraphQL turns) */
  track(generationId: string, ticket: Ticket | null, promptTokens: number): void {
    if (ticket) this.tracked.set(generationId, { ticket, promptTokens, since: Date.now() });
  }

  /** follows terminal events from now on, to settle tracked tickets; renews stream leases */
  async start(store: EventStore): Promise<void> {
    if (!this.o.limiter) return;
    const from = await store.headPosition();
    const signal = this.controller.signal;
    void (async () => {
      try {
        for await (const e of store.subscribe({ from, types: [...TERMINAL], signal })) this.onTerminal(e);
      } catch (error) {
        if (!signal.aborted) console.error('quota settlement watcher stopped:', error);
      }
    })();
    this.renewTimer = setInterval(() => {
      const now = Date.now();
      for (const [id, t] of this.tracked) if (now - t.since > MAX_HOLD_MS) void this.settle(t.ticket, t.ticket.reserved[0] ?? 0).then(() => this.tracked.delete(id));
    }, 20_000);
    this.renewTimer.unref();
  }

  private onTerminal(e: RecordedEvent): void {
    const id = (e.data as { generationId: string }).generationId;
    const t = this.tracked.get(id);
    if (!t) return;
    this.tracked.delete(id);
    const usage = (e.data as { usage?: { promptTokens: number; completionTokens: number } | null }).usage;
    // Failures are not charged beyond the prompt; a cancelled turn without usage keeps its reservation.
    const actual = usage ? usage.promptTokens + usage.completionTokens : e.type === 'GenerationFailed' ? t.promptTokens : t.ticket.reserved[0] ?? 0;
    void this.o.limiter?.settle(t.ticket, actual).catch(() => undefined);
  }

  /** extends stream slots held by long streams (call every ~20 s with the live tickets) */
  async renew(tickets: Ticket[]): Promise<void> {
    await this.o.limiter?.renew(tickets).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.controller.abort();
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.o.limiter?.close();
  }
}

/** One reservation cut into parts by weight (tokens per turn), each settled on its own when its turn ends. */
export function splitTicket(ticket: Ticket | null, weights: number[]): (Ticket | null)[] {
  if (!ticket) return weights.map(() => null);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const given = ticket.reserved.map(() => 0);
  return weights.map((w, i) => {
    const last = i === weights.length - 1;
    const reserved = ticket.reserved.map((r, s) => {
      const part = last ? r - given[s]! : Math.floor((r * w) / total);
      given[s]! += part;
      return part;
    });
    return { ticketId: `${ticket.ticketId}:${i}`, scopes: ticket.scopes, reserved, stream: false };
  });
}
