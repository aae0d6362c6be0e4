import type { Knex } from 'knex';
import type { RecordedEvent } from '../eventstore/port.ts';
import type { EventType } from '../schemas/events.ts';

// Table names are passed in, so the same code builds the live tables and a rebuild's fresh copies.
export type TableNames<T extends string> = Record<T, string>;

export interface Projection<T extends string = string> {
  name: string;
  // Base names of the tables this projection owns.
  tables: readonly T[];
  // Event types it reacts to (others still advance its checkpoint).
  types: readonly EventType[];
  createTables(knex: Knex, names: TableNames<T>): Promise<void>;
  apply(trx: Knex.Transaction, events: RecordedEvent[], names: TableNames<T>): Promise<void>;
}

export const liveNames = <T extends string>(p: Projection<T>): TableNames<T> =>
  Object.fromEntries(p.tables.map((t) => [t, t])) as unknown as TableNames<T>;
