import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

// One sampled token (or the end) of a generation, published live. Durable chunks are events.
export type LiveToken = {
  generationId: string;
  attempt: number;
  index: number;
  delta: string;
  sampledAt: number; // epoch ms, for delivery-latency measurement
  // position: the terminal event's, when the publisher appended it (read-your-writes without a read).
  done?: { finishReason: string; usage: { promptTokens: number; completionTokens: number } | null; category?: string; error?: string; position?: string };
};

export interface TokenBus {
  publish(token: LiveToken): void;
  subscribe(generationId: string, onToken: (token: LiveToken) => void): () => void;
  close(): Promise<void>;
}

// Embedded default: everything is in one process.
export class InProcessTokenBus implements TokenBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  publish(token: LiveToken) {
    this.emitter.emit(token.generationId, token);
  }
  subscribe(generationId: string, onToken: (token: LiveToken) => void) {
    this.emitter.on(generationId, onToken);
    return () => void this.emitter.off(generationId, onToken);
  }
  async close() {
    this.emitter.removeAllListeners();
  }
}

// Scaled: workers publish to Redis channels; API processes subscribe to the generations they stream.
export class RedisTokenBus implements TokenBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly local = new InProcessTokenBus();
  private readonly counts = new Map<string, number>();

  constructor(url: string) {
    this.pub = new Redis(url, { maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, { maxRetriesPerRequest: 2 });
    this.sub.on('message', (channel: string, message: string) => {
      this.local.publish(JSON.parse(message) as LiveToken);
      void channel;
    });
  }

  publish(token: LiveToken) {
    // A lost live token is recovered from the durable chunks by the stream, so fire and forget.
    this.pub.publish(`parley:gen:${token.generationId}`, JSON.stringify(token)).catch(() => undefined);
  }

  subscribe(generationId: string, onToken: (token: LiveToken) => void) {
    const n = (this.counts.get(generationId) ?? 0) + 1;
    this.counts.set(generationId, n);
    if (n === 1) this.sub.subscribe(`parley:gen:${generationId}`).catch(() => undefined);
    const off = this.local.subscribe(generationId, onToken);
    return () => {
      off();
      const left = (this.counts.get(generationId) ?? 1) - 1;
      if (left === 0) {
        this.counts.delete(generationId);
        this.sub.unsubscribe(`parley:gen:${generationId}`).catch(() => undefined);
      } else this.counts.set(generationId, left);
    };
  }

  async ready(): Promise<void> {
    await Promise.all([this.pub.ping(), this.sub.ping()]);
  }

  async close() {
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
