import type { ExperimentArmRef } from '../../schemas/models.ts';
import { subjectOf } from '../../schemas/common.ts';
import { armOf } from './experiments.ts';
import type { ModelRegistry } from './registry.ts';

// Which model serves a generation: the one asked for (the message's, else the conversation's), or
// the arm of an experiment on that model the user hashes to, or — when the chosen model's queue has
// passed its watermark — its fallback. The choice is recorded in GenerationRequested (model,
// experiment, fallbackFrom), and the job carries the model so only workers that load it claim it.

export type RouteAsk = { generationId: string; model: string; tenantId: string; userId: string };
export type Route = { model: string; experiment?: ExperimentArmRef; fallbackFrom?: string };

export type RouterOptions = {
  registry: ModelRegistry;
  /** queued (unclaimed) jobs per model, read once per batch */
  queuedByModel: () => Promise<Map<string, number>>;
  /** the default fallback watermark (PARLEY_SHED_QUEUE_DEPTH) */
  shedQueueDepth: number;
  /** counted per fallback (metrics: parley_model_fallbacks_total{model_name,fallback}) */
  onFallback?: (from: string, to: string) => void;
};

export class ModelRouter {
  constructor(private readonly o: RouterOptions) {}

  /** routes a batch; the batch's own choices count towards each model's queue as it goes */
  async routeMany(asks: readonly RouteAsk[]): Promise<Map<string, Route>> {
    const routes = new Map<string, Route>();
    if (asks.length === 0) return routes;
    const queued = await this.o.queuedByModel();
    for (const ask of asks) {
      const route = this.route(ask, queued);
      queued.set(route.model, (queued.get(route.model) ?? 0) + 1);
      routes.set(ask.generationId, route);
    }
    return routes;
  }

  private route(ask: RouteAsk, queued: ReadonlyMap<string, number>): Route {
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
    if (served?.fallback && (queued.get(route.model) ?? 0) >= watermark) {
      this.o.onFallback?.(route.model, served.fallback);
      route = { ...route, model: served.fallback, fallbackFrom: route.model };
    }
    return route;
  }
}
