import type { Knex } from 'knex';
import { CheckpointedConsumer } from '../eventstore/postgres/checkpointed-consumer.ts';
import type { ConfiguredEventStore } from '../eventstore/esdb/select.ts';
import type { PassageLookup } from '../inference/saga/retrieval-context.ts';
import type { SearchDocuments } from '../inference/tools/index.ts';
import { CHUNKS, createDocumentTables, createKnowledge, DOCUMENTS, passageOf, readableCollections, type Knowledge } from '../knowledge/index.ts';
import { createEmbeddingsRoute } from '../read-api/embeddings/route.ts';
import type { Operations } from '../read-api/observability/operations.ts';
import type { HttpRoute } from '../read-api/server.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';

// Composition of long-term knowledge (documents, embeddings): the documents read model's tables,
// its indexer (projector role), and the API's POST /v1/embeddings route. The embedding worker
// thread starts on first use (a request, or the first document to index).
export type KnowledgeParts = {
  knowledge: Knowledge;
  /** retrieval in the turn and the search_documents tool (inference/saga/retrieval-context.ts) */
  searchDocuments: SearchDocuments;
  /** the text of recorded passages, for a turn's continuations after tool calls */
  passages: PassageLookup;
  routes: (o: { secret: string }) => HttpRoute[];
  stop: () => Promise<void>;
};

export async function startKnowledge(config: RuntimeConfig, roles: readonly string[], knex: Knex, store: ConfiguredEventStore, ops: Operations): Promise<KnowledgeParts> {
  await createDocumentTables(knex);
  const knowledge = createKnowledge(knex, { embeddingModelDir: config.EMBEDDING_MODEL_DIR });
  // Before the indexer starts, so it writes the pgvector column from its first passage when there is one.
  const path = await knowledge.prepareVectorSearch(config.PARLEY_VECTOR_SEARCH);
  ops.logger.info(path.kind === 'pgvector' ? { vectorSearch: 'pgvector-hnsw', version: path.version } : { vectorSearch: 'exact', reason: path.reason }, 'document vector search path');
  let indexer: CheckpointedConsumer | null = null;
  if (roles.includes('projector')) {
    indexer = new CheckpointedConsumer(knex, store, knowledge.indexer(), { batchSize: 64, onError: ops.onError('documents') });
    indexer.start();
  }
  return {
    knowledge,
    searchDocuments: documentSearch(knex, knowledge),
    passages: passageLookup(knex),
    routes: ({ secret }) => [createEmbeddingsRoute({
      jwtSecret: secret, embedder: knowledge.embedder, logger: ops.logger, ...ops.gate(),
    })],
    stop: async () => {
      await indexer?.stop();
      await knowledge.close();
    },
  };
}

// The saga's document search: as the conversation's owner with a plain user's view (the tenant's
// shared documents and the owner's private ones; never another tenant's, never another user's private
// ones, and an admin's wider view is not used for prompts). No collections named: all the owner may read.
export function documentSearch(knex: Knex, knowledge: Pick<Knowledge, 'search'>): SearchDocuments {
  return async ({ tenantId, ownerId, collections, query, topK }) => {
    const actor = { userId: ownerId, tenantId, roles: ['user' as const] };
    const names = collections ?? await readableCollections(knex, actor);
    if (names.length === 0 || !query.trim()) return [];
    const found = await knowledge.search.search(actor, { collections: [...names], query: query.slice(0, 2000), topK });
    return found.map((p) => ({ ...p, text: passageOf(p.title, p.text) }));
  };
}

// The passages a request recorded, read again by chunk id within its tenant (as shown in a prompt:
// without the title the indexer put before a document's first passage).
export function passageLookup(knex: Knex): PassageLookup {
  return async (tenantId, chunkIds) => {
    if (chunkIds.length === 0) return new Map();
    const rows = await knex(`${CHUNKS} as c`).join(`${DOCUMENTS} as d`, 'd.id', 'c.document_id')
      .where('c.tenant_id', tenantId).whereIn('c.id', [...chunkIds]).select('c.id', 'c.text', 'd.title') as { id: string; text: string; title: string }[];
    return new Map(rows.map((r) => [r.id, passageOf(r.title, r.text)]));
  };
}
