import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { Experiments, ModelEntry, ModelsConfig, TenantModels, type Experiment } from '../../schemas/models.ts';
import { modelSamplingDefaults } from '../engine/sampler.ts';

// The models a deployment serves, by the name clients ask for, and who may use which. Built once
// at start from PARLEY_MODELS / PARLEY_TENANT_MODELS / PARLEY_EXPERIMENTS; a promotion
// (ModelPromoted, `parley model promote`) moves the default while it runs.

export type ServedModel = ModelEntry & { name: string; /** absolute */ dir: string };

export type ModelCheck =
  | { ok: true; model: ServedModel }
  | { ok: false; reason: 'unknown' | 'forbidden'; message: string };

export type RegistrySources = {
  PARLEY_MODELS?: string | undefined;
  PARLEY_TENANT_MODELS?: string | undefined;
  PARLEY_EXPERIMENTS?: string | undefined;
  /** the default's name; also the single model's name without PARLEY_MODELS */
  PARLEY_MODEL: string;
  /** the single model's folder without PARLEY_MODELS (absolute) */
  modelDir: string;
};

export type SamplingDefaults = ReturnType<typeof modelSamplingDefaults>;

export class ModelRegistry {
  private promotedName: string | null = null;
  private readonly sampling = new Map<string, SamplingDefaults | null>();

  constructor(
    private readonly models: ReadonlyMap<string, ServedModel>,
    private readonly configuredDefault: string,
    private readonly tenants: TenantModels = {},
    readonly experiments: Experiments = [],
    /** false: the single model of MODEL_DIR (no PARLEY_MODELS), which answers whatever model a stored conversation names */
    readonly configured = true,
  ) {
    const missing = (name: string | undefined, where: string) => {
      if (name !== undefined && !models.has(name)) throw new Error(`${where} names the model "${name}", which PARLEY_MODELS does not define (defined: ${this.names().join(', ')})`);
    };
    missing(configuredDefault, 'the default model');
    for (const m of models.values()) missing(m.fallback, `the fallback of "${m.name}"`);
    for (const [tenant, t] of Object.entries(tenants)) {
      missing(t.default, `PARLEY_TENANT_MODELS.${tenant}.default`);
      for (const a of t.allowed ?? []) missing(a, `PARLEY_TENANT_MODELS.${tenant}.allowed`);
      if (t.default && t.allowed && !t.allowed.includes(t.default)) throw new Error(`PARLEY_TENANT_MODELS.${tenant}: the default "${t.default}" is not among its allowed models`);
    }
    for (const e of experiments) {
      missing(e.model, `experiment "${e.name}"`);
      for (const arm of e.arms) missing(arm.model, `experiment "${e.name}" arm "${arm.name}"`);
    }
  }

  /** from the environment: JSON or the path of a JSON file for each setting */
  static fromSources(s: RegistrySources): ModelRegistry {
    const configured = parseSetting('PARLEY_MODELS', s.PARLEY_MODELS, ModelsConfig);
    const models = new Map<string, ServedModel>();
    if (configured) {
      for (const [name, entry] of Object.entries(configured)) models.set(name, { ...entry, name, dir: path.resolve(entry.dir) });
    } else {
      models.set(s.PARLEY_MODEL, { ...ModelEntry.parse({ dir: s.modelDir }), name: s.PARLEY_MODEL, dir: s.modelDir });
    }
    // With PARLEY_MODELS, PARLEY_MODEL picks the default when it names one of them; else the first.
    const configuredDefault = models.has(s.PARLEY_MODEL) ? s.PARLEY_MODEL : [...models.keys()][0]!;
    return new ModelRegistry(
      models, configuredDefault,
      parseSetting('PARLEY_TENANT_MODELS', s.PARLEY_TENANT_MODELS, TenantModels) ?? {},
      parseSetting('PARLEY_EXPERIMENTS', s.PARLEY_EXPERIMENTS, Experiments) ?? [],
      configured !== null,
    );
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  get(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  /** the deployment's default: the last promoted model, else the configured one */
  get defaultModel(): string {
    return this.promotedName ?? this.configuredDefault;
  }

  /** a ModelPromoted read from the `models` stream; a name this process does not serve is ignored */
  promoted(name: string | null): void {
    if (name === null || this.models.has(name)) this.promotedName = name;
  }

  /** The sampling a request that names none gets with this model: its generation_config.json's
   *  (read once). null: an unknown model, or a folder without that file (the API's own defaults). */
  samplingDefaults(name: string): SamplingDefaults | null {
    if (!this.sampling.has(name)) {
      const dir = this.models.get(name)?.dir;
      let config: Record<string, unknown> | null = null;
      try {
        if (dir) config = JSON.parse(readFileSync(path.join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
      } catch {
        config = null; // absent or unreadable here (an API process without the model's files)
      }
      this.sampling.set(name, config && typeof config === 'object' ? modelSamplingDefaults(config) : null);
    }
    return this.sampling.get(name)!;
  }

  /** the model a tenant gets when it names none */
  defaultFor(tenantId: string): string {
    return this.tenants[tenantId]?.default ?? this.defaultModel;
  }

  /** may this tenant (at this tier, when known) use `name`? */
  check(name: string, who: { tenantId: string; tier?: string | null }): ModelCheck {
    const model = this.models.get(name);
    if (!model || !model.roles.includes('chat')) {
      return { ok: false, reason: 'unknown', message: `The model '${name.slice(0, 128)}' does not exist` };
    }
    const allowed = this.tenants[who.tenantId]?.allowed;
    if (allowed && !allowed.includes(name)) {
      return { ok: false, reason: 'forbidden', message: `The model '${name}' does not exist or you do not have access to it` };
    }
    if (model.tiers && who.tier && !model.tiers.includes(who.tier)) {
      return { ok: false, reason: 'forbidden', message: `The model '${name}' does not exist or you do not have access to it (not on the ${who.tier} tier)` };
    }
    return { ok: true, model };
  }

  /** the chat models this tenant may use (GET /v1/models) */
  listFor(who: { tenantId: string; tier?: string | null }): ServedModel[] {
    return [...this.models.values()].filter((m) => this.check(m.name, who).ok);
  }

  experimentsFor(model: string, tenantId: string): Experiment[] {
    return this.experiments.filter((e) => (e.model ?? this.defaultModel) === model && (!e.tenants || e.tenants.includes(tenantId)));
  }

  experiment(name: string): Experiment | undefined {
    return this.experiments.find((e) => e.name === name);
  }
}

function parseSetting<T extends z.ZodType>(name: string, value: string | undefined, schema: T): z.infer<T> | null {
  const text = value?.trim();
  if (!text) return null;
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith('{') || text.startsWith('[') ? text : readFileSync(text, 'utf8'));
  } catch (error) {
    throw new Error(`${name} must be JSON or the path of a JSON file: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
