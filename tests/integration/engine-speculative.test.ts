// Prompt-lookup speculative decoding on the real models: the engine with speculation gives, token
// for token, the plain single-sequence Runner's output (which never speculates) — alone, in a
// continuous batch of requests arriving at random times, after preemption and recompute, with
// prefixes from the cache, in the paged and the dense KV layouts, and for seeded sampling — while
// drafts are actually proposed, accepted and rejected (the counters say so). The KV accounting is
// checked after every step of the in-process core. Per-request opt-out.
// Models: the random-weight test model, on prompts that repeat a short segment (its greedy output
// then often repeats too, so drafts get accepted) and on chat prompts; the shipped model on
// "repeat that" follow-ups, whose answer copies the previous one.
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { Runner } from '../../inference/engine/runner.ts';
import { createEngine, type EngineHandle, type EngineOptions, type EngineResult, type InferenceEngine } from '../../inference/engine/engine.ts';
import { EngineCore } from '../../inference/engine/engine-loop.ts';
import type { SamplingParams } from '../../inference/engine/sampler.ts';

const modelDir = RANDOM_MODEL_DIR;
const model = loadModel(modelDir);
const MAX = 40;
const greedy: SamplingParams = { temperature: 0, maxTokens: MAX };

let state = 4242;
const rnd = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const V = model.config.vocabSize;
const tok = () => 10 + Math.floor(rnd() * (V - 10));
const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
const system = 'You are Parley, a careful assistant. Answer briefly and politely. '.repeat(3);
// even: a 2–4-token segment repeated (copy-prone); odd: a chat turn, half with a shared system prompt
const prompts = Array.from({ length: 32 }, (_, i) => {
  if (i % 2 === 0) {
    const seg = Array.from({ length: 2 + (i % 3) }, tok);
    return Array.from({ length: 6 + (i % 5) }, () => seg).flat();
  }
  return model.applyChatTemplate([
    ...(i % 4 === 1 ? [{ role: 'system', content: system }] : []),
    { role: 'user', content: Array.from({ length: 2 + Math.floor(rnd() * 20) }, () => words[Math.floor(rnd() * words.length)]).join(' ') },
  ]);
});

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

// A step's fixed cost counted so high that every draft found is tried, even in large batches where
// it does not pay: these tests are about correctness under speculation, not about when it pays.
const eager = { overheadTokens: 1e9 };

async function engine(opts: EngineOptions): Promise<InferenceEngine> {
  const e = await createEngine({ modelDir, threads: 2, speculative: eager, ...opts });
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
const num = (m: Record<string, number | number[]>, k: string) => m[k] as number;

/** drafts were proposed, some accepted and some rejected */
function assertSpeculated(m: Record<string, number | number[]>): void {
  const drafted = num(m, 'vllm:spec_decode_num_draft_tokens_total');
  const accepted = num(m, 'vllm:spec_decode_num_accepted_tokens_total');
  assert.ok(accepted > 0, `accepted ${accepted} of ${drafted} draft tokens`);
  assert.ok(drafted > accepted, `accepted ${accepted} of ${drafted} draft tokens`);
  assert.ok(num(m, 'vllm:spec_decode_num_drafts_total') > 0);
}

test('in-process core, paged and dense: Runner outputs; after every step each running sequence holds blocks for its computed tokens only', async () => {
  for (const kvLayout of ['paged', 'dense'] as const) {
    const got = new Map<number, number[]>();
    const core = await EngineCore.create({ modelDir, threads: 2, kvLayout, prefixCaching: true, speculative: eager }, {
      token: (k, id, _t, index) => {
        const a = got.get(k) ?? got.set(k, []).get(k)!;
        if (index === a.length) a.push(id);
      },
      done: () => {},
      error: (_k, err) => assert.fail(err),
    });
    assert.equal(core.layout, kvLayout);
    for (let i = 0; i < 16; i++) core.submit({ key: i, promptIds: prompts[i], params: greedy });
    let speculativeSteps = 0;
    while (core.hasWork) {
      const out = await core.step();
      if (out.rows.some((r) => r.draft?.length)) speculativeSteps++;
      core.pool.check();
      const held = new Map<number, number>();
      for (const s of core.scheduler.running) {
        assert.equal(s.blockTable.length, Math.ceil(s.numComputed / core.options.blockSize));
        for (const b of s.blockTable) held.set(b, (held.get(b) ?? 0) + 1);
      }
      for (let b = 0; b < core.pool.numBlocks; b++) assert.equal(core.pool.refCount(b), held.get(b) ?? 0);
    }
    assert.equal(core.pool.numFree, core.pool.numBlocks);
    assert.ok(speculativeSteps > 0);
    assertSpeculated(core.counters());
    await core.release();
    for (let i = 0; i < 16; i++) assert.deepEqual(got.get(i), ref[i], `${kvLayout} request ${i}`);
  }
});

test('continuous batching: 32 requests arriving at random times give the Runner outputs; every block is free afterwards', async () => {
  const e = await engine({ prefixCaching: false, maxSeqs: 32 });
  const got = await Promise.all(prompts.map(async (p, i) => {
    await sleep(Math.floor(rnd() * 300));
    return collect(e.submit({ requestId: `batch-${i}`, promptIds: p, params: greedy }));
  }));
  got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
  const m = e.metrics();
  assert.ok(Math.max(...(m['vllm:iteration_tokens_total'] as number[])) > 8, 'requests were batched together');
  assertSpeculated(m);
  assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
  assert.equal(num(m, 'vllm:generation_tokens_total'), got.reduce((a, g) => a + g.result.completionTokens, 0));
});

test('prefix-cache hits: the same outputs, and the shared prefixes came from the cache', async () => {
  const e = await engine({ prefixCaching: true, maxSeqs: 32 });
  const warm = [0, 1, 2, 3, 4].filter((i) => prompts[i].length > 16);
  for (const i of warm) assert.deepEqual((await collect(e.submit({ requestId: `warm-${i}`, promptIds: prompts[i], params: greedy }))).ids, ref[i]);
  const got = await Promise.all(prompts.map((p, i) => collect(e.submit({ requestId: `cached-${i}`, promptIds: p, params: greedy }))));
  got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
  assert.ok(warm.length >= 2 && warm.every((i) => (got[i].result.cachedPromptTokens ?? 0) > 0), 'warmed prompts came from the cache');
  assertSpeculated(e.metrics());
  assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
});

for (const prefixCaching of [false, true]) {
  test(`preemption and recompute (prefix caching ${prefixCaching ? 'on' : 'off'}): the same outputs, no block left behind`, async () => {
    // few rows at once (drafts come from free blocks only), and a pool too small for them
    const e = await engine({ prefixCaching, maxSeqs: 4, kvCacheTokens: 192 });
    const got = await Promise.all(prompts.slice(0, 24).map((p, i) => collect(e.submit({ requestId: `pre-${i}`, promptIds: p, params: greedy }))));
    got.forEach((g, i) => assert.deepEqual(g.ids, ref[i], `request ${i}`));
    assert.ok(got.some((g) => (g.result.preemptions ?? 0) > 0), 'some requests were preempted');
    assertSpeculated(e.metrics());
    assert.equal(e.stats().freeBlocks, e.stats().numBlocks);
  });
}

test('seeded sampling: the Runner’s tokens with speculation (drafts were verified by the same draws)', async () => {
  const e = await engine({ maxSeqs: 8 });
  const sampled: SamplingParams = { temperature: 0.3, topK: 20, seed: 9, maxTokens: MAX };
  const idx = [0, 2, 4, 6, 8, 10];
  const want: Awaited<ReturnType<Runner['complete']>>[] = [];
  for (const i of idx) want.push(await runner.complete(prompts[i], sampled));
  const got = await Promise.all(idx.map((i) => collect(e.submit({ requestId: `s-${i}`, promptIds: prompts[i], params: sampled }))));
  got.forEach((g, k) => {
    assert.deepEqual(g.ids, want[k].ids, `request ${idx[k]}`);
    assert.equal(g.text, want[k].text);
  });
  assert.ok(num(e.metrics(), 'vllm:spec_decode_num_draft_tokens_total') > 0);
});

test('per-request opt-out: no drafts for it, same output; a non-boolean is refused', async () => {
  const e = await engine({ maxSeqs: 4 });
  const g = await collect(e.submit({ requestId: 'off', promptIds: prompts[0], params: { ...greedy, speculative: false } }));
  assert.deepEqual(g.ids, ref[0]);
  assert.equal(num(e.metrics(), 'vllm:spec_decode_num_draft_tokens_total'), 0);
  const on = await collect(e.submit({ requestId: 'on', promptIds: prompts[0], params: greedy }));
  assert.deepEqual(on.ids, ref[0]);
  assert.ok(num(e.metrics(), 'vllm:spec_decode_num_draft_tokens_total') > 0, 'the same prompt does draft when not opted out');
  const bad = e.submit({ requestId: 'bad', promptIds: prompts[0], params: { ...greedy, speculative: 'yes' as unknown as boolean } });
  await assert.rejects(bad.result, { name: 'SamplingParamsError', message: /speculative must be a boolean/ });
  const off = await engine({ maxSeqs: 4, speculative: false });
  assert.deepEqual((await collect(off.submit({ requestId: 'engine-off', promptIds: prompts[0], params: greedy }))).ids, ref[0]);
  assert.equal(num(off.metrics(), 'vllm:spec_decode_num_draft_tokens_total'), 0);
});

test('shipped model: "repeat that" answers copy the previous one, with drafts accepted, token for token as the Runner', async () => {
  const shipped = loadModel(SHIPPED_MODEL_DIR);
  const r = await Runner.create(shipped, { threads: 2 });
  const e = await createEngine({ modelDir: SHIPPED_MODEL_DIR, threads: 2, maxSeqs: 8 });
  engines.push(e);
  try {
    const convs = ['Chile', 'Egypt', 'Ireland', 'Peru'].map((c, i) => shipped.applyChatTemplate([
      { role: 'user', content: `What is the capital of ${c}?` },
      { role: 'assistant', content: (['The capital of Chile is Santiago.', 'The capital of Egypt is Cairo.', 'The capital of Ireland is Dublin.', 'The capital of Peru is Lima.'])[i] },
      { role: 'user', content: ['Can you repeat that?', 'Say that again.', 'Repeat that please.', 'What did you say?'][i] },
    ]));
    const params: SamplingParams = { temperature: 0, maxTokens: 32 };
    const want: Awaited<ReturnType<Runner['complete']>>[] = [];
    for (const c of convs) want.push(await r.complete(c, params));
    const got = await Promise.all(convs.map((c, i) => collect(e.submit({ requestId: `rep-${i}`, promptIds: c, params }))));
    got.forEach((g, i) => {
      assert.deepEqual(g.ids, want[i].ids);
      assert.equal(g.text, want[i].text);
    });
    assert.ok(num(e.metrics(), 'vllm:spec_decode_num_accepted_tokens_total') > 0);
  } finally {
    await r.session.release();
  }
});

test('constrained requests are speculated too: drafts verified under the mask, token for token as the constrained Runner', async () => {
  const shipped = loadModel(SHIPPED_MODEL_DIR);
  const r = await Runner.create(shipped, { threads: 2 });
  const e = await createEngine({ modelDir: SHIPPED_MODEL_DIR, threads: 2, maxSeqs: 8, speculative: eager });
  engines.push(e);
  try {
    const calculator = { name: 'calculator', parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] }, strict: false };
    const tools = [{ type: 'function', function: { name: 'calculator', description: 'arithmetic', parameters: calculator.parameters } }];
    // "repeat that" answers copy (drafts accepted) under a tool-call constraint that leaves text free;
    // a calculator question whose answer is a call (the envelope masked); any JSON object.
    const cases: { prompt: number[]; params: SamplingParams }[] = [
      ...['Chile', 'Peru'].map((c, i) => ({
        prompt: shipped.applyChatTemplate([
          { role: 'user', content: `What is the capital of ${c}?` },
          { role: 'assistant', content: ['The capital of Chile is Santiago.', 'The capital of Peru is Lima.'][i] },
          { role: 'user', content: 'Can you repeat that?' },
        ], { tools }),
        params: { temperature: 0, maxTokens: 32, constraint: { type: 'tool_calls', tools: [calculator], parallel: true, auto: true } } as SamplingParams,
      })),
      { prompt: shipped.applyChatTemplate([{ role: 'user', content: 'What do you get for 7 * 2?' }], { tools }), params: { temperature: 0, maxTokens: 96, constraint: { type: 'tool_calls', tools: [calculator], parallel: true, auto: true } } },
      { prompt: shipped.applyChatTemplate([{ role: 'user', content: 'Say {"a": 1, "a": 1, "a": 1} again.' }]), params: { temperature: 0, maxTokens: 24, constraint: { type: 'json_object' } } },
    ];
    const want: Awaited<ReturnType<Runner['complete']>>[] = [];
    for (const c of cases) want.push(await r.complete(c.prompt, c.params));
    const got = await Promise.all(cases.map((c, i) => collect(e.submit({ requestId: `con-${i}`, promptIds: c.prompt, params: c.params }))));
    got.forEach((g, i) => {
      assert.deepEqual(g.ids, want[i].ids, `case ${i}`);
      assert.equal(g.text, want[i].text, `case ${i}`);
    });
    assert.match(want[2].text, /^<tool_call>\n\{"name": "calculator", "arguments": \{"expression": "7 \* 2"\}\}\n<\/tool_call>$/);
    assert.ok(num(e.metrics(), 'vllm:spec_decode_num_accepted_tokens_total') > 0);
  } finally {
    await r.session.release();
  }
});
