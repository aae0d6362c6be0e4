// The scheduler without a model: token budget (rows × S), decode first, chunked prefill, max
// sequences, priority tiers, preemption of the lowest-priority most recent sequence, aging (no
// starvation), and a fast-check simulation: every request finishes, nothing deadlocks, every block
// is free at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockPool } from '../../inference/engine/block-pool.ts';
import { KvCacheManager } from '../../inference/engine/kv-cache-manager.ts';
import { Scheduler, type SchedSequence, type SchedulerConfig, type SchedulerOutput } from '../../inference/engine/scheduler.ts';

const BS = 4;

class FakeSeq implements SchedSequence {
  tokens: number[];
  numComputed = 0;
  blockTable: number[] = [];
  blockHashes: string[] = [];
  status: 'waiting' | 'running' | 'finished' = 'waiting';
  admittedAt = -1;
  waitedMs = 0;
  waitingSince: number;
  runPriority: number;
  preemptions = 0;
  cachedTokens = 0;
  firstScheduledAt: number | null = null;
  generated = 0;
  constructor(
    readonly key: number,
    prompt: number[],
    readonly maxTokens: number,
    readonly priority = 0,
    readonly arrival = 0,
    readonly tenant = '',
  ) {
    this.tokens = [...prompt];
    this.waitingSince = arrival;
    this.runPriority = priority;
  }
  effectivePriority(now: number, agingMs: number): number {
    const waited = this.waitedMs + (this.status === 'waiting' ? Math.max(0, now - this.waitingSince) : 0);
    return Number.isFinite(agingMs) ? this.priority + Math.floor(waited / agingMs) : this.priority;
  }
}

function make(numBlocks: number, cfg: Partial<SchedulerConfig> = {}, caching = true) {
  const kv = new KvCacheManager(new BlockPool(numBlocks), BS, caching);
  const sched = new Scheduler<FakeSeq>(kv, { maxSeqs: 8, maxBatchTokens: 32, agingMs: Infinity, minMixEfficiency: 0.5, ...cfg });
  return { kv, sched };
}

const prompt = (n: number, base = 100) => Array.from({ length: n }, (_, i) => base + i);

/** What the engine does after a step: mark computed, cache, sample a token, finish at maxTokens. */
function apply(s: Scheduler<FakeSeq>, out: SchedulerOutput<FakeSeq>, finished: FakeSeq[]) {
  for (const seq of out.outOfBlocks) {
    s.remove(seq);
    finished.push(seq);
  }
  for (const r of out.rows) {
    if (r.seq.status !== 'running') continue;
    r.seq.numComputed = r.start + r.numNew;
    s.kv.commit(r.seq);
    if (!r.sample) continue;
    r.seq.tokens.push(1 + (r.seq.generated % 3));
    r.seq.generated++;
    if (r.seq.generated >= r.seq.maxTokens) {
      s.remove(r.seq);
      finished.push(r.seq);
    }
  }
}

test('a long prompt is prefilled in chunks within the budget; decode steps use S = 1', () => {
  const { sched } = make(64);
  const a = new FakeSeq(1, prompt(70), 3);
  sched.add(a);
  const chunks: number[] = [];
  const fin: FakeSeq[] = [];
  for (let i = 0; i < 20 && sched.hasWork; i++) {
    const out = sched.schedule(i);
    assert.ok(out.rows.length * out.seqLen <= 32, 'rows × S within the budget');
    if (out.kind === 'prefill') chunks.push(out.rows[0].numNew);
    else assert.equal(out.seqLen, 1);
    apply(sched, out, fin);
  }
  assert.deepEqual(chunks, [32, 32, 6]);
  assert.deepEqual(fin, [a]);
});

test('decode first: prefill and decode steps alternate, so a running stream is never stalled two steps in a row', () => {
  const { sched } = make(256);
  const fin: FakeSeq[] = [];
  const a = new FakeSeq(1, prompt(8), 50);
  sched.add(a);
  apply(sched, sched.schedule(0), fin); // prefill a
  const kinds: string[] = [];
  for (let i = 0; i < 6; i++) sched.add(new FakeSeq(10 + i, prompt(40, 300 + 50 * i), 5));
  for (let t = 1; t < 14; t++) {
    const out = sched.schedule(t);
    kinds.push(out.kind);
    apply(sched, out, fin);
  }
  for (let i = 1; i < kinds.length; i++) assert.ok(!(kinds[i] === 'prefill' && kinds[i - 1] === 'prefill'), kinds.join(','));
  assert.ok(kinds.includes('prefill') && kinds.includes('decode'));
});

test('a short remainder does not shrink the other prompts’ chunks', () => {
  const { sched } = make(256);
  const fin: FakeSeq[] = [];
  const a = new FakeSeq(1, prompt(35), 5);
  sched.add(a);
  apply(sched, sched.schedule(0), fin); // a: 32 of 35 tokens, 3 left
  const b = new FakeSeq(2, prompt(40, 500), 5);
  sched.add(b);
  const out = sched.schedule(1);
  assert.equal(out.kind, 'prefill');
  assert.deepEqual(out.rows.map((r) => [r.seq.key, r.numNew]), [[1, 3], [2, 16]]);
});

test('at most maxSeqs run; a higher tier is admitted first', () => {
  const { sched } = make(256, { maxSeqs: 2 });
  const lo = [1, 2, 3].map((k) => new FakeSeq(k, prompt(4, 10 * k), 10, 0, k));
  const hi = new FakeSeq(9, prompt(4, 900), 10, 5, 10);
  for (const s of [...lo, hi]) sched.add(s);
  const out = sched.schedule(20);
  assert.deepEqual(out.admitted.map((s) => s.key), [9, 1]);
  assert.equal(sched.running.length, 2);
});

test('out of blocks: the lowest-priority, most recently admitted sequence is preempted and recomputed later', () => {
  // 6 blocks of 4 tokens; three sequences of 7-token prompts need 2 blocks each, then grow to 5
  const { sched, kv } = make(6, { maxSeqs: 8 }, false);
  const a = new FakeSeq(1, prompt(7, 100), 12, 1, 0);
  const b = new FakeSeq(2, prompt(7, 200), 12, 0, 1);
  const c = new FakeSeq(3, prompt(7, 300), 12, 0, 2);
  for (const s of [a, b, c]) sched.add(s);
  const fin: FakeSeq[] = [];
  let firstVictim: FakeSeq | undefined;
  for (let t = 0; t < 200 && sched.hasWork; t++) {
    const out = sched.schedule(t);
    if (out.preempted.length && !firstVictim) firstVictim = out.preempted[0];
    apply(sched, out, fin);
    assert.ok(kv.pool.numUsed <= 6);
  }
  assert.equal(firstVictim, c, 'c: lowest tier and admitted last');
  assert.equal(a.preemptions, 0, 'the high tier is never preempted by lower ones');
  assert.deepEqual(new Set(fin), new Set([a, b, c]));
  for (const s of fin) assert.equal(s.generated, 12, `seq ${s.key} completed after recompute`);
  assert.equal(kv.pool.numFree, 6);
});

test('a sequence that fills the pool by itself ends (out of blocks) instead of looping', () => {
  const { sched, kv } = make(3);
  const a = new FakeSeq(1, prompt(10), 100);
  sched.add(a);
  const fin: FakeSeq[] = [];
  let oob = false;
  for (let t = 0; t < 50 && sched.hasWork; t++) {
    const out = sched.schedule(t);
    if (out.outOfBlocks.includes(a)) oob = true;
    apply(sched, out, fin);
  }
  assert.ok(oob);
  assert.deepEqual(fin, [a]);
  assert.equal(a.tokens.length, 13, 'it filled every slot of the pool (+ the last sampled token)');
  assert.equal(kv.pool.numFree, 3);
});

test('no starvation: with aging, a low-priority request runs despite a steady stream of high-priority ones', () => {
  const { sched } = make(512, { maxSeqs: 2, agingMs: 50 });
  const low = new FakeSeq(0, prompt(4, 10), 2, 0, 0);
  sched.add(low);
  const fin: FakeSeq[] = [];
  let key = 1;
  let t = 0;
  for (; t < 2000 && !fin.includes(low); t += 10) {
    while (sched.waiting.filter((s) => s.priority > 0).length < 3) sched.add(new FakeSeq(key++, prompt(4, 20 + key), 3, 3, t));
    apply(sched, sched.schedule(t), fin);
  }
  assert.ok(fin.includes(low), 'the low-priority request finished');
  // and without aging it would not have
  const s2 = make(512, { maxSeqs: 2, agingMs: Infinity }).sched;
  const low2 = new FakeSeq(0, prompt(4, 10), 2, 0, 0);
  s2.add(low2);
  const fin2: FakeSeq[] = [];
  key = 1;
  for (let u = 0; u < 2000; u += 10) {
    while (s2.waiting.filter((s) => s.priority > 0).length < 3) s2.add(new FakeSeq(key++, prompt(4, 20 + key), 3, 3, u));
    apply(s2, s2.schedule(u), fin2);
  }
  assert.ok(!fin2.includes(low2));
});

test('property: random workloads all finish, within budget and maxSeqs, with every block free at the end', () => {
  fc.assert(
    fc.property(
      fc.record({
        numBlocks: fc.integer({ min: 8, max: 40 }),
        maxSeqs: fc.integer({ min: 1, max: 6 }),
        budget: fc.integer({ min: 1, max: 48 }),
        caching: fc.boolean(),
        reqs: fc.array(
          fc.record({ len: fc.integer({ min: 1, max: 28 }), out: fc.integer({ min: 1, max: 12 }), prio: fc.integer({ min: 0, max: 2 }), at: fc.integer({ min: 0, max: 30 }), shared: fc.boolean() }),
          { minLength: 1, maxLength: 14 },
        ),
      }),
      ({ numBlocks, maxSeqs, budget, caching, reqs }) => {
        const { sched, kv } = make(numBlocks, { maxSeqs, maxBatchTokens: budget, agingMs: 20 }, caching);
        const seqs = reqs
          .map((r, i) => new FakeSeq(i, r.shared ? [...prompt(8, 500), ...prompt(r.len, 1000 + 50 * i)] : prompt(r.len, 1000 + 50 * i), r.out, r.prio, r.at))
          .filter((s) => Math.ceil((s.tokens.length + 1) / BS) <= numBlocks); // the engine rejects the others at submit
        const fin: FakeSeq[] = [];
        let t = 0;
        for (; t < 5000 && fin.length < seqs.length; t++) {
          for (const s of seqs) if (s.arrival === t) sched.add(s);
          const out = sched.schedule(t);
          assert.ok(out.rows.length * out.seqLen <= budget);
          assert.ok(sched.running.length <= maxSeqs);
          assert.equal(new Set(out.rows.map((r) => r.seq)).size, out.rows.length, 'a sequence appears once per step');
          for (const r of out.rows) {
            assert.equal(r.start, r.seq.numComputed);
            assert.ok(r.seq.blockTable.length * BS >= r.start + r.numNew, 'room for the new tokens');
          }
          apply(sched, out, fin);
          kv.pool.check();
        }
        assert.equal(fin.length, seqs.length, `all finished (t=${t})`);
        assert.equal(kv.pool.numFree, numBlocks);
        assert.ok(!sched.hasWork);
      },
    ),
    { numRuns: 200 },
  );
});

test('a preempted sequence that grew past the whole pool ends out of blocks instead of waiting forever', () => {
  // Found by the property test: 8 blocks of 4; a sequence grown to 33 tokens is preempted by a higher tier.
  const { sched } = make(8, { maxSeqs: 2, maxBatchTokens: 33, agingMs: 20 }, false);
  const reqs = [
    { len: 1, out: 1, prio: 0, at: 8, shared: false },
    { len: 21, out: 5, prio: 0, at: 8, shared: true },
    { len: 1, out: 1, prio: 1, at: 13, shared: false },
    { len: 1, out: 1, prio: 0, at: 0, shared: false },
  ];
  const seqs = reqs.map((r, i) => new FakeSeq(i, r.shared ? [...prompt(8, 500), ...prompt(r.len, 1000 + 50 * i)] : prompt(r.len, 1000 + 50 * i), r.out, r.prio, r.at));
  const fin: FakeSeq[] = [];
  for (let t = 0; t < 200 && fin.length < seqs.length; t++) {
    for (const q of seqs) if (q.arrival === t) sched.add(q);
    apply(sched, sched.schedule(t), fin);
  }
  assert.deepEqual(fin.map((q) => q.key).sort(), [0, 1, 2, 3]);
  assert.ok(!sched.hasWork);
});
