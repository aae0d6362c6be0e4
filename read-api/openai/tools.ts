import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Constraint, ToolSpec } from '../../schemas/constraint.ts';
import { checkConstraint } from '../../inference/engine/engine.ts';
import { toolsSystemBlock } from '../../inference/engine/tool-format.ts';
import { invalidRequest } from './errors.ts';

// `tools`, `tool_choice`, `parallel_tool_calls` and `response_format` of a chat completion: checked
// (a 400 naming the parameter, an unsupported JSON Schema included), and turned into what the turn
// needs — the tools block of the system prompt, the constraint the engine enforces, and how the
// answer is read (tool calls parsed out of the text or not).
//
// `required` and a named function are enforced by constraining the whole output to the model's
// tool-call envelope (`<tool_call>\n{"name": …, "arguments": …}\n</tool_call>`, token-mask.ts) rather
// than to the bare arguments object: the stored answer is then in the same form as a call the model
// made by itself under `auto` (one parser, one history format, the form the model is trained on),
// and parallel calls are one more envelope rather than a second request. `auto` constrains only a
// call the model begins (free text until `<tool_call>`): its name is one of the tools, its arguments
// valid for that tool's schema.

const FunctionDef = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, underscores or dashes'),
  description: z.string().max(8192).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().nullable().optional(),
});
const ToolDef = z.object({ type: z.literal('function'), function: FunctionDef });
const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
]);
const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, underscores or dashes'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

export type ToolMode = 'none' | 'auto' | 'required' | 'named';

export type ToolPlan = {
  /** how the answer is read: 'none' never looks for calls */
  mode: ToolMode;
  /** the function names a call may name */
  names: string[];
  parallel: boolean;
  /** appended to the system prompt (null: no tools offered) */
  systemBlock: string | null;
  /** what the engine must enforce (null: free text) */
  constraint: Constraint | null;
};

export const NO_TOOLS: ToolPlan = { mode: 'none', names: [], parallel: false, systemBlock: null, constraint: null };

function parsed<T>(schema: z.ZodType<T>, value: unknown, param: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = [param, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].join('.');
  throw invalidRequest(`${where}: ${issue.message}`, where);
}

function checked(c: Constraint, param: string, what: string): Constraint {
  const problem = checkConstraint(c);
  if (problem) throw invalidRequest(`Invalid schema for ${what}: ${problem}`, param, 'invalid_schema');
  return c;
}

export function toolPlan(r: { tools?: unknown; tool_choice?: unknown; parallel_tool_calls?: unknown; response_format?: unknown }): ToolPlan {
  const tools = r.tools === undefined || r.tools === null ? [] : parsed(z.array(ToolDef).max(128, 'at most 128 tools'), r.tools, 'tools');
  const specs: ToolSpec[] = tools.map((t, i) => {
    const spec = { name: t.function.name, parameters: t.function.parameters ?? { type: 'object', properties: {} }, strict: t.function.strict === true };
    checked({ type: 'tool_calls', tools: [spec], parallel: false }, `tools.[${i}].function.parameters`, `function '${spec.name}'`);
    return spec;
  });
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (seen.has(s.name)) throw invalidRequest(`tools.[${i}].function.name: duplicate function name '${s.name}'`, `tools.[${i}].function.name`);
    seen.add(s.name);
  });
  const parallel = r.parallel_tool_calls === undefined || r.parallel_tool_calls === null ? true : parsed(z.boolean(), r.parallel_tool_calls, 'parallel_tool_calls');
  const choice = r.tool_choice === undefined || r.tool_choice === null ? (specs.length ? 'auto' : 'none') : parsed(ToolChoice, r.tool_choice, 'tool_choice');
  if (choice !== 'none' && specs.length === 0) throw invalidRequest("tool_choice is only allowed when 'tools' are specified", 'tool_choice');
  const format = r.response_format === undefined || r.response_format === null ? { type: 'text' as const } : parsed(ResponseFormat, r.response_format, 'response_format');
  const formatConstraint = responseConstraint(format);

  if (choice === 'none' || specs.length === 0) return { ...NO_TOOLS, constraint: formatConstraint };
  const systemBlock = toolsSystemBlock(tools.map((t) => ({ type: 'function', function: t.function })));
  const names = specs.map((s) => s.name);
  // auto: text, or calls that name one of these tools with valid arguments (a response_format, if
  // any, is the constraint instead: the two do not combine)
  if (choice === 'auto') return { mode: 'auto', names, parallel, systemBlock, constraint: formatConstraint ?? { type: 'tool_calls', tools: specs, parallel, auto: true } };
  if (choice === 'required') return { mode: 'required', names, parallel, systemBlock, constraint: { type: 'tool_calls', tools: specs, parallel } };
  const named = specs.find((s) => s.name === choice.function.name);
  if (!named) throw invalidRequest(`tool_choice names function '${choice.function.name}', which is not in tools`, 'tool_choice.function.name');
  return { mode: 'named', names: [named.name], parallel: false, systemBlock, constraint: { type: 'tool_calls', tools: [named], parallel: false } };
}

function responseConstraint(f: z.infer<typeof ResponseFormat>): Constraint | null {
  if (f.type === 'text') return null;
  if (f.type === 'json_object') return { type: 'json_object' };
  const schema = f.json_schema.schema ?? { type: 'object' };
  return checked({ type: 'json_schema', schema, strict: f.json_schema.strict === true }, 'response_format.json_schema.schema', `response_format '${f.json_schema.name}'`);
}

/** A stable id for the i-th call of a generation (the same on a retried attempt) that names its
 *  generation: `call_<generation id>_<i>`. A client sends it back as a tool result's `tool_call_id`
 *  (possibly in another request, another conversation, another API process), and the result is
 *  recorded on that generation's stream — the id alone says where, with no lookup table and no wait
 *  for a read model. The generation id is no secret from the caller (it is X-Parley-Generation);
 *  another user's id leads nowhere (client-tool-results.ts checks the owner, so does the decider). */
export function toolCallId(generationId: string, i: number): string {
  const id = `call_${generationId}_${i}`;
  // an id may have 128 characters: a (never minted) longer generation id gets a hash, not found later
  return id.length <= 128 ? id : `call_${createHash('sha256').update(`${generationId}:${i}`).digest('base64url').slice(0, 24)}`;
}

/** the generation and index a call id of toolCallId's names (null: not one of Parley's client call ids) */
export function parseToolCallId(id: string): { generationId: string; index: number } | null {
  const m = /^call_([A-Za-z0-9_.:-]+)_(\d{1,4})$/.exec(id);
  return m ? { generationId: m[1]!, index: Number(m[2]) } : null;
}
