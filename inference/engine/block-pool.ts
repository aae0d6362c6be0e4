// The pool of KV blocks: bookkeeping only (the floats live in kv-store.ts, indexed by the same
// block ids). Every block has a reference count (how many sequences hold it in their block table).
// Blocks with no reference sit in the free queue, in eviction order: the head is taken first.
// A free block may still hold a cached prefix (it has a hash); it stays reusable by a prefix-cache
// hit until it is taken from the queue for new content, which evicts its hash.
//
// Order of the free queue (as vLLM v1's FreeKVCacheBlockQueue): freed blocks are appended at the
// tail, so the least recently used are evicted first; a sequence frees its blocks last-first, so
// its last blocks (the least shareable) go before its prefix. A block freed without a hash holds
// nothing reusable and goes to the head.

export class BlockPoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockPoolError';
  }
}

const NIL = -1;

export class BlockPool {
  readonly numBlocks: number;
  private readonly ref: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** is the block in the free queue */
  private readonly inQueue: Uint8Array;
  private head = NIL;
  private tail = NIL;
  private freeCount = 0;
  /** hash of the content of each block, when it is a cached full block */
  private readonly hashOf: (string | null)[];
  private readonly byHash = new Map<string, number>();
  /** number of cached-hash evictions so far */
  evictions = 0;

  constructor(numBlocks: number) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new BlockPoolError(`a pool needs ≥ 1 block, got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.ref = new Int32Array(numBlocks);
    this.prev = new Int32Array(numBlocks).fill(NIL);
    this.next = new Int32Array(numBlocks).fill(NIL);
    this.inQueue = new Uint8Array(numBlocks);
    this.hashOf = new Array<string | null>(numBlocks).fill(null);
    for (let b = 0; b < numBlocks; b++) this.pushTail(b);
  }

  /** blocks that can be handed out now (free, cached or not) */
  get numFree(): number {
    return this.freeCount;
  }

  get numUsed(): number {
    return this.numBlocks - this.freeCount;
  }

  /** share of blocks referenced by some sequence, 0..1 */
  get usage(): number {
    return this.numUsed / this.numBlocks;
  }

  get numCached(): number {
    return this.byHash.size;
  }

  refCount(block: number): number {
    return this.ref[block];
  }

  hash(block: number): string | null {
    return this.hashOf[block];
  }

  /** the cached block holding this content, if any (free or in use) */
  lookup(hash: string): number | undefined {
    return this.byHash.get(hash);
  }

  /** Takes `n` blocks from the head of the free queue (evicting their cached hashes), ref count 1. */
  allocate(n: number): number[] {
    if (n > this.freeCount) throw new BlockPoolError(`asked for ${n} blocks, ${this.freeCount} free`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.head;
      this.unlink(b);
      const h = this.hashOf[b];
      if (h !== null) {
        this.byHash.delete(h);
        this.hashOf[b] = null;
        this.evictions++;
      }
      this.ref[b] = 1;
      out.push(b);
    }
    return out;
  }

  /** Takes a reference on blocks found in the cache (removing free ones from the free queue). */
  touch(blocks: readonly number[]): void {
    for (const b of blocks) {
      if (this.hashOf[b] === null) throw new BlockPoolError(`block ${b} is not a cached block`);
      if (this.ref[b] === 0) this.unlink(b);
      this.ref[b]++;
    }
  }

  /** Drops one reference on each block, in the given order (pass a block table last-first).
   *  Blocks that reach 0 enter the free queue. */
  free(blocks: readonly number[]): void {
    for (const b of blocks) {
      if (b < 0 || b >= this.numBlocks) throw new BlockPoolError(`block ${b} is not in the pool`);
      if (this.ref[b] <= 0) throw new BlockPoolError(`double free of block ${b}`);
      if (--this.ref[b] === 0) {
        if (this.hashOf[b] === null) this.pushHead(b);
        else this.pushTail(b);
      }
    }
  }

  /** Registers a full, computed block's content hash so later requests can share it. Returns false
   *  (and leaves the block uncached) when another block already holds the same content. */
  cache(block: number, hash: string): boolean {
    if (this.ref[block] <= 0) throw new BlockPoolError(`cannot cache free block ${block}`);
    const cur = this.hashOf[block];
    if (cur === hash) return true;
    if (cur !== null) throw new BlockPoolError(`block ${block} is already cached with another hash`);
    if (this.byHash.has(hash)) return false;
    this.hashOf[block] = hash;
    this.byHash.set(hash, block);
    return true;
  }

  /** Forgets every cached hash (e.g. when the model changes); blocks in use are unaffected. */
  resetCache(): void {
    for (const b of this.byHash.values()) this.hashOf[b] = null;
    this.byHash.clear();
  }

  /** The free queue, head first (for tests and debugging). */
  freeQueue(): number[] {
    const out: number[] = [];
    for (let b = this.head; b !== NIL; b = this.next[b]) out.push(b);
    return out;
  }

  /** Checks the invariants; throws a BlockPoolError describing the first violation. */
  check(): void {
    let n = 0;
    const seen = new Set<number>();
    for (let b = this.head; b !== NIL; b = this.next[b]) {
      if (seen.has(b)) throw new BlockPoolError(`free queue has a cycle at ${b}`);
      seen.add(b);
      if (this.ref[b] !== 0) throw new BlockPoolError(`block ${b} is in the free queue with ref count ${this.ref[b]}`);
      n++;
    }
    if (n !== this.freeCount) throw new BlockPoolError(`free count ${this.freeCount} ≠ queue length ${n}`);
    for (let b = 0; b < this.numBlocks; b++) {
      if (this.ref[b] < 0) throw new BlockPoolError(`block ${b} has ref count ${this.ref[b]}`);
      if (this.ref[b] === 0 && !seen.has(b)) throw new BlockPoolError(`block ${b} is leaked (no reference, not free)`);
      const h = this.hashOf[b];
      if (h !== null && this.byHash.get(h) !== b) throw new BlockPoolError(`block ${b}'s hash is not indexed`);
    }
    for (const [h, b] of this.byHash) if (this.hashOf[b] !== h) throw new BlockPoolError(`hash index points to block ${b} wrongly`);
  }

  private unlink(b: number): void {
    const p = this.prev[b];
    const n = this.next[b];
    if (p === NIL) this.head = n;
    else this.next[p] = n;
    if (n === NIL) this.tail = p;
    else this.prev[n] = p;
    this.prev[b] = this.next[b] = NIL;
    this.inQueue[b] = 0;
    this.freeCount--;
  }

  private pushTail(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = NIL;
    if (this.tail === NIL) this.head = b;
    else this.next[this.tail] = b;
    this.tail = b;
    this.inQueue[b] = 1;
    this.freeCount++;
  }

  private pushHead(b: number): void {
    this.next[b] = this.head;
    this.prev[b] = NIL;
    if (this.head === NIL) this.tail = b;
    else this.prev[this.head] = b;
    this.head = b;
    this.inQueue[b] = 1;
    this.freeCount++;
  }
}
