// Messages between the engine's main-thread facade (engine.ts) and its worker (engine-worker.ts).
// Plain structured-clone data only.
import type { SamplingParams } from './sampler.ts';

export interface EngineOptions {
  /** model folder (default: MODEL_DIR or the shipped model) */
  modelDir?: string;
  /** maximum number of sequences running at once (default 64) */
  maxSeqs?: number;
  /** size of the KV block pool in tokens (rounded up to whole blocks; default: see kvCacheBytes) */
  kvCacheTokens?: number;
  /** share full blocks between requests with the same prefix (default true) */
  prefixCaching?: boolean;
  /** token budget of one engine step (default 512) */
  maxBatchTokens?: number;
  /** onnxruntime intra-op threads (default PARLEY_INTRA_OP_THREADS or the number of cores) */
  threads?: number;
  /** execution provider (default PARLEY_ENGINE_DEVICE or 'cpu'; see execution-provider.ts) */
  device?: 'cpu' | 'cuda';
  /** tokens per KV block (default 16) */
  blockSize?: number;
  /** size of the KV block pool in bytes, when kvCacheTokens is not given (default 256 MiB, capped at maxSeqs × context) */
  kvCacheBytes?: number;
  /** a waiting request gains one priority level per this many ms waited (default 10 000; Infinity: no aging) */
  priorityAgingMs?: number;
  /** 'paged' (default): the model's paged variant reads KV straight from the block store; falls back
   *  to 'dense' (gather each row's past into dense tensors) when the graph cannot be rewritten */
  kvLayout?: 'paged' | 'dense';
  /** decodes join a prefill step only if useful tokens ÷ padded tokens stays ≥ this (default 0.5) */
  minMixEfficiency?: number;
  /** prompt-lookup speculative decoding (default on: { k: 8, nMin: 2, nMax: 4, overheadTokens: 16 },
   *  see speculative.ts); false turns it off for every request */
  speculative?: false | { k?: number; nMin?: number; nMax?: number; overheadTokens?: number };
}

export interface WireResult {
  finishReason: 'eos' | 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  completionTokens: number;
  ttftMs: number;
  tpotMs: number;
  queueMs: number;
  cachedPromptTokens: number;
  preemptions: number;
}

export interface WireStats {
  running: number;
  waiting: number;
  kvUsage: number;
  capacity: number;
  freeSlots: number;
  numBlocks: number;
  blockSize: number;
  freeBlocks: number;
}

export type ToWorker =
  | { type: 'submit'; key: number; promptIds: number[]; params: SamplingParams; priority: number; tenant: string; arrival: number }
  | { type: 'abort'; key: number }
  | { type: 'close' };

export interface StepMessage {
  type: 'step';
  /** [key, id, text, index] for every token sampled in this step */
  tokens: [number, number, string, number][];
  done: { key: number; result: WireResult }[];
  errors: { key: number; name: string; message: string }[];
  stats: WireStats;
  counters: Record<string, number>;
  /** histogram samples produced by this step */
  samples: Record<string, number[]>;
}

export type FromWorker =
  | { type: 'ready'; stats: WireStats; counters: Record<string, number> }
  | { type: 'init-error'; name: string; message: string }
  /** the engine loop died after start: every request fails */
  | { type: 'fatal'; name: string; message: string }
  | StepMessage
  | { type: 'closed' };
