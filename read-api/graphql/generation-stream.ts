import { canActOn } from '../../domain/access.ts';
import type { Knex } from 'knex';
import { readGeneration } from '../../commands/read-generation.ts';
import { filteredCategory } from '../../domain/generation-view.ts';
import { parsePosition, type EventStore, type Position } from '../../eventstore/port.ts';
import type { EventData } from '../../schemas/events.ts';
import { readCheckpoint } from '../../eventstore/postgres/checkpoints.ts';
import type { LiveToken, TokenBus } from '../../inference/worker/token-bus.ts';
import type { Actor } from '../../schemas/common.ts';
import { requireActor, type GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import type { AcceptedTurns } from '../accepted-turns.ts';
import { streamTurn } from './turn-stream.ts';

export type GenerationChunk = {
  index: number; delta: string; done: boolean; finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  attempt: number; reset: boolean; category: string | null; error: string | null;
  sampledAt?: number | null;
  /** on the done chunk: the position of the generation's terminal event (read-your-writes with consistentWith) */
  position?: string | null;
};

const MAX_BUFFERED = 2000; // live tokens held for a slow client before it is caught up from the log
const IDLE_RECHECK_MS = 1000;

type Durable = {
  attempt: number;
  tokens: { index: number; text: string }[]; // per token (or per chunk when offsets are absent) of the latest attempt
  end: GenerationChunk | null;
};

// The generation's one fold (domain/generation-view.ts): the latest attempt's tokens and its end.
// The category of a filtered answer comes from the output check or, for a refused input, from the
// request's input decision; a request older than v2 has it only on its conversation's stream, which
// is then read too.
async function readDurable(store: EventStore, id: string): Promise<Durable> {
  let view = await readGeneration(store, id);
  if (view.end?.type === 'completed' && view.end.finishReason === 'content_filter' && !filteredCategory(view) && !view.input) {
    view = await readGeneration(store, id, { input: true });
  }
  const tokens = view.chunks.flatMap(splitChunk);
  const end = view.end;
  if (!end) return { attempt: view.attempt, tokens, end: null };
  const position = view.endEvent?.position ?? null;
  if (end.type === 'completed') {
    const category = end.finishReason === 'content_filter' ? filteredCategory(view) : null;
    return { attempt: view.attempt, tokens, end: { ...endChunk(end.finishReason, end.usage, end.attempt, category, null), position } };
  }
  if (end.type === 'failed') return { attempt: view.attempt, tokens, end: { ...endChunk('error', null, end.attempt, null, end.reason), position } };
  return { attempt: view.attempt, tokens, end: { ...endChunk('cancelled', end.usage, view.attempt, null, null), position } };
}

function splitChunk(c: EventData<'TokensGenerated'>): { index: number; text: string }[] {
  const { firstIndex, tokenCount, text, textOffsets } = c;
  if (!textOffsets || textOffsets.length !== tokenCount) return [{ index: firstIndex + tokenCount - 1, text }];
  return textOffsets.map((start, i) => ({ index: firstIndex + i, text: text.slice(start, textOffsets[i + 1] ?? text.length) }));
}

function endChunk(finishReason: string, usage: GenerationChunk['usage'], attempt: number, category: string | null, error: string | null): GenerationChunk {
  return { index: -1, delta: '', done: true, finishReason, usage, attempt, reset: false, category, error };
}

// A live end (from the bus) of a refused input carries no category: the log has it.
async function blockedCategory(store: EventStore, id: string, chunk: GenerationChunk): Promise<GenerationChunk> {
  if (chunk.finishReason !== 'content_filter' || chunk.category) return chunk;
  return { ...chunk, category: filteredCategory(await readGeneration(store, id, { input: true })) };
}

// Right after sendMessage the saga may not have requested the generation yet: its MessageSubmitted
// (which names the generation id) is then after the saga's checkpoint. The saga appends
// GenerationRequested before its checkpoint passes the message, and the checkpoint is read before
// the generation's stream: so an id that is in neither place names no generation (NOT_FOUND at
// once, without waiting). Read without the log's xid fence: the client holds the id only after the
// message committed. (PostgreSQL event store; elsewhere every id is treated as possibly pending.)
export type PendingCheck = { checkpoint: () => Promise<Position>; submittedAfter: (checkpoint: Position) => Promise<boolean> };

export function pendingGenerations(knex: Knex, id: string): PendingCheck {
  return {
    checkpoint: () => readCheckpoint(knex, SAGA),
    submittedAfter: async (checkpoint) => {
      const { xid, seq } = parsePosition(checkpoint);
      const { rows } = await knex.raw(
        `select 1 from parley_events where type = 'MessageSubmitted' and (transaction_id, position) > (?::xid8, ?::bigint)
           and data->>'generationId' = ? limit 1`,
        [xid.toString(), seq.toString(), id],
      );
      return rows.length > 0;
    },
  };
}

const SAGA = 'inference-saga'; // inference/saga/generation-saga.ts's checkpoint
const PENDING_WAIT_MS = 30_000; // a submitted message the saga has yet to request (a backlog)

// Someone else's generation is reported as missing, as an unknown one is.
// A generation this process accepted a moment ago is authorized without the log (accepted-turns.ts).
export async function authorizeGeneration(store: EventStore, actor: Actor, id: string, signal?: AbortSignal, pending?: PendingCheck, accepted?: AcceptedTurns): Promise<void> {
  const known = accepted?.lookup(id);
  if (known && canActOn(actor, known)) return;
  const checkpoint = pending ? await pending.checkpoint() : null;
  const deadline = Date.now() + PENDING_WAIT_MS;
  for (let tries = 0; !signal?.aborted; tries++) {
    const first = (await store.readStream(`generation-${id}`, { limit: 1 }))[0];
    if (first?.type === 'GenerationRequested') {
      if (canActOn(actor, first.data)) return;
      break;
    }
    if (tries === 0 && pending && checkpoint !== null && !(await pending.submittedAfter(checkpoint))) break;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, tries < 40 ? 25 : 250));
  }
  throw apiError('NOT_FOUND', 'generation not found', { field: 'id' });
}

// Durable chunks after `afterIndex`, then the live tail: no gap, no duplicate at the seam.
export async function* streamGeneration(
  store: EventStore, bus: TokenBus, id: string, afterIndex: number, seenAttempt: number | null, signal?: AbortSignal,
): AsyncGenerator<GenerationChunk> {
  const queue: LiveToken[] = [];
  let overflow = false;
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(id, (t) => {
    if (queue.length >= MAX_BUFFERED) overflow = true;
    else queue.push(t);
    wake?.();
  });
  const sleep = (ms: number) => new Promise<void>((r) => {
    const timer = setTimeout(done, ms);
    function done() { clearTimeout(timer); wake = null; signal?.removeEventListener('abort', done); r(); }
    wake = done;
    signal?.addEventListener('abort', done, { once: true });
  });

  let attempt = seenAttempt ?? 0;
  let last = afterIndex;
  let pendingReset = false;
  try {
    let durable = await readDurable(store, id);
    // Without an attempt, afterIndex is taken to belong to the latest one (the usual case: no retry).
    if (seenAttempt === null) attempt = durable.attempt;
    for (;;) {
      // Catch up from the log.
      if (durable.attempt > attempt) {
        if (attempt > 0 || last >= 0) pendingReset = true;
        attempt = durable.attempt;
        last = seenAttempt !== null && seenAttempt === attempt ? last : -1;
      }
      const fresh = durable.tokens.filter((t) => t.index > last);
      if (fresh.length > 0) {
        const index = fresh[fresh.length - 1]!.index;
        const delta = fresh.map((t) => t.text).join('');
        // Lean: tokens whose text the output filter still holds are not sent (the index moves on;
        // a resume after the last index a client saw re-reads them from the log, as ''): a chunk
        // carries text, or the end.
        if (delta) {
          yield { index, delta, done: false, finishReason: null, usage: null, attempt, reset: pendingReset, category: null, error: null };
          pendingReset = false;
        }
        last = index;
      }
      if (durable.end) {
        yield { ...(await blockedCategory(store, id, durable.end)), index: last, attempt, reset: pendingReset };
        return;
      }

      // Follow the live tail until a gap, an overflow or idleness sends us back to the log.
      let backToLog = false;
      while (!backToLog && !signal?.aborted) {
        if (overflow) { overflow = false; queue.length = 0; backToLog = true; break; }
        const t = queue.shift();
        if (!t) {
          const before = queue.length;
          await sleep(IDLE_RECHECK_MS);
          if (queue.length === before && !overflow) backToLog = true; // idle: re-check the log (missed end, dropped message)
          continue;
        }
        if (t.attempt < attempt) continue;
        if (t.attempt > attempt) {
          // A new attempt starting at its first token can be followed live; anything later needs the log.
          if (t.index !== 0 || t.done) { backToLog = true; queue.unshift(t); await sleep(50); break; }
          if (attempt > 0 || last >= 0) pendingReset = true;
          attempt = t.attempt;
          last = -1;
        }
        if (t.done) {
          if (t.index > last) { backToLog = true; await sleep(50); break; } // the end overtook unflushed tokens
          // The worker's live end carries its terminal event's position; an end without one (an
          // older publisher, a refused input's end from the saga) is read back from the log.
          const live = { ...endChunk(t.done.finishReason, t.done.usage, attempt, t.done.category ?? null, t.done.error ?? null), position: t.done.position ?? null };
          const logged = t.done.position ? null : await readDurable(store, id);
          const end = logged?.end && logged.attempt === attempt ? { ...logged.end, attempt } : live;
          yield { ...(await blockedCategory(store, id, end)), index: last, reset: pendingReset };
          return;
        }
        if (t.index <= last) continue; // already sent from the log
        if (t.index > last + 1) { backToLog = true; await sleep(50); break; } // published before we subscribed: wait for its chunk
        last = t.index;
        if (!t.delta) continue; // lean: held text is not sent (see the catch-up above)
        yield { index: t.index, delta: t.delta, done: false, finishReason: null, usage: null, attempt, reset: pendingReset, category: null, error: null, sampledAt: t.sampledAt };
        pendingReset = false;
      }
      if (signal?.aborted) return;
      durable = await readDurable(store, id);
    }
  } finally {
    unsubscribe();
  }
}

export const generationStreamResolvers = {
  Subscription: {
    generationStream: {
      subscribe: async (_: unknown, args: { id: string; afterIndex?: number | null; attempt?: number | null }, ctx: GraphQLContext & { request?: Request }) => {
        const actor = requireActor(ctx);
        const afterIndex = args.afterIndex ?? -1;
        if (!Number.isInteger(afterIndex) || afterIndex < -1) throw apiError('BAD_USER_INPUT', 'afterIndex must be ≥ -1', { field: 'afterIndex' });
        if (!ctx.services.bus) throw apiError('INTERNAL', 'token streaming is not configured in this process');
        await authorizeGeneration(ctx.services.store, actor, args.id, ctx.request?.signal, pendingGenerations(ctx.services.knex, args.id), ctx.services.accepted);
        // The whole turn: the generation, then its tool rounds and continuations (turn-stream.ts).
        return streamTurn(ctx.services.store, ctx.services.bus, ctx.services.knex, args.id, afterIndex, args.attempt ?? null, ctx.request?.signal);
      },
      resolve: (chunk: GenerationChunk & { toolCall?: unknown; continuation?: string | null }) => ({ toolCall: null, continuation: null, ...chunk }),
    },
  },
};
