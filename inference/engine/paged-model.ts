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
import { cat, int64Initializer, lenField, node, parseFields, str, TENSOR_FLOAT, TENSOR_INT64, valueInfo, type Field } from './onnx-wire.ts';
import { groupedAttention, type ModelShape } from './grouped-attention.ts';

export type { ModelShape } from './grouped-attention.ts';

export const KV_INDEX = 'kv_index';
export const poolName = (layer: number, kind: 'key' | 'value') => `kv_pool.${layer}.${kind}`;
export const newKvName = (layer: number, kind: 'key' | 'value') => `new_key_values.${layer}.${kind}`;

/** The rewritten model, or the reason it cannot be rewritten. */
export interface PagedRewriteInfo {
  /** layers whose attention was rewritten to grouped form (no repeat of K/V over query heads) */
  groupedLayers: number;
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
