import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { readGeneration } from '../../commands/read-generation.ts';
import type { Actor } from '../../schemas/common.ts';
import type { EventOf } from '../../schemas/events.ts';
import { hasToolCallMarkup, parseToolCalls } from '../../schemas/tool-call-format.ts';
import { authenticate } from '../auth.ts';
import { authorizeGeneration, pendingGenerations } from '../graphql/generation-stream.ts';
import { finalAnswer, handleTurnCall, positionHeader, type TurnEndpoint } from './chat-completions.ts';
import { sendJsonBody } from './json-body.ts';
import { invalidRequest, notFound, OpenAiError, sendOpenAiError, unauthorized } from './errors.ts';
import type { Call, GatewayOptions, ParseTurn } from './intake.ts';
import { messageItem, messageItemId, outputTextPart, responseObject, statusOfFinish, type ResponseState } from './response-object.ts';
import { functionCallItem } from './response-tools.ts';
import { answerMessage, ToolCallStream, type Delta, type ToolCall } from './tool-call-stream.ts';
import { recordClientToolCalls } from './client-tool-calls.ts';
import { answerCitations, type FileCitation } from './citations.ts';
import { generationOfResponse, parseResponsesRequest, type ResponsesRequest } from './responses-request.ts';
import { abandon, settle } from './settlement.ts';
import { openSse, restartDiverged } from './sse-writer.ts';
import { follow } from './answer-text.ts';

// OpenAI's Responses API over Parley's turns: POST /v1/responses (a response is a turn; the
// intake, admission, settlement and streaming are the chat completion's), GET /v1/responses/{id}
// (read back from the generation's events), POST /v1/responses/{id}/cancel (CancelGeneration).
// `previous_response_id` continues that response's conversation from that response. Every id is
// the caller's tenant's: a foreign or unknown one is a 404.

const parseResponse = (o: GatewayOptions): ParseTurn => async (body, actor) => {
  const { request, turn, previousGenerationId } = parseResponsesRequest(body);
  const asked = { turn, model: request.model, user: request.user, retrieval: request.parley_retrieval, request, promptParam: 'input' };
  if (!previousGenerationId) return { ...asked, continuing: null };
  const previous = await followUp(o, actor, previousGenerationId);
  return { ...asked, continuing: previous.conversationId, parentMessageId: previous.parentMessageId };
};

function responsesEndpoint(o: GatewayOptions): TurnEndpoint {
  return {
    name: 'response',
    parse: parseResponse(o),
    respond: (call, res, headers) => (call.stream ? streamResponse(call, res, headers) : respondResponse(call, res, headers)),
  };
}

/** The response's request, as the response object repeats it. */
function requestOf(call: Call): ResponsesRequest {
  return call.request as ResponsesRequest;
}

function initialState(call: Call): ResponseState {
  const r = requestOf(call);
  return {
    generationId: call.generationId, createdAt: Math.floor(Date.now() / 1000), model: call.model, status: 'in_progress', text: null,
    usage: null, error: null, incompleteReason: null, instructions: r.instructions ?? null, maxOutputTokens: call.turn.params.maxTokens,
    temperature: call.turn.params.temperature ?? null, topP: call.turn.params.topP ?? null, previousResponseId: r.previous_response_id ?? null, user: r.user ?? null,
    tools: r.tools ?? [], toolChoice: r.tool_choice ?? 'auto', parallelToolCalls: r.parallel_tool_calls ?? true,
  };
}

async function respondResponse(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const answer = await finalAnswer(call, res);
  if (!answer) return;
  const state: ResponseState = { ...initialState(call), ...statusOfFinish(answer.finish), text: answer.text, usage: answer.usage };
  // the [n] markers of each text part as file_citation annotations (citations.ts)
  const { annotations } = answerCitations(call.o.services, call.generationId);
  state.annotations = await annotations(answer.text);
  const plan = call.turn.tools;
  if (plan && plan.mode !== 'none') {
    const { message } = answerMessage(plan, call.generationId, answer.text);
    if (message.tool_calls) {
      await recordClientToolCalls(call, message.tool_calls);
      state.text = message.content ?? '';
      state.items = [...(message.content ? [messageItem(state, [outputTextPart(message.content, await annotations(message.content))])] : []), ...message.tool_calls.map((c) => functionCallItem(c, 'completed'))];
    } else {
      // no call: the text as shown (a call cut off before its name is markup, not text)
      state.text = message.content ?? '';
      state.annotations = await annotations(state.text);
    }
  }
  sendJsonBody(res, 200, responseObject(state), positionHeader(headers, answer.position));
}

// The semantic events, each with its sequence_number, as OpenAI sends them: created, in_progress,
// the message item and its text part opened, the text deltas, the part and item closed, then
// completed (or incomplete, at max_output_tokens or the content filter) — or failed. With function
// tools the text goes through the chat's ToolCallStream: each call is a function_call item (added,
// its arguments in deltas, done), and the message item opens only when there is text.
async function streamResponse(call: Call, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const state = initialState(call);
  const sse = openSse(call, res, headers);
  let sequence = 0;
  const emit = (type: string, fields: Record<string, unknown>) => sse.frame({ type, sequence_number: sequence++, ...fields }, type);
  const plan = call.turn.tools && call.turn.tools.mode !== 'none' ? call.turn.tools : null;
  const tools = plan ? new ToolCallStream(plan, call.generationId) : null;
  const out = new OutputItems(emit, state, answerCitations(call.o.services, call.generationId).annotations);
  const fail = async (error: OpenAiError) => {
    state.status = 'failed';
    state.error = { code: error.code ?? 'server_error', message: error.message };
    await emit('response.failed', { response: responseObject(state) });
  };
  const write = async (deltas: Delta[]) => {
    for (const d of deltas) {
      if ('content' in d) { await out.text(d.content); continue; }
      for (const c of d.tool_calls as { index: number; id?: string; function: { arguments: string } }[]) {
        if (c.id) await out.call(tools!.calls[c.index]!);
        else await out.args(c.function.arguments);
      }
    }
  };
  try {
    await emit('response.created', { response: responseObject(state) });
    await emit('response.in_progress', { response: responseObject(state) });
    state.text = '';
    if (!tools) await out.openMessage();
    let first = true;
    for await (const step of follow(call, sse.signal)) {
      if ('delta' in step) {
        if (first) { first = false; call.o.metrics?.gatewayTtft.observe({ stream: 'true' }, (performance.now() - call.started) / 1000); }
        await write(tools ? tools.push(step.delta) : [{ content: step.delta }]);
        continue;
      }
      if ('diverged' in step) {
        await fail(restartDiverged());
        await abandon(call, 'retried attempt diverged from the streamed text', 'restart_diverged');
        return;
      }
      const settled = await settle(call, step.end);
      if (settled instanceof OpenAiError) {
        call.summary.outcome = 'generation_failed';
        await fail(settled);
        return;
      }
      Object.assign(state, statusOfFinish(settled.finish), { usage: settled.usage });
      if (tools) {
        await write(tools.end());
        await recordClientToolCalls(call, tools.calls);
        if (out.items.length === 0) await out.openMessage();
      }
      await out.close();
      if (tools) state.items = out.items;
      await emit(state.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: responseObject(state), ...(step.end.position ? { x_parley_position: step.end.position } : {}) });
      return;
    }
    await abandon(call); // the client went away
  } finally {
    sse.close();
  }
}

// The output items of a streamed response, opened and closed in order: one open at a time (a
// message takes text deltas, a function call argument deltas); `items` holds each closed item. A
// message's citations are known once its text is: each is a response.output_text.annotation.added
// before the text's done events, and the closed part carries them.
class OutputItems {
  readonly items: unknown[] = [];
  private open: { kind: 'message'; index: number; id: string; text: string } | { kind: 'call'; index: number; call: ToolCall } | null = null;
  private messages = 0;
  constructor(
    private readonly emit: (type: string, fields: Record<string, unknown>) => Promise<void>,
    private readonly state: ResponseState,
    private readonly annotate: (text: string) => Promise<FileCitation[]>,
  ) {}

  async openMessage(): Promise<void> {
    await this.close('completed');
    const index = this.items.push(null) - 1;
    // the first message item is msg_<generation id>, as without tools; text after a call opens another
    const id = this.messages++ === 0 ? messageItemId(this.state.generationId) : `${messageItemId(this.state.generationId)}_${index}`;
    this.open = { kind: 'message', index, id, text: '' };
    await this.emit('response.output_item.added', { output_index: index, item: { ...messageItem({ ...this.state, status: 'in_progress' }, []), id } });
    await this.emit('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: outputTextPart('') });
  }

  async text(delta: string): Promise<void> {
    if (!delta) return;
    if (this.open?.kind !== 'message') await this.openMessage();
    const open = this.open as { kind: 'message'; index: number; id: string; text: string };
    open.text += delta;
    this.state.text = (this.state.text ?? '') + delta;
    await this.emit('response.output_text.delta', { item_id: open.id, output_index: open.index, content_index: 0, delta, logprobs: [] });
  }

  async call(c: ToolCall): Promise<void> {
    await this.close('completed');
    const index = this.items.push(null) - 1;
    this.open = { kind: 'call', index, call: c };
    await this.emit('response.output_item.added', { output_index: index, item: functionCallItem({ ...c, function: { ...c.function, arguments: '' } }, 'in_progress') });
  }

  async args(delta: string): Promise<void> {
    if (this.open?.kind !== 'call' || !delta) return;
    await this.emit('response.function_call_arguments.delta', { item_id: functionCallItem(this.open.call, 'completed').id, output_index: this.open.index, delta });
  }

  /** closes the open item: `completed` when another follows, the response's own status at the end */
  async close(status?: 'completed'): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = null;
    if (open.kind === 'message') {
      const id = open.id;
      const annotations = await this.annotate(open.text);
      for (const [i, annotation] of annotations.entries()) {
        await this.emit('response.output_text.annotation.added', { item_id: id, output_index: open.index, content_index: 0, annotation_index: i, annotation });
      }
      // without function calls the response has this one message, built from the state
      if (id === messageItemId(this.state.generationId)) this.state.annotations = annotations;
      const part = outputTextPart(open.text, annotations);
      await this.emit('response.output_text.done', { item_id: id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] });
      await this.emit('response.content_part.done', { item_id: id, output_index: open.index, content_index: 0, part });
      const item = { ...messageItem(status ? { ...this.state, status } : this.state, [part]), id };
      this.items[open.index] = item;
      await this.emit('response.output_item.done', { output_index: open.index, item });
      return;
    }
    const item = functionCallItem(open.call, 'completed');
    await this.emit('response.function_call_arguments.done', { item_id: item.id, output_index: open.index, name: item.name, arguments: item.arguments });
    this.items[open.index] = item;
    await this.emit('response.output_item.done', { output_index: open.index, item });
  }
}

// previous_response_id → its conversation, and where the new turn goes in it: after that response.
// A new message follows the one submitted before it unless it names a parent, which it then
// replaces (context-assembly.ts); so to follow an earlier response (a branch), the new message
// names as parent a message that follows that response's message. The latest response needs none.
async function followUp(o: GatewayOptions, actor: Actor, generationId: string): Promise<{ conversationId: string; parentMessageId: string | null }> {
  const { store, knex } = o.services;
  try {
    await authorizeGeneration(store, actor, generationId, undefined, pendingGenerations(knex, generationId));
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === 'NOT_FOUND') throw previousNotFound();
    throw error;
  }
  const view = await readGeneration(store, generationId);
  const { conversationId, messageId } = view.request!;
  const messages = (await store.readStream(`conversation-${conversationId}`)).filter((e) => e.type === 'MessageSubmitted') as EventOf<'MessageSubmitted'>[];
  if (messages.at(-1)?.data.messageId === messageId) return { conversationId, parentMessageId: null };
  const index = new Map(messages.map((m, i) => [m.data.messageId, i]));
  // The message a message follows: its parent's predecessor when it has a parent, else the one before it.
  const predecessor = (i: number): string | null => {
    const parent = messages[i]!.data.parentMessageId;
    if (parent && index.has(parent)) return predecessor(index.get(parent)!);
    return i > 0 ? messages[i - 1]!.data.messageId : null;
  };
  const follower = messages.findIndex((_, i) => predecessor(i) === messageId);
  if (follower < 0) throw invalidRequest('previous_response_id names a response that was itself replaced by an edit; continue from a later response', 'previous_response_id', 'invalid_value');
  return { conversationId, parentMessageId: messages[follower]!.data.messageId };
}

const previousNotFound = () => notFound('previous response not found', 'previous_response_not_found', 'previous_response_id');
const responseNotFound = (id: string) => notFound(`No response found with id '${id.slice(0, 160)}'.`, 'response_not_found', 'response_id');

/** GET /v1/responses/{id}: the response read back from its generation's events */
async function retrieve(o: GatewayOptions, actor: Actor, responseIdText: string): Promise<ResponseState> {
  const generationId = generationOfResponse(responseIdText);
  if (!generationId) throw responseNotFound(responseIdText);
  try {
    await authorizeGeneration(o.services.store, actor, generationId, undefined, pendingGenerations(o.services.knex, generationId));
  } catch (error) {
    if (error instanceof GraphQLError && error.extensions.code === 'NOT_FOUND') throw responseNotFound(responseIdText);
    throw error;
  }
  const view = await readGeneration(o.services.store, generationId);
  const request = view.request!;
  const createdAt = Math.floor(new Date(view.requestEvent!.recordedAt).getTime() / 1000);
  const text = view.chunks.map((c) => c.text).join('');
  const state: ResponseState = {
    generationId, createdAt, model: request.model, status: 'in_progress', text, usage: null, error: null, incompleteReason: null,
    instructions: null, maxOutputTokens: request.params.maxTokens, temperature: request.params.temperature, topP: request.params.topP, previousResponseId: null,
  };
  const { annotations } = answerCitations(o.services, generationId);
  state.annotations = await annotations(text);
  // The client's function calls this response made (recorded with RequestToolCall): function_call items.
  const calls = (await o.services.store.readStream(`generation-${generationId}`))
    .flatMap((e) => (e.type === 'ToolCallRequested' && e.data.toolCallId.startsWith('call_') ? [e.data] : []))
    .sort((a, b) => a.index - b.index)
    .map((c): ToolCall => ({ id: c.toolCallId, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  if (calls.length > 0 || (request.params.clientTools?.length && hasToolCallMarkup(text))) {
    // the text outside the calls (one cut off before its name included: answerMessage drops it too)
    const content = parseToolCalls(text).content;
    state.text = content;
    state.annotations = await annotations(content);
    if (calls.length > 0) state.items = [...(content ? [messageItem({ ...state, status: 'completed' }, [outputTextPart(content, state.annotations)])] : []), ...calls.map((c) => functionCallItem(c, 'completed'))];
  }
  const end = view.end;
  if (!end) return state;
  if (end.type === 'completed') return { ...state, ...statusOfFinish(end.finishReason), usage: end.usage };
  if (end.type === 'failed') return { ...state, status: 'failed', error: { code: end.code?.toLowerCase() ?? 'generation_failed', message: end.reason } };
  return { ...state, status: 'cancelled', usage: end.usage ?? null };
}

/** POST /v1/responses/{id}/cancel: cancels a running response (a finished one is returned as it is) */
async function cancel(o: GatewayOptions, actor: Actor, responseIdText: string, requestId: string): Promise<ResponseState> {
  const before = await retrieve(o, actor, responseIdText);
  if (before.status !== 'in_progress') return before;
  const result = await o.services.commands.execute({
    type: 'CancelGeneration', data: { generationId: before.generationId, reason: 'cancelled by the client (POST /v1/responses/{id}/cancel)' },
    metadata: { commandId: randomUUID(), actor, correlationId: requestId },
  });
  if (!result.ok && result.error.code === 'NOT_FOUND') throw responseNotFound(responseIdText);
  return retrieve(o, actor, responseIdText);
}

/** /v1/responses and /v1/responses/{id}[/cancel]; false for any other path */
export async function routeResponses(o: GatewayOptions, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (path !== '/v1/responses' && !path.startsWith('/v1/responses/')) return false;
  const allow = (method: string) => {
    if (req.method === method) return true;
    sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed on ${path}; use ${method}`, 'invalid_request_error', 'method_not_allowed'), { allow: method });
    return false;
  };
  if (path === '/v1/responses') {
    if (allow('POST')) await handleTurnCall(o, req, res, responsesEndpoint(o));
    return true;
  }
  const rest = path.slice('/v1/responses/'.length).split('/');
  const cancelling = rest.length === 2 && rest[1] === 'cancel';
  if (rest.length > 2 || (rest.length === 2 && !cancelling) || !rest[0]) {
    sendOpenAiError(res, notFound(`no route for ${req.method} ${path.slice(0, 200)}`, 'not_found'));
    return true;
  }
  if (!allow(cancelling ? 'POST' : 'GET')) return true;
  const requestId = randomUUID();
  try {
    const auth = await authenticate(o.services.jwtSecret, req.headers.authorization);
    if (!auth.actor) throw unauthorized(auth.error ?? 'missing API key: send Authorization: Bearer <token>');
    const id = safeDecode(rest[0]);
    const state = cancelling ? await cancel(o, auth.actor, id, requestId) : await retrieve(o, auth.actor, id);
    sendJsonBody(res, 200, responseObject(state), { 'x-request-id': requestId, 'x-parley-generation': state.generationId });
  } catch (error) {
    if (!(error instanceof OpenAiError)) throw error;
    sendOpenAiError(res, error, { 'x-request-id': requestId });
  }
  return true;
}

// A path segment decoded leniently: a malformed escape (%E0%A4%A) stays as sent and names nothing,
// never a 500. Shared with /v1/models (routes.ts).
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
