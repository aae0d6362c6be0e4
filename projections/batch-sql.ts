import type { Knex } from 'knex';

// Helpers for applying a batch of events with one statement per table instead of one per event.

// PostgreSQL takes at most 65,535 bind parameters per statement: a multi-row insert is split into
// as few statements as that allows (one for any batch the runner reads).
const MAX_PARAMS = 65_000;

// Inserts rows (missing columns take their default), ignoring rows whose `conflict` key exists.
export async function insertIgnoring(trx: Knex.Transaction, table: string, rows: readonly Record<string, unknown>[], conflict: string): Promise<void> {
  if (rows.length === 0) return;
  const columns = new Set(rows.flatMap((r) => Object.keys(r))).size;
  const per = Math.max(1, Math.floor(MAX_PARAMS / columns));
  for (let i = 0; i < rows.length; i += per) await trx(table).insert(rows.slice(i, i + per)).onConflict(conflict).ignore();
}

// Rows of `table` whose `column` is one of `values`, in one statement (an array parameter).
export async function rowsWhereIn<R = Record<string, unknown>>(trx: Knex.Transaction, table: string, column: string, values: Iterable<unknown>, select: string[] = ['*']): Promise<R[]> {
  const list = [...new Set(values)];
  if (list.length === 0) return [];
  return trx(table).select(select).whereRaw('?? = any(?)', [column, list as string[]]) as unknown as Promise<R[]>;
}
