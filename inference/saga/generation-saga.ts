import type { Knex } from 'knex';
import { trace } from '@opentelemetry/api';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { Consumer } from '../../eventstore/postgres/checkpointed-consumer.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import type { EventOf } from '../../schemas/events.ts';
import { readGeneration } from '../../commands/read-generation.ts';
import { hasEnded, inputBlocked } from '../../domain/generation-view.ts';
import type { InputCheck } from '../../schemas/events.ts';
import { packTokenIds } from '../../schemas/prompt.ts';
import type { SafetySettings } from '../../schemas/safety.ts';
import { checkInput, refusalFor, toSafetyCheckedData, type SafetyCheckResult } from '../../safety/index.ts';
import type { JobQueue } from '../worker/job-queue.ts';
import { ContextTooLongError, fitToContext, loadThread, type ChatModel } from './context-assembly.ts';

export type SagaOptions = {
  store: EventStore; commands: CommandHandler; jobs: JobQueue; model: ChatModel; modelName: string;
  // What the API's admission decided for a generation (tier priority, brownout), recorded in GenerationRequested.
  admission?: (generationId: string) => Promise<{ priority: number; brownout: boolean } | null>;
};

// Spans (no-ops unless an exporter is configured) around the saga's safety check and context assembly.
async function inSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T> | T): Promise<T> {
  return trace.getTracer('parley').startActiveSpan(name, { attributes }, async (span) => {
    try { return await fn(); } finally { span.end(); }
  });
}

const PREPARE_CONCURRENCY = 16;

// A platform process: its admin role reaches every tenant (domain/access.ts).
const SAGA_ACTOR: Actor = { userId: 'parley-saga', tenantId: 'system', roles: ['admin', 'platform_operator'] };

// The command id of the saga's own RequestGeneration for a message: deterministic, so a replay is a no-op.
const requestCommandId = (generationId: string) => `saga:request:${generationId}`;
// ... and of its input decision for a message (the event id it yields is the one v1 sagas wrote directly).
const safetyCommandId = (messageId: string) => `saga:safety:${messageId}`;

// The inference process manager. It reacts to the log (a checkpointed consumer): every side effect
// is idempotent (deterministic command and event ids, job upserts that ignore a job already there),
// so a crash or restart replays a batch without duplicating anything.
export function generationSaga(options: SagaOptions): Consumer {
  const { store, commands, jobs } = options;

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

  // The message's input decision, recorded once through its conversation's decider. A replay (or a
  // second saga racing on the same batch) acts on the decision already recorded, not on a new check.
  async function decideInput(e: EventOf<'MessageSubmitted'> & RecordedEvent, conversation: RecordedEvent[], settings: SafetySettings) {
    const d = e.data;
    const recorded = () => conversation.find((x) => x.type === 'SafetyChecked' && x.data.stage === 'input' && x.data.messageId === d.messageId);
    const spanAttributes = { 'parley.generation_id': d.generationId, 'parley.correlation_id': e.metadata.correlationId };
    let found = recorded();
    let check: SafetyCheckResult | null = null;
    if (!found) {
      check = await inSpan('parley.safety.input', spanAttributes, () => checkInput(d.content, settings));
      const commandId = safetyCommandId(d.messageId);
      const result = await commands.execute({
        type: 'RecordSafetyCheck',
        data: { ...toSafetyCheckedData(check), conversationId: d.conversationId, messageId: d.messageId, generationId: d.generationId },
        metadata: { commandId, actor: SAGA_ACTOR, correlationId: e.metadata.correlationId, causationId: e.metadata.eventId },
      });
      if (result.ok) found = result.events[0] as RecordedEvent | undefined;
      else if (result.error.code === 'ALREADY_EXISTS') {
        conversation = await store.readStream(`conversation-${d.conversationId}`);
        found = recorded();
      } else throw new Error(`saga RecordSafetyCheck failed: ${result.error.code} ${result.error.message}`);
    }
    if (found?.type !== 'SafetyChecked') throw new Error(`no input decision recorded for message ${d.messageId}`);
    const category = check?.refusal?.category ?? found.data.categories.find((c) => c.blocked)?.category ?? null;
    const inputCheck: InputCheck = { verdict: found.data.verdict, category, safetyEventId: found.metadata.eventId };
    // The refusal names the category, never the request.
    const refusal = check?.refusal?.message ?? (category ? refusalFor(category).message : 'I can’t help with that request.');
    return { inputCheck, refusal };
  }

  async function onMessage(e: EventOf<'MessageSubmitted'> & RecordedEvent) {
    const d = e.data;
    // Read once: its first event is ConversationStarted, and context assembly needs all of it.
    const conversation = await store.readStream(`conversation-${d.conversationId}`);
    const started = conversation[0] as (EventOf<'ConversationStarted'> & RecordedEvent) | undefined;
    if (started?.type !== 'ConversationStarted') return;
    const owner = { ownerId: started.data.ownerId, tenantId: started.data.tenantId };
    const spanAttributes = { 'parley.generation_id': d.generationId, 'parley.correlation_id': e.metadata.correlationId };
    const settings = started.data.safetySettings;
    const { inputCheck, refusal } = await decideInput(e, conversation, settings);

    // The request carries what a worker needs (prompt, output filter settings, input decision).
    const base = {
      generationId: d.generationId, conversationId: d.conversationId, messageId: d.messageId, ...owner, model: started.data.model, params: d.params,
      safetySettings: settings, inputCheck,
      ...(await options.admission?.(d.generationId)),
    };
    if (inputCheck.verdict === 'blocked') {
      // Nothing reaches a worker: the answer is the refusal, which names the category, not the content.
      const tokenIds = options.model.tokenizer.encode(refusal);
      await run([
        ['RequestGeneration', { ...base, context: { includedMessageIds: [d.messageId], droppedMessageIds: [], promptTokens: 0 } }, requestCommandId(d.generationId)],
        ['AppendTokens', { generationId: d.generationId, attempt: 1, firstIndex: 0, tokenIds, text: refusal }, `saga:refusal:${d.generationId}`],
        ['CompleteGeneration', {
          generationId: d.generationId, attempt: 1, finishReason: 'content_filter', usage: { promptTokens: 0, completionTokens: tokenIds.length }, ttftMs: 0, tpotMs: 0, workerId: 'safety',
        }, `saga:blocked:${d.generationId}`],
      ], e);
      return;
    }
    try {
      const ctx = await inSpan('parley.context.assembly', spanAttributes, async () => fitToContext(options.model, await loadThread(store, d.conversationId, d.messageId, conversation), d.params.maxTokens));
      // The prompt the worker runs is this one, exactly as counted here: rebuilt later, it would
      // take in answers that finished in between and could overflow the context.
      await run([['RequestGeneration', {
        ...base, context: { includedMessageIds: ctx.includedMessageIds, droppedMessageIds: ctx.droppedMessageIds, promptTokens: ctx.promptTokens },
        prompt: packTokenIds(ctx.promptIds),
      }, requestCommandId(d.generationId)]], e);
      // The job is queued now rather than when GenerationRequested comes back through the log (a
      // later batch): under a burst that round trip was most of the time to the first token.
      // A crash before this line leaves the batch's checkpoint behind, so the replay gets here again.
      await jobs.enqueueAndNotify(d.generationId, base.priority ?? 0);
    } catch (error) {
      if (!(error instanceof ContextTooLongError)) throw error;
      await run([
        ['RequestGeneration', { ...base, context: { includedMessageIds: [d.messageId], droppedMessageIds: [], promptTokens: 0 } }, requestCommandId(d.generationId)],
        ['FailGeneration', { generationId: d.generationId, attempt: 0, code: error.code, reason: error.message }, `saga:fail:${d.generationId}`],
      ], e);
    }
  }

  return {
    name: 'inference-saga',
    types: ['MessageSubmitted', 'GenerationRequested', 'GenerationCancelled'],
    // Safety checks and appends happen before the checkpoint transaction (all idempotent).
    // Messages are independent, so a burst is checked and requested several at a time.
    async prepare(events: RecordedEvent[]) {
      const messages = events.filter((e) => e.type === 'MessageSubmitted') as (EventOf<'MessageSubmitted'> & RecordedEvent)[];
      // Lanes, not chunks: a slow message holds up only its own lane.
      let next = 0;
      const lane = async () => {
        while (next < messages.length) await onMessage(messages[next++]!);
      };
      // Settled first, so a failed batch is retried only after all of its work has stopped.
      const lanes = await Promise.allSettled(Array.from({ length: Math.min(PREPARE_CONCURRENCY, messages.length) }, lane));
      const failed = lanes.find((l) => l.status === 'rejected');
      if (failed) throw failed.reason;
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
          if (!ended && inputBlocked(view)) {
            await run([['FailGeneration', {
              generationId: e.data.generationId, attempt: 0, code: 'INPUT_BLOCKED', reason: 'the message was blocked by the input safety check',
            }, `saga:input-blocked:${e.data.generationId}`]], e);
          } else if (!ended) {
            await jobs.enqueue(trx, e.data.generationId, e.data.priority);
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
