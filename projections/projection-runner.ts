import type { Knex } from 'knex';
import { readCheckpoint } from '../eventstore/postgres/checkpoints.ts';
import { CheckpointWatcher } from '../eventstore/postgres/checkpoint-watcher.ts';
import { CheckpointedConsumer, type WakeSource } from '../eventstore/postgres/checkpointed-consumer.ts';
import type { EventStore, Position } from '../eventstore/port.ts';
import { applyContextOf, liveNames, type Projection } from './projection.ts';

export type RunnerOptions = {
  knex: Knex;
  store: EventStore & WakeSource;
  projections: Projection[];
  batchSize?: number;
  onError?: (projection: string, error: unknown) => void;
};

// Keeps every projection caught up, each as its own checkpointed consumer.
export class ProjectionRunner {
  private readonly consumers: Map<string, CheckpointedConsumer>;

  constructor(options: RunnerOptions) {
    const context = applyContextOf(options.store);
    this.consumers = new Map(
      options.projections.map((p) => [
        p.name,
        new CheckpointedConsumer(
          options.knex,
          options.store,
          { name: p.name, types: p.types, handle: (trx, events) => p.apply(trx, events, liveNames(p), context) },
          { batchSize: options.batchSize, onError: options.onError },
        ),
      ]),
    );
  }

  start(): void {
    for (const c of this.consumers.values()) c.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((c) => c.stop()));
  }

  // Applies one batch of one projection; returns how many events it read (0 = caught up).
  step(projection: Projection): Promise<number> {
    return this.consumers.get(projection.name)!.step();
  }
}

const watchers = new WeakMap<Knex, CheckpointWatcher>();

// Resolves true once `projectionName` has applied everything up to `position` (read-your-writes).
export function waitForProjection(knex: Knex, projectionName: string, position: Position, timeoutMs = 5000): Promise<boolean> {
  let watcher = watchers.get(knex);
  if (!watcher) watchers.set(knex, (watcher = new CheckpointWatcher(knex)));
  return watcher.wait(projectionName, position, timeoutMs);
}

// Events and seconds behind the head of the log, for /metrics and /readyz.
export async function projectionLag(knex: Knex, name: string): Promise<{ events: number; seconds: number }> {
  const cp = await readCheckpoint(knex, name);
  const [xid, seq] = cp.split('/');
  const { rows } = await knex.raw(
    `select count(*)::int as events, coalesce(extract(epoch from now() - min(recorded_at)), 0)::float as seconds
       from parley_events where (transaction_id, position) > (?::xid8, ?::bigint)`,
    [xid, seq],
  );
  return { events: rows[0].events, seconds: rows[0].seconds };
}
