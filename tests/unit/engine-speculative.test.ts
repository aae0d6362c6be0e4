// Prompt-lookup speculative decoding without a model: proposals (n-gram lookup, loops continued),
// the step's draft length (none when drafts do not pay for their padding), verification (the
// sampler sees the calls it would without drafts), and a fast-check simulation of random workloads
// (continuous batching, preemption, prefix-cache hits, cancellations) where a deterministic fake
// target model decides the tokens: after every step the block accounting holds exactly (every
// running sequence holds blocks for its computed tokens only — rejected drafts' blocks are back in
// the pool — and every block's reference count is the number of tables holding it), every output
// equals decoding without speculation, and every block is free at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockPool } from '../../inference/engine/block-pool.ts';
import { KvCacheManager } from '../../inference/engine/kv-cache-manager.ts';
import { Scheduler, type SchedSequence } from '../../inference/engine/scheduler.ts';
import { SamplingParams } from '../../schemas/common.ts';
import { Metrics } from '../../read-api/http/metrics.ts';
import { PromptLookupDrafter, proposeNgram, resolveSpecConfig, SpecState, verifyDrafts, DEFAULT_SPEC } from '../../inference/engine/speculative.ts';

test('proposeNgram: the tokens after the most recent earlier occurrence of the longest matching suffix', () => {
  //            0  1  2  3  4  5  6  7  8  9
  const toks = [5, 6, 7, 8, 9, 1, 6, 7, 2, 6, 7];
  // suffix [6, 7] occurs at 6..7 (most recent) and 1..2: the continuation of the most recent
  assert.deepEqual(proposeNgram(toks, 3, 2, 4), [2, 6, 7]);
  // a longer suffix wins: [8, 6, 7]? no; [1, 6, 7]? no → n = 2
  assert.deepEqual(proposeNgram([1, 2, 3, 4, 9, 2, 3, 4], 2, 2, 4), [9, 2]);
  assert.deepEqual(proposeNgram([1, 2, 3, 1, 2, 3, 7, 2, 3], 4, 2, 2), [7, 2, 3, 7], 'n = 2: the most recent [2, 3] is at 4..5; past the end the draft repeats itself');
  assert.deepEqual(proposeNgram([4, 4, 4], 5, 2, 3), [4, 4, 4, 4, 4], 'a loop of period 1 is continued');
  assert.deepEqual(proposeNgram([1, 2, 3, 4], 4, 2, 4), [], 'no earlier occurrence: no draft');
  assert.deepEqual(proposeNgram([1, 2, 1, 2], 0, 2, 4), []);
  assert.deepEqual(proposeNgram([1, 2, 3, 2], 3, 1, 1), [3, 2, 3], 'n = 1 when allowed');
});

test('verifyDrafts: accepts while the picked token equals the draft, emits the first mismatch or the bonus token', () => {
  const run = (draft: number[], target: number[], stopAfter = Infinity) => {
    const picks: number[] = [];
    const emitted: number[] = [];
    const a = verifyDrafts(draft, (i) => (picks.push(i), target[i]), (id) => (emitted.push(id), emitted.length < stopAfter));
    return { a, picks, emitted };
  };
  assert.deepEqual(run([3, 4, 5], [3, 4, 5, 6]), { a: 3, picks: [0, 1, 2, 3], emitted: [3, 4, 5, 6] });
  assert.deepEqual(run([3, 4, 5], [3, 9, 5, 6]), { a: 1, picks: [0, 1], emitted: [3, 9] });
  assert.deepEqual(run([3, 4, 5], [8, 4, 5, 6]), { a: 0, picks: [0], emitted: [8] });
  assert.deepEqual(run([3, 4, 5], [3, 4, 5, 6], 2), { a: 2, picks: [0, 1], emitted: [3, 4] }, 'the sequence ended (EOS, stop, maxTokens): nothing more is picked');
  assert.deepEqual(run([], [7]), { a: 0, picks: [0], emitted: [7] });
});

test('the step draft length: long drafts for one well-predicted sequence, none when drafts do not pay for the padding', () => {
  const d = new PromptLookupDrafter(DEFAULT_SPEC);
  const loop = (n: number) => Array.from({ length: n }, (_, i) => 10 + (i % 3));
  const seq = (tokens: number[], accepted: number) => {
    const spec = new SpecState();
    for (let i = 0; i < accepted; i++) spec.record(8, 8);
    return { tokens, maxTokens: 500, outputLen: 10, spec };
  };
  // one sequence whose drafts have been accepted: the full k
  assert.equal(d.drafts([seq(loop(30), 5)], 512)[0].length, 8);
  // the budget bounds rows × (1 + K)
  assert.equal(d.drafts([seq(loop(30), 5)], 4)[0].length, 3);
  // maxTokens: the step never emits past it
  assert.equal(d.drafts([{ ...seq(loop(30), 5), maxTokens: 13 }], 512)[0].length, 2);
  // 32 rows, one with drafts and a poor record: padding every row costs more than it brings
  const poor = new SpecState();
  for (let i = 0; i < 5; i++) poor.record(4, 0);
  const rows = [{ tokens: loop(30), maxTokens: 500, outputLen: 10, spec: poor }, ...Array.from({ length: 31 }, (_, i) => seq([i, i + 1, i + 2], 0))];
  assert.ok(d.drafts(rows, 512).every((x) => x.length === 0));
  // opted out (spec null): never a draft
  assert.deepEqual(d.drafts([{ tokens: loop(30), maxTokens: 500, outputLen: 10, spec: null }], 512), [[]]);
});

test('a new sequence starts from the engine’s recent acceptance: poor drafts stop, and are tried again later', () => {
  const d = new PromptLookupDrafter(DEFAULT_SPEC);
  const loop = (n: number) => Array.from({ length: n }, (_, i) => 10 + (i % 3));
  const fresh = () => Array.from({ length: 8 }, () => ({ tokens: loop(30), maxTokens: 500, outputLen: 10, spec: new SpecState() }));
  const K = () => Math.max(...d.drafts(fresh(), 512).map((x) => x.length));
  assert.ok(K() >= 1, 'a new engine: prior ½, eight new rows with proposals draft');
  for (let i = 0; i < 20; i++) d.record(4, 0);
  assert.equal(K(), 0, 'after twenty rejected drafts, eight new rows do not pay for the padding');
  assert.equal(d.drafts([fresh()[0]], 512)[0].length, 0, 'nor does one row alone');
  for (let i = 0; i < 300; i++) d.drafts([], 512); // decode steps with nothing to draft
  assert.ok(K() >= 1, 'three hundred steps later the poor record has faded: drafts are tried again');
  for (let i = 0; i < 20; i++) d.record(8, 8);
  assert.equal(d.drafts([fresh()[0]], 512)[0].length, 8, 'accepted drafts: a new row drafts the full k');
});

test('resolveSpecConfig: defaults, false turns it off, bad values are refused', () => {
  assert.deepEqual(resolveSpecConfig(undefined), DEFAULT_SPEC);
  assert.equal(resolveSpecConfig(false), null);
  assert.equal(resolveSpecConfig({ k: 3 })!.k, 3);
  for (const bad of [{ k: 0 }, { nMin: 0 }, { nMin: 3, nMax: 2 }, { overheadTokens: -1 }, { k: 1.5 }]) assert.throws(() => resolveSpecConfig(bad), RangeError, JSON.stringify(bad));
});

test('the domain’s sampling params carry the per-request opt-out (absent: the engine default)', () => {
  assert.equal(SamplingParams.parse({ speculative: false }).speculative, false);
  assert.equal(SamplingParams.parse({}).speculative, undefined);
  assert.equal(SamplingParams.safeParse({ speculative: 'no' }).success, false);
});

test('/metrics exports the engine’s speculative-decoding counters under vLLM’s names', async () => {
  const m = new Metrics();
  const counters: Record<string, number> = {
    'vllm:spec_decode_num_drafts_total': 3, 'vllm:spec_decode_num_draft_tokens_total': 20, 'vllm:spec_decode_num_accepted_tokens_total': 11,
  };
  m.addEngine({ metrics: () => counters, stats: () => ({ running: 0, waiting: 0, kvUsage: 0, capacity: 1 }) }, 'parley-tiny');
  const text = await m.registry.metrics();
  for (const [name, v] of Object.entries(counters)) {
    assert.match(text, new RegExp(`# TYPE ${name} counter`));
    assert.match(text, new RegExp(`^${name}\\{model_name="parley-tiny"\\} ${v}$`, 'm'), 'labelled with the model, as vLLM does');
  }
});

// ---- simulation ----------------------------------------------------------------------------------

const BS = 4;

class SimSeq implements SchedSequence {
  tokens: number[];
  numComputed = 0;
  blockTable: number[] = [];
  blockHashes: string[] = [];
  status: 'waiting' | 'running' | 'finished' = 'waiting';
  admittedAt = -1;
  waitedMs = 0;
  waitingSince = 0;
  runPriority: number;
  preemptions = 0;
  cachedTokens = 0;
  firstScheduledAt: number | null = null;
  readonly promptLen: number;
  spec: SpecState | null;
  constructor(
    readonly key: number,
    prompt: number[],
    readonly maxTokens: number,
    readonly priority: number,
    speculative: boolean,
    readonly arrival = key,
    readonly tenant = '',
  ) {
    this.tokens = [...prompt];
    this.promptLen = prompt.length;
    this.runPriority = priority;
    this.spec = speculative ? new SpecState() : null;
  }
  get outputLen(): number {
    return this.tokens.length - this.promptLen;
  }
  effectivePriority(): number {
    return this.priority;
  }
}

/** A deterministic stand-in for the target model: mostly copies the token 5 back (so prompt-lookup
 *  drafts are often right), sometimes a token that depends on the last three (so they are also
 *  often wrong); 0 is EOS. */
function target(ctx: readonly number[], salt: number): number {
  const n = ctx.length;
  const h = ((ctx[n - 1] * 31 + (ctx[n - 2] ?? 7) * 17 + (ctx[n - 3] ?? 3) * 5 + salt) >>> 0) % 23;
  if (h === 0) return 0;
  if (h < 15 && n >= 5) return ctx[n - 5];
  return 1 + (h % 9);
}

/** Decoding the fake model without speculation. */
function reference(prompt: number[], maxTokens: number, salt: number): number[] {
  const ctx = [...prompt];
  const out: number[] = [];
  while (out.length < maxTokens) {
    const t = target(ctx, salt);
    if (t === 0) break;
    ctx.push(t);
    out.push(t);
  }
  return out;
}

const Workload = fc.record({
  numBlocks: fc.integer({ min: 12, max: 48 }),
  caching: fc.boolean(),
  maxBatchTokens: fc.integer({ min: 8, max: 64 }),
  salt: fc.integer({ min: 0, max: 1000 }),
  shared: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 12 }),
  reqs: fc.array(
    fc.record({
      prompt: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
      useShared: fc.boolean(),
      maxTokens: fc.integer({ min: 1, max: 30 }),
      priority: fc.integer({ min: 0, max: 2 }),
      speculative: fc.boolean(),
      arriveAt: fc.integer({ min: 0, max: 20 }),
      cancelAt: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
    }),
    { minLength: 1, maxLength: 14 },
  ),
});

test('random workloads: exact block accounting after every step, outputs as without speculation, no KV leak', () => {
  const totals = { drafted: 0, accepted: 0, preemptions: 0, hits: 0 };
  fc.assert(
    fc.property(Workload, (w) => {
      const pool = new BlockPool(w.numBlocks);
      const kv = new KvCacheManager(pool, BS, w.caching);
      const sched = new Scheduler<SimSeq>(kv, { maxSeqs: 6, maxBatchTokens: w.maxBatchTokens, agingMs: Infinity, minMixEfficiency: 0.5 });
      const drafter = new PromptLookupDrafter({ ...DEFAULT_SPEC, k: 5, overheadTokens: 4 });
      sched.drafter = (seqs, budget) => drafter.drafts(seqs, budget);
      const seqs = w.reqs.map((r, i) => new SimSeq(i, r.useShared ? [...w.shared, ...r.prompt] : r.prompt, r.maxTokens, r.priority, r.speculative));
      const outputs = new Map<number, number[]>();
      /** cancelled or out of blocks: their output is a prefix of the reference */
      const cut = new Set<number>();
      const finish = (s: SimSeq) => sched.remove(s);
      for (let step = 0; step < 2000; step++) {
        for (const [i, r] of w.reqs.entries()) if (r.arriveAt === step) sched.add(seqs[i]);
        for (const [i, r] of w.reqs.entries()) {
          if (r.cancelAt === step && r.arriveAt <= step && seqs[i].status !== 'finished') {
            cut.add(i);
            finish(seqs[i]);
          }
        }
        if (!sched.hasWork && step > 20) break;
        const out = sched.schedule(step);
        for (const s of out.outOfBlocks) {
          cut.add(s.key);
          finish(s);
        }
        for (const r of out.rows) {
          const s = r.seq;
          if (s.status !== 'running') continue;
          if (r.draft?.length) {
            totals.drafted += r.draft.length;
            assert.equal(r.numNew, 1 + r.draft.length);
            assert.ok(s.blockTable.length * BS >= r.start + r.numNew, 'blocks for every draft position');
            const ctx = s.tokens.slice();
            const a = verifyDrafts(
              r.draft,
              (i) => target([...ctx, ...r.draft!.slice(0, i)], w.salt),
              (id) => {
                if (id === 0) return finish(s), false;
                s.tokens.push(id);
                (outputs.get(s.key) ?? outputs.set(s.key, []).get(s.key)!).push(id);
                if (s.outputLen >= s.maxTokens) return finish(s), false;
                return true;
              },
            );
            s.spec!.record(r.draft.length, a);
            totals.accepted += a;
            if (s.status === 'running') {
              kv.rollback(s, s.tokens.length - 1);
              kv.commit(s);
            }
            continue;
          }
          s.numComputed = r.start + r.numNew;
          kv.commit(s);
          if (!r.sample) continue;
          const id = target(s.tokens, w.salt);
          if (id === 0) {
            finish(s);
            continue;
          }
          s.tokens.push(id);
          (outputs.get(s.key) ?? outputs.set(s.key, []).get(s.key)!).push(id);
          if (s.outputLen >= s.maxTokens) finish(s);
        }
        // the accounting, after every step
        pool.check();
        const refs = new Map<number, number>();
        for (const s of sched.running) {
          assert.equal(s.blockTable.length, Math.ceil(s.numComputed / BS), `sequence ${s.key} holds blocks for its computed tokens only`);
          for (const b of s.blockTable) refs.set(b, (refs.get(b) ?? 0) + 1);
        }
        for (const s of sched.waiting) assert.equal(s.blockTable.length, 0);
        for (let b = 0; b < pool.numBlocks; b++) assert.equal(pool.refCount(b), refs.get(b) ?? 0, `block ${b}'s reference count`);
      }
      assert.equal(sched.hasWork, false, 'every request ended');
      assert.equal(pool.numFree, pool.numBlocks, 'every block is free at the end');
      for (const [i, r] of w.reqs.entries()) {
        const want = reference(seqs[i].tokens.slice(0, seqs[i].promptLen), r.maxTokens, w.salt);
        const got = outputs.get(i) ?? [];
        if (!cut.has(i)) assert.deepEqual(got, want, `request ${i}`);
        else assert.deepEqual(got, want.slice(0, got.length), `request ${i} (cancelled or out of blocks): a prefix of the output`);
      }
      totals.preemptions += sched.preemptions;
      totals.hits += kv.hits;
    }),
    { numRuns: 300 },
  );
  // the property is not vacuous: drafts were proposed, accepted and rejected, sequences preempted,
  // prefixes served from the cache
  assert.ok(totals.drafted > totals.accepted && totals.accepted > 0, JSON.stringify(totals));
  assert.ok(totals.preemptions > 0 && totals.hits > 0, JSON.stringify(totals));
});

const SALT = 2;
test('the simulation exercises speculation: drafts proposed, accepted and rejected, with preemption', () => {
  // one fixed workload with a small pool, checked to reach every path the property relies on
  const pool = new BlockPool(14);
  const kv = new KvCacheManager(pool, BS, true);
  const sched = new Scheduler<SimSeq>(kv, { maxSeqs: 6, maxBatchTokens: 48, agingMs: Infinity, minMixEfficiency: 0.5 });
  const drafter = new PromptLookupDrafter({ ...DEFAULT_SPEC, k: 5, overheadTokens: 4 });
  sched.drafter = (seqs, budget) => drafter.drafts(seqs, budget);
  const seqs = Array.from({ length: 6 }, (_, i) => new SimSeq(i, [1 + i, 2, 3, 4, 5, 6, 2 + i, 3], 24, 0, true));
  for (const s of seqs) sched.add(s);
  let drafted = 0;
  let accepted = 0;
  for (let step = 0; step < 500 && sched.hasWork; step++) {
    const out = sched.schedule(step);
    for (const s of out.outOfBlocks) sched.remove(s);
    for (const r of out.rows) {
      const s = r.seq;
      if (s.status !== 'running') continue;
      const draft = r.draft ?? [];
      if (!r.sample && !draft.length) {
        s.numComputed = r.start + r.numNew;
        kv.commit(s);
        continue;
      }
      const ctx = s.tokens.slice();
      const a = verifyDrafts(draft, (i) => target([...ctx, ...draft.slice(0, i)], SALT), (id) => {
        if (id === 0 || s.outputLen + 1 >= s.maxTokens) return sched.remove(s), false;
        s.tokens.push(id);
        return true;
      });
      drafted += draft.length;
      accepted += a;
      if (draft.length) s.spec!.record(draft.length, a);
      if (s.status === 'running') {
        kv.rollback(s, s.tokens.length - 1);
        kv.commit(s);
      }
    }
  }
  assert.ok(drafted > accepted && accepted > 0, `drafted ${drafted}, accepted ${accepted}`);
  assert.ok(sched.preemptions > 0, 'the pool is small enough to preempt');
  assert.equal(pool.numFree, pool.numBlocks);
});
