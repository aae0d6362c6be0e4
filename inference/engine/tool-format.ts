// The model's tool-call template (Qwen2.5 / Hermes style), in one place: how tools are offered in
// the system turn, how the assistant writes a call, how a tool's result goes back, and how calls
// are read out of generated text. The texts are byte for byte what Qwen2.5's chat template renders
// for `tools`, `tool_calls` and role `tool`, so a model trained on that template sees the same
// prompt whether the block comes from here (the shipped template ignores `tools`) or from its own
// template.

// The texts live in schemas/tool-call-format.ts (one renderer for the OpenAI route and the saga's
// server-side tools); this module adds the OpenAI route's all-or-nothing reading of a completion.
export { pyJson, toolsSystemBlock, toolCallText, toolResponseText } from '../../schemas/tool-call-format.ts';
import { TOOL_CALL_OPEN as OPEN, toolCallBlockAt } from '../../schemas/tool-call-format.ts';

export interface ParsedToolCall { name: string; arguments: Record<string, unknown> }

/**
 * The calls in a generated text: the text before the first `<tool_call>` (trimmed; null if empty)
 * and every block's {name, arguments}. null when the text holds no call, or any block is not a
 * valid call of one of `names` (then the whole text is an ordinary answer).
 */
export function parseToolCalls(text: string, names: ReadonlySet<string>): { content: string | null; calls: ParsedToolCall[] } | null {
  const first = text.indexOf(OPEN);
  if (first < 0) return null;
  const calls: ParsedToolCall[] = [];
  let at = first;
  while (at < text.length) {
    if (!text.startsWith(OPEN, at)) return null; // text between or after calls
    // a block's extent as the saga reads it (schemas/tool-call-format.ts); here it must be closed and hold one object
    const block = toolCallBlockAt(text, at);
    const body = block.body.trim();
    if (!block.closed || body[0] !== '{') return null;
    let v: unknown;
    try {
      v = JSON.parse(body);
    } catch {
      return null;
    }
    const { name, arguments: a } = v as { name?: unknown; arguments?: unknown };
    let args = a;
    if (typeof args === 'string') {
      try { args = JSON.parse(args); } catch { return null; }
    }
    if (typeof name !== 'string' || !names.has(name) || !args || typeof args !== 'object' || Array.isArray(args)) return null;
    calls.push({ name, arguments: args as Record<string, unknown> });
    at = block.end;
    while (/\s/.test(text[at] ?? '')) at++;
  }
  const content = text.slice(0, first).trim();
  return { content: content || null, calls };
}
