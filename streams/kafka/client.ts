import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { TopicMapping } from './topics.ts';
import { topicFor } from './topics.ts';

export type KafkaConnection = { brokers: string[]; clientId?: string; ssl?: boolean; sasl?: SASLOptions };

export function parseBrokers(value: string | undefined): string[] {
  const brokers = (value ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('no Kafka brokers: pass --brokers host:port[,host:port] or set KAFKA_BROKERS');
  for (const b of brokers) if (!/^[^\s:]+:\d+$/.test(b)) throw new Error(`broker "${b}" must look like host:port`);
  return brokers;
}

// SASL from the environment (KAFKA_SASL_MECHANISM=plain|scram-sha-256|scram-sha-512, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD).
export function saslFromEnv(env: NodeJS.ProcessEnv = process.env): SASLOptions | undefined {
  const mechanism = env.KAFKA_SASL_MECHANISM?.toLowerCase();
  if (!mechanism) return undefined;
  const username = env.KAFKA_SASL_USERNAME ?? '';
  const password = env.KAFKA_SASL_PASSWORD ?? '';
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') return { mechanism, username, password } as SASLOptions;
  throw new Error(`KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512 (got ${mechanism})`);
}

export function createKafka(c: KafkaConnection): Kafka {
  const config: KafkaConfig = { brokers: c.brokers, clientId: c.clientId ?? 'parley-relay', logLevel: logLevel.WARN };
  if (c.ssl) config.ssl = true;
  if (c.sasl) config.sasl = c.sasl;
  return new Kafka(config);
}

// The stream categories Parley writes (conversation-, generation-, appeal-, user-).
export const KNOWN_CATEGORIES = ['conversation', 'generation', 'appeal', 'user'];

export function relayTopics(mapping: TopicMapping): string[] {
  return [...new Set(KNOWN_CATEGORIES.map((c) => topicFor(mapping, `${c}-x`)))];
}

// Creates the relay's topics that do not exist yet.
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions: number, replicationFactor: number): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor })) });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
