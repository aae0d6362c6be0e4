import type { Knex } from 'knex';
import { CheckpointedConsumer } from '../eventstore/postgres/checkpointed-consumer.ts';
import type { ConfiguredEventStore } from '../eventstore/esdb/select.ts';
import { createDocumentTables, createKnowledge, type Knowledge } from '../knowledge/index.ts';
import { createEmbeddingsRoute } from '../read-api/embeddings/route.ts';
import type { Operations } from '../read-api/observability/operations.ts';
import type { HttpRoute } from '../read-api/server.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';

// Composition of long-term knowledge (documents, embeddings): the documents read model's tables,
// its indexer (projector role), and the API's POST /v1/embeddings route. The embedding worker
// thread starts on first use (a request, or the first document to index).
export type KnowledgeParts = {
  knowledge: Knowledge;
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
    routes: ({ secret }) => [createEmbeddingsRoute({
      jwtSecret: secret, embedder: knowledge.embedder, logger: ops.logger, ...ops.gate(),
    })],
    stop: async () => {
      await indexer?.stop();
      await knowledge.close();
    },
  };
}
