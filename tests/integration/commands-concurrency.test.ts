import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandHandler } from '../../commands/command-handler.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { alice } from '../support/events.ts';

// Sends to one conversation are ordered, not refused: two handlers (two API processes) on one
// store, hundreds of concurrent SubmitMessage over a few conversations.

describe('concurrent commands on one stream', () => {
  let db: TestDatabase;
  let stores: PostgresEventStore[];
  let handlers: CommandHandler[];
  before(async () => {
    db = await createTestDatabase();
    stores = await Promise.all([0, 1].map(() => new PostgresEventStore({ connectionString: db.url }).start()));
    handlers = stores.map((store) => new CommandHandler({ store }));
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db.drop();
  });

  const submit = (handler: CommandHandler, conversationId: string, n: number, commandId = randomUUID()) =>
    handler.execute({ type: 'SubmitMessage', data: { conversationId, messageId: `m-${conversationId}-${n}`, generationId: `g-${conversationId}-${n}`, content: `message ${n}` }, metadata: { commandId, actor: alice } });

  it('400 sends over 4 conversations from two handlers: all accepted, each recorded once', async () => {
    const conversations = Array.from({ length: 4 }, () => randomUUID());
    for (const id of conversations) {
      const r = await handlers[0]!.execute({ type: 'StartConversation', data: { conversationId: id, title: 'race' }, metadata: { commandId: randomUUID(), actor: alice } });
      assert.ok(r.ok);
    }
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => submit(handlers[i % 2]!, conversations[i % 4]!, i)));
    const failed = results.filter((r) => !r.ok);
    assert.deepEqual(failed, [], `${failed.length} of 400 refused`);
    for (const [c, id] of conversations.entries()) {
      const events = await stores[0]!.readStream(`conversation-${id}`);
      const ids = events.filter((e) => e.type === 'MessageSubmitted').map((e) => (e.data as { messageId: string }).messageId);
      assert.equal(ids.length, 100);
      assert.equal(new Set(ids).size, 100);
      assert.deepEqual(new Set(ids), new Set(Array.from({ length: 100 }, (_, k) => `m-${id}-${c + 4 * k}`)));
      assert.deepEqual(events.map((e) => e.revision), events.map((_, k) => k), 'one gapless order');
    }
  });

  it('a command retried with its id while the first try races others is recorded once', async () => {
    const id = randomUUID();
    await handlers[0]!.execute({ type: 'StartConversation', data: { conversationId: id, title: 'retry' }, metadata: { commandId: randomUUID(), actor: alice } });
    const commandId = randomUUID();
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => submit(handlers[i % 2]!, id, 100 + i)),
      submit(handlers[0]!, id, 1, commandId), submit(handlers[1]!, id, 1, commandId), submit(handlers[0]!, id, 1, commandId),
    ]);
    assert.ok(results.every((r) => r.ok));
    const mine = (await stores[0]!.readStream(`conversation-${id}`)).filter((e) => e.metadata.commandId === commandId);
    assert.equal(mine.length, 1);
    assert.equal(results.slice(20).filter((r) => r.ok && r.duplicate).length, 2, 'the repeats answer as duplicates');
  });

  it('CONCURRENCY only for a caller that named a revision the stream has moved past', async () => {
    const id = randomUUID();
    await handlers[0]!.execute({ type: 'StartConversation', data: { conversationId: id, title: 'rev' }, metadata: { commandId: randomUUID(), actor: alice } });
    await submit(handlers[0]!, id, 1);
    const stale = await handlers[1]!.executeAll([{ type: 'RenameConversation', data: { conversationId: id, title: 'late' }, metadata: { commandId: randomUUID(), actor: alice } }], { expectedRevision: 0 });
    assert.equal(!stale.ok && stale.error.code, 'CONCURRENCY');
    const current = await handlers[1]!.executeAll([{ type: 'RenameConversation', data: { conversationId: id, title: 'on time' }, metadata: { commandId: randomUUID(), actor: alice } }], { expectedRevision: 1 });
    assert.ok(current.ok);
  });
});
