import DataLoader from 'dataloader';
import type { Knex } from 'knex';
import type { EventStore } from '../../eventstore/port.ts';
import { CHUNKS, DOCUMENTS, passageOf } from '../../knowledge/index.ts';
import type { RetrievedSource } from '../../schemas/knowledge.ts';
import type { GraphQLContext } from '../context.ts';

// Message.citations / Message.sources: an answer's `[n]` markers resolved to the sources its prompt
// held. Where those come from:
//   - retrieval in the turn: the answer's own GenerationRequested.retrieval (inference/saga/retrieval-context.ts);
//   - search_documents: an answer that continues right after a search_documents call cites that
//     call's numbered result (ToolCallCompleted.sources), the numbers the model read last.
// One source of truth for GraphQL (Message.citations / sources, below) and the OpenAI routes
// (read-api/openai/citations.ts: Responses' file_citation annotations, chat's parley_citations).
// Ids and scores come from the log; title and passage from the documents read model. A document
// removed (or its owner erased) since then reads as REMOVED with its ids, never as an error. The
// message was authorized by whatever resolved it; passages are read within the generation's tenant.
// Cost: an answer whose text cites nothing reads nothing; one that does reads its request's first
// event (and, for a continuation, the generation before it) and one query for its passages.

export type MessageLike = { id: string; role: string; content: string; continues?: string | null };
/** what resolving reads: the log and the documents read model */
export type CitationReads = { store: Pick<EventStore, 'readStream'>; knex: Knex };
type Sources = { tenantId: string; sources: RetrievedSource[] };
export type Citation = {
  index: number; documentId: string; chunkId: string; collection: string; title: string | null; passage: string | null;
  score: number; status: 'AVAILABLE' | 'REMOVED';
};

/** Every `[n]` marker of a text with the character offset of its `[` (`[1][2]` and `[1, 2]` too: each number at its bracket's offset). */
export function citationMarkers(text: string): { n: number; offset: number }[] {
  const out: { n: number; offset: number }[] = [];
  for (const m of text.matchAll(/\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g)) {
    for (const n of m[1]!.split(',').map((x) => Number(x.trim()))) if (n >= 1) out.push({ n, offset: m.index });
  }
  return out;
}

/** The numbers of the `[n]` markers of a text, in order of first mention. */
export function citedIndexes(text: string): number[] {
  return [...new Set(citationMarkers(text).map((m) => m.n))];
}

/** The sources a text cites, in order of first mention; markers without a source are left out. */
export function citedIn(text: string, all: Citation[]): Citation[] {
  return citedIndexes(text).flatMap((n) => all.filter((c) => c.index === n));
}

/** Every numbered source an answer's prompt held, resolved; null when it held none (no retrieval in
 *  its turn and no search_documents result before it). */
export async function answerSources(reads: CitationReads, message: MessageLike): Promise<Citation[] | null> {
  const found = await sourcesOf(reads.store, message);
  return found ? resolve(reads.knex, found) : null;
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

async function resolve(knex: Knex, found: Sources): Promise<Citation[]> {
  if (found.sources.length === 0) return [];
  const rows = await knex(`${CHUNKS} as c`).join(`${DOCUMENTS} as d`, 'd.id', 'c.document_id')
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
      Promise.all(messages.map(async (m) => (await answerSources(ctx.services, m)) ?? [])), { cacheKeyFn: (m) => m.id });
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
      if (citedIndexes(m.content ?? '').length === 0) return [];
      return citedIn(m.content ?? '', await loaderOf(ctx).load(m));
    },
  },
};
