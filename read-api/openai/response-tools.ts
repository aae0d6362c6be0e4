import { z } from 'zod';
import { Text } from '../../schemas/common.ts';
import { invalidRequest, OpenAiError } from './errors.ts';
import type { ToolCall } from './tool-call-stream.ts';

// Function tools on the Responses API, translated to and from the chat completion's contract
// (tools.ts, request.ts, tool-call-stream.ts), so both endpoints offer, constrain, parse and record
// tool calls the same way:
// - request: `tools` of type `function` (flat: name, description, parameters, strict) and
//   `tool_choice` (none, auto, required, {type: function, name}) become the chat's nested forms;
//   input items `function_call` (call_id, name, arguments) become an assistant message's
//   tool_calls and `function_call_output` (call_id, output) a role `tool` message — so a result is
//   recorded on its call like a chat tool message (client-tool-results.ts);
// - answer: each call is a `function_call` output item {id: fc_…, call_id: call_…, name, arguments}.
// Other tool types (web_search, file_search, …) are OpenAI's hosted tools: refused with a 400.
// `strict` absent means non-strict here (keywords the grammar cannot enforce are ignored rather
// than refused), as on chat completions.

const FunctionTool = z.object({
  type: z.literal('function'),
  name: z.string(),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

type RequestTools = { tools?: unknown[] | null; tool_choice?: unknown; parallel_tool_calls?: boolean | null };

/** the Responses API's tools, tool_choice and parallel_tool_calls in the chat completion's shape */
export function chatTools(r: RequestTools): { tools?: unknown[]; tool_choice?: unknown; parallel_tool_calls?: boolean } {
  const out: { tools?: unknown[]; tool_choice?: unknown; parallel_tool_calls?: boolean } = {};
  if (r.tools?.length) {
    out.tools = r.tools.map((t, i) => {
      const type = (t as { type?: unknown } | null)?.type;
      if (type !== 'function') {
        throw new OpenAiError(400, `tools.[${i}].type: only function tools are supported (got ${JSON.stringify(type ?? null)?.slice(0, 64)}; OpenAI's hosted tools are not served by Parley)`, 'invalid_request_error', 'unsupported_parameter', `tools.[${i}].type`);
      }
      const f = FunctionTool.safeParse(t);
      if (!f.success) {
        const issue = f.error.issues[0]!;
        const param = [`tools.[${i}]`, ...issue.path.map(String)].join('.');
        throw invalidRequest(`${param}: ${issue.message}`, param);
      }
      const { name, description, parameters, strict } = f.data;
      return { type: 'function', function: { name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}), strict: strict === true } };
    });
  }
  const choice = r.tool_choice;
  if (choice !== undefined && choice !== null) {
    if (typeof choice === 'string') out.tool_choice = choice;
    else if ((choice as { type?: unknown }).type === 'function') out.tool_choice = { type: 'function', function: { name: (choice as { name?: unknown }).name } };
    else throw new OpenAiError(400, 'tool_choice: only none, auto, required or {"type": "function", "name": …} are supported', 'invalid_request_error', 'unsupported_parameter', 'tool_choice');
  }
  if (r.parallel_tool_calls !== undefined && r.parallel_tool_calls !== null) out.parallel_tool_calls = r.parallel_tool_calls;
  return out;
}

const FunctionCallItem = z.object({ call_id: Text.min(1).max(256), name: Text.min(1).max(64), arguments: Text });
const OutputPart = z.object({ type: z.literal('input_text'), text: Text });
const FunctionOutputItem = z.object({ call_id: Text.min(1).max(256), output: z.union([Text, z.array(OutputPart)]) });

function parsedItem<T>(schema: z.ZodType<T>, item: unknown, i: number): T {
  const r = schema.safeParse(item);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = [`input.[${i}]`, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].join('.');
  throw invalidRequest(`${param}: ${issue.message}${issue.path.includes('output') ? ' (a string, or input_text parts)' : ''}`, param);
}

/** a `function_call` input item → a chat tool call (of an assistant message) */
export function functionCallOf(item: unknown, i: number) {
  const c = parsedItem(FunctionCallItem, item, i);
  return { id: c.call_id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } };
}

/** a `function_call_output` input item → a chat role `tool` message */
export function functionOutputOf(item: unknown, i: number) {
  const o = parsedItem(FunctionOutputItem, item, i);
  return { role: 'tool', tool_call_id: o.call_id, content: typeof o.output === 'string' ? o.output : o.output.map((p) => p.text).join('') };
}

/** a chat parameter name as this API names it (messages.[k] → input.[i], tools.[i].function.x → tools.[i].x) */
export function responsesParam(param: string, inputOf: readonly number[]): string {
  return param
    .replace(/^messages\.\[(\d+)\]/, (_, k: string) => (inputOf[Number(k)]! < 0 ? 'instructions' : `input.[${inputOf[Number(k)]}]`))
    .replace(/^tools\.\[(\d+)\]\.function\./, 'tools.[$1].')
    .replace(/^tool_choice\.function\./, 'tool_choice.');
}

/** a call's output item; its item id names the call (fc_ for call_) */
export function functionCallItem(c: ToolCall, status: 'in_progress' | 'completed') {
  return { id: c.id.replace(/^call_/, 'fc_'), type: 'function_call', status, call_id: c.id, name: c.function.name, arguments: c.function.arguments };
}
