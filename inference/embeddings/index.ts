// Sentence embeddings: a BERT-family bi-encoder run in a worker thread (see README.md).
export { createEmbedder, type Embedder, type Embeddings, type EmbedderOptions } from './embedder.ts';
export { resolveEmbeddingModelDir, readEmbeddingModel, SHIPPED_EMBEDDING_MODEL_DIR, EmbeddingModelError } from './model-dir.ts';
export { EmbedderCore } from './embedder-core.ts';
export { cosine, dot } from './vector.ts';
