// The capacity chain: users → turns/s → tokens/s → GPUs → Parley's CPU → PostgreSQL → Redis → cost.
// Pure: inputs and measured figures in, a plan out (the command prints it).
import { z } from 'zod';
import {
  CPU_TARGET_UTILISATION, GPU_PRICE_PER_HOUR, GPU_TABLE, GPU_TARGET_UTILISATION, GPUS, HOURS_PER_MONTH, MODEL_SIZES,
  PG_MAX_VCPU, REDIS_MESSAGES_PER_SEC, STORAGE_PRICE_PER_GB_MONTH, VCPU_PRICE_PER_HOUR,
} from './figures.ts';
import { ROLE_NAMES, type Measured, type RoleName } from './measured.ts';

const SCALES_OUT: readonly RoleName[] = ['api', 'worker'];

const count = (name: string) => z.coerce.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).positive(`${name} must be > 0`);
const amount = (name: string) => z.coerce.number({ error: `${name} must be a number` }).positive(`${name} must be > 0`);

// The flags, as commander hands them over (strings). Defaults are the worked example: a chatbot
// whose users send 20 messages a day, ~1,000 prompt tokens per turn (system prompt + history),
// ~250 tokens per answer, a peak hour at 3× the daily mean, an 8B model on H100s, TTFT p95 < 500 ms.
export const PlanInput = z.object({
  dau: count('--dau'),
  messagesPerUser: amount('--messages-per-user').default(20),
  tokensIn: count('--tokens-in').default(1000),
  tokensOut: count('--tokens-out').default(250),
  peakFactor: z.coerce.number({ error: '--peak-factor must be a number' }).min(1, '--peak-factor must be ≥ 1 (peak ÷ daily mean)').default(3),
  modelSize: z.enum(MODEL_SIZES, { error: `--model-size must be one of ${MODEL_SIZES.join(', ')}` }).default('8b'),
  gpu: z.enum(GPUS, { error: `--gpu must be one of ${GPUS.join(', ')}` }).default('h100'),
  pricePerGpuHour: amount('--price-per-gpu-hour').optional(),
  ttftSloMs: amount('--ttft-slo-ms').default(500),
  subscribersPerTurn: count('--subscribers-per-turn').default(1),
}).strict();
export type PlanInput = z.infer<typeof PlanInput>;

export type Component = { name: string; load: number; limit: number | null; unit: string; saturatesAtDau: number | null; note: string };

export function plan(input: PlanInput, measured: Measured) {
  const { dau, tokensIn, tokensOut } = input;
  const gpuFigures = GPU_TABLE[input.modelSize][input.gpu];
  if (!gpuFigures) throw new Error(`a ${input.modelSize} model is not sized for ${input.gpu} GPUs (it does not fit with room for a KV cache): choose --gpu ${Object.keys(GPU_TABLE[input.modelSize]).join(' or ')}`);

  // Requests.
  const turnsPerDay = dau * input.messagesPerUser;
  const meanTurnsPerSec = turnsPerDay / 86_400;
  const peakTurnsPerSec = meanTurnsPerSec * input.peakFactor;

  // Tokens and GPUs: prefill and decode share a GPU, so their fractions of it add up.
  const promptTokPerSec = peakTurnsPerSec * tokensIn;
  const outputTokPerSec = peakTurnsPerSec * tokensOut;
  const gpuBusy = promptTokPerSec / gpuFigures.prefillTokPerSecPerGpu + outputTokPerSec / gpuFigures.decodeTokPerSecPerGpu;
  const replicas = Math.max(1, Math.ceil(gpuBusy / GPU_TARGET_UTILISATION / gpuFigures.gpusPerReplica));
  const gpus = replicas * gpuFigures.gpusPerReplica;
  const prefillMs = (tokensIn / (gpuFigures.prefillTokPerSecPerGpu * gpuFigures.gpusPerReplica)) * 1000;

  // Parley's own processes, one Deployment per role (deploy/k8s), each from its CPU per turn
  // measured with one process per role; PostgreSQL from the whole embedded tree (its background
  // processes included), both measured on the real pipeline. The api and the worker scale out.
  // The saga and each projection are checkpointed consumers: one process at a time holds the
  // checkpoint's row lock (eventstore/postgres/checkpoints.ts) and the other replica waits as a hot
  // standby — so they do not scale out: each runs on ONE Node process, about one core.
  const roles = Object.fromEntries(ROLE_NAMES.map((role) => {
    const cpuMsPerTurn = measured.roleCpuMsPerTurn[role];
    const cores = (peakTurnsPerSec * cpuMsPerTurn) / 1000;
    const scalesOut = SCALES_OUT.includes(role);
    // One active process + one standby, as the manifests run them (replicas: 2, 1 CPU each).
    const vcpus = scalesOut ? Math.max(1, Math.ceil(cores / CPU_TARGET_UTILISATION)) : 2;
    return [role, { cpuMsPerTurn, cores, vcpus, scalesOut }];
  })) as Record<RoleName, { cpuMsPerTurn: number; cores: number; vcpus: number; scalesOut: boolean }>;
  const parleyCores = ROLE_NAMES.reduce((sum, role) => sum + roles[role].cores, 0);
  const parleyVcpus = ROLE_NAMES.reduce((sum, role) => sum + roles[role].vcpus, 0);
  const postgresCores = (peakTurnsPerSec * measured.postgresCpuMsPerTurn) / 1000;
  const postgresVcpus = Math.max(1, Math.ceil(postgresCores / CPU_TARGET_UTILISATION));
  const eventsPerTurn = measured.eventsPerTurnFixed + measured.eventsPerOutputToken * tokensOut;
  const eventBytesPerTurn = measured.eventBytesPerTurnFixed + measured.eventBytesPerOutputToken * tokensOut;
  const storedBytesPerTurn = eventBytesPerTurn * measured.storedBytesPerEventByte;
  const storageGBPerDay = (turnsPerDay * storedBytesPerTurn) / 1e9;

  // Redis: the worker publishes every sampled token (and one end marker) on the generation's
  // channel; each subscribed API process receives it.
  const redisPublishesPerSec = peakTurnsPerSec * (tokensOut + 1);
  const redisMessagesPerSec = redisPublishesPerSec * (1 + input.subscribersPerTurn);

  const gpuPrice = input.pricePerGpuHour ?? GPU_PRICE_PER_HOUR[input.gpu];
  const cost = {
    gpus: gpus * gpuPrice * HOURS_PER_MONTH,
    cpu: (parleyVcpus + postgresVcpus) * VCPU_PRICE_PER_HOUR * HOURS_PER_MONTH,
    storage: storageGBPerDay * 30 * STORAGE_PRICE_PER_GB_MONTH, // the first month's growth; it adds up month after month
  };

  // What stops scaling: GPUs and Parley's processes scale out (more pods); one PostgreSQL primary
  // and one Redis do not. Each load grows linearly with DAU, so its ceiling is reached at limit/load × DAU.
  const ceiling = (load: number, limit: number) => Math.floor((limit / load) * dau);
  const components: Component[] = [
    { name: 'GPUs', load: gpus, limit: null, unit: 'GPUs', saturatesAtDau: null, note: 'scales out: add replicas' },
    { name: 'Parley api and worker processes', load: roles.api.vcpus + roles.worker.vcpus, limit: null, unit: 'vCPU', saturatesAtDau: null, note: 'scales out: add pods' },
    { name: 'Parley saga (one active process)', load: roles.saga.cores, limit: 1, unit: 'cores busy', saturatesAtDau: ceiling(roles.saga.cores, CPU_TARGET_UTILISATION), note: `one checkpointed consumer, one Node process; ceiling 1 core at ${CPU_TARGET_UTILISATION * 100} % busy` },
    { name: 'Parley projector (one active process per read model)', load: roles.projector.cores, limit: 1, unit: 'cores busy', saturatesAtDau: ceiling(roles.projector.cores, CPU_TARGET_UTILISATION), note: `each read model is one checkpointed consumer; taken as all in one process (1 core at ${CPU_TARGET_UTILISATION * 100} % busy): spread over replicas, up to one core per read model` },
    { name: 'PostgreSQL primary', load: postgresCores, limit: PG_MAX_VCPU, unit: 'vCPU busy', saturatesAtDau: ceiling(postgresCores, PG_MAX_VCPU * CPU_TARGET_UTILISATION), note: `one writer; ceiling ${PG_MAX_VCPU} vCPU at ${CPU_TARGET_UTILISATION * 100} % busy` },
    { name: 'Redis (token fan-out)', load: redisMessagesPerSec, limit: REDIS_MESSAGES_PER_SEC, unit: 'messages/s', saturatesAtDau: ceiling(redisMessagesPerSec, REDIS_MESSAGES_PER_SEC), note: 'one single-threaded instance; sharded pub/sub lifts it' },
  ];
  const bounded = components.filter((c) => c.saturatesAtDau !== null).sort((a, b) => a.saturatesAtDau! - b.saturatesAtDau!);
  const first = bounded[0];

  return {
    input: { ...input, pricePerGpuHour: gpuPrice },
    requests: { turnsPerDay, meanTurnsPerSec, peakTurnsPerSec },
    tokens: { promptTokPerSec, outputTokPerSec },
    gpu: { ...gpuFigures, busyGpus: gpuBusy, replicas, gpus, prefillMsPerPrompt: prefillMs, ttftSloMs: input.ttftSloMs, prefillWithinSlo: prefillMs <= input.ttftSloMs / 2 },
    parley: { roles, cpuMsPerTurn: ROLE_NAMES.reduce((sum, role) => sum + roles[role].cpuMsPerTurn, 0), embeddedCpuMsPerTurn: measured.nodeCpuMsPerTurn, cores: parleyCores, vcpus: parleyVcpus },
    postgres: {
      cpuMsPerTurn: measured.postgresCpuMsPerTurn, cores: postgresCores, vcpus: postgresVcpus,
      statementsPerSec: peakTurnsPerSec * measured.statementsPerTurn,
      eventsPerTurn, eventsPerSec: peakTurnsPerSec * eventsPerTurn, storedBytesPerTurn, storageGBPerDay,
    },
    redis: { publishesPerSec: redisPublishesPerSec, messagesPerSec: redisMessagesPerSec },
    costPerMonth: { ...cost, total: cost.gpus + cost.cpu + cost.storage },
    components,
    firstToSaturate: first ? { name: first.name, atDau: first.saturatesAtDau!, alreadySaturated: first.saturatesAtDau! < dau } : null,
    measuredFrom: measured.source,
    measuredAtTokens: measured.measuredAtTokens,
  };
}
export type Plan = ReturnType<typeof plan>;
