import { z } from 'zod';
import { Constraint } from './constraint.ts';

export const Id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'ids use letters, digits, _ . : -');
export type Id = z.infer<typeof Id>;

// Text that PostgreSQL can store and every client can read: no NUL characters (text and jsonb
// columns reject them) and no unpaired UTF-16 surrogates (jsonb rejects their escapes, UTF-8 cannot
// encode them, so they would be silently replaced or fail deep in a write). Every string that
// crosses the API boundary is held to this (textProblem), and the command and event schemas use it.
const LONE_SURROGATE = /\p{Cs}/u; // with the u flag only an unpaired surrogate is a Cs code point
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) return 'must not contain unpaired UTF-16 surrogates (not valid Unicode text)';
  return null;
}
export const Text = z.string()
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
  .refine((s) => !LONE_SURROGATE.test(s), 'must not contain unpaired UTF-16 surrogates (not valid Unicode text)');

// Model output may contain NUL (or, in theory, an unpaired surrogate); it is shown as U+FFFD instead.
export const withoutNul = (s: string) => (textProblem(s) === null ? s : s.replace(/\u0000|\p{Cs}/gu, '\uFFFD'));

// Dates and date-times a client passes (filters, cursors), as PostgreSQL's timestamptz accepts them:
// a real calendar date (zod), a year from 0001 (PostgreSQL has no year 0000) and an offset of at
// most 15:59 (its limit). Checked here so that a bad one is the client's error, not the database's.
const pgYear = (s: string) => Number(s.slice(0, 4)) >= 1;
const pgOffset = (s: string) => Number(/([+-])(\d\d):?\d\d$/.exec(s)?.[2] ?? 0) <= 15;
export const IsoDay = z.iso.date().refine(pgYear, 'must be a date from 0001-01-01');
export const IsoDateTime = z.iso.datetime({ offset: true })
  .refine(pgYear, 'must be a date-time from the year 0001')
  .refine(pgOffset, 'must have a UTC offset of at most 15:59');

// The subject a user's personal data is keyed, metered and erased under: a user is (tenant, user).
// '/' never occurs in an Id, so the pair is unambiguous.
export const subjectOf = (tenantId: string, userId: string) => `${tenantId}/${userId}`;

// `platform_operator` is the one cross-tenant role (see domain/access.ts); never in a token by default.
export const Role = z.enum(['user', 'compliance', 'data_scientist', 'admin', 'platform_operator']);
export type Role = z.infer<typeof Role>;

export const Actor = z.object({
  userId: Id,
  tenantId: Id,
  roles: z.array(Role),
});
export type Actor = z.infer<typeof Actor>;

export const EventMetadata = z.object({
  eventId: z.uuid(),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  commandId: z.string().min(1).nullable(),
  actor: Actor,
  occurredAt: z.iso.datetime({ offset: true }),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

export const SamplingParams = z.object({
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(1),
  topK: z.number().int().min(0).max(1000).default(0),
  maxTokens: z.number().int().min(1).max(8192).default(256),
  seed: z.number().int().min(0).max(2 ** 31 - 1).nullable().default(null),
  stop: z.array(Text.min(1).max(64)).max(4).default([]),
  // What the output must follow (JSON Schema, any JSON object, tool calls): the engine masks every
  // other token. Optional, so events written before it read as unconstrained (no version change:
  // the shape only grew an optional field, and older readers drop it).
  constraint: Constraint.optional(),
  /** false: no prompt-lookup speculative decoding for this generation (the engine's default is on;
   *  the output is the same either way, only its speed changes) */
  speculative: z.boolean().optional(),
  /** present on every OpenAI API turn: the names of the tools the CLIENT runs (its `tools`; [] for
   *  none). Their calls are the client's, and such a turn is offered no server-side tools and gets no
   *  server-side round (the OpenAI routes answer with their own generation, never a continuation).
   *  Absent: a GraphQL turn, offered the tenant's server-side tools (older events have none) */
  clientTools: z.array(z.string().min(1).max(64)).max(128).optional(),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

export const Rating = z.enum(['up', 'down']);
export type Rating = z.infer<typeof Rating>;

export const FinishReason = z.enum(['stop', 'length', 'content_filter']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z.object({
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
});
export type Usage = z.infer<typeof Usage>;
