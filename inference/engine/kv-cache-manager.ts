// Block tables and prefix caching on top of the block pool. A sequence's KV lives in the blocks of
// its table: token t is in block table[t / blockSize], slot t % blockSize. A full block is named by
// a hash chained from its parent block's hash and its token ids; the first block's hash also
// covers the tenant's salt, so requests of different tenants never share blocks (and one tenant
// cannot learn another's prompts from timing). A new sequence reuses every cached full block of
// its prefix instead of computing it again.
import { createHash } from 'node:crypto';
import { BlockPool } from './block-pool.ts';

/** What the KV cache manager needs to know of a sequence. */
export interface KvSequence {
  /** every token of the sequence so far (prompt, then generated) */
  readonly tokens: readonly number[];
  /** tokens whose KV is in the blocks */
  numComputed: number;
  /** block ids, in token order */
  blockTable: number[];
  /** hashes of the sequence's full blocks, in order (filled lazily; valid as long as tokens only grow) */
  blockHashes: string[];
  /** prefix-cache namespace */
  readonly tenant: string;
}

/** Chained content hash of one full block. */
export function blockHash(parent: string | null, tokens: readonly number[], salt: string): string {
  const h = createHash('sha256');
  if (parent === null) h.update(`salt:${salt.length}:${salt}|`);
  else h.update(parent);
  const buf = Buffer.allocUnsafe(tokens.length * 4);
  for (let i = 0; i < tokens.length; i++) buf.writeInt32LE(tokens[i], i * 4);
  h.update(buf);
  return h.digest('base64url').slice(0, 32);
}

export class KvCacheManager {
  /** prompt tokens looked up in the prefix cache / found there (vLLM's prefix_cache_queries / hits) */
  queries = 0;
  hits = 0;

  constructor(
    readonly pool: BlockPool,
    readonly blockSize: number,
    readonly enableCaching: boolean,
  ) {}

  get numBlocks(): number {
    return this.pool.numBlocks;
  }

  /** Extends seq.blockHashes to every full block of seq.tokens. */
  updateHashes(seq: KvSequence): void {
    const bs = this.blockSize;
    const full = Math.floor(seq.tokens.length / bs);
    for (let i = seq.blockHashes.length; i < full; i++) {
      const parent = i === 0 ? null : seq.blockHashes[i - 1];
      seq.blockHashes.push(blockHash(parent, seq.tokens.slice(i * bs, (i + 1) * bs), seq.tenant));
    }
  }

  /** The longest run of cached full blocks at the start of the sequence, leaving at least one
   *  token to compute (its logits give the next token). Blocks are not yet referenced. */
  findCached(seq: KvSequence): { blocks: number[]; tokens: number } {
    if (!this.enableCaching) return { blocks: [], tokens: 0 };
    this.updateHashes(seq);
    const maxBlocks = Math.floor((seq.tokens.length - 1) / this.blockSize);
    const blocks: number[] = [];
    for (let i = 0; i < Math.min(maxBlocks, seq.blockHashes.length); i++) {
      const b = this.pool.lookup(seq.blockHashes[i]);
      if (b === undefined) break;
      blocks.push(b);
    }
    return { blocks, tokens: blocks.length * this.blockSize };
  }

  /** Records a prefix-cache lookup at admission (in tokens, as vLLM counts them). */
  recordLookup(queryTokens: number, hitTokens: number): void {
    this.queries += queryTokens;
    this.hits += hitTokens;
  }

  /** New blocks the sequence needs to hold `totalTokens` tokens (after taking `cached`). */
  blocksNeeded(seq: KvSequence, totalTokens: number, cached: readonly number[] = []): number {
    return Math.max(0, Math.ceil(totalTokens / this.blockSize) - seq.blockTable.length - cached.length);
  }

  /** Free blocks left after taking `cached` blocks (those with no reference leave the free queue). */
  available(cached: readonly number[] = []): number {
    let reclaimed = 0;
    for (const b of cached) if (this.pool.refCount(b) === 0) reclaimed++;
    return this.pool.numFree - reclaimed;
  }

  /** Gives the sequence room for `totalTokens` tokens: first the cached prefix blocks (only when
   *  its table is empty), then new blocks. False, with nothing changed, if the pool is short. */
  allocate(seq: KvSequence, totalTokens: number, cached: readonly number[] = []): boolean {
    if (cached.length && seq.blockTable.length) throw new Error('cached prefix blocks can only start a block table');
    const need = this.blocksNeeded(seq, totalTokens, cached);
    if (need > this.available(cached)) return false;
    if (cached.length) {
      this.pool.touch(cached);
      seq.blockTable.push(...cached);
    }
    if (need > 0) seq.blockTable.push(...this.pool.allocate(need));
    return true;
  }

  /** After a step: offers the sequence's newly completed (full and computed) blocks to the cache. */
  commit(seq: KvSequence): void {
    if (!this.enableCaching) return;
    const full = Math.floor(seq.numComputed / this.blockSize);
    if (full === 0) return;
    this.updateHashes(seq);
    for (let i = full - 1; i >= 0; i--) {
      const b = seq.blockTable[i];
      if (this.pool.hash(b) !== null) break; // everything before is cached already
      this.pool.cache(b, seq.blockHashes[i]);
    }
  }

  /** After a speculative step: only the first `numComputed` positions hold KV of the sequence's
   *  tokens (the rest were rejected drafts). Blocks holding nothing but rejected positions go back
   *  to the pool (last first); stale KV left in the last kept block is past numComputed, so it is
   *  masked out and overwritten by the next step. Never cached: commit() only covers full blocks
   *  below numComputed. */
  rollback(seq: KvSequence, numComputed: number): void {
    if (numComputed > seq.numComputed && numComputed > seq.blockTable.length * this.blockSize) {
      throw new Error(`cannot roll forward to ${numComputed} computed tokens`);
    }
    seq.numComputed = numComputed;
    const keep = Math.ceil(numComputed / this.blockSize);
    if (seq.blockTable.length <= keep) return;
    const drop = seq.blockTable.splice(keep).reverse();
    this.pool.free(drop);
  }

  /** Releases the sequence's blocks, last first (cached ones stay reusable until evicted). */
  free(seq: KvSequence): void {
    const t = seq.blockTable;
    const rev: number[] = [];
    for (let i = t.length - 1; i >= 0; i--) rev.push(t[i]);
    this.pool.free(rev);
    seq.blockTable = [];
    seq.numComputed = 0;
  }
}
