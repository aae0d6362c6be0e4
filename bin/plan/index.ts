export { PlanInput, plan, type Plan } from './plan.ts';
export { loadMeasured } from './measured.ts';
export { renderPlan } from './report.ts';
export { GPU_TABLE, GPUS, MODEL_SIZES } from './figures.ts';
