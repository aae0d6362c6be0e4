// Follows one generation's tokens (the generationStream subscription) to the end, across dropped
// connections: it resubscribes with afterIndex = the last token index it applied (and the attempt that
// index belongs to), so no text is lost or shown twice; a chunk with `reset: true` (a retried attempt)
// drops the text shown so far.

import { ApiError } from './api.js';
import { applyToolCall } from './tool-calls.js';

export const GENERATION_STREAM = `subscription GenerationStream($id: ID!, $afterIndex: Int, $attempt: Int) {
  generationStream(id: $id, afterIndex: $afterIndex, attempt: $attempt) {
    index delta done finishReason usage { promptTokens completionTokens } attempt reset category error
    toolCall { id name arguments status result errorCode error round } continuation
  }
}`;

// Errors worth another try; anything else (not found, forbidden, bad input, signed out) ends the stream.
const RETRYABLE = new Set(['NETWORK', 'UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'BAD_RESPONSE']);
const MAX_SERVER_ERRORS = 6;

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

/**
 * @param {{
 *   id: string,
 *   subscribe: (query: string, variables: object, options: { signal: AbortSignal, onNext: (data: any) => void, onActivity: () => void }) => Promise<boolean>,
 *   onUpdate?: (state: StreamState, chunk: any | null) => void,
 *   signal?: AbortSignal,
 *   replaceShownText?: boolean,   // the text shown came from history: replace it with the replay
 *   backoffMs?: number[],
 *   stallMs?: number,             // no byte (the server pings every 12 s) for this long = a dead connection
 * }} options
 * @returns {Promise<StreamState>}
 *
 * @typedef {{ id: string, text: string, lastIndex: number, attempt: number, done: boolean, finishReason: string | null,
 *   category: string | null, error: string | null, errorCode: string | null, usage: any, reconnects: number,
 *   connection: 'connecting' | 'open' | 'reconnecting' | 'closed', subscriptions: (number | null)[] }} StreamState
 */
export async function followGeneration({
  id, subscribe, onUpdate = () => {}, signal, replaceShownText = false, backoffMs = [200, 500, 1000, 2000, 4000], stallMs = 40_000,
}) {
  /** @type {StreamState} */
  const state = {
    id, text: '', lastIndex: -1, attempt: 0, done: false, finishReason: null, category: null, error: null, errorCode: null,
    usage: null, reconnects: 0, connection: 'connecting', subscriptions: [], toolCalls: [],
  };
  // A turn that calls server-side tools goes on in a continuation (chunk.continuation): from there
  // the indexes are the continuation's, and a reconnect resumes it rather than the first answer.
  let current = id;
  let replaceOnFirst = replaceShownText;
  let failures = 0;
  let serverErrors = 0; // errors the server answered with (a network drop is not one): give up after a few
  let retryAfterMs = 0;

  while (!state.done && !signal?.aborted) {
    const connection = new AbortController();
    const stopOnOuterAbort = () => connection.abort();
    signal?.addEventListener('abort', stopOnOuterAbort, { once: true });
    let stall;
    const alive = () => {
      clearTimeout(stall);
      stall = setTimeout(() => connection.abort(new Error('stalled')), stallMs);
    };
    let restart = false;
    let progressed = false;

    const apply = (chunk) => {
      if (replaceOnFirst) { state.text = ''; state.lastIndex = -1; replaceOnFirst = false; }
      if (chunk.toolCall) { applyToolCall(state.toolCalls, chunk.toolCall); progressed = true; onUpdate(state, chunk); return; }
      if (chunk.continuation) {
        current = chunk.continuation;
        state.text += '\n\n';
        state.lastIndex = -1; state.attempt = 0; progressed = true;
        onUpdate(state, chunk);
        return;
      }
      if (chunk.reset) {
        state.text = ''; state.lastIndex = -1; state.attempt = chunk.attempt;
      } else if (state.attempt && chunk.attempt < state.attempt) {
        return; // an older attempt's leftovers
      } else if (state.attempt && chunk.attempt > state.attempt) {
        // A newer attempt began while we were away: our indexes mean nothing in it. Replay it whole.
        state.text = ''; state.lastIndex = -1; state.attempt = chunk.attempt;
        restart = true;
        connection.abort();
        onUpdate(state, null);
        return;
      }
      state.attempt = chunk.attempt || state.attempt;
      // A chunk covering tokens already applied is a duplicate: skip its text, keep its `done`.
      if (!(chunk.index >= 0 && chunk.index <= state.lastIndex)) {
        state.text += chunk.delta ?? '';
        if (chunk.index >= 0) state.lastIndex = chunk.index;
        progressed = true;
      }
      if (chunk.done) {
        state.done = true;
        state.finishReason = chunk.finishReason ?? null;
        state.category = chunk.category ?? null;
        state.error = chunk.error ?? null;
        state.usage = chunk.usage ?? null;
        connection.abort(); // done: no need to wait for `complete`
      }
      onUpdate(state, chunk);
    };

    try {
      const afterIndex = state.lastIndex >= 0 ? state.lastIndex : null;
      const attempt = afterIndex !== null && state.attempt > 0 ? state.attempt : null;
      state.subscriptions.push(afterIndex);
      alive();
      await subscribe(GENERATION_STREAM, { id: current, afterIndex, attempt }, {
        signal: connection.signal,
        onActivity: () => {
          alive();
          if (state.connection !== 'open') { state.connection = 'open'; onUpdate(state, null); }
        },
        onNext: (data) => { if (data?.generationStream && !restart && !state.done) apply(data.generationStream); },
      });
    } catch (error) {
      if (!state.done && !restart && !signal?.aborted && error instanceof ApiError) {
        serverErrors += 1;
        retryAfterMs = Number(error.extensions?.retryAfter) > 0 ? Number(error.extensions.retryAfter) * 1000 : 0;
        if (!RETRYABLE.has(error.code) || serverErrors > MAX_SERVER_ERRORS) {
          Object.assign(state, { done: true, finishReason: 'error', error: error.message, errorCode: error.code });
          onUpdate(state, null);
        }
      }
    } finally {
      clearTimeout(stall);
      signal?.removeEventListener('abort', stopOnOuterAbort);
    }
    if (state.done || signal?.aborted) break;
    if (restart) continue;
    // The connection ended before the generation did: try again, sooner if it had been making progress.
    if (progressed) { failures = 0; serverErrors = 0; }
    state.connection = 'reconnecting';
    state.reconnects += 1;
    onUpdate(state, null);
    await sleep(Math.max(retryAfterMs, backoffMs[Math.min(failures, backoffMs.length - 1)]), signal);
    retryAfterMs = 0;
    failures += 1;
  }
  state.connection = 'closed';
  return state;
}
