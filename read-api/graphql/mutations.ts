import { randomInt } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import type { CommandSuccess } from '../../commands/command-result.ts';
import { canActOn } from '../../domain/access.ts';
import { foldGeneration, inputBlocked } from '../../domain/generation-view.ts';
import { eraseUserData } from '../../commands/erasure.ts';
import { appealIdOf } from '../../commands/event-ids.ts';
import { waitForProjection } from '../../projections/projection-runner.ts';
import type { Actor } from '../../schemas/common.ts';
import { requireActor, type GraphQLContext } from '../context.ts';
import { apiError, fromCommandError } from '../errors.ts';
import { getConversation, openMessages, toConversation, toMessage } from '../read-models.ts';
import { tierOfGraphQL } from '../rate-limit/admission.ts';
import { admitTurn } from '../rate-limit/graphql.ts';
import { newTurn, submitTurn } from '../submit-turn.ts';
import { newCounts, startUserDataExport } from '../subject-access/index.ts';
import { parseSafetySettings } from '../safety-settings.ts';
import { chooseModel } from '../models.ts';
import { parseRetrieval } from '../knowledge/retrieval-input.ts';

type Sampling = { temperature?: number; topP?: number; topK?: number; maxTokens?: number; seed?: number; stop?: string[]; speculative?: boolean };

// Runs a command as the caller; a rejected command becomes a GraphQL error with a stable code.
async function run(ctx: GraphQLContext, actor: Actor, type: string, data: Record<string, unknown>): Promise<CommandSuccess> {
  return runAll(ctx, actor, [[type, data]]);
}

// Commands on one stream, appended together or not at all.
async function runAll(ctx: GraphQLContext, actor: Actor, commands: [string, Record<string, unknown>][], options: { dryRun?: boolean } = {}): Promise<CommandSuccess> {
  // One correlation id for the whole request: it follows the turn through saga, worker and projections.
  const correlationId = ctx.correlationId ?? ctx.services.newId();
  const result = await ctx.services.commands.executeAll(
    commands.map(([type, data]) => ({ type, data, metadata: { commandId: ctx.services.newId(), actor, correlationId } })),
    options,
  );
  if (!result.ok) throw fromCommandError(result.error);
  return result;
}

// The read model may lag the log; mutations answer from it after it caught up with their write.
async function conversationAfter(ctx: GraphQLContext, actor: Actor, id: string, position: string) {
  await waitForProjection(ctx.services.knex, 'history', position);
  const row = await getConversation(ctx.services.knex, actor, id, ctx.services.keys);
  if (!row) throw apiError('INTERNAL', 'the history read model is behind; retry with consistentWith');
  return toConversation(row);
}

// safetySettings checked against the caller's tenant's floors and the platform's (BAD_USER_INPUT naming the category).
function safetySettingsOf(ctx: GraphQLContext, actor: Actor, input: unknown, field: string) {
  const r = parseSafetySettings(input, actor.tenantId, ctx.services.tenantPolicies, field);
  if (!r.ok) throw apiError('BAD_USER_INPUT', r.problem.message, { field: r.problem.field, reason: r.problem.reason, ...(r.problem.category ? { category: r.problem.category } : {}) });
  return r.settings;
}

// The model asked for (or the tenant's default), or BAD_USER_INPUT on field `model`. The token's
// tier is read as the OpenAI routes read it, so a model limited to tiers is limited here too.
function modelOf(ctx: GraphQLContext, actor: Actor, asked: string | null | undefined): string {
  const choice = chooseModel(ctx.services, actor, asked, tierOfGraphQL(ctx));
  if (!choice.ok) throw apiError('BAD_USER_INPUT', choice.message, { field: 'model' });
  return choice.model;
}

/** A regenerated answer's temperature when the original was greedy (the API's old default for
 *  GraphQL turns, and the usual chat "try again" setting). */
const REGENERATE_TEMPERATURE = 0.7;

const stripNulls = (o: Record<string, unknown> | null | undefined) =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== null && v !== undefined));

export const mutationResolvers = {
  startConversation: async (_: unknown, { input }: { input: { title?: string; systemPrompt?: string; model?: string; safetySettings?: unknown } }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const safetySettings = safetySettingsOf(ctx, actor, input.safetySettings, 'input.safetySettings');
    const model = modelOf(ctx, actor, input.model);
    const id = ctx.services.newId();
    const result = await run(ctx, actor, 'StartConversation', {
      conversationId: id, ...stripNulls(input), model, safetySettings,
    });
    return { conversation: await conversationAfter(ctx, actor, id, result.position), position: result.position };
  },

  sendMessage: async (
    _: unknown,
    { input }: { input: { conversationId?: string; content: string; parentMessageId?: string; params?: Sampling; systemPrompt?: string; title?: string; safetySettings?: unknown; model?: string; retrieval?: unknown } },
    ctx: GraphQLContext,
    info?: GraphQLResolveInfo,
  ) => {
    const actor = requireActor(ctx);
    // Settings belong to a conversation (ConversationStarted): an existing one keeps those it began with.
    if (input.conversationId && input.safetySettings) {
      throw apiError('BAD_USER_INPUT', 'safetySettings are set when a conversation starts; this conversation keeps its own', { field: 'input.safetySettings' });
    }
    const safetySettings = safetySettingsOf(ctx, actor, input.safetySettings, 'input.safetySettings');
    // A model named here opens the conversation with it, or overrides an existing one's for this turn.
    const model = modelOf(ctx, actor, input.model);
    // Retrieval for this turn and the conversation's later ones (BAD_USER_INPUT naming the field).
    const retrieval = parseRetrieval(input.retrieval, 'input.retrieval');
    const turn = newTurn(ctx.services, input.conversationId ?? null);
    const { conversationId, messageId, generationId } = turn;
    const submit = async (params: Record<string, unknown>, options: { dryRun?: boolean } = {}) => {
      const r = await submitTurn(ctx.services, turn, {
        actor, correlationId: ctx.correlationId ?? ctx.services.newId(), content: input.content, parentMessageId: input.parentMessageId,
        params, title: input.title, systemPrompt: input.systemPrompt, model, ...(input.model != null ? { messageModel: model } : {}), safetySettings, ...(retrieval ? { retrieval } : {}),
      }, options);
      if (!r.ok) throw fromCommandError(r.error);
      return r;
    };
    // Bad input is reported as such before any quota is charged.
    await submit(stripNulls(input.params), { dryRun: true });
    // Quotas and load shedding: a refused turn appends nothing (RATE_LIMITED with retryAfter).
    const gate = await admitTurn(ctx, actor, { maxTokens: input.params?.maxTokens, promptText: input.content }, info?.path.key);
    const result = await gate.run(generationId, () => submit(gate.params(stripNulls(input.params))));
    // The history read model is waited for only when the client selects from it: a client that
    // asks for just the generation id subscribes to the answer that much sooner. (graphql-js calls
    // a function-valued field with (args, context, info).)
    let conversation: ReturnType<typeof conversationAfter> | null = null;
    const historyConversation = () => (conversation ??= conversationAfter(ctx, actor, conversationId, result.position));
    return {
      conversation: historyConversation,
      message: async () => {
        await historyConversation();
        return (await openMessages(ctx.services.keys, await ctx.services.knex('history_messages').where({ id: messageId }))).map(toMessage)[0];
      },
      generation: { id: generationId },
      position: result.position,
    };
  },

  regenerate: async (_: unknown, { generationId }: { generationId: string }, ctx: GraphQLContext, info?: GraphQLResolveInfo) => {
    const actor = requireActor(ctx);
    const original = (await ctx.services.store.readStream(`generation-${generationId}`, { limit: 1 }))[0];
    if (!original || original.type !== 'GenerationRequested' || !canActOn(actor, original.data)) {
      throw apiError('NOT_FOUND', 'generation not found', { field: 'generationId' });
    }
    // A message the input check blocked is never sent to the model, regenerated or not. The request
    // records the decision; one older than v2 has it only on the conversation's stream.
    let view = foldGeneration([original]);
    if (!view.input) view = foldGeneration((await ctx.services.store.readStream(`conversation-${original.data.conversationId}`)).filter((e) => e.type === 'SafetyChecked'), view);
    // The sibling copies the request, prompt included (the API decrypts it and the store seals it
    // again for the new stream): it answers exactly what the original answered.
    if (inputBlocked(view)) throw apiError('FORBIDDEN', 'this message was blocked by the safety policy, so it cannot be answered', { reason: 'INPUT_BLOCKED', field: 'generationId' });
    // A sibling: same message and context, a new answer. Both stay in history and in RLHF exports.
    const id = ctx.services.newId();
    const gate = await admitTurn(ctx, actor, { maxTokens: original.data.params.maxTokens, promptTokens: original.data.context.promptTokens }, info?.path.key);
    // A fresh seed: the original's (OpenAI calls always record one) would sample the same answer
    // again. Recorded, so a retry of the sibling after a worker dies still gives the same text.
    // A greedy original (temperature 0: the shipped model's default) would give the same text
    // whatever the seed, so its sibling samples at REGENERATE_TEMPERATURE: another answer is asked for.
    const params = { ...original.data.params, seed: randomInt(2 ** 31 - 1), ...(original.data.params.temperature === 0 ? { temperature: REGENERATE_TEMPERATURE } : {}) };
    const result = await gate.run(id, () => run(ctx, actor, 'RequestGeneration', {
      ...original.data, generationId: id, siblingOf: original.data.siblingOf ?? original.data.generationId,
      params: gate.params(params), ...gate.request(),
    }), { hint: false });
    return { generation: { id }, position: result.position };
  },

  cancelGeneration: async (_: unknown, { id }: { id: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await run(ctx, actor, 'CancelGeneration', { generationId: id });
    return { generation: { id }, position: result.position };
  },

  giveFeedback: async (_: unknown, { input }: { input: { generationId: string; rating: 'UP' | 'DOWN'; comment?: string } }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await run(ctx, actor, 'GiveFeedback', {
      generationId: input.generationId, rating: input.rating.toLowerCase(), comment: input.comment ?? null,
    });
    return { generation: { id: input.generationId }, position: result.position };
  },

  renameConversation: async (_: unknown, { id, title }: { id: string; title: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await run(ctx, actor, 'RenameConversation', { conversationId: id, title });
    return { conversation: await conversationAfter(ctx, actor, id, result.position), position: result.position };
  },

  deleteConversation: async (_: unknown, { id }: { id: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await run(ctx, actor, 'DeleteConversation', { conversationId: id });
    await waitForProjection(ctx.services.knex, 'history', result.position);
    return { id, deleted: true, position: result.position };
  },

  fileAppeal: async (_: unknown, args: { safetyEventId: string; reason: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    // Only a safety decision about the caller's own content can be appealed.
    const decision = /^[0-9a-f-]{36}$/i.test(args.safetyEventId)
      ? await ctx.services.knex('audit_log').where({ event_id: args.safetyEventId, event_type: 'SafetyChecked' }).first('user_id', 'tenant_id')
      : undefined;
    if (!decision || !canActOn(actor, { ownerId: decision.user_id, tenantId: decision.tenant_id })) {
      throw apiError('NOT_FOUND', 'no safety decision with this id is yours to appeal', { field: 'safetyEventId' });
    }
    const appealId = appealIdOf(args.safetyEventId); // one appeal per decision (CONFLICT for a second)
    const result = await run(ctx, actor, 'FileAppeal', { appealId, safetyEventId: args.safetyEventId, reason: args.reason });
    return { appealId, position: result.position };
  },

  eraseUserData: async (_: unknown, { userId, tenantId }: { userId: string; tenantId?: string | null }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await eraseUserData(ctx.services.commands, ctx.services.keys ?? null, actor, userId, ctx.services.newId(), tenantId ?? undefined);
    if (!result.ok) throw fromCommandError(result.error);
    await waitForProjection(ctx.services.knex, 'history', result.position);
    return true;
  },

  exportUserData: async (_: unknown, { userId, tenantId }: { userId: string; tenantId?: string | null }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const started = await startUserDataExport(ctx.services, actor, userId, 'graphql', tenantId ?? undefined);
    if (!started.ok) throw apiError(started.code, started.message, started.field ? { field: started.field } : {});
    const counts = newCounts();
    const lines = [JSON.stringify(started.header)];
    for await (const record of started.records) {
      counts[record.kind]++;
      lines.push(JSON.stringify(record));
    }
    const { header } = started;
    return {
      userId: header.userId, tenantId: header.tenantId, exportedBy: header.exportedBy, exportedAt: header.exportedAt, eventId: header.eventId,
      position: header.position, counts: Object.entries(counts).map(([kind, count]) => ({ kind, count })), jsonl: lines.join('\n') + '\n',
    };
  },

  resolveAppeal: async (_: unknown, args: { appealId: string; outcome: 'upheld' | 'overturned'; note?: string }, ctx: GraphQLContext) => {
    const actor = requireActor(ctx);
    const result = await run(ctx, actor, 'ResolveAppeal', { appealId: args.appealId, outcome: args.outcome, note: args.note ?? '' });
    return { appealId: args.appealId, position: result.position };
  },
};

