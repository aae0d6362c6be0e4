// EngineOptions (protocol.ts, what callers pass) resolved against the loaded model into the numbers
// the engine core is built from: batch limits, block size and count, prefix caching, aging,
// speculative decoding. Validated here once, so the core and its parts can trust them.
import type { LoadedModel } from './model.ts';
import { KvStore } from './kv-store.ts';
import { resolveSpecConfig, type SpecConfig } from './speculative.ts';
import type { EngineOptions } from './protocol.ts';

export const DEFAULT_KV_CACHE_BYTES = 256 * 1024 * 1024;

export interface ResolvedEngineOptions {
  maxSeqs: number;
  blockSize: number;
  numBlocks: number;
  maxBatchTokens: number;
  prefixCaching: boolean;
  agingMs: number;
  minMixEfficiency: number;
  /** null: no speculative decoding */
  speculative: SpecConfig | null;
}

export function resolveEngineOptions(opts: EngineOptions, model: LoadedModel): ResolvedEngineOptions {
  const c = model.config;
  const maxSeqs = opts.maxSeqs ?? 64;
  const blockSize = opts.blockSize ?? 16;
  const maxBatchTokens = opts.maxBatchTokens ?? 512;
  if (!Number.isInteger(maxSeqs) || maxSeqs < 1) throw new RangeError(`maxSeqs must be an integer ≥ 1, got ${maxSeqs}`);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`blockSize must be an integer ≥ 1, got ${blockSize}`);
  if (!Number.isInteger(maxBatchTokens) || maxBatchTokens < 1) throw new RangeError(`maxBatchTokens must be an integer ≥ 1, got ${maxBatchTokens}`);
  const perToken = KvStore.bytesPerToken(c);
  const tokens = opts.kvCacheTokens ?? Math.min(maxSeqs * c.contextLength, Math.floor((opts.kvCacheBytes ?? DEFAULT_KV_CACHE_BYTES) / perToken));
  if (!Number.isFinite(tokens) || tokens < 1) throw new RangeError(`kvCacheTokens must be ≥ 1, got ${tokens}`);
  return {
    maxSeqs,
    blockSize,
    numBlocks: Math.max(1, Math.ceil(tokens / blockSize)),
    maxBatchTokens,
    prefixCaching: opts.prefixCaching ?? true,
    agingMs: opts.priorityAgingMs ?? 10_000,
    minMixEfficiency: opts.minMixEfficiency ?? 0.5,
    speculative: resolveSpecConfig(opts.speculative),
  };
}
