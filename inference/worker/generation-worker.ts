import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { EventStore, Position, RecordedEvent } from '../../eventstore/port.ts';
import type { WakeSource } from '../../eventstore/postgres/checkpointed-consumer.ts';
import { withoutNul, type Actor } from '../../schemas/common.ts';
import type { EventOf } from '../../schemas/events.ts';
import { createDefaultOutputFilter, resolveSettings, toSafetyCheckedData } from '../../safety/index.ts';
import type { InferenceEngine } from '../engine/engine.ts';
import { foldGeneration, hasEnded } from '../../domain/generation-view.ts';
import { promptFor } from '../saga/context-assembly.ts';
import { BatchAppender, type GenerationStream } from './batch-appender.ts';
import { JobFinisher } from './job-finisher.ts';
import type { ClaimedJob, ClaimModels, JobQueue } from './job-queue.ts';
import type { LiveToken, TokenBus } from './token-bus.ts';

export type WorkerOptions = {
  store: EventStore & WakeSource;
  commands: CommandHandler;
  jobs: JobQueue;
  engine: InferenceEngine;
  bus: TokenBus;
  workerId?: string;
  flushTokens?: number;
  flushMs?: number;
  heartbeatMs?: number;
  onError?: (error: unknown) => void;
  /** the model(s) this worker's engine runs: it claims only their jobs (absent: every job) */
  models?: ClaimModels;
};

type Running = { job: ClaimedJob; controller: AbortController; cancelledByUser: boolean };

const CLAIM_BATCH = 8;
const REAP_EVERY_MS = 1000;

// A platform process: its admin role reaches every tenant (domain/access.ts).
const WORKER_ACTOR = (workerId: string): Actor => ({ userId: `worker-${workerId}`, tenantId: 'system', roles: ['admin', 'platform_operator'] });

// Claims generation jobs up to the engine's free capacity (so batches stay full), streams each
// token live on the bus, appends TokensGenerated chunks (every ~16 tokens or ~100 ms), filters the
// output as it streams, and ends each generation with exactly one terminal event.
export class GenerationWorker {
  readonly workerId: string;
  private readonly running = new Map<string, Running>();
  // The appends of all running generations, grouped into one multi-stream append per tick.
  readonly appender: BatchAppender;
  // Their job endings, grouped the same way.
  private readonly finisher: JobFinisher;
  private readonly controller = new AbortController();
  private loops: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | null = null;
  private draining = false;

  constructor(private readonly o: WorkerOptions) {
    this.workerId = o.workerId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.appender = new BatchAppender(o.commands);
    this.finisher = new JobFinisher(o.jobs, this.workerId);
  }

  start(): void {
    this.loops.push(this.claimLoop(), this.cancelLoop());
    this.heartbeat = setInterval(() => {
      this.o.jobs.heartbeat(this.workerId, [...this.running.keys()]).catch((e) => this.o.onError?.(e));
    }, this.o.heartbeatMs ?? 2000);
  }

  // Stops claiming; running generations are cancelled and their leases released, so another
  // worker picks them up at once (graceful shutdown: a new attempt, not a lost answer).
  async stop(): Promise<void> {
    this.controller.abort();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled(this.loops);
    await this.o.jobs.releaseAll(this.workerId).catch(() => undefined);
  }

  // Graceful shutdown, first step: claim no new jobs; running generations go on (stop() follows).
  drain(): void {
    this.draining = true;
  }

  get activeGenerations(): number {
    return this.running.size;
  }

  private async claimLoop(): Promise<void> {
    const signal = this.controller.signal;
    let lastReap = 0;
    while (!signal.aborted) {
      const seen = this.o.store.appendVersion;
      try {
        // Leases expire with time, not with appends: look for exhausted ones at most once a second.
        if (Date.now() - lastReap >= REAP_EVERY_MS) {
          lastReap = Date.now();
          for (const job of await this.o.jobs.reapExhausted()) await this.failExhausted(job);
        }
        const free = this.draining ? 0 : this.o.engine.stats().freeSlots;
        // A few at a time, so several workers share a burst instead of the first taking it all.
        const want = Math.min(free, CLAIM_BATCH);
        const jobs = await this.o.jobs.claim(this.workerId, want, this.o.models);
        // The claimed generations' streams in one read (each request carries its prompt); if that
        // read fails, each generation reads its own (and fails its attempt if it cannot).
        const histories = jobs.length === 0 ? null : await this.o.store.readStreams(jobs.map((j) => `generation-${j.generationId}`)).catch(() => null);
        for (const job of jobs) this.launch(job, histories?.get(`generation-${job.generationId}`) ?? null);
        if (jobs.length > 0 && jobs.length === want) continue;
      } catch (error) {
        if (signal.aborted) return;
        this.o.onError?.(error);
      }
      // New jobs come from new events (GenerationRequested): wake on appends, poll for expired leases.
      await this.o.store.waitForAppend(seen, signal);
    }
  }

  // Cancellation reaches the engine within one step: the cancel event aborts the request.
  // A lost database connection (terminated, too many clients) ends the subscription with an error:
  // it is reported and the loop resubscribes from where it was, so a restarted PostgreSQL or a
  // killed backend costs a second of cancellation latency, never the worker process.
  private async cancelLoop(): Promise<void> {
    const signal = this.controller.signal;
    let from: Position | null = null;
    for (let failures = 0; !signal.aborted;) {
      try {
        from ??= await this.o.store.headPosition();
        for await (const e of this.o.store.subscribe({ from, types: ['GenerationCancelled'], signal })) {
          from = e.position;
          failures = 0;
          const r = this.running.get((e as EventOf<'GenerationCancelled'>).data.generationId);
          if (r) {
            r.cancelledByUser = true;
            r.controller.abort();
          }
        }
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.o.onError?.(error);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** failures++)));
      }
    }
  }

  private launch(job: ClaimedJob, history: RecordedEvent[] | null): void {
    const entry: Running = { job, controller: new AbortController(), cancelledByUser: false };
    this.running.set(job.generationId, entry);
    // One span per attempt; the engine's queue/prefill/decode spans (see read-api/observability) nest in it.
    trace.getTracer('parley').startActiveSpan('parley.generation', { attributes: { 'parley.generation_id': job.generationId, 'parley.attempt': job.attempt, 'parley.worker_id': this.workerId } },
      (span) => this.generate(entry, history).finally(() => span.end()))
      .catch((error) => this.failAttempt(job, error))
      .finally(() => this.running.delete(job.generationId));
  }

  // An unexpected error (e.g. this process cannot decrypt the prompt: wrong master key) ends the
  // generation at once with its cause, instead of leaving the lease to expire attempt after attempt.
  private async failAttempt(job: ClaimedJob, error: unknown): Promise<void> {
    this.o.onError?.(error);
    if (this.controller.signal.aborted) return;
    const reason = error instanceof Error ? error.message : String(error);
    try {
      await this.run('FailGeneration', { generationId: job.generationId, attempt: job.attempt, code: 'WORKER_ERROR', reason });
      await this.finisher.finish(job.generationId, job.attempt, 'failed');
      this.publishEnd(job.generationId, job.attempt, -1, { finishReason: 'error', usage: null, error: reason });
    } catch (e) {
      this.o.onError?.(e);
    }
  }

  private async run(type: string, data: Record<string, unknown>, cause?: RecordedEvent) {
    return this.o.commands.execute({
      type, data,
      metadata: {
        commandId: randomUUID(), actor: WORKER_ACTOR(this.workerId),
        correlationId: cause?.metadata.correlationId, causationId: cause?.metadata.eventId,
      },
    });
  }

  // Commands on the generation's stream, appended with the other running generations' (batch-appender.ts).
  private async appendGroup(stream: GenerationStream, steps: readonly (readonly [type: string, data: Record<string, unknown>])[], cause: RecordedEvent) {
    return this.appender.append(stream, steps.map(([type, data]) => ({
      type, data,
      metadata: { commandId: randomUUID(), actor: WORKER_ACTOR(this.workerId), correlationId: cause.metadata.correlationId, causationId: cause.metadata.eventId },
    })));
  }

  // A request older than GenerationRequested v2 does not carry the conversation's safety settings.
  private async conversationSettings(conversationId: string) {
    const started = (await this.o.store.readStream(`conversation-${conversationId}`, { limit: 1 }))[0];
    return started?.type === 'ConversationStarted' ? started.data.safetySettings : {};
  }

  // `claimed`: the generation's stream as read when the job was claimed, or null to read it here (the request carries the
  // prompt and the output filter's settings, v2).
  private async generate(entry: Running, claimed: RecordedEvent[] | null): Promise<void> {
    const { job, controller } = entry;
    const { generationId, attempt } = job;
    const history = claimed ?? await this.o.store.readStream(`generation-${generationId}`);
    const view = foldGeneration(history);
    const request = history.find((e) => e.type === 'GenerationRequested') as (EventOf<'GenerationRequested'> & RecordedEvent) | undefined;
    const ended = hasEnded(view);
    // Our copy of the stream: the decider runs on it without a read (kept current by our appends).
    const stream: GenerationStream = { streamId: `generation-${generationId}`, history };
    if (!request || ended) {
      await this.finisher.finish(generationId, attempt, ended ? 'done' : 'failed');
      return;
    }
    const attributes = { 'parley.generation_id': generationId, 'parley.correlation_id': request.metadata.correlationId, 'parley.priority': request.data.priority, 'parley.brownout': request.data.brownout };
    trace.getActiveSpan()?.setAttributes(attributes);
    trace.getTracer('parley').startSpan('parley.queue.wait', { startTime: new Date(request.recordedAt), attributes }).end();
    const settings = request.data.safetySettings ?? (await this.conversationSettings(request.data.conversationId));

    let promptIds: number[];
    try {
      promptIds = await promptFor(this.o.store, this.o.engine.model, request.data);
    } catch (error) {
      await this.run('FailGeneration', { generationId, attempt, code: 'CONTEXT_UNAVAILABLE', reason: (error as Error).message }, request);
      await this.finisher.finish(generationId, attempt, 'failed');
      return;
    }
    const p = request.data.params;
    // Without the client's own tools (clientTools absent) a <tool_call> is a server-side call, a step
    // of the turn the client never reads: its stop strings apply to the answer only, not inside calls.
    const stopOutsideToolCalls = p.clientTools === undefined && p.stop.length > 0;
    const handle = this.o.engine.submit({
      requestId: generationId,
      promptIds,
      params: { temperature: p.temperature, topP: p.topP, topK: p.topK, maxTokens: p.maxTokens, stop: p.stop, ...(stopOutsideToolCalls ? { stopOutsideToolCalls } : {}), ...(p.seed === null ? {} : { seed: p.seed }), ...(p.constraint ? { constraint: p.constraint } : {}), ...(p.speculative === undefined ? {} : { speculative: p.speculative }) },
      priority: request.data.priority,
      tenant: request.data.tenantId,
    }, { signal: controller.signal });

    // Rules and PII; with PARLEY_SAFETY_OUTPUT_MODEL=on also the moderation model at sentence boundaries.
    const filter = createDefaultOutputFilter({ settings });
    const eos = this.o.engine.model.config.eosTokenIds[0] ?? 0;
    const chunk = { firstIndex: 0, ids: [] as number[], text: '', offsets: [] as number[], since: 0 };
    let next = 0; // index of the next token
    let appendFailed: string | null = null;
    const flush = async () => {
      if (chunk.ids.length === 0 || appendFailed) return;
      const r = await this.appendGroup(stream, [['AppendTokens', { generationId, attempt, firstIndex: chunk.firstIndex, tokenIds: chunk.ids, text: chunk.text, textOffsets: chunk.offsets }]], request);
      if (!r.ok) appendFailed = r.error.code; // superseded attempt or cancelled: stop quietly
      Object.assign(chunk, { firstIndex: next, ids: [], text: '', offsets: [], since: 0 });
    };
    const emit = (id: number, delta: string) => {
      this.o.bus.publish({ generationId, attempt, index: next, delta, sampledAt: Date.now() });
      if (chunk.ids.length === 0) chunk.since = Date.now();
      chunk.offsets.push(chunk.text.length);
      chunk.ids.push(id);
      chunk.text += delta;
      next++;
    };

    let stopped: ReturnType<typeof filter.push>['stopped'];
    try {
      for await (const token of handle) {
        const step = filter.push(withoutNul(token.text));
        emit(token.id, step.emit);
        if (step.stopped) { stopped = step.stopped; controller.abort(); break; }
        if (chunk.ids.length >= (this.o.flushTokens ?? 16) || Date.now() - chunk.since >= (this.o.flushMs ?? 100)) await flush();
        if (appendFailed) { controller.abort(); break; }
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        await flush();
        const done = await this.run('FailGeneration', { generationId, attempt, code: 'ENGINE_ERROR', reason: (error as Error).message }, request);
        this.publishEnd(generationId, attempt, next - 1, { finishReason: 'error', usage: null, error: (error as Error).message });
        await this.finisher.finish(generationId, attempt, done.ok ? 'failed' : 'done');
        return;
      }
    }
    const result = await handle.result.catch(() => null);

    if (entry.cancelledByUser) {
      await flush();
      this.publishEnd(generationId, attempt, next - 1, { finishReason: 'cancelled', usage: result ? { promptTokens: result.promptTokens, completionTokens: result.completionTokens } : null });
      await this.finisher.finish(generationId, attempt, 'cancelled');
      return;
    }
    if (this.controller.signal.aborted && !stopped) return; // shutting down: the lease goes back, another attempt follows
    if (appendFailed) return;

    // Text the filter still holds (or the policy notice) rides on a final end-of-sequence token;
    // finish() waits for the model's last verdicts, which may still stop the answer.
    let tail = '';
    if (!stopped) {
      const last = await filter.finish();
      stopped = last.stopped;
      tail = last.emit;
    }
    if (stopped) tail += `\n\n${stopped.notice}`;
    if (tail) emit(eos, tail);
    const check = filter.result();
    const finishReason = stopped ? 'content_filter' : result?.finishReason === 'length' ? 'length' : 'stop';
    const usage = { promptTokens: result?.promptTokens ?? promptIds.length, completionTokens: result?.completionTokens ?? next };
    // The last chunk, the output decision and the end in one append (one decider, one stream): a
    // crash leaves either all three or none, and a reader never sees an answer without its verdict.
    const done = await this.appendGroup(stream, [
      ...(chunk.ids.length > 0 ? [['AppendTokens', { generationId, attempt, firstIndex: chunk.firstIndex, tokenIds: chunk.ids, text: chunk.text, textOffsets: chunk.offsets }] as const] : []),
      // The thresholds the filter ran under: the effective ones the saga put on the request (v2).
      ['RecordSafetyCheck', { ...toSafetyCheckedData(check), effectivePolicy: { thresholds: { ...resolveSettings(settings).thresholds }, raisedToFloor: [] }, conversationId: request.data.conversationId, messageId: request.data.messageId, generationId }],
      ['CompleteGeneration', { generationId, attempt, finishReason, usage, ttftMs: result?.ttftMs ?? 0, tpotMs: result?.tpotMs ?? 0, workerId: this.workerId }],
    ], request);
    if (done.ok) {
      this.publishEnd(generationId, attempt, next - 1, { finishReason, usage, position: done.position, ...(stopped ? { category: stopped.category } : {}) });
    }
    await this.finisher.finish(generationId, attempt, 'done');
  }

  private async failExhausted(job: ClaimedJob): Promise<void> {
    const reason = `no worker finished it in ${job.attempt} attempts (leases expired)`;
    await this.run('FailGeneration', { generationId: job.generationId, attempt: job.attempt, code: 'RETRIES_EXHAUSTED', reason });
    this.publishEnd(job.generationId, job.attempt, -1, { finishReason: 'error', usage: null, error: reason });
  }

  // The live end of a generation (after its terminal event): streams complete on it.
  private publishEnd(generationId: string, attempt: number, index: number, done: NonNullable<LiveToken['done']>): void {
    this.o.bus.publish({ generationId, attempt, index, delta: '', sampledAt: Date.now(), done });
  }
}
