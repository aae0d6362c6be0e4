import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { argmax, resolveSamplingParams, Sampler, SamplingParamsError } from '../../inference/engine/sampler.ts';
import { createRng } from '../../inference/engine/rng.ts';

const PINNED_SEED7 = [1004282400, 2200021487, 1928073449, 741806228];
const sampler = (p: Parameters<typeof resolveSamplingParams>[0]) => new Sampler(resolveSamplingParams(p));
const logitsOf = (probs: number[]) => Float32Array.from(probs.map((p) => Math.log(p)));

test('rng: same seed gives the same stream, values in [0, 1), different seeds differ', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  // seeds above 2^32 are not truncated
  assert.notEqual(createRng(2 ** 40 + 42).next(), createRng(42).next());
  assert.throws(() => createRng(-1), RangeError);
  assert.throws(() => createRng(1.5), RangeError);
});

test('rng: the stream for a fixed seed never changes (replays stay valid)', () => {
  const r = createRng(7);
  const got = Array.from({ length: 4 }, () => Math.floor(r.next() * 2 ** 32));
  // pinned values: if this changes, recorded seeds no longer replay the same text
  assert.deepEqual(got, PINNED_SEED7);
});
test('argmax takes the first of equal maxima, like transformers.js', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(argmax([-5, -1, -1]), 1);
  assert.equal(argmax([0]), 0);
});

test('greedy (temperature 0) ignores the seed and returns the argmax', () => {
  const l = logitsOf([0.1, 0.2, 0.6, 0.1]);
  for (const seed of [1, 2, 3]) assert.equal(sampler({ temperature: 0, seed }).sample(l), 2);
  assert.equal(sampler({ greedy: true, temperature: 5, seed: 1 }).sample(l), 2);
});

test('same seed, same samples; another seed, other samples', () => {
  const l = logitsOf([0.25, 0.25, 0.25, 0.25]);
  const run = (seed: number) => {
    const s = sampler({ temperature: 1, seed });
    return Array.from({ length: 50 }, () => s.sample(l));
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('temperature 1 samples the softmax distribution', () => {
  const s = sampler({ temperature: 1, seed: 11 });
  const l = logitsOf([0.7, 0.2, 0.1]);
  const counts = [0, 0, 0];
  for (let i = 0; i < 5000; i++) counts[s.sample(l)]++;
  assert.ok(Math.abs(counts[0] / 5000 - 0.7) < 0.03, `${counts}`);
  assert.ok(Math.abs(counts[1] / 5000 - 0.2) < 0.03, `${counts}`);
  assert.ok(Math.abs(counts[2] / 5000 - 0.1) < 0.03, `${counts}`);
});

test('low temperature sharpens, high temperature flattens', () => {
  const l = logitsOf([0.6, 0.4]);
  const freq0 = (t: number) => {
    const s = sampler({ temperature: t, seed: 3 });
    let c = 0;
    for (let i = 0; i < 3000; i++) if (s.sample(l) === 0) c++;
    return c / 3000;
  };
  assert.ok(freq0(0.2) > 0.85);
  assert.ok(freq0(5) < 0.56);
});

test('top-k keeps only the k most likely tokens', () => {
  const l = logitsOf([0.3, 0.05, 0.25, 0.2, 0.2]);
  const s = sampler({ temperature: 1, topK: 2, seed: 9 });
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(s.sample(l));
  assert.deepEqual([...seen].sort(), [0, 2]);
  assert.equal(sampler({ temperature: 2, topK: 1, seed: 1 }).sample(l), 0);
});

test('top-p keeps the smallest set whose mass reaches p', () => {
  const l = logitsOf([0.15, 0.5, 0.05, 0.3]);
  const seen = (p: number) => {
    const s = sampler({ temperature: 1, topP: p, seed: 4 });
    const out = new Set<number>();
    for (let i = 0; i < 2000; i++) out.add(s.sample(l));
    return [...out].sort();
  };
  assert.deepEqual(seen(0.5), [1]); // 0.5 alone reaches 0.5
  assert.deepEqual(seen(0.8), [1, 3]); // 0.5 + 0.3
  assert.deepEqual(seen(0.81), [0, 1, 3]);
  assert.deepEqual(seen(1), [0, 1, 2, 3]);
  assert.deepEqual(seen(0.01), [1]);
});

test('top-p over a large vocabulary matches a full sort', () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 2, maxLength: 3000 }),
      fc.double({ min: 0.05, max: 0.99, noNaN: true }),
      fc.integer({ min: 0, max: 1000 }),
      (xs, p, seed) => {
        const l = Float32Array.from(xs);
        // reference nucleus by full sort
        const max = Math.max(...l);
        const e = Array.from(l, (v) => Math.exp(v - max));
        const z = e.reduce((a, b) => a + b, 0);
        const order = e.map((v, i) => [v / z, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        const allowed = new Set<number>();
        let above = 0;
        for (const [q, i] of order) {
          if (above >= p && allowed.size > 0) break;
          allowed.add(i);
          above += q;
        }
        const s = sampler({ temperature: 1, topP: p, seed });
        for (let k = 0; k < 20; k++) {
          const id = s.sample(l);
          // ties at the boundary may be resolved either way; allow equal probabilities
          if (!allowed.has(id)) {
            const minAllowed = Math.min(...[...allowed].map((i) => e[i]));
            assert.ok(e[id] >= minAllowed * (1 - 1e-9), `sampled ${id} outside the nucleus`);
          }
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('sampling params: defaults from generation_config, validation errors', () => {
  const g = resolveSamplingParams({}, { do_sample: false, max_new_tokens: 77 });
  assert.equal(g.greedy, true);
  assert.equal(g.maxTokens, 77);
  const s = resolveSamplingParams({ seed: 3 }, { temperature: 0.7, top_p: 0.9, top_k: 20 });
  assert.deepEqual([s.greedy, s.temperature, s.topP, s.topK, s.seed], [false, 0.7, 0.9, 20, 3]);
  assert.equal(typeof resolveSamplingParams({}).seed, 'number');
  for (const bad of [{ temperature: -1 }, { topP: 0 }, { topP: 1.5 }, { topK: -2 }, { topK: 1.5 }, { maxTokens: 0 }, { seed: -3 }, { stop: [''] }]) {
    assert.throws(() => resolveSamplingParams(bad), SamplingParamsError, JSON.stringify(bad));
  }
});
