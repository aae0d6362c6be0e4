// The results of the CLIENT's own tool calls, recorded as events: every role `tool` message of a
// chat completion (and every `function_call_output` item of a response) names, by its
// `tool_call_id`, a call Parley recorded when the answer made it (client-tool-calls.ts). Each one is
// recorded as ToolCallCompleted on that call's generation stream, through the CompleteToolCall
// command and the generation decider, like a server-side result (`result` is encrypted under the
// owner's key by the store's field codec), so history (`Message.toolCalls`, status completed, the
// result) and the audit (a row, no content) show it.
//
// - Idempotent by call id: OpenAI clients re-send the whole history on every request, so the same
//   result arrives again and again. The command id is the call id (`openai:tool-result:<id>`), the
//   decider refuses a second outcome, and a result already recorded is skipped without a command
//   (the first result recorded stays: a client that later edits a result in its history changes
//   what the model reads in that request, not the record).
// - Unknown ids are not errors. A `tool_call_id` Parley never issued (a history carried over from
//   another provider, a client that invents ids, an id minted before call ids named their
//   generation) or one naming another user's call cannot be recorded — there is no call to
//   complete, and creating one would put words in the model's mouth. The request goes on: the
//   result still reaches the model in the prompt exactly as sent; it is counted
//   (`parley_openai_tool_results_total{outcome="unknown"}`) and logged, never refused, because a
//   client cannot fix an id it did not choose and a 400 would break its loop.
// - Recording never fails the request: an error is logged and the turn goes on (the result is in
//   the prompt either way; a later request that re-sends it records it then).
import type { Actor } from '../../schemas/common.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { Logger } from '../observability/logger.ts';
import { parseToolCallId } from './tools.ts';

/** a result as the client sent it: the call it answers and its text */
export type ClientToolResult = { toolCallId: string; content: string };
export type ResultOutcome = 'recorded' | 'duplicate' | 'unknown';

/** what a result record keeps (the prompt gets all of it): a 200 kB tool output is the client's
 *  business, not the log's; history shows `truncated` */
export const MAX_RECORDED_RESULT_CHARS = 16_000;

// Calls whose outcome this process has seen recorded, so a history re-sent on every request costs
// no stream read for them (a bounded set, oldest out first). Process-wide: a call id names its
// generation, which no other call shares, so two servers in one process cannot confuse them.
const SETTLED_CAP = 50_000;
const settled = new Set<string>();
function remember(toolCallId: string): void {
  settled.add(toolCallId);
  if (settled.size > SETTLED_CAP) settled.delete(settled.values().next().value!);
}

export type RecordResultsDeps = {
  store: Pick<EventStore, 'readStream'>;
  commands: Pick<CommandHandler, 'execute'>;
  logger: Pick<Logger, 'warn' | 'info'>;
  now?: () => number;
  count?: (outcome: ResultOutcome) => void;
};

export async function recordClientToolResults(deps: RecordResultsDeps, actor: Actor, correlationId: string, results: readonly ClientToolResult[]): Promise<ResultOutcome[]> {
  const outcomes: ResultOutcome[] = [];
  // one read per generation named, however many of its calls the request answers
  const byGeneration = new Map<string, ClientToolResult[]>();
  const unique = new Map(results.map((r) => [r.toolCallId, r])); // the same id twice in one request: the last one
  for (const r of unique.values()) {
    if (settled.has(r.toolCallId)) { outcomes.push(note(deps, 'duplicate', r.toolCallId)); continue; }
    const parsed = parseToolCallId(r.toolCallId);
    if (!parsed) { outcomes.push(note(deps, 'unknown', r.toolCallId)); continue; }
    byGeneration.set(parsed.generationId, [...(byGeneration.get(parsed.generationId) ?? []), r]);
  }
  for (const [generationId, rs] of byGeneration) {
    try {
      outcomes.push(...await recordOnGeneration(deps, actor, correlationId, generationId, rs));
    } catch (error) {
      deps.logger.warn({ err: error, generationId }, 'recording client tool results failed');
    }
  }
  return outcomes;
}

async function recordOnGeneration(deps: RecordResultsDeps, actor: Actor, correlationId: string, generationId: string, rs: ClientToolResult[]): Promise<ResultOutcome[]> {
  const events = await deps.store.readStream(`generation-${generationId}`);
  const outcomes: ResultOutcome[] = [];
  for (const r of rs) {
    const requested = events.find((e) => e.type === 'ToolCallRequested' && e.data.toolCallId === r.toolCallId);
    // another user's call reads as unknown, as a missing one (the decider would refuse it too)
    if (!requested || requested.type !== 'ToolCallRequested' || requested.data.ownerId !== actor.userId || requested.data.tenantId !== actor.tenantId) {
      outcomes.push(note(deps, 'unknown', r.toolCallId));
      continue;
    }
    if (events.some((e) => (e.type === 'ToolCallCompleted' || e.type === 'ToolCallFailed') && e.data.toolCallId === r.toolCallId)) {
      outcomes.push(note(deps, 'duplicate', r.toolCallId));
      continue;
    }
    const truncated = r.content.length > MAX_RECORDED_RESULT_CHARS;
    const now = deps.now?.() ?? Date.now();
    const result = await deps.commands.execute({
      type: 'CompleteToolCall',
      data: {
        toolCallId: r.toolCallId, generationId, name: requested.data.name,
        result: truncated ? cut(r.content, MAX_RECORDED_RESULT_CHARS) : r.content, truncated,
        // for a client's tool: from the answer that made the call to the request that brought the result
        latencyMs: Math.max(0, now - Date.parse(requested.metadata.occurredAt)),
      },
      metadata: { commandId: `openai:tool-result:${r.toolCallId}`, actor, correlationId },
    });
    // a concurrent request with the same history recorded it first: the same result, not a failure
    if (result.ok) outcomes.push(note(deps, result.duplicate ? 'duplicate' : 'recorded', r.toolCallId));
    else if (result.error.code === 'ALREADY_EXISTS') outcomes.push(note(deps, 'duplicate', r.toolCallId));
    else if (result.error.code === 'NOT_FOUND') outcomes.push(note(deps, 'unknown', r.toolCallId));
    else deps.logger.warn({ toolCallId: r.toolCallId, error: result.error }, 'a client tool result was not recorded');
  }
  return outcomes;
}

function note(deps: RecordResultsDeps, outcome: ResultOutcome, toolCallId: string): ResultOutcome {
  deps.count?.(outcome);
  if (outcome !== 'unknown') remember(toolCallId);
  if (outcome === 'unknown') deps.logger.info({ toolCallId }, 'a tool result names a call Parley did not record: passed to the model, not recorded');
  return outcome;
}

/** the first `max` characters, not splitting a surrogate pair */
function cut(s: string, max: number): string {
  const head = s.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
}
