// The single-sequence runner on the shipped model: KV cache = recomputation, padding invariance of
// the ONNX model (what the batching engine relies on), sampling, stop strings, EOS, max tokens.
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { Runner, PromptTooLongError } from '../../inference/engine/runner.ts';
import { argmax } from '../../inference/engine/sampler.ts';
import type { ForwardOutput, ModelSession } from '../../inference/engine/model-session.ts';

const model = loadModel(SHIPPED_MODEL_DIR);
const runner = await Runner.create(model, { threads: 2 });
const randomModel = loadModel(RANDOM_MODEL_DIR);
const randomRunner = await Runner.create(randomModel, { threads: 2 });
after(async () => {
  await runner.session.release();
  await randomRunner.session.release();
});
const ask = (q: string) => model.applyChatTemplate([{ role: 'user', content: q }]);

test('greedy answers a question it was trained on and ends with EOS', async () => {
  const res = await runner.complete(ask('What is the capital of France?'), { temperature: 0, maxTokens: 40 });
  assert.equal(res.text, 'The capital of France is Paris.');
  assert.equal(res.finishReason, 'eos');
  assert.ok(!res.ids.some((id) => model.config.eosTokenIds.includes(id)), 'EOS is not part of the output ids');
  assert.equal(res.completionTokens, res.ids.length);
  assert.equal(model.tokenizer.decode(res.ids), res.text);
});

test('streamed tokens: indices in order, texts concatenate to the result', async () => {
  const g = runner.generate(ask('Who are you?'), { temperature: 0, maxTokens: 60 });
  const toks = [];
  for await (const t of g) toks.push(t);
  const res = await g.result;
  assert.deepEqual(toks.map((t) => t.index), toks.map((_, i) => i));
  assert.deepEqual(toks.map((t) => t.id), res.ids);
  assert.equal(toks.map((t) => t.text).join(''), res.text);
  assert.ok(res.text.startsWith('I am Parley'), res.text);
});

async function greedyWithoutCache(session: ModelSession, prompt: number[], n: number, eos: number[]): Promise<number[]> {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await session.forward({ inputIds: ids, batch: 1, seqLen: ids.length });
    const next = argmax(r.logits.subarray((ids.length - 1) * r.vocab, ids.length * r.vocab));
    if (eos.includes(next)) break;
    out.push(next);
    ids.push(next);
  }
  return out;
}

for (const [name, r] of [['shipped', runner], ['random', randomRunner]] as const) {
  test(`KV-cache decoding = full recomputation at every step (${name} model)`, async () => {
    for (const q of ['What is 7 + 8?', 'Convert 3 kilometers to meters.', 'Hello']) {
      const prompt = r.model.applyChatTemplate([{ role: 'user', content: q }]);
      const res = await r.complete(prompt, { temperature: 0, maxTokens: 16 });
      assert.deepEqual(res.ids, await greedyWithoutCache(r.session, prompt, 16, r.model.config.eosTokenIds));
    }
  });

  test(`padding: a left- or right-padded batch gives the unpadded logits, also for a decode step (${name} model)`, async () => {
    const s = r.session;
    const prompts = ['Hi', 'What is the capital of Japan?', 'Please convert 12 hours into minutes, thanks a lot.'].map((q) =>
      r.model.applyChatTemplate([{ role: 'user', content: q }]),
    );
    const single: ForwardOutput[] = [];
    for (const p of prompts) single.push(await s.forward({ inputIds: p, batch: 1, seqLen: p.length }));
    const L = Math.max(...prompts.map((p) => p.length));
    for (const side of ['left', 'right'] as const) {
      const ids: number[] = [];
      const mask: number[] = [];
      const pos: number[] = [];
      for (const p of prompts) {
        const pad = L - p.length;
        const m = side === 'left' ? [...Array(pad).fill(0), ...p.map(() => 1)] : [...p.map(() => 1), ...Array(pad).fill(0)];
        ids.push(...(side === 'left' ? [...Array(pad).fill(0), ...p] : [...p, ...Array(pad).fill(0)]));
        mask.push(...m);
        let c = 0;
        pos.push(...m.map((v) => (v ? c++ : 1)));
      }
      const out = await s.forward({ inputIds: ids, batch: prompts.length, seqLen: L, attentionMask: mask, positionIds: pos });
      const V = out.vocab;
      prompts.forEach((p, b) => {
        const off = side === 'left' ? L - p.length : 0;
        for (let t = 0; t < p.length; t++) {
          const got = out.logits.subarray((b * L + off + t) * V, (b * L + off + t + 1) * V);
          const want = single[b].logits.subarray(t * V, (t + 1) * V);
          let d = 0;
          for (let k = 0; k < V; k++) d = Math.max(d, Math.abs(got[k] - want[k]));
          assert.ok(d < 1e-3, `${side} padding, seq ${b}, pos ${t}: max diff ${d}`);
        }
      });
      if (side === 'left') {
        // one decode step for every sequence on top of the padded cache
        const next = prompts.map((p, b) => argmax(single[b].logits.subarray((p.length - 1) * V, p.length * V)));
        const step = await s.forward({
          inputIds: next,
          batch: prompts.length,
          seqLen: 1,
          attentionMask: prompts.flatMap((_, b) => [...mask.slice(b * L, (b + 1) * L), 1]),
          positionIds: prompts.map((p) => p.length),
          past: out.present,
        });
        for (let b = 0; b < prompts.length; b++) {
          const ref = await s.forward({ inputIds: [next[b]], batch: 1, seqLen: 1, past: single[b].present });
          let d = 0;
          for (let k = 0; k < V; k++) d = Math.max(d, Math.abs(step.logits[b * V + k] - ref.logits[k]));
          assert.ok(d < 1e-3, `decode step after left padding, seq ${b}: max diff ${d}`);
        }
      }
    }
  });
}

test('same seed → same text; different seeds → different texts (temperature 1.5, random model)', async () => {
  const prompt = randomModel.applyChatTemplate([{ role: 'user', content: 'Tell me a story.' }]);
  const gen = (seed: number) => randomRunner.complete(prompt, { temperature: 1.5, topP: 0.95, seed, maxTokens: 12 });
  const a = await gen(1);
  const b = await gen(1);
  assert.deepEqual(a.ids, b.ids);
  assert.equal(a.params.seed, 1);
  const texts = new Set<string>();
  for (const seed of [2, 3, 4, 5]) texts.add((await gen(seed)).ids.join(','));
  assert.ok(texts.size >= 3, 'different seeds give different samples');
});

test('top-k 1 is greedy whatever the temperature', async () => {
  const prompt = randomModel.applyChatTemplate([{ role: 'user', content: 'abc' }]);
  const g = await randomRunner.complete(prompt, { temperature: 0, maxTokens: 10 });
  const k1 = await randomRunner.complete(prompt, { temperature: 3, topK: 1, seed: 9, maxTokens: 10 });
  assert.deepEqual(k1.ids, g.ids);
});

test('stop strings: output ends before the stop string, which is never streamed', async () => {
  const g = runner.generate(ask('What is the capital of France?'), { temperature: 0, stop: [' Paris'], maxTokens: 40 });
  const chunks: string[] = [];
  for await (const t of g) chunks.push(t.text);
  const res = await g.result;
  assert.equal(res.text, 'The capital of France is');
  assert.equal(res.finishReason, 'stop');
  assert.equal(res.stopString, ' Paris');
  assert.ok(!chunks.join('').includes('Paris'));
  // a stop string that never occurs changes nothing
  const res2 = await runner.complete(ask('What is the capital of France?'), { temperature: 0, stop: ['zzz'], maxTokens: 40 });
  assert.equal(res2.text, 'The capital of France is Paris.');
});

test('maxTokens ends with finish reason length', async () => {
  const res = await runner.complete(ask('Who are you?'), { temperature: 0, maxTokens: 3 });
  assert.equal(res.ids.length, 3);
  assert.equal(res.finishReason, 'length');
});

test('breaking out of the stream, or aborting, ends the generation as cancelled', async () => {
  const g = runner.generate(ask('Who are you?'), { temperature: 0, maxTokens: 50 });
  for await (const t of g) if (t.index === 1) break;
  const res = await g.result;
  assert.equal(res.finishReason, 'cancelled');
  assert.equal(res.ids.length, 2);
  const ac = new AbortController();
  const g2 = runner.generate(ask('Who are you?'), { temperature: 0, maxTokens: 50 }, { signal: ac.signal });
  for await (const t of g2) if (t.index === 0) ac.abort();
  assert.equal((await g2.result).finishReason, 'cancelled');
});

test('a prompt that fills the context is refused; an empty prompt too', async () => {
  const long = Array(model.config.contextLength).fill(13);
  await assert.rejects(runner.complete(long, { temperature: 0 }), PromptTooLongError);
  await assert.rejects(runner.complete([], { temperature: 0 }), /prompt is empty/);
});
