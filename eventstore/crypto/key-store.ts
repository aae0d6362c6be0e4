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
    // A user is (tenant, user): subjects were the bare user id, and two tenants' "alice" shared one
    // subject. Existing keys move to "<tenant>/<user>", the tenant read from the first event of the
    // stream each key protects. Key ids (bound into every wrapped key and every ciphertext) stay as
    // they are; only tombstones ("<user>/*", no key material) are renamed, from UserDataErased.
    '002_tenant_subjects': {
      async up(knex) {
        const { rows } = await knex.raw(`select to_regclass('parley_events') is not null as present`);
        if (!rows[0].present) return; // keys without this PostgreSQL event store: nothing to read tenants from
        await knex.raw(`
          update subject_keys k set subject_id = (e.data->>'tenantId') || '/' || k.subject_id
            from parley_events e
           where position('/' in k.subject_id) = 0 and k.scope <> '*' and e.stream_revision = 0
             and e.stream_id = case when k.scope like 'appeal-%' then k.scope else 'conversation-' || k.scope end
             and e.data->>'tenantId' is not null;
          update subject_keys k set subject_id = (e.data->>'tenantId') || '/' || k.subject_id,
                                    key_id = (e.data->>'tenantId') || '/' || k.subject_id || '/*'
            from parley_events e
           where position('/' in k.subject_id) = 0 and k.scope = '*'
             and e.stream_id = 'user-' || k.subject_id and e.type = 'UserDataErased';
        `);
      },
      async down() {
        // Not reversible: two tenants' subjects cannot be merged back safely.
      },
    },
  },
};

type Query = (sql: string, params: unknown[]) => Promise<pg.QueryResult>;
type Cached = { key: Buffer | null; at: number };

// Data keys (AES-256) per subject (the user as "<tenant>/<user>", schemas/common.ts subjectOf) and scope (a conversation or an appeal), wrapped by
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
    return (await this.keysFor([{ subjectId, scope }])).get(KeyStore.keyId(subjectId, scope))!;
  }

  // The data keys of many (subject, scope) pairs, keyed by key id, minting the missing ones: the
  // uncached ones cost one round trip together (tombstone check, insert-if-absent and read in one
  // statement). An erased subject, or a destroyed key, throws ErasedSubjectError.
  async keysFor(subjects: readonly { subjectId: string; scope: string }[]): Promise<Map<string, { kid: string; key: Buffer }>> {
    const out = new Map<string, { kid: string; key: Buffer }>();
    const missing = new Map<string, { subjectId: string; scope: string }>();
    for (const s of subjects) {
      const kid = KeyStore.keyId(s.subjectId, s.scope);
      const cached = this.fromCache(kid);
      if (cached) out.set(kid, { kid, key: cached });
      else missing.set(kid, s);
    }
    if (missing.size === 0) return out;
    const wanted = [...missing.entries()];
    // Rows inserted by `ins` are not visible to the statement's own read of subject_keys, so the
    // two halves of the union never overlap: a key is either minted now or was there before.
    const { rows } = await this.query(
      `with erased as (
         select subject_id from subject_keys where key_id = any($5::text[]) and destroyed_at is not null
       ), ins as (
         insert into subject_keys (key_id, subject_id, scope, wrapped_key)
         select f.key_id, f.subject_id, f.scope, f.wrapped_key
           from unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) as f(key_id, subject_id, scope, wrapped_key)
          where f.subject_id not in (select subject_id from erased)
         on conflict (key_id) do nothing
         returning key_id, wrapped_key
       )
       select key_id, wrapped_key, false as erased from ins
       union all select key_id, wrapped_key, false from subject_keys where key_id = any($1::text[])
       union all select subject_id, null, true from erased`,
      [
        wanted.map(([kid]) => kid), wanted.map(([, s]) => s.subjectId), wanted.map(([, s]) => s.scope),
        wanted.map(([kid]) => this.wrap(randomBytes(32), kid)), [...new Set(wanted.map(([, s]) => KeyStore.keyId(s.subjectId, '*')))],
      ],
    );
    const erased = new Set<string>();
    const found = new Map<string, Buffer | null>();
    for (const r of rows as { key_id: string; wrapped_key: Buffer | null; erased: boolean }[]) {
      if (r.erased) erased.add(r.key_id);
      else found.set(r.key_id, r.wrapped_key);
    }
    for (const [kid, s] of wanted) {
      if (erased.has(s.subjectId)) throw new ErasedSubjectError(`${s.subjectId} was erased: nothing new is stored for them`, s.subjectId);
      const wrapped = found.get(kid);
      let key: Buffer | null;
      if (wrapped === undefined) {
        // Minted by a transaction that had not committed when this statement started: read it now.
        key = await this.keyById(kid);
      } else {
        key = wrapped ? this.unwrap(wrapped, kid) : null;
        this.cache.set(kid, { key, at: Date.now() });
      }
      if (!key) throw new ErasedSubjectError(`the keys of ${s.subjectId} were destroyed: nothing new is stored for them`, s.subjectId);
      out.set(kid, { kid, key });
    }
    return out;
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

  // Many data keys by id (null: destroyed or unknown), the uncached ones in one round trip: a page
  // of read-model rows sealed with many conversations' keys opens with one query, not one per key.
  async keysById(kids: Iterable<string>): Promise<Map<string, Buffer | null>> {
    const out = new Map<string, Buffer | null>();
    const missing: string[] = [];
    for (const kid of kids) {
      if (out.has(kid)) continue;
      const cached = this.cachedKeyById(kid);
      if (cached === undefined) missing.push(kid);
      out.set(kid, cached ?? null);
    }
    if (missing.length === 0) return out;
    const { rows } = await this.query('select key_id, wrapped_key from subject_keys where key_id = any($1::text[])', [missing]);
    const wrapped = new Map((rows as { key_id: string; wrapped_key: Buffer | null }[]).map((r) => [r.key_id, r.wrapped_key]));
    const now = Date.now();
    for (const kid of missing) {
      const w = wrapped.get(kid);
      const key = w ? this.unwrap(w, kid) : null;
      this.cache.set(kid, { key, at: now });
      out.set(kid, key);
    }
    return out;
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
  // The streams of an append that hold this subject's data (set by FieldCodec.encodeMany).
  streamIds?: string[];
  constructor(message: string, readonly subjectId?: string) {
    super(message);
  }
}
