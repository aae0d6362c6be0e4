// One onnxruntime-node session over a decoder-with-past ONNX file (Optimum layout), with the
// layout checked at creation. forward() runs one call for a batch; the caller owns the KV cache.
// Note: session.run blocks the event loop for the whole call; run this inside a worker thread
// when the process also serves requests.
import { availableParallelism } from 'node:os';
import { executionProviders, type Device } from './execution-provider.ts';
import * as ort from 'onnxruntime-node';
import { ModelLoadError, type ModelConfig } from './model-config.ts';

export interface SessionOptions {
  /** intra-op threads (default: the number of cores, or PARLEY_INTRA_OP_THREADS) */
  threads?: number;
  /** execution provider (default PARLEY_ENGINE_DEVICE or 'cpu') */
  device?: Device;
}

/** The KV cache of a batch, as the model returns it: 2 tensors per layer [batch, kv_heads, length, head_dim]. */
export interface KvCache {
  /** key and value of every layer: keys[i], values[i] */
  keys: ort.Tensor[];
  values: ort.Tensor[];
  batch: number;
  /** number of positions cached (past_sequence_length) */
  length: number;
}

export interface ForwardInput {
  /** token ids, row-major [batch, seqLen] */
  inputIds: readonly number[] | BigInt64Array;
  batch: number;
  seqLen: number;
  /** [batch, past.length + seqLen], 1 = attend, 0 = padding; default all ones */
  attentionMask?: readonly number[] | BigInt64Array;
  /** [batch, seqLen]; default past.length + 0..seqLen-1 */
  positionIds?: readonly number[] | BigInt64Array;
  /** default: empty (past_sequence_length 0) */
  past?: KvCache;
}

export interface ForwardOutput {
  /** [batch, seqLen, vocab] row-major */
  logits: Float32Array;
  vocab: number;
  present: KvCache;
}

const OPTIONAL_INPUTS = new Set(['position_ids', 'use_cache_branch']);

function toI64(xs: readonly number[] | BigInt64Array): BigInt64Array {
  if (xs instanceof BigInt64Array) return xs;
  const out = new BigInt64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = BigInt(xs[i]);
  return out;
}

export class ModelSession {
  readonly hasPositionIds: boolean;
  readonly hasUseCacheBranch: boolean;
  readonly threads: number;
  private readonly pastNames: { key: string; value: string }[];
  private readonly presentNames: { key: string; value: string }[];

  private constructor(
    readonly config: ModelConfig,
    readonly session: ort.InferenceSession,
    threads: number,
  ) {
    this.threads = threads;
    const inputs = new Set(session.inputNames);
    const outputs = new Set(session.outputNames);
    const missing: string[] = [];
    for (const n of ['input_ids', 'attention_mask']) if (!inputs.has(n)) missing.push(`input ${n}`);
    if (!outputs.has('logits')) missing.push('output logits');
    this.pastNames = [];
    this.presentNames = [];
    for (let i = 0; i < config.numLayers; i++) {
      const p = { key: `past_key_values.${i}.key`, value: `past_key_values.${i}.value` };
      const o = { key: `present.${i}.key`, value: `present.${i}.value` };
      for (const n of [p.key, p.value]) if (!inputs.has(n)) missing.push(`input ${n}`);
      for (const n of [o.key, o.value]) if (!outputs.has(n)) missing.push(`output ${n}`);
      this.pastNames.push(p);
      this.presentNames.push(o);
    }
    if (missing.length) {
      const more = missing.length > 6 ? ` (and ${missing.length - 6} more)` : '';
      throw new ModelLoadError(
        `${config.onnxPath} is not a decoder-with-past export for ${config.numLayers} layers: missing ${missing.slice(0, 6).join(', ')}${more}`,
        config.dir,
      );
    }
    const known = new Set([...OPTIONAL_INPUTS, 'input_ids', 'attention_mask', ...this.pastNames.flatMap((p) => [p.key, p.value])]);
    const unknown = session.inputNames.filter((n) => !known.has(n));
    if (unknown.length) {
      throw new ModelLoadError(`${config.onnxPath} has inputs this engine cannot feed: ${unknown.join(', ')}`, config.dir);
    }
    this.hasPositionIds = inputs.has('position_ids');
    this.hasUseCacheBranch = inputs.has('use_cache_branch');
    // dtype and static dims of the KV inputs, when the file declares them
    const meta = (session as unknown as { inputMetadata?: readonly ort.InferenceSession.ValueMetadata[] }).inputMetadata;
    const pk = meta?.find((m) => m.name === this.pastNames[0].key);
    if (pk && pk.isTensor) {
      if (pk.type !== 'float32') {
        throw new ModelLoadError(`KV cache inputs are ${pk.type}; only float32 models are supported`, config.dir);
      }
      const [, heads, , dim] = pk.shape;
      if (typeof heads === 'number' && heads !== config.numKvHeads) {
        throw new ModelLoadError(`past_key_values have ${heads} heads but config.json says num_key_value_heads=${config.numKvHeads}`, config.dir);
      }
      if (typeof dim === 'number' && dim !== config.headDim) {
        throw new ModelLoadError(`past_key_values have head_dim ${dim} but config.json implies ${config.headDim}`, config.dir);
      }
    }
  }

  static async create(config: ModelConfig, opts: SessionOptions = {}): Promise<ModelSession> {
    const envThreads = Number(process.env.PARLEY_INTRA_OP_THREADS);
    const threads = opts.threads ?? (Number.isInteger(envThreads) && envThreads > 0 ? envThreads : availableParallelism());
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(config.onnxPath, {
        executionProviders: executionProviders(opts.device),
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
    } catch (e) {
      throw new ModelLoadError(`onnxruntime cannot open ${config.onnxPath}: ${(e as Error).message}`, config.dir);
    }
    return new ModelSession(config, session, threads);
  }

  emptyPast(batch: number): KvCache {
    const { numKvHeads, headDim, numLayers } = this.config;
    const mk = () => new ort.Tensor('float32', new Float32Array(0), [batch, numKvHeads, 0, headDim]);
    return {
      keys: Array.from({ length: numLayers }, mk),
      values: Array.from({ length: numLayers }, mk),
      batch,
      length: 0,
    };
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const { batch, seqLen } = input;
    const past = input.past ?? this.emptyPast(batch);
    if (past.batch !== batch) throw new RangeError(`past has batch ${past.batch}, input has ${batch}`);
    if (input.inputIds.length !== batch * seqLen) throw new RangeError('inputIds length is not batch × seqLen');
    const total = past.length + seqLen;
    const mask = input.attentionMask ? toI64(input.attentionMask) : new BigInt64Array(batch * total).fill(1n);
    if (mask.length !== batch * total) throw new RangeError('attentionMask length is not batch × (past + seqLen)');
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', toI64(input.inputIds), [batch, seqLen]),
      attention_mask: new ort.Tensor('int64', mask, [batch, total]),
    };
    if (this.hasPositionIds) {
      let pos: BigInt64Array;
      if (input.positionIds) pos = toI64(input.positionIds);
      else {
        pos = new BigInt64Array(batch * seqLen);
        for (let b = 0; b < batch; b++) for (let s = 0; s < seqLen; s++) pos[b * seqLen + s] = BigInt(past.length + s);
      }
      if (pos.length !== batch * seqLen) throw new RangeError('positionIds length is not batch × seqLen');
      feeds.position_ids = new ort.Tensor('int64', pos, [batch, seqLen]);
    }
    if (this.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [past.length > 0], [1]);
    for (let i = 0; i < this.pastNames.length; i++) {
      feeds[this.pastNames[i].key] = past.keys[i];
      feeds[this.pastNames[i].value] = past.values[i];
    }
    const out = await this.session.run(feeds);
    const logitsT = out.logits;
    const keys = this.presentNames.map((n) => out[n.key]);
    const values = this.presentNames.map((n) => out[n.value]);
    return {
      logits: logitsT.data as Float32Array,
      vocab: logitsT.dims[logitsT.dims.length - 1],
      present: { keys, values, batch, length: total },
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
