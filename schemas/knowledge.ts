import { z } from 'zod';
import { EventMetadata, Id, Text } from './common.ts';

// Events and commands of long-term knowledge: a user's memories (facts Parley remembers across
// conversations) and a tenant's documents (retrieval). Kept beside events.ts / commands.ts, which
// include them in their unions. Memory text and document title/text are personal fields
// (eventstore/crypto/field-codec.ts): sealed with the user's key, unreadable once it is destroyed.

export const MEMORY_MAX_CHARS = 1000;
export const MEMORIES_PER_USER = 200;
export const DOCUMENT_MAX_CHARS = 2_000_000;

const MemoryText = Text.trim().min(1, 'must not be empty').max(MEMORY_MAX_CHARS, `must be at most ${MEMORY_MAX_CHARS} characters`);
export const CollectionName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'a collection name uses letters, digits, _ . -');
export const Visibility = z.enum(['private', 'shared']);
export type Visibility = z.infer<typeof Visibility>;

function defineEvent<T extends string, V extends number, D extends z.ZodType>(type: T, version: V, data: D) {
  return z.object({ type: z.literal(type), version: z.literal(version), data, metadata: EventMetadata });
}

export const MemorySaved = defineEvent('MemorySaved', 1, z.object({ memoryId: Id, userId: Id, tenantId: Id, text: Text }));
// reason (optional, absent = the user asked): 'retention' when the tenant's retention period forgot it.
export const MemoryForgotten = defineEvent('MemoryForgotten', 1, z.object({ memoryId: Id, userId: Id, tenantId: Id, reason: z.enum(['user_request', 'retention']).optional() }));

export const DocumentAdded = defineEvent('DocumentAdded', 1, z.object({
  documentId: Id,
  tenantId: Id,
  ownerId: Id,
  collection: CollectionName,
  // private: only the owner retrieves it; shared: everyone in the tenant
  visibility: Visibility,
  title: Text,
  text: Text,
}));
export const DocumentRemoved = defineEvent('DocumentRemoved', 1, z.object({ documentId: Id, tenantId: Id, ownerId: Id, collection: CollectionName }));

export const knowledgeEvents = [MemorySaved, MemoryForgotten, DocumentAdded, DocumentRemoved] as const;

// --- commands (the envelope is commands.ts's; only the data is defined here) ---
export const SaveMemoryData = z.object({ memoryId: Id, text: MemoryText });
// userId/tenantId name whose memory it is when not the caller's own (an admin of that tenant, or
// the retention job); reason 'retention' marks the retention job's forgetting.
export const ForgetMemoryData = z.object({ memoryId: Id, userId: Id.optional(), tenantId: Id.optional(), reason: z.enum(['user_request', 'retention']).optional() });
export const AddDocumentData = z.object({
  documentId: Id,
  collection: CollectionName,
  visibility: Visibility.default('shared'),
  title: Text.trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
  // Trimmed: whitespace alone would be indexed as a passage of just the title, and cited.
  text: Text.trim().min(1, 'must not be empty').max(DOCUMENT_MAX_CHARS, `must be at most ${DOCUMENT_MAX_CHARS} characters`),
});
export const RemoveDocumentData = z.object({ documentId: Id });

// --- retrieval in the turn (inference/saga/retrieval-context.ts) ---
// What a turn (or, from then on, its conversation) asks to retrieve from: collections of the
// caller's tenant and how many passages. `collections: []` switches a conversation's retrieval off.
export const RETRIEVAL_MAX_COLLECTIONS = 8;
export const RETRIEVAL_MAX_TOP_K = 10;
export const RETRIEVAL_DEFAULT_TOP_K = 4;
export const RetrievalSetting = z.strictObject({
  collections: z.array(CollectionName).max(RETRIEVAL_MAX_COLLECTIONS, `name at most ${RETRIEVAL_MAX_COLLECTIONS} collections`)
    .refine((c) => new Set(c).size === c.length, 'names a collection twice'),
  topK: z.number().int().min(1, 'must be at least 1').max(RETRIEVAL_MAX_TOP_K, `must be at most ${RETRIEVAL_MAX_TOP_K}`).default(RETRIEVAL_DEFAULT_TOP_K),
});
export type RetrievalSetting = z.infer<typeof RetrievalSetting>;

// A passage a generation's prompt held, as `[index]` in its system turn: ids and scores only (the
// passage's text stays in the documents read model and, sealed, in the recorded prompt), so the
// audit shows which sources an answer used and Message.citations resolves `[n]` to them.
export const RetrievedSource = z.object({
  index: z.number().int().min(1),
  chunkId: z.string().min(1).max(200),
  documentId: Id,
  collection: CollectionName,
  // reciprocal-rank-fusion score, and the rank in each search path (null: that path missed it)
  score: z.number(),
  textRank: z.number().int().min(1).nullable(),
  vectorRank: z.number().int().min(1).nullable(),
});
export type RetrievedSource = z.infer<typeof RetrievedSource>;
export const RetrievalRecord = z.object({
  collections: z.array(CollectionName),
  topK: z.number().int().min(1),
  sources: z.array(RetrievedSource),
  // how the search went: ok, or failed (the turn was answered without sources; the reason is kept)
  status: z.enum(['ok', 'failed']).default('ok'),
  error: z.string().max(500).optional(),
  // passages found but kept out of the prompt: they failed the prompt-injection check (indirect
  // prompt injection through a shared document), as a tool result would
  withheld: z.array(z.object({ chunkId: z.string().min(1).max(200), documentId: Id, category: z.string().min(1).max(64) })).optional(),
});
export type RetrievalRecord = z.infer<typeof RetrievalRecord>;
