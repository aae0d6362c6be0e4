import type { CommandHandler } from '../../commands/command-handler.ts';
import { recordedEvents, type CommandResult } from '../../commands/command-result.ts';
import type { RecordedEvent } from '../../eventstore/port.ts';

// A worker's appends, grouped: every running generation hands over its commands (a chunk of tokens,
// or its last chunk + output check + end) with its own copy of its stream, and awaits its result.
// What is handed over while an append is in flight, or in the same turn of the event loop, goes out
// together in ONE executeMany (one appendMany: one round trip, atomic per call) — so a worker with
// many running generations appends them all per tick instead of one round trip each, and the 16
// tokens / 100 ms flush rule of each generation is unchanged.
//
// A copy of a stream lets the decider run without reading it; the generation's own appends keep it
// current (recordedEvents). A stale copy (a cancel, another attempt) costs a conflict and a read,
// after which the decider refuses what no longer applies.
export type GenerationStream = { streamId: string; history: RecordedEvent[] | null }; // null: not known, read it

type Pending = { stream: GenerationStream; group: unknown[]; resolve: (r: CommandResult) => void; reject: (e: unknown) => void };

export class BatchAppender {
  private pending: Pending[] = [];
  private running = false;
  // Calls and how many groups they carried, for tests and metrics.
  calls = 0;
  groups = 0;

  constructor(private readonly commands: Pick<CommandHandler, 'executeMany'>) {}

  append(stream: GenerationStream, group: unknown[]): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ stream, group, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        // Let the generations whose tokens arrived in the same engine step join this call.
        await new Promise((r) => setImmediate(r));
        // One group per stream per call (a generation awaits its append before its next one).
        const batch: Pending[] = [];
        const seen = new Set<string>();
        this.pending = this.pending.filter((p) => {
          if (seen.has(p.stream.streamId)) return true;
          seen.add(p.stream.streamId);
          batch.push(p);
          return false;
        });
        this.calls++;
        this.groups += batch.length;
        try {
          const known = new Map<string, RecordedEvent[]>();
          for (const p of batch) if (p.stream.history) known.set(p.stream.streamId, p.stream.history);
          const results = await this.commands.executeMany(batch.map((p) => p.group), { known });
          for (const [i, p] of batch.entries()) {
            const r = results[i]!;
            const appended = r.ok && !r.duplicate ? recordedEvents(r) : [];
            // Our copy stays exact only if these events follow it directly; else read next time.
            if (p.stream.history && appended.length > 0 && appended[0]!.revision === p.stream.history.length) p.stream.history.push(...appended);
            else p.stream.history = null;
            p.resolve(r);
          }
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
