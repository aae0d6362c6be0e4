// The KV memory itself: per layer, one Float32Array of keys and one of values, laid out
// [kv_head, slot, head_dim] where slot = block × blockSize + position in the block, indexed by the
// block pool's block ids. A run of positions inside one block is contiguous for each head, so
// moving it to or from a dense [batch, kv_head, position, head_dim] tensor is one memcpy per
// (layer, K/V, head, run); and row (head × blocks + block) of a [kv_heads × blocks,
// block_size × head_dim] view is one block of one head, what the paged model variant gathers.
export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export class KvStore {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  readonly numSlots: number;

  constructor(
    readonly numBlocks: number,
    readonly blockSize: number,
    readonly shape: KvShape,
  ) {
    const { numLayers, numKvHeads, headDim } = shape;
    this.numSlots = numBlocks * blockSize;
    const n = numKvHeads * this.numSlots * headDim;
    this.keys = Array.from({ length: numLayers }, () => new Float32Array(n));
    this.values = Array.from({ length: numLayers }, () => new Float32Array(n));
  }

  /** bytes of KV (all layers, K and V) per token */
  static bytesPerToken(shape: KvShape): number {
    return 2 * shape.numLayers * shape.numKvHeads * shape.headDim * 4;
  }

  get bytes(): number {
    return this.numSlots * KvStore.bytesPerToken(this.shape);
  }

  /** float offset of (head, slot) in a layer's array */
  offset(head: number, slot: number): number {
    return (head * this.numSlots + slot) * this.shape.headDim;
  }
}
