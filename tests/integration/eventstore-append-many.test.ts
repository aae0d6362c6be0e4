// appendMany on PostgreSQL with encryption at rest: every stream of a call is sealed under its own
// subject's key, the unknown subjects and keys of a call are fetched together, and an erased
// subject fails the call naming its streams. (The adapter-independent rules are in the contract suite.)
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ErasedSubjectError } from '../../eventstore/crypto/key-store.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import type { StreamAppend } from '../../eventstore/port.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { carol, dana, ev } from '../support/streams-fixtures.ts';

describe('PostgreSQL appendMany with encryption at rest', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  const masterKey = randomBytes(32);
  const stores: PostgresEventStore[] = [];
  const open = async () => {
    const store = await new PostgresEventStore({ connectionString: db.url, encryption: { masterKey } }).start();
    stores.push(store);
    return store;
  };
  // Round trips the store makes to PostgreSQL while `body` runs (but the NOTIFY that follows every
  // append, throttled and shared between appends: see PostgresEventStore.announce).
  async function roundTrips(store: PostgresEventStore, body: () => Promise<unknown>): Promise<number> {
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    const query = pool.query;
    let n = 0;
    pool.query = ((...args: Parameters<pg.Pool['query']>) => {
      if (!String(args[0]).includes('pg_notify')) n++;
      return (query as (...a: unknown[]) => unknown).apply(pool, args);
    }) as pg.Pool['query'];
    try {
      await body();
    } finally {
      pool.query = query;
    }
    return n;
  }
  const raw = async (streamId: string) =>
    (await admin.query<{ type: string; data: Record<string, unknown> }>('select type, data from parley_events where stream_id = $1 order by stream_revision', [streamId])).rows;

  before(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await admin.end();
    await db.drop();
  });

  // n conversations of `owner`, each with a message and a requested generation, in one appendMany.
  async function conversations(owner: typeof carol, n: number) {
    const store = await open();
    const convs = Array.from({ length: n }, (_, i) => ({ c: randomUUID(), m: randomUUID(), g: randomUUID(), secret: `${owner.userId} secret ${i}` }));
    await store.appendMany(convs.flatMap(({ c, m, g, secret }): StreamAppend[] => [
      { streamId: `conversation-${c}`, events: [ev.started(c, owner, `title ${secret}`), ev.submitted(c, m, secret, owner)], expectedRevision: 'no_stream' },
      { streamId: `generation-${g}`, events: [ev.requested(g, c, m, owner)], expectedRevision: 'no_stream' },
    ]));
    return { store, convs };
  }

  it('seals every stream under its own key; a fresh process looks the subjects and keys of a whole call up together', async () => {
    const { store, convs } = await conversations(carol, 6);
    for (const { c, secret } of convs) {
      const rows = await raw(`conversation-${c}`);
      assert.ok(!JSON.stringify(rows).includes(secret), 'no plaintext at rest');
      const read = await store.readStream(`conversation-${c}`);
      assert.equal(read[1]!.type === 'MessageSubmitted' && read[1]!.data.content, secret);
    }

    // Another process (no cached subjects or keys) appends the workers' tokens to every generation.
    const worker = await open();
    const tokens = convs.map(({ g }, i): StreamAppend => ({ streamId: `generation-${g}`, events: [ev.tokens(g, 0, `answer ${i}`)], expectedRevision: 0 }));
    const trips = await roundTrips(worker, () => worker.appendMany(tokens));
    assert.equal(trips, 3, 'subjects, keys and the append: one round trip each for the six streams');
    for (const [i, { c, g }] of convs.entries()) {
      const [message] = (await raw(`conversation-${c}`)).filter((r) => r.type === 'MessageSubmitted');
      const [chunk] = (await raw(`generation-${g}`)).filter((r) => r.type === 'TokensGenerated');
      assert.ok(!JSON.stringify(chunk).includes(`answer ${i}`));
      assert.equal((chunk!.data.text as { kid: string }).kid, (message!.data.content as { kid: string }).kid, 'the generation shares its conversation\'s key');
      const read = await store.readStream(`generation-${g}`);
      assert.equal(read[1]!.type === 'TokensGenerated' && read[1]!.data.text, `answer ${i}`);
    }
    // Once known, neither is asked again.
    const more = convs.map(({ g }): StreamAppend => ({ streamId: `generation-${g}`, events: [ev.tokens(g, 6, 'more')], expectedRevision: 1 }));
    assert.equal(await roundTrips(worker, () => worker.appendMany(more)), 1);
  });

  it('an erased subject fails the whole call, naming its streams; nothing of the call is stored', async () => {
    const kept = await conversations(carol, 1);
    const gone = await conversations(dana, 2);
    const [message] = (await raw(`conversation-${gone.convs[0]!.c}`)).filter((r) => r.type === 'MessageSubmitted');
    const { kid } = message!.data.content as { kid: string };
    const subject = kid.slice(0, kid.lastIndexOf('/')); // key ids are "<subject>/<scope>"
    assert.ok((await gone.store.keys!.destroy(subject)) >= 2);

    const worker = await open();
    const streams = [...kept.convs, ...gone.convs].map(({ g }) => `generation-${g}`);
    await assert.rejects(
      worker.appendMany(streams.map((s, i) => ({ streamId: s, events: [ev.tokens(s.slice('generation-'.length), 0, `t${i}`)], expectedRevision: 0 }))),
      (e: unknown) => {
        assert.ok(e instanceof ErasedSubjectError);
        assert.deepEqual(e.streamIds, streams.slice(1));
        return true;
      },
    );
    for (const s of streams) assert.equal(await worker.streamRevision(s), 0, `${s} untouched`);
  });
});
