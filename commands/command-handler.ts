import { decideAppeal, evolveAppeal, initialAppealState } from '../domain/appeal.ts';
import { decideModelPromotion, evolveModelPromotion, initialModelPromotionState } from '../domain/model-promotion.ts';
import { decideConversation, evolveConversation, initialConversationState } from '../domain/conversation.ts';
import type { Decision } from '../domain/decision.ts';
import { decideGeneration, evolveGeneration, initialGenerationState } from '../domain/generation.ts';
import { subjectOf } from '../domain/access.ts';
import { decideUser, erasureTenant, evolveUser, initialUserState } from '../domain/user.ts';
import { decideMemory, evolveMemory, initialMemoryState, memoryStreamOf } from '../domain/memory.ts';
import { decideDocument, evolveDocument, initialDocumentState } from '../domain/document.ts';
import { decideSummary, evolveSummary, initialSummaryState } from '../domain/summary.ts';
import { ErasedSubjectError } from '../eventstore/crypto/key-store.ts';
import { ConcurrencyError, type EventStore } from '../eventstore/port.ts';
import { ParleyCommand } from '../schemas/commands.ts';
import { defaultLimits, type DomainLimits } from '../schemas/config.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { validationError, type CommandResult } from './command-result.ts';
import { executeMany, stampEvents, type ExecuteManyOptions } from './execute-many.ts';
import { StreamCache } from './stream-cache.ts';

// Deciders fold plain events: the store's extra fields (position, revision) do not matter to them.
type Route = { streamId: string; decide: (history: ParleyEvent[]) => Decision };

export type CommandHandlerOptions = {
  store: EventStore;
  limits?: DomainLimits;
  now?: () => Date;
  maxRetries?: number;
};

// A safety valve, not a retry budget: a stream that conflicts for this long is pathological.
const CONFLICT_GIVE_UP_MS = 60_000;

// Load → decide → append with the expected revision; on a conflict reload and decide again.
export class CommandHandler {
  private readonly limits: DomainLimits;
  private readonly now: () => Date;
  private readonly maxRetries: number;
  private readonly streams: StreamCache;
  /** per stream, the tail of the commands queued on it in this process */
  private readonly lanes = new Map<string, Promise<void>>();

  constructor(private readonly options: CommandHandlerOptions) {
    this.streams = new StreamCache(options.store);
    this.limits = options.limits ?? defaultLimits;
    this.now = options.now ?? (() => new Date());
    this.maxRetries = options.maxRetries ?? 5;
  }

  async execute(input: unknown): Promise<CommandResult> {
    return this.executeAll([input]);
  }

  // Groups of commands on MANY streams (each group as executeAll: commands on one stream), decided
  // and appended with one EventStore.appendMany; a result per group, in order (execute-many.ts).
  async executeMany(groups: readonly unknown[][], options: ExecuteManyOptions = {}): Promise<CommandResult[]> {
    const deps = {
      store: this.options.store, streams: this.streams, route: (c: ParleyCommand) => this.route(c), now: this.now, maxRetries: this.maxRetries,
      inLanes: <T>(streamIds: readonly string[], work: () => Promise<T>) => this.inLanes(streamIds, work),
    };
    return executeMany(deps, groups, options);
  }

  // Several lanes at once, taken in sorted order: two callers that each take many never wait on
  // each other in a cycle, and a one-stream command only ever waits for the lane it needs.
  private inLanes<T>(streamIds: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(streamIds)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? work() : this.inLane(sorted[i]!, () => take(i + 1)));
    return take(0);
  }

  // Several commands on ONE stream, decided in order and appended atomically: all or nothing
  // (e.g. start a conversation and submit its first message).
  //
  // Commands on one stream are ordered, not refused: in this process they queue per stream (a lane),
  // so two sends to one conversation never race each other for the same revision; a conflict with
  // another process's append (or a consumer's, which appends with revision 'any') reloads the
  // stream and decides again, with a jittered exponential back-off and no retry limit below
  // CONFLICT_GIVE_UP_MS. Only a caller that names the revision it decided on (`expectedRevision`)
  // gets CONCURRENCY when the stream has moved past it.
  async executeAll(inputs: unknown[], options: { dryRun?: boolean; expectedRevision?: number | 'no_stream' } = {}): Promise<CommandResult> {
    const commands: ParleyCommand[] = [];
    for (const input of inputs) {
      const parsed = ParleyCommand.safeParse(input);
      if (!parsed.success) return validationError(parsed.error);
      commands.push(parsed.data);
    }
    const routes = commands.map((c) => this.route(c));
    const streamId = routes[0]!.streamId;
    if (routes.some((r) => r.streamId !== streamId)) throw new Error('executeAll needs commands on one stream');
    const last = commands[commands.length - 1]!;
    // A dry run appends nothing: it need not wait its turn.
    return options.dryRun ? this.decideAndAppend(streamId, commands, routes, last, options) : this.inLane(streamId, () => this.decideAndAppend(streamId, commands, routes, last, options));
  }

  private async inLane<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.lanes.get(streamId) ?? Promise.resolve();
    let release!: () => void;
    const tail = previous.then(() => new Promise<void>((r) => { release = r; }));
    this.lanes.set(streamId, tail);
    try {
      await previous;
      return await work();
    } finally {
      release();
      if (this.lanes.get(streamId) === tail) this.lanes.delete(streamId);
    }
  }

  private async decideAndAppend(
    streamId: string, commands: ParleyCommand[], routes: Route[], last: ParleyCommand,
    options: { dryRun?: boolean; expectedRevision?: number | 'no_stream' },
  ): Promise<CommandResult> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      // 'no_stream' from a caller that minted the stream's id itself (a new conversation): nothing to
      // read; if the stream exists after all, the append fails and the caller gets CONCURRENCY.
      const history = options.expectedRevision === 'no_stream' ? [] : await this.streams.read(streamId);
      const previous = history.filter((e) => e.metadata.commandId === last.metadata.commandId);
      if (previous.length > 0) {
        const lastEvent = previous[previous.length - 1]!;
        return { ok: true, streamId, nextRevision: lastEvent.revision, position: lastEvent.position, events: previous, duplicate: true };
      }
      const occurredAt = this.now().toISOString();
      const events: ParleyEvent[] = [];
      for (const [i, command] of commands.entries()) {
        const decision = routes[i]!.decide([...history, ...events]);
        if (!decision.ok) return { ok: false, error: decision.error };
        events.push(...stampEvents(command, streamId, decision.events, occurredAt));
      }
      const expectedRevision = history.length === 0 ? 'no_stream' : history[history.length - 1]!.revision;
      if (options.expectedRevision !== undefined && options.expectedRevision !== expectedRevision) {
        return { ok: false, error: { code: 'CONCURRENCY', message: `${streamId} is at revision ${expectedRevision}, not ${options.expectedRevision}` } };
      }
      // A dry run validates and decides against the current state, and appends nothing.
      if (options.dryRun) return { ok: true, streamId, nextRevision: history.length - 1 + events.length, position: '', events, duplicate: false };
      try {
        const result = await this.options.store.append(streamId, events, { expectedRevision });
        return { ok: true, streamId, nextRevision: result.nextRevision, position: result.position, events, duplicate: result.duplicate };
      } catch (error) {
        if (error instanceof ErasedSubjectError) return { ok: false, error: { code: 'FORBIDDEN', message: error.message } };
        if (!(error instanceof ConcurrencyError)) throw error;
        if (options.expectedRevision !== undefined || Date.now() - started > CONFLICT_GIVE_UP_MS) {
          return { ok: false, error: { code: 'CONCURRENCY', message: `${streamId} kept changing; gave up after ${attempt + 1} tries` } };
        }
        // Full jitter over an exponential ceiling (2 ms … 250 ms): racing processes spread out.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(250, 2 ** (attempt + 1))));
      }
    }
  }

  private route(command: ParleyCommand): Route {
    const limits = this.limits;
    switch (command.type) {
      case 'EraseUserData':
      case 'ExportUserData':
        return {
          // A user is (tenant, user): one stream per pair.
          streamId: `user-${subjectOf(erasureTenant(command), command.data.userId)}`,
          decide: (h) => decideUser(command, h.reduce(evolveUser, initialUserState())),
        };
      case 'RecordSafetyCheck':
        // An input check belongs to the conversation (one per message), an output check to its generation.
        if (command.data.stage === 'output' && command.data.generationId !== null) {
          return {
            streamId: `generation-${command.data.generationId}`,
            decide: (h) => decideGeneration(command, h.reduce(evolveGeneration, initialGenerationState()), limits),
          };
        }
        return {
          streamId: `conversation-${command.data.conversationId}`,
          decide: (h) => decideConversation(command, h.reduce(evolveConversation, initialConversationState()), limits),
        };
      case 'StartConversation':
      case 'SubmitMessage':
      case 'RenameConversation':
      case 'DeleteConversation':
      case 'EraseConversation':
        return {
          streamId: `conversation-${command.data.conversationId}`,
          decide: (h) => decideConversation(command, h.reduce(evolveConversation, initialConversationState()), limits),
        };
      case 'RequestGeneration':
      case 'AppendTokens':
      case 'CompleteGeneration':
      case 'FailGeneration':
      case 'CancelGeneration':
      case 'GiveFeedback':
      case 'RequestToolCall':
      case 'CompleteToolCall':
      case 'FailToolCall':
        return {
          streamId: `generation-${command.data.generationId}`,
          decide: (h) => decideGeneration(command, h.reduce(evolveGeneration, initialGenerationState()), limits),
        };
      case 'FileAppeal':
      case 'ResolveAppeal':
        return {
          streamId: `appeal-${command.data.appealId}`,
          decide: (h) => decideAppeal(command, h.reduce(evolveAppeal, initialAppealState())),
        };
      case 'SaveMemory':
      case 'ForgetMemory':
        return {
          streamId: command.type === 'ForgetMemory'
            ? memoryStreamOf(command.data.tenantId ?? command.metadata.actor.tenantId, command.data.userId ?? command.metadata.actor.userId)
            : memoryStreamOf(command.metadata.actor.tenantId, command.metadata.actor.userId),
          decide: (h) => decideMemory(command, h.reduce(evolveMemory, initialMemoryState())),
        };
      case 'AddDocument':
      case 'RemoveDocument':
        return {
          streamId: `document-${command.data.documentId}`,
          decide: (h) => decideDocument(command, h.reduce(evolveDocument, initialDocumentState())),
        };
      case 'SummarizeConversation':
        return {
          streamId: `conversation-${command.data.conversationId}`,
          decide: (h) => decideSummary(command, h.reduce(evolveSummary, initialSummaryState())),
        };
      case 'PromoteModel':
        return { streamId: 'models', decide: (h) => decideModelPromotion(command, h.reduce(evolveModelPromotion, initialModelPromotionState())) };
    }
  }
}
