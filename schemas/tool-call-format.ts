import { z } from 'zod';

// The tool-calling text format the model is trained on (Qwen2.5 / Hermes style):
// - the tools' JSON schemas go in the system turn, inside <tools></tools>, one per line;
// - the assistant calls a tool with `<tool_call>\n{"name": "...", "arguments": {...}}\n</tool_call>`
//   (several blocks for several calls);
// - each result goes back as role `tool`, rendered as a user turn holding
//   `<tool_response>\n…\n</tool_response>` (consecutive results share one user turn).
// Self-contained (zod only; in schemas/ so projections and exports can read tool turns too); the
// OpenAI route's stricter parser (inference/engine/tool-format.ts) reads blocks with toolCallBlockAt too.

export type ToolFunction = { name: string; description: string; parameters: Record<string, unknown> };
export type ParsedToolCall = { name: string; arguments: Record<string, unknown> };
export type ParsedOutput = {
  content: string; // the text outside the <tool_call> blocks, trimmed
  calls: ParsedToolCall[]; // valid calls, in order
  invalid: { text: string; error: string }[]; // blocks that are not a valid call
};

const CallBody = z.object({
  name: z.string().min(1).max(64),
  arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).default({}),
});

export const TOOL_CALL_OPEN = '<tool_call>';
export const TOOL_CALL_CLOSE = '</tool_call>';

/** the index just past the JSON object or array that starts at `from` ('{'), strings and escapes respected; −1 if unclosed */
export function jsonObjectEnd(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

export type ToolCallBlock = {
  /** the text between `<tool_call>` and `</tool_call>` (or the end of the text), untrimmed */
  body: string;
  /** the index just past the block's `</tool_call>`; text.length when it is not closed */
  end: number;
  closed: boolean;
};

// Where the block that opens at `start` (a `<tool_call>`) ends: at the first `</tool_call>` after
// its JSON object. A string inside the call may hold the text "</tool_call>" (the engine's
// constrained decoding allows it, and the shipped model wrote one), so the tag is looked for only
// once the object has closed; a body that does not begin with '{' ends at the first tag. A block
// whose object has not closed runs to the end of the text (cut off, or still being generated).
// The one definition of a call's extent: the saga's parser, the OpenAI route's parser and the
// engine's stop strings (which skip server-side calls) all read blocks through it.
export function toolCallBlockAt(text: string, start: number): ToolCallBlock {
  const open = start + TOOL_CALL_OPEN.length;
  let from = open;
  while (/\s/.test(text[from] ?? '')) from++;
  const jsonEnd = text[from] === '{' ? jsonObjectEnd(text, from) : from;
  const close = jsonEnd < 0 ? -1 : text.indexOf(TOOL_CALL_CLOSE, jsonEnd);
  if (close < 0) return { body: text.slice(open), end: text.length, closed: false };
  return { body: text.slice(open, close), end: close + TOOL_CALL_CLOSE.length, closed: true };
}

// Splits a completion into its text and its tool calls. An unterminated final block (the model
// stopped on </tool_call> as a stop string, or ran out of tokens) is still read: its JSON decides.
export function parseToolCalls(text: string): ParsedOutput {
  const calls: ParsedToolCall[] = [];
  const invalid: ParsedOutput['invalid'] = [];
  let content = '';
  let at = 0;
  for (let start = text.indexOf(TOOL_CALL_OPEN); start >= 0; start = text.indexOf(TOOL_CALL_OPEN, at)) {
    content += text.slice(at, start);
    const block = toolCallBlockAt(text, start);
    at = block.end;
    const body = block.body.trim();
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      invalid.push({ text: body, error: `not JSON: ${(error as Error).message}` });
      continue;
    }
    const parsed = CallBody.safeParse(json);
    if (!parsed.success) {
      invalid.push({ text: body, error: parsed.error.issues.map((i) => `${i.path.join('.') || 'call'}: ${i.message}`).join('; ') });
      continue;
    }
    let args = parsed.data.arguments;
    // Some models write arguments as a JSON string; read it when it is an object.
    if (typeof args === 'string') {
      try {
        const inner: unknown = JSON.parse(args);
        if (!inner || typeof inner !== 'object' || Array.isArray(inner)) throw new Error('not an object');
        args = inner as Record<string, unknown>;
      } catch {
        invalid.push({ text: body, error: 'arguments: expected a JSON object' });
        continue;
      }
    }
    calls.push({ name: parsed.data.name, arguments: args });
  }
  content += text.slice(at);
  return { content: content.trim(), calls, invalid };
}

export const hasToolCallMarkup = (text: string): boolean => text.includes('<tool_call>');

// The text a safety check reads: the template's tags are the platform's markup, not anyone's words,
// and the moderation model reads them as words (measured: it scored "<tool_response>\n4\n</tool_response>",
// a client's tool result on /v1/chat/completions, as self_harm and the turn was refused).
export const withoutToolMarkup = (text: string): string => text.replace(/<\/?(?:tool_call|tool_response)>/g, ' ').trim();

/** JSON as Python's json.dumps writes it (", " and ": "), which Qwen2.5's template's `tojson` uses */
export function pyJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`).join(', ')}}`;
}

/** the tools block that follows the system message's content in the system turn, byte for byte as Qwen2.5's template renders `tools` */
export function toolsSystemBlock(tools: readonly unknown[]): string {
  return '\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>'
    + tools.map((t) => `\n${pyJson(t)}`).join('')
    + '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';
}

/** one call as the assistant writes it */
export function toolCallText(name: string, args: unknown): string {
  return `<tool_call>\n{"name": ${JSON.stringify(name)}, "arguments": ${pyJson(args)}}\n</tool_call>`;
}

/** a tool's result as it goes back to the model (inside a user turn) */
export function toolResponseText(content: string): string {
  return `<tool_response>\n${content}\n</tool_response>`;
}

// The conversation's own system prompt followed by the tools section (the same text as the OpenAI
// route's: one renderer for both, so a model sees one format).
export function renderToolsSystemPrompt(systemPrompt: string | null, tools: readonly ToolFunction[]): string {
  return withToolsPrompt(systemPrompt, toolsSystemBlock(tools.map((t) => ({ type: 'function', function: t })))) ?? '';
}

/** a system prompt with a tools section (toolsSystemBlock's text) at its end, as Qwen2.5's template puts it */
export function withToolsPrompt(systemPrompt: string | null, block: string | null): string | null {
  if (!block) return systemPrompt;
  return systemPrompt ? `${systemPrompt}${block}` : block.replace(/^\n+/, '');
}

// A call as the assistant writes it (for transcripts rebuilt from events).
export const renderToolCall = (call: ParsedToolCall): string => toolCallText(call.name, call.arguments);

// The user turn that carries one round's results back (role `tool` in the OpenAI shape).
export const renderToolResponses = (results: readonly string[]): string => results.map(toolResponseText).join('\n');
