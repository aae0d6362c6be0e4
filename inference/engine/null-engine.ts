// THE NULL MODEL — a benchmark instrument, never a default. Selected only by PARLEY_NULL_MODEL=1
// (bin/app.ts); bench/pipeline.bench.ts uses it to show Parley's own per-turn cost (intake, saga,
// job queue, worker, event store, projections, streaming) apart from the model's.
//
// It implements the InferenceEngine interface in the calling thread and bypasses everything of the
// real engine below that interface: no worker thread, no scheduler, no KV block bookkeeping, no
// ONNX runner, no sampling. Every request gets the same 32-token answer (fixed token ids of the
// configured model's tokenizer, detokenized once at start), delivered like the real engine's steps:
// one token per running request per tick (setImmediate), all requests advanced in the same tick,
// at most `maxSeqs` running (the rest wait), so the worker's chunking, the token bus and the
// streams see the same shape of traffic as with a model, at no compute cost. maxTokens below 32
// ends the answer early with finish reason 'length'; otherwise it ends with 'eos'.
import { loadModel, resolveModelDir } from './model.ts';
import { IncrementalDecoder } from './tokenizer.ts';
import { EngineClosedError, InvalidRequestError } from './errors.ts';
import type { EngineHandle, EngineModel, EngineOptions, EngineResult, EngineToken, InferenceEngine } from './engine.ts';

export const NULL_ANSWER_TOKENS = 32;
const NULL_ANSWER_TEXT =
  'This is the null model of the Parley benchmark: a fixed answer returned without computing anything, so that only the pipeline is measured here and nothing else at all.';

type Request = {
  key: number; answer: readonly EngineToken[]; limit: number; promptTokens: number; submitted: number;
  first: number | null; sent: number; push: (t: EngineToken) => void; finish: (r: EngineResult) => void; aborted: () => boolean;
};

export async function createNullEngine(options: EngineOptions = {}): Promise<InferenceEngine> {
  const loaded = loadModel(options.modelDir ?? resolveModelDir());
  const model: EngineModel = { config: loaded.config, tokenizer: loaded.tokenizer, applyChatTemplate: loaded.applyChatTemplate };
  const answer = fixedAnswer(loaded.tokenizer, new Set(loaded.config.eosTokenIds));
  const capacity = options.maxSeqs ?? 64;
  const running: Request[] = [];
  const waiting: Request[] = [];
  const counters = { 'vllm:prompt_tokens_total': 0, 'vllm:generation_tokens_total': 0, 'vllm:request_success_total': 0, 'parley:engine_steps_total': 0 };
  let ticking = false;
  let closed = false;
  let nextKey = 1;

  const end = (r: Request, finishReason: EngineResult['finishReason']) => {
    const now = performance.now();
    const ttftMs = r.first === null ? 0 : r.first - r.submitted;
    const tpotMs = r.sent > 1 && r.first !== null ? (now - r.first) / (r.sent - 1) : 0;
    if (finishReason !== 'cancelled') counters['vllm:request_success_total']++;
    r.finish({ finishReason, promptTokens: r.promptTokens, completionTokens: r.sent, ttftMs, tpotMs, queueMs: 0, cachedPromptTokens: 0, preemptions: 0 });
  };
  const tick = () => {
    ticking = false;
    while (running.length < capacity && waiting.length) running.push(waiting.shift()!);
    if (running.length) counters['parley:engine_steps_total']++;
    for (let i = running.length - 1; i >= 0; i--) {
      const r = running[i]!;
      if (r.aborted()) { running.splice(i, 1); end(r, 'cancelled'); continue; }
      if (r.sent >= r.limit) { running.splice(i, 1); end(r, r.limit < NULL_ANSWER_TOKENS ? 'length' : 'eos'); continue; }
      r.first ??= performance.now();
      r.push(r.answer[r.sent]!);
      r.sent++;
      counters['vllm:generation_tokens_total']++;
    }
    schedule();
  };
  const schedule = () => {
    if (!ticking && (running.length || waiting.length)) { ticking = true; setImmediate(tick); }
  };

  return {
    model,
    submit(request, opts = {}) {
      const handle = new NullHandle(String(request.requestId));
      if (closed) { handle.fail(new EngineClosedError()); return handle; }
      if (!request.promptIds?.length) { handle.fail(new InvalidRequestError(`request ${handle.requestId}: the prompt is empty`)); return handle; }
      const maxTokens = request.params?.maxTokens ?? NULL_ANSWER_TOKENS;
      const signal = opts.signal;
      const r: Request = {
        key: nextKey++, answer, limit: Math.min(NULL_ANSWER_TOKENS, Math.max(0, maxTokens)), promptTokens: request.promptIds.length, submitted: performance.now(),
        first: null, sent: 0, push: (t) => handle.push(t), finish: (res) => handle.finish(res), aborted: () => handle.cancelled || Boolean(signal?.aborted),
      };
      counters['vllm:prompt_tokens_total'] += r.promptTokens;
      waiting.push(r);
      schedule();
      return handle;
    },
    stats() {
      const free = Math.max(0, capacity - running.length - waiting.length);
      return { running: running.length, waiting: waiting.length, kvUsage: 0, capacity, freeSlots: free };
    },
    metrics: () => ({ 'vllm:num_requests_running': running.length, 'vllm:num_requests_waiting': waiting.length, 'vllm:kv_cache_usage_perc': 0, ...counters }),
    async close() {
      closed = true;
      for (const r of [...running.splice(0), ...waiting.splice(0)]) end(r, 'cancelled');
    },
  };
}

// 32 token ids of the model's own vocabulary (the text above, repeated if it is shorter), with the
// text each one adds, computed once.
function fixedAnswer(tokenizer: EngineModel['tokenizer'], eos: Set<number>): EngineToken[] {
  let ids = tokenizer.encode(NULL_ANSWER_TEXT).filter((id) => !eos.has(id));
  if (ids.length === 0) throw new Error('null model: the tokenizer encodes its answer to nothing');
  while (ids.length < NULL_ANSWER_TOKENS) ids = [...ids, ...ids];
  ids = ids.slice(0, NULL_ANSWER_TOKENS);
  const decoder = new IncrementalDecoder(tokenizer);
  return ids.map((id, index) => {
    let text = decoder.push(id);
    if (index === ids.length - 1) text += decoder.flush();
    return { id, text, index };
  });
}

class NullHandle implements EngineHandle {
  private queue: EngineToken[] = [];
  private wake: (() => void) | null = null;
  private done = false;
  private error: Error | null = null;
  private iterated = false;
  cancelled = false;
  private settle!: { resolve: (r: EngineResult) => void; reject: (e: Error) => void };
  readonly result = new Promise<EngineResult>((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(readonly requestId: string) {
    this.result.catch(() => {});
  }

  push(t: EngineToken) { if (!this.done) { this.queue.push(t); this.notify(); } }
  finish(r: EngineResult) { if (!this.done) { this.done = true; this.settle.resolve(r); this.notify(); } }
  fail(e: Error) { if (!this.done) { this.done = true; this.error = e; this.settle.reject(e); this.notify(); } }
  private notify() { const w = this.wake; this.wake = null; w?.(); }

  [Symbol.asyncIterator](): AsyncIterator<EngineToken> {
    if (this.iterated) throw new Error(`request ${this.requestId}: the token stream can be iterated only once`);
    this.iterated = true;
    return {
      next: async () => {
        for (;;) {
          const t = this.queue.shift();
          if (t) return { value: t, done: false };
          if (this.done) {
            if (this.error) throw this.error;
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (this.wake = r));
        }
      },
      return: async () => {
        this.cancelled = true; // the consumer stopped reading: cancelled at the next tick
        this.queue = [];
        return { value: undefined, done: true };
      },
    };
  }
}
