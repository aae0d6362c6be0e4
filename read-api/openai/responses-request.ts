import { z } from 'zod';
import { Id, Text, textProblem } from '../../schemas/common.ts';
import { invalidRequest, OpenAiError } from './errors.ts';
import { parseRequest, toTurn, type ChatTurn } from './request.ts';
import { chatTools, functionCallOf, functionOutputOf, responsesParam } from './response-tools.ts';

// The request body of POST /v1/responses (OpenAI's Responses API), read into the same turn a chat
// completion makes: `instructions` and the input's system/developer items become the system prompt
// of a new conversation, the user items after the last assistant item are the turn. Its sampling
// parameters go through the chat request's own schema (parseRequest), so both endpoints accept and
// refuse the same values. Known parameters Parley cannot honour are refused with a 400 naming them;
// unknown extra keys are ignored, as on /v1/chat/completions.

const ContentPart = z.object({ type: z.string() }).passthrough();
const InputItem = z.object({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z.union([Text, z.array(ContentPart)]).optional(),
}).passthrough();

export const ResponsesRequest = z.object({
  model: z.string({ error: 'model is required' }).min(1, 'model is required')
    .superRefine((s, ctx) => void (textProblem(s) && ctx.addIssue({ code: 'custom', message: textProblem(s)! }))),
  input: z.union([Text, z.array(InputItem)], { error: 'input must be a string or a list of input items' }),
  instructions: Text.nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  max_output_tokens: z.number().int().min(1).max(8192).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  user: Text.max(256).optional(),
  // function tools, checked and translated in response-tools.ts (other tool types are refused)
  tools: z.array(z.unknown()).nullable().optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  // Parley's extension, as on /v1/chat/completions: retrieval in the turn ({collections, topK}, kept by
  // the conversation for later responses), checked in intake; the answer's [n] are file_citation annotations.
  parley_retrieval: z.unknown().optional(),
  // Parley's extension, as on /v1/chat/completions (checked there): false opts out of speculative decoding.
  parley_speculative: z.unknown().optional(),
  // Refused unless absent or neutral:
  text: z.object({ format: z.object({ type: z.string() }).passthrough().optional() }).passthrough().nullable().optional(),
  background: z.boolean().nullable().optional(),
  conversation: z.unknown().optional(),
  top_logprobs: z.number().nullable().optional(),
}).passthrough();
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

export const RESPONSE_ID_PREFIX = 'resp_';

/** `resp_<generation id>` → the generation id; null when it is not a response id at all */
export function generationOfResponse(responseId: string): string | null {
  if (!responseId.startsWith(RESPONSE_ID_PREFIX)) return null;
  const id = responseId.slice(RESPONSE_ID_PREFIX.length);
  return Id.safeParse(id).success ? id : null;
}

export type ResponsesTurn = { request: ResponsesRequest; turn: ChatTurn; previousGenerationId: string | null };

export function parseResponsesRequest(body: unknown): ResponsesTurn {
  const parsed = ResponsesRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.') || null;
    throw invalidRequest(`${param ? `${param}: ` : ''}${issue.message}`, param);
  }
  const r = parsed.data;
  const unsupported = (param: string, why: string) => new OpenAiError(400, `${param} is not supported: ${why}`, 'invalid_request_error', 'unsupported_parameter', param);
  if (r.text?.format && r.text.format.type !== 'text') throw unsupported('text.format', 'only {"type":"text"} (structured output is not supported yet)');
  if (r.store === false) throw unsupported('store', 'Parley records every turn (it is event-sourced), so every response is stored; send store: true or leave it out');
  if (r.background) throw unsupported('background', 'responses run in the foreground');
  if (r.conversation !== undefined && r.conversation !== null) throw unsupported('conversation', 'continue a conversation with previous_response_id');
  if (r.top_logprobs) throw unsupported('top_logprobs', 'log probabilities are not returned');

  let previousGenerationId: string | null = null;
  if (r.previous_response_id) {
    previousGenerationId = generationOfResponse(r.previous_response_id);
    if (!previousGenerationId) throw invalidRequest(`previous_response_id is not a response id (expected "${RESPONSE_ID_PREFIX}…")`, 'previous_response_id', 'invalid_value');
  }

  const items = typeof r.input === 'string' ? [{ role: 'user', content: r.input }] : r.input;
  // messages[k] came from input[inputOf[k]] (consecutive function_call items make one message)
  const messages: Record<string, unknown>[] = r.instructions ? [{ role: 'system', content: r.instructions }] : [];
  const inputOf: number[] = r.instructions ? [-1] : [];
  items.forEach((item, i) => {
    if (item.type === 'function_call') {
      const call = functionCallOf(item, i);
      const last = messages.at(-1) as { role: string; tool_calls?: unknown[] } | undefined;
      if (last?.role === 'assistant' && last.tool_calls && items[i - 1]?.type === 'function_call') last.tool_calls.push(call);
      else { messages.push({ role: 'assistant', content: null, tool_calls: [call] }); inputOf.push(i); }
      return;
    }
    if (item.type === 'function_call_output') {
      messages.push(functionOutputOf(item, i));
      inputOf.push(i);
      return;
    }
    messages.push({ role: roleOf(item, i), content: textOf(item, i) });
    inputOf.push(i);
  });
  const tools = chatTools(r);
  // The chat request's own checks and defaults; its parameter names are mapped back to this API's.
  try {
    const chat = parseRequest({
      model: r.model, messages, temperature: r.temperature, top_p: r.top_p, max_completion_tokens: r.max_output_tokens, stream: r.stream, parley_speculative: r.parley_speculative, ...tools,
    });
    return { request: r, turn: toTurn(chat), previousGenerationId };
  } catch (error) {
    if (!(error instanceof OpenAiError) || !error.param) throw error;
    const param = responsesParam(error.param, inputOf);
    if (param === error.param) throw error;
    throw new OpenAiError(error.status, error.message.replace(error.param, param), error.type, error.code, param);
  }
}

function roleOf(item: z.infer<typeof InputItem>, i: number): string {
  if (item.type !== undefined && item.type !== 'message') {
    throw new OpenAiError(400, `input.[${i}]: items of type "${String(item.type).slice(0, 64)}" are not supported (only message, function_call and function_call_output items)`, 'invalid_request_error', 'unsupported_input', `input.[${i}].type`);
  }
  const role = item.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    throw invalidRequest(`input.[${i}].role must be user, assistant, system or developer`, `input.[${i}].role`);
  }
  return role;
}

// A message's content: a string, or input_text / output_text parts (text only).
function textOf(item: z.infer<typeof InputItem>, i: number): string {
  const content = item.content;
  if (content === undefined) throw invalidRequest(`input.[${i}].content is required`, `input.[${i}].content`);
  if (typeof content === 'string') return content;
  return content.map((part, j) => {
    const param = `input.[${i}].content.[${j}]`;
    if (part.type !== 'input_text' && part.type !== 'output_text') {
      throw invalidRequest(`only text content parts are supported (got "${String(part.type).slice(0, 64)}")`, param, 'unsupported_content');
    }
    const text = Text.safeParse(part.text);
    if (!text.success) throw invalidRequest(`${param}.text: ${text.error.issues[0]!.message}`, `${param}.text`);
    return text.data;
  }).join('');
}
