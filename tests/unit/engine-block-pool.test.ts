// Block pool and KV cache manager: free-queue order, ref counts, prefix caching with chained,
// salted hashes; and fast-check property tests over random workloads: no leaked or double-freed
// block, ref counts never negative, every cached hash matches the content its block holds, every
// sequence's blocks hold its own tokens, and all blocks are free once every sequence is gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockPool, BlockPoolError } from '../../inference/engine/block-pool.ts';
import { KvCacheManager, blockHash, type KvSequence } from '../../inference/engine/kv-cache-manager.ts';

const BS = 4;

function seqOf(tokens: number[], tenant = ''): KvSequence & { tokens: number[] } {
  return { tokens, numComputed: 0, blockTable: [], blockHashes: [], tenant };
}

test('allocate takes from the head; free puts cached blocks at the tail and uncached ones at the head', () => {
  const pool = new BlockPool(4);
  assert.deepEqual(pool.freeQueue(), [0, 1, 2, 3]);
  const [a, b, c] = pool.allocate(3);
  assert.deepEqual([a, b, c], [0, 1, 2]);
  pool.cache(a, 'ha');
  pool.cache(b, 'hb');
  // a sequence frees last-first: c (uncached) goes to the head, then b, a to the tail
  pool.free([c, b, a]);
  assert.deepEqual(pool.freeQueue(), [2, 3, 1, 0]);
  assert.equal(pool.numFree, 4);
  // taking 3 evicts b's hash (the cached block freed first), keeps a's
  pool.allocate(3);
  assert.equal(pool.lookup('hb'), undefined);
  assert.equal(pool.lookup('ha'), 0);
  pool.check();
});

test('double free and freeing an unknown block are errors; a cache hit on a free block revives it', () => {
  const pool = new BlockPool(2);
  const [a] = pool.allocate(1);
  pool.free([a]);
  assert.throws(() => pool.free([a]), BlockPoolError);
  assert.throws(() => pool.free([7]), BlockPoolError);
  assert.throws(() => pool.allocate(3), BlockPoolError);
  const [x] = pool.allocate(1);
  pool.cache(x, 'h');
  pool.free([x]);
  assert.equal(pool.numFree, 2);
  pool.touch([pool.lookup('h')!]);
  assert.equal(pool.refCount(x), 1);
  assert.equal(pool.numFree, 1);
  pool.check();
});

test('chained hashes: same prefix → same hashes; a different earlier block or tenant changes every later hash', () => {
  const a = blockHash(null, [1, 2, 3, 4], '');
  assert.equal(a, blockHash(null, [1, 2, 3, 4], ''));
  assert.notEqual(a, blockHash(null, [1, 2, 3, 5], ''));
  assert.notEqual(a, blockHash(null, [1, 2, 3, 4], 'tenant-b'));
  assert.notEqual(blockHash(a, [9, 9, 9, 9], ''), blockHash(blockHash(null, [0, 2, 3, 4], ''), [9, 9, 9, 9], ''));
});

test('a second request with the same prefix reuses the cached full blocks; another tenant does not', () => {
  const kv = new KvCacheManager(new BlockPool(16), BS, true);
  const s1 = seqOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(kv.allocate(s1, 10));
  s1.numComputed = 10;
  kv.commit(s1);
  assert.equal(kv.pool.numCached, 2); // the 2 full blocks
  const s2 = seqOf([1, 2, 3, 4, 5, 6, 7, 8, 42]);
  const hit = kv.findCached(s2);
  assert.equal(hit.tokens, 8);
  assert.deepEqual(hit.blocks, s1.blockTable.slice(0, 2));
  // a prompt that is entirely cached still computes its last token
  const s3 = seqOf([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(kv.findCached(s3).tokens, 4);
  assert.equal(kv.findCached(seqOf([1, 2, 3, 4, 5, 6, 7, 8, 42], 'other')).tokens, 0);
  assert.ok(kv.allocate(s2, 9, hit.blocks));
  assert.equal(kv.pool.refCount(s1.blockTable[0]), 2);
  kv.free(s1);
  kv.free(s2);
  assert.equal(kv.pool.numFree, 16);
  kv.pool.check();
});

test('allocate fails without side effects when the pool is short', () => {
  const kv = new KvCacheManager(new BlockPool(2), BS, true);
  const s = seqOf(Array.from({ length: 12 }, (_, i) => i));
  assert.equal(kv.allocate(s, 12), false);
  assert.deepEqual(s.blockTable, []);
  assert.equal(kv.pool.numFree, 2);
});

// ---- property-based ------------------------------------------------------------------------

type Op =
  | { kind: 'add'; prefix: number; extra: number[]; tenant: number }
  | { kind: 'compute'; which: number; n: number }
  | { kind: 'append'; which: number; token: number }
  | { kind: 'free'; which: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), prefix: fc.integer({ min: 0, max: 2 }), extra: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }), tenant: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ kind: fc.constant('compute' as const), which: fc.nat(), n: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('append' as const), which: fc.nat(), token: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('free' as const), which: fc.nat() }),
);

const PREFIXES = [[], [7, 7, 7, 7, 8, 8, 8, 8], [7, 7, 7, 7, 9, 9, 9, 9, 9, 9]];

test('property: no leak, no double free, ref counts ≥ 0, cached hashes match block content, all free at the end', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 24 }), fc.boolean(), fc.array(opArb, { maxLength: 80 }), (numBlocks, caching, ops) => {
      const pool = new BlockPool(numBlocks);
      const kv = new KvCacheManager(pool, BS, caching);
      // what the KV store would hold: the token whose KV was written in each slot
      const content = new Int32Array(numBlocks * BS).fill(-1);
      // for cached blocks: the token prefix up to the block's end, and the tenant, when cached
      const cachedPrefix = new Map<number, { prefix: number[]; tenant: string }>();
      const live: (KvSequence & { tokens: number[] })[] = [];
      const refs = new Int32Array(numBlocks);
      const check = () => {
        pool.check();
        refs.fill(0);
        for (const s of live) for (const b of s.blockTable) refs[b]++;
        for (let b = 0; b < numBlocks; b++) {
          assert.equal(pool.refCount(b), refs[b], `ref count of block ${b}`);
          assert.ok(pool.refCount(b) >= 0);
        }
        // every sequence's computed positions hold its own tokens
        for (const s of live) {
          for (let p = 0; p < s.numComputed; p++) assert.equal(content[s.blockTable[Math.floor(p / BS)] * BS + (p % BS)], s.tokens[p]);
        }
        // every cached block: its hash is the chained hash of the prefix it was cached with, and
        // it still holds that prefix's last block of tokens
        for (let b = 0; b < numBlocks; b++) {
          const h = pool.hash(b);
          if (h === null) continue;
          const c = cachedPrefix.get(b)!;
          let hh: string | null = null;
          for (let i = 0; i < c.prefix.length; i += BS) hh = blockHash(hh, c.prefix.slice(i, i + BS), c.tenant);
          assert.equal(h, hh);
          assert.deepEqual([...content.subarray(b * BS, (b + 1) * BS)], c.prefix.slice(-BS));
        }
      };
      for (const op of ops) {
        if (op.kind === 'add') {
          const s = { ...seqOf([...PREFIXES[op.prefix], ...op.extra, 1], op.tenant ? 't1' : '') };
          const hit = kv.findCached(s);
          assert.ok(hit.tokens < s.tokens.length, 'a cache hit leaves at least one token to compute');
          assert.equal(hit.tokens % BS, 0);
          const total = Math.min(s.tokens.length, hit.tokens + 4);
          if (kv.allocate(s, total, hit.blocks)) {
            s.numComputed = hit.tokens;
            live.push(s);
          }
        } else if (live.length) {
          const s = live[op.which % live.length];
          if (op.kind === 'compute') {
            const to = Math.min(s.tokens.length, s.numComputed + op.n);
            if (to > s.numComputed && kv.allocate(s, to)) {
              for (let p = s.numComputed; p < to; p++) content[s.blockTable[Math.floor(p / BS)] * BS + (p % BS)] = s.tokens[p];
              s.numComputed = to;
              const before = new Set<number>();
              for (let b = 0; b < numBlocks; b++) if (pool.hash(b) !== null) before.add(b);
              kv.commit(s);
              for (let i = 0; i < s.blockTable.length; i++) {
                const b = s.blockTable[i];
                if (pool.hash(b) !== null && !before.has(b)) cachedPrefix.set(b, { prefix: s.tokens.slice(0, (i + 1) * BS), tenant: s.tenant });
              }
            }
          } else if (op.kind === 'append') {
            s.tokens.push(op.token);
          } else {
            kv.free(s);
            live.splice(live.indexOf(s), 1);
          }
        }
        check();
      }
      for (const s of live.splice(0)) kv.free(s);
      check();
      assert.equal(pool.numFree, numBlocks, 'every block is free at the end');
      if (!caching) assert.equal(pool.numCached, 0);
    }),
    { numRuns: 300 },
  );
});
