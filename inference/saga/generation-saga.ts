import type { Knex } from 'knex';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { readGeneration } from '../../commands/read-generation.ts';
import { hasEnded, inputBlocked } from '../../domain/generation-view.ts';
import type { Consumer } from '../../eventstore/postgres/checkpointed-consumer.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import type { TenantPolicies } from '../../schemas/safety.ts';
import type { JobQueue } from '../worker/job-queue.ts';
import type { ChatModel } from './context-assembly.ts';
import type { ModelRouter } from '../models/index.ts';
import { ConversationCache, CONVERSATION_FOLD_TYPES } from './conversation-cache.ts';
import { requestBatch, requestCommandId, type Message } from './request-batch.ts';
import { runToolRounds, type ToolRoundDeps } from './tool-round.ts';
import { isSummaryGenerationId, PendingSummaries, SUMMARY_JOB_PRIORITY } from './summary-context.ts';
import { recordSummaries } from './summary-recorder.ts';
import type { SearchDocuments } from './retrieval-context.ts';
import type { ToolSelection } from '../tools/index.ts';
import type { EventOf } from '../../schemas/events.ts';

export type SagaOptions = {
  store: EventStore; commands: CommandHandler; jobs: JobQueue; model: ChatModel; modelName: string;
  // What the API's admission decided for generations (tier priority, brownout), recorded in GenerationRequested.
  admissionMany?: (generationIds: readonly string[]) => Promise<Map<string, { priority: number; brownout: boolean }>>;
  // PARLEY_TENANT_POLICY: each tenant's safety defaults, floors and fail-closed categories.
  tenantPolicies?: TenantPolicies;
  // PARLEY_MODELS: each model's tokenizer and template, and the router (experiments, fallback).
  modelFor?: (name: string) => ChatModel | undefined;
  router?: ModelRouter;
  // Server-side tools: the ones on for a tenant (offered in the system turn, run when the model
  // calls them; tool-round.ts). Absent: no tools.
  tools?: Pick<ToolRoundDeps, 'toolsFor' | 'limits' | 'now' | 'passages'> & { selection?: ToolSelection; constrain?: boolean };
  // Retrieval in the turn: the documents search (retrieval-context.ts). Absent: no sources.
  searchDocuments?: SearchDocuments;
};

// A platform process: its admin role reaches every tenant (domain/access.ts).
const SAGA_ACTOR: Actor = { userId: 'parley-saga', tenantId: 'system', roles: ['admin', 'platform_operator'] };

// The inference process manager. It reacts to the log (a checkpointed consumer): every side effect
// is idempotent (deterministic command and event ids, job upserts that ignore a job already there),
// so a crash or restart replays a batch without duplicating anything.
export function generationSaga(options: SagaOptions): Consumer {
  const { store, commands, jobs } = options;
  const cache = new ConversationCache(store);
  const summaries = new PendingSummaries();

  // Commands on one generation stream, appended together (a generation that ends at once never
  // shows as requested-but-unfinished). The command ids are deterministic, so a replay is a no-op.
  async function run(steps: [type: string, data: Record<string, unknown>, commandId: string][], cause: RecordedEvent) {
    const result = await commands.executeAll(steps.map(([type, data, commandId]) => ({
      type, data,
      metadata: { commandId, actor: SAGA_ACTOR, correlationId: cause.metadata.correlationId, causationId: cause.metadata.eventId },
    })));
    // ALREADY_EXISTS / NOT_RUNNING on replay mean the step was done before: nothing to redo.
    if (!result.ok && !['ALREADY_EXISTS', 'GENERATION_NOT_RUNNING'].includes(result.error.code)) {
      throw new Error(`saga ${steps.map((x) => x[0]).join('+')} failed: ${result.error.code} ${result.error.message}`);
    }
  }

  return {
    name: 'inference-saga',
    // MessageSubmitted, GenerationRequested and GenerationCancelled drive it; the others keep its
    // fold of the conversations (conversation-cache.ts).
    types: CONVERSATION_FOLD_TYPES,
    // Safety checks and appends happen before the checkpoint transaction (all idempotent). The
    // batch's events first update the saga's fold of the conversations, then its messages are
    // requested together (request-batch.ts).
    async prepare(events: RecordedEvent[]) {
      for (const e of events) cache.apply(e);
      const messages = events.filter((e) => e.type === 'MessageSubmitted') as Message[];
      await requestBatch({ store, commands, jobs, model: options.model, modelFor: options.modelFor, router: options.router, cache, actor: SAGA_ACTOR, admission: options.admissionMany, tenantPolicies: options.tenantPolicies, toolsFor: options.tools?.toolsFor, toolSelection: options.tools?.selection, toolConstraint: options.tools?.constrain, summaries, searchDocuments: options.searchDocuments }, messages);
      // Summary generations that ended: recorded as ConversationSummarized (summary-recorder.ts).
      await recordSummaries({ store, commands, cache, actor: SAGA_ACTOR, pending: summaries }, events);
      // A completed generation whose text calls tools: the round runs, then its continuation is requested.
      if (options.tools) {
        const completed = events.filter((e): e is EventOf<'GenerationCompleted'> & RecordedEvent =>
          e.type === 'GenerationCompleted' && !isSummaryGenerationId(e.data.generationId) && cache.takeEnded(e.data.generationId) !== false);
        await runToolRounds({ store, commands, model: options.model, modelFor: options.modelFor, actor: SAGA_ACTOR, ...options.tools }, completed);
      }
    },
    async handle(trx: Knex.Transaction, events: RecordedEvent[]) {
      for (const e of events) {
        if (e.type === 'GenerationRequested') {
          // The saga's own requests were settled in prepare (queued, or ended at once).
          if (e.metadata.commandId === requestCommandId(e.data.generationId)) continue;
          // Any other request (a regenerated sibling) becomes a job, unless it already ended
          // (cancelled early) or answers a message the input check blocked.
          const view = await readGeneration(store, e.data.generationId, { input: true });
          const ended = hasEnded(view);
          if (!ended && e.data.summarizes) {
            // A rolling summary's generation: below every answer in the queue.
            await jobs.enqueue(trx, e.data.generationId, SUMMARY_JOB_PRIORITY, 3, e.data.model);
            await trx.raw(`select pg_notify('parley_events', '')`);
          } else if (!ended && inputBlocked(view)) {
            await run([['FailGeneration', {
              generationId: e.data.generationId, attempt: 0, code: 'INPUT_BLOCKED', reason: 'the message was blocked by the input safety check',
            }, `saga:input-blocked:${e.data.generationId}`]], e);
          } else if (!ended) {
            await jobs.enqueue(trx, e.data.generationId, e.data.priority, 3, e.data.model);
            // Wake idle workers when this transaction commits (they listen for appends), instead
            // of leaving the new job to their next poll.
            await trx.raw(`select pg_notify('parley_events', '')`);
          }
        } else if (e.type === 'GenerationCancelled') {
          await jobs.cancelQueued(trx, e.data.generationId);
        }
      }
    },
  };
}
