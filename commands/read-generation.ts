import { foldGeneration, type GenerationView } from '../domain/generation-view.ts';
import type { EventStore, RecordedEvent } from '../eventstore/port.ts';

export type RecordedGenerationView = GenerationView & {
  requestEvent: RecordedEvent | null;
  /** the terminal event (completed, failed, cancelled): its position is where a reader sees the end */
  endEvent: RecordedEvent | null;
};

const TERMINAL = new Set(['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled']);

// A generation's view (domain/generation-view.ts) loaded from the log: its own stream, plus — only
// for a request older than GenerationRequested v2, which does not carry the input decision, and
// only when the caller asks about it — its conversation's SafetyChecked events.
export async function readGeneration(store: Pick<EventStore, 'readStream'>, generationId: string, options: { input?: boolean } = {}): Promise<RecordedGenerationView> {
  const events = await store.readStream(`generation-${generationId}`);
  let view = foldGeneration(events);
  if (options.input && view.request && !view.input) {
    const conversation = await store.readStream(`conversation-${view.request.conversationId}`);
    view = foldGeneration(conversation.filter((e) => e.type === 'SafetyChecked'), view);
  }
  return { ...view, requestEvent: events.find((e) => e.type === 'GenerationRequested') ?? null, endEvent: events.findLast((e) => TERMINAL.has(e.type)) ?? null };
}
