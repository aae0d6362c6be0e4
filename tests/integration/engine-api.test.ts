// The engine's public API (inference/engine/engine.ts) on the random-weight test model: streaming,
// result, cancellation, clear errors for requests that can never run, close.
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, KvCacheTooSmallError, PromptTooLongError, EngineClosedError, InvalidRequestError, SamplingParamsError } from '../../inference/engine/engine.ts';

const modelDir = RANDOM_MODEL_DIR;
const engine = await createEngine({ modelDir, maxSeqs: 8, kvCacheTokens: 2048, threads: 1 });
after(() => engine.close());
const prompt = engine.model.applyChatTemplate([{ role: 'user', content: 'Hello there, how are you?' }]);

test('streams tokens whose texts concatenate to the output; result has usage and timings', async () => {
  const h = engine.submit({ requestId: 'a', promptIds: prompt, params: { temperature: 0, maxTokens: 6 } });
  const toks = [];
  for await (const t of h) toks.push(t);
  const r = await h.result;
  assert.deepEqual(toks.map((t) => t.index), [...toks.keys()]);
  assert.equal(r.promptTokens, prompt.length);
  assert.equal(r.completionTokens, toks.length);
  assert.ok(['eos', 'length'].includes(r.finishReason));
  assert.equal(toks.map((t) => t.text).join(''), engine.model.tokenizer.decode(toks.map((t) => t.id)));
  assert.ok(r.ttftMs >= 0 && r.tpotMs >= 0);
});

test('abort mid-generation ends with cancelled; breaking out of the stream cancels too', async () => {
  const ac = new AbortController();
  const h = engine.submit({ requestId: 'b', promptIds: prompt, params: { temperature: 0, maxTokens: 200 } }, { signal: ac.signal });
  let n = 0;
  for await (const _ of h) if (++n === 2) ac.abort();
  const r = await h.result;
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(r.completionTokens < 200);
  const h2 = engine.submit({ requestId: 'c', promptIds: prompt, params: { temperature: 0, maxTokens: 200 } });
  for await (const t of h2) if (t.index === 1) break;
  assert.equal((await h2.result).finishReason, 'cancelled');
});

test('a prompt longer than the context or the KV pool, or an invalid request, is a clear error, not a hang', async () => {
  const long = engine.submit({ requestId: 'd', promptIds: Array(engine.model.config.contextLength).fill(5), params: {} });
  await assert.rejects(long.result, PromptTooLongError);
  await assert.rejects(async () => {
    for await (const _ of long);
  }, PromptTooLongError);
  const big = engine.submit({ requestId: 'e', promptIds: Array(3000).fill(5), params: {} });
  await assert.rejects(big.result, (e: Error) => e instanceof KvCacheTooSmallError && /KV cache/.test(e.message));
  await assert.rejects(engine.submit({ requestId: 'f', promptIds: [], params: {} }).result, /empty/);
  await assert.rejects(engine.submit({ requestId: 'f2', promptIds: [1, 99999], params: {} }).result, InvalidRequestError);
  await assert.rejects(engine.submit({ requestId: 'f3', promptIds: prompt, params: { temperature: -1 } }).result, SamplingParamsError);
  const notCloneable = [1, 2, () => 3] as unknown as number[];
  await assert.rejects(engine.submit({ requestId: 'f4', promptIds: notCloneable, params: {} }).result, InvalidRequestError);
});

test('stats report capacity and an idle engine', async () => {
  const s = engine.stats();
  assert.equal(s.capacity, 8);
  assert.equal(s.running, 0);
  assert.equal(s.waiting, 0);
  assert.equal(s.freeSlots, 8);
});

test('after close, submit fails with EngineClosedError', async () => {
  const e2 = await createEngine({ modelDir, maxSeqs: 2, kvCacheTokens: 256, threads: 1 });
  await e2.close();
  await assert.rejects(e2.submit({ requestId: 'g', promptIds: prompt, params: {} }).result, EngineClosedError);
});
