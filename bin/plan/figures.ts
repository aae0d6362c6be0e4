// The figures `parley plan` takes from outside Parley. None of them is measured here (this machine
// has no GPU): they are approximate public figures, with where each comes from, so an operator can
// replace them with their own (every one is a flag or an edit of this table).

export const GPUS = ['h100', 'a100', 'l4'] as const;
export const MODEL_SIZES = ['8b', '70b'] as const;
export type Gpu = (typeof GPUS)[number];
export type ModelSize = (typeof MODEL_SIZES)[number];

// Datasheet peaks (dense BF16 tensor TFLOPS, memory bandwidth TB/s, memory GB):
//   H100 SXM5 80 GB: 989 TFLOPS, 3.35 TB/s — NVIDIA H100 Tensor Core GPU datasheet.
//   A100 SXM4 80 GB: 312 TFLOPS, 2.04 TB/s — NVIDIA A100 Tensor Core GPU datasheet.
//   L4 24 GB:        121 TFLOPS, 0.30 TB/s — NVIDIA L4 Tensor Core GPU datasheet.
export const GPU_PEAKS: Record<Gpu, { bf16Tflops: number; memoryTBs: number; memoryGB: number }> = {
  h100: { bf16Tflops: 989, memoryTBs: 3.35, memoryGB: 80 },
  a100: { bf16Tflops: 312, memoryTBs: 2.04, memoryGB: 80 },
  l4: { bf16Tflops: 121, memoryTBs: 0.3, memoryGB: 24 },
};

// Served throughput per GPU for a Llama-class dense model in BF16 on a continuous-batching server
// (vLLM / TensorRT-LLM class), at a batch size that keeps TTFT p95 around 0.5 s — not the
// max-throughput numbers vendors headline, which run batches whose TTFT is seconds.
//   prefill: compute-bound, 2 × parameters FLOPs per prompt token at ~40 % of the BF16 peak (the
//            model-FLOPs utilisation range reported for prefill in Databricks' "LLM Inference
//            Performance Engineering: Best Practices", 2023);
//   decode:  memory-bandwidth-bound; the figures are the order of magnitude of vLLM's published
//            serving benchmarks (vLLM blog and docs, Llama 8B/70B on A100/H100) at moderate
//            concurrency, scaled between GPUs by memory bandwidth. Approximate to within ~±50 %.
// A 70B model in BF16 (~140 GB of weights) needs tensor parallelism over 4 × 80 GB GPUs (KV cache
// included); it does not fit L4s sensibly (8 × 24 GB leaves almost no KV cache), so that pair is absent.
export type GpuFigures = { prefillTokPerSecPerGpu: number; decodeTokPerSecPerGpu: number; gpusPerReplica: number };
const PREFILL_MFU = 0.4;
const PARAMS: Record<ModelSize, number> = { '8b': 8e9, '70b': 70e9 };
const prefill = (gpu: Gpu, size: ModelSize) => Math.round((GPU_PEAKS[gpu].bf16Tflops * 1e12 * PREFILL_MFU) / (2 * PARAMS[size]));

export const GPU_TABLE: Record<ModelSize, Partial<Record<Gpu, GpuFigures>>> = {
  '8b': {
    h100: { prefillTokPerSecPerGpu: prefill('h100', '8b'), decodeTokPerSecPerGpu: 3000, gpusPerReplica: 1 },
    a100: { prefillTokPerSecPerGpu: prefill('a100', '8b'), decodeTokPerSecPerGpu: 1800, gpusPerReplica: 1 },
    l4: { prefillTokPerSecPerGpu: prefill('l4', '8b'), decodeTokPerSecPerGpu: 300, gpusPerReplica: 1 },
  },
  '70b': {
    h100: { prefillTokPerSecPerGpu: prefill('h100', '70b'), decodeTokPerSecPerGpu: 600, gpusPerReplica: 4 },
    a100: { prefillTokPerSecPerGpu: prefill('a100', '70b'), decodeTokPerSecPerGpu: 350, gpusPerReplica: 4 },
  },
};

// On-demand $/GPU-hour, approximate public list prices (2024): H100 ~$2.50–3.00 (e.g. Lambda Cloud),
// A100 80 GB ~$1.80 (Lambda Cloud), L4 ~$0.70 (Google Cloud G2). Reserved or spot prices are lower.
export const GPU_PRICE_PER_HOUR: Record<Gpu, number> = { h100: 2.5, a100: 1.8, l4: 0.7 };

// General-purpose cloud vCPU (~$0.045/vCPU-hour on demand, e.g. AWS m6i) and managed-database
// SSD storage (~$0.115/GB-month, e.g. Amazon RDS gp3) — approximate list prices.
export const VCPU_PRICE_PER_HOUR = 0.045;
export const STORAGE_PRICE_PER_GB_MONTH = 0.115;
export const HOURS_PER_MONTH = 730;

// Single-instance ceilings, the parts that do not scale out by adding pods:
//   PostgreSQL: one primary takes every append; 64 vCPU is a large managed instance (e.g. RDS
//               db.r6g.16xlarge). Read replicas do not help the event log's writes.
//   Redis:      one single-threaded instance publishes and delivers on the order of 100,000
//               small pub/sub messages/s (redis.io, "Redis benchmark": ~100k+ simple ops/s per
//               instance; approximate). Sharded pub/sub (Redis Cluster SPUBLISH) lifts it.
export const PG_MAX_VCPU = 64;
export const REDIS_MESSAGES_PER_SEC = 100_000;

// Utilisation at peak we size for: headroom for bursts inside the peak hour and for the TTFT SLO.
export const GPU_TARGET_UTILISATION = 0.8;
export const CPU_TARGET_UTILISATION = 0.7;
