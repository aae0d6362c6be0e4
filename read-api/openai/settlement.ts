import { randomUUID } from 'node:crypto';
import { invalidRequest, OpenAiError } from './errors.ts';
import type { Call } from './intake.ts';

// The end of a chat completion: what the client is told and what the quota is charged. The
// reservation made at intake (prompt estimate + max_tokens) is settled at the generation's real
// usage; a failed generation is charged its prompt only; a client that goes away cancels its
// generation and is charged what was produced until then.

export type End = {
  finishReason: string; usage: { promptTokens: number; completionTokens: number } | null; error: string | null;
  /** the position of the generation's terminal event (read-your-writes: GraphQL's consistentWith) */
  position?: string | null;
};
export type Usage = { promptTokens: number; completionTokens: number };
export type Finished = { finish: 'stop' | 'length' | 'content_filter'; usage: Usage };

const producedSoFar = (call: Call) => Number(call.summary.completionTokens ?? 0);

function charge(call: Call, tokens: number): Promise<void> {
  return call.o.admission?.settle(call.admitted?.ticket ?? null, tokens) ?? Promise.resolve();
}

/** a generation that ended: the finish reason and usage to report, or the error the client gets */
export async function settle(call: Call, end: End): Promise<Finished | OpenAiError> {
  const finish = end.finishReason === 'stop' || end.finishReason === 'length' || end.finishReason === 'content_filter' ? end.finishReason : null;
  if (!finish) {
    await charge(call, call.promptTokens);
    return failureOf(call, end);
  }
  const usage = end.usage ?? { promptTokens: call.promptTokens, completionTokens: producedSoFar(call) };
  await charge(call, usage.promptTokens + usage.completionTokens);
  Object.assign(call.summary, { finishReason: finish, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens });
  return { finish, usage };
}

async function failureOf(call: Call, end: End): Promise<OpenAiError> {
  if (end.finishReason === 'cancelled') return new OpenAiError(500, 'the generation was cancelled', 'server_error', 'generation_cancelled');
  const failed = (await call.o.services.store.readStream(`generation-${call.generationId}`)).find((e) => e.type === 'GenerationFailed');
  const code = failed?.type === 'GenerationFailed' ? failed.data.code : null;
  if (code === 'CONTEXT_TOO_LONG') return invalidRequest(end.error ?? 'the conversation is too long for the model', 'messages', 'context_length_exceeded');
  return new OpenAiError(500, `the generation failed: ${end.error ?? 'unknown error'}`, 'server_error', code?.toLowerCase() ?? 'generation_failed');
}

/** the call stops before its generation ended (the client went away, or a retry diverged): the
 *  generation is cancelled, which frees the engine, and only the tokens produced are charged */
export async function abandon(call: Call, reason = 'client closed the connection', outcome = 'client_closed'): Promise<void> {
  call.summary.outcome = outcome;
  await call.o.services.commands.execute({
    type: 'CancelGeneration', data: { generationId: call.generationId, reason },
    metadata: { commandId: randomUUID(), actor: call.actor, correlationId: call.requestId },
  }).catch(() => null);
  await charge(call, call.promptTokens + producedSoFar(call));
}

/** keeps the call's stream slot while it runs (slots are leases, so a dead process leaks none); returns the stop */
export function renewWhileRunning(call: Call): () => void {
  const ticket = call.admitted?.ticket;
  if (!ticket || !call.o.admission) return () => {};
  const timer = setInterval(() => void call.o.admission!.renew([ticket]), 20_000);
  return () => clearInterval(timer);
}
