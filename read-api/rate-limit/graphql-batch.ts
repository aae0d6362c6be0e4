import {
  getOperationAST, getVariableValues, GraphQLIncludeDirective, GraphQLSkipDirective, getDirectiveValues, Kind,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode, getArgumentValues,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import { apiError } from '../errors.ts';
import { admissionOf, splitTicket, type Admitted } from './admission.ts';

// A GraphQL request's turns are admitted or refused as a whole, before any of them runs.
//
// graphql-js runs a mutation's root fields one after another, each resolver admitting its own turn:
// a request with 70 aliased sendMessage on a free-tier token appended, answered and billed 62 turns,
// then the 63rd was refused — and since the fields are non-null, that one error nulled the whole
// response, so the client never saw the ids of what it had paid for. Here a request with more than
// one turn-creating field (sendMessage, regenerate) reserves its requests (one each) and tokens
// (the sum of the estimates) in one limiter call before execution starts; if that is refused,
// nothing runs (RATE_LIMITED, data null, nothing appended). Each resolver then takes its share of
// the reservation instead of asking the limiter again, and shares left unused (a turn that failed
// validation, a field skipped) are refunded after execution. A request with one turn keeps the
// resolver's own order (its input is validated before any quota is charged).
// Mutation payloads are nullable, so a field that fails reports its own error while the others
// still return their ids.

/** the most root fields one mutation request may hold */
export const MAX_MUTATION_FIELDS = 20;
const TURN_FIELDS = new Set(['sendMessage', 'regenerate']);
const DEFAULT_MAX_TOKENS = 256;

class Shares {
  private readonly byField = new Map<string, Admitted>();
  constructor(private readonly refund: (a: Admitted) => Promise<void>) {}
  put(field: string, a: Admitted) { this.byField.set(field, a); }
  /** the share admitted for this field (once) */
  take(field: string): Admitted | undefined {
    const a = this.byField.get(field);
    this.byField.delete(field);
    return a;
  }
  async refundRest(): Promise<void> {
    const rest = [...this.byField.values()];
    this.byField.clear();
    await Promise.all(rest.map(this.refund));
  }
}

const sharesByContext = new WeakMap<object, Shares>();
export function sharesFor(ctx: object): Shares | undefined {
  return sharesByContext.get(ctx);
}

// The root fields that will run: fragments expanded, @skip/@include applied.
function rootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, variables: Record<string, unknown>, seen = new Set<string>()): FieldNode[] {
  const out: FieldNode[] = [];
  for (const sel of set.selections) {
    if (getDirectiveValues(GraphQLSkipDirective, sel, variables)?.if === true) continue;
    if (getDirectiveValues(GraphQLIncludeDirective, sel, variables)?.if === false) continue;
    if (sel.kind === Kind.FIELD) out.push(sel);
    else if (sel.kind === Kind.INLINE_FRAGMENT) out.push(...rootFields(sel.selectionSet, fragments, variables, seen));
    else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const f = fragments.get(sel.name.value);
      if (f) out.push(...rootFields(f.selectionSet, fragments, variables, seen));
    }
  }
  return out;
}

type Turn = { key: string; promptTokens: number; maxTokens: number };

function turnsOf(schema: GraphQLSchema, fields: FieldNode[], variables: Record<string, unknown>, estimate: (text: string) => number): Turn[] {
  const mutation = schema.getMutationType()?.getFields() ?? {};
  const turns: Turn[] = [];
  for (const node of fields) {
    const name = node.name.value;
    if (!TURN_FIELDS.has(name) || !mutation[name]) continue;
    const key = node.alias?.value ?? name;
    if (turns.some((t) => t.key === key)) continue; // fields of one response key are merged: one turn
    let args: Record<string, unknown> = {};
    try { args = getArgumentValues(mutation[name]!, node, variables); } catch { /* execution reports bad arguments */ }
    if (name === 'sendMessage') {
      const input = (args.input ?? {}) as { content?: string; systemPrompt?: string | null; params?: { maxTokens?: number | null } | null };
      turns.push({ key, promptTokens: estimate(`${input.systemPrompt ?? ''}${input.content ?? ''}`), maxTokens: input.params?.maxTokens ?? DEFAULT_MAX_TOKENS });
    } else {
      // A sibling answer: its prompt is the original's, unknown until the resolver reads it; the
      // reservation holds the default completion and is settled from the generation's real usage.
      turns.push({ key, promptTokens: 0, maxTokens: DEFAULT_MAX_TOKENS });
    }
  }
  return turns;
}

export const turnAdmission: Plugin = {
  async onExecute({ args, setResultAndStopExecution }) {
    const op = getOperationAST(args.document as DocumentNode, args.operationName ?? undefined);
    if (op?.operation !== 'mutation') return;
    const coerced = getVariableValues(args.schema, op.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
    if (coerced.errors) return; // execution reports them
    const variables = coerced.coerced;
    const fragments = new Map((args.document as DocumentNode).definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
    const fields = rootFields(op.selectionSet, fragments, variables);
    if (fields.length > MAX_MUTATION_FIELDS) {
      setResultAndStopExecution({
        data: null,
        errors: [apiError('BAD_USER_INPUT', `a request may hold at most ${MAX_MUTATION_FIELDS} mutation fields (this one holds ${fields.length}); send the rest in further requests`, { reason: 'TOO_MANY_MUTATIONS', limit: MAX_MUTATION_FIELDS })],
      });
      return;
    }
    const ctx = args.contextValue as unknown as GraphQLContext & { request?: Request };
    const admission = admissionOf(ctx.services);
    if (!admission || !ctx.actor) return; // the resolvers answer UNAUTHENTICATED
    const turns = turnsOf(args.schema, fields, variables, (t) => admission.estimateTokens(t));
    if (turns.length < 2) return;
    const promptTokens = turns.reduce((n, t) => n + t.promptTokens, 0);
    const maxTokens = turns.reduce((n, t) => n + t.maxTokens, 0);
    const a = await admission.admit({ actor: ctx.actor, tier: admission.tierOf(ctx.request?.headers.get('authorization')), promptTokens, maxTokens, stream: false, requests: turns.length });
    if (!a.ok) {
      // Refused as a whole: no field has run, nothing is appended.
      setResultAndStopExecution({
        data: null,
        errors: [apiError(a.kind === 'unavailable' ? 'UNAVAILABLE' : 'RATE_LIMITED', `${a.message} (this request holds ${turns.length} turns, admitted together or not at all)`, {
          retryAfter: a.retryAfterS, reason: { overloaded: 'OVERLOADED', rate_limited: 'QUOTA', unavailable: 'QUOTA_STORE_UNREACHABLE' }[a.kind], turns: turns.length, ...(a.limit ? { limit: a.limit, scope: a.scope } : {}),
        })],
      });
      return;
    }
    const parts = splitTicket(a.ticket, turns.map((t) => t.promptTokens + t.maxTokens));
    const shares = new Shares((share) => admission.settle(share.ticket, 0));
    turns.forEach((t, i) => shares.put(t.key, { ...a, ticket: parts[i]!, maxTokens: a.brownout ? Math.min(t.maxTokens, a.maxTokens) : t.maxTokens }));
    sharesByContext.set(ctx, shares);
    return {
      async onExecuteDone() {
        await shares.refundRest();
      },
    };
  },
};
