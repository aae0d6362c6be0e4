import { answerText, evolveGenerationView, hasEnded, initialGenerationView, type GenerationView } from '../../domain/generation-view.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { EventType } from '../../schemas/events.ts';
import { hasToolCallMarkup } from '../tools/index.ts';

// The saga's fold of the conversations it works on: each conversation's stream (complete, from
// revision 0) and the answers of its turns. It is updated from what the saga reads anyway (its own
// subscription, in log order) and from its own appends, and checked against each event's stream
// revision: a gap drops the entry, which is then read again once. So a burst of turns needs no read
// per turn (and none per earlier turn for their answers), only one per conversation the saga has not
// seen since it started.
//
// Plaintext (message and answer text) lives here as it does in the command handler's stream cache;
// an entry goes when its conversation or its owner is erased (the saga sees those events), after
// `ttlMs` without use, and beyond `maxConversations` (least recently used first).

// What the saga must see for the fold: everything written to a conversation stream, what ends an
// answer, and erasures.
export const CONVERSATION_FOLD_TYPES: readonly EventType[] = [
  'ConversationStarted', 'MessageSubmitted', 'SafetyChecked', 'ConversationRenamed', 'ConversationDeleted', 'ConversationErased',
  'UserDataErased', 'GenerationRequested', 'TokensGenerated', 'GenerationCompleted', 'GenerationFailed', 'GenerationCancelled',
  'ConversationSummarized',
];

type Entry = {
  events: RecordedEvent[];
  answers: Map<string, string | null>; // generation id → its answer as context sees it (null: none)
  at: number;
};

export class ConversationCache {
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Map<string, { conversationId: string; view: GenerationView }>();
  // Generations followed to their end in the current batch: whether the text holds <tool_call>
  // markup (the saga's tool step reads only those, or those it did not follow). Taken once.
  private readonly ended = new Map<string, boolean>();

  constructor(
    private readonly store: Pick<EventStore, 'readStream'>,
    private readonly options: { maxConversations?: number; ttlMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  // An event from the log, in log order (the saga's batches), or one the saga just appended.
  apply(e: RecordedEvent): void {
    if (e.type === 'UserDataErased') {
      for (const [id, entry] of this.entries) {
        const started = entry.events[0];
        if (started?.type === 'ConversationStarted' && started.data.ownerId === e.data.userId && started.data.tenantId === e.data.tenantId) this.drop(id);
      }
      return;
    }
    if (e.streamId.startsWith('conversation-')) return this.applyToConversation(e.streamId.slice('conversation-'.length), e);
    if (e.streamId.startsWith('generation-')) this.applyToGeneration(e.streamId.slice('generation-'.length), e);
  }

  private applyToConversation(conversationId: string, e: RecordedEvent): void {
    if (e.type === 'ConversationErased') return this.drop(conversationId);
    let entry = this.entries.get(conversationId);
    if (!entry) {
      if (e.revision !== 0) return; // started before we looked: read when needed
      entry = { events: [], answers: new Map(), at: this.now() };
      this.remember(conversationId, entry);
    }
    if (e.revision < entry.events.length) return; // seen (our own append, or a replayed batch)
    if (e.revision > entry.events.length) return this.drop(conversationId); // a gap: read again when needed
    entry.events.push(e);
  }

  private applyToGeneration(generationId: string, e: RecordedEvent): void {
    if (e.type === 'GenerationRequested') {
      // Only from its first event on: a view begun mid-stream would have half an answer.
      if (e.revision === 0 && this.entries.has(e.data.conversationId) && !this.running.has(generationId)) {
        this.running.set(generationId, { conversationId: e.data.conversationId, view: evolveGenerationView(initialGenerationView(), e) });
      }
      return;
    }
    const tracked = this.running.get(generationId);
    if (!tracked) return;
    tracked.view = evolveGenerationView(tracked.view, e);
    if (!hasEnded(tracked.view)) return;
    this.running.delete(generationId);
    const answer = answerText(tracked.view);
    if (this.ended.size > 10_000) this.ended.clear();
    this.ended.set(generationId, answer !== null && hasToolCallMarkup(answer));
    // An answer that called tools continues in another generation: context assembly follows the chain.
    if (answer !== null && hasToolCallMarkup(answer)) return;
    this.entries.get(tracked.conversationId)?.answers.set(generationId, answer);
  }

  // The streams of these conversations, reading only the ones not held (one read each, together).
  async load(conversationIds: Iterable<string>): Promise<Map<string, RecordedEvent[]>> {
    const out = new Map<string, RecordedEvent[]>();
    const missing: string[] = [];
    const now = this.now();
    for (const id of new Set(conversationIds)) {
      const entry = this.entries.get(id);
      if (entry && now - entry.at < (this.options.ttlMs ?? 300_000)) {
        entry.at = now;
        this.remember(id, entry);
        out.set(id, entry.events);
      } else missing.push(id);
    }
    await Promise.all(missing.map(async (id) => {
      const events = await this.store.readStream(`conversation-${id}`);
      const entry = { events, answers: new Map<string, string | null>(), at: now };
      if (events.length > 0) this.remember(id, entry);
      out.set(id, events);
    }));
    return out;
  }

  // The answer of an earlier turn as context sees it: text, null (none), or undefined (not known
  // here: the generation ended before this process followed it).
  answerOf(conversationId: string, generationId: string): string | null | undefined {
    const entry = this.entries.get(conversationId);
    if (!entry) return undefined;
    if (entry.answers.has(generationId)) return entry.answers.get(generationId)!;
    // Followed from its request and still running: no answer yet.
    if (this.running.has(generationId)) return null;
    return undefined;
  }

  // Did this generation's text call tools? undefined: not followed here (read it to know).
  takeEnded(generationId: string): boolean | undefined {
    const known = this.ended.get(generationId);
    this.ended.delete(generationId);
    return known;
  }

  drop(conversationId: string): void {
    this.entries.delete(conversationId);
    for (const [id, r] of this.running) if (r.conversationId === conversationId) this.running.delete(id);
  }

  private remember(conversationId: string, entry: Entry): void {
    this.entries.delete(conversationId); // re-inserted: the Map's order is least recently used first
    this.entries.set(conversationId, entry);
    const max = this.options.maxConversations ?? 10_000;
    for (const key of this.entries.keys()) {
      if (this.entries.size <= max) break;
      this.drop(key);
    }
  }
}
