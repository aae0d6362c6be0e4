// The paged variant of the ONNX graph (inference/engine/paged-model.ts), derived at load time:
// the same logits and new KV as the original export (bit-identical for a prefill; ≤ 1e-5 for a
// decode step, where the grouped MatMul accumulates in another order), attention grouped on every layer; files it cannot
// rewrite are reported with a reason (the engine then uses the dense layout).
import { RANDOM_MODEL_DIR } from '../support/models.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../inference/engine/model.ts';
import { ModelSession } from '../../inference/engine/model-session.ts';
import { PagedSession, pagedModelBytes } from '../../inference/engine/paged-model.ts';

const modelDir = RANDOM_MODEL_DIR;
const m = loadModel(modelDir);
const dense = await ModelSession.create(m.config, { threads: 1 });
const paged = await PagedSession.create(m.config, { threads: 1 });
const maxDiff = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  assert.equal(x.length, y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
};
after(async () => {
  await dense.release();
  if (typeof paged !== 'string') await paged.release();
});

test('rewrites every layer (grouped attention) and gives the original logits and KV, prefill then a padded decode step', async () => {
  assert.notEqual(typeof paged, 'string', String(paged));
  if (typeof paged === 'string') return;
  const { numLayers: L, numKvHeads: H, headDim: D } = m.config;
  assert.equal(paged.groupedLayers, L);
  // prefill two sequences of different lengths, right-padded, with the original model
  const lens = [13, 20];
  const S = 20;
  const ids = lens.flatMap((n, b) => Array.from({ length: S }, (_, i) => (i < n ? 5 + ((i * 37 + b * 11) % 900) : 0)));
  const mask = lens.flatMap((n) => Array.from({ length: S }, (_, i) => (i < n ? 1 : 0)));
  const pos = lens.flatMap(() => Array.from({ length: S }, (_, i) => i));
  const a = await dense.forward({ inputIds: ids, batch: 2, seqLen: S, attentionMask: mask, positionIds: pos });
  // the same through the paged graph, with an empty past
  const pool = (n: number) => new ort.Tensor('float32', new Float32Array(H * n * D), [H * n, D]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [2, S]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.map(BigInt)), [2, S]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(pos.map(BigInt)), [2, S]),
    kv_index: new ort.Tensor('int64', new BigInt64Array(0), [2, H, 0]),
  };
  for (let l = 0; l < L; l++) for (const k of ['key', 'value']) feeds[`kv_pool.${l}.${k}`] = pool(1);
  const b = await paged.session.run(feeds);
  assert.ok(maxDiff(b.logits.data as Float32Array, a.logits) <= 1e-5);
  for (let l = 0; l < L; l++) assert.ok(maxDiff(b[`new_key_values.${l}.key`].data as Float32Array, a.present.keys[l].data as Float32Array) <= 1e-5);
  // decode one token per sequence on top of that past: dense = left-padded present, paged = the
  // same KV put in a pool (slots in reverse order, to check the index) and gathered by kv_index
  const next = [7, 9];
  const P = S;
  const decMask = lens.flatMap((n) => [...Array(P - n).fill(0), ...Array(n).fill(1), 1]);
  const keys: ort.Tensor[] = [];
  const values: ort.Tensor[] = [];
  const poolsK: Float32Array[] = [];
  const poolsV: Float32Array[] = [];
  const slots = 2 * P;
  const index = new BigInt64Array(2 * H * P);
  for (let l = 0; l < L; l++) {
    const k = new Float32Array(2 * H * P * D);
    const v = new Float32Array(2 * H * P * D);
    const pk = new Float32Array(H * slots * D);
    const pv = new Float32Array(H * slots * D);
    const srcK = a.present.keys[l].data as Float32Array;
    const srcV = a.present.values[l].data as Float32Array;
    lens.forEach((n, bi) => {
      for (let h = 0; h < H; h++) {
        for (let t = 0; t < n; t++) {
          const src = ((bi * H + h) * S + t) * D;
          const dst = ((bi * H + h) * P + (P - n) + t) * D;
          k.set(srcK.subarray(src, src + D), dst);
          v.set(srcV.subarray(src, src + D), dst);
          const slot = slots - 1 - (bi * P + t);
          pk.set(srcK.subarray(src, src + D), (h * slots + slot) * D);
          pv.set(srcV.subarray(src, src + D), (h * slots + slot) * D);
          index[(bi * H + h) * P + (P - n) + t] = BigInt(h * slots + slot);
        }
      }
    });
    keys.push(new ort.Tensor('float32', k, [2, H, P, D]));
    values.push(new ort.Tensor('float32', v, [2, H, P, D]));
    poolsK.push(pk);
    poolsV.push(pv);
  }
  const c = await dense.forward({ inputIds: next, batch: 2, seqLen: 1, attentionMask: decMask, positionIds: lens, past: { keys, values, batch: 2, length: P } });
  const f2: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(next.map(BigInt)), [2, 1]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(decMask.map(BigInt)), [2, P + 1]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(lens.map(BigInt)), [2, 1]),
    kv_index: new ort.Tensor('int64', index, [2, H, P]),
  };
  for (let l = 0; l < L; l++) {
    f2[`kv_pool.${l}.key`] = new ort.Tensor('float32', poolsK[l], [H * slots, D]);
    f2[`kv_pool.${l}.value`] = new ort.Tensor('float32', poolsV[l], [H * slots, D]);
  }
  const d = await paged.session.run(f2);
  assert.ok(maxDiff(d.logits.data as Float32Array, c.logits) <= 1e-5);
  assert.deepEqual([...d.logits.dims], [2, 1, m.config.vocabSize]);
});

test('a file it cannot rewrite gives a reason instead of a broken graph', () => {
  const r = pagedModelBytes(new Uint8Array([0xff, 0xff, 0xff]), m.config);
  assert.ok('reason' in r);
  const onnx = readFileSync(m.config.onnxPath);
  const wrongLayers = pagedModelBytes(onnx, { ...m.config, numLayers: m.config.numLayers + 1 });
  assert.ok('reason' in wrongLayers && /found|missing/.test(wrongLayers.reason), JSON.stringify(wrongLayers));
});
