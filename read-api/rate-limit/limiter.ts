import type { ScopeLimits } from './tiers.ts';

// Quota accounting. Each scope (a user, a tenant) has two token buckets — requests per minute and
// tokens per minute — and a set of in-flight streams. A request is admitted only if every scope
// has room in every dimension; then all are charged together (all or nothing). Tokens are
// reserved up front (prompt estimate + max_tokens) and settled when the generation ends: the
// unused part is refunded, an overrun is charged (a bucket may go into debt down to −capacity).

export type Scope = { key: string; limits: ScopeLimits };

export type AdmitRequest = {
  ticketId: string;
  scopes: Scope[];
  /** tokens to reserve (clamped to each scope's tpm capacity, so a large request waits for a full bucket instead of never passing) */
  tokens: number;
  /** holds a concurrent-stream slot until settled */
  stream: boolean;
  /** requests charged against the rpm bucket (default 1): a GraphQL request admits all its turns at once */
  requests?: number;
};

export type LimitName = 'rpm' | 'tpm' | 'streams';
export type AdmitResult =
  | { ok: true; reserved: number[] }
  | { ok: false; limit: LimitName; scope: string; retryAfterMs: number };

export type Ticket = { ticketId: string; scopes: Scope[]; reserved: number[]; stream: boolean };

export interface QuotaLimiter {
  admit(req: AdmitRequest): Promise<AdmitResult>;
  /** charges `actualTokens` against the reservation (refund or debt) and frees the stream slot */
  settle(ticket: Ticket, actualTokens: number): Promise<void>;
  /** extends the stream slots of long-running tickets (their slots expire otherwise, so a dead process leaks nothing) */
  renew(tickets: Ticket[]): Promise<void>;
  close(): Promise<void>;
}

export const STREAM_LEASE_MS = 60_000;
const MINUTE_MS = 60_000;

type Bucket = { tokens: number; at: number };

// The embedded default: one process, plain maps.
export class InProcessLimiter implements QuotaLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly streams = new Map<string, Map<string, number>>(); // scope → ticket → lease end
  constructor(private readonly now: () => number = Date.now) {}

  private bucket(key: string, capacity: number, t: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: capacity, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(capacity, b.tokens + ((t - b.at) * capacity) / MINUTE_MS);
    b.at = t;
    return b;
  }

  private active(key: string, t: number): Map<string, number> {
    let m = this.streams.get(key);
    if (!m) this.streams.set(key, (m = new Map()));
    for (const [id, until] of m) if (until <= t) m.delete(id);
    return m;
  }

  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const t = this.now();
    const requests = req.requests ?? 1;
    let worst: Extract<AdmitResult, { ok: false }> | null = null;
    const reserved: number[] = [];
    for (const s of req.scopes) {
      const rpm = this.bucket(`${s.key}:rpm`, s.limits.rpm, t);
      const tpm = this.bucket(`${s.key}:tpm`, s.limits.tpm, t);
      const cost = Math.min(req.tokens, s.limits.tpm);
      reserved.push(cost);
      const misses: [LimitName, number][] = [];
      if (rpm.tokens < requests) misses.push(['rpm', ((requests - rpm.tokens) * MINUTE_MS) / s.limits.rpm]);
      if (tpm.tokens < cost) misses.push(['tpm', ((cost - tpm.tokens) * MINUTE_MS) / s.limits.tpm]);
      if (req.stream && this.active(s.key, t).size >= s.limits.streams) misses.push(['streams', 1000]);
      for (const [limit, ms] of misses) if (!worst || ms > worst.retryAfterMs) worst = { ok: false, limit, scope: s.key, retryAfterMs: Math.ceil(ms) };
    }
    if (worst) return worst;
    req.scopes.forEach((s, i) => {
      this.bucket(`${s.key}:rpm`, s.limits.rpm, t).tokens -= requests;
      this.bucket(`${s.key}:tpm`, s.limits.tpm, t).tokens -= reserved[i]!;
      if (req.stream) this.active(s.key, t).set(req.ticketId, t + STREAM_LEASE_MS);
    });
    return { ok: true, reserved };
  }

  async settle(ticket: Ticket, actualTokens: number): Promise<void> {
    const t = this.now();
    ticket.scopes.forEach((s, i) => {
      const b = this.bucket(`${s.key}:tpm`, s.limits.tpm, t);
      b.tokens = Math.max(-s.limits.tpm, Math.min(s.limits.tpm, b.tokens + ticket.reserved[i]! - actualTokens));
      this.streams.get(s.key)?.delete(ticket.ticketId);
    });
  }

  async renew(tickets: Ticket[]): Promise<void> {
    const until = this.now() + STREAM_LEASE_MS;
    for (const ticket of tickets) for (const s of ticket.scopes) {
      const m = this.streams.get(s.key);
      if (m?.has(ticket.ticketId)) m.set(ticket.ticketId, until);
    }
  }

  async close(): Promise<void> {}
}
