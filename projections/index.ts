import type { Knex } from 'knex';
import { auditProjection } from './audit-projection.ts';
import { ensureCheckpointTable } from '../eventstore/postgres/checkpoints.ts';
import { historyProjection } from './history-projection.ts';
import { liveNames, type Projection } from './projection.ts';
import { rlhfProjection } from './rlhf-projection.ts';
import { usageProjection } from './usage-projection.ts';

export const projections: Projection[] = [historyProjection, auditProjection, rlhfProjection, usageProjection] as Projection[];

export function projectionByName(name: string): Projection | undefined {
  return projections.find((p) => p.name === name);
}

// Read models are disposable: created if missing, rebuilt from the log when their shape changes.
export async function setupProjections(knex: Knex): Promise<void> {
  await ensureCheckpointTable(knex);
  for (const p of projections) await p.createTables(knex, liveNames(p));
}

export { ProjectionRunner, projectionLag, waitForProjection } from './projection-runner.ts';
export { rebuildProjection } from './rebuild.ts';
