import { Redis } from 'ioredis';

// Load shedding and brownout. Two watermarks on each signal — the queue depth (turns waiting:
// messages the saga has not turned into requests yet and jobs no worker has claimed, both read
// from PostgreSQL, plus requests waiting inside the engines, whose workers may claim ahead of free
// slots) and the engines' KV cache usage:
//   level 1 (brownout): new requests get max_tokens capped; GenerationRequested records brownout=true;
//   level 2 (shed):     the lowest tier is refused (503 + Retry-After); higher tiers are admitted, browned out.

export type SheddingConfig = {
  brownoutQueueDepth: number;
  shedQueueDepth: number;
  brownoutKvUsage: number;
  shedKvUsage: number;
  brownoutMaxTokens: number;
  retryAfterS: number;
};

export type LoadSnapshot = { queueDepth: number; kvUsage: number; engines: number };
export type LoadLevel = 0 | 1 | 2;

export function loadLevel(load: LoadSnapshot, c: SheddingConfig): LoadLevel {
  if (load.queueDepth >= c.shedQueueDepth || load.kvUsage >= c.shedKvUsage) return 2;
  if (load.queueDepth >= c.brownoutQueueDepth || load.kvUsage >= c.brownoutKvUsage) return 1;
  return 0;
}

type EngineLike = { stats(): { kvUsage: number; waiting: number } };
type JobsLike = { depth(): Promise<{ queued: number; running: number }> };

const ENGINES_KEY = 'parley:load:engines';
const STALE_MS = 5000;

// A cached view of the load (refreshed at most every `ttlMs`, so a burst of requests costs one query).
// KV usage: this process's engine, and with Redis every worker's published usage (the highest counts).
export class LoadMonitor {
  private cached: { at: number; load: LoadSnapshot } | null = null;
  private pending: Promise<LoadSnapshot> | null = null;

  constructor(private readonly o: { jobs: JobsLike; engine?: EngineLike | null; redis?: Redis | null; ttlMs?: number; sagaBacklog?: () => Promise<number>; localWorkerId?: string | null }) {}

  async snapshot(): Promise<LoadSnapshot> {
    if (this.cached && Date.now() - this.cached.at < (this.o.ttlMs ?? 250)) return this.cached.load;
    this.pending ??= this.read().then((load) => {
      this.cached = { at: Date.now(), load };
      return load;
    }).finally(() => (this.pending = null));
    return this.pending;
  }

  private async read(): Promise<LoadSnapshot> {
    // Under a burst the saga, not the engine, is often where turns wait: both count.
    const [depth, backlog] = await Promise.all([this.o.jobs.depth(), this.o.sagaBacklog?.().catch(() => 0) ?? 0]);
    const engines: { kvUsage: number; waiting: number }[] = [];
    if (this.o.engine) engines.push(this.o.engine.stats());
    if (this.o.redis) {
      const all = await this.o.redis.hgetall(ENGINES_KEY).catch(() => ({} as Record<string, string>));
      for (const [id, v] of Object.entries(all)) {
        if (id === this.o.localWorkerId) continue; // already counted
        const e = JSON.parse(v) as { kvUsage: number; waiting?: number; at: number };
        if (Date.now() - e.at < STALE_MS) engines.push({ kvUsage: e.kvUsage, waiting: e.waiting ?? 0 });
      }
    }
    const waiting = engines.reduce((n, e) => n + e.waiting, 0);
    return { queueDepth: depth.queued + backlog + waiting, kvUsage: engines.length ? Math.max(...engines.map((e) => e.kvUsage)) : 0, engines: engines.length };
  }
}

// Worker processes publish their engine's KV usage and waiting requests to Redis every second, for the API processes' watermarks.
export class EngineLoadPublisher {
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly redis: Redis, private readonly workerId: string, engine: EngineLike, everyMs = 1000) {
    const publish = () => {
      const { kvUsage, waiting } = engine.stats();
      void redis.hset(ENGINES_KEY, workerId, JSON.stringify({ kvUsage, waiting, at: Date.now() })).catch(() => undefined);
    };
    publish();
    this.timer = setInterval(publish, everyMs);
    this.timer.unref();
  }
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(ENGINES_KEY, this.workerId).catch(() => undefined);
  }
}
