// Long-term knowledge: a tenant's documents (chunked, embedded, searched hybrid) and the pieces
// that tie memory and documents into the app. See README.md.
import type { Knex } from 'knex';
import { createEmbedder, readEmbeddingModel, resolveEmbeddingModelDir, type Embedder } from '../inference/embeddings/index.ts';
import { createChunker, type Chunker } from './chunker.ts';
import { HybridSearch } from './hybrid-search.ts';
import { documentIndexer } from './indexer.ts';
import { prepareVectorIndex, type VectorPath } from './vector-index.ts';

export { addDocument, removeDocument, listDocuments, type DocumentInput, type DocumentRow } from './documents.ts';
export { HybridSearch, RRF_K, type Passage, type SearchOptions } from './hybrid-search.ts';
export { createDocumentTables, dropDocumentTables, INDEXER_NAME, CHUNKS, DOCUMENTS } from './tables.ts';
export { chunkWords, createChunker, type Chunk, type Chunker } from './chunker.ts';
export { documentIndexer } from './indexer.ts';
export { pdfText, PdfTextError, type PdfText } from './pdf-text.ts';
export { detectPgvector, prepareVectorIndex, VECTOR_COLUMN, type VectorPath } from './vector-index.ts';

export type Knowledge = {
  /** the embedder, started on first use (one worker thread per process) */
  embedder(): Promise<Embedder>;
  search: HybridSearch;
  /** detect pgvector and set up its HNSW path, or keep the exact one (at start, after the tables exist) */
  prepareVectorSearch(mode?: 'auto' | 'exact'): Promise<VectorPath>;
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
  const search = new HybridSearch(knex, embedder);
  return {
    embedder,
    search,
    prepareVectorSearch: async (mode = 'auto') => {
      search.vectorPath = await prepareVectorIndex(knex, readEmbeddingModel(dir).dimensions, mode);
      return search.vectorPath;
    },
    indexer: () => {
      let chunker: Chunker | null = null;
      return documentIndexer({ embedder, chunker: () => (chunker ??= createChunker(dir)), vectorColumn: () => search.vectorPath.kind === 'pgvector' });
    },
    close: async () => {
      if (started) await (await started.catch(() => null))?.close();
    },
  };
}
