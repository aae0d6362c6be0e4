import type { Knex } from 'knex';
import { readGeneration } from '../../commands/read-generation.ts';
import { latestText } from '../../domain/generation-view.ts';
import { comparePositions, type EventStore, type RecordedEvent } from '../../eventstore/port.ts';
import { readCheckpoint } from '../../eventstore/postgres/checkpoints.ts';
import type { TokenBus } from '../../inference/worker/token-bus.ts';
import type { EventOf } from '../../schemas/events.ts';
import { hasToolCallMarkup } from '../../schemas/tool-call-format.ts';
import { streamGeneration, type GenerationChunk } from './generation-stream.ts';

// generationStream over a whole turn: a generation's chunks, then — when its text called
// server-side tools and the saga ran them — one chunk per call as it is requested and as it ends
// (`toolCall`), a chunk naming the continuation (`continuation`, its id), and the continuation's
// chunks (token indices start again at 0 there), until an answer that calls no tools ends the turn
// with its done chunk. A client resuming mid-turn subscribes to the generation it last saw.
//
// Whether the saga runs a generation's calls is read from the log, not guessed: once the saga's
// checkpoint has passed the generation's end without a ToolCallRequested, it did not (tools off for
// the tenant), and the done chunk ends the stream as before.
//
// The CLIENT's own tools (an OpenAI request's `tools`, params.clientTools): the saga runs no round;
// the gateway records the calls right after the answer ends (read-api/openai/client-tool-calls.ts)
// and each result when the client's next request brings it (client-tool-results.ts). The stream
// shows them the same way — each call requested, then completed with the client's result — and
// ends with the answer's done chunk, without a continuation (the client's next request is a turn of
// its own). A client may never send a result (a loop that stops): the stream waits for the calls up
// to CLIENT_CALLS_WAIT_MS and for their results up to CLIENT_RESULTS_WAIT_MS, then ends; a later
// subscription reads whatever was recorded since from the log.

export type ToolCallProgress = {
  id: string; name: string; arguments: string; status: 'requested' | 'completed' | 'failed';
  result: string | null; errorCode: string | null; error: string | null; round: number;
};
export type TurnChunk = GenerationChunk & { toolCall?: ToolCallProgress | null; continuation?: string | null };

const SAGA = 'inference-saga';
const POLL_MS = [25, 50, 100, 250];
export const CLIENT_CALLS_WAIT_MS = 10_000;
export const CLIENT_RESULTS_WAIT_MS = 120_000;
type CallEvent = RecordedEvent & EventOf<'ToolCallRequested' | 'ToolCallCompleted' | 'ToolCallFailed'>;

export async function* streamTurn(
  store: EventStore, bus: TokenBus, knex: Knex, id: string, afterIndex: number, seenAttempt: number | null, signal?: AbortSignal,
): AsyncGenerator<TurnChunk> {
  let current = id;
  let after = afterIndex;
  let attempt = seenAttempt;
  for (;;) {
    let end: GenerationChunk | null = null;
    // Only an answer whose text holds <tool_call> is looked at again (a resumed stream did not see
    // its start: it reads the log to know).
    let maybeCalls = after >= 0;
    let tail = '';
    for await (const chunk of streamGeneration(store, bus, current, after, attempt, signal)) {
      if (chunk.done) { end = chunk; break; }
      if (chunk.reset) { tail = ''; maybeCalls = after >= 0; }
      const joined = tail + chunk.delta;
      if (joined.includes('<tool_call>')) maybeCalls = true;
      tail = joined.slice(-16); // a marker split across chunks is still seen
      yield chunk;
    }
    if (!end) return; // aborted
    const completed = end.finishReason === 'stop' || end.finishReason === 'length';
    const next = completed && maybeCalls ? await toolRound(store, knex, current, end, signal) : null;
    if (!next) { yield end; return; }
    for await (const progress of next.progress) yield { ...idle(end.attempt), toolCall: progress };
    if (signal?.aborted) return;
    if (!next.continuation) { yield end; return; } // the client's calls: the turn ends with this answer
    const continuation = await waitFor(signal, async () => ((await store.readStream(`generation-${next.continuation}`, { limit: 1 })).length ? next.continuation : null));
    if (!continuation) return;
    yield { ...idle(0), continuation };
    current = continuation;
    after = -1;
    attempt = null;
  }
}

const idle = (attempt: number): GenerationChunk => ({ index: -1, delta: '', done: false, finishReason: null, usage: null, attempt, reset: false, category: null, error: null });

/** the probe's first non-null value; null once aborted or past the deadline (ms since the epoch) */
async function waitFor<T>(signal: AbortSignal | undefined, probe: () => Promise<T | null>, deadline = Infinity): Promise<T | null> {
  for (let i = 0; !signal?.aborted; i++) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
  }
  return null;
}

// The tool round that follows a generation, if the saga runs one: its calls' progress, and the
// id of the continuation it requests.
// For the client's own tools: their calls' progress (as the gateway records them), no continuation.
async function toolRound(store: EventStore, knex: Knex, generationId: string, end: GenerationChunk, signal?: AbortSignal): Promise<{ continuation: string | null; progress: AsyncGenerator<ToolCallProgress> } | null> {
  const view = await readGeneration(store, generationId);
  if (!view.request || !hasToolCallMarkup(latestText(view))) return null;
  const request = view.request;
  const round = (request.continues?.round ?? 0) + 1;
  const readCalls = async () => (await store.readStream(`generation-${generationId}`)).filter((e): e is CallEvent => e.type.startsWith('ToolCall'));
  if (request.params.clientTools?.length) {
    const calls = await waitFor(signal, async () => { const found = await readCalls(); return found.length ? found : null; }, Date.now() + CLIENT_CALLS_WAIT_MS);
    if (!calls) return null;
    return { continuation: null, progress: progressOf(store, generationId, calls, round, signal, Date.now() + CLIENT_RESULTS_WAIT_MS) };
  }
  const endPosition = end.position ?? view.endEvent?.position ?? null;
  const calls = await waitFor(signal, async () => {
    const found = await readCalls();
    if (found.length) return found;
    // The saga passed the end without a call: no round.
    if (endPosition && comparePositions(await readCheckpoint(knex, SAGA), endPosition) >= 0) return [] as CallEvent[];
    return null;
  });
  if (!calls || calls.length === 0) return null;
  const root = request.continues?.rootGenerationId ?? request.generationId;
  // The saga's continuation id (inference/saga/tool-round.ts continuationId).
  const continuation = `${root}.t${round}`;
  return { continuation, progress: progressOf(store, generationId, calls, round, signal) };
}

// Each call as requested, then as it ends; until every call has ended (or the deadline passes).
async function* progressOf(store: EventStore, generationId: string, first: CallEvent[], round: number, signal?: AbortSignal, deadline = Infinity): AsyncGenerator<ToolCallProgress> {
  const requested = new Map<string, ToolCallProgress>();
  const ended = new Set<string>();
  let events = first;
  for (let i = 0; !signal?.aborted; i++) {
    for (const e of events) {
      if (e.type === 'ToolCallRequested' && !requested.has(e.data.toolCallId)) {
        const p: ToolCallProgress = { id: e.data.toolCallId, name: e.data.name, arguments: e.data.arguments, status: 'requested', result: null, errorCode: null, error: null, round };
        requested.set(p.id, p);
        yield p;
      } else if (e.type !== 'ToolCallRequested' && requested.has(e.data.toolCallId) && !ended.has(e.data.toolCallId)) {
        ended.add(e.data.toolCallId);
        const p = requested.get(e.data.toolCallId)!;
        yield e.type === 'ToolCallCompleted'
          ? { ...p, status: 'completed', result: e.data.result }
          : { ...p, status: 'failed', errorCode: e.data.code, error: e.data.message };
      }
    }
    if (requested.size > 0 && ended.size === requested.size) return;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, POLL_MS[Math.min(i, POLL_MS.length - 1)]));
    events = (await store.readStream(`generation-${generationId}`)).filter((e): e is CallEvent => e.type.startsWith('ToolCall'));
  }
}
