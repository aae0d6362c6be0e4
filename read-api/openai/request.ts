import { z } from 'zod';
import { Text, textProblem } from '../../schemas/common.ts';
import { invalidRequest, OpenAiError } from './errors.ts';

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
  tools: z.array(z.unknown()).nullable().optional(),
  functions: z.array(z.unknown()).nullable().optional(),
  tool_choice: z.unknown().optional(),
  response_format: z.object({ type: z.string() }).passthrough().nullable().optional(),
  // Parley's extension: category → threshold (or Gemini's [{category, threshold}]), checked in intake.
  safety_settings: z.unknown().optional(),
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
  params: { temperature: number; topP: number; maxTokens: number; seed: number | null; stop: string[] };
  stream: boolean;
  includeUsage: boolean;
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
  if (r.tools?.length || r.functions?.length) throw unsupported(r.tools?.length ? 'tools' : 'functions', 'the served models do not call tools');
  if (r.tool_choice !== undefined && r.tool_choice !== null && r.tool_choice !== 'none') throw unsupported('tool_choice', 'the served models do not call tools');
  if (r.response_format && r.response_format.type !== 'text') throw unsupported('response_format', 'only {"type":"text"}');
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
  const msgs = r.messages.map((m, i) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    if (!['system', 'user', 'assistant'].includes(role)) {
      throw invalidRequest(`messages.[${i}].role must be system, developer, user or assistant (got "${m.role}")`, `messages.[${i}].role`);
    }
    return { role: role as 'system' | 'user' | 'assistant', text: textOf(m.content, i) };
  });
  let start = msgs.length;
  while (start > 0 && msgs[start - 1]!.role === 'user') start--;
  if (start === msgs.length) throw invalidRequest('the last message must be a user message', `messages.[${msgs.length - 1}].role`);
  const content = msgs.slice(start).map((m) => m.text).join('\n\n');
  if (!content.trim()) throw invalidRequest('the user message is empty', `messages.[${msgs.length - 1}].content`);
  const earlier = msgs.slice(0, start);
  const system = earlier.filter((m) => m.role === 'system').map((m) => m.text).join('\n\n');
  const turns = earlier.filter((m) => m.role !== 'system');
  const transcript = turns.map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.text}`).join('\n');
  const systemPrompt = [system, transcript && `Earlier in this conversation:\n${transcript}`].filter(Boolean).join('\n\n') || null;
  const stop = r.stop === null || r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;
  return {
    systemPrompt,
    content,
    history: turns.length,
    params: {
      temperature: r.temperature ?? 1, // OpenAI's default
      topP: r.top_p ?? 1,
      maxTokens: r.max_completion_tokens ?? r.max_tokens ?? DEFAULT_MAX_TOKENS,
      seed: r.seed ?? null,
      stop,
    },
    stream: r.stream === true,
    includeUsage: r.stream === true && r.stream_options?.include_usage === true,
  };
}
