import { trace } from '@opentelemetry/api';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { recordedEvents } from '../../commands/command-result.ts';
import { deterministicEventId } from '../../commands/event-ids.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import type { EffectivePolicy, TenantPolicies } from '../../schemas/safety.ts';
import type { EventOf, InputCheck } from '../../schemas/events.ts';
import { packTokenIds } from '../../schemas/prompt.ts';
import { checkInput, refusalFor, resolveSettings, toSafetyCheckedData } from '../../safety/index.ts';
import { withoutToolMarkup } from '../../schemas/tool-call-format.ts';
import type { JobQueue } from '../worker/job-queue.ts';
import { ContextTooLongError, loadThread, type ChatModel } from './context-assembly.ts';
import { fitWithSummary, summaryRequestData, type PendingSummaries } from './summary-context.ts';
import type { ConversationCache } from './conversation-cache.ts';
import { memoryLookup } from './memory-context.ts';
import type { ModelRouter, Route } from '../models/index.ts';
import { withSystemTurn } from './system-turn.ts';
import { assembleWithSources, retrievalSettingOf, screenPassage, startRetrieval, type SearchDocuments } from './retrieval-context.ts';
import { demandsCall, selectTools, toolCallConstraint, type Tool, type ToolSelection } from '../tools/index.ts';

export type Message = EventOf<'MessageSubmitted'> & RecordedEvent;

export type BatchDeps = {
  store: Parameters<typeof loadThread>[0];
  commands: CommandHandler;
  jobs: JobQueue;
  model: ChatModel;
  /** PARLEY_MODELS: the tokenizer and template of a named model (absent or unknown: `model`) */
  modelFor?: (name: string) => ChatModel | undefined;
  /** PARLEY_MODELS: experiments and fallback (absent: every generation runs the model asked for) */
  router?: ModelRouter;
  cache: ConversationCache;
  actor: Actor;
  // What the API's admission decided (tier priority, brownout), for many generations at once.
  admission?: (generationIds: readonly string[]) => Promise<Map<string, { priority: number; brownout: boolean }>>;
  tenantPolicies?: TenantPolicies;
  // The server-side tools on for a tenant (none when absent); a turn is offered those `toolSelection`
  // picks for its message (inference/tools/selection.ts; default `relevant`).
  toolsFor?: (tenantId: string) => readonly Tool[];
  toolSelection?: ToolSelection;
  // true (default): a turn offered tools generates under their call constraint (tools/constraint.ts)
  toolConstraint?: boolean;
  // Rolling summaries (summary-context.ts): the conversations with a summary generation under way.
  // Absent: recorded summaries are still used, none is asked for.
  summaries?: PendingSummaries;
  // Retrieval in the turn (retrieval-context.ts): the documents search, scoped to the conversation's
  // owner. Absent: turns that name collections are answered without sources.
  searchDocuments?: SearchDocuments;
};

// The command id of the saga's own RequestGeneration for a message: deterministic, so a replay is a no-op.
export const requestCommandId = (generationId: string) => `saga:request:${generationId}`;
// ... and of its input decision for a message (the event id it yields is the one v1 sagas wrote directly).
export const safetyCommandId = (messageId: string) => `saga:safety:${messageId}`;

async function inSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T> | T): Promise<T> {
  return trace.getTracer('parley').startActiveSpan(name, { attributes }, async (span) => {
    try { return await fn(); } finally { span.end(); }
  });
}

// A burst of submitted messages, requested together: the conversations come from the saga's fold
// (a read only for one it does not hold), every message's input is checked, and every input decision
// (RecordSafetyCheck, on its conversation) and every request (RequestGeneration, with the refusal or
// the failure when there is one, on its generation) is decided and appended in ONE executeMany — one
// appendMany, all or nothing — and the jobs are queued with one statement and one NOTIFY. A crash
// anywhere replays the batch: command ids are deterministic, so what was appended is found again, and
// a message whose decision is already recorded acts on that decision instead of checking again.
export async function requestBatch(deps: BatchDeps, messages: readonly Message[]): Promise<void> {
  if (messages.length === 0) return;
  const conversations = await deps.cache.load(messages.map((m) => m.data.conversationId));
  const hints = (await deps.admission?.(messages.map((m) => m.data.generationId))) ?? new Map();
  // The owners' memories (user memory), one read for the burst.
  const owners = [...conversations.values()].flatMap((h) => (h[0]?.type === 'ConversationStarted' ? [{ tenantId: h[0].data.tenantId, userId: h[0].data.ownerId }] : []));
  const memoriesOf = await memoryLookup(deps.store, owners);
  const groups: unknown[][] = [];
  const known = new Map<string, RecordedEvent[]>();
  const queue: { generationId: string; priority: number; model: string }[] = [];
  const routes = await routeBatch(deps, messages, conversations);
  // Summary requests by group index: marked pending when asked, unmarked unless newly recorded.
  const summaryGroups = new Map<number, string>();
  // The burst's document searches, started together; each turn awaits its own when it is assembled.
  const retrievals = startRetrieval(deps.searchDocuments, messages.flatMap((e) => {
    const history = conversations.get(e.data.conversationId) ?? [];
    const started = history[0];
    if (started?.type !== 'ConversationStarted') return [];
    return [{ generationId: e.data.generationId, tenantId: started.data.tenantId, ownerId: started.data.ownerId, query: e.data.content, setting: retrievalSettingOf(history, e.data.messageId) }];
  }), screenPassage);

  for (const e of messages) {
    const d = e.data;
    const history = conversations.get(d.conversationId) ?? [];
    const started = history[0];
    if (started?.type !== 'ConversationStarted') continue;
    // The conversation's settings under its tenant's policy: the input check runs under these
    // thresholds, the decision records them, and the request carries them to the output filter.
    const tenant = deps.tenantPolicies?.[started.data.tenantId];
    const resolved = resolveSettings(started.data.safetySettings, tenant);
    const effectivePolicy: EffectivePolicy = { thresholds: { ...resolved.thresholds }, raisedToFloor: [...resolved.raisedToFloor], tenantPolicy: tenant !== undefined };
    const settings = effectivePolicy.thresholds;
    const metadata = (commandId: string) => ({ commandId, actor: deps.actor, correlationId: e.metadata.correlationId, causationId: e.metadata.eventId });
    const spanAttributes = { 'parley.generation_id': d.generationId, 'parley.correlation_id': e.metadata.correlationId };

    // The input decision: the one recorded (a replay), or a new check recorded now.
    const recorded = history.find((x) => x.type === 'SafetyChecked' && x.data.stage === 'input' && x.data.messageId === d.messageId);
    let inputCheck: InputCheck;
    let refusal: string;
    if (recorded?.type === 'SafetyChecked') {
      const category = recorded.data.categories.find((c) => c.blocked)?.category ?? null;
      inputCheck = { verdict: recorded.data.verdict, category, safetyEventId: recorded.metadata.eventId };
      refusal = category ? refusalFor(category).message : 'I can’t help with that request.';
    } else {
      const check = await inSpan('parley.safety.input', spanAttributes, () => checkInput(withoutToolMarkup(d.content), settings, tenant ? { tenant } : {}));
      const streamId = `conversation-${d.conversationId}`;
      groups.push([{ type: 'RecordSafetyCheck', data: { ...toSafetyCheckedData(check), effectivePolicy, conversationId: d.conversationId, messageId: d.messageId, generationId: d.generationId }, metadata: metadata(safetyCommandId(d.messageId)) }]);
      known.set(streamId, history);
      const category = check.refusal?.category ?? check.categories.find((c) => c.blocked)?.category ?? null;
      inputCheck = { verdict: check.verdict, category, safetyEventId: deterministicEventId(safetyCommandId(d.messageId), streamId, 0) };
      // The refusal names the category, never the request.
      refusal = check.refusal?.message ?? 'I can’t help with that request.';
      // Decision and request are appended together, so without a decision there is no request yet.
      known.set(`generation-${d.generationId}`, []);
    }

    // The request carries what a worker needs (prompt, output filter settings, input decision).
    const route: Route = routes.get(d.generationId) ?? { model: d.model ?? started.data.model };
    const model = deps.modelFor?.(route.model) ?? deps.model;
    const base = {
      generationId: d.generationId, conversationId: d.conversationId, messageId: d.messageId,
      ownerId: started.data.ownerId, tenantId: started.data.tenantId, params: d.params,
      safetySettings: settings, inputCheck, ...hints.get(d.generationId), ...route,
    };
    const single = { includedMessageIds: [d.messageId], droppedMessageIds: [], promptTokens: 0 };
    const request = (data: object) => ({ type: 'RequestGeneration', data: { ...base, ...data }, metadata: metadata(requestCommandId(d.generationId)) });
    if (inputCheck.verdict === 'blocked') {
      // Nothing reaches a worker: the answer is the refusal. Its usage is what was read, nothing
      // generated: the canned refusal is not the model's output, so it is not billed as completion
      // tokens (quotas settle on this usage). prompt tokens = the user's message that the input check
      // read, in the model's tokenizer; the context (system prompt, history) was never assembled.
      const tokenIds = model.tokenizer.encode(refusal);
      const usage = { promptTokens: model.tokenizer.encode(d.content).length, completionTokens: 0 };
      groups.push([
        request({ context: single }),
        { type: 'AppendTokens', data: { generationId: d.generationId, attempt: 1, firstIndex: 0, tokenIds, text: refusal }, metadata: metadata(`saga:refusal:${d.generationId}`) },
        { type: 'CompleteGeneration', data: { generationId: d.generationId, attempt: 1, finishReason: 'content_filter', usage, ttftMs: 0, tpotMs: 0, workerId: 'safety' }, metadata: metadata(`saga:blocked:${d.generationId}`) },
      ]);
      continue;
    }
    // A model this deployment no longer serves (a message from before a configuration change): no
    // worker would ever claim its job, so the generation fails now with a reason.
    if (deps.modelFor && !deps.modelFor(route.model)) {
      groups.push([
        request({ context: single }),
        { type: 'FailGeneration', data: { generationId: d.generationId, attempt: 0, code: 'MODEL_NOT_FOUND', reason: `the model "${route.model}" is not served (PARLEY_MODELS)` }, metadata: metadata(`saga:fail:${d.generationId}`) },
      ]);
      continue;
    }
    try {
      // A turn with the client's own tools (params.clientTools present, even empty: an OpenAI request
      // that sent tools or a response_format) offers only those, this turn only; the saga runs no
      // server-side round on it (tool-round.ts). An OpenAI request that sent neither is like any
      // turn: the route follows its rounds (read-api/openai/answer-text.ts).
      const clientTurn = d.params.clientTools !== undefined || Boolean(d.toolsPrompt);
      const thread = await loadThread(deps.store, d.conversationId, d.messageId, history, (g) => deps.cache.answerOf(d.conversationId, g));
      const memories = memoriesOf(started.data.tenantId, started.data.ownerId);
      // null: no server-side tools for this turn (none on, or the client's own); else the offer, recorded
      const tools = clientTurn || !deps.toolsFor ? null : selectTools(deps.toolsFor(started.data.tenantId), d.content, deps.toolSelection);
      // Calls of the offered tools or text — only a call first when the message demands a tool's
      // result (selection.ts demandsCall) — unless the message asked for a constraint itself;
      // recorded in the request's params, so its continuations generate under it too (text allowed).
      const constraint = tools && deps.toolConstraint !== false && !d.params.constraint ? toolCallConstraint(tools, demandsCall(tools, d.content)) : null;
      const retrieved = await retrievals.get(d.generationId);
      // The system turn (system-turn.ts: memories, sources when the turn asked for retrieval, tools),
      // with as many sources as fit.
      const { context: ctx, retrieval } = await inSpan('parley.context.assembly', spanAttributes,
        () => assembleWithSources(retrieved, (sources) => fitWithSummary(model, withSystemTurn(model, thread, { memories, sources, tools: tools ?? [], toolsPrompt: d.toolsPrompt ?? null }), d.params.maxTokens, history)));
      // The prompt the worker runs is this one, exactly as counted here: rebuilt later, it would
      // take in answers that finished in between and could overflow the context.
      groups.push([request({
        context: { includedMessageIds: ctx.includedMessageIds, droppedMessageIds: ctx.droppedMessageIds, promptTokens: ctx.promptTokens, ...(ctx.summary ? { summaryId: ctx.summary.summaryId } : {}) },
        prompt: packTokenIds(ctx.promptIds),
        ...(retrieval ? { retrieval } : {}),
        ...(tools ? { tools: tools.map((t) => t.name) } : {}),
        ...(constraint ? { params: { ...d.params, constraint } } : {}),
      })]);
      // Turns dropped that no summary covers: ask for one (one under way per conversation at a time).
      if (deps.summaries && ctx.unsummarized.length > 0 && !deps.summaries.has(d.conversationId)) {
        const data = summaryRequestData(model, {
          conversationId: d.conversationId, ownerId: started.data.ownerId, tenantId: started.data.tenantId, model: route.model,
          safetySettings: settings, previous: ctx.summary, turns: ctx.unsummarized,
        });
        if (data) {
          summaryGroups.set(groups.length, data.generationId as string);
          groups.push([{ type: 'RequestGeneration', data, metadata: metadata(`saga:summary-request:${data.generationId as string}`) }]);
          deps.summaries.start(d.conversationId, data.generationId as string);
        }
      }
      queue.push({ generationId: d.generationId, priority: hints.get(d.generationId)?.priority ?? 0, model: route.model });
    } catch (error) {
      if (!(error instanceof ContextTooLongError)) throw error;
      groups.push([
        request({ context: single }),
        { type: 'FailGeneration', data: { generationId: d.generationId, attempt: 0, code: error.code, reason: error.message }, metadata: metadata(`saga:fail:${d.generationId}`) },
      ]);
    }
  }

  const results = await deps.commands.executeMany(groups, { known });
  for (const [i, result] of results.entries()) {
    // ALREADY_EXISTS / NOT_RUNNING on replay mean the step was done before: nothing to redo.
    if (!result.ok && !['ALREADY_EXISTS', 'GENERATION_NOT_RUNNING'].includes(result.error.code)) {
      const types = (groups[i] as { type: string }[]).map((c) => c.type).join('+');
      throw new Error(`saga ${types} failed: ${result.error.code} ${result.error.message}`);
    }
    if (result.ok && !result.duplicate) for (const event of recordedEvents(result)) deps.cache.apply(event);
    // A summary asked for before (it exists, maybe ended): nothing is under way because of this batch.
    const summary = summaryGroups.get(i);
    if (summary && !(result.ok && !result.duplicate)) deps.summaries?.end(summary);
    // A replayed batch may route differently (queues moved): the job follows the recorded request.
    const recorded = result.ok ? result.events.find((e) => e.type === 'GenerationRequested') : undefined;
    const job = recorded?.type === 'GenerationRequested' ? queue.find((q) => q.generationId === recorded.data.generationId) : undefined;
    if (job && recorded?.type === 'GenerationRequested') job.model = recorded.data.model;
  }
  // Queued now rather than when GenerationRequested comes back through the log (a later batch).
  // A crash before this line leaves the batch's checkpoint behind, so the replay gets here again.
  await deps.jobs.enqueueManyAndNotify(queue);
}

// Every message's route, decided together so the batch's own jobs count towards the queues.
async function routeBatch(deps: BatchDeps, messages: readonly Message[], conversations: Map<string, RecordedEvent[]>): Promise<Map<string, Route>> {
  if (!deps.router) return new Map();
  const asks = messages.flatMap((e) => {
    const started = conversations.get(e.data.conversationId)?.[0];
    if (started?.type !== 'ConversationStarted') return [];
    return [{ generationId: e.data.generationId, model: e.data.model ?? started.data.model, tenantId: started.data.tenantId, userId: started.data.ownerId }];
  });
  return deps.router.routeMany(asks);
}
