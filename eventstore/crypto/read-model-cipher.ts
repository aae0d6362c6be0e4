import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { ERASED, PERSONAL_FIELDS } from './field-codec.ts';
import type { KeyStore } from './key-store.ts';

// Personal text in read models, sealed with the same data key as the event it came from (the
// conversation's key; an appeal's own), so destroying that key (erasure, retention) makes every
// copy unreadable: the log, the read-model rows, their old pages and the WAL alike. Plaintext of
// these columns never reaches PostgreSQL.
//
// A sealed value is base64(iv ‖ ciphertext ‖ GCM tag); a value built from chunks (an answer
// assembled from TokensGenerated) is several of them joined by '.' (never in base64), so a chunk
// is appended by one UPDATE without reading the row. Additional data binds a value to its column
// and row id, so a value moved to another row fails to open.
//
// The IV is derived (HMAC of the row binding and the text under a key derived from the data key),
// not random: a rebuild from the log writes byte-identical rows (rebuild == incremental stays
// checkable), and a nonce repeats only for the same text in the same column of the same row, which
// then has the same ciphertext (all it shows is that two chunks of one answer are equal).

const SEPARATOR = '.';

type Derived = { enc: Buffer; mac: Buffer };

export class ReadModelCipher {
  private static readonly byStore = new WeakMap<KeyStore, ReadModelCipher>();
  private readonly derived = new WeakMap<Buffer, Derived>();

  private constructor(private readonly keyStore: KeyStore) {}

  // One cipher per key store (so the derived-key cache is shared by every caller of a process).
  static of(keys: KeyStore): ReadModelCipher {
    let c = ReadModelCipher.byStore.get(keys);
    if (!c) ReadModelCipher.byStore.set(keys, (c = new ReadModelCipher(keys)));
    return c;
  }

  // The data key (null: destroyed). Stays synchronous when cached (almost always: the event was just decrypted).
  key(kid: string): Buffer | null | Promise<Buffer | null> {
    const cached = this.keyStore.cachedKeyById(kid);
    return cached === undefined ? this.keyStore.keyById(kid) : cached;
  }

  // The keys of a page of rows: the cached ones at once, the others in one query together.
  keys(kids: Iterable<string | null>): Promise<Map<string, Buffer | null>> {
    return this.keyStore.keysById([...kids].filter((k): k is string => !!k));
  }

  // Seals `text` for column `column` of row `rowId`; '' when the key is gone (the row reads as erased).
  seal(key: Buffer | null, column: string, rowId: string, text: string): string {
    if (!key) return '';
    const { enc, mac } = this.derive(key);
    const aad = binding(column, rowId);
    const iv = createHmac('sha256', mac).update(aad).update('\u0000').update(text, 'utf8').digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', enc, iv);
    cipher.setAAD(aad);
    return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
  }

  // Opens a sealed value (all its chunks); ERASED when the key is gone.
  open(key: Buffer | null, column: string, rowId: string, sealed: string): string {
    if (!key) return ERASED;
    const { enc } = this.derive(key);
    const aad = binding(column, rowId);
    let text = '';
    for (const chunk of sealed.split(SEPARATOR)) {
      if (!chunk) continue;
      const b = Buffer.from(chunk, 'base64');
      try {
        const decipher = createDecipheriv('aes-256-gcm', enc, b.subarray(0, 12));
        decipher.setAAD(aad);
        decipher.setAuthTag(b.subarray(b.length - 16));
        text += Buffer.concat([decipher.update(b.subarray(12, b.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`read model ${column} of ${rowId}: ciphertext failed authentication (tampered, or moved from another row)`);
      }
    }
    return text;
  }

  private derive(key: Buffer): Derived {
    let d = this.derived.get(key);
    if (!d) {
      d = { enc: createHmac('sha256', key).update('parley read model: encryption').digest(), mac: createHmac('sha256', key).update('parley read model: iv').digest() };
      this.derived.set(key, d);
    }
    return d;
  }
}

export const SEALED_CHUNK_SEPARATOR = SEPARATOR;

const binding = (column: string, rowId: string) => Buffer.from(`${column}\u0000${rowId}`, 'utf8');

// Which data key sealed a recorded event's personal fields, as the store read them (the store
// decrypts for its consumers; projections re-seal with the same key). Kept beside the event, not
// in it, so exports and relays that serialise events are unchanged.
const sealedBy = new WeakMap<object, string>();

export function markSealedBy(event: object, kid: string): void {
  sealedBy.set(event, kid);
}

export function sealedKeyOf(event: object): string | undefined {
  return sealedBy.get(event);
}

// The key id of the first sealed personal field of a stored event's data (before decoding).
export function sealingKeyId(type: string, data: unknown): string | undefined {
  const fields = PERSONAL_FIELDS[type];
  if (!fields || typeof data !== 'object' || data === null) return undefined;
  for (const f of fields) {
    const v = (data as Record<string, unknown>)[f];
    if (typeof v === 'object' && v !== null && typeof (v as { kid?: unknown }).kid === 'string') return (v as { kid: string }).kid;
  }
  return undefined;
}
