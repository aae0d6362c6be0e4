// Grouped, split attention for the paged graph (paged-model.ts): each layer's two attention
// MatMuls over K/V repeated to every query head are replaced by products over the kv heads, with
// past and new positions scored separately, so the gathered past K/V are never copied or
// concatenated. A graph rewrite of its own, kept apart from the paging rewrite that calls it.
import { cat, int64Initializer, intsAttr, intsOf, lenField, node, parseFields, parseNode, str, strField, type Field, type NodeInfo } from './onnx-wire.ts';

export interface ModelShape {
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

function transposeNode(input: string, output: string, name: string): Uint8Array {
  return cat([strField(1, input), strField(2, output), strField(3, name), strField(4, 'Transpose'), intsAttr('perm', [0, 1, 3, 2])]);
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
export function groupedAttention(graph: Field[], shape: ModelShape, newOf: Map<string, string>): { drop: Set<Uint8Array>; add: Uint8Array[]; layers: number } {
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
