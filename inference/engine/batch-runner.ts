// Runs one scheduled step as one onnxruntime call for the whole batch: every row's new tokens,
// right-padded to the longest chunk S (position_ids carry each row's true positions), on top of
// every row's past, left-padded to the longest past P (attention_mask 0 over the padding).
//
// Two ways to feed the past:
//  - paged (the model's paged variant, paged-model.ts): the KV store is an input as it is, and a
//    [rows, kv_heads, past blocks] index tells the graph which blocks to gather (each row's past
//    block-aligned, the tail of its last block masked); the graph returns only the new positions'
//    KV. The engine copies nothing but the new KV into the blocks.
//  - dense (any Optimum export): the runner gathers every row's past out of its blocks into dense
//    [rows, kv_heads, P, head_dim] tensors and picks the new positions out of the returned present.
// Either way the new KV goes back into the rows' blocks. Bytes moved are counted.
import * as ort from 'onnxruntime-node';
import type { KvStore } from './kv-store.ts';
import type { ScheduledRow } from './scheduler.ts';
import { KV_INDEX, newKvName, poolName } from './paged-model.ts';

export interface RunnerSequence {
  readonly tokens: readonly number[];
  readonly blockTable: readonly number[];
}

export interface StepResult {
  /** [rows, S, vocab] */
  logits: Float32Array;
  vocab: number;
  seqLen: number;
}

export interface CopyStats {
  /** bytes the engine copied from blocks into dense past tensors (dense layout only) */
  gathered: number;
  /** bytes the engine copied from the model's outputs into blocks */
  scattered: number;
  /** bytes of KV the model returned (copied out of onnxruntime into JS memory) */
  returned: number;
  /** bytes of past KV the model read for attention (rows × P, padding included) */
  pastRead: number;
  /** positions fed: padded (rows × S) and useful */
  paddedTokens: number;
  usefulTokens: number;
  steps: number;
  /** ms spent preparing inputs (incl. gathering), in onnxruntime, writing back */
  prepareMs: number;
  modelMs: number;
  scatterMs: number;
}

/** What the runner needs of a session (ModelSession or PagedSession). */
export interface RunnerSession {
  readonly session: ort.InferenceSession;
  readonly hasPositionIds: boolean;
  readonly hasUseCacheBranch: boolean;
}

export class BatchRunner {
  readonly copies: CopyStats = {
    gathered: 0, scattered: 0, returned: 0, pastRead: 0, paddedTokens: 0, usefulTokens: 0, steps: 0, prepareMs: 0, modelMs: 0, scatterMs: 0,
  };
  private readonly padId: number;
  /** the past length of the last step (padding included) */
  lastPastLen = 0;
  private readonly fetches: string[];

  constructor(
    readonly session: RunnerSession,
    readonly store: KvStore,
    readonly layout: 'paged' | 'dense',
    padTokenId: number | null,
  ) {
    this.padId = padTokenId ?? 0;
    const L = store.shape.numLayers;
    this.fetches = ['logits'];
    for (let l = 0; l < L; l++) {
      for (const k of ['key', 'value'] as const) this.fetches.push(layout === 'paged' ? newKvName(l, k) : `present.${l}.${k}`);
    }
  }

  async run(rows: readonly ScheduledRow<RunnerSequence>[], seqLen: number): Promise<StepResult> {
    const { store } = this;
    const { numLayers, numKvHeads: H, headDim: D } = store.shape;
    const bs = store.blockSize;
    const paged = this.layout === 'paged';
    const B = rows.length;
    const S = seqLen;
    // past length: the longest past (dense), or the most blocks × block size (paged: whole blocks
    // are gathered, a row's past starts at a block boundary, the tail of its last block is masked)
    let P = 0;
    let nbMax = 0;
    for (const r of rows) {
      P = Math.max(P, r.start);
      nbMax = Math.max(nbMax, Math.ceil(r.start / bs));
    }
    if (paged) P = nbMax * bs;
    const T = P + S;
    const t0 = performance.now();
    // int64 tensors written through int32 views (values < 2^31, little-endian)
    const ids = new BigInt64Array(B * S);
    const ids32 = new Int32Array(ids.buffer);
    const mask = new BigInt64Array(B * T);
    const mask32 = new Int32Array(mask.buffer);
    const pos = new BigInt64Array(B * S);
    const pos32 = new Int32Array(pos.buffer);
    let useful = 0;
    for (let b = 0; b < B; b++) {
      const { seq, start, numNew, draft } = rows[b];
      useful += numNew;
      // positions past the sequence's tokens are speculative drafts (verified after the step)
      const known = seq.tokens.length - start;
      for (let i = 0; i < S; i++) {
        ids32[2 * (b * S + i)] = i >= numNew ? this.padId : i < known ? seq.tokens[start + i] : draft![i - known];
        pos32[2 * (b * S + i)] = start + i;
      }
      const first = paged ? (nbMax - Math.ceil(start / bs)) * bs : P - start;
      for (let j = first; j < first + start; j++) mask32[2 * (b * T + j)] = 1;
      for (let j = P; j < P + numNew; j++) mask32[2 * (b * T + j)] = 1;
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, S]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
    };
    if (this.session.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', pos, [B, S]);
    if (this.session.hasUseCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', [P > 0], [1]);

    let gathered = 0;
    if (paged) {
      // kv_index[b, h, j] = row of the pool view [kv_heads × blocks, block × head_dim] holding row
      // b's j-th past block (after nbMax − its block count padding blocks, which point at block 0)
      const nb = store.numBlocks;
      const idx = new BigInt64Array(B * H * nbMax);
      const idx32 = new Int32Array(idx.buffer);
      for (let b = 0; b < B; b++) {
        const { seq, start } = rows[b];
        const n = Math.ceil(start / bs);
        const off = nbMax - n;
        for (let h = 0; h < H; h++) {
          const base = (b * H + h) * nbMax;
          for (let j = 0; j < off; j++) idx32[2 * (base + j)] = h * nb;
          for (let j = 0; j < n; j++) idx32[2 * (base + off + j)] = h * nb + seq.blockTable[j];
        }
      }
      feeds[KV_INDEX] = new ort.Tensor('int64', idx, [B, H, nbMax]);
      const poolRows = H * nb;
      for (let l = 0; l < numLayers; l++) {
        feeds[poolName(l, 'key')] = new ort.Tensor('float32', store.keys[l], [poolRows, bs * D]);
        feeds[poolName(l, 'value')] = new ort.Tensor('float32', store.values[l], [poolRows, bs * D]);
      }
    } else {
      // row b's past positions 0..start-1 go to slots P-start .. P-1
      for (let l = 0; l < numLayers; l++) {
        for (const kind of ['key', 'value'] as const) {
          const src = kind === 'key' ? store.keys[l] : store.values[l];
          const dst = new Float32Array(B * H * P * D);
          for (let b = 0; b < B; b++) {
            const { seq, start } = rows[b];
            const off = P - start;
            for (let t = 0; t < start; t += bs) {
              const slot = seq.blockTable[t / bs] * bs;
              const n = Math.min(bs, start - t);
              for (let h = 0; h < H; h++) {
                const s0 = store.offset(h, slot);
                dst.set(src.subarray(s0, s0 + n * D), ((b * H + h) * P + off + t) * D);
              }
              gathered += n * H * D * 4;
            }
          }
          feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', dst, [B, H, P, D]);
        }
      }
    }
    const t1 = performance.now();
    const out = await this.session.session.run(feeds, this.fetches);
    const t2 = performance.now();

    // write the new positions back: row b's start..start+numNew-1, at position i of the output's
    // sequence axis (paged: [B, H, S, D]) or P + i (dense present: [B, H, P + S, D])
    let scattered = 0;
    let returned = 0;
    const outLen = this.layout === 'paged' ? S : T;
    const outOff = this.layout === 'paged' ? 0 : P;
    let f = 1;
    for (let l = 0; l < numLayers; l++) {
      for (const kind of ['key', 'value'] as const) {
        const dstAll = kind === 'key' ? store.keys[l] : store.values[l];
        const src = out[this.fetches[f++]].data as Float32Array;
        returned += src.byteLength;
        for (let b = 0; b < B; b++) {
          const { seq, start, numNew } = rows[b];
          let i = 0;
          while (i < numNew) {
            const p = start + i;
            const slotInBlock = p % bs;
            const slot = seq.blockTable[(p / bs) | 0] * bs + slotInBlock;
            const n = Math.min(bs - slotInBlock, numNew - i);
            for (let h = 0; h < H; h++) {
              const s0 = ((b * H + h) * outLen + outOff + i) * D;
              dstAll.set(src.subarray(s0, s0 + n * D), store.offset(h, slot));
            }
            scattered += n * H * D * 4;
            i += n;
          }
        }
      }
    }
    const c = this.copies;
    c.gathered += gathered;
    c.scattered += scattered;
    c.returned += returned;
    c.pastRead += B * P * H * D * 4 * 2 * numLayers;
    this.lastPastLen = P;
    c.paddedTokens += B * S;
    c.usefulTokens += useful;
    c.steps++;
    c.prepareMs += t1 - t0;
    c.modelMs += t2 - t1;
    c.scatterMs += performance.now() - t2;
    const logitsT = out.logits;
    return { logits: logitsT.data as Float32Array, vocab: logitsT.dims[2], seqLen: S };
  }
}
