import { z } from 'zod';

// Process configuration from the environment, validated once at start.
export const RuntimeConfig = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  // EventStoreDB as the event store (esdb://host:2113?tls=false); PostgreSQL still holds read models and checkpoints.
  ESDB_URL: z.string().regex(/^esdb(\+discover)?:\/\//, 'ESDB_URL must start with esdb:// or esdb+discover://').optional(),
  // Kafka brokers (host:port,host:port) for `parley relay kafka`.
  KAFKA_BROKERS: z.string().optional(),
  PARLEY_HOME: z.string().default('.parley'),
  // 32 bytes, base64 or hex: wraps every user's data key. Generated under PARLEY_HOME when absent.
  PARLEY_MASTER_KEY: z.string().optional(),
  // Retention: conversations idle longer than this many days are erased (crypto-shredded).
  PARLEY_RETENTION_DAYS: z.coerce.number().int().min(0).optional(),
  // Per-tenant overrides as JSON, e.g. {"acme": 30, "lab": 365}.
  PARLEY_TENANT_RETENTION: z.string().optional().transform((s, ctx) => {
    if (!s) return {} as Record<string, number>;
    try {
      return z.record(z.string(), z.number().int().min(0)).parse(JSON.parse(s));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'PARLEY_TENANT_RETENTION must be JSON like {"tenant": days}' });
      return z.NEVER;
    }
  }),
  // Safety policy per tenant: JSON {"<tenant>": {defaults, floors, failClosed}} or the path of a JSON file.
  PARLEY_TENANT_POLICY: z.string().optional(),
  // Server-side tools (inference/tools/): auto = offered when the model's chat template knows tool
  // calls; on = always offered; off = never. PARLEY_TENANT_TOOLS (JSON or a file path) switches a
  // tenant's tools off or narrows them: {"acme": {"enabled": false}, "beta": {"allow": ["calculator"]}}.
  PARLEY_TOOLS: z.enum(['auto', 'on', 'off']).default('auto'),
  PARLEY_TENANT_TOOLS: z.string().optional(),
  // Which of a tenant's tools a turn is offered (inference/tools/selection.ts): relevant = those whose
  // cue the message carries (a small model calls whatever it is offered); all = every one.
  PARLEY_TOOL_SELECTION: z.enum(['relevant', 'all']).default('relevant'),
  // on: a turn offered tools generates under a constraint (inference/tools/constraint.ts): text, or
  // calls that name an offered tool with valid arguments; off: the model's text as it comes.
  PARLEY_TOOL_CONSTRAINT: z.enum(['on', 'off']).default('on'),
  PARLEY_TOOL_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(5_000),
  PARLEY_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
  PARLEY_JWT_SECRET: z.string().min(32, 'PARLEY_JWT_SECRET must be at least 32 characters').optional(),
  PARLEY_MODEL: z.string().default('parley-tiny'),
  MODEL_DIR: z.string().optional(),
  // An Optimum feature-extraction export of a BERT-family encoder (inference/embeddings); default: the shipped one.
  EMBEDDING_MODEL_DIR: z.string().optional(),
  // Document vector search: auto = pgvector's HNSW index when the server has the extension, else
  // exact in process; exact = always in process (knowledge/vector-index.ts).
  PARLEY_VECTOR_SEARCH: z.enum(['auto', 'exact']).default('auto'),
  // Several models (inference/models/README.md): JSON or the path of a JSON file each.
  // {"<name>": {"dir", "roles", "maxSeqs", "kvCacheTokens", "tiers", "fallback", "device"}}
  PARLEY_MODELS: z.string().optional(),
  // {"<tenant>": {"allowed": ["<model>", ...], "default": "<model>"}}
  PARLEY_TENANT_MODELS: z.string().optional(),
  // [{"name", "model", "tenants", "arms": [{"name", "model", "weight"}]}]
  PARLEY_EXPERIMENTS: z.string().optional(),
  // The models a worker process loads (comma-separated; `parley serve --models a,b`); default: every chat model.
  PARLEY_WORKER_MODELS: z.string().optional(),
  // Optional LLM judge of the input cascade's uncertain band (safety/guard.ts): a guard model folder
  // (Llama Guard 3-style export, served by Parley's engine).
  SAFETY_GUARD_MODEL_DIR: z.string().min(1).optional(),
  // A worker that stops renewing a job's lease for this long is presumed dead.
  PARLEY_LEASE_MS: z.coerce.number().int().min(500).default(10_000),
  PARLEY_MAX_SEQS: z.coerce.number().int().min(1).max(256).optional(),
  // BENCHMARK INSTRUMENT, never a default: 1 = workers answer every request with a fixed 32-token
  // answer without computing (inference/engine/null-engine.ts), so bench:pipeline sees the pipeline's own cost.
  PARLEY_NULL_MODEL: z.enum(['0', '1']).default('0'),
  // Connections per process: the event store's pg pool (appends, reads) and knex's (read models,
  // checkpoints, job queue). Defaults chosen with bench:pipeline (bench/results/pipeline-pools.md).
  PARLEY_EVENTSTORE_POOL_SIZE: z.coerce.number().int().min(1).max(100).optional(),
  PARLEY_KNEX_POOL_SIZE: z.coerce.number().int().min(1).max(100).optional(),
  // Quotas by tier (JSON merged over the defaults in read-api/rate-limit/tiers.ts), e.g.
  // {"free":{"user":{"rpm":10,"tpm":5000,"streams":1}}}. PARLEY_QUOTAS=off disables quotas.
  PARLEY_TIERS: z.string().optional(),
  PARLEY_QUOTAS: z.enum(['on', 'off']).default('on'),
  // Load shedding: queue depth (turns waiting for the saga, a worker or an engine) and KV usage (0..1) watermarks. Above the
  // first, max_tokens is capped (brownout); above the second, the lowest tier gets 503 + Retry-After.
  PARLEY_BROWNOUT_QUEUE_DEPTH: z.coerce.number().int().min(1).default(64),
  PARLEY_SHED_QUEUE_DEPTH: z.coerce.number().int().min(1).default(256),
  PARLEY_BROWNOUT_KV_USAGE: z.coerce.number().gt(0).max(1).default(0.85),
  PARLEY_SHED_KV_USAGE: z.coerce.number().gt(0).max(1).default(0.97),
  PARLEY_BROWNOUT_MAX_TOKENS: z.coerce.number().int().min(1).default(128),
  PARLEY_SHED_RETRY_AFTER_S: z.coerce.number().int().min(1).default(5),
  // Processes without the API role (worker, saga, projector) serve /metrics, /healthz and /readyz on
  // this port when it is set (0: any free port, logged); API processes serve them on PORT.
  PARLEY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // SSE comment keep-alive interval of OpenAI streams.
  // Origins allowed cross-origin access to /v1, /graphql and /graphql/stream: a comma-separated list,
  // a port may be * (http://localhost:*); * alone allows any origin (never with credentials).
  // Unset: http://localhost:* (and always the server's own origin). See read-api/http/cors.ts.
  PARLEY_CORS_ORIGINS: z.string().optional(),
  PARLEY_SSE_KEEPALIVE_MS: z.coerce.number().int().min(50).default(15_000),
  // SIGTERM: running streams and generations get this long to finish before leases are released.
  PARLEY_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
  // /readyz fails while a projection is further behind than this.
  PARLEY_READY_MAX_LAG_S: z.coerce.number().min(0).default(30),
  // pino level (default info; warn under node --test).
  PARLEY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
  // OpenTelemetry span export: none (default), console, or otlp (OTEL_EXPORTER_OTLP_* settings).
  PARLEY_OTEL_EXPORTER: z.enum(['none', 'console', 'otlp']).default('none'),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;
