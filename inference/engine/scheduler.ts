// The scheduler: which sequences run in the next engine step, and how many tokens each computes.
//
// - Two queues: waiting (not holding KV blocks) and running (holding blocks).
// - Every step is one model call over a dense batch [rows, S] (the Optimum decoder-with-past
//   layout has no ragged batches: every row is padded to the longest chunk S). Its cost is
//   rows × S, and the token budget bounds it: rows × S ≤ maxBatchTokens.
// - Decode first: running sequences that need one token form a decode step (S = 1). Prompts are
//   prefilled in prefill steps, long prompts in chunks of at most the budget (chunked prefill), so a
//   decode stream never waits for more than one budget-sized step. When both kinds of work exist,
//   decode and prefill steps alternate. A step mixes decodes into a prefill step only when the
//   padding this costs keeps the batch efficiency (useful tokens ÷ rows × S) above a threshold.
// - Admission: waiting sequences in order of effective priority (the request's tier plus one level
//   per `agingMs` waited, so nothing starves), then arrival (FCFS); at most maxSeqs running. The
//   head of the queue is not overtaken: if it does not fit, admission stops for this step.
// - Prefix caching: at admission a sequence takes every cached full block of its prefix.
// - Preemption: when blocks run out, the lowest-priority, most recently admitted running sequence
//   gives its blocks back and returns to the waiting queue (keeping its arrival time, so it comes
//   back first among its tier); it is recomputed from its tokens (prompt + generated so far) when
//   re-admitted, mostly from the prefix cache when it is on. A waiting sequence of a higher tier may
//   preempt a lower-tier running one, for blocks or for a seat.
// - Speculative decoding (optional `drafter`, policy in speculative.ts): a decode row may carry
//   draft tokens after its last token (numNew = 1 + drafts); their blocks come only from free
//   blocks (drafts never preempt), and the engine gives back the rejected positions' blocks.
import type { KvCacheManager, KvSequence } from './kv-cache-manager.ts';

export interface SchedSequence extends KvSequence {
  readonly key: number;
  readonly priority: number;
  readonly arrival: number;
  status: 'waiting' | 'running' | 'finished';
  admittedAt: number;
  waitedMs: number;
  waitingSince: number;
  runPriority: number;
  preemptions: number;
  cachedTokens: number;
  firstScheduledAt: number | null;
  effectivePriority(now: number, agingMs: number): number;
}

export interface SchedulerConfig {
  maxSeqs: number;
  /** bound on rows × S of one step */
  maxBatchTokens: number;
  /** one priority level per this many ms waited (Infinity: no aging) */
  agingMs: number;
  /** decodes join a prefill step only if useful ÷ (rows × S) stays ≥ this */
  minMixEfficiency: number;
}

export interface ScheduledRow<S> {
  seq: S;
  /** tokens already computed (the row's past length) */
  start: number;
  /** tokens to compute in this step: seq.tokens[start, start + numNew) */
  numNew: number;
  /** after this step, sample the next token from the last position's logits */
  sample: boolean;
  /** speculative draft tokens fed after the row's last token (numNew = 1 + draft.length): the
   *  engine verifies them and rolls the rejected positions back (speculative.ts) */
  draft?: readonly number[];
}

/** Draft tokens for a decode step's sequences (one array per sequence, in order; empty: none),
 *  with rows × (1 + longest draft) ≤ budget. */
export type Drafter<S> = (seqs: readonly S[], budget: number) => readonly (readonly number[])[];

export interface SchedulerOutput<S> {
  kind: 'idle' | 'decode' | 'prefill' | 'mixed';
  rows: ScheduledRow<S>[];
  /** max numNew (the batch's sequence length) */
  seqLen: number;
  /** max start (the batch's past length) */
  pastLen: number;
  /** useful tokens (sum of numNew) */
  numTokens: number;
  preempted: S[];
  admitted: S[];
  /** sequences that fill the pool by themselves and cannot grow: end them ('length') */
  outOfBlocks: S[];
}

export class Scheduler<S extends SchedSequence> {
  readonly waiting: S[] = [];
  readonly running: S[] = [];
  private admissions = 0;
  private lastKind: SchedulerOutput<S>['kind'] = 'idle';
  /** total preemptions so far */
  preemptions = 0;
  /** speculative decoding's proposals for decode steps (none: no speculation) */
  drafter: Drafter<S> | null = null;

  constructor(
    readonly kv: KvCacheManager,
    readonly config: SchedulerConfig,
  ) {}

  get hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  add(seq: S): void {
    seq.status = 'waiting';
    this.waiting.push(seq);
  }

  /** Takes a sequence out of the queues (finished or cancelled) and frees its blocks. */
  remove(seq: S): void {
    const r = this.running.indexOf(seq);
    if (r >= 0) this.running.splice(r, 1);
    const w = this.waiting.indexOf(seq);
    if (w >= 0) this.waiting.splice(w, 1);
    if (seq.blockTable.length) this.kv.free(seq);
    seq.status = 'finished';
  }

  schedule(now: number): SchedulerOutput<S> {
    const out: SchedulerOutput<S> = { kind: 'idle', rows: [], seqLen: 0, pastLen: 0, numTokens: 0, preempted: [], admitted: [], outOfBlocks: [] };
    if (!this.hasWork) return out;
    this.sortRunning();
    const decodeReady = this.running.filter((s) => s.tokens.length - s.numComputed === 1);
    const prefillWork = this.running.length > decodeReady.length || this.waiting.length > 0;
    let tryPrefill = prefillWork && (decodeReady.length === 0 || this.lastKind !== 'prefill');
    if (tryPrefill) {
      this.prefillStep(now, out);
      if (out.rows.length === 0) tryPrefill = false;
    }
    if (!tryPrefill) this.decodeStep(now, out);
    for (const r of out.rows) {
      out.seqLen = Math.max(out.seqLen, r.numNew);
      out.pastLen = Math.max(out.pastLen, r.start);
      out.numTokens += r.numNew;
      r.sample = r.start + r.numNew - (r.draft?.length ?? 0) === r.seq.tokens.length;
      r.seq.firstScheduledAt ??= now;
    }
    if (out.kind !== 'idle') this.lastKind = out.kind === 'decode' ? 'decode' : 'prefill';
    return out;
  }

  /** running in order of importance: run priority (high first), then admission (old first) */
  private sortRunning(): void {
    this.running.sort((a, b) => b.runPriority - a.runPriority || a.admittedAt - b.admittedAt);
  }

  private sortWaiting(now: number): void {
    const ag = this.config.agingMs;
    const eff = new Map(this.waiting.map((s) => [s, s.effectivePriority(now, ag)]));
    this.waiting.sort((a, b) => eff.get(b)! - eff.get(a)! || a.arrival - b.arrival || a.key - b.key);
  }

  /** lowest run priority, most recently admitted; null if none is below `below` (when given) */
  private victim(exclude: S | null, below?: number): S | null {
    for (let i = this.running.length - 1; i >= 0; i--) {
      const s = this.running[i];
      if (s === exclude) continue;
      if (below !== undefined && s.runPriority >= below) return null;
      return s;
    }
    return null;
  }

  private preempt(seq: S, now: number, out: SchedulerOutput<S>): void {
    const i = this.running.indexOf(seq);
    if (i >= 0) this.running.splice(i, 1);
    this.kv.free(seq);
    seq.status = 'waiting';
    seq.waitingSince = now;
    seq.preemptions++;
    this.preemptions++;
    this.waiting.push(seq);
    out.preempted.push(seq);
    const r = out.rows.findIndex((x) => x.seq === seq);
    if (r >= 0) out.rows.splice(r, 1);
  }

  /** Allocates room for `n` more tokens of a running sequence, preempting lower ones. With
   *  `shrink`, when nothing is left to preempt, takes as many tokens as the free blocks hold.
   *  Returns the number of tokens granted: 0 if it was preempted itself or is out of blocks. */
  private grow(seq: S, n: number, now: number, out: SchedulerOutput<S>, shrink = false): number {
    while (!this.kv.allocate(seq, seq.numComputed + n)) {
      const v = this.victim(seq);
      if (v === null) {
        const room = (seq.blockTable.length + this.kv.available()) * this.kv.blockSize - seq.numComputed;
        if (shrink && room >= 1 && this.kv.allocate(seq, seq.numComputed + Math.min(n, room))) return Math.min(n, room);
        out.outOfBlocks.push(seq);
        return 0;
      }
      // the victim ranks below every sequence handled before it in this step
      if (this.running.indexOf(v) < this.running.indexOf(seq)) {
        this.preempt(seq, now, out);
        return 0;
      }
      this.preempt(v, now, out);
    }
    return n;
  }

  private decodeStep(now: number, out: SchedulerOutput<S>): void {
    const budget = this.config.maxBatchTokens;
    for (const seq of [...this.running]) {
      if (out.rows.length >= budget) break;
      if (seq.status !== 'running' || seq.tokens.length - seq.numComputed !== 1) continue;
      if (!this.grow(seq, 1, now, out)) continue;
      out.rows.push({ seq, start: seq.numComputed, numNew: 1, sample: true });
    }
    if (!out.rows.length) return;
    out.kind = 'decode';
    if (this.drafter) this.addDrafts(out);
  }

  /** Speculative drafts on a decode step. Drafts never preempt anything: a row whose drafts do not
   *  fit in the free blocks runs without them. */
  private addDrafts(out: SchedulerOutput<S>): void {
    const drafts = this.drafter!(out.rows.map((r) => r.seq), this.config.maxBatchTokens);
    out.rows.forEach((r, i) => {
      const d = drafts[i];
      if (!d || d.length === 0) return;
      if (!this.kv.allocate(r.seq, r.seq.numComputed + 1 + d.length)) return;
      r.draft = d;
      r.numNew = 1 + d.length;
    });
  }

  /** The shape of a prefill step: over the candidates in order (running sequences in the middle
   *  of a prefill, then the waiting queue), the number of rows k and chunk length S ≤ budget ÷ k
   *  that compute the most prompt tokens while useful ÷ (k × S) stays ≥ minMixEfficiency. (Taking
   *  the first candidate's length as S would let one short remainder, e.g. a prompt mostly served
   *  by the prefix cache, shrink every other prompt's chunk to its size.) */
  private planPrefill(now: number): { S: number; rows: number } {
    const budget = this.config.maxBatchTokens;
    const rems: number[] = [];
    for (const seq of this.running) {
      const rem = seq.tokens.length - seq.numComputed;
      if (rem > 1) rems.push(rem);
    }
    this.sortWaiting(now);
    let seats = this.config.maxSeqs - this.running.length;
    for (const seq of this.waiting) {
      if (rems.length >= budget || seats <= 0) break;
      rems.push(seq.tokens.length - this.kv.findCached(seq).tokens);
      seats--;
    }
    if (!rems.length) return { S: 0, rows: 0 };
    let best = { S: Math.min(rems[0], budget), rows: 1, useful: Math.min(rems[0], budget) };
    let longest = rems[0];
    for (let k = 2; k <= rems.length && k <= budget; k++) {
      longest = Math.max(longest, rems[k - 1]);
      const S = Math.min(Math.floor(budget / k), longest);
      let useful = 0;
      for (let i = 0; i < k; i++) useful += Math.min(rems[i], S);
      if (useful / (k * S) < this.config.minMixEfficiency) continue;
      if (useful > best.useful) best = { S, rows: k, useful };
    }
    return best;
  }

  private prefillStep(now: number, out: SchedulerOutput<S>): void {
    const budget = this.config.maxBatchTokens;
    const plan = this.planPrefill(now);
    if (plan.rows === 0) return;
    const S = plan.S;
    const fits = () => out.rows.length < plan.rows;
    // running sequences in the middle of a prefill (or a recompute) continue first
    for (const seq of [...this.running]) {
      if (seq.status !== 'running') continue;
      const rem = seq.tokens.length - seq.numComputed;
      if (rem <= 1) continue;
      if (!fits()) break;
      const n = this.grow(seq, Math.min(rem, S), now, out, true);
      if (n === 0) continue;
      out.rows.push({ seq, start: seq.numComputed, numNew: n, sample: false });
    }
    // then admissions
    this.sortWaiting(now);
    const ag = this.config.agingMs;
    while (this.waiting.length && fits()) {
      const seq = this.waiting[0];
      // A preempted sequence that has grown past the whole pool could never be readmitted: it ends
      // out of blocks, as it would have at its next decode step had it kept running.
      if (Math.ceil(seq.tokens.length / this.kv.blockSize) > this.kv.numBlocks) {
        this.waiting.shift();
        out.outOfBlocks.push(seq);
        continue;
      }
      const eff = seq.effectivePriority(now, ag);
      if (this.running.length >= this.config.maxSeqs) {
        const v = this.victim(null, eff);
        if (v === null) break;
        this.preempt(v, now, out);
        this.sortWaiting(now);
        if (this.waiting[0] !== seq) continue;
      }
      const cached = this.kv.findCached(seq);
      const n = Math.min(seq.tokens.length - cached.tokens, S);
      let ok = this.kv.allocate(seq, cached.tokens + n, cached.blocks);
      while (!ok) {
        const v = this.victim(null, eff);
        if (v === null) break;
        this.preempt(v, now, out);
        ok = this.kv.allocate(seq, cached.tokens + n, cached.blocks);
      }
      if (!ok) break; // the head of the queue waits for blocks; nothing overtakes it
      this.waiting.shift();
      this.kv.recordLookup(this.kv.enableCaching ? seq.tokens.length : 0, cached.tokens);
      seq.numComputed = cached.tokens;
      seq.cachedTokens = cached.tokens;
      seq.status = 'running';
      seq.admittedAt = ++this.admissions;
      seq.waitedMs += Math.max(0, now - seq.waitingSince);
      seq.runPriority = eff;
      this.running.push(seq);
      this.sortRunning();
      out.admitted.push(seq);
      out.rows.push({ seq, start: seq.numComputed, numNew: n, sample: false });
      // a preempted sequence re-sorted in front would be picked next: keep the order stable
      this.sortWaiting(now);
    }
    if (!out.rows.length) return;
    out.kind = 'prefill';
    // decodes join when the padding they cost is small
    const S2 = Math.max(...out.rows.map((r) => r.numNew));
    const decodes = this.running.filter((s) => s.status === 'running' && s.tokens.length - s.numComputed === 1 && !out.rows.some((r) => r.seq === s));
    if (!decodes.length) return;
    const useful = out.rows.reduce((a, r) => a + r.numNew, 0) + decodes.length;
    const rows = out.rows.length + decodes.length;
    if (rows * S2 > budget || useful / (rows * S2) < this.config.minMixEfficiency) return;
    let mixed = false;
    for (const seq of decodes) {
      if (seq.status !== 'running') continue;
      if (!this.grow(seq, 1, now, out)) continue;
      out.rows.push({ seq, start: seq.numComputed, numNew: 1, sample: true });
      mixed = true;
    }
    if (mixed) out.kind = 'mixed';
  }
}
