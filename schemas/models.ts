import { z } from 'zod';
import { Id } from './common.ts';

// PARLEY_MODELS: the models this deployment serves, by the name clients ask for (OpenAI `model`,
// GraphQL `model`). Checked whole at start, so a typo stops the process instead of serving the
// wrong model. Without it, the one model of MODEL_DIR (or the shipped one) under PARLEY_MODEL.
export const ModelName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'model names use letters, digits, _ . : -');

export const ModelRole = z.enum(['chat', 'embeddings', 'guard']);
export type ModelRole = z.infer<typeof ModelRole>;

export const ModelEntry = z.strictObject({
  /** the model folder (config.json, tokenizer.json, onnx/model.onnx), relative to the working directory */
  dir: z.string().min(1),
  roles: z.array(ModelRole).min(1).default(['chat']),
  /** engine settings: concurrent sequences and the KV pool (tokens) */
  maxSeqs: z.number().int().min(1).max(256).optional(),
  kvCacheTokens: z.number().int().min(16).optional(),
  /** tiers (read-api/rate-limit/tiers.ts) allowed to use it; absent: every tier */
  tiers: z.array(z.string().min(1)).optional(),
  /** served instead when this model's queue passes `fallbackQueueDepth` (default PARLEY_SHED_QUEUE_DEPTH) */
  fallback: ModelName.optional(),
  fallbackQueueDepth: z.number().int().min(1).optional(),
  /** onnxruntime execution provider; CPU unless asked (inference/models/README.md) */
  device: z.enum(['cpu', 'cuda']).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntry>;

export const ModelsConfig = z.record(ModelName, ModelEntry).refine((m) => Object.keys(m).length > 0, 'name at least one model');
export type ModelsConfig = z.infer<typeof ModelsConfig>;

// PARLEY_TENANT_MODELS: per tenant, the models it may use and the one it gets when it names none.
export const TenantModels = z.record(Id, z.strictObject({
  allowed: z.array(ModelName).min(1).optional(),
  default: ModelName.optional(),
}));
export type TenantModels = z.infer<typeof TenantModels>;

// PARLEY_EXPERIMENTS: A/B tests on live traffic. A turn that asks for `model` (default: the
// deployment's default model), from a tenant in `tenants` (absent: every tenant), is served by the
// arm its user hashes to. A canary is an experiment whose candidate arm has a small weight.
export const ExperimentArm = z.strictObject({
  name: z.string().min(1).max(64),
  model: ModelName,
  weight: z.number().min(0),
});
export const Experiment = z.strictObject({
  name: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'experiment names use letters, digits, _ . : -'),
  model: ModelName.optional(),
  tenants: z.array(Id).optional(),
  arms: z.array(ExperimentArm).min(2),
}).refine((e) => e.arms.some((a) => a.weight > 0), 'at least one arm needs a weight above 0')
  .refine((e) => new Set(e.arms.map((a) => a.name)).size === e.arms.length, 'arm names must be unique');
export type Experiment = z.infer<typeof Experiment>;
export const Experiments = z.array(Experiment);
export type Experiments = z.infer<typeof Experiments>;

// What a generation records about how its model was chosen (GenerationRequested, optional fields).
export const ExperimentArmRef = z.object({ name: z.string().min(1), arm: z.string().min(1) });
export type ExperimentArmRef = z.infer<typeof ExperimentArmRef>;
