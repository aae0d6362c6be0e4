// A paging-friendly variant of an Optimum decoder-with-past ONNX graph, derived at load time.
//
// The Optimum layout wants a dense past [batch, kv_heads, past, head_dim] per layer as input and
// returns the whole present (past + new) per layer: with a paged KV cache that means copying every
// row's past out of its blocks before each step, and onnxruntime copying the whole present back
// into JS memory after it, only for the engine to keep the few new positions.
//
// The rewrite (done on the protobuf wire format, so any export that follows the layout works and
// the weights are passed through untouched):
//   - each `past_key_values.{i}.{key,value}` input becomes Reshape(Gather(pool, kv_index)) reading
//     the new input `kv_pool.{i}.{key,value}` — the engine's KV store itself, viewed as
//     [kv_heads × blocks, block_size × head_dim] and handed to onnxruntime without a copy — at the
//     blocks listed in the new input `kv_index` [batch, kv_heads, past_blocks] (int64: head × blocks
//     + block); whole blocks are gathered (one 4 KB row per block and head at head_dim 64), so each
//     row's past is block-aligned and the tail of its last block is masked by attention_mask;
//   - the graph outputs `present.{i}.*` are dropped; the new positions' KV, the second input of the
//     Concat that produced each present, is exported as `new_key_values.{i}.{key,value}`
//     [batch, kv_heads, seq, head_dim];
//   - attention is computed grouped and split (see groupedAttention), without copies of K/V.
// The rest of the graph (and its numbers) is unchanged. If the graph does not have the expected
// shape (present = Concat(past, new) along the sequence axis) or keeps its weights in external
// files, pagedModelBytes() says why and the engine uses the dense layout instead.
import { readFileSync } from 'node:fs';
import { executionProviders, type Device } from './execution-provider.ts';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ModelConfig } from './model-config.ts';

// ---- protobuf wire format (just what is needed) ----------------------------------------------

interface Field {
  no: number;
  wt: number;
  /** the whole field, tag included */
  raw: Uint8Array;
  /** payload of a length-delimited field */
  body?: Uint8Array;
  /** value of a varint field */
  int?: bigint;
}

function readVarint(b: Uint8Array, pos: number): [bigint, number] {
  let x = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const c = b[pos++];
    x |= BigInt(c & 0x7f) << shift;
    if ((c & 0x80) === 0) return [x, pos];
    shift += 7n;
  }
}

function parseFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    const f: Field = { no, wt, raw: b };
    if (wt === 0) {
      const [v, p2] = readVarint(b, pos);
      f.int = v;
      pos = p2;
    } else if (wt === 2) {
      const [len, p2] = readVarint(b, pos);
      f.body = b.subarray(p2, p2 + Number(len));
      pos = p2 + Number(len);
    } else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wt}`);
    if (pos > b.length) throw new Error('truncated field');
    f.raw = b.subarray(start, pos);
    out.push(f);
  }
  return out;
}

function varint(x: number | bigint): number[] {
  let v = BigInt(x);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let c = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) c |= 0x80;
    out.push(c);
  } while (v > 0n);
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function lenField(no: number, body: Uint8Array): Uint8Array {
  const head = Uint8Array.from([...varint((no << 3) | 2), ...varint(body.length)]);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
const strField = (no: number, s: string) => lenField(no, enc.encode(s));
const intField = (no: number, v: number) => Uint8Array.from([...varint(no << 3), ...varint(v)]);
function cat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const str = (f: Field) => dec.decode(f.body!);

// ONNX messages (onnx.proto field numbers)
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function valueInfo(name: string, elemType: number, dims: (string | number)[]): Uint8Array {
  const dimMsgs = dims.map((d) => lenField(1, typeof d === 'number' ? intField(1, d) : strField(2, d)));
  const shape = lenField(2, cat(dimMsgs));
  const tensorType = lenField(1, cat([intField(1, elemType), shape]));
  return cat([strField(1, name), lenField(2, tensorType)]);
}

function node(op: string, inputs: string[], outputs: string[], name: string, intAttrs: Record<string, number> = {}): Uint8Array {
  const parts = [...inputs.map((i) => strField(1, i)), ...outputs.map((o) => strField(2, o)), strField(3, name), strField(4, op)];
  for (const [k, v] of Object.entries(intAttrs)) parts.push(lenField(5, cat([strField(1, k), intField(3, v), intField(20, ATTR_INT)])));
  return cat(parts);
}

function intsAttr(name: string, vals: number[]): Uint8Array {
  return lenField(5, cat([strField(1, name), ...vals.map((v) => intField(8, v)), intField(20, ATTR_INTS)]));
}

/** an int64 initializer (TensorProto: dims 1, data_type 2, name 8, raw_data 9) */
function int64Initializer(name: string, vals: number[]): Uint8Array {
  const raw = new Uint8Array(vals.length * 8);
  const dv = new DataView(raw.buffer);
  vals.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
  return lenField(5, cat([intField(1, vals.length), intField(2, TENSOR_INT64), strField(8, name), lenField(9, raw)]));
}

interface NodeInfo {
  raw: Uint8Array;
  op: string;
  inputs: string[];
  outputs: string[];
  fields: Field[];
}

function parseNode(f: Field): NodeInfo {
  const fields = parseFields(f.body!);
  return {
    raw: f.raw,
    op: str(fields.find((x) => x.no === 4)!),
    inputs: fields.filter((x) => x.no === 1).map(str),
    outputs: fields.filter((x) => x.no === 2).map(str),
    fields,
  };
}

function intsOf(n: NodeInfo, attr: string): number[] | null {
  for (const f of n.fields) {
    if (f.no !== 5) continue;
    const a = parseFields(f.body!);
    const name = a.find((x) => x.no === 1);
    if (!name || str(name) !== attr) continue;
    const out: number[] = [];
    for (const x of a) {
      if (x.no === 8 && x.wt === 0) out.push(Number(BigInt.asIntN(64, x.int!)));
      if (x.no === 8 && x.wt === 2) {
        // packed
        let p = 0;
        while (p < x.body!.length) {
          const [v, np] = readVarint(x.body!, p);
          out.push(Number(BigInt.asIntN(64, v)));
          p = np;
        }
      }
    }
    return out;
  }
  return null;
}

export const KV_INDEX = 'kv_index';
export const poolName = (layer: number, kind: 'key' | 'value') => `kv_pool.${layer}.${kind}`;
export const newKvName = (layer: number, kind: 'key' | 'value') => `new_key_values.${layer}.${kind}`;

/** The rewritten model, or the reason it cannot be rewritten. */
export interface PagedRewriteInfo {
  /** layers whose attention was rewritten to grouped form (no repeat of K/V over query heads) */
  groupedLayers: number;
}

export interface ModelShape {
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

export function pagedModelBytes(onnx: Uint8Array, shape: ModelShape): ({ bytes: Uint8Array } & PagedRewriteInfo) | { reason: string } {
  const { numLayers } = shape;
  let model: Field[];
  try {
    model = parseFields(onnx);
  } catch (e) {
    return { reason: `not a protobuf ONNX file (${(e as Error).message})` };
  }
  const gi = model.findIndex((f) => f.no === 7 && f.wt === 2);
  if (gi < 0) return { reason: 'no graph' };
  const graph = parseFields(model[gi].body!);
  const pastNames = new Set<string>();
  const presentToPast = new Map<string, string>();
  for (let i = 0; i < numLayers; i++) {
    for (const k of ['key', 'value']) {
      pastNames.add(`past_key_values.${i}.${k}`);
      presentToPast.set(`present.${i}.${k}`, `past_key_values.${i}.${k}`);
    }
  }
  // present.{i}.k = Concat(past, new): find `new`
  const newOf = new Map<string, string>();
  for (const f of graph) {
    if (f.no === 5 || f.no === 15) {
      // initializers: external data (TensorProto.data_location = 14, EXTERNAL = 1) cannot be loaded from bytes
      const t = parseFields(f.body!);
      if (t.some((x) => x.no === 14 && x.int === 1n)) return { reason: 'weights are stored in external data files' };
    }
    if (f.no !== 1) continue;
    const nf = parseFields(f.body!);
    const op = nf.find((x) => x.no === 4);
    if (!op || str(op) !== 'Concat') continue;
    const outs = nf.filter((x) => x.no === 2).map(str);
    const past = presentToPast.get(outs[0]);
    if (!past) continue;
    const ins = nf.filter((x) => x.no === 1).map(str);
    if (ins.length !== 2 || ins[0] !== past) return { reason: `${outs[0]} is not Concat(${past}, new)` };
    newOf.set(outs[0], ins[1]);
  }
  if (newOf.size !== presentToPast.size) return { reason: `found ${newOf.size} of ${presentToPast.size} present = Concat(past, new) nodes` };

  const grouped = groupedAttention(graph, shape, newOf);
  const dropNodes = grouped.drop;
  const parts: Uint8Array[] = [];
  const seenPast = new Set<string>();
  for (const f of graph) {
    if (f.no === 1 && dropNodes.has(f.raw)) continue;
    if (f.no === 11 && pastNames.has(str(parseFields(f.body!).find((x) => x.no === 1)!))) {
      seenPast.add(str(parseFields(f.body!).find((x) => x.no === 1)!));
      continue;
    }
    if (f.no === 12 && presentToPast.has(str(parseFields(f.body!).find((x) => x.no === 1)!))) continue;
    parts.push(f.raw);
  }
  if (seenPast.size !== pastNames.size) return { reason: 'past_key_values inputs are missing' };
  for (let i = 0; i < numLayers; i++) {
    for (const k of ['key', 'value'] as const) {
      parts.push(lenField(1, node('Gather', [poolName(i, k), KV_INDEX], [`parley_blocks_${i}_${k}`], `parley_gather_${i}_${k}`, { axis: 0 })));
      parts.push(lenField(1, node('Reshape', [`parley_blocks_${i}_${k}`, 'parley_shape_past'], [`past_key_values.${i}.${k}`], `parley_past_${i}_${k}`)));
      parts.push(lenField(1, node('Identity', [newOf.get(`present.${i}.${k}`)!], [newKvName(i, k)], `parley_new_${i}_${k}`)));
      parts.push(lenField(11, valueInfo(poolName(i, k), TENSOR_FLOAT, ['pool_blocks', 'block_floats'])));
      parts.push(lenField(12, valueInfo(newKvName(i, k), TENSOR_FLOAT, ['batch_size', 'kv_heads', 'sequence_length', 'head_dim'])));
    }
  }
  parts.push(lenField(11, valueInfo(KV_INDEX, TENSOR_INT64, ['batch_size', 'kv_heads', 'past_blocks'])));
  parts.push(int64Initializer('parley_shape_past', [0, 0, -1, shape.headDim]));
  parts.push(...grouped.add);
  const newGraph = lenField(7, cat(parts));
  return { bytes: cat(model.map((f, i) => (i === gi ? newGraph : f.raw))), groupedLayers: grouped.layers };
}

/**
 * Attention without copying K and V around. Exports of Llama-family models (ours, and Hugging
 * Face's repeat_kv) concatenate the past and new K/V into `present`, then expand each from kv_heads
 * to heads before the two attention MatMuls (Unsqueeze → Expand → Reshape, → Transpose for K). With
 * a batch of long pasts those copies are most of a step's memory traffic. Query heads
 * h = g × rep + r share K/V head g, and the past and new positions can be scored separately, so
 * the same products come from
 *   scores = Reshape(Concat(q·Kpast^T, q·Knew^T), [b, heads, s, t])     q = Reshape(Q, [b, kv, rep·s, d])
 *   out    = Reshape(Ppast·Vpast + Pnew·Vnew, [b, heads, s, d])         P = Reshape(softmax, [b, kv, rep·s, t]) split at t = past
 * (the transposes fold into onnxruntime's FusedMatMul). The mask, scaling and softmax nodes are
 * the export's own. Layers that do not match the pattern exactly are left as they are. Returns the
 * nodes to drop (the two MatMuls, and everything only they used, present's Concat included) and
 * the fields to add.
 */
function transposeNode(input: string, output: string, name: string): Uint8Array {
  return cat([strField(1, input), strField(2, output), strField(3, name), strField(4, 'Transpose'), intsAttr('perm', [0, 1, 3, 2])]);
}

function groupedAttention(graph: Field[], shape: ModelShape, newOf: Map<string, string>): { drop: Set<Uint8Array>; add: Uint8Array[]; layers: number } {
  const none = { drop: new Set<Uint8Array>(), add: [], layers: 0 };
  const { numLayers, numHeads: H, numKvHeads: KV, headDim: D } = shape;
  if (KV >= H) return none;
  const nodes = graph.filter((f) => f.no === 1).map(parseNode);
  const producer = new Map<string, NodeInfo>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  /** follows first inputs through the given ops; returns the chain's source name if it matches */
  const chain = (name: string, ops: string[]): string | null => {
    let cur = name;
    for (const op of ops) {
      const p = producer.get(cur);
      if (!p || p.op !== op) return null;
      if (op === 'Transpose' && (intsOf(p, 'perm') ?? []).join() !== '0,1,3,2') return null;
      cur = p.inputs[0];
    }
    return cur;
  };
  const add: Uint8Array[] = [];
  const removed = new Set<NodeInfo>();
  const addedInputs = new Set<string>();
  let layers = 0;
  add.push(int64Initializer('parley_shape_q_grouped', [0, KV, -1, D]));
  add.push(int64Initializer('parley_shape_p_grouped', [0, KV, -1, 0]));
  add.push(int64Initializer('parley_shape_heads', [0, H, -1, 0]));
  add.push(int64Initializer('parley_index_2', [2]));
  add.push(int64Initializer('parley_zero_1d', [0]));
  add.push(int64Initializer('parley_axis_3', [3]));
  add.push(int64Initializer('parley_int64_max_1d', [Number.MAX_SAFE_INTEGER]));
  for (let i = 0; i < numLayers; i++) {
    const keyName = `present.${i}.key`;
    const valueName = `present.${i}.value`;
    const mk = nodes.filter((n) => n.op === 'MatMul' && chain(n.inputs[1], ['Transpose', 'Reshape', 'Expand', 'Unsqueeze']) === keyName);
    const mv = nodes.filter((n) => n.op === 'MatMul' && chain(n.inputs[1], ['Reshape', 'Expand', 'Unsqueeze']) === valueName);
    if (mk.length !== 1 || mv.length !== 1) continue;
    const [k, v] = [mk[0], mv[0]];
    const p = `parley_l${i}_`;
    const pastK = `past_key_values.${i}.key`;
    const pastV = `past_key_values.${i}.value`;
    const newK = newOf.get(keyName);
    const newV = newOf.get(valueName);
    if (!newK || !newV) continue;
    // scores over the past and over the new positions, side by side: the past K/V are read where
    // they were gathered, never concatenated with the new ones
    add.push(lenField(1, node('Reshape', [k.inputs[0], 'parley_shape_q_grouped'], [`${p}q`], `${p}reshape_q`)));
    add.push(lenField(1, transposeNode(pastK, `${p}kt_past`, `${p}transpose_k_past`)));
    add.push(lenField(1, transposeNode(newK, `${p}kt_new`, `${p}transpose_k_new`)));
    add.push(lenField(1, node('MatMul', [`${p}q`, `${p}kt_past`], [`${p}scores_past`], `${p}matmul_qk_past`)));
    add.push(lenField(1, node('MatMul', [`${p}q`, `${p}kt_new`], [`${p}scores_new`], `${p}matmul_qk_new`)));
    add.push(lenField(1, node('Concat', [`${p}scores_past`, `${p}scores_new`], [`${p}scores`], `${p}concat_scores`, { axis: 3 })));
    add.push(lenField(1, node('Reshape', [`${p}scores`, 'parley_shape_heads'], [k.outputs[0]], `${p}reshape_scores`)));
    add.push(lenField(1, node('Reshape', [v.inputs[0], 'parley_shape_p_grouped'], [`${p}probs`], `${p}reshape_probs`)));
    add.push(lenField(1, node('Shape', [pastK], [`${p}past_shape`], `${p}past_shape`)));
    add.push(lenField(1, node('Gather', [`${p}past_shape`, 'parley_index_2'], [`${p}past_len`], `${p}past_len`, { axis: 0 })));
    add.push(lenField(1, node('Slice', [`${p}probs`, 'parley_zero_1d', `${p}past_len`, 'parley_axis_3'], [`${p}probs_past`], `${p}slice_past`)));
    add.push(lenField(1, node('Slice', [`${p}probs`, `${p}past_len`, 'parley_int64_max_1d', 'parley_axis_3'], [`${p}probs_new`], `${p}slice_new`)));
    add.push(lenField(1, node('MatMul', [`${p}probs_past`, pastV], [`${p}out_past`], `${p}matmul_pv_past`)));
    add.push(lenField(1, node('MatMul', [`${p}probs_new`, newV], [`${p}out_new`], `${p}matmul_pv_new`)));
    add.push(lenField(1, node('Add', [`${p}out_past`, `${p}out_new`], [`${p}out`], `${p}add_out`)));
    add.push(lenField(1, node('Reshape', [`${p}out`, 'parley_shape_heads'], [v.outputs[0]], `${p}reshape_out`)));
    removed.add(k);
    removed.add(v);
    for (const x of [k.inputs[0], v.inputs[0], pastK, pastV, newK, newV]) addedInputs.add(x);
    layers++;
  }
  if (layers === 0) return none;
  // drop what only the removed MatMuls used (the Expand chains and their shape arithmetic)
  // present.* are no longer outputs of the paged graph: their Concat goes when nothing reads it
  const graphOutputs = new Set(graph.filter((f) => f.no === 12).map((f) => str(parseFields(f.body!).find((x) => x.no === 1)!)).filter((n) => !n.startsWith('present.')));
  for (;;) {
    const used = new Set<string>([...graphOutputs, ...addedInputs]);
    for (const n of nodes) if (!removed.has(n)) for (const x of n.inputs) used.add(x);
    let more = false;
    for (const n of nodes) {
      if (removed.has(n)) continue;
      if (n.outputs.every((o) => !used.has(o))) {
        removed.add(n);
        more = true;
      }
    }
    if (!more) break;
  }
  return { drop: new Set([...removed].map((n) => n.raw)), add, layers };
}

/** An onnxruntime session over the paged variant of a model. */
export class PagedSession {
  readonly hasPositionIds: boolean;
  readonly hasUseCacheBranch: boolean;

  private constructor(
    readonly config: ModelConfig,
    readonly session: ort.InferenceSession,
    readonly threads: number,
    /** layers whose attention runs grouped (no K/V repeat) */
    readonly groupedLayers: number,
  ) {
    this.hasPositionIds = session.inputNames.includes('position_ids');
    this.hasUseCacheBranch = session.inputNames.includes('use_cache_branch');
  }

  /** The paged session, or the reason the model cannot run paged. */
  static async create(config: ModelConfig, opts: { threads?: number; device?: Device } = {}): Promise<PagedSession | string> {
    const rewritten = pagedModelBytes(readFileSync(config.onnxPath), config);
    if ('reason' in rewritten) return rewritten.reason;
    const envThreads = Number(process.env.PARLEY_INTRA_OP_THREADS);
    const threads = opts.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : availableParallelism());
    try {
      const session = await ort.InferenceSession.create(rewritten.bytes, {
        executionProviders: executionProviders(opts.device),
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // intra-op threads sleep instead of spinning between parallel sections: on a CPU shared
        // with the API, the saga and other workers, spinning costs more than it saves
        // (PARLEY_ORT_SPINNING=1 turns it back on)
        extra: { session: { intra_op: { allow_spinning: process.env.PARLEY_ORT_SPINNING === '1' ? '1' : '0' } } },
      });
      return new PagedSession(config, session, threads, rewritten.groupedLayers);
    } catch (e) {
      return `onnxruntime rejected the paged graph: ${(e as Error).message}`;
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
