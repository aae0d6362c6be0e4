// `parley plan`'s text: the chain step by step, every assumption printed beside the number it makes.
import { CPU_TARGET_UTILISATION, GPU_TARGET_UTILISATION, HOURS_PER_MONTH, STORAGE_PRICE_PER_GB_MONTH, VCPU_PRICE_PER_HOUR } from './figures.ts';
import type { Plan } from './plan.ts';

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const usd = (x: number) => `$${n(x)}`;

export function renderPlan(p: Plan): string {
  const i = p.input;
  const lines = [
    `Capacity plan: ${n(i.dau)} daily active users`,
    '',
    'Assumptions',
    `  ${n(i.messagesPerUser, 1)} messages/user/day, ${n(i.tokensIn)} prompt tokens and ${n(i.tokensOut)} output tokens per turn,`,
    `  peak hour = ${n(i.peakFactor, 2)}× the daily mean, model ${i.modelSize} on ${i.gpu.toUpperCase()} GPUs at $${n(i.pricePerGpuHour, 2)}/GPU-hour, TTFT p95 < ${n(i.ttftSloMs)} ms,`,
    `  ${i.subscribersPerTurn} subscriber(s) per streamed answer; sized for the peak at ${GPU_TARGET_UTILISATION * 100} % GPU and ${CPU_TARGET_UTILISATION * 100} % CPU busy.`,
    `  GPU throughput: approximate public figures (bin/plan/figures.ts has each source), not measured here.`,
    `  Parley's cost per turn: measured, ${p.measuredFrom}.`,
    '',
    '1. Requests',
    `  ${n(p.requests.turnsPerDay)} turns/day = ${n(p.requests.meanTurnsPerSec, 1)} turns/s mean, ${n(p.requests.peakTurnsPerSec, 1)} turns/s at peak`,
    '2. Tokens at peak',
    `  prompt ${n(p.tokens.promptTokPerSec)} tokens/s, output ${n(p.tokens.outputTokPerSec)} tokens/s`,
    '3. GPUs',
    `  per GPU: prefill ~${n(p.gpu.prefillTokPerSecPerGpu)} tokens/s, decode ~${n(p.gpu.decodeTokPerSecPerGpu)} tokens/s; ${p.gpu.gpusPerReplica} GPU(s) per model replica`,
    `  ${n(p.gpu.busyGpus, 1)} GPUs busy at peak → ${n(p.gpu.replicas)} replica(s), ${n(p.gpu.gpus)} GPUs`,
    `  one ${n(i.tokensIn)}-token prompt prefills in ~${n(p.gpu.prefillMsPerPrompt)} ms of the ${n(i.ttftSloMs)} ms TTFT budget`
      + (p.gpu.prefillWithinSlo ? '' : ' — OVER HALF THE BUDGET: queueing will break the SLO; use a bigger GPU or fewer prompt tokens'),
    '4. Parley, one Deployment per role (measured with one process per role; the worker without the model)',
    ...(['api', 'saga', 'projector', 'worker'] as const).map((role) => {
      const r = p.parley.roles[role];
      return r.scalesOut
        ? `  ${role.padEnd(9)} ${n(r.cpuMsPerTurn, 1)} CPU ms/turn → ${n(r.cores, 1)} cores busy at peak → ${n(r.vcpus)} vCPU (scales out)`
        : `  ${role.padEnd(9)} ${n(r.cpuMsPerTurn, 1)} CPU ms/turn → ${n(r.cores, 1)} cores busy at peak on ONE active process (checkpoint lock; 1 standby)`
          + (r.cores > CPU_TARGET_UTILISATION ? ' — OVER ONE CORE: see Saturation' : '');
    }),
    `  all roles ${n(p.parley.cpuMsPerTurn, 1)} CPU ms/turn → ${n(p.parley.vcpus)} vCPU (one Node process per vCPU; the embedded default, all roles in one process, measured ${n(p.parley.embeddedCpuMsPerTurn, 1)})`,
    '5. PostgreSQL',
    `  ${n(p.postgres.cpuMsPerTurn, 1)} CPU ms/turn → ${n(p.postgres.cores, 1)} cores busy → ${n(p.postgres.vcpus)} vCPU on the primary`,
    `  ${n(p.postgres.statementsPerSec)} statements/s, ${n(p.postgres.eventsPerTurn, 1)} events/turn = ${n(p.postgres.eventsPerSec)} events/s at peak`,
    `  ${n(p.postgres.storedBytesPerTurn / 1000, 1)} kB stored per turn (log, indexes, read models) → ${n(p.postgres.storageGBPerDay, 1)} GB/day, ${n(p.postgres.storageGBPerDay * 365 / 1000, 1)} TB/year`,
    '6. Redis fan-out (each sampled token is published once and delivered to each subscriber)',
    `  ${n(p.redis.publishesPerSec)} publishes/s, ${n(p.redis.messagesPerSec)} messages/s in and out at peak`,
    `7. Monthly cost (${HOURS_PER_MONTH} h, on-demand list prices)`,
    `  GPUs ${usd(p.costPerMonth.gpus)}, CPU ${usd(p.costPerMonth.cpu)} ($${VCPU_PRICE_PER_HOUR}/vCPU-hour), storage ${usd(p.costPerMonth.storage)} (first month's growth at $${STORAGE_PRICE_PER_GB_MONTH}/GB-month)`,
    `  total ≈ ${usd(p.costPerMonth.total)}/month (provisioned for the peak all day; autoscaling to load costs less)`,
    '',
    'Saturation (single instances that do not scale out)',
    ...p.components.filter((c) => c.saturatesAtDau !== null).map((c) =>
      `  ${c.name}: ${n(c.load, 1)} ${c.unit} of ${n(c.limit!)} — saturates at ~${n(c.saturatesAtDau!)} DAU (${c.note})`),
  ];
  if (p.firstToSaturate) {
    const f = p.firstToSaturate;
    lines.push(f.alreadySaturated
      ? `FIRST TO SATURATE: ${f.name} — already past its ceiling at this load (~${n(f.atDau)} DAU)`
      : `First to saturate: ${f.name}, at ~${n(f.atDau)} DAU`);
  }
  lines.push('', `Caveat: Parley's CPU per turn was measured with ${n(p.measuredAtTokens)}-token answers on 2 shared cores; its per-token part is not separated.`);
  return lines.join('\n');
}
