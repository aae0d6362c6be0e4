import { z } from 'zod';
import { Text, textProblem } from '../../schemas/common.ts';
import type { Constraint } from '../../schemas/constraint.ts';
import { toolCallText, toolResponseText } from '../../inference/engine/tool-format.ts';
import { invalidRequest, OpenAiError } from './errors.ts';
import { NO_TOOLS, toolPlan, type ToolPlan } from './tools.ts';
import type { ClientToolResult } from './client-tool-results.ts';

// The request body of POST /v1/chat/completions. Known parameters Parley cannot honour are refused
// with a 400 naming the parameter (rather than silently ignored); unknown extra keys are ignored.
// Every string Parley reads is Text (no NUL, no unpaired surrogate): a 400 naming it, never a 500.

const TextPart = z.object({ type: z.literal('text'), text: Text });
const Content = z.union([Text, z.array(z.object({ type: z.string() }).passthrough())]);

const Message = z.object({
  role: Text,
  content: Content.nullable().optional(),
  name: Text.optional(),
}).passthrough();

export const ChatCompletionRequest = z.object({
  model: z.string({ error: 'model is required' }).min(1, 'model is required')
    .superRefine((s, ctx) => void (textProblem(s) && ctx.addIssue({ code: 'custom', message: textProblem(s)! }))),
  messages: z.array(Message, { error: 'messages must be an array' }).min(1, 'messages must hold at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).max(8192).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).max(8192).nullable().optional(),
  stop: z.union([Text.min(1).max(64), z.array(Text.min(1).max(64)).max(4)]).nullable().optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).nullable().optional(),
  user: Text.max(256).optional(),
  n: z.number().int().nullable().optional(),
  // Refused unless neutral:
  frequency_penalty: z.number().nullable().optional(),
  presence_penalty: z.number().nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().nullable().optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  // checked in tools.ts (a 400 naming the parameter, unsupported JSON Schema included)
  tools: z.unknown().optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.unknown().optional(),
  response_format: z.unknown().optional(),
  functions: z.array(z.unknown()).nullable().optional(),
  // Parley's extension: category → threshold (or Gemini's [{category, threshold}]), checked in intake.
  safety_settings: z.unknown().optional(),
  // Parley's extension: retrieval in the turn, {collections, topK} as GraphQL's sendMessage takes it
  // (kept by the conversation for later turns), checked in intake.
  parley_retrieval: z.unknown().optional(),
  // Parley's extension: false opts this turn out of prompt-lookup speculative decoding (GraphQL's
  // params.speculative); the text is the same either way, only its speed changes.
  parley_speculative: z.boolean().nullable().optional(),
}).passthrough();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const DEFAULT_MAX_TOKENS = 256;

export type ChatTurn = {
  /** system prompt for a new conversation: system/developer messages, plus earlier turns as a transcript */
  systemPrompt: string | null;
  /** the new user turn */
  content: string;
  /** earlier turns sent in the request (ignored when continuing a stored conversation) */
  history: number;
  params: { /** absent: the model's default (submit-turn.ts turnSampling) */ temperature?: number; topP?: number; maxTokens: number; seed: number | null; stop: string[]; constraint?: Constraint; clientTools?: string[]; speculative?: boolean };
  stream: boolean;
  includeUsage: boolean;
  /** tools offered and how the answer is read (absent: no tools) */
  tools?: ToolPlan;
  /** the tools section the saga appends to this turn's system prompt (null: none) */
  toolsPrompt?: string | null;
  /** the client's tool results in the request (every role `tool` message, re-sent ones included):
   *  recorded on the calls they answer (client-tool-results.ts) */
  toolResults?: ClientToolResult[];
};

export function parseRequest(body: unknown): ChatCompletionRequest {
  const parsed = ChatCompletionRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.') || null;
    throw invalidRequest(`${param ? `${param}: ` : ''}${issue.message}`, param);
  }
  const r = parsed.data;
  if (r.n !== undefined && r.n !== null && r.n !== 1) throw invalidRequest('n must be 1: Parley returns one choice per request (send several requests for several answers)', 'n', 'unsupported_parameter');
  const unsupported = (param: string, why: string) => new OpenAiError(400, `${param} is not supported: ${why}`, 'invalid_request_error', 'unsupported_parameter', param);
  if (r.frequency_penalty) throw unsupported('frequency_penalty', 'only 0 is accepted');
  if (r.presence_penalty) throw unsupported('presence_penalty', 'only 0 is accepted');
  if (r.logprobs) throw unsupported('logprobs', 'log probabilities are not returned');
  if (r.logit_bias && Object.keys(r.logit_bias).length) throw unsupported('logit_bias', 'logits cannot be biased');
  if (r.functions?.length) throw unsupported('functions', 'use tools (functions is deprecated)');
  if (r.stream_options && !r.stream) throw invalidRequest('stream_options is only allowed when stream is true', 'stream_options');
  return r;
}

function textOf(content: unknown, index: number): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  const parts = content as { type: string }[];
  return parts.map((p, j) => {
    const part = TextPart.safeParse(p);
    if (!part.success && p.type === 'text') {
      const issue = part.error.issues[0]!;
      const param = [`messages.[${index}].content.[${j}]`, ...issue.path.map(String)].join('.');
      throw invalidRequest(`${param}: ${issue.message}`, param);
    }
    if (!part.success) throw invalidRequest(`only text content parts are supported (got "${String(p.type).slice(0, 64)}")`, `messages.[${index}].content.[${j}]`, 'unsupported_content');
    return part.data.text;
  }).join('');
}

// messages → one new turn. The turn is every user message after the last assistant message;
// for a new conversation, system/developer messages become its system prompt, and earlier
// user/assistant turns (an OpenAI client resends the whole history) are kept in it as a transcript.
export function toTurn(r: ChatCompletionRequest): ChatTurn {
  const tools = toolPlan(r);
  const msgs = r.messages.map((m, i) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    if (!['system', 'user', 'assistant', 'tool'].includes(role)) {
      throw invalidRequest(`messages.[${i}].role must be system, developer, user, assistant or tool (got "${m.role}")`, `messages.[${i}].role`);
    }
    return { role: role as 'system' | 'user' | 'assistant' | 'tool', text: messageText(m, i) };
  });
  const toolResults = r.messages.flatMap((m, i) => (m.role === 'tool' ? [{ toolCallId: String(m.tool_call_id), content: textOf(m.content, i) }] : []));
  // the new turn: the user and tool messages after the last assistant message (tool results go
  // back in a user turn, as the model's template renders role `tool`)
  let start = msgs.length;
  while (start > 0 && (msgs[start - 1]!.role === 'user' || msgs[start - 1]!.role === 'tool')) start--;
  if (start === msgs.length) throw invalidRequest('the last message must be a user or tool message', `messages.[${msgs.length - 1}].role`);
  const content = joinTurn(msgs.slice(start));
  if (!content.trim()) throw invalidRequest('the user message is empty', `messages.[${msgs.length - 1}].content`);
  const earlier = msgs.slice(0, start);
  const system = earlier.filter((m) => m.role === 'system').map((m) => m.text).join('\n\n');
  const turns = earlier.filter((m) => m.role !== 'system');
  const label = { user: 'User', assistant: 'Assistant', tool: 'Tool' } as const;
  const transcript = turns.map((m) => `${label[m.role as keyof typeof label]}: ${m.text}`).join('\n');
  const systemPrompt = [system, transcript && `Earlier in this conversation:\n${transcript}`].filter(Boolean).join('\n\n') || null;
  const stop = r.stop === null || r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;
  return {
    systemPrompt,
    content,
    history: turns.length,
    params: {
      // absent: the model's own default (turnSampling), as vLLM does, not OpenAI's generic 1
      ...(r.temperature != null ? { temperature: r.temperature } : {}),
      ...(r.top_p != null ? { topP: r.top_p } : {}),
      maxTokens: r.max_completion_tokens ?? r.max_tokens ?? DEFAULT_MAX_TOKENS,
      seed: r.seed ?? null,
      stop,
      ...(tools.constraint ? { constraint: tools.constraint } : {}),
      ...(r.parley_speculative != null ? { speculative: r.parley_speculative } : {}),
      // The client's tools, which it runs itself: the saga leaves their calls alone and offers no
      // server-side tools ([]: none, as with tool_choice "none" or a response_format the output
      // must follow). Absent when the client sent neither: the saga may offer Parley's own tools and
      // run their calls; the route then follows the turn to its answer (answer-text.ts).
      ...(!clientOffered(r) && !tools.constraint ? {} : { clientTools: tools.mode === 'none' ? [] : tools.names }),
    },
    stream: r.stream === true,
    includeUsage: r.stream === true && r.stream_options?.include_usage === true,
    tools: tools.mode === 'none' ? NO_TOOLS : tools,
    // offered with this turn, not stored in the conversation's system prompt: a continued
    // conversation (X-Parley-Conversation) offers each request's own tools (the saga appends them)
    toolsPrompt: tools.mode === 'none' ? null : tools.systemBlock,
    toolResults,
  };
}

const ToolMessage = z.object({ tool_call_id: z.string({ error: 'tool_call_id is required on a tool message' }).min(1, 'tool_call_id is required on a tool message').max(256) });
const AssistantToolCalls = z.array(z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
})).max(128);

// A message's text as the model sees it: an assistant's tool calls and a tool's result in the
// model's tool-call template (inference/engine/tool-format.ts).
function messageText(m: z.infer<typeof Message>, i: number): string {
  const text = textOf(m.content, i);
  if (m.role === 'tool') {
    const t = ToolMessage.safeParse(m);
    if (!t.success) throw invalidRequest(`messages.[${i}].tool_call_id: ${t.error.issues[0]!.message}`, `messages.[${i}].tool_call_id`);
    return toolResponseText(text);
  }
  if (m.role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null) {
    const calls = AssistantToolCalls.safeParse(m.tool_calls);
    if (!calls.success) {
      const issue = calls.error.issues[0]!;
      const param = [`messages.[${i}].tool_calls`, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].join('.');
      throw invalidRequest(`${param}: ${issue.message}`, param);
    }
    const rendered = calls.data.map((c) => {
      let args: unknown = c.function.arguments;
      try { args = JSON.parse(c.function.arguments); } catch { /* kept as the client sent it */ }
      return toolCallText(c.function.name, args);
    });
    return [text, ...rendered].filter(Boolean).join('\n');
  }
  return text;
}

/** whether the request offers tools of its own (even unusable ones, tool_choice "none") */
const clientOffered = (r: ChatCompletionRequest) => Array.isArray(r.tools) && r.tools.length > 0;

/** the new turn's messages as one user turn: consecutive tool results one per line */
function joinTurn(msgs: { role: string; text: string }[]): string {
  let out = '';
  msgs.forEach((m, j) => {
    if (j > 0) out += m.role === 'tool' && msgs[j - 1]!.role === 'tool' ? '\n' : '\n\n';
    out += m.text;
  });
  return out;
}
