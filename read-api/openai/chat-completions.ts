import { once } from 'node:events';
import { randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CommandError } from '../../commands/command-result.ts';
import { Id, type Actor } from '../../schemas/common.ts';
import { authenticate } from '../auth.ts';
import type { Services } from '../context.ts';
import { streamGeneration } from '../graphql/generation-stream.ts';
import { answerUnreadBody, ClientGoneError, MAX_BODY_BYTES, readBody } from '../http/body.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { inSpan } from '../observability/tracing.ts';
import type { Admission, Admitted } from '../rate-limit/admission.ts';
import type { Ticket } from '../rate-limit/limiter.ts';
import { invalidRequest, notFound, OpenAiError, overloaded, rateLimited, sendOpenAiError, unauthorized } from './errors.ts';
import { PromptBudget, type PromptMessages } from './prompt-budget.ts';
import { parseRequest, toTurn, type ChatTurn } from './request.ts';

export type GatewayOptions = {
  services: Services;
  admission: Admission | null;
  /** the served model's prompt accounting: the character floor, the estimate, the exact count */
  prompts: PromptBudget;
  metrics: Metrics | null;
  logger: Logger;
  keepAliveMs: number;
  draining: () => boolean;
  inflight: InFlight;
};

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

type End = { finishReason: string; usage: { promptTokens: number; completionTokens: number } | null; error: string | null };

// Context of one accepted request.
type Call = {
  o: GatewayOptions;
  actor: Actor;
  turn: ChatTurn;
  model: string;
  requestId: string;
  conversationId: string;
  generationId: string;
  promptTokens: number;
  admitted: Admitted | null;
  started: number;
  log: Logger;
  summary: Record<string, unknown>;
};

// POST /v1/chat/completions: authenticate, validate, admit (shedding, quotas), append the turn
// through the same commands as GraphQL's sendMessage, then answer from the generation's stream.
export async function handleChatCompletion(o: GatewayOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = requestIdOf(req);
  const started = performance.now();
  const summary: Record<string, unknown> = { requestId, correlationId: requestId };
  const headers = { 'x-request-id': requestId };
  let stream = false;
  o.inflight.enter();
  o.metrics?.openaiActiveStreams.inc();
  try {
    await inSpan('parley.openai.chat_completion', { 'parley.request_id': requestId, 'parley.correlation_id': requestId }, async (span) => {
      if (o.draining()) throw overloaded('the server is shutting down; retry on another instance', 1);
      if (!o.services.bus) throw new OpenAiError(500, 'token streaming is not configured in this process', 'server_error');
      const auth = await authenticate(o.services.jwtSecret, req.headers.authorization);
      if (!auth.actor) throw unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>');
      const actor = auth.actor;
      Object.assign(summary, { userId: actor.userId, tenantId: actor.tenantId });
      const r = parseRequest(await readJson(req));
      stream = r.stream === true;
      if (r.model !== o.services.defaultModel) throw notFound(`The model '${r.model}' does not exist (served: ${o.services.defaultModel})`, 'model_not_found', 'model');
      const turn = toTurn(r);
      const header = req.headers['x-parley-conversation'];
      const continuing = typeof header === 'string' && header.trim() ? header.trim() : null;
      if (continuing && !Id.safeParse(continuing).success) throw invalidRequest('X-Parley-Conversation is not a valid conversation id', 'X-Parley-Conversation');

      // Admission before work: nothing is tokenized or appended before the quota admitted the
      // request, on a reservation estimated from characters; a prompt that cannot fit by its
      // characters alone is refused first (see prompt-budget.ts).
      const prompt = promptMessages(turn, continuing !== null);
      o.prompts.checkFloor(prompt, turn.params.maxTokens);
      const tier = o.admission?.tierOf(req.headers.authorization) ?? 'free';
      let admitted: Admitted | null = null;
      if (o.admission) {
        const a = await inSpan('parley.admission', { 'parley.tier': tier }, () => o.admission!.admit({ actor, tier, maxTokens: turn.params.maxTokens, promptTokens: o.prompts.estimate(prompt), stream: true }));
        if (!a.ok) {
          summary.refused = a.kind;
          throw a.kind === 'rate_limited' ? rateLimited(a.message, a.retryAfterS, a.limit!) : overloaded(a.message, a.retryAfterS);
        }
        admitted = a;
      }
      let promptTokens: number;
      try {
        promptTokens = o.prompts.exact(prompt, turn.params.maxTokens);
      } catch (error) {
        await o.admission?.settle(admitted?.ticket ?? null, 0);
        throw error;
      }
      const conversationId = continuing ?? o.services.newId();
      const messageId = o.services.newId();
      const generationId = o.services.newId();
      Object.assign(summary, { tier, conversationId, generationId, stream, brownout: admitted?.brownout ?? false, history: turn.history });
      span.setAttributes({ 'parley.generation_id': generationId, 'parley.conversation_id': conversationId, 'parley.tier': tier, 'parley.stream': stream, 'parley.brownout': admitted?.brownout ?? false, ...(r.user ? { 'enduser.id': r.user } : {}) });

      // Every request gets a seed (the client's or a fresh one, recorded with the message): a retried
      // attempt after a worker died then regenerates the same text, so a stream can go on seamlessly.
      const params = { ...turn.params, maxTokens: admitted?.maxTokens ?? turn.params.maxTokens, seed: turn.params.seed ?? randomInt(2 ** 31 - 1) };
      const submit = { type: 'SubmitMessage', data: { conversationId, messageId, generationId, content: turn.content, parentMessageId: null, params } };
      const start = { type: 'StartConversation', data: { conversationId, title: turn.content.trim().slice(0, 60) || 'New conversation', systemPrompt: turn.systemPrompt, model: r.model } };
      if (admitted) await o.admission!.recordHint(generationId, admitted);
      const result = await o.services.commands.executeAll((continuing ? [submit] : [start, submit]).map((c) => ({
        ...c, metadata: { commandId: o.services.newId(), actor, correlationId: requestId },
      })));
      if (!result.ok) {
        await o.admission?.settle(admitted?.ticket ?? null, 0);
        if (admitted) await o.admission!.forgetHint(generationId);
        throw fromCommandError(result.error);
      }
      const call: Call = { o, actor, turn, model: r.model, requestId, conversationId, generationId, promptTokens, admitted, started, log: o.logger, summary };
      const responseHeaders = { ...headers, 'x-parley-conversation': conversationId, 'x-parley-generation': generationId };
      if (stream) await respondStream(call, res, responseHeaders);
      else await respondJson(call, res, responseHeaders);
    });
    summary.status = res.statusCode;
  } catch (error) {
    if (error instanceof ClientGoneError) {
      summary.status = 499;
      summary.outcome = 'client_closed';
    } else if (error instanceof OpenAiError) {
      summary.status = error.status;
      summary.error = error.code ?? error.type;
      // The body was not read to its end: answered so that the client still receives it.
      if (error.status === 413) answerUnreadBody(req, res, 413, JSON.stringify(error.body()), { ...error.headers, ...headers });
      else sendOpenAiError(res, error, headers);
    } else {
      summary.status = 500;
      o.logger.error({ ...summary, err: error }, 'chat completion failed');
      sendOpenAiError(res, new OpenAiError(500, 'internal error', 'server_error'), headers);
    }
  } finally {
    o.inflight.leave();
    o.metrics?.openaiActiveStreams.dec();
    const status = Number(summary.status ?? 500);
    const outcome = summary.outcome as string | undefined ?? (status < 400 ? 'ok' : status === 429 ? 'rate_limited' : status === 503 ? 'overloaded' : status < 500 ? 'client_error' : 'error');
    o.metrics?.openaiRequests.inc({ stream: String(stream), outcome });
    o.logger.info({ ...summary, outcome, ms: Math.round(performance.now() - started) }, 'chat completion');
  }
}

// The text the gateway counts: a continued conversation's stored history is the saga's to fit.
function promptMessages(turn: ChatTurn, continuing: boolean): PromptMessages {
  return [...(!continuing && turn.systemPrompt ? [{ role: 'system' as const, content: turn.systemPrompt }] : []), { role: 'user' as const, content: turn.content }];
}

function fromCommandError(e: CommandError): OpenAiError {
  switch (e.code) {
    case 'NOT_FOUND':
      return notFound('conversation not found (X-Parley-Conversation names no conversation of yours)', 'conversation_not_found', 'X-Parley-Conversation');
    case 'FORBIDDEN':
      return new OpenAiError(403, e.message, 'permission_error', 'forbidden');
    case 'VALIDATION':
    case 'INVALID_FIELD':
    case 'TOO_MANY_MESSAGES':
      return invalidRequest(e.message, e.field ?? null, e.code.toLowerCase());
    default:
      return new OpenAiError(409, e.message, 'invalid_request_error', e.code.toLowerCase());
  }
}

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

async function* follow(call: Call, signal: AbortSignal): AsyncGenerator<{ delta: string } | { end: End } | { diverged: true }> {
  const text = new StreamedText();
  for await (const c of streamGeneration(call.o.services.store, call.o.services.bus!, call.generationId, -1, null, signal)) {
    if (c.done) {
      yield { end: { finishReason: c.finishReason ?? 'stop', usage: c.usage, error: c.error } };
      return;
    }
    call.summary.completionTokens = c.index + 1;
    const step = text.push(c.delta, c.reset);
    if ('diverged' in step) { yield step; return; }
    if (step.delta) yield step;
  }
}

function finishReasonOf(reason: string): 'stop' | 'length' | 'content_filter' | null {
  return reason === 'stop' || reason === 'length' || reason === 'content_filter' ? reason : null;
}

async function failureOf(call: Call, end: End): Promise<OpenAiError> {
  if (end.finishReason === 'cancelled') return new OpenAiError(500, 'the generation was cancelled', 'server_error', 'generation_cancelled');
  const failed = (await call.o.services.store.readStream(`generation-${call.generationId}`)).find((e) => e.type === 'GenerationFailed');
  const code = failed?.type === 'GenerationFailed' ? failed.data.code : null;
  if (code === 'CONTEXT_TOO_LONG') return invalidRequest(end.error ?? 'the conversation is too long for the model', 'messages', 'context_length_exceeded');
  return new OpenAiError(500, `the generation failed: ${end.error ?? 'unknown error'}`, 'server_error', code?.toLowerCase() ?? 'generation_failed');
}

// The client went away before the end: the generation is cancelled (frees the engine) and only the
// tokens produced so far are charged.
async function abandon(call: Call): Promise<void> {
  call.summary.outcome = 'client_closed';
  const r = await call.o.services.commands.execute({
    type: 'CancelGeneration', data: { generationId: call.generationId, reason: 'client closed the connection' },
    metadata: { commandId: randomUUID(), actor: call.actor, correlationId: call.requestId },
  }).catch(() => null);
  void r;
  await call.o.admission?.settle(call.admitted?.ticket ?? null, call.promptTokens + Number(call.summary.completionTokens ?? 0));
}

function renewWhileRunning(call: Call): () => void {
  const ticket: Ticket | null | undefined = call.admitted?.ticket;
  if (!ticket || !call.o.admission) return () => {};
  const timer = setInterval(() => void call.o.admission!.renew([ticket]), 20_000);
  return () => clearInterval(timer);
}

async function respondJson(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const controller = new AbortController();
  const onClose = () => { if (!res.writableFinished) controller.abort(); };
  res.once('close', onClose);
  const stopRenew = renewWhileRunning(call);
  try {
    let text = '';
    let end: End | null = null;
    // Non-streaming: only the final attempt's text counts, whatever happened on the way.
    for await (const c of streamGeneration(call.o.services.store, call.o.services.bus!, call.generationId, -1, null, controller.signal)) {
      if (c.done) { end = { finishReason: c.finishReason ?? 'stop', usage: c.usage, error: c.error }; break; }
      text = c.reset ? c.delta : text + c.delta;
      call.summary.completionTokens = c.index + 1;
    }
    if (!end) { await abandon(call); return; }
    call.o.metrics?.gatewayTtft.observe({ stream: 'false' }, (performance.now() - call.started) / 1000);
    const finish = finishReasonOf(end.finishReason);
    if (!finish) {
      await call.o.admission?.settle(call.admitted?.ticket ?? null, call.promptTokens);
      throw await failureOf(call, end);
    }
    const usage = end.usage ?? { promptTokens: call.promptTokens, completionTokens: Number(call.summary.completionTokens ?? 0) };
    await call.o.admission?.settle(call.admitted?.ticket ?? null, usage.promptTokens + usage.completionTokens);
    Object.assign(call.summary, { finishReason: finish, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens });
    const body = JSON.stringify({
      id: `chatcmpl-${call.generationId}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: call.model,
      system_fingerprint: null,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish }],
      usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
    });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  } finally {
    stopRenew();
    res.off('close', onClose);
  }
}

async function respondStream(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const controller = new AbortController();
  const onClose = () => { if (!res.writableFinished) controller.abort(); };
  res.once('close', onClose);
  const id = `chatcmpl-${call.generationId}`;
  const created = Math.floor(Date.now() / 1000);
  const usageField = call.turn.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id, object: 'chat.completion.chunk', created, model: call.model, system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...usageField,
  });

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no', ...headers,
  });
  let lastWrite = Date.now();
  const write = async (s: string) => {
    if (controller.signal.aborted || res.destroyed) return;
    lastWrite = Date.now();
    if (!res.write(s)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  const frame = (o: unknown) => write(`data: ${JSON.stringify(o)}\n\n`);
  // SSE comments keep proxies and clients from timing out while the request waits or the model thinks.
  const keepAlive = setInterval(() => {
    if (Date.now() - lastWrite >= call.o.keepAliveMs && !res.destroyed) { lastWrite = Date.now(); res.write(': keep-alive\n\n'); }
  }, Math.max(50, Math.floor(call.o.keepAliveMs / 2)));
  const stopRenew = renewWhileRunning(call);
  try {
    await frame(chunk({ role: 'assistant', content: '' }, null));
    let first = true;
    for await (const step of follow(call, controller.signal)) {
      if ('delta' in step) {
        if (first) { first = false; call.o.metrics?.gatewayTtft.observe({ stream: 'true' }, (performance.now() - call.started) / 1000); }
        await frame(chunk({ content: step.delta }, null));
      } else if ('diverged' in step) {
        call.summary.outcome = 'restart_diverged';
        await frame(new OpenAiError(500, 'the worker serving this completion failed and its retry produced different text; the partial answer above is void — retry the request', 'server_error', 'generation_restarted').body());
        await call.o.services.commands.execute({
          type: 'CancelGeneration', data: { generationId: call.generationId, reason: 'retried attempt diverged from the streamed text' },
          metadata: { commandId: randomUUID(), actor: call.actor, correlationId: call.requestId },
        }).catch(() => null);
        await call.o.admission?.settle(call.admitted?.ticket ?? null, call.promptTokens + Number(call.summary.completionTokens ?? 0));
        res.end();
        return;
      } else {
        const end = step.end;
        const finish = finishReasonOf(end.finishReason);
        if (!finish) {
          await call.o.admission?.settle(call.admitted?.ticket ?? null, call.promptTokens);
          call.summary.outcome = 'generation_failed';
          await frame((await failureOf(call, end)).body());
          res.end();
          return;
        }
        const usage = end.usage ?? { promptTokens: call.promptTokens, completionTokens: Number(call.summary.completionTokens ?? 0) };
        await call.o.admission?.settle(call.admitted?.ticket ?? null, usage.promptTokens + usage.completionTokens);
        Object.assign(call.summary, { finishReason: finish, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens });
        await frame(chunk({}, finish));
        if (call.turn.includeUsage) {
          await frame({
            id, object: 'chat.completion.chunk', created, model: call.model, system_fingerprint: null, choices: [],
            usage: { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.promptTokens + usage.completionTokens },
          });
        }
        await write('data: [DONE]\n\n');
        res.end();
        return;
      }
    }
    // The loop ended without an end: the client went away.
    await abandon(call);
  } finally {
    clearInterval(keepAlive);
    stopRenew();
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9_.:-]{8,128}$/.test(given) ? given : randomUUID();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type && !/^application\/json\b/i.test(type)) throw invalidRequest('the body must be JSON (content-type: application/json)', null, 'invalid_content_type');
  const read = await readBody(req, MAX_BODY_BYTES);
  if (!read.ok) throw new OpenAiError(413, `the request body is larger than ${read.limit} bytes`, 'invalid_request_error', 'request_too_large');
  try {
    return JSON.parse(read.body.toString('utf8'));
  } catch {
    throw invalidRequest('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)', null, 'invalid_json');
  }
}
