import { parseToolCalls } from '../schemas/tool-call-format.ts';

// Tool turns in the RLHF exports. A generation that called server-side tools is written as the
// formats expect a tool-calling assistant turn:
//  trl / kto: {role: assistant, content, tool_calls: [{type: function, function: {name, arguments: {…}}}]},
//             then {role: tool, name, content} per call (transformers' chat-template convention);
//  openai:    {role: assistant, content, tool_calls: [{id, type: function, function: {name, arguments: "<json>"}}]},
//             then {role: tool, tool_call_id, content} per call (OpenAI chat format).
// A failed call's content is what the model was told: {"error": code, "message": …}.

export type ToolCallRow = { id: string; generation_id: string; idx: number; name: string; arguments: string; status: string; result: string | null; error_code: string | null; error: string | null };
export type ExportMessage = Record<string, unknown>;

const resultOf = (c: ToolCallRow) => (c.status === 'completed' ? c.result ?? '' : JSON.stringify({ error: c.error_code ?? 'NO_RESULT', message: c.error ?? 'the call has no result' }));

function argumentsObject(text: string): unknown {
  try { return JSON.parse(text); } catch { return {}; }
}

export function toolTurn(format: 'trl' | 'openai' | 'kto', text: string, calls: readonly ToolCallRow[]): ExportMessage[] {
  const content = parseToolCalls(text).content;
  if (format === 'openai') {
    return [
      { role: 'assistant', content: content || null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) },
      ...calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: resultOf(c) })),
    ];
  }
  return [
    { role: 'assistant', content, tool_calls: calls.map((c) => ({ type: 'function', function: { name: c.name, arguments: argumentsObject(c.arguments) } })) },
    ...calls.map((c) => ({ role: 'tool', name: c.name, content: resultOf(c) })),
  ];
}
