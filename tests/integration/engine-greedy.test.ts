// The batching engine gives, token for token, the output of the plain single-sequence Runner
// (itself checked against transformers.js in model-parity.test.ts): alone, in a batch of 64
// requests arriving at random times, after preemption and recompute, with its prefix from the
// cache, in the paged and the dense KV layouts; seeded sampling and stop strings too. Plus: abort
// frees blocks within a step, tenants do not share cached blocks, metrics are reported.
// Model: the random-weight test model (same architecture as the shipped one), short outputs.
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../inference/engine/model.ts';
import { Runner } from '../../inference/engine/runner.ts';
import { createEngine, type EngineHandle, type EngineOptions, type EngineResult, type InferenceEngine } from '../../inference/engine/engine.ts';
import { EngineCore } from '../../inference/engine/engine-loop.ts';
import type { SamplingParams } from '../../inference/engine/sampler.ts';

const modelDir = RANDOM_MODEL_DIR;
const model = loadModel(modelDir);
const MAX = 12;
const greedy: SamplingParams = { temperature: 0, maxTokens: MAX };

// a shared system prompt (several full blocks) and varied user turns of varied lengths
const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
let state = 12345;
const rnd = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const system = 'You are Parley, a careful assistant. Answer briefly and politely. '.repeat(3);
const prompts = Array.from({ length: 64 }, (_, i) =>
  model.applyChatTemplate([
    ...(i % 4 === 3 ? [] : [{ role: 'system', content: system }]),
    { role: 'user', content: Array.from({ length: 2 + Math.floor(rnd() * 30) }, () => words[Math.floor(rnd() * words.length)]).join(' ') },
  ]),
);

let runner: Runner;
let ref: number[][];
before(async () => {
  runner = await Runner.create(model, { threads: 2 });
  ref = [];
  for (const p of prompts) ref.push((await runner.complete(p, greedy)).ids);
});
const engines: InferenceEngine[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.close()));
  await runner.session.release();
});

async function engine(opts: EngineOptions): Promise<InferenceEngine> {
  const e = await createEngine({ modelDir, threads: 2, ...opts });
  engines.push(e);
  return e;
}

async function collect(h: EngineHandle): Promise<{ ids: number[]; text: string; result: EngineResult }> {
  const ids: number[] = [];
  let text = '';
  for await (const t of h) {
    if (t.index === ids.length) ids.push(t.id);
    text += t.text;
  }
  return { ids, text, result: await h.result };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('alone: each request gives the Runner output', async () => {
  const e = await engine({ prefixCaching: false, maxSeqs: 4 });
  for (let i = 0; i < 6; i++) {
    const { ids } = await collect(e.submit({ requestId: `alone-${i}`, promptIds: prompts[i], params: greedy }));
    assert.deepEqual(ids, ref[i], `request ${i}`);
  }
});

test('a batch of 64 requests arriving at random times gives the same outputs; every block is free afterwards', async () => {
  const e = await engine({ prefixCaching: false, maxSeqs: 64 });
  const runs = prompts.map(async (p, i) => {
    await sleep(Math.floor(rnd() * 400));
    return collect(e.submit({ requestId: `batch-${i}`, promptIds: p, params: greedy }));
  });
  const got = await Promise.all(runs);
  got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
  const m = e.metrics();
  const iter = m['vllm:iteration_tokens_total'] as number[];
  assert.ok(Math.max(...iter) > 8, 'requests were batched together');
  assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
  assert.equal(m['vllm:generation_tokens_total'], got.reduce((a, g) => a + g.result.completionTokens, 0));
});

test('with the prefix from the cache: same outputs, and the system prompt is served from the cache', async () => {
  const e = await engine({ prefixCaching: true, maxSeqs: 64 });
  const first = await collect(e.submit({ requestId: 'warm', promptIds: prompts[0], params: greedy }));
  assert.deepEqual(first.ids, ref[0]);
  const got = await Promise.all(prompts.map((p, i) => collect(e.submit({ requestId: `cached-${i}`, promptIds: p, params: greedy }))));
  got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
  const withSystem = got.filter((_, i) => i % 4 !== 3);
  assert.ok(withSystem.every((g) => (g.result.cachedPromptTokens ?? 0) >= 48), 'system prompt blocks came from the cache');
  const m = e.metrics();
  assert.ok((m['vllm:prefix_cache_hits_total'] as number) > 0);
  assert.ok((m['vllm:prefix_cache_hits_total'] as number) <= (m['vllm:prefix_cache_queries_total'] as number));
});

for (const prefixCaching of [false, true]) {
  test(`after preemption and recompute (prefix caching ${prefixCaching ? 'on' : 'off'}): same outputs`, async () => {
    // room for ~6 of the 64 sequences at once: the scheduler must preempt
    const e = await engine({ prefixCaching, maxSeqs: 64, kvCacheTokens: 640 });
    const got = await Promise.all(prompts.slice(0, 24).map((p, i) => collect(e.submit({ requestId: `pre-${i}`, promptIds: p, params: greedy }))));
    got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
    const preempted = got.filter((g) => (g.result.preemptions ?? 0) > 0).length;
    assert.ok(preempted > 0, 'some requests were preempted');
    assert.ok((e.metrics()['vllm:num_preemptions_total'] as number) > 0);
    assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
  });
}

test('paged and dense KV layouts give the same tokens (in-process core)', async () => {
  const outs: Record<string, Map<number, number[]>> = {};
  for (const kvLayout of ['paged', 'dense'] as const) {
    const got = new Map<number, number[]>();
    const core = await EngineCore.create({ modelDir, threads: 2, kvLayout, prefixCaching: true }, {
      token: (k, id, _t, index) => {
        const a = got.get(k) ?? got.set(k, []).get(k)!;
        if (index === a.length) a.push(id);
      },
      done: () => {},
      error: (_k, err) => assert.fail(err),
    });
    assert.equal(core.layout, kvLayout);
    for (let i = 0; i < 16; i++) core.submit({ key: i, promptIds: prompts[i], params: greedy });
    while (core.hasWork) await core.step();
    core.pool.check();
    assert.equal(core.pool.numFree, core.pool.numBlocks);
    outs[kvLayout] = got;
    await core.release();
  }
  for (let i = 0; i < 16; i++) {
    assert.deepEqual(outs.paged.get(i), ref[i]);
    assert.deepEqual(outs.dense.get(i), ref[i]);
  }
});

test('seeded sampling and stop strings match the Runner, alone and batched', async () => {
  const e = await engine({ prefixCaching: true, maxSeqs: 16 });
  const sampled: SamplingParams = { temperature: 0.9, topP: 0.95, topK: 50, seed: 77, maxTokens: MAX };
  const want = await Promise.all([0, 1, 2, 3].map((i) => runner.complete(prompts[i], sampled)));
  const got = await Promise.all([0, 1, 2, 3].map((i) => collect(e.submit({ requestId: `s-${i}`, promptIds: prompts[i], params: sampled }))));
  got.forEach((g, i) => {
    assert.deepEqual(g.ids, want[i].ids);
    assert.equal(g.text, want[i].text);
  });
  // a stop string taken from the middle of a greedy output
  const full = await runner.complete(prompts[5], { temperature: 0, maxTokens: 24 });
  const stop = full.text.slice(Math.floor(full.text.length / 2), Math.floor(full.text.length / 2) + 3);
  const withStop = await runner.complete(prompts[5], { temperature: 0, maxTokens: 24, stop: [stop] });
  const g = await collect(e.submit({ requestId: 'stop', promptIds: prompts[5], params: { temperature: 0, maxTokens: 24, stop: [stop] } }));
  assert.equal(g.text, withStop.text);
  assert.equal(g.result.finishReason, withStop.finishReason);
  assert.ok(!g.text.includes(stop));
});

test('abort mid-generation frees the request’s blocks within a step', async () => {
  const e = await engine({ prefixCaching: false, maxSeqs: 4, kvCacheTokens: 1024 });
  const ac = new AbortController();
  const h = e.submit({ requestId: 'abort', promptIds: prompts[1], params: { temperature: 0, maxTokens: 500 } }, { signal: ac.signal });
  let n = 0;
  let usedWhileRunning = 0;
  for await (const _ of h) {
    if (++n === 3) {
      usedWhileRunning = e.stats().numBlocks! - e.stats().freeBlocks!;
      ac.abort();
    }
  }
  const r = await h.result;
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(r.completionTokens < 500);
  assert.ok(usedWhileRunning > 0);
  assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
  assert.equal(e.stats().running, 0);
});

test('tenants do not share cached prefixes', async () => {
  const e = await engine({ prefixCaching: true, maxSeqs: 4 });
  const a1 = await collect(e.submit({ requestId: 'a1', tenant: 'acme', promptIds: prompts[0], params: greedy }));
  const b1 = await collect(e.submit({ requestId: 'b1', tenant: 'globex', promptIds: prompts[0], params: greedy }));
  const a2 = await collect(e.submit({ requestId: 'a2', tenant: 'acme', promptIds: prompts[0], params: greedy }));
  assert.equal(a1.result.cachedPromptTokens, 0);
  assert.equal(b1.result.cachedPromptTokens, 0);
  assert.ok((a2.result.cachedPromptTokens ?? 0) > 0);
  for (const g of [a1, b1, a2]) assert.deepEqual(g.ids, ref[0]);
});

test('metrics carry vLLM names', async () => {
  const e = await engine({ maxSeqs: 2 });
  await collect(e.submit({ requestId: 'm', promptIds: prompts[2], params: greedy }));
  const m = e.metrics();
  for (const k of [
    'vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_hits_total', 'vllm:num_preemptions_total', 'vllm:prompt_tokens_total', 'vllm:generation_tokens_total',
    'vllm:time_to_first_token_seconds', 'vllm:inter_token_latency_seconds', 'vllm:e2e_request_latency_seconds',
    'vllm:request_queue_time_seconds', 'vllm:iteration_tokens_total',
  ]) assert.ok(k in m, k);
  assert.equal(m['vllm:prompt_tokens_total'], prompts[2].length);
  assert.equal((m['vllm:time_to_first_token_seconds'] as number[]).length, 1);
});
