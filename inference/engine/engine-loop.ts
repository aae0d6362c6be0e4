// The engine core: owns the model session, the block pool, the KV store, the scheduler and the
// batch runner; step() schedules one batch, runs it, samples, detokenizes, checks stop strings and
// reports tokens as they are sampled. It has no threads or messages of its own: engine-worker.ts
// drives it inside a worker thread (tests may drive it directly).
// Beside it: engine-options.ts resolves the options, request-intake.ts validates a request into a
// Sequence, engine-accounting.ts keeps results and metrics.
import { loadModel, type LoadedModel } from './model.ts';
import { ModelSession } from './model-session.ts';
import { BlockPool } from './block-pool.ts';
import { KvCacheManager } from './kv-cache-manager.ts';
import { KvStore } from './kv-store.ts';
import { Scheduler, type SchedulerOutput } from './scheduler.ts';
import { BatchRunner } from './batch-runner.ts';
import type { Sequence } from './sequence.ts';
import { EngineMetrics, METRIC } from './metrics.ts';
import { PagedSession } from './paged-model.ts';
import { PromptLookupDrafter, verifyDrafts } from './speculative.ts';
import type { EngineOptions, WireResult, WireStats } from './protocol.ts';
import { resolveEngineOptions, type ResolvedEngineOptions } from './engine-options.ts';
import { now, RequestIntake, type SubmitInput } from './request-intake.ts';
import { finishResult, measureKvWaste, snapshotCounters, type FinishReason } from './engine-accounting.ts';

export { DEFAULT_KV_CACHE_BYTES, resolveEngineOptions, type ResolvedEngineOptions } from './engine-options.ts';
export { now, type SubmitInput } from './request-intake.ts';
export type { FinishReason } from './engine-accounting.ts';

export interface CoreListener {
  token(key: number, id: number, text: string, index: number): void;
  done(key: number, result: WireResult): void;
  error(key: number, err: Error): void;
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
  private readonly intake: RequestIntake;
  /** speculative decoding's policy (null: off), told each verification's outcome */
  private readonly drafter: PromptLookupDrafter | null = null;
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
      this.drafter = drafter;
      this.scheduler.drafter = (seqs, budget) => drafter.drafts(seqs, budget);
    }
    this.runner = new BatchRunner(session, this.store, session instanceof PagedSession ? 'paged' : 'dense', c.padTokenId);
    this.eos = new Set(c.eosTokenIds);
    this.intake = new RequestIntake(model, options);
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
    return snapshotCounters(this.metrics, this);
  }

  /** Validates and queues a request; an invalid one is reported through listener.error. */
  submit(input: SubmitInput): void {
    try {
      const seq = this.intake.sequence(input);
      this.seqs.set(seq.key, seq);
      this.scheduler.add(seq);
    } catch (e) {
      this.listener.error(input.key, e as Error);
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
      this.accept(seq, this.sample(seq, res.logits.subarray(at, at + V)), t1);
    }
    measureKvWaste(this.metrics, this.scheduler.running, this.options.blockSize);
    return out;
  }

  /** One position's token: masked by the constraint's state after the tokens emitted so far (accept
   *  advances it, so a draft position sees the mask it would see without drafts), then sampled. */
  private sample(seq: Sequence, logits: Float32Array): number {
    if (seq.constraint) this.timed(() => seq.constraint!.apply(logits, seq.maxTokens - seq.outputLen));
    return seq.sampler.sample(logits);
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
        (i) => this.sample(seq, res.logits.subarray((row + i) * V, (row + i + 1) * V)),
        (id) => {
          this.accept(seq, id, t);
          return seq.status === 'running';
        },
      );
      seq.spec?.record(draft.length, accepted);
      this.drafter?.record(draft.length, accepted);
      this.metrics.inc(METRIC.specDrafts);
      this.metrics.inc(METRIC.specDraftTokens, draft.length);
      this.metrics.inc(METRIC.specAcceptedTokens, accepted);
    }
    if (seq.status !== 'running') return; // finished: its blocks are free already
    // KV holds the row's first token and the accepted drafts; the last emitted token is computed next step
    this.kv.rollback(seq, seq.tokens.length - (seq.cancelRequested ? 0 : 1));
    this.kv.commit(seq);
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
    // a constrained output ends as soon as it is complete (ConstraintCursor.closesWith)
    const atMax = seq.outputLen >= seq.maxTokens;
    const closed = seq.constraint !== null && this.timed(() => seq.constraint!.closesWith(id, atMax));
    const last = closed || atMax;
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
    const result = finishResult(this.metrics, seq, reason, now());
    this.listener.done(seq.key, result);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
