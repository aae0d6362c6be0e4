// Several models: the registry (PARLEY_MODELS), the router (experiments, fallback) and the arms.
export { ModelRegistry, type ServedModel, type ModelCheck, type RegistrySources, type SamplingDefaults } from './registry.ts';
export { ModelRouter, type Route, type RouteAsk } from './router.ts';
export { armOf } from './experiments.ts';
