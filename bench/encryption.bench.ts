// `npm run bench encryption`: what encrypting personal fields at rest costs the event store.
// Same PostgreSQL, same events, plain vs encrypted, in one run. Writes bench/results/encryption.{json,md}.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { keyStoreMigrations } from '../eventstore/crypto/key-store.ts';
import { createKnex } from '../eventstore/postgres/connect.ts';
import { PostgresEventStore } from '../eventstore/postgres/event-store.ts';
import { eventStoreMigrations, runMigrations } from '../eventstore/postgres/migrations.ts';
import type { EventToAppend } from '../eventstore/port.ts';

const ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONVERSATIONS = 200;
const MESSAGES = 25; // per conversation, appended one at a time with the exact expected revision
const meta = (userId: string) => ({ eventId: randomUUID(), correlationId: randomUUID(), causationId: null, commandId: null, actor: { userId, tenantId: 't', roles: ['user' as const] }, occurredAt: new Date().toISOString() });
const text = (i: number) => `Message ${i}: ` + 'the quick brown fox jumps over the lazy dog '.repeat(1 + (i % 12));

async function measure(encrypted: boolean) {
  const name = `parley_bench_enc_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN); url.pathname = `/${name}`;
  const knex = createKnex(url.toString(), 2);
  await runMigrations(knex, eventStoreMigrations, keyStoreMigrations);
  await knex.destroy();
  const store = await new PostgresEventStore({ connectionString: url.toString(), ...(encrypted ? { encryption: { masterKey: randomBytes(32) } } : {}) }).start();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let c = w; c < CONVERSATIONS; c += 8) {
      const id = randomUUID();
      const user = `u${c}`;
      const started: EventToAppend = { type: 'ConversationStarted', version: 1, data: { conversationId: id, ownerId: user, tenantId: 't', title: 'Trip plans', systemPrompt: 'Be brief.', model: 'm', safetySettings: {} }, metadata: meta(user) };
      await store.append(`conversation-${id}`, [started], { expectedRevision: 'no_stream' });
      for (let i = 0; i < MESSAGES; i++) {
        const e: EventToAppend = { type: 'MessageSubmitted', version: 2, data: { conversationId: id, messageId: `m${i}`, generationId: `g${c}-${i}`, role: 'user', content: text(i), parentMessageId: null, params: { temperature: 0.7, topP: 1, topK: 0, maxTokens: 256, seed: null, stop: [] } }, metadata: meta(user) };
        await store.append(`conversation-${id}`, [e], { expectedRevision: i });
      }
    }
  }));
  const appendSeconds = (performance.now() - t0) / 1000;
  const total = CONVERSATIONS * (MESSAGES + 1);
  // The last appends become readable once every older transaction on the server has ended (the fence).
  for (let i = 0; i < 200 && (await store.readAll({ from: '0/0', limit: total + 1 })).length < total; i++) await new Promise((r) => setTimeout(r, 50));
  const reads: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const r0 = performance.now();
    let from = '0/0'; let n = 0;
    for (;;) {
      const batch = await store.readAll({ from, limit: 1000 });
      n += batch.length;
      if (batch.length < 1000) break;
      from = batch[batch.length - 1]!.position;
    }
    if (n !== total) throw new Error(`read ${n} of ${total}`);
    reads.push(total / ((performance.now() - r0) / 1000));
  }
  await store.close();
  await admin.query(`drop database ${name} with (force)`);
  await admin.end();
  return { appendPerSecond: total / appendSeconds, readPerSecond: reads.sort((a, b) => a - b)[1]! };
}

export async function run(): Promise<void> {
  const plain = await measure(false);
  const encrypted = await measure(true);
  const again = await measure(false); // plain twice, to see the noise
  const rows = [
    ['append (8 writers, 1 event per append), events/s', plain.appendPerSecond, again.appendPerSecond, encrypted.appendPerSecond],
    ['catch-up read (batches of 1000), events/s', plain.readPerSecond, again.readPerSecond, encrypted.readPerSecond],
  ] as const;
  const md = [
    '# Encryption at rest: cost in the event store',
    '',
    `${new Date().toISOString()} · ${CONVERSATIONS} conversations × ${MESSAGES + 1} events · AES-256-GCM per personal field, per-conversation data keys (cached)`,
    '',
    '| phase | plain (run 1) | plain (run 2) | encrypted | encrypted ÷ mean plain |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(([label, a, b, e]) => `| ${label} | ${Math.round(a)} | ${Math.round(b)} | ${Math.round(e)} | ${(e / ((a + b) / 2)).toFixed(2)}× |`),
    '',
  ].join('\n');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/encryption.json', JSON.stringify({ plain, again, encrypted, conversations: CONVERSATIONS, eventsPerConversation: MESSAGES + 1 }, null, 2) + '\n');
  writeFileSync('bench/results/encryption.md', md);
  console.log(md);
}
