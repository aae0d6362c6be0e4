// Called by train.py after an export: runs the ONNX file with onnxruntime-node and compares it
// against PyTorch's logits. Checks (1) a full-sequence call with an empty past (past_len = 0),
// (2) prefill + token-by-token decode through the KV cache, (3) a left-padded batch and
// (4) a right-padded batch, each against the unpadded reference.
// Usage: node --import tsx inference/model/verify-export.ts <model-dir> <ref.json>
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

interface Ref {
  ids: number[];
  logits: number[][];
}

const [dir, refPath] = process.argv.slice(2);
if (!dir || !refPath) {
  console.error('usage: verify-export.ts <model-dir> <ref.json>');
  process.exit(2);
}
const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number>;
const layers = cfg.num_hidden_layers;
const kvHeads = cfg.num_key_value_heads;
const headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
const vocab = cfg.vocab_size;
const onnxPath = existsSync(path.join(dir, 'onnx', 'model.onnx'))
  ? path.join(dir, 'onnx', 'model.onnx')
  : path.join(dir, 'model.onnx');
const refs = JSON.parse(readFileSync(refPath, 'utf8')) as Ref[];
const session = await ort.InferenceSession.create(onnxPath, { intraOpNumThreads: 2 });

const i64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, rows[0].length]);

type Past = Record<string, ort.Tensor>;
function emptyPast(batch: number): Past {
  const p: Past = {};
  for (let i = 0; i < layers; i++)
    for (const kv of ['key', 'value'])
      p[`past_key_values.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
  return p;
}
async function run(ids: number[][], mask: number[][], pos: number[][], past: Past) {
  const out = await session.run({ input_ids: i64(ids), attention_mask: i64(mask), position_ids: i64(pos), ...past });
  const next: Past = {};
  for (let i = 0; i < layers; i++)
    for (const kv of ['key', 'value']) next[`past_key_values.${i}.${kv}`] = out[`present.${i}.${kv}`];
  return { logits: out.logits, past: next };
}
function row(t: ort.Tensor, b: number, s: number): Float32Array {
  const seq = t.dims[1];
  const data = t.data as Float32Array;
  return data.subarray((b * seq + s) * vocab, (b * seq + s + 1) * vocab);
}
function diff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
const worst: Record<string, number> = { full: 0, decode: 0, left: 0, right: 0 };

for (const r of refs) {
  const n = r.ids.length;
  const full = await run([r.ids], [r.ids.map(() => 1)], [r.ids.map((_, i) => i)], emptyPast(1));
  for (let s = 0; s < n; s++) worst.full = Math.max(worst.full, diff(row(full.logits, 0, s), r.logits[s]));
  // prefill half, then decode one token at a time
  const k = Math.max(1, Math.floor(n / 2));
  let st = await run([r.ids.slice(0, k)], [Array(k).fill(1)], [r.ids.slice(0, k).map((_, i) => i)], emptyPast(1));
  for (let s = 0; s < k; s++) worst.decode = Math.max(worst.decode, diff(row(st.logits, 0, s), r.logits[s]));
  for (let s = k; s < n; s++) {
    st = await run([[r.ids[s]]], [Array(s + 1).fill(1)], [[s]], st.past);
    worst.decode = Math.max(worst.decode, diff(row(st.logits, 0, 0), r.logits[s]));
  }
}
const L = Math.max(...refs.map((r) => r.ids.length));
for (const side of ['left', 'right'] as const) {
  const ids: number[][] = [];
  const mask: number[][] = [];
  const pos: number[][] = [];
  for (const r of refs) {
    const pad = L - r.ids.length;
    const m = side === 'left' ? [...Array(pad).fill(0), ...r.ids.map(() => 1)] : [...r.ids.map(() => 1), ...Array(pad).fill(0)];
    ids.push(side === 'left' ? [...Array(pad).fill(0), ...r.ids] : [...r.ids, ...Array(pad).fill(0)]);
    mask.push(m);
    let c = 0;
    pos.push(m.map((v) => (v ? c++ : 1)));
  }
  const out = await run(ids, mask, pos, emptyPast(refs.length));
  refs.forEach((r, b) => {
    const off = side === 'left' ? L - r.ids.length : 0;
    for (let s = 0; s < r.ids.length; s++) worst[side] = Math.max(worst[side], diff(row(out.logits, b, off + s), r.logits[s]));
  });
}
const tol = 2e-3;
const ok = Object.values(worst).every((v) => v < tol);
console.error(
  `[export] onnxruntime vs torch, max |diff|: ${Object.entries(worst)
    .map(([k, v]) => `${k} ${v.toExponential(2)}`)
    .join(', ')} -> ${ok ? 'OK' : 'FAIL'}`,
);
process.exit(ok ? 0 : 1);
