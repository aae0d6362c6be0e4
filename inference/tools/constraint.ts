// The output constraint of a turn offered server-side tools (schemas/constraint.ts, tool choice
// "auto"): the model may answer in text, but a `<tool_call>` it begins must name one of the tools
// offered, with arguments of that tool's schema; the engine masks every other token
// (inference/engine/token-mask.ts), as llama.cpp's lazy grammars and vLLM's structured outputs do.
// Why: a small model names tools it was never offered and misspells argument keys — the shipped one
// answered "What do you get for 7 * 2?" with a call to `get__note`, 23 of the 94 arithmetic turns
// of `npm run eval:tool-turns` — and such a call fails instead of reaching the calculator.
import type { Constraint } from '../../schemas/constraint.ts';
import { toolFunctions, type Tool } from './registry.ts';

/** Tool calls of `tools` (several per turn) or text; null when none is offered. */
export function toolCallConstraint(tools: readonly Tool[]): Constraint | null {
  if (tools.length === 0) return null;
  return {
    type: 'tool_calls',
    tools: toolFunctions(tools).map((f) => ({ name: f.name, parameters: f.parameters, strict: false })),
    parallel: true,
    auto: true,
  };
}
