import type { ToolName } from '../../schemas/tools.ts';
import { UNIT_NAMES } from './units.ts';

// Tool selection: which of a tenant's server-side tools one turn is offered (policy only: no I/O, no
// state). The saga offers the selected tools in the system turn and records their names on the
// generation (GenerationRequested.tools), so a tool round's continuation offers the same ones.
//
// Why not simply every tool: a small model calls what it is offered. Measured on the shipped
// parley-tiny v2 with the four default tools offered to every turn, it called a tool for 14 of 40
// out-of-domain requests and 15 of 29 "Could you say that again?" follow-ups ("Hello" got the time);
// and every offered schema costs prompt tokens on every turn of a 2,048-token context. So by default
// (`relevant`) a tool is offered only when the user's message carries its cue below: numbers with an
// operation for the calculator, two units (or "convert" and a unit) for conversions, a question about
// the time or date, a reference to earlier conversations or to documents. `all` offers every tool the
// tenant has (for a model that chooses well, e.g. a Qwen2.5 export with MODEL_DIR).
//
// Invariants: the result is a subset of `tools`, in their order; it depends only on (tools, text,
// mode); a tool without a cue here (none today) is always offered. The cues are English, as the
// shipped model is; a miss costs the tool (the model answers without it), never a wrong call.

export type ToolSelection = 'relevant' | 'all';

// Numbers, in digits or words ("seventeen plus twenty-five").
const NUMBERS = /\d+(?:[.,]\d+)*|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million)(?:-\w+)?\b/gi;
const countNumbers = (text: string) => text.match(NUMBERS)?.length ?? 0;

// Arithmetic: an expression (17+25, 3 x 4, 2^10), an operation word with two numbers ("add 12 and
// 30"), or a one-number operation ("the square root of 2", "15% of 80"). "Then add 4 to it" (one number, the
// other in an earlier answer) is left to the model: measured, v2 answers those follow-ups from the
// conversation and misreads them when offered the calculator.
const EXPRESSION = /\d\s*(?:[-+*/×÷^%]|\bx\b|\*\*)\s*[(\d]/i;
const OPERATION = /\b(?:plus|minus|times|multipl(?:y|ied)|divided|divide|add|added|subtract(?:ed)?|sum|product|difference|quotient|calculate|compute|total of)\b/i;
const UNARY = /\b(?:squared|cubed|square root|cube root|sqrt|percent|factorial)\b|\d\s*%\s*of\b/i;

// Units: names of 3+ letters anywhere; short abbreviations (km, g, in, h, c, f) only after digits
// ("5 km", "30c") or after in/to/into ("… in F"), where they cannot be an ordinary word.
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const byLength = [...UNIT_NAMES].sort((a, b) => b.length - a.length).map(escape);
const LONG = byLength.filter((n) => n.replace(/\\/g, '').length >= 3);
const UNIT_ANY = `(?:${byLength.join('|')})`;
const UNIT_MENTION = new RegExp(
  `(?<![\\w°])(?:${LONG.join('|')})(?![\\w])|\\d\\s*${UNIT_ANY}(?![\\w])|\\b(?:in|to|into)\\s+${UNIT_ANY}(?![\\w])`,
  'gi',
);
const CONVERT = /\b(?:convert|conversion)\b/i;

const DATETIME = /\b(?:date|today|tonight|tomorrow|yesterday|weekday|clock|o'clock|time ?zone|day of the week)\b|\b(?:what|which|the|current|local|exact)\s+(?:time|day|date|year|month)\b|\btime\s+(?:is it|now|in)\b/i;
const HISTORY = /\b(?:my|our)\s+(?:(?:old|older|earlier|previous|past|last|other)\s+)?(?:chats?|conversations?|messages|history)\b|\b(?:we|i)\s+(?:talked|discussed|spoke|chatted|mentioned|asked)\b|\b(?:last time|the other day|earlier today)\b/i;
const DOCUMENTS = /\b(?:my|our|the|these|those)\s+(?:documents?|docs|files?|notes|pdfs?|manuals?|handbook|policies|policy|sources|records)\b|\baccording to\b/i;

function unitMentions(text: string): number {
  return new Set([...text.matchAll(UNIT_MENTION)].map((m) => m[0].toLowerCase())).size;
}

const CUES: Record<ToolName, (text: string) => boolean> = {
  calculator: (t) => EXPRESSION.test(t) || (OPERATION.test(t) && countNumbers(t) >= 2) || (UNARY.test(t) && countNumbers(t) >= 1),
  convert_units: (t) => {
    const units = unitMentions(t);
    return units >= 2 || (units >= 1 && CONVERT.test(t));
  },
  current_datetime: (t) => DATETIME.test(t),
  search_history: (t) => HISTORY.test(t),
  search_documents: (t) => DOCUMENTS.test(t),
};

/** The tools a turn whose user message is `text` is offered. */
export function selectTools<T extends { name: string }>(tools: readonly T[], text: string, mode: ToolSelection = 'relevant'): T[] {
  if (mode === 'all') return [...tools];
  return tools.filter((t) => {
    const cue = CUES[t.name as ToolName];
    return cue ? cue(text) : true;
  });
}

// A message that is a request for the tool's result itself: an expression or an operation on two
// numbers, a number with two units (or "convert" and a unit), a direct question for the time or date.
// For those the first answer of the turn must be a call (the saga's constraint without free text):
// measured, the shipped model otherwise refuses "How many meters make 3 kilometers?" and answers some
// arithmetic from memory, wrongly. Its continuation answers freely from the result.
// Narrower than the cues: "add 2 eggs and 3 cups of flour" or "I ran 5 km in 30 minutes" may be
// offered a tool, but need not call it.
const NUM = String.raw`(?:\d+(?:[.,]\d+)*|[a-z]+(?:-[a-z]+)?)`;
const STRICT_OPERATION = new RegExp(String.raw`\b(?:plus|minus|times|multiplied by|divided by|subtract|sum of|product of|difference between|calculate|compute)\b|\badd\s+${NUM}\s+(?:and|to)\s+${NUM}\s*(?:[?.!]|$)`, 'i');
const HOW_MANY = /\bhow\s+(?:many|much)\b/i;
const TARGET_UNIT = new RegExp(String.raw`\b(?:in|into|to)\s+(?:an?\s+|the\s+)?${UNIT_ANY}(?![\w])`, 'i');
const ASKS_TIME = /\bwhat(?:'s| is)?\s+(?:the\s+)?(?:current\s+|exact\s+|local\s+)?(?:time|date)\b|\bwhat\s+day\s+is\s+(?:it|today)\b/i;
const DEMANDS: Partial<Record<ToolName, (text: string) => boolean>> = {
  calculator: (t) => EXPRESSION.test(t) || (STRICT_OPERATION.test(t) && countNumbers(t) >= 2),
  convert_units: (t) => countNumbers(t) >= 1 && ((CONVERT.test(t) && unitMentions(t) >= 1) || (unitMentions(t) >= 2 && (HOW_MANY.test(t) || TARGET_UNIT.test(t)))),
  current_datetime: (t) => ASKS_TIME.test(t),
};

/** Whether a turn offered `offered` (selectTools' result) must begin with a call: its message
 *  demands the result of one of them (read from the message whatever the selection mode). */
export function demandsCall(offered: readonly { name: string }[], text: string): boolean {
  return offered.some((t) => DEMANDS[t.name as ToolName]?.(text) ?? false);
}
