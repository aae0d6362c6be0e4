import type { Knex } from 'knex';
import type { EventStore, Position, RecordedEvent } from '../port.ts';
import type { EventType } from '../../schemas/events.ts';
import { lockCheckpoint, readCheckpoint, saveCheckpoint } from './checkpoints.ts';

export type WakeSource = { readonly appendVersion: number; waitForAppend(seen: number, signal?: AbortSignal): Promise<void> };

export type Consumer = {
  name: string;
  types: readonly EventType[];
  // Optional slow or external work (safety checks, appending events), done BEFORE the checkpoint
  // transaction so that transaction stays short; it must be idempotent, as a crash repeats it.
  prepare?(events: RecordedEvent[]): Promise<void>;
  // Runs inside the transaction that advances the checkpoint: its database writes commit with it.
  handle(trx: Knex.Transaction, events: RecordedEvent[]): Promise<void>;
};

// A checkpointed subscriber: each batch is handled and the checkpoint advanced in ONE transaction
// holding the checkpoint row lock, so a crash replays a batch (never half of one) and two processes
// never handle the same batch. Used by projections and by the inference saga.
export class CheckpointedConsumer {
  private controller = new AbortController();
  private running: Promise<void> | null = null;
  // The checkpoint this process last saved; re-read from the table after a conflict or an error.
  private position: Position | null = null;

  constructor(
    private readonly knex: Knex,
    private readonly store: EventStore & WakeSource,
    readonly consumer: Consumer,
    private readonly options: { batchSize?: number; onError?: (name: string, error: unknown) => void } = {},
  ) {}

  start(): void {
    if (this.running && !this.controller.signal.aborted) return;
    this.controller = new AbortController();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  // Handles one batch; returns how many events it read (0 = caught up).
  // The batch is read outside any transaction: a transaction with an xid held open while reading
  // would itself hold back every reader's fence. The checkpoint transaction then re-checks that no
  // other process advanced the checkpoint meanwhile, and applies the batch only if so.
  async step(): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    const from = this.position ?? (await readCheckpoint(this.knex, this.consumer.name));
    this.position = null;
    const events = await this.store.readAll({ from, limit: batchSize });
    if (events.length === 0) {
      this.position = from;
      return 0;
    }
    const relevant = events.filter((e) => this.consumer.types.includes(e.type));
    if (relevant.length > 0) await this.consumer.prepare?.(relevant);
    const last = events[events.length - 1]!.position;
    const read = await this.knex.transaction(async (trx) => {
      if ((await lockCheckpoint(trx, this.consumer.name)) !== from) return null; // another process took it
      if (relevant.length > 0) await this.consumer.handle(trx, relevant);
      await saveCheckpoint(trx, this.consumer.name, last, relevant.length);
      return events.length;
    });
    if (read === null) return batchSize; // go again from the table's checkpoint
    this.position = last;
    return read;
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    const batchSize = this.options.batchSize ?? 500;
    let failures = 0;
    let woken = false;
    while (!signal.aborted) {
      const seen = this.store.appendVersion;
      try {
        const read = await this.step();
        failures = 0;
        if (read >= batchSize) continue;
        // Woken by an append but nothing readable yet: the event sits behind a transaction that is
        // still open (the xid fence). Look again shortly rather than at the next poll.
        if (read === 0 && woken) {
          woken = false;
          for (const ms of [5, 15, 40, 100]) {
            await new Promise((r) => setTimeout(r, ms));
            if (signal.aborted || (await this.step()) > 0) break;
          }
          continue;
        }
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError?.(this.consumer.name, error);
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** failures)));
        continue;
      }
      await this.store.waitForAppend(seen, signal);
      woken = this.store.appendVersion !== seen;
    }
  }
}
