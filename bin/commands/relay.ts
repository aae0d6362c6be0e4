import { keyStoreMigrations } from '../../eventstore/crypto/key-store.ts';
import type { Command } from 'commander';
import type { Producer } from 'kafkajs';
import { openEventStore, type ConfiguredEventStore } from '../../eventstore/esdb/select.ts';
import { createKnex } from '../../eventstore/postgres/connect.ts';
import { eventStoreMigrations, runMigrations } from '../../eventstore/postgres/migrations.ts';
import { PgRelayCheckpoints, RelayLease, relayMigrations } from '../../streams/kafka/checkpoints.ts';
import { createKafka, ensureTopics, parseBrokers, relayTopics, saslFromEnv } from '../../streams/kafka/client.ts';
import { createRelayProducer, KafkaRelay } from '../../streams/kafka/relay.ts';
import { DEFAULT_TOPIC_PREFIX, parseTopicMapping } from '../../streams/kafka/topics.ts';
import { parseAfter, parseLimit, ReplayInputError } from '../../streams/query.ts';
import { openSharedDatabase } from '../app.ts';
import { loadConfig, masterKey } from '../config.ts';
import { takeOverSignals } from './replay.ts';

type KafkaOpts = {
  brokers?: string; name: string; topicPrefix: string; topics?: string; from?: string; batchSize: string; clientId: string;
  createTopics?: boolean; partitions: string; replicationFactor: string; ssl?: boolean; content: boolean;
};

export function registerRelay(program: Command) {
  const relay = program.command('relay').description('relay the event log to other systems (a long-running role)');
  relay
    .command('kafka')
    .description('produce every event to Kafka, one topic per stream category, keyed by stream id; at least once, checkpointed after the broker acknowledges')
    .option('--brokers <list>', 'host:port,host:port (default: KAFKA_BROKERS)')
    .option('--name <name>', 'the relay\'s name: its checkpoint, and one active relay per name', 'kafka')
    .option('--topic-prefix <prefix>', 'topic = <prefix><category>', DEFAULT_TOPIC_PREFIX)
    .option('--topics <map>', 'category=topic overrides, e.g. conversation=chat.conversations,*=chat.other')
    .option('--from <cursor>', 'where a relay without a checkpoint starts (default: the start of the log)')
    .option('--batch-size <n>', 'events per produce request', '500')
    .option('--client-id <id>', 'Kafka client id', 'parley-relay')
    .option('--create-topics', 'create the topics that do not exist yet')
    .option('--partitions <n>', 'partitions of created topics', '6')
    .option('--replication-factor <n>', 'replication factor of created topics (-1: the broker default)', '-1')
    .option('--ssl', 'connect to the brokers over TLS (SASL: KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD)')
    .option('--no-content', 'withhold message/token/title/prompt/comment text for every user')
    .action(async (opts: KafkaOpts) => {
      const config = loadConfig();
      let from;
      let batchSize: number;
      try {
        from = parseAfter(opts.from, '--from');
        batchSize = parseLimit(opts.batchSize, 10_000, '--batch-size')!;
      } catch (error) {
        if (error instanceof ReplayInputError) throw new Error(error.message);
        throw error;
      }
      const brokers = parseBrokers(opts.brokers ?? config.KAFKA_BROKERS);
      const topics = parseTopicMapping(opts.topics, opts.topicPrefix);
      const partitions = Number(opts.partitions);
      const replicationFactor = Number(opts.replicationFactor);
      if (!Number.isInteger(partitions) || partitions < 1) throw new Error('--partitions must be a positive integer');
      if (!Number.isInteger(replicationFactor) || (replicationFactor < 1 && replicationFactor !== -1)) throw new Error('--replication-factor must be -1 or a positive integer');

      const stop = new AbortController();
      const restoreSignals = takeOverSignals(() => stop.abort());
      const db = await openSharedDatabase(config);
      const knex = createKnex(db.connectionString, 3);
      const lease = new RelayLease(db.connectionString, opts.name);
      let store: ConfiguredEventStore | null = null;
      let producer: Producer | null = null;
      try {
        await runMigrations(knex, eventStoreMigrations, keyStoreMigrations, relayMigrations);
        const checkpoints = new PgRelayCheckpoints(knex);
        if (!(await lease.acquire(stop.signal, () => console.error(`another relay named "${opts.name}" is running: waiting as a standby`)))) return;
        await checkpoints.init(opts.name, from);

        const kafka = createKafka({ brokers, clientId: opts.clientId, ssl: opts.ssl, sasl: saslFromEnv() });
        if (opts.createTopics) {
          const created = await ensureTopics(kafka, relayTopics(topics), partitions, replicationFactor);
          if (created.length) console.error(`created topics: ${created.join(', ')}`);
        }
        producer = createRelayProducer(kafka);
        await producer.connect();
        store = await openEventStore({ esdbUrl: config.ESDB_URL, connectionString: db.connectionString, masterKey: masterKey(config) });

        const relay = new KafkaRelay({
          name: opts.name, store, producer, checkpoints, topics, batchSize, includeContent: opts.content,
          onError: (error, { stage, attempt }) => console.error(`relay ${stage} failed (attempt ${attempt}), retrying:`, (error as Error).message ?? error),
        });
        let failure: Error | null = null;
        lease.onLost((error) => {
          failure = new Error(`lost the relay lease (${error.message}); stopping so that a standby can take over`);
          stop.abort();
        });
        console.error(`relaying to ${brokers.join(',')} from ${await checkpoints.load(opts.name)} (Ctrl-C to stop)`);
        console.log('PARLEY_RELAY_READY');
        relay.start();
        const report = setInterval(() => console.error(`relayed ${relay.eventsRelayed} events; checkpoint ${relay.position}`), 10_000);
        await new Promise<void>((resolve) => {
          if (stop.signal.aborted) return resolve();
          stop.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        clearInterval(report);
        await relay.stop();
        console.error(`stopped: relayed ${relay.eventsRelayed} events; checkpoint ${relay.position}`);
        if (failure) throw failure;
      } finally {
        restoreSignals();
        await producer?.disconnect().catch(() => undefined);
        await store?.close();
        await lease.release();
        await knex.destroy();
        await db.stop();
      }
    });
}
