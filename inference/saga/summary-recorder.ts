import type { CommandHandler } from '../../commands/command-handler.ts';
import { recordedEvents } from '../../commands/command-result.ts';
import { readGeneration } from '../../commands/read-generation.ts';
import { answerText } from '../../domain/generation-view.ts';
import { ErasedSubjectError } from '../../eventstore/crypto/key-store.ts';
import { ERASED } from '../../eventstore/crypto/field-codec.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import type { ConversationCache } from './conversation-cache.ts';
import { isSummaryGenerationId, mergeSummaries, summariesOf, type PendingSummaries } from './summary-context.ts';

// The saga's step after a summary generation ended: a completed one is recorded as
// ConversationSummarized (SummarizeConversation, domain/summary.ts) with the previous summary's
// text and the new answer's entries; the command id is deterministic and the decider refuses a
// summary id already recorded, so a replayed batch records nothing twice. A failed, cancelled or
// filtered one records nothing (its turns are asked for again when the next turn drops them... with
// the same generation id, which then exists: they stay unsummarised until more turns are dropped).

export const summaryCommandId = (generationId: string) => `saga:summary:${generationId}`;

export type SummaryRecorderDeps = { store: EventStore; commands: CommandHandler; cache: ConversationCache; actor: Actor; pending: PendingSummaries };

/** Records the summaries among these ended generations; returns how many were recorded now. */
export async function recordSummaries(deps: SummaryRecorderDeps, events: readonly RecordedEvent[]): Promise<number> {
  let recorded = 0;
  for (const e of events) {
    if (e.type !== 'GenerationCompleted' && e.type !== 'GenerationFailed' && e.type !== 'GenerationCancelled') continue;
    const generationId = e.data.generationId;
    if (!isSummaryGenerationId(generationId)) continue;
    deps.pending.end(generationId);
    if (e.type !== 'GenerationCompleted' || e.data.finishReason === 'content_filter') continue;
    const view = await readGeneration(deps.store, generationId);
    const request = view.request;
    if (!request?.summarizes) continue;
    const reply = answerText(view) ?? '';
    if (reply === ERASED) continue; // the owner was erased meanwhile
    const history = (await deps.cache.load([request.conversationId])).get(request.conversationId) ?? [];
    const previousId = request.summarizes.previousSummaryId;
    const previous = previousId ? summariesOf(history).find((s) => s.summaryId === previousId) ?? null : null;
    if (previousId && !previous) continue; // the previous summary is not in the stream (cannot happen unless the log was cut)
    let result;
    try {
      result = await deps.commands.execute({
        type: 'SummarizeConversation',
        data: {
          conversationId: request.conversationId, summaryId: generationId, messageIds: request.summarizes.messageIds,
          previousSummaryId: previousId, text: mergeSummaries(previous?.text ?? null, reply),
        },
        metadata: { commandId: summaryCommandId(generationId), actor: deps.actor, correlationId: e.metadata.correlationId, causationId: e.metadata.eventId },
      });
    } catch (error) {
      if (error instanceof ErasedSubjectError) continue; // the owner's keys are gone: nothing is stored for them
      throw error;
    }
    if (!result.ok) {
      // Recorded before (a replay), or the conversation was deleted/erased meanwhile: nothing to do.
      if (['ALREADY_EXISTS', 'CONVERSATION_DELETED', 'NOT_FOUND'].includes(result.error.code)) continue;
      throw new Error(`saga SummarizeConversation failed: ${result.error.code} ${result.error.message}`);
    }
    if (!result.duplicate) {
      for (const event of recordedEvents(result)) deps.cache.apply(event);
      recorded++;
    }
  }
  return recorded;
}
