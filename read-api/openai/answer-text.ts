import { readGeneration } from '../../commands/read-generation.ts';
import { streamGeneration } from '../graphql/generation-stream.ts';
import { streamTurn, type TurnChunk } from '../graphql/turn-stream.ts';
import type { Call } from './intake.ts';
import type { End, Usage } from './settlement.ts';
import { HoldFromMarker, TOOL_CALL_OPEN } from './tool-call-stream.ts';

// The answer of an OpenAI turn as its client is shown it, streamed (follow) or whole (wholeAnswer).
//
// A turn without the client's own tools (params.clientTools absent) may be offered Parley's
// server-side tools (calculator, converter, clock, …): a generation that calls them is followed by
// the saga's tool round and a continuation (read-api/graphql/turn-stream.ts, as GraphQL's
// generationStream follows it). OpenAI's API has no server-side calls, so the client sees the
// answer only: each generation's text up to its first `<tool_call>`, then the continuation's text.
// The call text is held back until the turn says whether the saga ran it (a continuation follows)
// or not (then it is the answer's text, as GraphQL shows it). Usage is the turn's: every
// generation's prompt and completion tokens. A turn with the client's tools follows its one
// generation (the client runs the calls and sends the results in its next request).

// The text a client has been shown, reconciled with a generation whose attempts may restart.
// A retried attempt (reset) restarts the text: what was sent cannot be retracted, so the retry's
// text is matched against it — while it repeats what was sent nothing is sent, once it goes
// further only the new part is sent; if it differs, the stream cannot go on (diverged).
export class StreamedText {
  private sent = '';
  private attempt = '';
  push(delta: string, reset: boolean): { delta: string } | { diverged: true } {
    this.attempt = reset ? delta : this.attempt + delta;
    if (this.attempt.length <= this.sent.length) return this.sent.startsWith(this.attempt) ? { delta: '' } : { diverged: true };
    if (!this.attempt.startsWith(this.sent)) return { diverged: true };
    const out = this.attempt.slice(this.sent.length);
    this.sent = this.attempt;
    return { delta: out };
  }
  get text(): string { return this.sent; }
}

export type Step = { delta: string } | { end: End } | { diverged: true };

/** the turn's chunks: its generations, with the saga's tool rounds between them when it runs any */
function chunksOf(call: Call, signal: AbortSignal): AsyncIterable<TurnChunk> {
  const { store, bus, knex } = call.o.services;
  return call.turn.params.clientTools === undefined
    ? streamTurn(store, bus!, knex, call.generationId, -1, null, signal)
    : streamGeneration(store, bus!, call.generationId, -1, null, signal);
}

const addUsage = (a: Usage, b: Usage): Usage => ({ promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens });

/** what a generation the saga continued used (its end event; zero if it has none) */
async function usageOf(call: Call, generationId: string): Promise<Usage> {
  const view = await readGeneration(call.o.services.store, generationId);
  const end = view.end;
  return (end && (end.type === 'completed' || end.type === 'cancelled') && end.usage) || { promptTokens: 0, completionTokens: 0 };
}

/** the end of the turn: its last generation's end with the usage of every generation */
function turnEnd(chunk: TurnChunk, earlier: Usage): End {
  return {
    finishReason: chunk.finishReason ?? 'stop',
    usage: chunk.usage ? addUsage(earlier, chunk.usage) : null,
    error: chunk.error,
    position: chunk.position ?? null,
  };
}

type TurnStep = { chunk: TurnChunk } | { next: true } | { end: End };

/** The turn's text chunks, `next` where the saga continued the generation before it, then the
 *  turn's end; keeps the call's produced-token count and the turn's usage on the way. */
async function* turnSteps(call: Call, signal: AbortSignal): AsyncGenerator<TurnStep> {
  let generation = call.generationId;
  let earlier: Usage = { promptTokens: 0, completionTokens: 0 }; // the generations before this one
  for await (const c of chunksOf(call, signal)) {
    if (c.continuation) {
      earlier = addUsage(earlier, await usageOf(call, generation));
      generation = c.continuation;
      yield { next: true };
      continue;
    }
    if (c.toolCall) continue;
    if (c.done) {
      yield { end: turnEnd(c, earlier) };
      return;
    }
    call.summary.completionTokens = earlier.completionTokens + c.index + 1;
    yield { chunk: c };
  }
}

/** a server-side call the turn's max_tokens left no room to run (the saga runs no round once the
 *  budget is spent, tool-round.ts): not shown, as a client's own call cut before its name is not */
const spentOnCall = (call: Call, end: End, held: string | null) => held !== null
  && (end.finishReason === 'length' || (end.usage?.completionTokens ?? 0) >= call.turn.params.maxTokens);

/** Streamed: the answer's text as it may be shown, then the turn's end (or a diverged retry). */
export async function* follow(call: Call, signal: AbortSignal): AsyncGenerator<Step> {
  const holdCalls = call.turn.params.clientTools === undefined; // the client's own calls are its to read
  let text = new StreamedText();
  let hold = new HoldFromMarker(TOOL_CALL_OPEN);
  for await (const s of turnSteps(call, signal)) {
    if ('next' in s) {
      // the saga ran the calls of the generation before: their text is not part of the answer
      text = new StreamedText();
      hold = new HoldFromMarker(TOOL_CALL_OPEN);
      continue;
    }
    if ('end' in s) {
      // a call the saga did not run is text, unless the budget cut it (never markup as content)
      if (hold.rest && !(holdCalls && spentOnCall(call, s.end, hold.held))) yield { delta: hold.rest };
      yield s;
      return;
    }
    const step = text.push(s.chunk.delta, s.chunk.reset);
    if ('diverged' in step) { yield step; return; }
    const shown = holdCalls ? hold.push(step.delta) : step.delta;
    if (shown) yield { delta: shown };
  }
}

/** Not streamed: the answer's whole text (a retried attempt's text replaces its first attempt's:
 *  only the final one counts) and the turn's end; null when aborted first. */
export async function wholeAnswer(call: Call, signal: AbortSignal): Promise<{ text: string; end: End } | null> {
  let before = ''; // the text of the generations the saga continued, up to their calls
  let text = '';
  for await (const s of turnSteps(call, signal)) {
    if ('next' in s) {
      const at = text.indexOf(TOOL_CALL_OPEN);
      before += at >= 0 ? text.slice(0, at) : text;
      text = '';
      continue;
    }
    if ('end' in s) {
      const at = text.indexOf(TOOL_CALL_OPEN);
      if (call.turn.params.clientTools === undefined && at >= 0 && spentOnCall(call, s.end, text.slice(at))) text = text.slice(0, at);
      return { text: before + text, end: s.end };
    }
    text = s.chunk.reset ? s.chunk.delta : text + s.chunk.delta;
  }
  return null;
}
