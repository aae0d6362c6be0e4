import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EventToAppend } from '../port.ts';
import { KeyStore } from './key-store.ts';

// The personal text of each event type: encrypted at rest; everything else stays in clear so audit,
// metering and ids survive an erasure.
export const PERSONAL_FIELDS: Record<string, readonly string[]> = {
  ConversationStarted: ['title', 'systemPrompt'],
  ConversationRenamed: ['title'],
  MessageSubmitted: ['content'],
  TokensGenerated: ['text'],
  FeedbackGiven: ['comment'],
  AppealFiled: ['reason'],
};

export const ERASED = '[erased]';

export type Sealed = { kid: string; iv: string; ct: string };
const isSealed = (v: unknown): v is Sealed => typeof v === 'object' && v !== null && 'kid' in v && 'ct' in v && 'iv' in v;

export class DecryptionError extends Error {
  readonly code = 'DECRYPTION_FAILED';
}

// Whose data a stream holds, and under which key scope: a conversation and its generations share
// the conversation's key (so a retention erasure of one conversation reaches its answers too).
export type Subject = { subjectId: string; scope: string };
export type SubjectLookup = (streamId: string) => Promise<Subject | null>;

export class FieldCodec {
  private readonly subjects = new Map<string, Subject>();

  constructor(private readonly keys: KeyStore, private readonly lookup: SubjectLookup) {}

  // Encrypts personal fields in place of their plaintext, bound to (stream, event id, type).
  async encode(streamId: string, events: EventToAppend[]): Promise<EventToAppend[]> {
    const out: EventToAppend[] = [];
    for (const event of events) {
      const fields = PERSONAL_FIELDS[event.type];
      const data = event.data as Record<string, unknown>;
      const subject = this.subjectFromEvent(streamId, event) ?? (fields ? await this.subjectOf(streamId) : null);
      if (!fields || !subject || !fields.some((f) => typeof data[f] === 'string')) { out.push(event); continue; }
      const { kid, key } = await this.keys.keyFor(subject.subjectId, subject.scope);
      const sealed: Record<string, unknown> = { ...data };
      for (const f of fields) {
        if (typeof data[f] === 'string') sealed[f] = seal(key, kid, data[f] as string, aad(streamId, event.metadata.eventId, event.type, f));
      }
      out.push({ ...event, data: sealed });
    }
    return out;
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
    if (event.type === 'ConversationStarted') subject = { subjectId: d.ownerId!, scope: d.conversationId! };
    else if (event.type === 'GenerationRequested') subject = { subjectId: d.ownerId!, scope: d.conversationId! };
    else if (event.type === 'AppealFiled') subject = { subjectId: d.userId!, scope: `appeal-${d.appealId}` };
    if (subject) this.subjects.set(streamId, subject);
    return subject;
  }

  private async subjectOf(streamId: string): Promise<Subject | null> {
    const known = this.subjects.get(streamId);
    if (known) return known;
    const found = await this.lookup(streamId);
    if (found) this.subjects.set(streamId, found);
    return found;
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
