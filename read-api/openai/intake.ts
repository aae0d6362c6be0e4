import { randomInt } from 'node:crypto';
import { chooseModel } from '../models.ts';
import type { IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import type { CommandError } from '../../commands/command-result.ts';
import { Id, type Actor } from '../../schemas/common.ts';
import { authenticate } from '../auth.ts';
import type { Services } from '../context.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { inSpan } from '../observability/tracing.ts';
import type { Admission, Admitted } from '../rate-limit/admission.ts';
import { newTurn, submitTurn, turnSampling } from '../submit-turn.ts';
import { checkRetrieval } from '../knowledge/retrieval-input.ts';
import { parseSafetySettings } from '../safety-settings.ts';
import { readJsonBody } from './json-body.ts';
import { invalidRequest, notFound, OpenAiError, overloaded, refusal, unauthorized } from './errors.ts';
import type { PromptBudgets, PromptMessages } from './prompt-budget.ts';
import { parseRequest, toTurn, type ChatTurn } from './request.ts';
import { recordClientToolResults } from './client-tool-results.ts';
import { withToolsPrompt } from '../../schemas/tool-call-format.ts';

// The intake of POST /v1/chat/completions, in the order of what each step costs: authenticate, read
// the body (under its size limit), validate, refuse a prompt too long by its characters alone, admit
// (shedding, quotas) on an estimate, tokenize exactly, then append the turn through the intake
// GraphQL's sendMessage uses (submitTurn). Nothing is tokenized before admission, nothing appended
// before the exact count fits; a reservation is refunded if a later step refuses the request.

export type GatewayOptions = {
  services: Services;
  admission: Admission | null;
  /** each served model's prompt accounting: the character floor, the estimate, the exact count */
  prompts: PromptBudgets;
  metrics: Metrics | null;
  logger: Logger;
  keepAliveMs: number;
  draining: () => boolean;
  inflight: { enter(): void; leave(): void; readonly size: number };
};

// One accepted request, from intake to settlement.
export type Call = {
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
  stream: boolean;
  summary: Record<string, unknown>;
  /** the endpoint's parsed request (AskedTurn.request) */
  request: unknown;
  /** whether the turn may retrieve (parley_retrieval names collections, or a continued conversation
   *  may keep an earlier setting); false: it certainly does not, so its answer cites nothing */
  mayRetrieve: boolean;
};

// What an endpoint asks for, from its own request body (chat completions' messages, the Responses
// API's input): the turn, the model, and the stored conversation it continues (null: a new one).
export type AskedTurn = {
  turn: ChatTurn; model: string; continuing: string | null; parentMessageId?: string | null; user?: string;
  /** the request's safety settings as sent (a Parley extension; checked against the floors here) */
  safetySettings?: unknown;
  /** retrieval in the turn as sent (a Parley extension, `parley_retrieval`; checked here) */
  retrieval?: unknown;
  /** the endpoint's own parsed request, for its answer (the Responses API repeats it) */
  request?: unknown;
  /** the request's field that holds the prompt, named by a context_length_exceeded (default messages) */
  promptParam?: string;
};
export type ParseTurn = (body: unknown, actor: Actor, req: IncomingMessage) => AskedTurn | Promise<AskedTurn>;

/** chat completions: the body's messages; X-Parley-Conversation continues a stored conversation */
export const chatCompletionTurn: ParseTurn = (body, _actor, req) => {
  const r = parseRequest(body);
  const header = req.headers['x-parley-conversation'];
  const continuing = typeof header === 'string' && header.trim() ? header.trim() : null;
  if (continuing && !Id.safeParse(continuing).success) throw invalidRequest('X-Parley-Conversation is not a valid conversation id', 'X-Parley-Conversation');
  return { turn: toTurn(r), model: r.model, continuing, user: r.user, safetySettings: r.safety_settings, retrieval: r.parley_retrieval };
};

export async function intake(o: GatewayOptions, req: IncomingMessage, call: { requestId: string; started: number; summary: Record<string, unknown>; span: Span }, parse: ParseTurn = chatCompletionTurn): Promise<Call> {
  const { requestId, summary, span } = call;
  if (o.draining()) throw overloaded('the server is shutting down; retry on another instance', 1);
  if (!o.services.bus) throw new OpenAiError(500, 'token streaming is not configured in this process', 'server_error');
  const auth = await authenticate(o.services.jwtSecret, req.headers.authorization);
  if (!auth.actor) throw unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>');
  const actor = auth.actor;
  Object.assign(summary, { userId: actor.userId, tenantId: actor.tenantId });
  const asked = await parse(await readJsonBody(req), actor, req);
  const { turn, model, continuing } = asked;
  const stream = turn.stream;
  summary.stream = stream;
  const chosen = chooseModel(o.services, actor, model, o.admission?.tierOf(req.headers.authorization) ?? null);
  if (!chosen.ok) throw notFound(chosen.message, 'model_not_found', 'model');
  const safetySettings = requestedSafetySettings(o, actor.tenantId, asked.safetySettings, continuing !== null);
  const retrieval = checkRetrieval(asked.retrieval, 'parley_retrieval');
  if (!retrieval.ok) throw invalidRequest(retrieval.problem.message, retrieval.problem.field);

  // A prompt that cannot fit by its characters alone is refused before anything else (prompt-budget.ts),
  // measured for the model asked for (its context window and tokenizer), not the default one.
  const prompt = promptMessages(turn, continuing !== null);
  const budget = o.prompts.for(chosen.model);
  budget.checkFloor(prompt, turn.params.maxTokens, asked.promptParam);
  const tier = o.admission?.tierOf(req.headers.authorization) ?? 'free';
  let admitted: Admitted | null = null;
  if (o.admission) {
    const a = await inSpan('parley.admission', { 'parley.tier': tier }, () => o.admission!.admit({ actor, tier, maxTokens: turn.params.maxTokens, promptTokens: budget.estimate(prompt), stream: true }));
    if (!a.ok) {
      summary.refused = a.kind;
      throw refusal(a);
    }
    admitted = a;
  }
  const refund = async () => {
    await o.admission?.settle(admitted?.ticket ?? null, 0);
  };
  let promptTokens: number;
  try {
    promptTokens = budget.exact(prompt, turn.params.maxTokens, asked.promptParam);
  } catch (error) {
    await refund();
    throw error;
  }

  const ids = newTurn(o.services, continuing);
  const { conversationId, generationId } = ids;
  Object.assign(summary, { tier, conversationId, generationId, brownout: admitted?.brownout ?? false, history: turn.history });
  span.setAttributes({ 'parley.generation_id': generationId, 'parley.conversation_id': conversationId, 'parley.tier': tier, 'parley.stream': stream, 'parley.brownout': admitted?.brownout ?? false, ...(asked.user ? { 'enduser.id': asked.user } : {}) });
  // Every request gets a seed (the client's or a fresh one, recorded with the message): a retried
  // attempt after a worker died then regenerates the same text, so a stream can go on seamlessly.
  const params = turnSampling(o.services, model, { ...turn.params, maxTokens: admitted?.maxTokens ?? turn.params.maxTokens, seed: turn.params.seed ?? randomInt(2 ** 31 - 1) }) as ChatTurn['params'] & { temperature: number; topP: number };
  if (admitted) await o.admission!.recordHint(generationId, admitted);
  // The client's tool results first: in the log a call's result precedes the turn that reads it.
  if (turn.toolResults?.length) {
    await recordClientToolResults({ ...o.services, logger: o.logger, count: (outcome) => o.metrics?.openaiToolResults.inc({ outcome }) }, actor, requestId, turn.toolResults);
  }
  const result = await submitTurn(o.services, ids, {
    actor, correlationId: requestId, content: turn.content, params, systemPrompt: turn.systemPrompt, toolsPrompt: turn.toolsPrompt ?? null, model, messageModel: model, parentMessageId: asked.parentMessageId ?? null, safetySettings,
    ...(retrieval.setting ? { retrieval: retrieval.setting } : {}),
  });
  if (!result.ok) {
    await refund();
    if (admitted) await o.admission!.forgetHint(generationId);
    throw fromCommandError(result.error);
  }
  const mayRetrieve = retrieval.setting ? retrieval.setting.collections.length > 0 : continuing !== null;
  return { o, actor, turn: { ...turn, params }, model, requestId, conversationId, generationId, promptTokens, admitted, started: call.started, stream, summary, request: asked.request, mayRetrieve };
}

// safety_settings: checked against the floors (400 naming the category); a continued conversation
// keeps the settings it started with, so settings there are refused rather than silently ignored.
function requestedSafetySettings(o: GatewayOptions, tenantId: string, input: unknown, continuing: boolean) {
  if (input === undefined || input === null) return {};
  if (continuing) throw invalidRequest('safety_settings apply to a new conversation; a continued one (X-Parley-Conversation) keeps its own', 'safety_settings');
  const r = parseSafetySettings(input, tenantId, o.services.tenantPolicies, 'safety_settings');
  if (!r.ok) throw invalidRequest(r.problem.message, r.problem.field, r.problem.reason === 'BELOW_SAFETY_FLOOR' ? 'safety_floor' : null);
  return r.settings;
}

// The text the gateway counts: a continued conversation's stored history is the saga's to fit.
// The tools section is this turn's either way (the saga appends it to the system prompt).
function promptMessages(turn: ChatTurn, continuing: boolean): PromptMessages {
  const system = withToolsPrompt(continuing ? null : turn.systemPrompt, turn.toolsPrompt ?? null);
  return [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: turn.content }];
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
