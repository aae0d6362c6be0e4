import { SEALED_CHUNK_SEPARATOR, sealedKeyOf, type ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import type { RecordedEvent } from '../eventstore/port.ts';
import type { ApplyContext } from './projection.ts';

// Personal text in read-model rows. A row with a `kid` holds its personal columns sealed with that
// data key (eventstore/crypto/read-model-cipher.ts); a row without one holds them in clear (the
// store does not encrypt, e.g. the EventStoreDB adapter or no master key: as the log holds them).
// Columns are named by their logical table (not a rebuild's copy), which binds the ciphertext.

export type Sealer = {
  kid: string | null;
  // The value to store for `text` in `column` of row `rowId` (sealed, or the text itself).
  text(column: string, rowId: string, text: string): string;
  nullable(column: string, rowId: string, text: string | null | undefined): string | null;
  // The SQL expression appending a chunk to a text column (sealed chunks are joined by a separator).
  appendSql: string;
};

const clear: Sealer = {
  kid: null,
  text: (_c, _r, text) => text,
  nullable: (_c, _r, text) => text ?? null,
  appendSql: '?',
};

// How to store the personal text of `event`: sealed with the key that sealed it in the log.
export async function sealerFor(context: ApplyContext | undefined, event: RecordedEvent): Promise<Sealer> {
  const kid = sealedKeyOf(event);
  const cipher = context?.cipher;
  if (!kid || !cipher) return clear;
  const key = await cipher.key(kid);
  const text = (column: string, rowId: string, t: string) => cipher.seal(key, column, rowId, t);
  return {
    kid,
    text,
    nullable: (column, rowId, t) => (t === null || t === undefined ? null : text(column, rowId, t)),
    appendSql: `'${SEALED_CHUNK_SEPARATOR}' || ?`,
  };
}

// Opens the personal columns of rows read from a read model, in place. Rows without a kid are in
// clear. Keys are fetched once per page (and are usually cached).
export async function openRows<R extends Record<string, any>>(
  cipher: ReadModelCipher | null | undefined, table: string, rows: R[], columns: readonly string[], idColumn = 'id',
): Promise<R[]> {
  const sealed = rows.filter((r) => r.kid);
  if (sealed.length === 0) return rows;
  if (!cipher) throw new Error(`${table} holds sealed text but this process has no data keys (set the same PARLEY_MASTER_KEY as the writer)`);
  const keys = await cipher.keys(sealed.map((r) => r.kid as string));
  for (const r of sealed) {
    const key = keys.get(r.kid)!;
    for (const c of columns) {
      if (typeof r[c] === 'string') (r as Record<string, unknown>)[c] = cipher.open(key, `${table}.${c}`, r[idColumn], r[c]);
    }
  }
  return rows;
}
