import { z } from 'zod';

// A constraint on what a generation may produce, carried with its sampling parameters from the
// request (MessageSubmitted.params) to the worker (GenerationRequested.params) and the engine, which
// compiles it into a token mask (inference/engine/json-grammar.ts, token-mask.ts). Optional: events
// written before it existed read as unconstrained.

/** a JSON Schema object as sent (its subset is checked when compiled, with a path in the error) */
export const JsonSchemaObject = z.record(z.string(), z.unknown());

export const ToolSpec = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  parameters: JsonSchemaObject,
  /** strict: unsupported JSON Schema keywords are refused instead of ignored */
  strict: z.boolean().default(false),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export const Constraint = z.discriminatedUnion('type', [
  // any JSON object (OpenAI's response_format json_object)
  z.object({ type: z.literal('json_object') }),
  // a value of the schema (response_format json_schema)
  z.object({ type: z.literal('json_schema'), schema: JsonSchemaObject, strict: z.boolean().default(true) }),
  // one (or, when parallel, several) `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` blocks
  // of the model's tool-call template, the arguments valid for the named function's parameters.
  // auto (tool choice "auto"): any text may come instead, and before a call; only once the model
  // writes `<tool_call>` must the block be a valid call of one of the tools (optional: absent = false)
  z.object({ type: z.literal('tool_calls'), tools: z.array(ToolSpec).min(1).max(128), parallel: z.boolean(), auto: z.boolean().optional() }),
  // text in which no `<tool_call>` begins: a tool round's last continuation, which must answer from the
  // results it has (tool-round.ts), as tool choice "none" with the tools still described
  z.object({ type: z.literal('no_tool_calls') }),
]);
export type Constraint = z.infer<typeof Constraint>;
