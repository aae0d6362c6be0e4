// Engine metrics, named after vLLM's (vllm/v1/metrics) so dashboards carry over. Counters are
// cumulative; histograms are reported as the samples observed since the last drain (the main
// thread keeps a bounded window of them).
export const METRIC = {
  running: 'vllm:num_requests_running',
  waiting: 'vllm:num_requests_waiting',
  kvUsage: 'vllm:kv_cache_usage_perc',
  prefixQueries: 'vllm:prefix_cache_queries_total',
  prefixHits: 'vllm:prefix_cache_hits_total',
  preemptions: 'vllm:num_preemptions_total',
  promptTokens: 'vllm:prompt_tokens_total',
  generationTokens: 'vllm:generation_tokens_total',
  requestSuccess: 'vllm:request_success_total',
  ttft: 'vllm:time_to_first_token_seconds',
  itl: 'vllm:inter_token_latency_seconds',
  e2e: 'vllm:e2e_request_latency_seconds',
  queueTime: 'vllm:request_queue_time_seconds',
  iterationTokens: 'vllm:iteration_tokens_total',
  requestPromptTokens: 'vllm:request_prompt_tokens',
  requestGenerationTokens: 'vllm:request_generation_tokens',
  /** speculative decoding (vLLM v1's spec_decode counters): verifications with ≥ 1 draft, draft
   *  tokens proposed, draft tokens accepted */
  specDrafts: 'vllm:spec_decode_num_drafts_total',
  specDraftTokens: 'vllm:spec_decode_num_draft_tokens_total',
  specAcceptedTokens: 'vllm:spec_decode_num_accepted_tokens_total',
  // Parley's own
  steps: 'parley:engine_steps_total',
  paddedTokens: 'parley:engine_padded_tokens_total',
  kvBytesGathered: 'parley:kv_bytes_gathered_total',
  kvBytesScattered: 'parley:kv_bytes_scattered_total',
  kvBytesReturned: 'parley:kv_bytes_returned_total',
  /** past KV the model gathered for attention (paged: inside the graph; rows × padded past) */
  kvBytesPastRead: 'parley:kv_bytes_past_read_total',
  kvBlocks: 'parley:kv_cache_blocks',
  kvBlocksCached: 'parley:kv_cache_blocks_cached',
  modelSeconds: 'parley:engine_model_seconds_total',
  /** time spent masking and advancing constrained rows (token-mask.ts) */
  constraintSeconds: 'parley:engine_constraint_seconds_total',
  /** summed after every step: KV slots in the blocks running sequences hold, and those holding KV */
  kvSlotsAllocated: 'parley:kv_slots_allocated_total',
  kvSlotsUsed: 'parley:kv_slots_used_total',
} as const;

export const HISTOGRAMS = [METRIC.ttft, METRIC.itl, METRIC.e2e, METRIC.queueTime, METRIC.iterationTokens, METRIC.requestPromptTokens, METRIC.requestGenerationTokens];

export class EngineMetrics {
  readonly counters: Record<string, number> = {};
  private samples: Record<string, number[]> = {};

  constructor() {
    for (const k of [METRIC.prefixQueries, METRIC.prefixHits, METRIC.preemptions, METRIC.promptTokens, METRIC.generationTokens, METRIC.requestSuccess, METRIC.steps, METRIC.paddedTokens, METRIC.specDrafts, METRIC.specDraftTokens, METRIC.specAcceptedTokens]) {
      this.counters[k] = 0;
    }
  }

  inc(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by;
  }

  set(name: string, value: number): void {
    this.counters[name] = value;
  }

  observe(name: string, value: number): void {
    (this.samples[name] ??= []).push(value);
  }

  /** histogram samples since the last call */
  drain(): Record<string, number[]> {
    const s = this.samples;
    this.samples = {};
    return s;
  }
}
