import { forgetFact, listMemories, rememberFact } from '../../commands/memory.ts';
import { isPosition } from '../../eventstore/port.ts';
import { addDocument, INDEXER_NAME, listDocuments, removeDocument, type DocumentRow } from '../../knowledge/index.ts';
import { waitForProjection } from '../../projections/index.ts';
import { CollectionName } from '../../schemas/knowledge.ts';
import { requireActor, type GraphQLContext } from '../context.ts';
import { apiError, fromCommandError } from '../errors.ts';

// GraphQL for user memory (rememberFact / forgetFact / memories) and documents (addDocument /
// removeDocument / documents / searchDocuments). Everything is scoped to the caller's tenant; the
// deciders (domain/memory.ts, domain/document.ts) say who may change what.

const toDocument = (r: DocumentRow) => ({
  id: r.id, collection: r.collection, title: r.title, visibility: r.visibility.toUpperCase(), ownerId: r.owner_id, chunks: r.chunks, addedAt: new Date(r.added_at).toISOString(),
});

function collection(value: string, field: string): string {
  const parsed = CollectionName.safeParse(value);
  if (!parsed.success) throw apiError('BAD_USER_INPUT', `${field}: ${parsed.error.issues[0]!.message}`, { field });
  return parsed.data;
}

async function consistent(ctx: GraphQLContext, position: string | null | undefined): Promise<void> {
  if (position == null) return;
  if (!isPosition(position)) throw apiError('BAD_USER_INPUT', 'consistentWith is not a position', { field: 'consistentWith' });
  await waitForProjection(ctx.services.knex, INDEXER_NAME, position);
}

function search(ctx: GraphQLContext) {
  if (!ctx.services.knowledge) throw apiError('UNAVAILABLE', 'document search is not configured on this server');
  return ctx.services.knowledge.search;
}

export const knowledgeResolvers = {
  Query: {
    memories: async (_: unknown, __: unknown, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      return (await listMemories(ctx.services.store, actor.tenantId, actor.userId)).map((m) => ({ id: m.memoryId, text: m.text, savedAt: m.savedAt }));
    },
    documents: async (_: unknown, args: { collection: string; consistentWith?: string | null }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const name = collection(args.collection, 'collection');
      await consistent(ctx, args.consistentWith);
      return (await listDocuments(ctx.services.knex, actor, name)).map(toDocument);
    },
    searchDocuments: async (_: unknown, args: { collections: string[]; query: string; topK?: number | null; consistentWith?: string | null }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      if (args.collections.length === 0 || args.collections.length > 20) throw apiError('BAD_USER_INPUT', 'collections must name 1 to 20 collections', { field: 'collections' });
      const collections = args.collections.map((c, i) => collection(c, `collections.${i}`));
      const query = args.query.trim();
      if (!query || query.length > 2000) throw apiError('BAD_USER_INPUT', 'query must be 1 to 2000 characters', { field: 'query' });
      const topK = args.topK ?? 5;
      if (!Number.isInteger(topK) || topK < 1 || topK > 50) throw apiError('BAD_USER_INPUT', 'topK must be between 1 and 50', { field: 'topK' });
      await consistent(ctx, args.consistentWith);
      return search(ctx).search(actor, { collections, query, topK });
    },
  },
  Mutation: {
    rememberFact: async (_: unknown, args: { text: string }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const result = await rememberFact(ctx.services.commands, actor, args.text, { memoryId: ctx.services.newId(), commandId: ctx.services.newId() });
      if (!result.ok) throw fromCommandError(result.error);
      return { memory: { id: result.memory.memoryId, text: result.memory.text, savedAt: result.memory.savedAt }, position: result.position };
    },
    forgetFact: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const result = await forgetFact(ctx.services.commands, actor, args.id, ctx.services.newId(), { keys: ctx.services.keys });
      if (!result.ok) throw fromCommandError(result.error);
      return { id: args.id, deleted: true, position: result.position };
    },
    addDocument: async (_: unknown, args: { input: { collection: string; title: string; text: string; visibility?: 'PRIVATE' | 'SHARED' | null } }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const { collection: c, title, text, visibility } = args.input;
      const result = await addDocument(ctx.services.commands, actor, { collection: c, title, text, visibility: visibility === 'PRIVATE' ? 'private' : 'shared' }, { documentId: ctx.services.newId(), commandId: ctx.services.newId() });
      if (!result.ok) throw fromCommandError(result.error);
      const added = result.events.find((e) => e.type === 'DocumentAdded');
      if (added?.type !== 'DocumentAdded') throw apiError('INTERNAL', 'the document was not recorded');
      const d = added.data;
      return {
        document: { id: d.documentId, collection: d.collection, title: d.title, visibility: d.visibility.toUpperCase(), ownerId: d.ownerId, chunks: null, addedAt: added.metadata.occurredAt },
        position: result.position,
      };
    },
    removeDocument: async (_: unknown, args: { id: string }, ctx: GraphQLContext) => {
      const actor = requireActor(ctx);
      const result = await removeDocument(ctx.services.commands, ctx.services.keys, actor, args.id);
      if (!result.ok) throw fromCommandError(result.error);
      return { id: args.id, deleted: true, position: result.position };
    },
  },
};
