import type { FileCitation } from './citations.ts';
import type { Usage } from './settlement.ts';

// The Responses API's `response` object and its output items (an assistant message with one
// output_text part, and a function_call item per call when the request offered function tools:
// response-tools.ts), built from a Parley generation. A response is a turn: its id is
// `resp_<generation id>`, its message item `msg_<generation id>`.

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled';

export type ResponseState = {
  generationId: string;
  createdAt: number; // seconds
  model: string;
  status: ResponseStatus;
  /** the text so far (null: no output item yet) */
  text: string | null;
  usage: Usage | null;
  error: { code: string; message: string } | null;
  /** why an incomplete response stopped: max_output_tokens or content_filter */
  incompleteReason: string | null;
  instructions: string | null;
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  previousResponseId: string | null;
  user?: string | null;
  /** the file_citation annotations of `text`'s part (citations.ts); absent: none */
  annotations?: FileCitation[];
  /** the output items when the answer called functions (message and function_call items, in order); absent: one message item of `text` */
  items?: unknown[];
  /** echoed from the request */
  tools?: unknown[];
  toolChoice?: unknown;
  parallelToolCalls?: boolean;
};

export const responseId = (generationId: string) => `resp_${generationId}`;
export const messageItemId = (generationId: string) => `msg_${generationId}`;

/** Parley's finish reason → the response's status and, when incomplete, why */
export function statusOfFinish(finish: 'stop' | 'length' | 'content_filter'): { status: ResponseStatus; incompleteReason: string | null } {
  if (finish === 'stop') return { status: 'completed', incompleteReason: null };
  return { status: 'incomplete', incompleteReason: finish === 'length' ? 'max_output_tokens' : 'content_filter' };
}

export function outputTextPart(text: string, annotations: FileCitation[] = []) {
  return { type: 'output_text', text, annotations, logprobs: [] };
}

export function messageItem(s: Pick<ResponseState, 'generationId' | 'status'>, content: ReturnType<typeof outputTextPart>[]) {
  const status = s.status === 'in_progress' ? 'in_progress' : s.status === 'completed' ? 'completed' : 'incomplete';
  return { id: messageItemId(s.generationId), type: 'message', status, role: 'assistant', content };
}

export function responseObject(s: ResponseState) {
  return {
    id: responseId(s.generationId),
    object: 'response',
    created_at: s.createdAt,
    status: s.status,
    background: false,
    error: s.error,
    incomplete_details: s.incompleteReason ? { reason: s.incompleteReason } : null,
    instructions: s.instructions,
    max_output_tokens: s.maxOutputTokens,
    model: s.model,
    output: s.items ?? (s.text === null ? [] : [messageItem(s, [outputTextPart(s.text, s.annotations)])]),
    parallel_tool_calls: s.parallelToolCalls ?? true,
    previous_response_id: s.previousResponseId,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: s.temperature,
    text: { format: { type: 'text' } },
    tool_choice: s.toolChoice ?? 'auto',
    tools: s.tools ?? [],
    top_p: s.topP,
    truncation: 'disabled',
    usage: s.usage && {
      input_tokens: s.usage.promptTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: s.usage.completionTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: s.usage.promptTokens + s.usage.completionTokens,
    },
    user: s.user ?? null,
    metadata: {},
  };
}
