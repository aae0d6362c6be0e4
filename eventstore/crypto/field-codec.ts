import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EventToAppend } from '../port.ts';
import { subjectOf } from '../../schemas/common.ts';
import { ErasedSubjectError, KeyStore } from './key-store.ts';

// The personal text of each event type: encrypted at rest; everything else stays in clear so audit,
// metering and ids survive an erasure.
export const PERSONAL_FIELDS: Record<string, readonly string[]> = {
  ConversationStarted: ['title', 'systemPrompt'],
  ConversationRenamed: ['title'],
  MessageSubmitted: ['content', 'toolsPrompt'],
  // The assembled prompt (packed token ids: the conversation's text in another alphabet).
  GenerationRequested: ['prompt'],
  // The answer's text and its token ids (packed: the same text in another alphabet).
  TokensGenerated: ['text', 'tokens'],
  FeedbackGiven: ['comment'],
  // Server-side tool calls: what the model asked and what the tool answered (and why it failed).
  ToolCallRequested: ['arguments'],
  ToolCallCompleted: ['result'],
  ToolCallFailed: ['message'],
  AppealFiled: ['reason'],
  // A user's memory and a document: a key scope per fact (memory-<id>) and per document
  // (document-<id>), so forgetting, removing or a retention period destroys that one key. Facts
  // saved before per-fact scopes share the scope 'memory' (shredded with the user only).
  MemorySaved: ['text'],
  // A rolling summary: on the conversation's stream, under the conversation's key.
  ConversationSummarized: ['text'],
  DocumentAdded: ['title', 'text'],
};

export const ERASED = '[erased]';

export type Sealed = { kid: string; iv: string; ct: string };
const isSealed = (v: unknown): v is Sealed => typeof v === 'object' && v !== null && 'kid' in v && 'ct' in v && 'iv' in v;

export class DecryptionError extends Error {
  readonly code = 'DECRYPTION_FAILED';
}

// Whose data a stream holds (the subject is tenant/user, schemas/common.ts subjectOf), and under which key scope: a conversation and its generations share
// the conversation's key (so a retention erasure of one conversation reaches its answers too).
export type Subject = { subjectId: string; scope: string };
export type SubjectLookup = (streamId: string) => Promise<Subject | null>;
// The subjects of many streams in one go (streams without one are absent from the map).
export type SubjectsLookup = (streamIds: string[]) => Promise<Map<string, Subject>>;

export class FieldCodec {
  private readonly subjects = new Map<string, Subject>();

  constructor(
    private readonly keys: KeyStore,
    lookup: SubjectLookup,
    private readonly lookupMany: SubjectsLookup = async (ids) => {
      const found = await Promise.all(ids.map(async (id) => [id, await lookup(id)] as const));
      return new Map(found.filter((f): f is readonly [string, Subject] => f[1] !== null));
    },
  ) {}

  // Encrypts personal fields in place of their plaintext, bound to (stream, event id, type).
  async encode(streamId: string, events: EventToAppend[]): Promise<EventToAppend[]> {
    return (await this.encodeMany([{ streamId, events }]))[0]!;
  }

  // encode() for many streams at once: the streams whose subject is unknown are looked up together,
  // and the keys of all subjects are fetched (or minted) together, so a batch of streams costs at
  // most two round trips, usually none (subjects and keys are cached). An ErasedSubjectError says
  // in `streamIds` which streams of the call belong to the erased subject.
  async encodeMany(appends: readonly { streamId: string; events: readonly EventToAppend[] }[]): Promise<EventToAppend[][]> {
    // 1. Whose key each personal event needs; streams with personal events but no known subject are
    //    looked up afterwards (an event naming its subject sets it for the stream's later events).
    const plan = appends.map((a) => a.events.map((event) => {
      const fields = PERSONAL_FIELDS[event.type];
      const fromEvent = this.subjectFromEvent(a.streamId, event);
      const data = event.data as Record<string, unknown>;
      if (!fields || !fields.some((f) => typeof data[f] === 'string')) return null;
      return fromEvent ?? this.subjects.get(a.streamId) ?? 'lookup';
    }));
    const unknown = [...new Set(appends.filter((_, i) => plan[i]!.includes('lookup')).map((a) => a.streamId))];
    const looked = unknown.length ? await this.lookupMany(unknown) : new Map<string, Subject>();
    for (const [streamId, subject] of looked) if (!this.subjects.has(streamId)) this.subjects.set(streamId, subject);
    const subjectAt = (i: number, j: number): Subject | null => {
      const p = plan[i]![j];
      return p === 'lookup' ? looked.get(appends[i]!.streamId) ?? null : p ?? null;
    };

    // 2. Their keys, together.
    const wanted = appends.flatMap((a, i) => a.events.map((_, j) => subjectAt(i, j)).filter((s): s is Subject => s !== null));
    let keys: Map<string, { kid: string; key: Buffer }>;
    try {
      keys = wanted.length ? await this.keys.keysFor(wanted) : new Map();
    } catch (error) {
      if (error instanceof ErasedSubjectError && error.subjectId) {
        const subjectId = error.subjectId;
        error.streamIds = appends.filter((a, i) => a.events.some((_, j) => subjectAt(i, j)?.subjectId === subjectId)).map((a) => a.streamId);
      }
      throw error;
    }

    // 3. Seal.
    return appends.map((a, i) => a.events.map((event, j) => {
      const subject = subjectAt(i, j);
      if (!subject) return event;
      const { kid, key } = keys.get(KeyStore.keyId(subject.subjectId, subject.scope))!;
      const data = event.data as Record<string, unknown>;
      const sealed: Record<string, unknown> = { ...data };
      for (const f of PERSONAL_FIELDS[event.type]!) {
        if (typeof data[f] === 'string') sealed[f] = seal(key, kid, data[f] as string, aad(a.streamId, event.metadata.eventId, event.type, f));
      }
      return { ...event, data: sealed };
    }));
  }

  // Decrypts personal fields; a destroyed key reads as the ERASED placeholder.
  async decode(streamId: string, eventId: string, type: string, data: unknown): Promise<unknown> {
    const fields = PERSONAL_FIELDS[type];
    if (!fields) return data;
    const d = data as Record<string, unknown>;
    if (!fields.some((f) => isSealed(d[f]))) return data;
    const open: Record<string, unknown> = { ...d };
    for (const f of fields) {
      const v = d[f];
      if (!isSealed(v)) continue;
      // Keys are almost always cached: stay synchronous then (catch-up reads decode thousands).
      const cached = this.keys.cachedKeyById(v.kid);
      const key = cached === undefined ? await this.keys.keyById(v.kid) : cached;
      open[f] = key ? unseal(key, v, aad(streamId, eventId, type, f), `${type} ${eventId}.${f}`) : ERASED;
    }
    return open;
  }

  private subjectFromEvent(streamId: string, event: EventToAppend): Subject | null {
    const d = event.data as Record<string, string>;
    let subject: Subject | null = null;
    if (event.type === 'ConversationStarted') subject = { subjectId: subjectOf(d.tenantId!, d.ownerId!), scope: d.conversationId! };
    else if (event.type === 'GenerationRequested') subject = { subjectId: subjectOf(d.tenantId!, d.ownerId!), scope: d.conversationId! };
    else if (event.type === 'AppealFiled') subject = { subjectId: subjectOf(d.tenantId!, d.userId!), scope: `appeal-${d.appealId}` };
    else if (event.type === 'MemorySaved') subject = { subjectId: subjectOf(d.tenantId!, d.userId!), scope: `memory-${d.memoryId}` };
    else if (event.type === 'DocumentAdded') subject = { subjectId: subjectOf(d.tenantId!, d.ownerId!), scope: `document-${d.documentId}` };
    if (subject) this.subjects.set(streamId, subject);
    return subject;
  }
}

function aad(streamId: string, eventId: string, type: string, field: string): Buffer {
  return Buffer.from(`${streamId}\u0000${eventId}\u0000${type}\u0000${field}`);
}

function seal(key: Buffer, kid: string, text: string, additional: Buffer): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additional);
  const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { kid, iv: iv.toString('base64'), ct: ct.toString('base64') };
}

function unseal(key: Buffer, sealed: Sealed, additional: Buffer, where: string): string {
  try {
    const ct = Buffer.from(sealed.ct, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(additional);
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError(`${where}: ciphertext failed authentication (tampered, or moved from another event)`);
  }
}
