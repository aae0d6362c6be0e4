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

// How long the running loop may hold progress over batches with none of its types before saving
// it. Bounds how stale the table's checkpoint (lag metrics, read-your-writes waits on an event the
// consumer ignores) can be; a crash just reads those batches again.
const IDLE_SAVE_MS = 200;

// A checkpointed subscriber: each batch is handled and the checkpoint advanced in ONE transaction
// holding the checkpoint row lock, so a crash replays a batch (never half of one) and two processes
// never handle the same batch. Used by projections and by the inference saga.
// A batch with none of the consumer's types needs no transaction: the running loop only moves its
// in-memory position past it and saves that at most every IDLE_SAVE_MS (and when it falls idle).
// Most consumers care about a few types, so this saves four round trips on most batches.
export class CheckpointedConsumer {
  private controller = new AbortController();
  private running: Promise<void> | null = null;
  // Where the next batch starts; null = re-read from the table (after a conflict or an error).
  private position: Position | null = null;
  // The checkpoint the table holds as far as this process knows: a transaction that finds another
  // value there lost a race with another process and starts over from the table.
  private saved: Position | null = null;
  private savedAt = 0;

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

  // Handles one batch; returns how many events it read (0 = caught up). `lazy` (the running loop)
  // lets a batch with none of the consumer's types skip the transaction; a direct call always saves.
  // The batch is read outside any transaction: a transaction with an xid held open while reading
  // would itself hold back every reader's fence. The checkpoint transaction then re-checks that no
  // other process advanced the checkpoint meanwhile, and applies the batch only if so.
  async step(lazy = false): Promise<number> {
    const batchSize = this.options.batchSize ?? 500;
    const from = this.position ?? (await this.reload());
    this.position = null;
    const events = await this.store.readAll({ from, limit: batchSize });
    if (events.length === 0) {
      this.position = from;
      if (!lazy) await this.savePending();
      return 0;
    }
    const relevant = events.filter((e) => this.consumer.types.includes(e.type));
    const last = events[events.length - 1]!.position;
    if (relevant.length === 0 && lazy && Date.now() - this.savedAt < IDLE_SAVE_MS) {
      this.position = last;
      return events.length;
    }
    if (relevant.length > 0) await this.consumer.prepare?.(relevant);
    const saved = await this.save(last, relevant);
    return saved ? events.length : batchSize; // not saved: go again from the table's checkpoint
  }

  // Saves progress held in memory over batches the consumer had nothing to do with.
  async savePending(): Promise<void> {
    if (this.position !== null && this.position !== this.saved) await this.save(this.position, []);
  }

  private async reload(): Promise<Position> {
    this.saved = await readCheckpoint(this.knex, this.consumer.name);
    return this.saved;
  }

  private async save(to: Position, relevant: RecordedEvent[]): Promise<boolean> {
    const expected = this.saved;
    const ok = await this.knex.transaction(async (trx) => {
      if ((await lockCheckpoint(trx, this.consumer.name)) !== expected) return false; // another process took it
      if (relevant.length > 0) await this.consumer.handle(trx, relevant);
      await saveCheckpoint(trx, this.consumer.name, to, relevant.length);
      return true;
    });
    this.position = ok ? to : null;
    this.saved = ok ? to : null;
    this.savedAt = Date.now();
    return ok;
  }

  // Waits for the next append; with unsaved progress, saves it first if nothing comes within
  // IDLE_SAVE_MS, so an idle consumer's checkpoint is never more than that behind.
  private async waitForAppend(seen: number, signal: AbortSignal): Promise<void> {
    if (this.position !== null && this.position !== this.saved) {
      await this.store.waitForAppend(seen, AbortSignal.any([signal, AbortSignal.timeout(IDLE_SAVE_MS)]));
      if (signal.aborted || this.store.appendVersion !== seen) return;
      await this.savePending().catch((error) => {
        this.position = null; // start over from the table's checkpoint
        this.options.onError?.(this.consumer.name, error);
      });
    }
    await this.store.waitForAppend(seen, signal);
  }

  private async loop(): Promise<void> {
    const signal = this.controller.signal;
    const batchSize = this.options.batchSize ?? 500;
    let failures = 0;
    let woken = false;
    while (!signal.aborted) {
      const seen = this.store.appendVersion;
      try {
        const read = await this.step(true);
        failures = 0;
        if (read >= batchSize) continue;
        // Woken by an append but nothing readable yet: the event sits behind a transaction that is
        // still open (the xid fence). Look again shortly rather than at the next poll.
        if (read === 0 && woken) {
          woken = false;
          for (const ms of [5, 15, 40, 100]) {
            await new Promise((r) => setTimeout(r, ms));
            if (signal.aborted || (await this.step(true)) > 0) break;
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
      await this.waitForAppend(seen, signal);
      woken = this.store.appendVersion !== seen;
    }
  }
}
