import type { EventStore } from '../port.ts';
import { PostgresEventStore } from '../postgres/event-store.ts';
import { EsdbEventStore } from './event-store.ts';

// An event store that can also wake pollers (projection runner, saga, relay) on appends.
export type ConfiguredEventStore = EventStore & {
  readonly appendVersion: number;
  waitForAppend(seen: number, signal?: AbortSignal): Promise<void>;
};

// EventStoreDB when ESDB_URL is set, else PostgreSQL (which also holds read models and checkpoints).
// Personal fields are encrypted at rest with `masterKey` (crypto-shredding) on PostgreSQL; the
// EventStoreDB adapter does not encrypt yet, so erasure there relies on the projections alone.
export async function openEventStore(options: { esdbUrl?: string; connectionString: string; masterKey?: Buffer; poolSize?: number }): Promise<ConfiguredEventStore> {
  if (options.esdbUrl) return EsdbEventStore.connect(options.esdbUrl);
  return new PostgresEventStore({
    connectionString: options.connectionString,
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
    ...(options.masterKey ? { encryption: { masterKey: options.masterKey } } : {}),
  }).start();
}
