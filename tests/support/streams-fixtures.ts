// Events and an in-memory EventStore for the streams/ tests (replay, privacy, Kafka relay).
import { AppendSignal } from '../../eventstore/append-signal.ts';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  comparePositions, ConcurrencyError, START,
  type AppendResult, type EventStore, type EventToAppend, type ExpectedRevision, type Position, type ReadAllOptions,
  type RecordedEvent, type StreamAppend, type SubscribeOptions,
} from '../../eventstore/port.ts';
import { validateAppendMany } from '../../eventstore/validate-append.ts';
import type { Logger, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import type { Actor } from '../../schemas/common.ts';
import type { WireEvent } from '../../streams/privacy.ts';
import { upcast } from '../../schemas/upcasters.ts';
import { metadata } from './events.ts';

export const carol: Actor = { userId: 'carol', tenantId: 't1', roles: ['user'] };
export const dana: Actor = { userId: 'dana', tenantId: 't1', roles: ['user'] };
export const scientist: Actor = { userId: 'sam', tenantId: 't1', roles: ['data_scientist'] };
const worker: Actor = { userId: 'system', tenantId: 't1', roles: ['admin'] };
const params = { temperature: 0, topP: 1, topK: 0, maxTokens: 16, seed: null, stop: [] };

export const ev = {
  started: (conversationId: string, owner: Actor, title: string, systemPrompt: string | null = null): EventToAppend => ({
    type: 'ConversationStarted', version: 1, metadata: metadata(owner),
    data: { conversationId, ownerId: owner.userId, tenantId: owner.tenantId, title, systemPrompt, model: 'parley-tiny', safetySettings: {} },
  }),
  submitted: (conversationId: string, messageId: string, content: string, actor: Actor): EventToAppend => ({
    type: 'MessageSubmitted', version: 2, metadata: metadata(actor),
    data: { conversationId, messageId, generationId: `gen-${messageId}`, role: 'user', content, parentMessageId: null, params },
  }),
  // Written by an old build: read back as v2 (upcast).
  submittedV1: (conversationId: string, messageId: string, content: string, actor: Actor): EventToAppend => ({
    type: 'MessageSubmitted', version: 1, metadata: metadata(actor),
    data: { conversationId, messageId, role: 'user', content, params },
  }),
  requested: (generationId: string, conversationId: string, messageId: string, owner: Actor): EventToAppend => ({
    type: 'GenerationRequested', version: 1, metadata: metadata(owner),
    data: {
      generationId, conversationId, messageId, ownerId: owner.userId, tenantId: owner.tenantId, model: 'parley-tiny', params,
      context: { includedMessageIds: [messageId], droppedMessageIds: [], promptTokens: 5 }, siblingOf: null, priority: 5, brownout: false,
    },
  }),
  // Appended by the worker, not the owner: the owner is found through the stream.
  tokens: (generationId: string, firstIndex: number, text: string): EventToAppend => ({
    type: 'TokensGenerated', version: 1, metadata: metadata(worker),
    data: { generationId, attempt: 1, firstIndex, tokenIds: [...text].map((c) => c.charCodeAt(0)), text },
  }),
  completed: (generationId: string): EventToAppend => ({
    type: 'GenerationCompleted', version: 1, metadata: metadata(worker),
    data: { generationId, attempt: 1, finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 2 }, ttftMs: 3, tpotMs: 1, workerId: 'w1' },
  }),
  feedback: (generationId: string, conversationId: string, user: Actor, comment: string | null): EventToAppend => ({
    type: 'FeedbackGiven', version: 1, metadata: metadata(user),
    data: { generationId, conversationId, userId: user.userId, rating: 'up', comment },
  }),
  renamed: (conversationId: string, title: string, actor: Actor): EventToAppend => ({
    type: 'ConversationRenamed', version: 1, metadata: metadata(actor), data: { conversationId, title },
  }),
  erased: (user: Actor): EventToAppend => ({
    type: 'UserDataErased', version: 1, metadata: metadata({ userId: 'root', tenantId: user.tenantId, roles: ['admin'] }),
    data: { userId: user.userId, tenantId: user.tenantId, reason: 'user_request' },
  }),
};

export type Story = {
  kept: { conversationId: string; generationId: string };
  erased: { conversationId: string; generationId: string };
};

// Carol's conversation and answer (content visible), Dana's (erased afterwards: content withheld).
export async function seedStory(store: Pick<EventStore, 'append'>): Promise<Story> {
  const story: Story = {
    kept: { conversationId: randomUUID(), generationId: randomUUID() },
    erased: { conversationId: randomUUID(), generationId: randomUUID() },
  };
  for (const [who, ids, secret] of [[carol, story.kept, 'carol'], [dana, story.erased, 'dana']] as const) {
    const m = randomUUID();
    await store.append(`conversation-${ids.conversationId}`, [
      ev.started(ids.conversationId, who, `${secret} title`, `${secret} system prompt`),
      ev.submittedV1(ids.conversationId, m, `${secret} message`, who),
    ], { expectedRevision: 'no_stream' });
    await store.append(`generation-${ids.generationId}`, [
      ev.requested(ids.generationId, ids.conversationId, m, who),
      ev.tokens(ids.generationId, 0, `${secret} tok`),
      ev.tokens(ids.generationId, 7, 'ens'),
      ev.completed(ids.generationId),
      ev.feedback(ids.generationId, ids.conversationId, who, `${secret} comment`),
    ], { expectedRevision: 'no_stream' });
  }
  await store.append(`user-${dana.userId}`, [ev.erased(dana)], { expectedRevision: 'any' });
  return story;
}

// A faithful-enough EventStore in memory: expected revisions, idempotent append by event id,
// upcasting on read, positions "1/<n>", catch-up + live subscribe.
export class MemoryEventStore implements EventStore {
  readonly events: RecordedEvent[] = [];
  private readonly appends = new AppendSignal();
  reads = 0;

  async append(streamId: string, events: EventToAppend[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    const existing = this.events.filter((e) => e.streamId === streamId);
    const dup = this.events.find((e) => e.metadata.eventId === events[events.length - 1]!.metadata.eventId);
    if (dup) return { nextRevision: dup.revision, position: dup.position, duplicate: true };
    const actual = existing.length === 0 ? null : existing.length - 1;
    const expected = options.expectedRevision;
    const ok = expected === 'any' || (expected === 'no_stream' && actual === null) || (expected === 'stream_exists' && actual !== null) || expected === actual;
    if (!ok) throw new ConcurrencyError(streamId, expected, actual);
    let revision = actual ?? -1;
    for (const e of events) {
      const recorded = Object.assign(upcast(structuredClone(e)), {
        streamId, revision: ++revision, position: `1/${this.events.length + 1}`, storedVersion: e.version, recordedAt: new Date().toISOString(),
      });
      this.events.push(recorded);
    }
    this.appends.bump();
    return { nextRevision: revision, position: this.events[this.events.length - 1]!.position, duplicate: false };
  }

  // All or nothing: every stream is checked before any is written.
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    validateAppendMany(appends);
    for (const a of appends) {
      if (this.events.some((e) => e.metadata.eventId === a.events[a.events.length - 1]!.metadata.eventId)) continue;
      const actual = this.events.filter((e) => e.streamId === a.streamId).length - 1;
      const x = a.expectedRevision;
      const ok = x === 'any' || (x === 'no_stream' && actual < 0) || (x === 'stream_exists' && actual >= 0) || x === actual;
      if (!ok) throw new ConcurrencyError(a.streamId, x, actual < 0 ? null : actual);
    }
    // append() writes before its first await, so these all land before anything else can run.
    return Promise.all(appends.map((a) => this.append(a.streamId, a.events, { expectedRevision: 'any' })));
  }

  async readStream(streamId: string, options: { fromRevision?: number; limit?: number } = {}): Promise<RecordedEvent[]> {
    this.reads++;
    return this.events.filter((e) => e.streamId === streamId && e.revision >= (options.fromRevision ?? 0)).slice(0, options.limit ?? Infinity);
  }

  async readStreams(streamIds: readonly string[]): Promise<Map<string, RecordedEvent[]>> {
    return new Map(await Promise.all(streamIds.map(async (id) => [id, await this.readStream(id)] as const)));
  }

  async streamRevision(streamId: string): Promise<number | null> {
    const events = await this.readStream(streamId);
    return events.length ? events.length - 1 : null;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.reads++;
    const from = options.from ?? START;
    return this.events
      .filter((e) => comparePositions(e.position, from) > 0 && (!options.types?.length || options.types.includes(e.type)))
      .slice(0, options.limit ?? 1000);
  }

  async *subscribe(options: SubscribeOptions = {}): AsyncIterable<RecordedEvent> {
    let cursor = options.from ?? START;
    while (!options.signal?.aborted) {
      const seen = this.appends.current;
      const batch = await this.readAll({ from: cursor, types: options.types, limit: options.batchSize ?? 100 });
      for (const e of batch) {
        if (options.signal?.aborted) return;
        cursor = e.position;
        yield e;
      }
      if (batch.length === 0) await this.waitForAppend(seen, options.signal);
    }
  }

  async headPosition(): Promise<Position> {
    return this.events.at(-1)?.position ?? START;
  }

  get appendVersion(): number {
    return this.appends.current;
  }

  waitForAppend(seen: number, signal?: AbortSignal, timeoutMs = 1000): Promise<void> {
    return this.appends.wait(seen, timeoutMs, signal);
  }

  async close(): Promise<void> {}
}

export type Delivered = { topic: string; key: string; value: WireEvent; headers: Record<string, string> };
export type Outcome = 'ack' | 'reject' | 'write-then-reject' | 'error-code' | 'hang';

// A broker behind kafkajs's Producer interface. Each sendBatch takes the next scripted outcome
// ('ack' once the script is used up): 'write-then-reject' stores the records but loses the ack
// (the case that makes delivery at-least-once), 'hang' never answers (a broker that went away).
export class FakeProducer implements Producer {
  readonly log: Delivered[] = [];
  readonly requests: ProducerBatch[] = [];
  script: Outcome[] = [];
  pending: (() => void)[] = [];
  gate: Promise<void> | null = null;
  readonly events = {
    CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect', REQUEST: 'producer.network.request',
    REQUEST_TIMEOUT: 'producer.network.request_timeout', REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
  } as const;

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.requests.push(batch);
    if (this.gate) await this.gate;
    const outcome = this.script.shift() ?? 'ack';
    if (outcome === 'hang') return new Promise(() => {});
    if (outcome === 'reject') throw Object.assign(new Error('This server is not the leader for that topic-partition'), { name: 'KafkaJSProtocolError', retriable: true });
    if (outcome === 'write-then-reject' || outcome === 'ack') {
      for (const t of batch.topicMessages ?? []) {
        for (const m of t.messages) {
          this.log.push({
            topic: t.topic, key: String(m.key), value: JSON.parse(String(m.value)) as WireEvent,
            headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
        }
      }
    }
    if (outcome === 'write-then-reject') throw Object.assign(new Error('Request Produce timed out'), { name: 'KafkaJSRequestTimeoutError' });
    return (batch.topicMessages ?? []).map((t) => ({ topicName: t.topic, partition: 0, errorCode: outcome === 'error-code' ? 7 : 0, baseOffset: '0' }));
  }

  async send(record: { topic: string; messages: ProducerBatch['topicMessages'] extends (infer T)[] | undefined ? T extends { messages: infer M } ? M : never : never; acks?: number }) {
    return this.sendBatch({ acks: record.acks, topicMessages: [{ topic: record.topic, messages: record.messages }] });
  }

  async connect() {}
  async disconnect() {}
  isIdempotent() { return true; }
  on() { return () => {}; }
  async transaction(): Promise<never> { throw new Error('the relay does not use transactions'); }
  logger(): Logger {
    const l: Logger = { info: () => {}, error: () => {}, warn: () => {}, debug: () => {}, namespace: () => l, setLogLevel: () => {} };
    return l;
  }
}


// What Kafka promises and the relay keeps: every event exactly `times` times (once without failures),
// and each stream's events in revision order. (Across topics a batch has no order.)
export function assertRelayed(delivered: Delivered[], log: RecordedEvent[], message = ''): void {
  const position = new Map(log.map((e) => [e.metadata.eventId, e.position]));
  const ids = delivered.map((d) => d.headers['event-id']!);
  assert.deepEqual([...ids].sort((a, b) => comparePositions(position.get(a)!, position.get(b)!)), log.map((e) => e.metadata.eventId), `each event once ${message}`);
  const streams = new Set(log.map((e) => e.streamId));
  for (const s of streams) {
    assert.deepEqual(delivered.filter((d) => d.key === s).map((d) => d.value.revision), log.filter((e) => e.streamId === s).map((e) => e.revision), `${s} in order ${message}`);
  }
}
