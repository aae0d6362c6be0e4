import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import { CommandHandler } from '../commands/command-handler.ts';
import { createKnex, openDatabase, type Database } from '../eventstore/postgres/connect.ts';
import { openEventStore, type ConfiguredEventStore } from '../eventstore/esdb/select.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import { ProjectionRunner, projections, setupProjections } from '../projections/index.ts';
import { createApi } from '../read-api/server.ts';
import { createWebRoute } from '../read-api/http/web.ts';
import { AcceptedTurns } from '../read-api/accepted-turns.ts';
import { corsPolicy } from '../read-api/http/cors.ts';
import { createDevLoginRoute, devLoginEnabled } from '../read-api/http/dev-login.ts';
import { createEventsNdjsonRoute } from '../read-api/http/events-ndjson.ts';
import { createEventsResolvers } from '../read-api/graphql/events-resolvers.ts';
import { EventStreams } from '../streams/replay.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';
import { createEngineJudge } from '../inference/guard/engine-judge.ts';
import { setDefaultJudge } from '../safety/index.ts';
import { CheckpointedConsumer } from '../eventstore/postgres/checkpointed-consumer.ts';
import { keyStoreMigrations, type KeyStore } from '../eventstore/crypto/key-store.ts';
import { createEngine, type InferenceEngine } from '../inference/engine/engine.ts';
import { createNullEngine } from '../inference/engine/null-engine.ts';
import { loadModel, resolveModelDir } from '../inference/engine/model.ts';
import { generationSaga } from '../inference/saga/generation-saga.ts';
import { GenerationWorker } from '../inference/worker/generation-worker.ts';
import { JobQueue, jobQueueMigrations } from '../inference/worker/job-queue.ts';
import { InProcessTokenBus, RedisTokenBus, type TokenBus } from '../inference/worker/token-bus.ts';
import { generationStreamResolvers } from '../read-api/graphql/generation-stream.ts';
import { experimentResolvers } from '../read-api/graphql/experiments.ts';
import { Operations } from '../read-api/observability/operations.ts';
import { ModelRegistry } from '../inference/models/index.ts';
import { startModelRoles, type ModelRoles } from './models.ts';
import { jwtSecret, masterKey, tenantPolicies as loadTenantPolicies } from './config.ts';
import { runRetention, scheduleRetention } from './jobs/retention.ts';
import { runKnowledgeRetention } from './jobs/knowledge-retention.ts';
import { startKnowledge } from './knowledge.ts';
import { sagaTools, tenantTools } from './tools.ts';

export type Role = 'api' | 'projector' | 'saga' | 'worker';
export const ALL_ROLES: Role[] = ['api', 'projector', 'saga', 'worker'];

export type App = {
  database: Database;
  knex: Knex;
  store: ConfiguredEventStore;
  commands: CommandHandler;
  runner: ProjectionRunner | null;
  saga: CheckpointedConsumer | null;
  worker: GenerationWorker | null;
  engine: InferenceEngine | null;
  jobs: JobQueue;
  bus: TokenBus;
  keys: KeyStore | null;
  server: Server | null;
  url: string | null;
  secret: string;
  stop: () => Promise<void>;
  /** graceful shutdown, first half (SIGTERM): stop accepting, let streams and generations finish up to PARLEY_SHUTDOWN_GRACE_MS; stop() follows */
  drain: (graceMs?: number) => Promise<unknown>;
  /** logs, metrics, quotas, OpenAI gateway, readiness (read-api/observability/operations.ts) */
  ops: Operations;
  /** PARLEY_MODELS: the served models; every worker and engine of this process (`worker`/`engine`: the first) */
  models: ModelRegistry;
  workers: GenerationWorker[];
  engines: InferenceEngine[];
};

// Opens the database (embedded when DATABASE_URL is absent), migrates, and starts the roles asked for.
export async function startApp(config: RuntimeConfig, roles: Role[], log: (line: string) => void = () => {}): Promise<App> {
  const tenantPolicies = loadTenantPolicies(config); // a bad policy stops the start before anything opens
  tenantTools(config); // likewise a bad PARLEY_TENANT_TOOLS
  // The optional LLM judge: loaded first, so a bad guard model folder stops the start.
  const guard = config.SAFETY_GUARD_MODEL_DIR ? await createEngineJudge({ modelDir: config.SAFETY_GUARD_MODEL_DIR }) : null;
  if (guard) setDefaultJudge(guard);
  const database = await openSharedDatabase(config, log);
  const knex = createKnex(database.connectionString, config.PARLEY_KNEX_POOL_SIZE);
  await runMigrations(knex, eventStoreMigrations, keyStoreMigrations, jobQueueMigrations);
  await setupProjections(knex);
  const ops = await Operations.start(config, roles, knex);
  const store = await openEventStore({ esdbUrl: config.ESDB_URL, connectionString: database.connectionString, masterKey: masterKey(config), poolSize: config.PARLEY_EVENTSTORE_POOL_SIZE });
  // Safety decisions are appended through commands (RecordSafetyCheck): the observed store counts them.
  const commands = ops.commands(new CommandHandler({ store: ops.observed(store) }));
  const secret = jwtSecret(config);

  const knowledge = await startKnowledge(config, roles, knex, store, ops); // documents, embeddings
  let runner: ProjectionRunner | null = null;
  if (roles.includes('projector')) {
    runner = new ProjectionRunner({ knex, store, projections: ops.projections(projections), onError: ops.onError('projection') });
    runner.start();
  }

  // Live tokens: Redis pub/sub when several processes share the work, in-process otherwise.
  const bus: TokenBus = config.REDIS_URL ? new RedisTokenBus(config.REDIS_URL) : new InProcessTokenBus();
  const jobs = new JobQueue(knex, config.PARLEY_LEASE_MS);
  const modelDir = resolveModelDir({ MODEL_DIR: config.MODEL_DIR });
  const models = ModelRegistry.fromSources({ ...config, modelDir });
  const modelRoles: ModelRoles = await startModelRoles({ config, registry: models, store, jobs, ops });

  const keys = 'keys' in store ? (store.keys as KeyStore | null) : null;
  let stopRetention: (() => void) | null = null;
  let saga: CheckpointedConsumer | null = null;
  if (roles.includes('saga')) {
    const model = loadModel(modelDir);
    saga = new CheckpointedConsumer(knex, store, generationSaga({ store: ops.observed(store), commands, jobs, model, modelName: config.PARLEY_MODEL, admissionMany: ops.admissionHints, tenantPolicies, ...modelRoles.saga, tools: sagaTools(config, modelDir, knex, keys) }), {
      batchSize: 128, onError: ops.onError('saga'),
    });
    saga.start();
    const policy = { defaultDays: config.PARLEY_RETENTION_DAYS ?? null, tenantDays: config.PARLEY_TENANT_RETENTION };
    if (policy.defaultDays !== null || Object.keys(policy.tenantDays).length > 0) {
      // Conversations first, then memories and documents (one policy for all personal data).
      stopRetention = scheduleRetention(async () => { await runRetention(knex, commands, keys, policy); await runKnowledgeRetention(knex, commands, keys, policy); }, config.PARLEY_RETENTION_INTERVAL_MS, (e) => console.error('retention failed:', e));
    }
  }

  const engines: InferenceEngine[] = [];
  const workers: GenerationWorker[] = [];
  if (roles.includes('worker')) {
    // PARLEY_NULL_MODEL=1: the benchmark's null model (fixed answer, no compute), never a default.
    const create = config.PARLEY_NULL_MODEL === '1' ? createNullEngine : createEngine;
    if (config.PARLEY_NULL_MODEL === '1') ops.logger.warn('PARLEY_NULL_MODEL=1: workers answer with a fixed 32-token text (benchmark instrument, no model runs)');
    // One engine and one worker per model this process loads; each worker claims only its model's jobs.
    for (const served of modelRoles.workerModels) {
      const maxSeqs = served.maxSeqs ?? config.PARLEY_MAX_SEQS;
      const engine = ops.engine(await create({ modelDir: served.dir, ...(maxSeqs ? { maxSeqs } : {}), ...(served.kvCacheTokens ? { kvCacheTokens: served.kvCacheTokens } : {}), device: served.device }), served.name);
      const worker = new GenerationWorker({
        store: ops.observed(store), commands, jobs, engine, bus, heartbeatMs: Math.floor(config.PARLEY_LEASE_MS / 3), onError: ops.onError('worker'),
        models: { names: [served.name], includeUnrouted: served.name === models.defaultModel },
      });
      worker.start();
      engines.push(engine);
      workers.push(worker);
    }
    for (const w of workers) ops.worker(w);
  }
  const engine = engines[0] ?? null;
  const worker = workers[0] ?? null;

  let server: Server | null = null;
  let url: string | null = null;
  const eventStreams = new EventStreams(store);
  if (roles.includes('api')) {
    const accepted = new AcceptedTurns();
    const api = createApi({
      services: { knex, store, commands, jwtSecret: secret, defaultModel: models.defaultModel, models, newId: randomUUID, bus, keys, accepted, tenantPolicies, knowledge: knowledge.knowledge },
      ready: ops.ready,
      routes: [...ops.routes({ store, commands, bus, secret, modelDir, newId: randomUUID, accepted, tenantPolicies, models }), createWebRoute(), createDevLoginRoute({ enabled: devLoginEnabled(config), secret }), createEventsNdjsonRoute(eventStreams, secret), ...knowledge.routes({ secret })],
      resolvers: [createEventsResolvers(eventStreams), generationStreamResolvers, experimentResolvers],
      plugins: ops.plugins(),
      cors: corsPolicy(config.PARLEY_CORS_ORIGINS),
    });
    server = api.server;
    ops.serve(server);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, config.HOST, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    url = `http://localhost:${port}`;
  } else {
    await ops.listen(); // a process without the API role: /metrics, /healthz, /readyz on PARLEY_METRICS_PORT
  }

  return {
    database, knex, store, commands, runner, saga, worker, engine, jobs, bus, keys, server, url, secret,
    ops, models, workers, engines,
    drain: (graceMs?: number) => ops.drain(graceMs),
    stop: async () => {
      modelRoles.stop();
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(engines.map((e) => e.close()));
      if (guard) { setDefaultJudge(undefined); await guard.close(); }
      stopRetention?.();
      await saga?.stop();
      await knowledge.stop();
      eventStreams.close();
      if (server) await new Promise((r) => { server!.close(() => r(null)); server!.closeAllConnections(); });
      await runner?.stop();
      await bus.close();
      await store.close();
      await ops.close();
      await knex.destroy();
      await database.stop();
    },
  };
}

// The embedded PostgreSQL can run once per data directory. The process that starts it records its
// URL, so CLI commands (rebuild, export) run beside `npm start` use the same server.
export async function openSharedDatabase(config: RuntimeConfig, log: (line: string) => void = () => {}): Promise<Database> {
  if (config.DATABASE_URL) return openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: '' });
  const file = path.join(config.PARLEY_HOME, 'running.json');
  if (existsSync(file)) {
    const running = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; connectionString: string };
    if (isAlive(running.pid)) return { connectionString: running.connectionString, embedded: true, stop: async () => {} };
  }
  const database = await openDatabase({ dataDir: path.join(config.PARLEY_HOME, 'pg'), log });
  mkdirSync(config.PARLEY_HOME, { recursive: true });
  writeFileSync(file, JSON.stringify({ pid: process.pid, connectionString: database.connectionString }));
  return { ...database, stop: async () => { rmSync(file, { force: true }); await database.stop(); } };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return pid !== process.pid;
  } catch {
    return false;
  }
}
