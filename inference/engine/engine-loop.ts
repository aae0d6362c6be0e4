// The engine core: owns the model session, the block pool, the KV store, the scheduler and the
// batch runner; step() schedules one batch, runs it, samples, detokenizes, checks stop strings and
// reports tokens as they are sampled. It has no threads or messages of its own: engine-worker.ts
// drives it inside a worker thread (tests may drive it directly).
import { loadModel, type LoadedModel } from './model.ts';
import { ModelSession } from './model-session.ts';
import { PromptTooLongError } from './runner.ts';
import { resolveSamplingParams, SamplingParamsError, type SamplingParams } from './sampler.ts';
import { BlockPool } from './block-pool.ts';
import { KvCacheManager } from './kv-cache-manager.ts';
import { KvStore } from './kv-store.ts';
import { Scheduler, type SchedulerOutput } from './scheduler.ts';
import { BatchRunner } from './batch-runner.ts';
import { Sequence } from './sequence.ts';
import { EngineMetrics, METRIC } from './metrics.ts';
import { PagedSession } from './paged-model.ts';
import { PromptLookupDrafter, resolveSpecConfig, SpecState, verifyDrafts, type SpecConfig } from './speculative.ts';
import { InvalidRequestError, KvCacheTooSmallError } from './errors.ts';
import type { EngineOptions, WireResult, WireStats } from './protocol.ts';
import { Constraint } from '../../schemas/constraint.ts';
import { SchemaError } from './json-grammar.ts';
import { ConstraintCache, Vocabulary } from './token-mask.ts';

export type FinishReason = WireResult['finishReason'];

export interface CoreListener {
  token(key: number, id: number, text: string, index: number): void;
  done(key: number, result: WireResult): void;
  error(key: number, err: Error): void;
}

export interface SubmitInput {
  key: number;
  promptIds: number[];
  params: SamplingParams;
  priority?: number;
  tenant?: string;
  /** ms since the epoch (default: now) */
  arrival?: number;
}

export const DEFAULT_KV_CACHE_BYTES = 256 * 1024 * 1024;

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface ResolvedEngineOptions {
  maxSeqs: number;
  blockSize: number;
  numBlocks: number;
  maxBatchTokens: number;
  prefixCaching: boolean;
  agingMs: number;
  minMixEfficiency: number;
  /** null: no speculative decoding */
  speculative: SpecConfig | null;
}

export function resolveEngineOptions(opts: EngineOptions, model: LoadedModel): ResolvedEngineOptions {
  const c = model.config;
  const maxSeqs = opts.maxSeqs ?? 64;
  const blockSize = opts.blockSize ?? 16;
  const maxBatchTokens = opts.maxBatchTokens ?? 512;
  if (!Number.isInteger(maxSeqs) || maxSeqs < 1) throw new RangeError(`maxSeqs must be an integer ≥ 1, got ${maxSeqs}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be an integer ≥ 1, got ${blockSize}`);
  if (!Number.isInteger(maxBatchTokens) || maxBatchTokens < 1) throw new RangeError(`maxBatchTokens must be an integer ≥ 1, got ${maxBatchTokens}`);
  const perToken = KvStore.bytesPerToken(c);
  const tokens = opts.kvCacheTokens ?? Math.min(maxSeqs * c.contextLength, Math.floor((opts.kvCacheBytes ?? DEFAULT_KV_CACHE_BYTES) / perToken));
  if (!Number.isFinite(tokens) || tokens < 1) throw new RangeError(`kvCacheTokens must be ≥ 1, got ${tokens}`);
  return {
    maxSeqs,
    blockSize,
    numBlocks: Math.max(1, Math.ceil(tokens / blockSize)),
    maxBatchTokens,
    prefixCaching: opts.prefixCaching ?? true,
    agingMs: opts.priorityAgingMs ?? 10_000,
    minMixEfficiency: opts.minMixEfficiency ?? 0.5,
    speculative: resolveSpecConfig(opts.speculative),
  };
}

export class EngineCore {
  readonly pool: BlockPool;
  readonly kv: KvCacheManager;
  readonly store: KvStore;
  readonly scheduler: Scheduler<Sequence>;
  readonly runner: BatchRunner;
  readonly metrics = new EngineMetrics();
  private readonly seqs = new Map<number, Sequence>();
  private readonly eos: Set<number>;
  /** compiled output constraints, built on the first constrained request */
  private constraintCache: ConstraintCache | null = null;
  listener: CoreListener;

  private constructor(
    readonly model: LoadedModel,
    readonly session: ModelSession | PagedSession,
    readonly options: ResolvedEngineOptions,
    listener: CoreListener,
    /** why the paged layout is not used (null when it is) */
    readonly denseReason: string | null,
  ) {
    this.listener = listener;
    const c = model.config;
    this.pool = new BlockPool(options.numBlocks);
    this.kv = new KvCacheManager(this.pool, options.blockSize, options.prefixCaching);
    this.store = new KvStore(options.numBlocks, options.blockSize, c);
    this.scheduler = new Scheduler<Sequence>(this.kv, {
      maxSeqs: options.maxSeqs,
      maxBatchTokens: options.maxBatchTokens,
      agingMs: options.agingMs,
      minMixEfficiency: options.minMixEfficiency,
    });
    if (options.speculative) {
      const drafter = new PromptLookupDrafter(options.speculative);
      this.scheduler.drafter = (seqs, budget) => drafter.drafts(seqs, budget);
    }
    this.runner = new BatchRunner(session, this.store, session instanceof PagedSession ? 'paged' : 'dense', c.padTokenId);
    this.eos = new Set(c.eosTokenIds);
    this.metrics.set(METRIC.kvBlocks, options.numBlocks);
  }

  static async create(opts: EngineOptions, listener: CoreListener): Promise<EngineCore> {
    const model = loadModel(opts.modelDir);
    const resolved = resolveEngineOptions(opts, model);
    let session: ModelSession | PagedSession | string = opts.kvLayout === 'dense' ? 'dense layout requested' : await PagedSession.create(model.config, { threads: opts.threads, device: opts.device });
    const denseReason = typeof session === 'string' ? session : null;
    if (typeof session === 'string') session = await ModelSession.create(model.config, { threads: opts.threads, device: opts.device });
    return new EngineCore(model, session, resolved, listener, denseReason);
  }

  get layout(): 'paged' | 'dense' {
    return this.runner.layout;
  }

  get hasWork(): boolean {
    return this.scheduler.hasWork;
  }

  get capacityTokens(): number {
    return this.options.numBlocks * this.options.blockSize;
  }

  stats(): WireStats {
    const { running, waiting } = this.scheduler;
    const maxSeqs = this.options.maxSeqs;
    return {
      running: running.length,
      waiting: waiting.length,
      kvUsage: this.pool.usage,
      capacity: maxSeqs,
      freeSlots: Math.max(0, maxSeqs - running.length - waiting.length),
      numBlocks: this.pool.numBlocks,
      blockSize: this.options.blockSize,
      freeBlocks: this.pool.numFree,
    };
  }

  counters(): Record<string, number> {
    const m = this.metrics;
    m.set(METRIC.prefixQueries, this.kv.queries);
    m.set(METRIC.prefixHits, this.kv.hits);
    m.set(METRIC.preemptions, this.scheduler.preemptions);
    m.set(METRIC.kvBlocksCached, this.pool.numCached);
    const c = this.runner.copies;
    m.set(METRIC.kvBytesGathered, c.gathered);
    m.set(METRIC.kvBytesScattered, c.scattered);
    m.set(METRIC.kvBytesReturned, c.returned);
    m.set(METRIC.kvBytesPastRead, c.pastRead);
    m.set(METRIC.paddedTokens, c.paddedTokens);
    m.set(METRIC.steps, c.steps);
    return { ...m.counters };
  }

  /** Validates and queues a request; an invalid one is reported through listener.error. */
  submit(input: SubmitInput): void {
    try {
      const c = this.model.config;
      const ids = input.promptIds;
      if (!Array.isArray(ids) || ids.length === 0) throw new InvalidRequestError('prompt is empty');
      for (const x of ids) {
        if (!Number.isInteger(x) || x < 0 || x >= c.vocabSize) {
          throw new InvalidRequestError(`prompt has a token id outside the vocabulary (0..${c.vocabSize - 1}): ${x}`);
        }
      }
      if (ids.length >= c.contextLength) throw new PromptTooLongError(ids.length, c.contextLength);
      const need = Math.ceil((ids.length + 1) / this.options.blockSize);
      if (need > this.pool.numBlocks) {
        throw new KvCacheTooSmallError(
          `prompt has ${ids.length} tokens but the KV cache holds ${this.capacityTokens} (${this.pool.numBlocks} blocks of ${this.options.blockSize}); raise kvCacheTokens or shorten the prompt`,
        );
      }
      const params = resolveSamplingParams(input.params ?? {}, c.generationConfig);
      const speculative = input.params?.speculative ?? true;
      if (typeof speculative !== 'boolean') throw new SamplingParamsError(`speculative must be a boolean, got ${typeof speculative}`);
      const priority = input.priority ?? 0;
      if (!Number.isFinite(priority)) throw new InvalidRequestError(`priority must be a finite number, got ${priority}`);
      const constraint = input.params?.constraint ? this.constraintCursor(input.params.constraint) : null;
      const seq = new Sequence({
        key: input.key,
        promptIds: ids,
        params,
        maxTokens: Math.min(params.maxTokens, c.contextLength - ids.length),
        priority,
        tenant: input.tenant ?? '',
        arrival: input.arrival ?? now(),
        tokenizer: this.model.tokenizer,
        constraint,
      });
      // A constrained row's mask advances as tokens are emitted; verification emits drafts position
      // by position too, but the mask is applied only to the step's first position: no drafts for it.
      if (speculative && this.options.speculative && !constraint) seq.spec = new SpecState();
      this.seqs.set(seq.key, seq);
      this.scheduler.add(seq);
    } catch (e) {
      this.listener.error(input.key, e as Error);
    }
  }

  /** A cursor of the request's constraint (compiled once per constraint and cached). */
  private constraintCursor(input: unknown) {
    const parsed = Constraint.safeParse(input);
    if (!parsed.success) throw new InvalidRequestError(`constraint is invalid: ${parsed.error.issues[0]?.message}`);
    const c = this.model.config;
    this.constraintCache ??= new ConstraintCache(new Vocabulary(this.model.tokenizer, c.vocabSize, c.eosTokenIds));
    try {
      return this.constraintCache.cursor(parsed.data);
    } catch (e) {
      if (e instanceof SchemaError) throw new InvalidRequestError(`constraint schema: ${e.message}`);
      throw e;
    }
  }

  /** Cancels a request: a waiting one at once, a running one before the next step is scheduled. */
  abort(key: number): void {
    const seq = this.seqs.get(key);
    if (!seq) return;
    if (seq.status === 'waiting') this.finish(seq, 'cancelled');
    else seq.cancelRequested = true;
  }

  /** Cancels everything. */
  abortAll(): void {
    for (const seq of [...this.seqs.values()]) this.finish(seq, 'cancelled');
  }

  /** One engine step. Returns what was scheduled (kind 'idle' when there was nothing to run). */
  async step(): Promise<SchedulerOutput<Sequence>> {
    for (const seq of [...this.scheduler.running]) if (seq.cancelRequested) this.finish(seq, 'cancelled');
    const t0 = now();
    const out = this.scheduler.schedule(t0);
    for (const seq of out.outOfBlocks) this.finish(seq, 'length');
    const rows = out.rows.filter((r) => r.seq.status === 'running');
    if (rows.length === 0) return out;
    let res: Awaited<ReturnType<BatchRunner['run']>>;
    try {
      res = await this.runner.run(rows, out.seqLen);
    } catch (e) {
      // the model call failed (e.g. out of memory): those requests fail, the engine goes on
      const err = e instanceof Error ? e : new Error(String(e));
      for (const { seq } of rows) this.fail(seq, err);
      return out;
    }
    const t1 = now();
    this.metrics.inc(METRIC.modelSeconds, (t1 - t0) / 1000);
    this.metrics.observe(METRIC.iterationTokens, out.numTokens);
    const V = res.vocab;
    for (let b = 0; b < rows.length; b++) {
      const { seq, start, numNew, sample, draft } = rows[b];
      if (seq.status !== 'running') continue;
      if (draft?.length) {
        this.verify(seq, draft, res, b, t1);
        continue;
      }
      seq.numComputed = start + numNew;
      this.kv.commit(seq);
      if (!sample || seq.cancelRequested) continue;
      const at = (b * res.seqLen + numNew - 1) * V;
      const row = res.logits.subarray(at, at + V);
      if (seq.constraint) this.timed(() => seq.constraint!.apply(row, seq.maxTokens - seq.outputLen));
      this.accept(seq, seq.sampler.sample(row), t1);
    }
    this.measureKvWaste();
    return out;
  }

  /** runs a constrained row's masking work, counting its time */
  private timed<T>(f: () => T): T {
    const t = performance.now();
    const out = f();
    this.metrics.inc(METRIC.constraintSeconds, (performance.now() - t) / 1000);
    return out;
  }

  /** A decode row that carried drafts: pick tokens position by position from its logits (as
   *  decoding without drafts would), emit them, then keep the KV of the accepted positions only. */
  private verify(seq: Sequence, draft: readonly number[], res: Awaited<ReturnType<BatchRunner['run']>>, b: number, t: number): void {
    const V = res.vocab;
    let accepted = 0;
    if (!seq.cancelRequested) {
      const row = b * res.seqLen;
      accepted = verifyDrafts(
        draft,
        (i) => seq.sampler.sample(res.logits.subarray((row + i) * V, (row + i + 1) * V)),
        (id) => {
          this.accept(seq, id, t);
          return seq.status === 'running';
        },
      );
      seq.spec?.record(draft.length, accepted);
      this.metrics.inc(METRIC.specDrafts);
      this.metrics.inc(METRIC.specDraftTokens, draft.length);
      this.metrics.inc(METRIC.specAcceptedTokens, accepted);
    }
    if (seq.status !== 'running') return; // finished: its blocks are free already
    // KV holds the row's first token and the accepted drafts; the last emitted token is computed next step
    this.kv.rollback(seq, seq.tokens.length - (seq.cancelRequested ? 0 : 1));
    this.kv.commit(seq);
  }

  /** Slots allocated vs holding KV, over the blocks running sequences hold (shared blocks once). */
  private measureKvWaste(): void {
    const bs = this.options.blockSize;
    const seen = new Set<number>();
    let used = 0;
    for (const seq of this.scheduler.running) {
      const t = seq.blockTable;
      for (let i = 0; i < t.length; i++) {
        if (seen.has(t[i])) continue;
        seen.add(t[i]);
        used += Math.max(0, Math.min(bs, seq.numComputed - i * bs));
      }
    }
    this.metrics.inc(METRIC.kvSlotsAllocated, seen.size * bs);
    this.metrics.inc(METRIC.kvSlotsUsed, used);
  }

  /** A sampled token: detokenize, check stop strings, emit, maybe finish (as runner.ts does). */
  private accept(seq: Sequence, id: number, t: number): void {
    if (seq.firstTokenAt === null) {
      seq.firstTokenAt = t;
      this.metrics.observe(METRIC.ttft, (t - seq.arrival) / 1000);
    } else if (seq.lastTokenAt !== null) {
      this.metrics.observe(METRIC.itl, (t - seq.lastTokenAt) / 1000);
    }
    seq.lastTokenAt = t;
    if (this.eos.has(id)) {
      const rest = seq.stops.push(seq.decoder.flush()).emit + seq.stops.flush();
      if (rest) this.listener.token(seq.key, id, rest, seq.outputLen);
      this.finish(seq, 'eos');
      return;
    }
    seq.tokens.push(id);
    this.metrics.inc(METRIC.generationTokens);
    const index = seq.outputLen - 1;
    // a constrained output ends as soon as its JSON is complete
    const closed = seq.constraint !== null && this.timed(() => seq.constraint!.advance(id) && seq.constraint!.complete);
    const last = closed || seq.outputLen >= seq.maxTokens;
    let delta = seq.decoder.push(id);
    if (last) delta += seq.decoder.flush();
    const check = seq.stops.push(delta);
    let emit = check.emit;
    if (last && !check.stopped) emit += seq.stops.flush();
    this.listener.token(seq.key, id, emit, index);
    if (check.stopped || closed) this.finish(seq, 'stop');
    else if (last) this.finish(seq, 'length');
  }

  private fail(seq: Sequence, err: Error): void {
    if (seq.status === 'finished') return;
    this.scheduler.remove(seq);
    this.seqs.delete(seq.key);
    this.listener.error(seq.key, err);
  }

  private finish(seq: Sequence, reason: FinishReason): void {
    if (seq.status === 'finished') return;
    this.scheduler.remove(seq);
    this.seqs.delete(seq.key);
    const t = now();
    const completion = seq.outputLen;
    const first = seq.firstTokenAt;
    const result: WireResult = {
      finishReason: reason,
      promptTokens: seq.promptLen,
      completionTokens: completion,
      ttftMs: first === null ? 0 : first - seq.arrival,
      tpotMs: first !== null && seq.lastTokenAt !== null && completion > 1 ? (seq.lastTokenAt - first) / (completion - 1) : 0,
      queueMs: seq.firstScheduledAt === null ? t - seq.arrival : seq.firstScheduledAt - seq.arrival,
      cachedPromptTokens: seq.cachedTokens,
      preemptions: seq.preemptions,
    };
    const m = this.metrics;
    if (seq.firstScheduledAt !== null) {
      m.inc(METRIC.promptTokens, seq.promptLen);
      m.observe(METRIC.queueTime, result.queueMs / 1000);
    }
    m.inc(METRIC.requestSuccess);
    m.inc(`${METRIC.requestSuccess}{finished_reason="${reason === 'cancelled' ? 'abort' : reason}"}`);
    m.observe(METRIC.e2e, (t - seq.arrival) / 1000);
    m.observe(METRIC.requestPromptTokens, seq.promptLen);
    m.observe(METRIC.requestGenerationTokens, completion);
    this.listener.done(seq.key, result);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
