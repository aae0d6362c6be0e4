import { createHash } from 'node:crypto';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { foldGeneration, latestText, type GenerationView } from '../../domain/generation-view.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import type { EventData, EventOf } from '../../schemas/events.ts';
import { packTokenIds } from '../../schemas/prompt.ts';
import { checkInput } from '../../safety/index.ts';
import {
  afterRoundConstraint, DEFAULT_RUN_LIMITS, MAX_TOOL_ROUNDS, type ParsedToolCall, parseToolCalls, renderToolResponses, type RunLimits, runToolCall, type Tool,
} from '../tools/index.ts';
import { listMemories } from '../../commands/memory.ts';
import { loadThread, renderTurns, type ChatModel, type ChatTurnMessage } from './context-assembly.ts';
import { recordedSources, type PassageLookup } from './retrieval-context.ts';
import { summariesOf, withRecordedSummary } from './summary-context.ts';
import { withSystemTurn } from './system-turn.ts';

// A round of server-side tool calls, run by the saga as a step of the turn. When a generation
// completes and its text holds <tool_call> blocks (and tools are on for its tenant), the saga
//   1. records every call (RequestToolCall, on the generation's stream: the audit sees it even if
//      the tool never returns),
//   2. runs them (zod-checked arguments, a timeout, a capped result), passes each result through
//      the prompt-injection check, and records the outcome (CompleteToolCall / FailToolCall),
//   3. requests the continuation: a new generation `<root>.t<round>` whose prompt is the turn so
//      far plus the results (RequestGeneration with `continues`), queued like a regenerated sibling.
// The continuation after the last of MAX_TOOL_ROUNDS rounds, and the one after a retry that failed
// as well (a second round in a row whose calls all failed), must answer in text: its constraint is
// `no_tool_calls` (tools/constraint.ts afterRoundConstraint), so the engine masks `<tool_call>`.
// Why: a model that cannot make a call work (the shipped one wrote failing convert_units calls for
// "How many grams are in a kilogram?") kept calling, up to the round limit and an error after five
// generations. One retry after a failure is kept: a real model often fixes its arguments from the
// error. A round past the limit (a worker that ignored the constraint) is still recorded as failed
// calls and a continuation that fails at once with TOO_MANY_TOOL_ROUNDS.
//
// Crash safety: command ids are deterministic and the step reads what is recorded first, so a
// replayed batch re-runs only calls requested but not yet ended (tools are read-only), and the
// continuation is requested once (ALREADY_EXISTS on a replay).

export type ToolRoundDeps = {
  store: EventStore;
  commands: CommandHandler;
  model: ChatModel;
  // PARLEY_MODELS: the model a turn was routed to (its tokenizer and template); absent or unknown: `model`.
  modelFor?: (name: string) => ChatModel | undefined;
  actor: Actor;
  // The tools on for a tenant (empty: none; its generations' text is left as the answer).
  toolsFor: (tenantId: string) => readonly Tool[];
  limits?: RunLimits;
  now?: () => Date;
  // The text of the passages a turn retrieved (retrieval-context.ts): its continuations show them again.
  passages?: PassageLookup;
};

type Completed = EventOf<'GenerationCompleted'> & RecordedEvent;
type CallEvent = EventOf<'ToolCallRequested' | 'ToolCallCompleted' | 'ToolCallFailed'>;

export const continuationId = (rootGenerationId: string, round: number) => `${rootGenerationId}.t${round}`;
// One id per call of a generation, within the 128 characters an id may have.
export function toolCallId(generationId: string, index: number): string {
  const id = `${generationId}.c${index}`;
  return id.length <= 128 ? id : `tc-${createHash('sha256').update(generationId).digest('hex').slice(0, 40)}.c${index}`;
}
const cmd = (kind: string, id: string) => `saga:tool:${kind}:${id}`;

// The generation as the tool step needs it: request, text, finish, and its tool-call events.
async function readRound(store: Pick<EventStore, 'readStream'>, generationId: string) {
  const events = await store.readStream(`generation-${generationId}`);
  const view = foldGeneration(events);
  const calls = events.filter((e): e is RecordedEvent & CallEvent => e.type.startsWith('ToolCall'));
  return { view, text: latestText(view), calls };
}

export async function runToolRounds(deps: ToolRoundDeps, completed: readonly Completed[]): Promise<void> {
  // One at a time: rounds of different turns are independent, and few complete with calls.
  for (const e of completed) await toolRound(deps, e);
}

async function toolRound(deps: ToolRoundDeps, e: Completed): Promise<void> {
  if (e.data.finishReason === 'content_filter') return;
  const { view, text } = await readRound(deps.store, e.data.generationId);
  const request = view.request;
  if (!request || view.end?.type !== 'completed') return;
  if (request.params.clientTools) return; // an OpenAI turn with the client's tools: its calls (if any) are the client's
  const tools = offeredTools(deps.toolsFor(request.tenantId), request.tools);
  if (tools.length === 0) return; // none offered: a `<tool_call>` in the text stays text
  const parsed = parseToolCalls(text);
  if (parsed.calls.length === 0 && parsed.invalid.length === 0) return; // a plain answer: the turn is done
  // The turn's maxTokens is one budget shared by its generations (an OpenAI client reads it as the
  // bound on usage.completion_tokens): a generation that spent it — cut by `length`, so its last call
  // is cut too — gets no round, and a continuation may generate only what is left.
  const left = request.params.maxTokens - e.data.usage.completionTokens;
  if (e.data.finishReason === 'length' || left <= 0) return;

  const round = (request.continues?.round ?? 0) + 1;
  const root = request.continues?.rootGenerationId ?? request.generationId;
  const meta = (commandId: string) => ({ commandId, actor: deps.actor, correlationId: e.metadata.correlationId, causationId: e.metadata.eventId });
  const exec = async (commands: { type: string; data: object; metadata: object }[]) => {
    if (commands.length === 0) return;
    const result = await deps.commands.executeAll(commands);
    if (!result.ok && result.error.code !== 'ALREADY_EXISTS') throw new Error(`saga ${commands[0]!.type} failed: ${result.error.code} ${result.error.message}`);
  };

  // The calls as the text makes them: valid ones, then the blocks that were not valid calls.
  const wanted: { call: ParsedToolCall; invalid?: string }[] = [
    ...parsed.calls.map((call) => ({ call })),
    ...parsed.invalid.map((x) => ({ call: { name: 'invalid', arguments: { text: x.text.slice(0, 500) } }, invalid: x.error })),
  ];
  const status = callStatus(view);
  const ids = wanted.map((_, i) => toolCallId(request.generationId, i));

  // 1. Record the calls not recorded yet.
  await exec(wanted.flatMap((w, i) => status[ids[i]!] ? [] : [{
    type: 'RequestToolCall',
    data: { toolCallId: ids[i], generationId: request.generationId, messageId: request.messageId, round, index: i, name: w.call.name.slice(0, 64), arguments: JSON.stringify(w.call.arguments) },
    metadata: meta(cmd('request', ids[i]!)),
  }]));

  // search_documents searches the collections the turn retrieves from (its continuations carry them).
  const collections = request.retrieval?.collections;

  // 2. Run the calls not ended yet, and record their outcomes together.
  const outcomes = await Promise.all(wanted.map(async (w, i) => {
    const id = ids[i]!;
    const st = status[id];
    if (st === 'completed' || st === 'failed') return null;
    const base = { toolCallId: id, generationId: request.generationId, name: w.call.name.slice(0, 64) };
    if (round > MAX_TOOL_ROUNDS) {
      return { type: 'FailToolCall', data: { ...base, code: 'TOO_MANY_ROUNDS', message: `the turn already used its ${MAX_TOOL_ROUNDS} tool rounds`, latencyMs: 0 } };
    }
    if (w.invalid) return { type: 'FailToolCall', data: { ...base, code: 'INVALID_CALL', message: `not a valid tool call: ${w.invalid}`.slice(0, 1000), latencyMs: 0 } };
    const outcome = await runToolCall(tools, w.call, { tenantId: request.tenantId, ownerId: request.ownerId, conversationId: request.conversationId, now: (deps.now ?? (() => new Date()))(), ...(collections?.length ? { collections } : {}) }, deps.limits ?? DEFAULT_RUN_LIMITS);
    if (!outcome.ok) return { type: 'FailToolCall', data: { ...base, code: outcome.code, message: outcome.message, latencyMs: outcome.latencyMs } };
    // Indirect prompt injection: a result that reads as instructions to the model is kept out.
    const check = await checkInput(outcome.result, request.safetySettings ?? undefined);
    const injection = check.categories.find((c) => c.category === 'prompt_injection' && c.blocked);
    if (injection) {
      return { type: 'FailToolCall', data: { ...base, code: 'RESULT_BLOCKED', message: 'the result was withheld: it failed the prompt-injection check', latencyMs: outcome.latencyMs, blockedCategory: 'prompt_injection' } };
    }
    return { type: 'CompleteToolCall', data: { ...base, result: outcome.result, truncated: outcome.truncated, latencyMs: outcome.latencyMs, ...(outcome.sources ? { sources: outcome.sources } : {}) } };
  }));
  await exec(outcomes.flatMap((o, i) => (o ? [{ ...o, metadata: meta(cmd('outcome', ids[i]!)) }] : [])));
  // each call's outcome: run now, or recorded by an earlier incarnation of this step
  const failed = (i: number) => (outcomes[i] ? outcomes[i].type === 'FailToolCall' : status[ids[i]!] === 'failed');
  const failedAgain = wanted.every((_, i) => failed(i)) && !!request.continues && await allFailed(deps.store, request.continues.generationId);
  const constraint = afterRoundConstraint(request.params.constraint, round, failedAgain);

  // 3. The continuation.
  const next = continuationId(root, round);
  const base = {
    generationId: next, conversationId: request.conversationId, messageId: request.messageId, ownerId: request.ownerId, tenantId: request.tenantId,
    model: request.model, params: { ...request.params, maxTokens: left, ...(constraint ? { constraint } : {}) }, siblingOf: null, priority: request.priority, brownout: request.brownout,
    safetySettings: request.safetySettings, inputCheck: request.inputCheck, continues: { generationId: request.generationId, rootGenerationId: root, round },
    // the turn's sources, shown again in the continuation's system turn (turnSoFar), and its tools
    ...(request.retrieval ? { retrieval: request.retrieval } : {}),
    ...(request.tools ? { tools: request.tools } : {}),
  };
  const single = { includedMessageIds: [request.messageId], droppedMessageIds: [], promptTokens: 0 };
  const requestMeta = meta(cmd('continue', next));
  if (round > MAX_TOOL_ROUNDS) {
    await exec([
      { type: 'RequestGeneration', data: { ...base, context: single }, metadata: requestMeta },
      { type: 'FailGeneration', data: { generationId: next, attempt: 0, code: 'TOO_MANY_TOOL_ROUNDS', reason: `the answer needed more than ${MAX_TOOL_ROUNDS} rounds of tool calls` }, metadata: meta(cmd('rounds', next)) },
    ]);
    return;
  }
  // The continuation is prompted for the model the turn was routed to, in that model's template.
  const model = deps.modelFor?.(request.model) ?? deps.model;
  const messages = await turnSoFar(deps, model, request, tools);
  const promptIds = model.applyChatTemplate(messages);
  const budget = model.config.contextLength - left;
  if (promptIds.length > budget) {
    await exec([
      { type: 'RequestGeneration', data: { ...base, context: single }, metadata: requestMeta },
      { type: 'FailGeneration', data: { generationId: next, attempt: 0, code: 'CONTEXT_TOO_LONG', reason: `the turn with its tool results needs ${promptIds.length} prompt tokens but only ${Math.max(0, budget)} fit` }, metadata: meta(cmd('fail', next)) },
    ]);
    return;
  }
  await exec([{
    type: 'RequestGeneration',
    data: { ...base, context: { ...request.context, promptTokens: promptIds.length }, prompt: packTokenIds(promptIds) },
    metadata: requestMeta,
  }]);
}

// A generation's tool calls by id, as the decider's fold has them (absent: not recorded yet).
const callStatus = (view: GenerationView) => (view.state.status === 'none' ? {} : view.state.toolCalls);

// true when the generation made calls and every one that ended failed (the round before a retry)
async function allFailed(store: Pick<EventStore, 'readStream'>, generationId: string): Promise<boolean> {
  const ended = Object.values(callStatus((await readRound(store, generationId)).view)).filter((s) => s !== 'requested');
  return ended.length > 0 && ended.every((s) => s === 'failed');
}

// The turn as the model sees it for the next round: the first round's context again — its system
// turn composed as the first round composes it (system-turn.ts: the owner's memories as they are
// now, the turn's recorded sources, the tools; then the summary it used), the turns it included —
// then each round's assistant text and its tool responses.
async function turnSoFar(deps: ToolRoundDeps, model: ChatModel, last: EventData<'GenerationRequested'>, tools: readonly Tool[]): Promise<ChatTurnMessage[]> {
  const root = last.continues?.rootGenerationId ?? last.generationId;
  const rounds = last.continues?.round ?? 0;
  const chain = [root, ...Array.from({ length: rounds }, (_, i) => continuationId(root, i + 1))];
  const [reads, history] = await Promise.all([
    Promise.all(chain.map((id) => readRound(deps.store, id))),
    deps.store.readStream(`conversation-${last.conversationId}`),
  ]);
  const first = reads[0]!.view.request ?? last;
  const [loaded, memories, sources] = await Promise.all([
    loadThread(deps.store, last.conversationId, last.messageId, history),
    listMemories(deps.store, first.tenantId, first.ownerId),
    recordedSources(deps.passages, first.tenantId, first.retrieval),
  ]);
  // A turn with the client's own tools has no server-side round (toolRound), so no toolsPrompt here.
  const composed = withSystemTurn(model, loaded, { memories, sources, tools, toolsPrompt: null });
  const summary = first.context.summaryId ? summariesOf(history).find((x) => x.summaryId === first.context.summaryId) : undefined;
  const thread = summary ? withRecordedSummary(model, composed, summary) : composed;
  const included = new Set(first.context.includedMessageIds);
  const messages = renderTurns(thread, thread.turns.filter((t) => included.has(t.messageId)));
  for (const r of reads) {
    messages.push({ role: 'assistant', content: r.text });
    messages.push({ role: 'user', content: renderToolResponses(responsesOf(r.calls)) });
  }
  return messages;
}

// The tools a turn was offered (GenerationRequested.tools) among those on for its tenant now: a tool
// switched off since is not run. Not recorded (before tool selection): all of the tenant's.
function offeredTools(onForTenant: readonly Tool[], offered: readonly string[] | undefined): readonly Tool[] {
  return offered ? onForTenant.filter((t) => offered.includes(t.name)) : onForTenant;
}

// What the model is told for each call, in call order: the result, or the error.
export function responsesOf(calls: readonly CallEvent[]): string[] {
  const order = calls.filter((c) => c.type === 'ToolCallRequested').sort((a, b) => (a.data as EventData<'ToolCallRequested'>).index - (b.data as EventData<'ToolCallRequested'>).index);
  return order.map((req) => {
    const end = calls.find((c) => c.data.toolCallId === req.data.toolCallId && c.type !== 'ToolCallRequested');
    if (end?.type === 'ToolCallCompleted') return end.data.result;
    if (end?.type === 'ToolCallFailed') return JSON.stringify({ error: end.data.code, message: end.data.message });
    return JSON.stringify({ error: 'NO_RESULT', message: 'the call has no result' });
  });
}
