import type { ExperimentArmRef } from '../../schemas/models.ts';
import { subjectOf } from '../../schemas/common.ts';
import { armOf } from './experiments.ts';
import type { ModelLoad } from '../worker/job-queue.ts';
import type { ModelRegistry } from './registry.ts';

// Which model serves a generation: the one asked for (the message's, else the conversation's), or
// the arm of an experiment on that model the user hashes to, or — when the chosen model's queue has
// reached its watermark, or its jobs wait with none running (no working worker) — its fallback. The choice is recorded in GenerationRequested (model,
// experiment, fallbackFrom), and the job carries the model so only workers that load it claim it.

export type RouteAsk = { generationId: string; model: string; tenantId: string; userId: string };
export type Route = { model: string; experiment?: ExperimentArmRef; fallbackFrom?: string };

export type RouterOptions = {
  registry: ModelRegistry;
  /** per model: jobs queued (unclaimed) and running, and the oldest queued one's wait; read once per batch */
  loadByModel: () => Promise<Map<string, ModelLoad>>;
  /** the default fallback watermark (PARLEY_SHED_QUEUE_DEPTH) */
  shedQueueDepth: number;
  /** a model whose oldest job has waited this long with none of its jobs running has no working
   *  worker (dead, or none loads it): it falls back too. Default: never. */
  noWorkerAfterMs?: number;
  /** counted per fallback (metrics: parley_model_fallbacks_total{model_name,fallback}) */
  onFallback?: (from: string, to: string) => void;
};

export class ModelRouter {
  private readonly hasFallbacks: boolean;

  constructor(private readonly o: RouterOptions) {
    this.hasFallbacks = o.registry.names().some((n) => o.registry.get(n)?.fallback !== undefined);
  }

  /** routes a batch; the batch's own choices count towards each model's queue as it goes */
  async routeMany(asks: readonly RouteAsk[]): Promise<Map<string, Route>> {
    const routes = new Map<string, Route>();
    if (asks.length === 0) return routes;
    // The queues are read only when some model has a fallback: otherwise a batch costs no query.
    const load = this.hasFallbacks ? await this.o.loadByModel() : new Map<string, ModelLoad>();
    for (const ask of asks) {
      const route = this.route(ask, load);
      const l = load.get(route.model) ?? { queued: 0, running: 0, oldestQueuedMs: 0 };
      load.set(route.model, { ...l, queued: l.queued + 1 });
      routes.set(ask.generationId, route);
    }
    return routes;
  }

  private route(ask: RouteAsk, load: ReadonlyMap<string, ModelLoad>): Route {
    const { registry } = this.o;
    // One model and no PARLEY_MODELS: it serves every conversation, whatever name it was started under
    // (as before there was a registry).
    let route: Route = { model: registry.get(ask.model) || registry.configured ? ask.model : registry.defaultModel };
    const experiment = registry.experimentsFor(route.model, ask.tenantId)[0];
    if (experiment) {
      const arm = armOf(experiment, subjectOf(ask.tenantId, ask.userId));
      route = { model: arm.model, experiment: { name: experiment.name, arm: arm.name } };
    }
    const served = registry.get(route.model);
    const watermark = served?.fallbackQueueDepth ?? this.o.shedQueueDepth;
    const l = load.get(route.model);
    const saturated = (l?.queued ?? 0) >= watermark;
    const noWorker = this.o.noWorkerAfterMs !== undefined && l !== undefined && l.running === 0 && l.queued > 0 && l.oldestQueuedMs >= this.o.noWorkerAfterMs;
    if (served?.fallback && (saturated || noWorker)) {
      this.o.onFallback?.(route.model, served.fallback);
      route = { ...route, model: served.fallback, fallbackFrom: route.model };
    }
    return route;
  }
}
