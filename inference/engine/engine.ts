// The inference engine's public API. createEngine() loads the model's tokenizer and chat template
// here (cheap) and starts a worker thread that owns the ONNX session, the KV block pool, the
// scheduler and the engine loop; this thread only relays messages, so the API stays responsive
// while the model computes (onnxruntime-node's session.run blocks the thread that calls it).
import { Worker } from 'node:worker_threads';
import { loadModel, resolveModelDir, type ChatMessage, type ModelConfig, type ParleyTokenizer, type RenderOptions } from './model.ts';
import type { SamplingParams } from './sampler.ts';
import type { EngineOptions, FromWorker, StepMessage, ToWorker, WireResult, WireStats } from './protocol.ts';
import { errorFromWire, EngineClosedError, EngineCrashedError, InvalidRequestError } from './errors.ts';

import { Grammar, SchemaError } from './json-grammar.ts';
import type { Constraint } from '../../schemas/constraint.ts';

export type { EngineOptions } from './protocol.ts';
export * from './errors.ts';
export { SchemaError } from './json-grammar.ts';

/** Why the engine would refuse this output constraint (an unsupported JSON Schema), or null. */
export function checkConstraint(c: Constraint): string | null {
  try {
    new Grammar(c);
    return null;
  } catch (e) {
    if (e instanceof SchemaError) return e.message;
    throw e;
  }
}

export interface EngineRequest {
  /** caller's id (used in errors and logs; need not be unique) */
  requestId: string;
  promptIds: number[];
  params: SamplingParams;
  /** higher runs first; the lowest is preempted first (default 0) */
  priority?: number;
  /** prefix-cache namespace: requests of different tenants never share KV blocks (default '') */
  tenant?: string;
}

/** A sampled token. `text` deltas concatenate to the output text; a stop string is never emitted,
 *  not even partially, and a multi-byte character split over tokens is emitted once complete. */
export interface EngineToken {
  id: number;
  text: string;
  index: number;
}

export interface EngineResult {
  finishReason: 'eos' | 'stop' | 'length' | 'cancelled';
  promptTokens: number;
  completionTokens: number;
  /** submit → first token */
  ttftMs: number;
  /** mean time between tokens after the first */
  tpotMs: number;
  /** submit → first scheduled */
  queueMs?: number;
  /** prompt tokens whose KV came from the prefix cache (the last admission) */
  cachedPromptTokens?: number;
  /** times this request was preempted and recomputed */
  preemptions?: number;
}

export interface EngineStats {
  running: number;
  waiting: number;
  /** share of KV blocks in use, 0..1 */
  kvUsage: number;
  /** max concurrent sequences */
  capacity: number;
  /** capacity − running − waiting (≥ 0) */
  freeSlots: number;
  numBlocks?: number;
  blockSize?: number;
  freeBlocks?: number;
}

export interface EngineHandle extends AsyncIterable<EngineToken> {
  readonly requestId: string;
  readonly result: Promise<EngineResult>;
}

export interface EngineModel {
  config: ModelConfig;
  tokenizer: ParleyTokenizer;
  applyChatTemplate(messages: readonly ChatMessage[], opts?: RenderOptions): number[];
}

export interface InferenceEngine {
  readonly model: EngineModel;
  /** Queues a request. Aborting the signal (or breaking out of the iteration) cancels it: its KV
   *  blocks are freed within one engine step and `result` resolves with finishReason 'cancelled'.
   *  Invalid requests (empty or too-long prompt, bad sampling params) reject `result` and end the
   *  iteration with the same error. */
  submit(request: EngineRequest, options?: { signal?: AbortSignal }): EngineHandle;
  stats(): EngineStats;
  /** vLLM-named counters and gauges (numbers) and histogram samples (arrays, seconds or tokens) */
  metrics(): Record<string, number | number[]>;
  /** Cancels everything in flight and stops the worker. */
  close(): Promise<void>;
}

/** Histogram sample arrays keep at most this many recent samples each. */
const MAX_SAMPLES = 20_000;

class Pending implements EngineHandle {
  private queue: EngineToken[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private error: Error | null = null;
  private iterated = false;
  private resolveResult!: (r: EngineResult) => void;
  private rejectResult!: (e: Error) => void;
  readonly result: Promise<EngineResult>;

  constructor(
    readonly requestId: string,
    private readonly cancel: () => void,
  ) {
    this.result = new Promise<EngineResult>((res, rej) => {
      this.resolveResult = res;
      this.rejectResult = rej;
    });
    this.result.catch(() => {}); // the iterator rethrows; no unhandled rejection when only iterating
  }

  get finished(): boolean {
    return this.ended;
  }

  push(t: EngineToken): void {
    if (this.ended) return;
    this.queue.push(t);
    this.notify();
  }

  finish(r: EngineResult): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveResult(r);
    this.notify();
  }

  fail(e: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = e;
    this.rejectResult(e);
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<EngineToken> {
    if (this.iterated) throw new Error(`request ${this.requestId}: the token stream can be iterated only once`);
    this.iterated = true;
    return {
      next: async (): Promise<IteratorResult<EngineToken>> => {
        for (;;) {
          const t = this.queue.shift();
          if (t) return { value: t, done: false };
          if (this.ended) {
            if (this.error) throw this.error;
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (this.wake = r));
        }
      },
      return: async (): Promise<IteratorResult<EngineToken>> => {
        // the consumer stopped reading: the generation is cancelled
        if (!this.ended) this.cancel();
        this.queue = [];
        return { value: undefined, done: true };
      },
    };
  }
}

function toResult(r: WireResult): EngineResult {
  return { ...r };
}

export async function createEngine(options: EngineOptions = {}): Promise<InferenceEngine> {
  const modelDir = options.modelDir ?? resolveModelDir();
  const loaded = loadModel(modelDir);
  const model: EngineModel = {
    config: loaded.config,
    tokenizer: loaded.tokenizer,
    applyChatTemplate: loaded.applyChatTemplate,
  };
  const worker = new Worker(new URL('./engine-worker-boot.mjs', import.meta.url), {
    workerData: { entry: new URL('./engine-worker.ts', import.meta.url).href, options: { ...options, modelDir: loaded.config.dir } },
  });

  const pending = new Map<number, Pending>();
  let nextKey = 1;
  let closed = false;
  let crashed: Error | null = null;
  let stats: WireStats;
  let counters: Record<string, number> = {};
  const samples: Record<string, number[]> = {};
  let closedResolve: (() => void) | null = null;

  const post = (m: ToWorker) => {
    if (!crashed) worker.postMessage(m);
  };
  const refresh = () => {
    // keep the process alive only while requests are in flight
    if (pending.size > 0) worker.ref();
    else worker.unref();
  };

  const failAll = (e: Error) => {
    for (const p of pending.values()) p.fail(e);
    pending.clear();
  };

  const onStep = (m: StepMessage) => {
    for (const [key, id, text, index] of m.tokens) pending.get(key)?.push({ id, text, index });
    for (const { key, result } of m.done) {
      pending.get(key)?.finish(toResult(result));
      pending.delete(key);
    }
    for (const { key, name, message } of m.errors) {
      pending.get(key)?.fail(errorFromWire(name, message));
      pending.delete(key);
    }
    stats = m.stats;
    counters = m.counters;
    for (const [k, xs] of Object.entries(m.samples)) {
      const arr = (samples[k] ??= []);
      for (const x of xs) arr.push(x);
      if (arr.length > MAX_SAMPLES) arr.splice(0, arr.length - MAX_SAMPLES);
    }
    if (m.done.length || m.errors.length) refresh();
  };

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    worker.once('error', onErr);
    worker.on('message', function first(m: FromWorker) {
      if (m.type === 'ready') {
        worker.off('message', first);
        worker.off('error', onErr);
        stats = m.stats;
        counters = m.counters;
        resolve();
      } else if (m.type === 'init-error') {
        worker.off('message', first);
        worker.off('error', onErr);
        void worker.terminate();
        reject(errorFromWire(m.name, m.message));
      }
    });
  });

  worker.on('message', (m: FromWorker) => {
    if (m.type === 'step') onStep(m);
    else if (m.type === 'closed') closedResolve?.();
    else if (m.type === 'fatal') {
      crashed = new EngineCrashedError(errorFromWire(m.name, m.message));
      failAll(crashed);
      closedResolve?.();
      void worker.terminate();
    }
  });
  worker.on('error', (e) => {
    crashed = new EngineCrashedError(e);
    failAll(crashed);
    closedResolve?.();
  });
  worker.on('exit', (code) => {
    if (!closed && !crashed) {
      crashed = new EngineCrashedError(new Error(`worker exited with code ${code}`));
      failAll(crashed);
    }
    closedResolve?.();
  });
  refresh();

  const engine: InferenceEngine = {
    model,
    submit(request, opts = {}) {
      const key = nextKey++;
      const requestId = String(request?.requestId ?? key);
      const signal = opts.signal;
      let onAbort: (() => void) | null = null;
      const handle: Pending = new Pending(requestId, () => {
        if (!handle.finished && pending.has(key)) post({ type: 'abort', key });
      });
      if (closed || crashed) {
        handle.fail(crashed ?? new EngineClosedError());
        return handle;
      }
      if (signal?.aborted) {
        handle.finish({ finishReason: 'cancelled', promptTokens: request.promptIds?.length ?? 0, completionTokens: 0, ttftMs: 0, tpotMs: 0 });
        return handle;
      }
      pending.set(key, handle);
      refresh();
      if (signal) {
        onAbort = () => handle.finished || post({ type: 'abort', key });
        signal.addEventListener('abort', onAbort, { once: true });
        void handle.result.finally(() => signal.removeEventListener('abort', onAbort!)).catch(() => {});
      }
      try {
        post({
          type: 'submit',
          key,
          promptIds: request.promptIds,
          params: request.params ?? {},
          priority: request.priority ?? 0,
          tenant: request.tenant ?? '',
          arrival: performance.timeOrigin + performance.now(),
        });
      } catch (e) {
        // not structured-cloneable (functions, symbols...)
        pending.delete(key);
        handle.fail(new InvalidRequestError(`request ${requestId} cannot be sent to the engine: ${(e as Error).message}`));
        refresh();
      }
      return handle;
    },
    stats() {
      const { running, waiting, kvUsage, capacity, freeSlots, numBlocks, blockSize, freeBlocks } = stats;
      return { running, waiting, kvUsage, capacity, freeSlots, numBlocks, blockSize, freeBlocks };
    },
    metrics() {
      const out: Record<string, number | number[]> = {
        'vllm:num_requests_running': stats.running,
        'vllm:num_requests_waiting': stats.waiting,
        'vllm:kv_cache_usage_perc': stats.kvUsage,
        ...counters,
      };
      for (const [k, xs] of Object.entries(samples)) out[k] = [...xs];
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!crashed) {
        const done = new Promise<void>((r) => (closedResolve = r));
        worker.ref();
        post({ type: 'close' });
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
      failAll(new EngineClosedError());
      await worker.terminate();
    },
  };
  return engine;
}
