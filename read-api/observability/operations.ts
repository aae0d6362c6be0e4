import type { AcceptedTurns } from '../accepted-turns.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { Redis } from 'ioredis';
import type { Plugin } from 'graphql-yoga';
import type { CommandHandler } from '../../commands/command-handler.ts';
import type { TenantPolicies } from '../../schemas/safety.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { readCheckpoint } from '../../eventstore/postgres/checkpoints.ts';
import { runMigrations } from '../../eventstore/postgres/migrations.ts';
import type { InferenceEngine } from '../../inference/engine/engine.ts';
import { loadModel } from '../../inference/engine/model.ts';
import type { ModelRegistry } from '../../inference/models/index.ts';
import type { GenerationWorker } from '../../inference/worker/generation-worker.ts';
import { JobQueue } from '../../inference/worker/job-queue.ts';
import type { TokenBus } from '../../inference/worker/token-bus.ts';
import { projectionLag, projections as allProjections } from '../../projections/index.ts';
import type { Projection } from '../../projections/projection.ts';
import type { RuntimeConfig } from '../../schemas/runtime-config.ts';
import type { Services } from '../context.ts';
import { createHealthRoute, readinessChecks, type Readiness } from '../http/health.ts';
import { sendJson } from '../http/json.ts';
import { BAD_TARGET, requestUrl } from '../http/request-url.ts';
import { createMetricsRoute, Metrics } from '../http/metrics.ts';
import { PromptBudget, PromptBudgets } from '../openai/prompt-budget.ts';
import { createOpenAiRoute, InFlight } from '../openai/routes.ts';
import { Admission, registerAdmission } from '../rate-limit/admission.ts';
import { turnAdmission } from '../rate-limit/graphql-batch.ts';
import { AdmissionHints, admissionMigrations } from '../rate-limit/hints.ts';
import { InProcessLimiter } from '../rate-limit/limiter.ts';
import { EngineLoadPublisher, LoadMonitor } from '../rate-limit/load.ts';
import { RedisLimiter } from '../rate-limit/redis-limiter.ts';
import { parseTiers } from '../rate-limit/tiers.ts';
import type { HttpRoute } from '../server.ts';
import { instrumentEngine, loggedCommands, loggedProjections, observedStore } from './instrument.ts';
import { createLogger, type Logger } from './logger.ts';
import { setupTracing } from './tracing.ts';


// Everything operational one process needs — logs, metrics, traces, quotas, load shedding, the
// OpenAI gateway, readiness and graceful shutdown — composed in one place so bin/app.ts only
// threads it through.
// Messages submitted after the saga's checkpoint: turns not yet requested (PostgreSQL event store).
async function sagaBacklog(knex: Knex): Promise<number> {
  const [xid, seq] = (await readCheckpoint(knex, 'inference-saga')).split('/');
  const { rows } = await knex.raw(
    `select count(*)::int as n from parley_events where (transaction_id, position) > (?::xid8, ?::bigint) and type = 'MessageSubmitted'`,
    [xid, seq],
  );
  return rows[0].n;
}

export class Operations {
  readonly logger: Logger;
  readonly metrics = new Metrics();
  readonly inflight = new InFlight();
  private draining = false;
  private redis: Redis | null = null;
  private engineRef: InferenceEngine | null = null;
  private workerRef: GenerationWorker | null = null;
  private readonly allWorkers: GenerationWorker[] = [];
  private get activeGenerations(): number {
    return this.allWorkers.reduce((n, w) => n + w.activeGenerations, 0);
  }
  private publisher: EngineLoadPublisher | null = null;
  private server: Server | null = null;
  private opsServer: Server | null = null;
  /** where /metrics is served by a process without the API role (PARLEY_METRICS_PORT) */
  opsUrl: string | null = null;
  private admission: Admission | null = null;
  private hints: AdmissionHints;
  private pruneTimer: NodeJS.Timeout | null = null;
  private tracingShutdown: (() => Promise<void>) | null = null;

  private constructor(private readonly config: RuntimeConfig, private readonly roles: string[], private readonly knex: Knex) {
    this.logger = createLogger({ level: config.PARLEY_LOG_LEVEL, role: roles.join(',') });
    this.hints = new AdmissionHints(knex);
  }

  static async start(config: RuntimeConfig, roles: string[], knex: Knex): Promise<Operations> {
    const ops = new Operations(config, roles, knex);
    await runMigrations(knex, admissionMigrations);
    const tracing = await setupTracing(config.PARLEY_OTEL_EXPORTER, 'parley');
    ops.tracingShutdown = tracing?.shutdown ?? null;
    if (config.REDIS_URL) ops.redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2, lazyConnect: false });
    ops.metrics.addDatabase(knex, allProjections.map((p) => p.name), projectionLag, () => new JobQueue(knex).depth(), () => new JobQueue(knex).leaseLosses());
    ops.metrics.addQueryCounter(roles.join(','));
    return ops;
  }

  onError(what: string): (a: unknown, b?: unknown) => void {
    return (a, b) => this.logger.error({ component: what, ...(b === undefined ? { err: a } : { name: a, err: b }) }, `${what} failed`);
  }

  commands(commands: CommandHandler): CommandHandler {
    return loggedCommands(commands, this.logger);
  }

  projections(ps: Projection[]): Projection[] {
    return loggedProjections(ps, this.logger);
  }

  /** the store the saga and workers append safety decisions through (counted in /metrics) */
  observed<S extends EventStore>(store: S): S {
    return observedStore(store, this.metrics);
  }

  /** for the saga: the priority and brownout admission decided for a generation */
  readonly admissionHint = (generationId: string) => this.hints.get(generationId).catch(() => null);
  readonly admissionHints = (generationIds: readonly string[]) => this.hints.getMany(generationIds).catch(() => new Map<string, { priority: number; brownout: boolean }>());

  /** a worker's engine (one per model it loads: the first feeds the load monitor), metrics labelled model_name */
  engine(engine: InferenceEngine, modelName = 'default'): InferenceEngine {
    this.engineRef ??= engine;
    this.metrics.addEngine(engine, modelName);
    return instrumentEngine(engine, this.metrics, modelName);
  }

  /** a worker role: its engine's KV usage is published for the API processes' watermarks (Redis) */
  worker(worker: GenerationWorker): void {
    this.allWorkers.push(worker);
    if (this.workerRef) return; // a second model's worker (PARLEY_MODELS): drained with the others, load from the first
    this.workerRef = worker;
    if (this.redis && this.engineRef) this.publisher = new EngineLoadPublisher(this.redis, worker.workerId, this.engineRef);
  }

  /** the API role's routes: /metrics, /v1/chat/completions, /v1/models */
  routes(o: { store: EventStore; commands: CommandHandler; bus: TokenBus; secret: string; modelDir: string; newId: () => string; accepted?: AcceptedTurns; tenantPolicies?: TenantPolicies; models?: ModelRegistry }): HttpRoute[] {
    const c = this.config;
    const model = loadModel(o.modelDir);
    const limiter = c.PARLEY_QUOTAS === 'off' ? null : c.REDIS_URL ? new RedisLimiter(c.REDIS_URL) : new InProcessLimiter();
    const load = new LoadMonitor({ jobs: new JobQueue(this.knex), engine: this.engineRef, redis: this.redis, sagaBacklog: () => sagaBacklog(this.knex), localWorkerId: this.workerRef?.workerId ?? null });
    const m = this.metrics;
    // PARLEY_MODELS: each model's prompts are measured with its own context window and tokenizer
    const prompts = new PromptBudgets(new PromptBudget(model), (name) => {
      const dir = o.models?.get(name)?.dir;
      return dir && path.resolve(dir) !== path.resolve(model.config.dir) ? new PromptBudget(loadModel(dir)) : null;
    });
    m.addPromptCounter(() => prompts.tokenized);
    this.admission = new Admission({
      tiers: parseTiers(c.PARLEY_TIERS),
      limiter,
      load,
      hints: this.hints,
      shedding: {
        brownoutQueueDepth: c.PARLEY_BROWNOUT_QUEUE_DEPTH, shedQueueDepth: c.PARLEY_SHED_QUEUE_DEPTH,
        brownoutKvUsage: c.PARLEY_BROWNOUT_KV_USAGE, shedKvUsage: c.PARLEY_SHED_KV_USAGE,
        brownoutMaxTokens: c.PARLEY_BROWNOUT_MAX_TOKENS, retryAfterS: c.PARLEY_SHED_RETRY_AFTER_S,
      },
      observer: {
        rejected: (scope, limit, tier) => m.rateLimitRejections.inc({ scope, limit, tier }),
        shed: (tier) => m.shed.inc({ tier }),
        brownout: (tier) => m.brownouts.inc({ tier }),
        limiterFailed: (error) => this.logger.warn({ err: error }, 'quota store unreachable: turns are refused as UNAVAILABLE'),
      },
      charsPerToken: prompts.defaultBudget.charsPerToken,
    });
    registerAdmission(this.knex, this.admission);
    void this.admission.start(o.store).catch(this.onError('quota watcher'));
    this.pruneTimer = setInterval(() => void this.hints.prune().catch(() => undefined), 3_600_000);
    this.pruneTimer.unref();
    let created = Math.floor(Date.now() / 1000);
    try { created = Math.floor(statSync(path.join(model.config.dir, 'config.json')).mtimeMs / 1000); } catch { /* keep now */ }
    const services: Services = { knex: this.knex, store: o.store, commands: o.commands, jwtSecret: o.secret, defaultModel: o.models?.defaultModel ?? c.PARLEY_MODEL, models: o.models, newId: o.newId, bus: o.bus, accepted: o.accepted, tenantPolicies: o.tenantPolicies };
    return [
      createMetricsRoute(this.metrics),
      createOpenAiRoute({
        services, admission: this.admission, prompts, metrics: this.metrics, logger: this.logger,
        keepAliveMs: c.PARLEY_SSE_KEEPALIVE_MS, draining: () => this.draining, inflight: this.inflight, modelCreated: created,
      }),
    ];
  }

  /** for routes composed beside the OpenAI gateway (/v1/embeddings): its admission (set by routes()) and drain state */
  gate(): { admission: () => Admission | null; draining: () => boolean } {
    return { admission: () => this.admission, draining: () => this.draining };
  }

  plugins(): Plugin[] {
    return [this.metrics.graphqlPlugin(), turnAdmission];
  }

  readonly ready = (): Promise<Readiness> => readinessChecks({
    knex: this.knex,
    redis: this.redis,
    modelLoaded: this.roles.includes('worker') ? () => this.engineRef !== null : null,
    // Lag is measured on the PostgreSQL log; with EventStoreDB as the store it is not checked here.
    projections: this.config.ESDB_URL ? [] : allProjections.map((p) => p.name),
    lag: projectionLag,
    maxLagSeconds: this.config.PARLEY_READY_MAX_LAG_S,
    draining: () => this.draining,
  })();

  /** times every request of the API server; remembered for the graceful drain */
  serve(server: Server): void {
    this.server = server;
    server.on('request', (req, res) => this.metrics.observeHttp(req, res));
  }

  /** a process without the API role: /metrics, /healthz, /readyz on PARLEY_METRICS_PORT, when set */
  async listen(): Promise<void> {
    if (this.config.PARLEY_METRICS_PORT === undefined) return;
    const routes = [createHealthRoute(this.ready), createMetricsRoute(this.metrics)];
    const server = createServer(async (req, res) => {
      const url = requestUrl(req);
      if (!url) return void sendJson(res, 400, BAD_TARGET);
      try {
        for (const route of routes) if (await route(req, res, url)) return;
        sendJson(res, 404, { error: { message: `no route for ${req.method} ${url.pathname}`, code: 'NOT_FOUND' } });
      } catch (error) {
        this.logger.error({ err: error }, 'operations endpoint failed');
        if (!res.headersSent) sendJson(res, 500, { error: { message: 'internal error', code: 'INTERNAL' } });
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.PARLEY_METRICS_PORT, this.config.HOST, () => resolve());
    });
    this.opsServer = server;
    this.opsUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
    this.logger.info({ url: this.opsUrl }, 'operations endpoint listening (/metrics, /healthz, /readyz)');
  }

  // Graceful shutdown, first half (SIGTERM): stop accepting connections and new completions, claim
  // no new jobs, and give running streams and generations until the deadline. The app's stop()
  // then cancels what is left and releases its job leases, so another worker takes them over.
  async drain(graceMs = this.config.PARLEY_SHUTDOWN_GRACE_MS): Promise<{ streamsLeft: number; generationsLeft: number }> {
    this.draining = true;
    const deadline = Date.now() + graceMs;
    this.logger.info({ graceMs, streams: this.inflight.size, generations: this.activeGenerations }, 'shutting down: draining');
    this.server?.close();
    this.server?.closeIdleConnections();
    for (const w of this.allWorkers) w.drain();
    await Promise.all([
      this.inflight.idle(graceMs),
      (async () => {
        while (this.activeGenerations > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      })(),
    ]);
    const left = { streamsLeft: this.inflight.size, generationsLeft: this.activeGenerations };
    this.logger.info(left, left.streamsLeft || left.generationsLeft ? 'drain deadline reached: cancelling the rest, releasing leases' : 'drained');
    return left;
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.opsServer) await new Promise((r) => { this.opsServer!.close(() => r(null)); this.opsServer!.closeAllConnections(); });
    await this.publisher?.close();
    await this.admission?.close();
    registerAdmission(this.knex, null);
    this.redis?.disconnect();
    await this.tracingShutdown?.().catch(() => undefined);
    this.logger.flush?.();
  }
}
