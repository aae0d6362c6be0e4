import { z } from 'zod';
import { EventMetadata, Id, Text } from './common.ts';

// Rolling summaries of long conversations (issue 19 item 1). When context assembly has to drop a
// conversation's first turns, the saga requests a summary generation (a GenerationRequested that
// carries `summarizes`, at the lowest job priority) and, when it completes, records
// ConversationSummarized on the conversation's stream through the SummarizeConversation command.
// The text is a personal field (eventstore/crypto/field-codec.ts): sealed with the conversation's
// key, so it goes with the conversation (retention) and with its owner (erasure).

function defineEvent<T extends string, V extends number, D extends z.ZodType>(type: T, version: V, data: D) {
  return z.object({ type: z.literal(type), version: z.literal(version), data, metadata: EventMetadata });
}

// What a summary generation summarises: the thread's first turns (oldest first, each a user
// message id; position n = index n), the newest of which were not covered before, and the summary
// it extends (its text is kept and the new turns' summary appended).
export const SummaryRequest = z.object({
  messageIds: z.array(Id).min(1),
  previousSummaryId: Id.nullable(),
});
export type SummaryRequest = z.infer<typeof SummaryRequest>;

export const ConversationSummarized = defineEvent('ConversationSummarized', 1, z.object({
  conversationId: Id,
  // = the summary generation's id (one summary per generation: a replay records nothing new)
  summaryId: Id,
  // every turn the summary covers, from the conversation's first: messageIds[i] is turn i + 1
  messageIds: z.array(Id).min(1),
  previousSummaryId: Id.nullable(),
  text: Text,
}));

export const SummarizeConversationData = ConversationSummarized.shape.data;
