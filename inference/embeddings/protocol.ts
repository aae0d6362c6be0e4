// Messages between the embedder facade (embedder.ts) and its worker thread. Structured-clone data.
export type ToEmbedWorker = { type: 'embed'; id: number; texts: string[] } | { type: 'close' };

export type FromEmbedWorker =
  | { type: 'ready'; name: string; dimensions: number; maxTokens: number }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array; tokens: number[] }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' };
