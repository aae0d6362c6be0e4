import { z } from 'zod';

export const Id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'ids use letters, digits, _ . : -');
export type Id = z.infer<typeof Id>;

export const Role = z.enum(['user', 'compliance', 'data_scientist', 'admin']);
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
  stop: z.array(z.string().min(1).max(64)).max(4).default([]),
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

// Text that PostgreSQL can store: no NUL characters (text and jsonb columns reject them).
export const Text = z.string().refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

// Model output may contain NUL; it is shown as U+FFFD instead.
export const withoutNul = (s: string) => (s.includes('\u0000') ? s.replace(/\u0000/g, '\uFFFD') : s);
