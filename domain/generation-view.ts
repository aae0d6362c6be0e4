import type { EventData, ParleyEvent } from '../schemas/events.ts';
import type { FinishReason, Usage } from '../schemas/common.ts';
import type { SafetyCategory, SafetyVerdict } from '../schemas/safety.ts';
import { evolveGeneration, initialGenerationState, type GenerationState } from './generation.ts';

// What every reader of a generation asks (the saga, the workers, context assembly, the stream
// resolver, regenerate, settlement): has it ended and how, was its input blocked, what is the
// latest attempt's text. One fold answers all of them, built on the decider's own fold (`state`),
// so "ended" means exactly what the decider enforces.
//
// Fed the generation's stream. For a request recorded before GenerationRequested v2 (inputCheck
// null) a reader may also feed the conversation's SafetyChecked events: the input check of the
// generation's message is then picked up from there.

export type GenerationEnd =
  | { type: 'completed'; attempt: number; finishReason: FinishReason; usage: Usage }
  | { type: 'failed'; attempt: number; code: string; reason: string }
  | { type: 'cancelled'; usage: Usage | null };

export type InputDecision = { verdict: SafetyVerdict; category: SafetyCategory | null; safetyEventId: string };

export type GenerationView = {
  state: GenerationState; // the decider's fold
  request: EventData<'GenerationRequested'> | null;
  attempt: number; // the latest attempt with tokens (0: none yet)
  chunks: EventData<'TokensGenerated'>[]; // the latest attempt's chunks, in order
  input: InputDecision | null; // null: not known from what was folded
  outputCategory: SafetyCategory | null; // the category the output check blocked, if any
  end: GenerationEnd | null;
};

export const initialGenerationView = (): GenerationView => ({
  state: initialGenerationState(), request: null, attempt: 0, chunks: [], input: null, outputCategory: null, end: null,
});

const blockedCategory = (d: EventData<'SafetyChecked'>) => d.categories.find((c) => c.blocked)?.category ?? null;

export function evolveGenerationView(view: GenerationView, event: ParleyEvent): GenerationView {
  const state = evolveGeneration(view.state, event);
  switch (event.type) {
    case 'GenerationRequested':
      if (view.request) return view;
      return { ...view, state, request: event.data, input: event.data.inputCheck ?? view.input };
    case 'TokensGenerated':
      if (!view.request) return view;
      // A new attempt starts the text again.
      if (event.data.attempt > view.attempt) return { ...view, state, attempt: event.data.attempt, chunks: [event.data] };
      if (event.data.attempt < view.attempt) return { ...view, state };
      return { ...view, state, chunks: [...view.chunks, event.data] };
    case 'SafetyChecked': {
      const d = event.data;
      if (d.stage === 'output') {
        if (!view.request || d.generationId !== view.request.generationId || d.verdict !== 'blocked') return view;
        return { ...view, outputCategory: blockedCategory(d) };
      }
      // The input check of this generation's message (from the conversation's stream).
      if (view.input || !view.request || d.messageId !== view.request.messageId) return view;
      return { ...view, input: { verdict: d.verdict, category: blockedCategory(d), safetyEventId: event.metadata.eventId } };
    }
    case 'GenerationCompleted':
      if (!view.request || view.end) return view;
      return { ...view, state, end: { type: 'completed', attempt: event.data.attempt, finishReason: event.data.finishReason, usage: event.data.usage } };
    case 'GenerationFailed':
      if (!view.request || view.end) return view;
      return { ...view, state, end: { type: 'failed', attempt: event.data.attempt, code: event.data.code, reason: event.data.reason } };
    case 'GenerationCancelled':
      if (!view.request || view.end) return view;
      return { ...view, state, end: { type: 'cancelled', usage: event.data.usage } };
    default:
      return state === view.state ? view : { ...view, state };
  }
}

export const foldGeneration = (events: Iterable<ParleyEvent>, from: GenerationView = initialGenerationView()): GenerationView => {
  let view = from;
  for (const e of events) view = evolveGenerationView(view, e);
  return view;
};

// The events that end a generation (one per generation, enforced by its decider): for readers
// that follow ends on the log rather than folding one generation.
export const GENERATION_END_TYPES = ['GenerationCompleted', 'GenerationFailed', 'GenerationCancelled'] as const;

// Has it ended (completed, failed or cancelled)?
export const hasEnded = (view: GenerationView): boolean => view.end !== null;

// Was its message blocked by the input check? null: not known from what was folded (a request
// older than GenerationRequested v2, folded without its conversation's SafetyChecked events).
export const inputBlocked = (view: GenerationView): boolean | null => (view.input ? view.input.verdict === 'blocked' : null);

// The latest attempt's text so far.
export const latestText = (view: GenerationView): string => view.chunks.map((c) => c.text).join('');

// The answer as the next turn's context sees it: the text of a completed generation, or null when
// it has not completed, or was a refusal or stopped by the output filter (content_filter).
export const answerText = (view: GenerationView): string | null =>
  view.end?.type === 'completed' && view.end.finishReason !== 'content_filter' ? latestText(view) : null;

// Why it was filtered, if it was: the output check's category, else the input check's.
export const filteredCategory = (view: GenerationView): SafetyCategory | null =>
  view.outputCategory ?? (view.input?.verdict === 'blocked' ? view.input.category : null);
