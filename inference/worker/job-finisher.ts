import type { JobQueue } from './job-queue.ts';

// A worker's job endings, grouped like its appends (batch-appender.ts): the generations that end in
// the same turn of the event loop, or while an update is in flight, are ended in ONE statement
// (JobQueue.finishMany) instead of one round trip each. Each caller still learns whether its
// attempt owned the job.
type Pending = { generationId: string; attempt: number; status: 'done' | 'failed' | 'cancelled'; resolve: (owned: boolean) => void; reject: (e: unknown) => void };

export class JobFinisher {
  private pending: Pending[] = [];
  private running = false;

  constructor(private readonly jobs: Pick<JobQueue, 'finishMany'>, private readonly workerId: string) {}

  finish(generationId: string, attempt: number, status: Pending['status']): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ generationId, attempt, status, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending.length > 0) {
        await new Promise((r) => setImmediate(r)); // let the generations ending in this step join
        const batch = this.pending;
        this.pending = [];
        try {
          const ended = await this.jobs.finishMany(this.workerId, batch);
          for (const p of batch) p.resolve(ended.has(p.generationId));
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
