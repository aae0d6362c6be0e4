import type { Kafka, Message, Producer, ProducerConfig, RecordMetadata, TopicMessages } from 'kafkajs';
import type { EventStore, Position } from '../../eventstore/port.ts';
import { ErasureIndex, present, type WireEvent } from '../privacy.ts';
import type { RelayCheckpoints } from './checkpoints.ts';
import { topicFor, type TopicMapping } from './topics.ts';

// The relay's producer: idempotent (the broker drops a retried batch it already wrote), one request
// in flight per broker (so a retry can never overtake: order within a partition holds).
export const RELAY_PRODUCER_CONFIG: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 30_000 },
};

export function createRelayProducer(kafka: Pick<Kafka, 'producer'>, overrides: Partial<ProducerConfig> = {}): Producer {
  return kafka.producer({ ...RELAY_PRODUCER_CONFIG, ...overrides, idempotent: true, maxInFlightRequests: 1 });
}

// The source the relay reads: any EventStore; the wake-up is used when the store offers it.
export type RelaySource = Pick<EventStore, 'readAll' | 'readStream' | 'headPosition'> & {
  readonly appendVersion?: number;
  waitForAppend?(seen: number, signal?: AbortSignal): Promise<void>;
};

export type KafkaRelayOptions = {
  name: string;
  store: RelaySource;
  producer: Producer;
  checkpoints: RelayCheckpoints;
  topics: TopicMapping;
  // Events per produce request (one sendBatch over all topics).
  batchSize?: number;
  // false: message/token text is withheld for everyone (metadata only).
  includeContent?: boolean;
  // How long the broker may take to acknowledge (acks = -1: every in-sync replica).
  ackTimeoutMs?: number;
  retry?: { initialMs?: number; maxMs?: number };
  pollMs?: number;
  erasures?: ErasureIndex;
  onError?: (error: unknown, context: { stage: 'read' | 'produce' | 'checkpoint'; attempt: number }) => void;
  onDelivered?: (info: { events: number; position: Position }) => void;
};

export const HEADER = {
  eventId: 'event-id',
  type: 'event-type',
  schemaVersion: 'schema-version',
  schemaId: 'schema-id',
  position: 'position',
  revision: 'stream-revision',
  contentType: 'content-type',
} as const;

// One Kafka record per event: key = stream id, value = the event as replay emits it.
export function toKafkaMessage(event: WireEvent): Message {
  return {
    key: event.streamId,
    value: JSON.stringify(event),
    timestamp: String(Date.parse(event.recordedAt)),
    headers: {
      [HEADER.eventId]: event.eventId,
      [HEADER.type]: event.type,
      [HEADER.schemaVersion]: String(event.version),
      [HEADER.schemaId]: event.schemaId,
      [HEADER.position]: event.position,
      [HEADER.revision]: String(event.revision),
      [HEADER.contentType]: 'application/json',
    },
  };
}

export class BrokerRejectedError extends Error {}

// A checkpointed subscriber that produces every event of the log to Kafka, at least once.
// The order of things for each batch: read after the checkpoint → produce with acks = -1 → the
// broker acknowledges → save the checkpoint. A crash anywhere before the save re-sends the batch
// on restart (consumers dedupe by the event-id header); nothing after the checkpoint is skipped.
export class KafkaRelay {
  private readonly controller = new AbortController();
  private loop: Promise<void> | null = null;
  private cursor: Position | null = null;
  private readonly erasures: ErasureIndex;
  private readonly batchSize: number;
  private relayed = 0;

  constructor(private readonly options: KafkaRelayOptions) {
    this.erasures = options.erasures ?? new ErasureIndex(options.store);
    this.batchSize = options.batchSize ?? 500;
  }

  get position(): Position | null {
    return this.cursor;
  }

  get eventsRelayed(): number {
    return this.relayed;
  }

  start(): void {
    this.loop ??= this.run();
  }

  // Finishes the batch in flight (produce and checkpoint, if the broker answers), then stops.
  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
  }

  // Resolves when the relay stopped (stop(), or a fatal error: it rejects with it).
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    this.cursor = await this.options.checkpoints.load(this.options.name);
    while (!signal.aborted) {
      const seen = this.options.store.appendVersion ?? 0;
      const batch = await this.retry('read', () => this.readBatch());
      if (!batch) return;
      if (batch.length === 0) {
        await this.waitForAppend(seen, signal);
        continue;
      }
      if (!(await this.deliver(batch))) return;
    }
  }

  // Reads the next batch and renders it (privacy applied) — nothing is sent yet.
  async readBatch(): Promise<WireEvent[]> {
    const events = await this.options.store.readAll({ from: this.cursor ?? undefined, limit: this.batchSize });
    return present(this.erasures, events, { includeContent: this.options.includeContent ?? true });
  }

  // Produces one batch until the broker acknowledges it, then moves the checkpoint past it.
  // Returns false when stopped before the batch was checkpointed (it will be sent again).
  private async deliver(batch: WireEvent[]): Promise<boolean> {
    const last = batch[batch.length - 1]!.position;
    const topicMessages = groupByTopic(batch, this.options.topics);
    const acked = await this.retry('produce', async () => {
      const results = await this.options.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.ackTimeoutMs ?? 30_000 });
      checkAcks(results);
      return true;
    });
    if (!acked) return false;
    // Acknowledged: from here on only the checkpoint is retried, never the send.
    const saved = await this.retry('checkpoint', async () => {
      await this.options.checkpoints.save(this.options.name, last, batch.length);
      return true;
    }, { evenWhenStopping: true });
    if (!saved) return false;
    this.cursor = last;
    this.relayed += batch.length;
    this.options.onDelivered?.({ events: batch.length, position: last });
    return true;
  }

  // Runs `step` until it succeeds, backing off between failures; null when stopped first.
  // An attempt already running is always awaited: a send is never abandoned half-way.
  private async retry<T>(stage: 'read' | 'produce' | 'checkpoint', step: () => Promise<T>, opts: { evenWhenStopping?: boolean } = {}): Promise<T | null> {
    const signal = this.controller.signal;
    const initial = this.options.retry?.initialMs ?? 200;
    const max = this.options.retry?.maxMs ?? 30_000;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted && !opts.evenWhenStopping) return null;
      try {
        return await step();
      } catch (error) {
        this.options.onError?.(error, { stage, attempt });
        // Stopping while the checkpoint cannot be saved: give up; the batch is re-sent on restart.
        if (signal.aborted && (opts.evenWhenStopping ? attempt >= 3 : true)) return null;
        await sleep(Math.min(max, initial * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2), opts.evenWhenStopping ? undefined : signal);
      }
    }
  }

  private async waitForAppend(seen: number, signal: AbortSignal): Promise<void> {
    if (this.options.store.waitForAppend) return this.options.store.waitForAppend(seen, signal);
    await sleep(this.options.pollMs ?? 500, signal);
  }
}

function groupByTopic(batch: WireEvent[], topics: TopicMapping): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const event of batch) {
    const topic = topicFor(topics, event.streamId);
    let messages = byTopic.get(topic);
    if (!messages) byTopic.set(topic, (messages = []));
    messages.push(toKafkaMessage(event));
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

// kafkajs throws on failed produce requests; a non-zero error code in the metadata is treated the same.
function checkAcks(results: RecordMetadata[]): void {
  const failed = results.filter((r) => r.errorCode !== 0);
  if (failed.length > 0) {
    throw new BrokerRejectedError(`broker rejected ${failed.map((r) => `${r.topicName}[${r.partition}] (error ${r.errorCode})`).join(', ')}`);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
