import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientGoneError } from '../http/body.ts';
import { inSpan } from '../observability/tracing.ts';
import { OpenAiError, sendOpenAiError } from './errors.ts';
import { chatCompletionTurn, intake, type Call, type GatewayOptions, type ParseTurn } from './intake.ts';
import { abandon, renewWhileRunning, settle, type Finished } from './settlement.ts';
import { wholeAnswer } from './answer-text.ts';
import { respondStream } from './sse-writer.ts';
import { answerMessage } from './tool-call-stream.ts';
import { recordClientToolCalls } from './client-tool-calls.ts';
import { answerOpenAiError, sendJsonBody } from './json-body.ts';
import { chatCitations } from './citations.ts';

// POST /v1/chat/completions, in three parts: the intake (intake.ts: authenticate, validate, admit,
// append the turn through the intake GraphQL's sendMessage uses), the answer (sse-writer.ts for
// streams, respondJson below otherwise) and the settlement of the quota (settlement.ts). This file
// ties them together: one span, one summary log line and one metrics outcome per request, and
// errors in OpenAI's shape.

export type { GatewayOptions } from './intake.ts';
export { StreamedText } from './answer-text.ts';

/** Requests in flight, so a graceful shutdown can wait for them. */
export class InFlight {
  private n = 0;
  private waiters: (() => void)[] = [];
  get size() { return this.n; }
  enter() { this.n++; }
  leave() {
    this.n--;
    if (this.n === 0) for (const w of this.waiters.splice(0)) w();
  }
  /** resolves true when idle, false at the deadline */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.n === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => { clearTimeout(timer); resolve(true); });
    });
  }
}

// One OpenAI endpoint that takes a turn: how it reads its body, and how it answers.
export type TurnEndpoint = {
  /** the span's and the summary log line's name */
  name: string;
  parse: ParseTurn;
  respond: (call: Call, res: ServerResponse, headers: Record<string, string>) => Promise<void>;
};

const chatCompletions: TurnEndpoint = {
  name: 'chat completion',
  parse: chatCompletionTurn,
  respond: (call, res, headers) => (call.stream ? respondStream(call, res, headers) : respondJson(call, res, headers)),
};

export function handleChatCompletion(o: GatewayOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return handleTurnCall(o, req, res, chatCompletions);
}

/** intake → answer → settlement for any turn-taking endpoint, with its span, log line, metrics and errors */
export async function handleTurnCall(o: GatewayOptions, req: IncomingMessage, res: ServerResponse, endpoint: TurnEndpoint): Promise<void> {
  const requestId = requestIdOf(req);
  const started = performance.now();
  const summary: Record<string, unknown> = { requestId, correlationId: requestId };
  const headers = { 'x-request-id': requestId };
  o.inflight.enter();
  o.metrics?.openaiActiveStreams.inc();
  try {
    await inSpan(`parley.openai.${endpoint.name.replace(/ /g, '_')}`, { 'parley.request_id': requestId, 'parley.correlation_id': requestId }, async (span) => {
      const call = await intake(o, req, { requestId, started, summary, span }, endpoint.parse);
      const responseHeaders = { ...headers, 'x-parley-conversation': call.conversationId, 'x-parley-generation': call.generationId };
      await endpoint.respond(call, res, responseHeaders);
    });
    summary.status = res.statusCode;
  } catch (error) {
    if (error instanceof ClientGoneError) {
      summary.status = 499;
      summary.outcome = 'client_closed';
    } else if (error instanceof OpenAiError) {
      summary.status = error.status;
      summary.error = error.code ?? error.type;
      answerOpenAiError(req, res, error, headers);
    } else {
      summary.status = 500;
      o.logger.error({ ...summary, err: error }, `${endpoint.name} failed`);
      sendOpenAiError(res, new OpenAiError(500, 'internal error', 'server_error'), headers);
    }
  } finally {
    o.inflight.leave();
    o.metrics?.openaiActiveStreams.dec();
    const status = Number(summary.status ?? 500);
    const outcome = summary.outcome as string | undefined ?? (status < 400 ? 'ok' : status === 429 ? 'rate_limited' : status === 503 ? 'overloaded' : status < 500 ? 'client_error' : 'error');
    o.metrics?.openaiRequests.inc({ stream: String(summary.stream === true), outcome });
    o.logger.info({ ...summary, outcome, ms: Math.round(performance.now() - started) }, endpoint.name);
  }
}

/** Not streamed: the answer's whole text (answer-text.ts: only the final attempt counts, a
 *  server-side tool round's calls are not shown), settled; null when the client went away first
 *  (the generation is then abandoned). */
export async function finalAnswer(call: Call, res: ServerResponse): Promise<(Finished & { text: string; position: string | null }) | null> {
  const controller = new AbortController();
  const onClose = () => { if (!res.writableFinished) controller.abort(); };
  res.once('close', onClose);
  const stopRenew = renewWhileRunning(call);
  try {
    const answer = await wholeAnswer(call, controller.signal);
    if (!answer) { await abandon(call); return null; }
    call.o.metrics?.gatewayTtft.observe({ stream: 'false' }, (performance.now() - call.started) / 1000);
    const settled = await settle(call, answer.end);
    if (settled instanceof OpenAiError) throw settled;
    return { ...settled, text: answer.text, position: answer.end.position ?? null };
  } finally {
    stopRenew();
    res.off('close', onClose);
  }
}

async function respondJson(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const answer = await finalAnswer(call, res);
  if (!answer) return;
  const { usage, text } = answer;
  const { message, cut } = answerMessage(call.turn.tools, call.generationId, text);
  await recordClientToolCalls(call, message.tool_calls ?? []);
  // a call cut off keeps the generation's reason (length, or stop for a stop string): it is no call to run
  const finish = message.tool_calls && answer.finish === 'stop' && !cut ? 'tool_calls' : answer.finish;
  // With retrieval in the turn: the sources its [n] markers cite (citations.ts); otherwise no field.
  const citations = await chatCitations(call, message.content ?? '');
  sendJsonBody(res, 200, {
    id: `chatcmpl-${call.generationId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: call.model,
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', ...message, refusal: null, ...(citations ? { parley_citations: citations } : {}) }, logprobs: null, finish_reason: finish }],
    usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
  }, positionHeader(headers, answer.position));
}

/** X-Parley-Position: where the generation ended in the event log (pass it as GraphQL's consistentWith) */
export function positionHeader(headers: Record<string, string>, position: string | null): Record<string, string> {
  return position ? { ...headers, 'x-parley-position': position } : headers;
}

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9_.:-]{8,128}$/.test(given) ? given : randomUUID();
}
