import type { EventStore } from '../eventstore/port.ts';
import { loadModel, type LoadedModel } from '../inference/engine/model.ts';
import { ModelRouter, type ModelRegistry, type ServedModel } from '../inference/models/index.ts';
import type { JobQueue } from '../inference/worker/job-queue.ts';
import type { Operations } from '../read-api/observability/operations.ts';
import type { RuntimeConfig } from '../schemas/runtime-config.ts';

// Composition of the several-models feature (PARLEY_MODELS): what the saga needs (each model's
// tokenizer and template, the router), which models this process's workers load, and the promoted
// default kept current from the `models` stream.

export type ModelRoles = {
  saga: { modelFor: (name: string) => LoadedModel | undefined; router: ModelRouter };
  workerModels: ServedModel[];
  stop: () => void;
};

const PROMOTION_POLL_MS = 5_000;

export async function startModelRoles(o: { config: RuntimeConfig; registry: ModelRegistry; store: EventStore; jobs: JobQueue; ops: Operations }): Promise<ModelRoles> {
  const { config, registry } = o;
  const loaded = new Map<string, LoadedModel>();
  const modelFor = (name: string) => {
    const served = registry.get(name);
    if (!served) return undefined;
    let model = loaded.get(name);
    if (!model) loaded.set(name, (model = loadModel(served.dir)));
    return model;
  };
  const router = new ModelRouter({
    registry,
    loadByModel: () => o.jobs.loadByModel(),
    shedQueueDepth: config.PARLEY_SHED_QUEUE_DEPTH,
    // Three lease periods without any job of a model running: its workers are dead or absent.
    noWorkerAfterMs: 3 * config.PARLEY_LEASE_MS,
    onFallback: (from, to) => o.ops.metrics.modelFallbacks.inc({ model_name: from, fallback: to }),
  });

  // A promotion made by `parley model promote` while this process runs moves its default too.
  const refresh = async () => registry.promoted(await promotedModel(o.store));
  await refresh();
  const timer = setInterval(() => refresh().catch(o.ops.onError('model promotion')), PROMOTION_POLL_MS);
  timer.unref();

  return { saga: { modelFor, router }, workerModels: workerModels(config, registry), stop: () => clearInterval(timer) };
}

/** the models this process's workers load: --models / PARLEY_WORKER_MODELS, else every chat model */
export function workerModels(config: Pick<RuntimeConfig, 'PARLEY_WORKER_MODELS'>, registry: ModelRegistry): ServedModel[] {
  const asked = config.PARLEY_WORKER_MODELS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!asked?.length) return registry.names().map((n) => registry.get(n)!).filter((m) => m.roles.includes('chat'));
  const unknown = asked.filter((n) => !registry.get(n));
  if (unknown.length) throw new Error(`--models names model(s) PARLEY_MODELS does not define: ${unknown.join(', ')} (defined: ${registry.names().join(', ')})`);
  return [...new Set(asked)].map((n) => registry.get(n)!);
}

/** the last ModelPromoted on the `models` stream, or null */
export async function promotedModel(store: Pick<EventStore, 'readStream'>): Promise<string | null> {
  const events = await store.readStream('models');
  const last = events.findLast((e) => e.type === 'ModelPromoted');
  return last?.type === 'ModelPromoted' ? last.data.model : null;
}
