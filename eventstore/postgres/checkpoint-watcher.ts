import type { Knex } from 'knex';
import { comparePositions, START, type Position } from '../port.ts';
import { CHECKPOINTS } from './checkpoints.ts';

type Waiter = { name: string; position: Position; deadline: number; resolve: (reached: boolean) => void };

// Read-your-writes waits, many at a time, served by ONE polling loop per database: under a burst
// every mutation used to poll the checkpoint table on its own every 10 ms, which was a quarter of
// all queries. Reads only the checkpoint table, so it works in a process that runs no consumers.
export class CheckpointWatcher {
  private readonly waiters = new Set<Waiter>();
  private polling = false;

  constructor(private readonly knex: Knex, private readonly intervalMs = 10) {}

  wait(name: string, position: Position, timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.add({ name, position, deadline: Date.now() + timeoutMs, resolve });
      if (!this.polling) void this.poll();
    });
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      while (this.waiters.size > 0) {
        const names = [...new Set([...this.waiters].map((w) => w.name))];
        const positions = new Map<string, Position>();
        try {
          const rows: { name: string; position: Position }[] = await this.knex(CHECKPOINTS).whereIn('name', names).select('name', 'position');
          for (const r of rows) positions.set(r.name, r.position);
        } catch {
          // A failed read is retried at the next tick; waiters still time out at their deadline.
        }
        const now = Date.now();
        for (const w of this.waiters) {
          const reached = comparePositions(positions.get(w.name) ?? START, w.position) >= 0;
          if (reached || now > w.deadline) {
            this.waiters.delete(w);
            w.resolve(reached);
          }
        }
        if (this.waiters.size > 0) await new Promise((r) => setTimeout(r, this.intervalMs));
      }
    } finally {
      this.polling = false;
    }
  }
}
