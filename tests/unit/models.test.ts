import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { armOf, ModelRegistry, ModelRouter } from '../../inference/models/index.ts';
import { normalCdf, twoProportionZTest } from '../../read-api/experiments/z-test.ts';
import { Experiment } from '../../schemas/models.ts';
import { decideModelPromotion, initialModelPromotionState } from '../../domain/model-promotion.ts';

const MODELS = JSON.stringify({ 'parley-tiny': { dir: 'inference/model/parley-tiny' }, 'test-random': { dir: 'inference/model/test-random' } });
const registry = (extra: Partial<Record<'PARLEY_MODELS' | 'PARLEY_TENANT_MODELS' | 'PARLEY_EXPERIMENTS', string>> = {}) =>
  ModelRegistry.fromSources({ PARLEY_MODELS: MODELS, PARLEY_MODEL: 'parley-tiny', modelDir: '/unused', ...extra });

describe('A/B arms', () => {
  const experiment = Experiment.parse({ name: 'tiny-vs-random', arms: [{ name: 'control', model: 'parley-tiny', weight: 70 }, { name: 'candidate', model: 'test-random', weight: 30 }] });

  it('split 2,000 simulated users within ±5% of their weights', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const arm = armOf(experiment, `t1/user-${i}`).name;
      counts.set(arm, (counts.get(arm) ?? 0) + 1);
    }
    assert.ok(Math.abs(counts.get('control')! / 2000 - 0.7) <= 0.05, `control ${counts.get('control')}`);
    assert.ok(Math.abs(counts.get('candidate')! / 2000 - 0.3) <= 0.05, `candidate ${counts.get('candidate')}`);
  });

  it('give each user the same arm every time, and other experiments an independent split', () => {
    const other = Experiment.parse({ ...experiment, name: 'another' });
    let differs = 0;
    for (let i = 0; i < 2000; i++) {
      const first = armOf(experiment, `t1/user-${i}`).name;
      for (let k = 0; k < 3; k++) assert.equal(armOf(experiment, `t1/user-${i}`).name, first);
      if (armOf(other, `t1/user-${i}`).name !== first) differs++;
    }
    assert.ok(differs > 0, 'the experiment name is part of the hash');
  });

  it('never pick an arm of weight 0 (a canary switched off)', () => {
    const off = Experiment.parse({ name: 'canary', arms: [{ name: 'stable', model: 'parley-tiny', weight: 1 }, { name: 'canary', model: 'test-random', weight: 0 }] });
    for (let i = 0; i < 500; i++) assert.equal(armOf(off, `t/u${i}`).name, 'stable');
  });
});

describe('model registry', () => {
  it('without PARLEY_MODELS serves the one model under PARLEY_MODEL', () => {
    const r = ModelRegistry.fromSources({ PARLEY_MODEL: 'parley-tiny', modelDir: '/models/x' });
    assert.deepEqual(r.names(), ['parley-tiny']);
    assert.equal(r.get('parley-tiny')!.dir, '/models/x');
    assert.equal(r.get('parley-tiny')!.device, undefined); // CPU unless asked (execution-provider.ts)
  });

  it('per-tenant allowed models and default; tiers; unknown names', () => {
    const r = registry({ PARLEY_TENANT_MODELS: JSON.stringify({ acme: { allowed: ['test-random'], default: 'test-random' } }) });
    assert.equal(r.defaultFor('acme'), 'test-random');
    assert.equal(r.defaultFor('other'), 'parley-tiny');
    assert.equal(r.check('parley-tiny', { tenantId: 'acme' }).ok, false);
    assert.deepEqual(r.listFor({ tenantId: 'acme' }).map((m) => m.name), ['test-random']);
    const nope = r.check('gpt-4o', { tenantId: 'other' });
    assert.ok(!nope.ok && nope.reason === 'unknown');
    const tiered = registry({ PARLEY_MODELS: JSON.stringify({ a: { dir: 'x' }, b: { dir: 'y', tiers: ['pro'] } }) });
    assert.equal(tiered.check('b', { tenantId: 't', tier: 'free' }).ok, false);
    assert.equal(tiered.check('b', { tenantId: 't', tier: 'pro' }).ok, true);
  });

  it('refuses a configuration that names a model it does not define, or is not JSON', () => {
    assert.throws(() => registry({ PARLEY_TENANT_MODELS: JSON.stringify({ acme: { default: 'nope' } }) }), /nope/);
    assert.throws(() => registry({ PARLEY_MODELS: JSON.stringify({ a: { dir: 'x', fallback: 'b' } }) }), /fallback of "a".*"b"/);
    assert.throws(() => registry({ PARLEY_MODELS: JSON.stringify({ a: { dri: 'x' } }) }), /invalid PARLEY_MODELS/);
    assert.throws(() => registry({ PARLEY_MODELS: '/no/such/file.json' }), /JSON or the path of a JSON file/);
    assert.throws(() => registry({ PARLEY_EXPERIMENTS: JSON.stringify([{ name: 'e', arms: [{ name: 'a', model: 'parley-tiny', weight: 1 }, { name: 'a', model: 'x', weight: 1 }] }]) }), /unique/);
  });

  it('a promotion moves the default, only to a model it serves', () => {
    const r = registry();
    r.promoted('test-random');
    assert.equal(r.defaultModel, 'test-random');
    r.promoted('unknown');
    assert.equal(r.defaultModel, 'test-random');
  });
});

describe('router', () => {
  it('falls back when the model\'s queue has reached its watermark, counting the batch\'s own jobs', async () => {
    const r = registry({ PARLEY_MODELS: JSON.stringify({ big: { dir: 'x', fallback: 'small', fallbackQueueDepth: 2 }, small: { dir: 'y' } }), PARLEY_MODEL: 'big' } as never);
    const fallbacks: string[] = [];
    const router = new ModelRouter({ registry: r, loadByModel: async () => new Map([['big', { queued: 1, running: 2, oldestQueuedMs: 10 }]]), shedQueueDepth: 100, onFallback: (from, to) => fallbacks.push(`${from}->${to}`) });
    const routes = await router.routeMany([1, 2, 3].map((i) => ({ generationId: `g${i}`, model: 'big', tenantId: 't', userId: `u${i}` })));
    assert.deepEqual([...routes.values()], [{ model: 'big' }, { model: 'small', fallbackFrom: 'big' }, { model: 'small', fallbackFrom: 'big' }]);
    assert.deepEqual(fallbacks, ['big->small', 'big->small']);
  });

  it('falls back when the model\'s jobs wait with none running (no working worker), not while they run', async () => {
    const r = registry({ PARLEY_MODELS: JSON.stringify({ big: { dir: 'x', fallback: 'small' }, small: { dir: 'y' } }), PARLEY_MODEL: 'big' } as never);
    const route = async (load: { queued: number; running: number; oldestQueuedMs: number }) =>
      [...(await new ModelRouter({ registry: r, loadByModel: async () => new Map([['big', load]]), shedQueueDepth: 100, noWorkerAfterMs: 3000 })
        .routeMany([{ generationId: 'g', model: 'big', tenantId: 't', userId: 'u' }])).values()][0];
    assert.deepEqual(await route({ queued: 1, running: 0, oldestQueuedMs: 3500 }), { model: 'small', fallbackFrom: 'big' });
    assert.deepEqual(await route({ queued: 1, running: 1, oldestQueuedMs: 3500 }), { model: 'big' });
    assert.deepEqual(await route({ queued: 1, running: 0, oldestQueuedMs: 100 }), { model: 'big' });
  });

  it('serves an experiment\'s arm for turns on its model and tenants only', async () => {
    const r = registry({ PARLEY_EXPERIMENTS: JSON.stringify([{ name: 'ab', tenants: ['t1'], arms: [{ name: 'a', model: 'parley-tiny', weight: 1 }, { name: 'b', model: 'test-random', weight: 1 }] }]) });
    const router = new ModelRouter({ registry: r, loadByModel: async () => new Map(), shedQueueDepth: 100 });
    const routes = await router.routeMany([
      { generationId: 'in', model: 'parley-tiny', tenantId: 't1', userId: 'u' },
      { generationId: 'other-tenant', model: 'parley-tiny', tenantId: 't2', userId: 'u' },
      { generationId: 'other-model', model: 'test-random', tenantId: 't1', userId: 'u' },
    ]);
    assert.equal(routes.get('in')!.experiment!.name, 'ab');
    assert.deepEqual(routes.get('other-tenant'), { model: 'parley-tiny' });
    assert.deepEqual(routes.get('other-model'), { model: 'test-random' });
  });
});

describe('two-proportion z-test', () => {
  it('matches a worked example (45/100 vs 60/100: z ≈ 2.12, p ≈ 0.034)', () => {
    const t = twoProportionZTest(45, 100, 60, 100)!;
    assert.ok(Math.abs(t.z - 2.1240) < 1e-3, String(t.z));
    assert.ok(Math.abs(t.pValue - 0.0337) < 1e-3, String(t.pValue));
    assert.equal(twoProportionZTest(0, 0, 1, 2), null);
    assert.ok(Math.abs(normalCdf(1.96) - 0.975) < 1e-4);
  });
});

describe('PromoteModel decider', () => {
  const operator = { commandId: 'c', actor: { userId: 'op', tenantId: 'system', roles: ['platform_operator' as const] } };
  type Skill = { skill: string; ok: number; n: number; floor: number };
  const command = (data: Partial<{ model: string; passed: number; total: number; threshold: number; skills: Skill[] }>, metadata = operator) =>
    ({ type: 'PromoteModel' as const, data: { model: 'parley-tiny', goldenSet: 'g', passed: 297, total: 300, threshold: 0.9, ...data }, metadata });

  it('records ModelPromoted at or above the threshold, with the previous default', () => {
    const first = decideModelPromotion(command({}), initialModelPromotionState());
    assert.ok(first.ok);
    assert.deepEqual(first.events[0]!.data, { model: 'parley-tiny', goldenSet: 'g', passed: 297, total: 300, threshold: 0.9, previous: null });
    const second = decideModelPromotion(command({ model: 'other', passed: 270 }), { current: 'parley-tiny' });
    assert.ok(second.ok && second.events[0]!.type === 'ModelPromoted' && second.events[0]!.data.previous === 'parley-tiny');
  });

  it('refuses a score below the threshold, a non-operator, and the model already promoted', () => {
    const below = decideModelPromotion(command({ passed: 269 }), initialModelPromotionState());
    assert.ok(!below.ok && below.error.code === 'BELOW_THRESHOLD');
    const user = decideModelPromotion(command({}, { commandId: 'c', actor: { userId: 'u', tenantId: 't', roles: ['admin' as never] } }), initialModelPromotionState());
    assert.ok(!user.ok && user.error.code === 'FORBIDDEN');
    const again = decideModelPromotion(command({}), { current: 'parley-tiny' });
    assert.ok(!again.ok && again.error.code === 'ALREADY_EXISTS');
  });

  it('the per-skill gate: every skill at its floor is promoted (threshold 0); one below is refused, naming it', () => {
    const skills = [{ skill: 'capitals', ok: 6, n: 6, floor: 0.9 }, { skill: 'summaries', ok: 0, n: 6, floor: 0 }];
    const ok = decideModelPromotion(command({ passed: 6, total: 12, threshold: 0, skills }), initialModelPromotionState());
    assert.ok(ok.ok && ok.events[0]!.type === 'ModelPromoted' && ok.events[0]!.data.skills?.length === 2);
    const low = decideModelPromotion(command({ passed: 5, total: 12, threshold: 0, skills: [{ ...skills[0]!, ok: 5 }, skills[1]!] }), initialModelPromotionState());
    assert.ok(!low.ok && low.error.code === 'BELOW_THRESHOLD' && /capitals/.test(low.error.message), JSON.stringify(low));
    const bad = decideModelPromotion(command({ threshold: 0, skills: [{ ...skills[0]!, ok: 7 }] }), initialModelPromotionState());
    assert.ok(!bad.ok && bad.error.code === 'INVALID_FIELD');
  });
});

describe('execution providers', () => {
  it('CPU unless asked; CUDA refused with a clear reason when its provider files are missing', async () => {
    const { executionProviders, cudaProviderMissing, CudaUnavailableError } = await import('../../inference/engine/execution-provider.ts');
    assert.deepEqual(executionProviders(), ['cpu']);
    assert.deepEqual(executionProviders('cpu'), ['cpu']);
    const missing = cudaProviderMissing();
    if (missing === null) assert.deepEqual(executionProviders('cuda'), ['cuda']);
    else assert.throws(() => executionProviders('cuda'), (e: unknown) => e instanceof CudaUnavailableError && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(e.message));
  });
});

describe('router without PARLEY_MODELS', () => {
  it('serves a conversation started under another name with the one model (as before the registry)', async () => {
    const single = ModelRegistry.fromSources({ PARLEY_MODEL: 'parley-tiny', modelDir: '/models/x' });
    const router = new ModelRouter({ registry: single, loadByModel: async () => new Map(), shedQueueDepth: 10 });
    assert.deepEqual([...(await router.routeMany([{ generationId: 'g', model: 'renamed-since', tenantId: 't', userId: 'u' }])).values()], [{ model: 'parley-tiny' }]);
    // With PARLEY_MODELS the name is kept (the saga then fails the generation: MODEL_NOT_FOUND).
    const configured = new ModelRouter({ registry: registry(), loadByModel: async () => new Map(), shedQueueDepth: 10 });
    assert.deepEqual([...(await configured.routeMany([{ generationId: 'g', model: 'gone', tenantId: 't', userId: 'u' }])).values()], [{ model: 'gone' }]);
  });
});

describe('router cost', () => {
  it('reads the queues only when some model has a fallback', async () => {
    let reads = 0;
    const loadByModel = async () => { reads++; return new Map(); };
    await new ModelRouter({ registry: registry(), loadByModel, shedQueueDepth: 1 }).routeMany([{ generationId: 'g', model: 'parley-tiny', tenantId: 't', userId: 'u' }]);
    assert.equal(reads, 0);
    const withFallback = registry({ PARLEY_MODELS: JSON.stringify({ a: { dir: 'x', fallback: 'b' }, b: { dir: 'y' } }) });
    await new ModelRouter({ registry: withFallback, loadByModel, shedQueueDepth: 1 }).routeMany([{ generationId: 'g', model: 'a', tenantId: 't', userId: 'u' }]);
    assert.equal(reads, 1);
  });
});
