// One request inside the engine: its tokens, its KV block table, its place in the queues, its
// sampling and detokenizing state, and its timings.
import type { KvSequence } from './kv-cache-manager.ts';
import { Sampler, type ResolvedSamplingParams } from './sampler.ts';
import type { SpecState } from './speculative.ts';
import { StopStringMatcher } from './stop-strings.ts';
import type { ConstraintCursor } from './token-mask.ts';
import { IncrementalDecoder, type ParleyTokenizer } from './tokenizer.ts';

export type SequenceStatus = 'waiting' | 'running' | 'finished';

export interface SequenceInit {
  key: number;
  promptIds: readonly number[];
  params: ResolvedSamplingParams;
  /** generation stops at this many tokens (maxTokens capped by the context) */
  maxTokens: number;
  priority: number;
  tenant: string;
  /** submit time, ms since the epoch */
  arrival: number;
  tokenizer: ParleyTokenizer;
  /** the output's constraint, if any (token-mask.ts) */
  constraint?: ConstraintCursor | null;
}

export class Sequence implements KvSequence {
  readonly key: number;
  readonly tokens: number[];
  readonly promptLen: number;
  numComputed = 0;
  blockTable: number[] = [];
  blockHashes: string[] = [];
  readonly tenant: string;
  readonly priority: number;
  readonly arrival: number;
  status: SequenceStatus = 'waiting';
  /** order of the last admission to the running queue (higher = more recent) */
  admittedAt = -1;
  /** ms spent waiting in earlier waits (aging counts the whole wait) */
  waitedMs = 0;
  /** when the current wait started (ms since the epoch) */
  waitingSince: number;
  /** effective priority fixed at the last admission (priority + aging bonus) */
  runPriority: number;
  preemptions = 0;
  /** prompt tokens served by the prefix cache at the last admission */
  cachedTokens = 0;
  cancelRequested = false;
  /** speculative decoding state (null: off for this request) */
  spec: SpecState | null = null;

  readonly params: ResolvedSamplingParams;
  readonly maxTokens: number;
  readonly sampler: Sampler;
  readonly decoder: IncrementalDecoder;
  readonly stops: StopStringMatcher;
  readonly constraint: ConstraintCursor | null;
  /** generated ids (no EOS) */
  get outputLen(): number {
    return this.tokens.length - this.promptLen;
  }

  firstScheduledAt: number | null = null;
  firstTokenAt: number | null = null;
  lastTokenAt: number | null = null;

  constructor(init: SequenceInit) {
    this.key = init.key;
    this.tokens = [...init.promptIds];
    this.promptLen = init.promptIds.length;
    this.tenant = init.tenant;
    this.priority = init.priority;
    this.runPriority = init.priority;
    this.arrival = init.arrival;
    this.waitingSince = init.arrival;
    this.params = init.params;
    this.maxTokens = init.maxTokens;
    this.sampler = new Sampler(init.params);
    this.decoder = new IncrementalDecoder(init.tokenizer);
    this.stops = new StopStringMatcher(init.params.stop, { outsideToolCalls: init.params.stopOutsideToolCalls });
    this.constraint = init.constraint ?? null;
  }

  /** tokens still to compute before the next token can be sampled */
  get remaining(): number {
    return this.tokens.length - this.numComputed;
  }

  /** priority while waiting: the tier plus one level per `agingMs` waited (no starvation) */
  effectivePriority(now: number, agingMs: number): number {
    const waited = this.waitedMs + (this.status === 'waiting' ? Math.max(0, now - this.waitingSince) : 0);
    return agingMs > 0 && Number.isFinite(agingMs) ? this.priority + Math.floor(waited / agingMs) : this.priority;
  }
}
