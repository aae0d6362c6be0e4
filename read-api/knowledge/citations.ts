import DataLoader from 'dataloader';
import type { EventStore } from '../../eventstore/port.ts';
import { CHUNKS, DOCUMENTS, passageOf } from '../../knowledge/index.ts';
import type { RetrievedSource } from '../../schemas/knowledge.ts';
import type { GraphQLContext } from '../context.ts';

// Message.citations / Message.sources: an answer's `[n]` markers resolved to the sources its prompt
// held. Where those come from:
//   - retrieval in the turn: the answer's own GenerationRequested.retrieval (inference/saga/retrieval-context.ts);
//   - search_documents: an answer that continues right after a search_documents call cites that
//     call's numbered result (ToolCallCompleted.sources), the numbers the model read last.
// Ids and scores come from the log; title and passage from the documents read model. A document
// removed (or its owner erased) since then reads as REMOVED with its ids, never as an error. The
// message was authorized by whatever resolved it; passages are read within the generation's tenant.
// Cost: an answer whose text cites nothing reads nothing; one that does reads its request's first
// event (and, for a continuation, the generation before it) and one query for its passages.

type MessageLike = { id: string; role: string; content: string; continues?: string | null };
type Sources = { tenantId: string; sources: RetrievedSource[] };
type Citation = {
  index: number; documentId: string; chunkId: string; collection: string; title: string | null; passage: string | null;
  score: number; status: 'AVAILABLE' | 'REMOVED';
};

/** The numbers of the `[n]` markers of a text, in order of first mention (`[1][2]` and `[1, 2]` too). */
export function citedIndexes(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g)) {
    for (const n of m[1]!.split(',').map((x) => Number(x.trim()))) if (n >= 1 && !out.includes(n)) out.push(n);
  }
  return out;
}

// A continuation that follows a search_documents call cites the call's numbered result (the nearest
// numbers the model read); otherwise an answer cites the sources its own request recorded.
async function sourcesOf(store: Pick<EventStore, 'readStream'>, message: MessageLike): Promise<Sources | null> {
  if (message.continues) {
    const before = await store.readStream(`generation-${message.continues}`);
    const search = before.filter((e) => e.type === 'ToolCallCompleted' && e.data.name === 'search_documents' && e.data.sources).at(-1);
    if (search?.type === 'ToolCallCompleted') return { tenantId: search.data.tenantId, sources: search.data.sources ?? [] };
  }
  const [request] = await store.readStream(`generation-${message.id}`, { limit: 1 });
  if (request?.type !== 'GenerationRequested' || !request.data.retrieval) return null;
  return { tenantId: request.data.tenantId, sources: request.data.retrieval.sources };
}

async function resolve(ctx: GraphQLContext, found: Sources | null): Promise<Citation[]> {
  if (!found || found.sources.length === 0) return [];
  const rows = await ctx.services.knex(`${CHUNKS} as c`).join(`${DOCUMENTS} as d`, 'd.id', 'c.document_id')
    .where('c.tenant_id', found.tenantId).whereIn('c.id', found.sources.map((s) => s.chunkId))
    .select('c.id', 'c.text', 'd.title') as { id: string; text: string; title: string }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return found.sources.map((s) => {
    const row = byId.get(s.chunkId);
    return {
      index: s.index, documentId: s.documentId, chunkId: s.chunkId, collection: s.collection, score: s.score,
      title: row?.title ?? null, passage: row ? passageOf(row.title, row.text) : null, status: row ? 'AVAILABLE' : 'REMOVED',
    };
  });
}

const loaders = new WeakMap<GraphQLContext, DataLoader<MessageLike, Citation[], string>>();
function loaderOf(ctx: GraphQLContext) {
  let loader = loaders.get(ctx);
  if (!loader) {
    loader = new DataLoader(async (messages: readonly MessageLike[]) =>
      Promise.all(messages.map(async (m) => resolve(ctx, await sourcesOf(ctx.services.store, m)))), { cacheKeyFn: (m) => m.id });
    loaders.set(ctx, loader);
  }
  return loader;
}

const sources = async (m: MessageLike, _: unknown, ctx: GraphQLContext): Promise<Citation[]> =>
  (m.role === 'assistant' ? loaderOf(ctx).load(m) : []);

export const citationResolvers = {
  Message: {
    sources,
    citations: async (m: MessageLike, _: unknown, ctx: GraphQLContext): Promise<Citation[]> => {
      if (m.role !== 'assistant') return [];
      // An answer without a marker costs nothing (most answers: no read of its request).
      const cited = citedIndexes(m.content ?? '');
      if (cited.length === 0) return [];
      const all = await loaderOf(ctx).load(m);
      return cited.flatMap((n) => all.filter((c) => c.index === n));
    },
  },
};
