// The engine's bookkeeping, apart from the loop that does the work: a finished request's result
// (timings from its Sequence) and metrics, the KV slots wasted per step, and the counters snapshot
// sent to the main thread. Nothing here decides what runs; it only counts what ran.
import type { BatchRunner } from './batch-runner.ts';
import type { BlockPool } from './block-pool.ts';
import type { KvCacheManager } from './kv-cache-manager.ts';
import { METRIC, type EngineMetrics } from './metrics.ts';
import type { WireResult } from './protocol.ts';
import type { Scheduler } from './scheduler.ts';
import type { Sequence } from './sequence.ts';

export type FinishReason = WireResult['finishReason'];

/** A finished request's result, at time `t` (ms since the epoch), and its metrics recorded. */
export function finishResult(metrics: EngineMetrics, seq: Sequence, reason: FinishReason, t: number): WireResult {
  const completion = seq.outputLen;
  const first = seq.firstTokenAt;
  const result: WireResult = {
    finishReason: reason,
    promptTokens: seq.promptLen,
    completionTokens: completion,
    ttftMs: first === null ? 0 : first - seq.arrival,
    tpotMs: first !== null && seq.lastTokenAt !== null && completion > 1 ? (seq.lastTokenAt - first) / (completion - 1) : 0,
    queueMs: seq.firstScheduledAt === null ? t - seq.arrival : seq.firstScheduledAt - seq.arrival,
    cachedPromptTokens: seq.cachedTokens,
    preemptions: seq.preemptions,
  };
  const m = metrics;
  if (seq.firstScheduledAt !== null) {
    m.inc(METRIC.promptTokens, seq.promptLen);
    m.observe(METRIC.queueTime, result.queueMs / 1000);
  }
  m.inc(METRIC.requestSuccess);
  m.inc(`${METRIC.requestSuccess}{finished_reason="${reason === 'cancelled' ? 'abort' : reason}"}`);
  m.observe(METRIC.e2e, (t - seq.arrival) / 1000);
  m.observe(METRIC.requestPromptTokens, seq.promptLen);
  m.observe(METRIC.requestGenerationTokens, completion);
  return result;
}

/** Slots allocated vs holding KV, over the blocks running sequences hold (shared blocks once). */
export function measureKvWaste(metrics: EngineMetrics, running: readonly Sequence[], blockSize: number): void {
  const bs = blockSize;
  const seen = new Set<number>();
  let used = 0;
  for (const seq of running) {
    const t = seq.blockTable;
    for (let i = 0; i < t.length; i++) {
      if (seen.has(t[i])) continue;
      seen.add(t[i]);
      used += Math.max(0, Math.min(bs, seq.numComputed - i * bs));
    }
  }
  metrics.inc(METRIC.kvSlotsAllocated, seen.size * bs);
  metrics.inc(METRIC.kvSlotsUsed, used);
}

/** The counters, with the gauges and totals the parts keep themselves copied in first. */
export function snapshotCounters(
  metrics: EngineMetrics,
  parts: { kv: KvCacheManager; scheduler: Scheduler<Sequence>; pool: BlockPool; runner: BatchRunner },
): Record<string, number> {
  const m = metrics;
  m.set(METRIC.prefixQueries, parts.kv.queries);
  m.set(METRIC.prefixHits, parts.kv.hits);
  m.set(METRIC.preemptions, parts.scheduler.preemptions);
  m.set(METRIC.kvBlocksCached, parts.pool.numCached);
  const c = parts.runner.copies;
  m.set(METRIC.kvBytesGathered, c.gathered);
  m.set(METRIC.kvBytesScattered, c.scattered);
  m.set(METRIC.kvBytesReturned, c.returned);
  m.set(METRIC.kvBytesPastRead, c.pastRead);
  m.set(METRIC.paddedTokens, c.paddedTokens);
  m.set(METRIC.steps, c.steps);
  return { ...m.counters };
}
