import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { MigrationSet } from '../postgres/migrations.ts';

export const keyStoreMigrations: MigrationSet = {
  name: 'keys',
  migrations: {
    '001_subject_keys': {
      async up(knex) {
        await knex.raw(`
          create table subject_keys (
            key_id text primary key,
            subject_id text not null,
            scope text not null,
            wrapped_key bytea,            -- null once destroyed
            created_at timestamptz not null default now(),
            destroyed_at timestamptz
          );
          create index subject_keys_subject on subject_keys (subject_id);
        `);
      },
      async down(knex) {
        await knex.raw('drop table subject_keys');
      },
    },
  },
};

type Query = (sql: string, params: unknown[]) => Promise<pg.QueryResult>;
type Cached = { key: Buffer | null; at: number };

// Data keys (AES-256) per subject (the user) and scope (a conversation or an appeal), wrapped by
// the master key with AES-256-GCM. Destroying a subject's keys makes its ciphertext unreadable for
// good: that is the erasure. Unwrapped keys are cached briefly and never logged.
export class KeyStore {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly query: Query,
    private readonly masterKey: Buffer,
    private readonly ttlMs = 30_000,
  ) {
    if (masterKey.length !== 32) throw new Error('the master key must be 32 bytes (256 bits)');
  }

  static keyId(subjectId: string, scope: string): string {
    return `${subjectId}/${scope}`;
  }

  async keyFor(subjectId: string, scope: string): Promise<{ kid: string; key: Buffer }> {
    const kid = KeyStore.keyId(subjectId, scope);
    const cached = this.fromCache(kid);
    if (cached) return { kid, key: cached };
    if (await this.isErased(subjectId)) throw new ErasedSubjectError(`${subjectId} was erased: nothing new is stored for them`);
    const fresh = randomBytes(32);
    await this.query(
      `insert into subject_keys (key_id, subject_id, scope, wrapped_key) values ($1, $2, $3, $4) on conflict (key_id) do nothing`,
      [kid, subjectId, scope, this.wrap(fresh, kid)],
    );
    const key = await this.keyById(kid);
    if (!key) throw new ErasedSubjectError(`the keys of ${subjectId} were destroyed: nothing new is stored for them`);
    return { kid, key };
  }

  // The cached data key (null: destroyed), or undefined when it must be fetched.
  cachedKeyById(kid: string): Buffer | null | undefined {
    const cached = this.cache.get(kid);
    return cached && Date.now() - cached.at < this.ttlMs ? cached.key : undefined;
  }

  // The data key, or null when it was destroyed (or never existed).
  async keyById(kid: string): Promise<Buffer | null> {
    const cached = this.cache.get(kid);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.key;
    const { rows } = await this.query('select wrapped_key from subject_keys where key_id = $1', [kid]);
    const wrapped = rows[0]?.wrapped_key as Buffer | null | undefined;
    const key = wrapped ? this.unwrap(wrapped, kid) : null;
    this.cache.set(kid, { key, at: Date.now() });
    return key;
  }

  // Erasure: every key of the subject (optionally one scope) is overwritten and marked destroyed.
  async destroy(subjectId: string, scope?: string): Promise<number> {
    const { rowCount, rows } = await this.query(
      `update subject_keys set wrapped_key = null, destroyed_at = now()
        where subject_id = $1 and ($2::text is null or scope = $2) and destroyed_at is null returning key_id`,
      [subjectId, scope ?? null],
    );
    for (const r of rows) this.cache.set(r.key_id as string, { key: null, at: Date.now() });
    // A destroyed subject gets a tombstone so later writes cannot silently mint a fresh key.
    if (!scope) {
      await this.query(
        `insert into subject_keys (key_id, subject_id, scope, wrapped_key, destroyed_at) values ($1, $2, '*', null, now())
         on conflict (key_id) do update set wrapped_key = null, destroyed_at = now()`,
        [KeyStore.keyId(subjectId, '*'), subjectId],
      );
    }
    return rowCount ?? 0;
  }

  async isErased(subjectId: string): Promise<boolean> {
    const { rowCount } = await this.query(`select 1 from subject_keys where key_id = $1 and destroyed_at is not null`, [KeyStore.keyId(subjectId, '*')]);
    return (rowCount ?? 0) > 0;
  }

  private fromCache(kid: string): Buffer | null {
    const c = this.cache.get(kid);
    return c && c.key && Date.now() - c.at < this.ttlMs ? c.key : null;
  }

  private wrap(key: Buffer, kid: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.masterKey, iv);
    cipher.setAAD(Buffer.from(kid));
    const ct = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]);
  }

  private unwrap(wrapped: Buffer, kid: string): Buffer {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.masterKey, wrapped.subarray(0, 12));
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(wrapped.subarray(12, 28));
      return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
    } catch {
      throw new Error(`cannot unwrap data key ${kid}: this process's master key is not the one that wrapped it (every process needs the same PARLEY_MASTER_KEY)`);
    }
  }
}

export class ErasedSubjectError extends Error {
  readonly code = 'SUBJECT_ERASED';
}
