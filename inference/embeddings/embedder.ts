// The embedder the rest of Parley uses: a facade over one worker thread. Requests that arrive
// while the worker is busy are coalesced into one batch (up to maxBatch texts), so many small
// callers share one session.run — the worker is never handed more than one batch at a time.
import { Worker } from 'node:worker_threads';
import { resolveEmbeddingModelDir } from './model-dir.ts';
import type { FromEmbedWorker, ToEmbedWorker } from './protocol.ts';

export interface Embeddings {
  /** one normalised vector per text */
  vectors: Float32Array[];
  /** tokens per text ([CLS]/[SEP] included, after truncation) */
  tokens: number[];
}

export interface Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly maxTokens: number;
  embed(texts: string[]): Promise<Embeddings>;
  close(): Promise<void>;
}

export interface EmbedderOptions {
  /** model folder (default EMBEDDING_MODEL_DIR or the shipped model) */
  dir?: string;
  /** texts per session.run (default 32) */
  maxBatch?: number;
  /** onnxruntime intra-op threads in the worker (default 1: the chat engine has priority) */
  threads?: number;
}

interface Waiting {
  texts: string[];
  resolve: (e: Embeddings) => void;
  reject: (e: Error) => void;
}

export async function createEmbedder(opts: EmbedderOptions = {}): Promise<Embedder> {
  const dir = opts.dir ?? resolveEmbeddingModelDir();
  const maxBatch = opts.maxBatch ?? 32;
  const worker = new Worker(new URL('./embedding-worker-boot.mjs', import.meta.url), {
    workerData: { entry: new URL('./embedding-worker.ts', import.meta.url).href, dir, threads: opts.threads ?? 1 },
  });
  const ready = await new Promise<Extract<FromEmbedWorker, { type: 'ready' }>>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: FromEmbedWorker) => {
      if (m.type === 'ready') resolve(m);
      else reject(new Error(m.type === 'init-error' ? m.message : `unexpected ${m.type}`));
    });
  }).catch(async (e: Error) => {
    await worker.terminate();
    throw e;
  });

  const queue: Waiting[] = [];
  let inFlight: { id: number; parts: Waiting[] } | null = null;
  let nextId = 1;
  let closed = false;

  const pump = () => {
    if (inFlight || queue.length === 0) return;
    const parts: Waiting[] = [];
    let count = 0;
    // a single request larger than maxBatch still goes whole (it is split below, by the caller API)
    while (queue.length && (parts.length === 0 || count + queue[0].texts.length <= maxBatch)) {
      const w = queue.shift()!;
      parts.push(w);
      count += w.texts.length;
    }
    inFlight = { id: nextId++, parts };
    const msg: ToEmbedWorker = { type: 'embed', id: inFlight.id, texts: parts.flatMap((p) => p.texts) };
    worker.postMessage(msg);
  };

  const failAll = (e: Error) => {
    for (const w of [...(inFlight?.parts ?? []), ...queue.splice(0)]) w.reject(e);
    inFlight = null;
  };

  worker.on('message', (m: FromEmbedWorker) => {
    if ((m.type !== 'result' && m.type !== 'error') || !inFlight || m.id !== inFlight.id) return;
    const { parts } = inFlight;
    inFlight = null;
    if (m.type === 'error') parts.forEach((p) => p.reject(new Error(m.message)));
    else {
      let at = 0;
      for (const p of parts) {
        const vectors = p.texts.map((_, i) => m.vectors.slice((at + i) * ready.dimensions, (at + i + 1) * ready.dimensions));
        p.resolve({ vectors, tokens: m.tokens.slice(at, at + p.texts.length) });
        at += p.texts.length;
      }
    }
    pump();
  });
  worker.on('error', (e) => failAll(e));
  worker.on('exit', () => failAll(new Error('embedding worker exited')));

  const embedChunk = (texts: string[]) =>
    new Promise<Embeddings>((resolve, reject) => {
      if (closed) return reject(new Error('embedder closed'));
      queue.push({ texts, resolve, reject });
      pump();
    });

  return {
    model: ready.name,
    dimensions: ready.dimensions,
    maxTokens: ready.maxTokens,
    async embed(texts) {
      if (texts.length === 0) return { vectors: [], tokens: [] };
      const chunks: Promise<Embeddings>[] = [];
      for (let i = 0; i < texts.length; i += maxBatch) chunks.push(embedChunk(texts.slice(i, i + maxBatch)));
      const done = await Promise.all(chunks);
      return { vectors: done.flatMap((d) => d.vectors), tokens: done.flatMap((d) => d.tokens) };
    },
    async close() {
      if (closed) return;
      closed = true;
      worker.removeAllListeners('exit');
      await worker.terminate();
      failAll(new Error('embedder closed'));
    },
  };
}
