// Server-side tool calls on the page: a turn whose answer called tools (calculator, unit
// conversion, date/time, search over your own conversations) shows them as one collapsible step —
// each call with its arguments and result or error — followed by the answer the model gave with
// the results. In history, the continuations after a tool round are assistant messages naming the
// generation they continue (`continues`); they are folded into the answer they continue, so a
// turn is one answer (and regenerate's siblings stay siblings). Live, generationStream's chunks
// carry each call (`toolCall`) and the continuation's tokens (stream.js).

import { el } from './dom.js';

export const TOOL_CALL_FIELDS = 'continues toolCalls { id name arguments result status errorCode error round }';

const TOOL_CALL_BLOCK = /<tool_call>[\s\S]*?(?:<\/tool_call>|$)/g;

// The answers to one message, continuations folded into the answer they continue (`turn`: the
// answer, then each continuation). The answer shown takes the status and end of its last step.
export function foldContinuations(answers) {
  const byId = new Map(answers.map((a) => [a.id, a]));
  const roots = answers.filter((a) => !a.continues || !byId.has(a.continues));
  for (const root of roots) {
    const turn = [root];
    for (let next = answers.find((a) => a.continues === root.id); next; next = answers.find((a) => a.continues === turn.at(-1).id)) turn.push(next);
    root.turn = turn;
    root.toolCalls = turn.flatMap((a) => a.toolCalls ?? []);
    const last = turn.at(-1);
    if (last !== root) Object.assign(root, { status: last.status, finishReason: last.finishReason, usage: last.usage, error: last.error ?? root.error });
  }
  return roots;
}

// The text to show: the answer without its <tool_call> markup (the step shows the calls). Live,
// the stream's text holds the whole turn; from history, each step of the turn has its own.
export function visibleText(answer) {
  const parts = answer.liveToolCalls?.length || !answer.turn ? [answer.content] : answer.turn.map((a) => a.content);
  return parts.flatMap((t) => (t ?? '').split(TOOL_CALL_BLOCK)).map((s) => s.trim()).filter(Boolean).join('\n\n');
}

// The calls of a turn: from history, or as they arrive on the stream (`liveToolCalls`).
function callsOf(answer) {
  return answer.liveToolCalls?.length ? answer.liveToolCalls : answer.toolCalls ?? [];
}

const STATUS = { requested: 'running…', completed: 'done', failed: 'failed' };

// One collapsible step for the turn's tool calls (null when it made none).
export function toolSteps(answer) {
  const calls = callsOf(answer);
  if (calls.length === 0) return null;
  const names = [...new Set(calls.map((c) => c.name))].join(', ');
  const running = calls.some((c) => c.status === 'requested');
  const summary = `${running ? 'Using' : 'Used'} ${calls.length === 1 ? 'a tool' : `${calls.length} tools`}: ${names}`;
  return el('details', { class: 'tool-steps', 'data-tool-calls': String(calls.length) },
    el('summary', { text: summary }),
    el('ol', {}, ...calls.map((c) => el('li', { class: `tool-call ${c.status}`, 'data-tool-call': c.id },
      el('div', { class: 'tool-call-head' }, el('code', { text: c.name }), el('span', { class: 'tool-call-status', text: STATUS[c.status] ?? c.status })),
      el('pre', { class: 'tool-call-arguments', 'aria-label': 'Arguments', text: c.arguments }),
      c.status === 'completed' ? el('pre', { class: 'tool-call-result', 'aria-label': 'Result', text: c.result ?? '' }) : null,
      c.status === 'failed' ? el('p', { class: 'tool-call-error', text: `${c.errorCode ?? 'failed'}: ${c.error ?? ''}` }) : null,
    ))));
}

// A stream chunk's call (requested, then ended) merged into the live list.
export function applyToolCall(list, call) {
  const i = list.findIndex((c) => c.id === call.id);
  if (i >= 0) list[i] = call;
  else list.push(call);
  return list;
}
