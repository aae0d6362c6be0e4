import { z } from 'zod';
import type { RetrievedSource } from '../../schemas/knowledge.ts';
import { ToolName, type ToolFailureCode } from '../../schemas/tools.ts';
import { calculate, MAX_EXPRESSION_CHARS } from './calculator.ts';
import { currentDateTime } from './datetime.ts';
import { ArithmeticError } from './rational.ts';
import type { ParsedToolCall, ToolFunction } from '../../schemas/tool-call-format.ts';
import { convert } from './units.ts';

// The server-side tools: each a name, a description and a zod schema for its arguments (the JSON
// Schema the model sees is derived from it), and a function that runs it. Composition (bin/) hands
// in what a tool needs from outside inference/ (search over the history read model).

export type HistoryHit = { conversationId: string; title: string; snippet: string; updatedAt: string };
// Search over ONE user's conversations: (tenant, owner) are the caller's, never the model's choice.
export type SearchHistory = (q: { tenantId: string; ownerId: string; query: string; limit: number }) => Promise<HistoryHit[]>;

// Search over a tenant's documents as ONE user may read them (shared ones and their own private
// ones): (tenant, owner) are the caller's, never the model's choice. No collections: all of them.
export type DocumentHit = {
  chunkId: string; documentId: string; title: string; collection: string; text: string;
  score: number; textRank: number | null; vectorRank: number | null;
};
export type SearchDocuments = (q: { tenantId: string; ownerId: string; collections?: readonly string[]; query: string; topK: number }) => Promise<DocumentHit[]>;

// `collections`: the ones the turn retrieves from (GenerationRequested.retrieval), for search_documents.
export type ToolContext = { tenantId: string; ownerId: string; conversationId: string; now: Date; signal: AbortSignal; collections?: readonly string[] };

type Tool<A extends z.ZodType = z.ZodType> = {
  name: ToolName;
  description: string;
  args: A;
  run(args: z.infer<A>, ctx: ToolContext): unknown | Promise<unknown>;
  // The result as the model reads it; absent: its JSON.
  render?(value: unknown): string;
  // The passages a result numbers (search_documents), recorded with the call for citations.
  sourcesOf?(value: unknown): RetrievedSource[];
};
const tool = <A extends z.ZodType>(t: Tool<A>): Tool => t as unknown as Tool;

// screenPassage: the prompt-injection check of a passage (the category, or null); search_documents
// leaves out the hits that fail it, so one bad document does not withhold the whole result.
export type ToolDeps = { searchHistory?: SearchHistory; searchDocuments?: SearchDocuments; screenPassage?: (text: string) => Promise<string | null> };

// The two search tools' arguments: words to look for and how many hits (their defaults differ).
const searchArgs = (defaultLimit: number) => z.strictObject({
  query: z.string().min(1).max(200).describe('words to look for'),
  limit: z.number().int().min(1).max(10).default(defaultLimit),
});

export function builtinTools(deps: ToolDeps = {}): Tool[] {
  const tools: Tool[] = [
    tool({
      name: 'calculator',
      description: 'Evaluates an arithmetic expression exactly (+ - * / ^ %, parentheses, decimals).',
      args: z.strictObject({ expression: z.string().min(1).max(MAX_EXPRESSION_CHARS).describe('e.g. "(1.5 + 2) * 3^2 / 7"') }),
      run: ({ expression }) => calculate(expression),
    }),
    tool({
      name: 'convert_units',
      description: 'Converts a value between units (length, mass, volume, time, area, speed, data, temperature).',
      args: z.strictObject({
        value: z.union([z.number(), z.string().max(64)]).transform(String).describe('the amount, e.g. 3.5'),
        from: z.string().min(1).max(40).describe('the unit of the value, e.g. "mi"'),
        to: z.string().min(1).max(40).describe('the unit wanted, e.g. "km"'),
      }),
      run: ({ value, from, to }) => convert(value, from, to),
    }),
    tool({
      name: 'current_datetime',
      description: 'The current date and time (UTC unless a time zone is given).',
      args: z.strictObject({ timezone: z.string().min(1).max(64).optional().describe('e.g. "Europe/Paris"') }),
      run: ({ timezone }, ctx) => currentDateTime(ctx.now, timezone),
    }),
  ];
  if (deps.searchHistory) {
    const search = deps.searchHistory;
    tools.push(tool({
      name: 'search_history',
      description: "Searches the user's earlier conversations.",
      args: searchArgs(5),
      // Scoped by the caller's (tenant, owner) from the turn, never by an argument.
      run: async ({ query, limit }, ctx) => ({ query, results: await search({ tenantId: ctx.tenantId, ownerId: ctx.ownerId, query, limit }) }),
    }));
  }
  if (deps.searchDocuments) {
    const search = deps.searchDocuments;
    tools.push(tool({
      name: 'search_documents',
      description: "Searches the user's documents; returns passages to cite like [1].",
      args: searchArgs(3),
      // Scoped exactly like retrieval in the turn: the caller's (tenant, owner), the turn's collections.
      run: async ({ query, limit }, ctx) => {
        const hits = await search({ tenantId: ctx.tenantId, ownerId: ctx.ownerId, ...(ctx.collections?.length ? { collections: ctx.collections } : {}), query, topK: limit });
        const blocked = deps.screenPassage ? await Promise.all(hits.map((h) => deps.screenPassage!(h.text))) : [];
        return { query, results: hits.filter((_, i) => !blocked[i]) };
      },
      render: (value) => renderDocumentHits((value as { results: DocumentHit[] }).results),
      sourcesOf: (value) => (value as { results: DocumentHit[] }).results.map((h, i) => ({
        index: i + 1, chunkId: h.chunkId, documentId: h.documentId, collection: h.collection, score: h.score, textRank: h.textRank, vectorRank: h.vectorRank,
      })),
    }));
  }
  return tools;
}

// search_documents' result as the model is trained to read it (inference/model, "search"):
// `[1] <title>: <passage>` per line, or `No results.`.
export function renderDocumentHits(hits: readonly Pick<DocumentHit, 'title' | 'text'>[]): string {
  if (hits.length === 0) return 'No results.';
  return hits.map((h, i) => `[${i + 1}] ${h.title.replace(/\s+/g, ' ').trim()}: ${h.text.replace(/\s+/g, ' ').trim()}`).join('\n');
}

// What the model is offered: name, description, JSON Schema of the arguments — without the bounds
// (minLength, maximum, …) that only validation needs: zod still checks every call (a bad value comes
// back to the model as INVALID_ARGUMENTS), and each offered token is prefill on every turn. With the
// shorter descriptions, the default offer (four tools) went from 1,578 to 1,299 tokens of the shipped v1
// tokenizer and from 781 to 543 of v2's (stage 5 of the v2 model trained on this text).
const VALIDATION_ONLY = new Set(['minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems']);
const offered = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(offered);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => !VALIDATION_ONLY.has(k)).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([p, x]) => [p, offered(x)])) : offered(v)]));
};
// Derived once per tool (a tool never changes after builtinTools made it), not on every turn that
// offers it: the system turn and the turn's call constraint (constraint.ts) both read it, and
// z.toJSONSchema costs about 0.04 ms a tool. Callers read the result, never change it.
const functionOf = new WeakMap<Tool, ToolFunction>();
export const toolFunctions = (tools: readonly Tool[]): ToolFunction[] =>
  tools.map((t) => {
    let f = functionOf.get(t);
    if (!f) {
      const { $schema: _drop, ...parameters } = z.toJSONSchema(t.args, { io: 'input' }) as Record<string, unknown>;
      f = { name: t.name, description: t.description, parameters: offered(parameters) as Record<string, unknown> };
      functionOf.set(t, f);
    }
    return f;
  });

export type ToolOutcome =
  | { ok: true; result: string; truncated: boolean; latencyMs: number; sources?: RetrievedSource[] }
  | { ok: false; code: ToolFailureCode; message: string; latencyMs: number };

export type RunLimits = { timeoutMs: number; maxResultChars: number };
export const DEFAULT_RUN_LIMITS: RunLimits = { timeoutMs: 5_000, maxResultChars: 4_000 };

class ToolTimeout extends Error {}

// Runs one call: the tool must be among `tools` (the tenant's), its arguments must match its
// schema; it gets `timeoutMs` and its JSON result is cut to `maxResultChars`. Never throws: every
// way a call can go wrong is an outcome the model is told about.
export async function runToolCall(
  tools: readonly Tool[], call: ParsedToolCall, ctx: Omit<ToolContext, 'signal'>, limits: RunLimits = DEFAULT_RUN_LIMITS,
  clock: () => number = () => performance.now(),
): Promise<ToolOutcome> {
  const started = clock();
  const latency = () => Math.max(0, Math.round((clock() - started) * 1000) / 1000);
  const t = tools.find((x) => x.name === call.name);
  if (!t) return { ok: false, code: 'UNKNOWN_TOOL', message: `no tool named "${call.name}" is available`, latencyMs: latency() };
  const args = t.args.safeParse(call.arguments);
  if (!args.success) {
    return { ok: false, code: 'INVALID_ARGUMENTS', message: args.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; '), latencyMs: latency() };
  }
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => t.run(args.data, { ...ctx, signal: abort.signal })),
      new Promise<never>((_, reject) => { timer = setTimeout(() => { abort.abort(); reject(new ToolTimeout()); }, limits.timeoutMs); }),
    ]);
    let result = t.render ? t.render(value) : JSON.stringify(value);
    const truncated = result.length > limits.maxResultChars;
    if (truncated) result = `${result.slice(0, limits.maxResultChars)}…[truncated]`;
    return { ok: true, result, truncated, latencyMs: latency(), ...(t.sourcesOf ? { sources: t.sourcesOf(value) } : {}) };
  } catch (error) {
    if (error instanceof ToolTimeout) return { ok: false, code: 'TIMEOUT', message: `${t.name} did not finish within ${limits.timeoutMs} ms`, latencyMs: latency() };
    // A tool's own refusal (bad arithmetic, unknown unit) is for the model; anything else is reported by kind only.
    const message = error instanceof ArithmeticError ? error.message : `${t.name} failed`;
    return { ok: false, code: 'TOOL_ERROR', message, latencyMs: latency() };
  } finally {
    clearTimeout(timer);
  }
}

export type { Tool };
