import DataLoader from 'dataloader';
import type { Knex } from 'knex';
import type { KeyStore } from '../../eventstore/crypto/key-store.ts';
import { ReadModelCipher } from '../../eventstore/crypto/read-model-cipher.ts';
import { openRows } from '../../projections/sealed-text.ts';
import type { GraphQLContext } from '../context.ts';

// Message.toolCalls / Generation.toolCalls: the history read model's tool calls of an answer
// (history_tool_calls, by the generation that made them), one query per page of messages. The
// message itself was authorized by whatever resolved it (its conversation or generation), and a
// generation's calls belong to its conversation.

type Row = {
  id: string; generation_id: string; name: string; arguments: string; result: string | null; status: string;
  error_code: string | null; error: string | null; latency_ms: number | null; round: number; idx: number; kid: string | null;
};
type MessageLike = { id: string; role: string; continues?: string | null };

const loaders = new WeakMap<GraphQLContext, DataLoader<string, Row[]>>();

async function callsOf(knex: Knex, keys: KeyStore | null | undefined, generationIds: readonly string[]): Promise<Row[][]> {
  const rows: Row[] = await knex('history_tool_calls').whereIn('generation_id', generationIds as string[]).orderBy([{ column: 'generation_id' }, { column: 'idx' }]);
  await openRows(keys ? ReadModelCipher.of(keys) : null, 'history_tool_calls', rows, ['arguments', 'result', 'error']);
  return generationIds.map((id) => rows.filter((r) => r.generation_id === id));
}

function loaderOf(ctx: GraphQLContext): DataLoader<string, Row[]> {
  let loader = loaders.get(ctx);
  if (!loader) loaders.set(ctx, (loader = new DataLoader((ids: readonly string[]) => callsOf(ctx.services.knex, ctx.services.keys, ids))));
  return loader;
}

const toToolCall = (r: Row) => ({
  id: r.id, name: r.name, arguments: r.arguments, result: r.result, status: r.status, errorCode: r.error_code, error: r.error,
  latencyMs: r.latency_ms, round: r.round,
});

const fields = {
  toolCalls: async (m: MessageLike, _: unknown, ctx: GraphQLContext) => (m.role === 'assistant' ? (await loaderOf(ctx).load(m.id)).map(toToolCall) : []),
  continues: (m: MessageLike) => m.continues ?? null,
};

export const toolCallResolvers = { Message: fields, Generation: fields };
