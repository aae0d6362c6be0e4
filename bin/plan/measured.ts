// Parley's own cost per turn, read from its benchmark results (never typed in by hand):
//   bench/results/pipeline.json        — CPU ms per turn of the whole server tree (node + PostgreSQL)
//                                        and statements per turn (`npm run bench:pipeline`);
//   bench/results/event-footprint.json — events and bytes a turn writes (`npm run bench event-footprint`);
//   bench/results/roles.json           — CPU ms per turn of each role in the scaled deployment, one
//                                        process per role (`npm run bench:roles`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/results');

const Level = z.object({
  users: z.number(), turns: z.number(), cpuMsPerTurn: z.number(), nodeCpuMsPerTurn: z.number(),
  postgresCpuMsPerTurn: z.number(), queriesPerTurn: z.number(), meanCompletionTokens: z.number(),
});
const Pipeline = z.object({
  generatedAt: z.string(),
  runs: z.array(z.object({ label: z.string(), model: z.string(), commit: z.string(), levels: z.array(Level) })),
});
const Footprint = z.object({
  generatedAt: z.string(), commit: z.string(),
  fit: z.object({ eventBytesPerTurnFixed: z.number(), eventBytesPerOutputToken: z.number(), storedBytesPerEventByte: z.number(), eventsPerTurnFixed: z.number(), eventsPerOutputToken: z.number() }),
});

const RoleCpu = z.object({ api: z.number(), saga: z.number(), projector: z.number(), worker: z.number(), postgres: z.number() });
const Roles = z.object({
  generatedAt: z.string(), commit: z.string(), model: z.string(),
  levels: z.array(z.object({ users: z.number(), cpuMsPerTurn: RoleCpu })),
});
export const ROLE_NAMES = ['api', 'saga', 'projector', 'worker'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export type Measured = {
  /** CPU ms per turn of each role's process in the scaled deployment (the worker's without the model). */
  roleCpuMsPerTurn: Record<RoleName, number>;
  source: string;
  nodeCpuMsPerTurn: number; postgresCpuMsPerTurn: number; statementsPerTurn: number; measuredAtTokens: number;
  eventsPerTurnFixed: number; eventsPerOutputToken: number;
  eventBytesPerTurnFixed: number; eventBytesPerOutputToken: number; storedBytesPerEventByte: number;
};

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const full = path.join(RESULTS, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${full} (${(error as Error).message}): run the benchmark that writes it first`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`${full} is not in the expected shape: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

// The `now` run with the null model (the pipeline's own cost, no model compute: GPUs are sized
// separately) at its busiest level (most users: batches shared as in production).
export function loadMeasured(): Measured {
  const pipeline = readJson('pipeline.json', Pipeline);
  const run = pipeline.runs.find((r) => r.label === 'now' && r.model === 'null');
  if (!run || run.levels.length === 0) throw new Error('bench/results/pipeline.json has no `now` run with the null model: run npm run bench:pipeline');
  const level = run.levels.reduce((a, b) => (b.users > a.users ? b : a));
  const footprint = readJson('event-footprint.json', Footprint);
  const roles = readJson('roles.json', Roles);
  if (roles.levels.length === 0) throw new Error('bench/results/roles.json has no levels: run npm run bench:roles');
  const rolesLevel = roles.levels.reduce((a, b) => (b.users > a.users ? b : a));
  return {
    source: `bench/results/pipeline.json (run "now", null model, commit ${run.commit}, ${level.users} users, ${pipeline.generatedAt}); `
      + `bench/results/roles.json (${roles.model} model, commit ${roles.commit}, ${rolesLevel.users} users, ${roles.generatedAt}); `
      + `bench/results/event-footprint.json (commit ${footprint.commit}, ${footprint.generatedAt})`,
    roleCpuMsPerTurn: { api: rolesLevel.cpuMsPerTurn.api, saga: rolesLevel.cpuMsPerTurn.saga, projector: rolesLevel.cpuMsPerTurn.projector, worker: rolesLevel.cpuMsPerTurn.worker },
    nodeCpuMsPerTurn: level.nodeCpuMsPerTurn,
    // The embedded tree counts PostgreSQL's background processes, the scaled run counts its backends
    // under the scaled deployment's (heavier) pattern: each misses something, so the larger one.
    postgresCpuMsPerTurn: Math.max(level.postgresCpuMsPerTurn, rolesLevel.cpuMsPerTurn.postgres),
    statementsPerTurn: level.queriesPerTurn,
    measuredAtTokens: level.meanCompletionTokens,
    ...footprint.fit,
  };
}
