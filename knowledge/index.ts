// Long-term knowledge: a tenant's documents (chunked, embedded, searched hybrid) and the pieces
// that tie memory and documents into the app. See README.md.
import type { Knex } from 'knex';
import { createEmbedder, resolveEmbeddingModelDir, type Embedder } from '../inference/embeddings/index.ts';
import { createChunker, type Chunker } from './chunker.ts';
import { HybridSearch } from './hybrid-search.ts';
import { documentIndexer } from './indexer.ts';

export { addDocument, removeDocument, listDocuments, readableCollections, type DocumentInput, type DocumentRow } from './documents.ts';
export { HybridSearch, RRF_K, type Passage, type SearchOptions } from './hybrid-search.ts';
export { createDocumentTables, dropDocumentTables, INDEXER_NAME, CHUNKS, DOCUMENTS } from './tables.ts';
export { chunkWords, createChunker, type Chunk, type Chunker } from './chunker.ts';
export { documentIndexer, passageOf } from './indexer.ts';

export type Knowledge = {
  /** the embedder, started on first use (one worker thread per process) */
  embedder(): Promise<Embedder>;
  search: HybridSearch;
  /** the documents projection's consumer (run it in a CheckpointedConsumer, projector role) */
  indexer(): ReturnType<typeof documentIndexer>;
  close(): Promise<void>;
};

export function createKnowledge(knex: Knex, opts: { embeddingModelDir?: string } = {}): Knowledge {
  const dir = opts.embeddingModelDir ?? resolveEmbeddingModelDir();
  let started: Promise<Embedder> | null = null;
  const embedder = () => {
    started ??= createEmbedder({ dir }).catch((e) => {
      started = null; // a failed start is retried by the next caller
      throw e;
    });
    return started;
  };
  return {
    embedder,
    search: new HybridSearch(knex, embedder),
    indexer: () => {
      let chunker: Chunker | null = null;
      return documentIndexer({ embedder, chunker: () => (chunker ??= createChunker(dir)) });
    },
    close: async () => {
      if (started) await (await started.catch(() => null))?.close();
    },
  };
}
