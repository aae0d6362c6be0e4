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
  text: Text.min(1, 'must not be empty').max(DOCUMENT_MAX_CHARS, `must be at most ${DOCUMENT_MAX_CHARS} characters`),
});
export const RemoveDocumentData = z.object({ documentId: Id });
