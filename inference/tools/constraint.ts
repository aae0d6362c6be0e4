// The output constraint of a turn offered server-side tools (schemas/constraint.ts, tool choice
// "auto"): the model may answer in text, but a `<tool_call>` it begins must name one of the tools
// offered, with arguments of that tool's schema; the engine masks every other token
// (inference/engine/token-mask.ts), as llama.cpp's lazy grammars and vLLM's structured outputs do.
// Why: a small model names tools it was never offered and misspells argument keys — the shipped one
// answered "What do you get for 7 * 2?" with a call to `get__note`, 23 of the 94 arithmetic turns
// of `npm run eval:tool-turns` — and such a call fails instead of reaching the calculator.
import type { Constraint } from '../../schemas/constraint.ts';
import type { ToolFunction } from '../../schemas/tool-call-format.ts';
import { toolFunctions, type Tool } from './registry.ts';

/** Tool calls of `tools` (several per turn) or text — only calls when `callFirst` (selection.ts
 *  demandsCall); text only (`no_tool_calls`) when none is offered. Why the latter: the model learnt
 *  calls and still begins one now and then when no tool is relevant ("My name is Bob." … "What is my
 *  name?" began `<tool_call>` and ran to the token limit); nothing could run it and its markup would
 *  reach the user, so the engine masks `<tool_call>` instead. */
export function toolCallConstraint(tools: readonly Tool[], callFirst = false): Constraint {
  return tools.length === 0 ? { type: 'no_tool_calls' } : toolCallConstraintOf(toolFunctions(tools), callFirst);
}

/** The same for function definitions as offered in a prompt (e.g. a golden item's tools). */
export function toolCallConstraintOf(functions: readonly Pick<ToolFunction, 'name' | 'parameters'>[], callFirst = false): Constraint {
  return { type: 'tool_calls', tools: functions.map((f) => ({ name: f.name, parameters: f.parameters, strict: false })), parallel: true, ...(callFirst ? {} : { auto: true }) };
}

/** A continuation's constraint: the turn's, with text allowed again (it answers from the results). */
export function continuationConstraint(c: Constraint): Constraint {
  return c.type === 'tool_calls' && !c.auto ? { ...c, auto: true } : c;
}

/** Rounds of tool calls a turn may make (the saga's tool-round.ts refuses calls past them). */
export const MAX_TOOL_ROUNDS = 4;

/** The constraint of the generation that follows tool round `round` (1: the calls of the turn's first
 *  generation): text only (`no_tool_calls`) after the last round, or when this round's calls all failed
 *  and so did the round's before (one retry after a failure); else the turn's `turn` constraint with
 *  text allowed again; null: none. The saga's rule (tool-round.ts), replayed by eval-tool-turns. */
export function afterRoundConstraint(turn: Constraint | null | undefined, round: number, failedAgain: boolean): Constraint | null {
  if (round >= MAX_TOOL_ROUNDS || failedAgain) return { type: 'no_tool_calls' };
  return turn ? continuationConstraint(turn) : null;
}
