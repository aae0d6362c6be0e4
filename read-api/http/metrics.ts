import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { HttpRoute } from '../server.ts';
import { requestUrl } from './request-url.ts';
import { queryCounts } from '../../eventstore/postgres/query-counter.ts';

// GET /metrics in the Prometheus text format. Each process exposes its own registry: an API
// process its HTTP/GraphQL/gateway/quota metrics, a worker its engine's (named after vLLM's), a
// saga its safety decisions; projection lag and job-queue depth come from the shared database.

type EngineSource = { metrics(): Record<string, number | number[]>; stats(): { running: number; waiting: number; kvUsage: number; capacity: number } };

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

// vLLM counter names (cumulative in the engine; exported as counters).
const ENGINE_COUNTERS: [string, string][] = [
  ['vllm:prompt_tokens_total', 'Prefill tokens processed'],
  ['vllm:generation_tokens_total', 'Generation tokens processed'],
  ['vllm:request_success_total', 'Requests finished'],
  ['vllm:num_preemptions_total', 'Preemptions (recomputed sequences)'],
  ['vllm:prefix_cache_queries_total', 'Prefix cache queries, in tokens'],
  ['vllm:prefix_cache_hits_total', 'Prefix cache hits, in tokens'],
  ['parley:engine_steps_total', 'Engine steps (one batched model call each)'],
  ['parley:engine_padded_tokens_total', 'Padding tokens computed in batched steps'],
  ['vllm:spec_decode_num_drafts_total', 'Speculative verifications (decode rows that carried draft tokens)'],
  ['vllm:spec_decode_num_draft_tokens_total', 'Speculative draft tokens proposed (prompt lookup)'],
  ['vllm:spec_decode_num_accepted_tokens_total', 'Speculative draft tokens accepted'],
];

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly graphqlDuration: Histogram<'type' | 'operation' | 'outcome'>;
  readonly rateLimitRejections: Counter<'scope' | 'limit' | 'tier'>;
  readonly shed: Counter<'tier'>;
  readonly brownouts: Counter<'tier'>;
  readonly safetyDecisions: Counter<'stage' | 'verdict' | 'category'>;
  readonly safetyDegraded: Counter<'stage'>;
  readonly appendErrors: Counter<'kind'>;
  readonly openaiRequests: Counter<'stream' | 'outcome'>;
  readonly openaiActiveStreams: Gauge;
  readonly openaiToolResults: Counter<'outcome'>;
  readonly gatewayTtft: Histogram<'stream'>;
  readonly engineTtft: Histogram<'model_name'>;
  readonly engineE2e: Histogram<'model_name'>;
  readonly engineQueue: Histogram<'model_name'>;
  readonly engineTpot: Histogram<'model_name'>;
  readonly engineItl: Histogram<'model_name'>;
  readonly enginePromptTokens: Histogram<'model_name'>;
  readonly engineGenerationTokens: Histogram<'model_name'>;
  readonly modelFallbacks: Counter<'model_name' | 'fallback'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'parley_process_' });
    this.httpDuration = new Histogram({ name: 'parley_http_request_duration_seconds', help: 'HTTP request duration (until the response ends; a stream counts whole)', labelNames: ['method', 'route', 'status'], buckets: LATENCY_BUCKETS, registers });
    this.graphqlDuration = new Histogram({ name: 'parley_graphql_operation_duration_seconds', help: 'GraphQL query/mutation execution time (subscriptions: time to subscribe)', labelNames: ['type', 'operation', 'outcome'], buckets: LATENCY_BUCKETS, registers });
    this.rateLimitRejections = new Counter({ name: 'parley_rate_limit_rejections_total', help: 'Requests refused by a quota', labelNames: ['scope', 'limit', 'tier'], registers });
    this.shed = new Counter({ name: 'parley_load_shed_total', help: 'Requests refused by load shedding (503)', labelNames: ['tier'], registers });
    this.brownouts = new Counter({ name: 'parley_brownout_admissions_total', help: 'Requests admitted with max_tokens capped (brownout)', labelNames: ['tier'], registers });
    this.safetyDecisions = new Counter({ name: 'parley_safety_decisions_total', help: 'Safety decisions made in this process, by stage, verdict and category (none when allowed)', labelNames: ['stage', 'verdict', 'category'], registers });
    this.safetyDegraded = new Counter({ name: 'parley_safety_degraded_total', help: 'Safety decisions where a stage failed or timed out and fail-open categories were let through unchecked', labelNames: ['stage'], registers });
    this.appendErrors = new Counter({ name: 'parley_event_store_append_errors_total', help: 'Event-store appends that threw (saga and worker appends; kind conflict: a version conflict, error: anything else)', labelNames: ['kind'], registers });
    this.openaiRequests = new Counter({ name: 'parley_openai_requests_total', help: 'POST /v1/chat/completions by outcome', labelNames: ['stream', 'outcome'], registers });
    this.openaiActiveStreams = new Gauge({ name: 'parley_openai_active_requests', help: 'Chat completions in flight', registers });
    this.openaiToolResults = new Counter({ name: 'parley_openai_tool_results_total', help: 'Client tool results (role tool messages, function_call_output items) by outcome: recorded, duplicate (already recorded: a re-sent history), unknown (names no call of the caller: passed to the model, not recorded)', labelNames: ['outcome'], registers });
    this.gatewayTtft = new Histogram({ name: 'parley_gateway_time_to_first_token_seconds', help: 'Request arrival to the first content byte written (OpenAI endpoint)', labelNames: ['stream'], buckets: LATENCY_BUCKETS, registers });
    this.engineTtft = new Histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Engine submit to first token', labelNames: ['model_name'], buckets: LATENCY_BUCKETS, registers });
    this.engineE2e = new Histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'Engine submit to finish', labelNames: ['model_name'], buckets: LATENCY_BUCKETS, registers });
    this.engineQueue = new Histogram({ name: 'vllm:request_queue_time_seconds', help: 'Engine submit to first scheduled', labelNames: ['model_name'], buckets: LATENCY_BUCKETS, registers });
    this.engineTpot = new Histogram({ name: 'vllm:time_per_output_token_seconds', help: 'Mean time per output token after the first, per request', labelNames: ['model_name'], buckets: LATENCY_BUCKETS, registers });
    this.engineItl = new Histogram({ name: 'vllm:inter_token_latency_seconds', help: 'Time between consecutive tokens of a request, as they leave the engine', labelNames: ['model_name'], buckets: LATENCY_BUCKETS, registers });
    this.enginePromptTokens = new Histogram({ name: 'vllm:request_prompt_tokens', help: 'Prompt tokens per request', labelNames: ['model_name'], buckets: TOKEN_BUCKETS, registers });
    this.modelFallbacks = new Counter({ name: 'parley_model_fallbacks_total', help: 'Generations routed to a fallback model because their model was saturated (PARLEY_MODELS fallback)', labelNames: ['model_name', 'fallback'], registers });
    this.engineGenerationTokens = new Histogram({ name: 'vllm:request_generation_tokens', help: 'Generated tokens per request', labelNames: ['model_name'], buckets: TOKEN_BUCKETS, registers });
  }

  private readonly engines: { modelName: string; engine: EngineSource }[] = [];

  /** engine gauges and counters, read from the engines at scrape time, labelled model_name as vLLM's
   *  are (a worker may run one engine per model: PARLEY_MODELS, --models) */
  addEngine(engine: EngineSource, modelName = 'default'): void {
    this.engines.push({ modelName, engine });
    if (this.engines.length > 1) return; // the series below read every engine added
    const registers = [this.registry];
    const engines = this.engines;
    const gauge = (name: string, help: string, read: (e: EngineSource) => number) => new Gauge({
      name, help, labelNames: ['model_name'], registers,
      collect() { for (const e of engines) this.set({ model_name: e.modelName }, read(e.engine)); },
    });
    gauge('vllm:num_requests_running', 'Sequences running in the engine', (e) => e.stats().running);
    gauge('vllm:num_requests_waiting', 'Sequences waiting in the engine', (e) => e.stats().waiting);
    gauge('vllm:kv_cache_usage_perc', 'Share of KV cache blocks in use (0..1)', (e) => e.stats().kvUsage);
    gauge('parley:engine_capacity', 'Maximum concurrent sequences', (e) => e.stats().capacity);
    for (const [name, help] of ENGINE_COUNTERS) {
      const seen = new Map<EngineSource, number>();
      new Counter({
        name, help, labelNames: ['model_name'], registers,
        collect() {
          for (const e of engines) {
            const v = e.engine.metrics()[name];
            const before = seen.get(e.engine) ?? 0;
            if (typeof v === 'number' && v > before) { this.inc({ model_name: e.modelName }, v - before); seen.set(e.engine, v); }
          }
        },
      });
    }
  }

  /** prompts the OpenAI endpoint tokenized (only admitted requests are: see openai/prompt-budget.ts) */
  addPromptCounter(read: () => number): void {
    let seen = 0;
    new Counter({
      name: 'parley_openai_prompts_tokenized_total', help: 'Prompts tokenized by the OpenAI endpoint (after admission only)', registers: [this.registry],
      collect() {
        const v = read();
        if (v > seen) { this.inc(v - seen); seen = v; }
      },
    });
  }

  /** every round trip this process made to PostgreSQL, by operation (eventstore/postgres/query-counter.ts);
   *  role = this process's roles ("api,projector,saga,worker" in the embedded default) */
  addQueryCounter(role: string): void {
    const seen = new Map<string, number>();
    new Counter({
      name: 'parley_db_queries_total', help: 'Round trips to PostgreSQL by operation (statements; op "connect": new connections)', labelNames: ['role', 'op'], registers: [this.registry],
      collect() {
        for (const [op, n] of queryCounts()) {
          const before = seen.get(op) ?? 0;
          if (n > before) { this.inc({ role, op }, n - before); seen.set(op, n); }
        }
      },
    });
  }

  /** projection and saga lag, job-queue depth (shared database, read at scrape time) */
  addDatabase(knex: Knex, projectionNames: string[], lag: (knex: Knex, name: string) => Promise<{ events: number; seconds: number }>, depth: () => Promise<{ queued: number; running: number }>, leaseLosses?: () => Promise<number>): void {
    const registers = [this.registry];
    const consumers = [...projectionNames, 'inference-saga'];
    // One read per scrape for both lag gauges.
    let cached: { at: number; value: Promise<(readonly [string, { events: number; seconds: number } | null])[]> } | null = null;
    const read = () => {
      if (!cached || Date.now() - cached.at > 1000) {
        cached = { at: Date.now(), value: Promise.all(consumers.map(async (n) => [n, await lag(knex, n).catch(() => null)] as const)) };
      }
      return cached.value;
    };
    new Gauge({
      name: 'parley_projection_lag_events', help: 'Events in the log not yet applied, per projection (inference-saga: the saga)', labelNames: ['projection'], registers,
      async collect() { for (const [n, l] of await read()) if (l) this.set({ projection: n }, l.events); },
    });
    new Gauge({
      name: 'parley_projection_lag_seconds', help: 'Age of the oldest event not yet applied, per projection', labelNames: ['projection'], registers,
      async collect() { for (const [n, l] of await read()) if (l) this.set({ projection: n }, l.seconds); },
    });
    new Gauge({
      name: 'parley_job_queue_depth', help: 'Generation jobs by status (queued: waiting for a worker)', labelNames: ['status'], registers,
      async collect() {
        const d = await depth().catch(() => null);
        if (d) { this.set({ status: 'queued' }, d.queued); this.set({ status: 'running' }, d.running); }
      },
    });
    if (!leaseLosses) return;
    // A counter read from the shared table: every attempt after a job's first began because an
    // earlier attempt's lease was lost (the worker died or stalled) or handed back at shutdown.
    let seen = 0;
    new Counter({
      name: 'parley_job_lease_losses_total', help: 'Job attempts that began after an earlier lease was lost or handed back (shared database)', registers,
      async collect() {
        const v = await leaseLosses().catch(() => null);
        if (v !== null && v > seen) { this.inc(v - seen); seen = v; }
      },
    });
  }

  /** the saga's input and the worker's output decisions, as they are appended */
  safety(stage: string, verdict: string, categories: { category: string; score: number; blocked: boolean }[], degraded = false): void {
    if (degraded) this.safetyDegraded.inc({ stage });
    // blocked: the blocking categories; flagged: the highest-scoring one; allowed: none.
    let hit = verdict === 'blocked' ? categories.filter((c) => c.blocked).map((c) => c.category) : [];
    if (verdict === 'flagged' && categories.length) hit = [categories.reduce((a, b) => (b.score > a.score ? b : a)).category];
    if (hit.length === 0) this.safetyDecisions.inc({ stage, verdict, category: 'none' });
    else for (const category of new Set(hit)) this.safetyDecisions.inc({ stage, verdict, category });
  }

  /** a Yoga plugin timing queries and mutations */
  graphqlPlugin(): Plugin {
    const histogram = this.graphqlDuration;
    return {
      onExecute({ args }) {
        const started = performance.now();
        const op = (args.document as DocumentNode).definitions.find((d) => d.kind === 'OperationDefinition');
        const type = op && 'operation' in op ? op.operation : 'unknown';
        const operation = op && 'name' in op && op.name ? op.name.value.slice(0, 64) : 'anonymous';
        return {
          onExecuteDone({ result }) {
            const errors = 'errors' in result && result.errors?.length;
            histogram.observe({ type, operation, outcome: errors ? 'error' : 'ok' }, (performance.now() - started) / 1000);
          },
        };
      },
      onSubscribe({ args }) {
        const started = performance.now();
        const op = (args.document as DocumentNode).definitions.find((d) => d.kind === 'OperationDefinition');
        const operation = op && 'name' in op && op.name ? op.name.value.slice(0, 64) : 'anonymous';
        return {
          onSubscribeResult() {
            histogram.observe({ type: 'subscription', operation, outcome: 'ok' }, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** times every HTTP request (add as a second 'request' listener of the server) */
  observeHttp(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    res.once('close', () => {
      this.httpDuration.observe({ method: req.method ?? 'GET', route: routeOf(requestUrl(req)?.pathname ?? ''), status: String(res.statusCode) }, (performance.now() - started) / 1000);
    });
  }
}

// Bounded label values: known routes by name, everything else as "other".
const ROUTES = ['/graphql', '/graphql/stream', '/v1/chat/completions', '/v1/responses', '/v1/moderations', '/v1/models', '/v1/events', '/metrics', '/healthz', '/readyz', '/auth/dev-login', '/v1/audit/export', '/'];
export function routeOf(pathname: string): string {
  if (ROUTES.includes(pathname)) return pathname;
  if (pathname.startsWith('/v1/models/')) return '/v1/models/:id';
  if (pathname.startsWith('/v1/responses/')) return pathname.endsWith('/cancel') ? '/v1/responses/:id/cancel' : '/v1/responses/:id';
  if (pathname.startsWith('/web/')) return '/web/*';
  if (pathname.startsWith('/audit')) return '/audit/*';
  return 'other';
}

export function createMetricsRoute(metrics: Metrics): HttpRoute {
  return async (req, res, url) => {
    if (url.pathname !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return true;
    }
    const body = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
