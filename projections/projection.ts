import type { Knex } from 'knex';
import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { ReadModelCipher } from '../eventstore/crypto/read-model-cipher.ts';
import type { EventStore, RecordedEvent } from '../eventstore/port.ts';
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
  apply(trx: Knex.Transaction, events: RecordedEvent[], names: TableNames<T>, context?: ApplyContext): Promise<void>;
  // Bumped when the tables' shape changes: setupProjections then drops them and replays the log.
  version?: number;
}

// What a projection needs besides the events: the cipher that keeps personal text sealed at rest
// (null when the store does not encrypt: text is stored in clear, as the log holds it).
export type ApplyContext = { cipher: ReadModelCipher | null };

export function applyContextOf(store: EventStore): ApplyContext {
  const keys = 'keys' in store ? (store.keys as KeyStore | null) : null;
  return { cipher: keys ? ReadModelCipher.of(keys) : null };
}

export const liveNames = <T extends string>(p: Projection<T>): TableNames<T> =>
  Object.fromEntries(p.tables.map((t) => [t, t])) as unknown as TableNames<T>;
