// CommandHandler.executeMany: groups of commands on many streams, decided and appended together.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandHandler } from '../../commands/command-handler.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import type { EventStore } from '../../eventstore/port.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice, bob, renamed } from '../support/events.ts';

describe('CommandHandler.executeMany on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url }).start();
  });
  after(async () => { await store.close(); await db.drop(); });

  // The store as the handler sees it, counting its appends; `beforeAppendMany` runs once, first.
  function counted(beforeAppendMany?: () => Promise<void>) {
    const calls = { append: 0, appendMany: 0 };
    let hook = beforeAppendMany;
    const wrapped: EventStore = Object.create(store, {
      append: { value: (...args: Parameters<EventStore['append']>) => { calls.append++; return store.append(...args); } },
      appendMany: {
        value: async (appends: Parameters<EventStore['appendMany']>[0]) => {
          calls.appendMany++;
          const h = hook;
          hook = undefined;
          await h?.();
          return store.appendMany(appends);
        },
      },
    });
    return { calls, handler: new CommandHandler({ store: wrapped }) };
  }
  const cmd = (type: string, data: object, actor = alice, commandId = randomUUID()) => ({ type, data, metadata: { commandId, actor } });
  const start = (id: string, actor = alice) => cmd('StartConversation', { conversationId: id, title: 'T' }, actor);
  const submit = (id: string, m: string, actor = alice) => cmd('SubmitMessage', { conversationId: id, messageId: m, generationId: `g-${m}`, content: `text ${m}` }, actor);

  it('waits its turn behind this process\'s other commands on the same streams instead of racing them (no retries needed)', async () => {
    // maxRetries 0: a single conflict would fail a group. A burst of sends into one conversation and a
    // batch renaming it, all at once: the batch takes the conversation's lane like the sends do.
    const handler = new CommandHandler({ store, maxRetries: 0 });
    const id = randomUUID();
    assert.ok((await handler.executeAll([start(id)])).ok);
    const sends = Array.from({ length: 20 }, (_, i) => handler.executeAll([submit(id, `m${i}-${id}`)]));
    const batches = Array.from({ length: 5 }, (_, i) => handler.executeMany([[cmd('RenameConversation', { conversationId: id, title: `title ${i}` })]]));
    const results = [...(await Promise.all(sends)), ...(await Promise.all(batches)).flat()];
    assert.deepEqual(results.filter((r) => !r.ok), []);
    assert.equal((await store.readStream(`conversation-${id}`)).length, 1 + 20 + 5);
  });

  it('decides groups on many streams and appends them in one appendMany; a rejected group does not stop the others', async () => {
    const { calls, handler } = counted();
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const missing = randomUUID();
    const results = await handler.executeMany([
      ...ids.map((id) => [start(id), submit(id, `m-${id}`)]),
      [submit(missing, 'orphan')], // no such conversation
      [{ type: 'SubmitMessage', data: { conversationId: ids[0] } }], // invalid
    ]);
    assert.deepEqual(calls, { append: 0, appendMany: 1 });
    assert.deepEqual(results.slice(0, 5).map((r) => r.ok && [r.streamId, r.nextRevision, r.duplicate]), ids.map((id) => [`conversation-${id}`, 1, false]));
    assert.ok(!results[5]!.ok && results[5]!.error.code !== 'VALIDATION', JSON.stringify(results[5]));
    assert.ok(!results[6]!.ok && results[6]!.error.code === 'VALIDATION');
    for (const id of ids) {
      const events = await store.readStream(`conversation-${id}`);
      assert.deepEqual(events.map((e) => e.type), ['ConversationStarted', 'MessageSubmitted']);
    }
    assert.deepEqual(await store.readStream(`conversation-${missing}`), []);
    const positions = results.slice(0, 5).map((r) => r.ok && r.position);
    assert.equal(new Set(positions.map((p) => String(p).split('/')[0])).size, 1, 'one transaction');
  });

  it('decides groups on one stream in order, each against the ones before it', async () => {
    const { handler } = counted();
    const id = randomUUID();
    const [started, first, second, again] = await handler.executeMany([
      [start(id)], [submit(id, 'a')], [submit(id, 'b')], [start(id)],
    ]);
    assert.ok(started!.ok && first!.ok && second!.ok);
    assert.deepEqual([started.nextRevision, first.nextRevision, second.nextRevision], [0, 1, 2]);
    assert.ok(!again!.ok, 'a second start on the same conversation is rejected by the decider');
    assert.deepEqual((await store.readStream(`conversation-${id}`)).map((e) => e.type), ['ConversationStarted', 'MessageSubmitted', 'MessageSubmitted']);
  });

  it('is idempotent: the same batch again, or a command done before through execute, answers duplicate', async () => {
    const { handler } = counted();
    const [a, b] = [randomUUID(), randomUUID()];
    const earlier = start(b);
    assert.ok((await handler.execute(earlier)).ok);
    const batch = [[start(a)], [submit(a, 'x')], [earlier]];
    const first = await handler.executeMany(batch);
    assert.deepEqual(first.map((r) => r.ok && r.duplicate), [false, false, true]);
    const head = await store.streamRevision(`conversation-${a}`);
    const fresh = counted().handler; // another process: nothing cached
    const replay = await fresh.executeMany(batch);
    assert.deepEqual(replay.map((r) => r.ok && r.duplicate), [true, true, true]);
    assert.deepEqual(replay.map((r) => r.ok && r.events.map((e) => e.metadata.eventId)), first.map((r) => r.ok && r.events.map((e) => e.metadata.eventId)));
    assert.equal(await store.streamRevision(`conversation-${a}`), head);
  });

  it('on a conflict reads the streams again and decides again', async () => {
    const id = randomUUID();
    const other = randomUUID();
    assert.ok((await counted().handler.execute(start(id))).ok);
    // Another writer appends to the conversation between the handler's read and its append.
    const { calls, handler } = counted(async () => { await store.append(`conversation-${id}`, [renamed(id, 'meanwhile')], { expectedRevision: 0 }); });
    const results = await handler.executeMany([[submit(id, 'late')], [start(other, bob)]]);
    assert.ok(results.every((r) => r.ok), JSON.stringify(results));
    assert.equal(calls.appendMany, 2);
    assert.deepEqual((await store.readStream(`conversation-${id}`)).map((e) => e.type), ['ConversationStarted', 'ConversationRenamed', 'MessageSubmitted']);
    assert.equal(results[0]!.ok && results[0]!.nextRevision, 2);
  });

  it('appends `also` events in the same atomic call, and a conflict on them is the caller\'s', async () => {
    const { handler } = counted();
    const id = randomUUID();
    const side = `conversation-${randomUUID()}`;
    const results = await handler.executeMany([[start(id)]], { also: [{ streamId: side, events: [renamed('c', 'side')], expectedRevision: 'no_stream' }] });
    assert.ok(results[0]!.ok);
    assert.equal((await store.readStream(side)).length, 1);
    const next = randomUUID();
    await assert.rejects(handler.executeMany([[start(next)]], { also: [{ streamId: side, events: [renamed('c', 'x')], expectedRevision: 'no_stream' }] }), { code: 'CONCURRENCY' });
    assert.deepEqual(await store.readStream(`conversation-${next}`), [], 'nothing of the call was stored');
    await assert.rejects(handler.executeMany([[start(next)]], { also: [{ streamId: `conversation-${next}`, events: [renamed(next, 'x')], expectedRevision: 'any' }] }), /both by a command and by `also`/);
  });
});
