import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CommandHandler } from '../../commands/command-handler.ts';
import { PostgresEventStore } from '../../eventstore/postgres/event-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { admin, alice, bob } from '../support/events.ts';

describe('command handlers on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let handler: CommandHandler;
  before(async () => {
    db = await createTestDatabase();
    store = await new PostgresEventStore({ connectionString: db.url }).start();
    handler = new CommandHandler({ store });
  });
  after(async () => { await store.close(); await db.drop(); });

  const start = (conversationId: string, commandId = randomUUID()) =>
    handler.execute({ type: 'StartConversation', data: { conversationId, title: 'Plans', systemPrompt: 'Be brief.' }, metadata: { commandId, actor: alice } });

  it('starts, submits, renames and deletes, returning revision and position', async () => {
    const id = randomUUID();
    const started = await start(id);
    assert.ok(started.ok);
    assert.equal(started.nextRevision, 0);
    const msg = await handler.execute({ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm1', generationId: 'g1', content: 'hello' }, metadata: { commandId: randomUUID(), actor: alice } });
    assert.ok(msg.ok);
    assert.equal(msg.nextRevision, 1);
    assert.ok(msg.events[0]!.type === 'MessageSubmitted' && msg.events[0]!.data.params.maxTokens === 256, 'defaults applied');
    const renamed = await handler.execute({ type: 'RenameConversation', data: { conversationId: id, title: 'Trip' }, metadata: { commandId: randomUUID(), actor: alice } });
    assert.ok(renamed.ok);
    const deleted = await handler.execute({ type: 'DeleteConversation', data: { conversationId: id }, metadata: { commandId: randomUUID(), actor: alice } });
    assert.ok(deleted.ok);
    const events = await store.readStream(`conversation-${id}`);
    assert.deepEqual(events.map((e) => e.type), ['ConversationStarted', 'MessageSubmitted', 'ConversationRenamed', 'ConversationDeleted']);
    assert.equal(events[3]!.position, deleted.position);
    const late = await handler.execute({ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm2', generationId: 'g2', content: 'more' }, metadata: { commandId: randomUUID(), actor: alice } });
    assert.deepEqual(late, { ok: false, error: { code: 'CONVERSATION_DELETED', message: 'conversation is deleted', field: 'conversationId' } });
  });

  it('returns a validation error naming the field and appends nothing', async () => {
    const id = randomUUID();
    const before = await store.headPosition();
    const cases: [unknown, string][] = [
      [{ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm1', generationId: 'g1', content: 42 }, metadata: { commandId: 'x', actor: alice } }, 'content'],
      [{ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm1', generationId: 'g1', content: 'hi', params: { temperature: 9 } }, metadata: { commandId: 'x', actor: alice } }, 'params.temperature'],
      [{ type: 'StartConversation', data: { conversationId: 'has spaces' }, metadata: { commandId: 'x', actor: alice } }, 'conversationId'],
      [{ type: 'GiveFeedback', data: { generationId: 'g', rating: 'meh' }, metadata: { commandId: 'x', actor: alice } }, 'rating'],
    ];
    for (const [command, field] of cases) {
      const result = await handler.execute(command);
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'VALIDATION');
      assert.equal(result.error.field, field);
    }
    const unknown = await handler.execute({ type: 'LaunchRocket', data: {}, metadata: { commandId: 'x', actor: alice } });
    assert.ok(!unknown.ok && unknown.error.code === 'VALIDATION' && unknown.error.field === 'type');
    assert.equal(await store.headPosition(), before, 'nothing appended');
  });

  it('treats a retried command (same commandId) as the same command', async () => {
    const id = randomUUID();
    const commandId = randomUUID();
    const a = await start(id, commandId);
    const b = await start(id, commandId);
    assert.ok(a.ok && b.ok);
    assert.equal(b.duplicate, true);
    assert.equal(b.position, a.position);
    const [x, y] = await Promise.all([
      handler.execute({ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm1', generationId: 'g1', content: 'once' }, metadata: { commandId: 'same', actor: alice } }),
      handler.execute({ type: 'SubmitMessage', data: { conversationId: id, messageId: 'm1', generationId: 'g1', content: 'once' }, metadata: { commandId: 'same', actor: alice } }),
    ]);
    assert.ok(x!.ok && y!.ok);
    assert.equal((await store.readStream(`conversation-${id}`)).length, 2);
  });

  it('retries on conflict so concurrent distinct commands all land', async () => {
    const id = randomUUID();
    await start(id);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        handler.execute({ type: 'SubmitMessage', data: { conversationId: id, messageId: `m${i}`, generationId: `g${i}`, content: `msg ${i}` }, metadata: { commandId: randomUUID(), actor: alice } })),
    );
    assert.ok(results.every((r) => r.ok), JSON.stringify(results.filter((r) => !r.ok)));
    const events = await store.readStream(`conversation-${id}`);
    assert.equal(events.length, 9);
    assert.deepEqual(events.map((e) => e.revision), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("does not let one user touch another user's conversation", async () => {
    const id = randomUUID();
    await start(id);
    const result = await handler.execute({ type: 'RenameConversation', data: { conversationId: id, title: 'mine now' }, metadata: { commandId: randomUUID(), actor: bob } });
    assert.ok(!result.ok && result.error.code === 'NOT_FOUND');
  });

  // Worker-side appends: a long answer is many AppendTokens on one growing generation stream.
  describe('a growing generation stream', () => {
    const requestFor = (generationId: string) => ({
      type: 'RequestGeneration',
      data: {
        generationId, conversationId: randomUUID(), messageId: randomUUID(), ownerId: 'alice', tenantId: 't1', model: 'parley-tiny',
        params: {}, context: { includedMessageIds: [], droppedMessageIds: [], promptTokens: 3 },
      },
      metadata: { commandId: randomUUID(), actor: admin },
    });
    const tokens = (generationId: string, firstIndex: number, n = 4) => ({
      type: 'AppendTokens',
      data: { generationId, attempt: 1, firstIndex, tokenIds: Array.from({ length: n }, (_, i) => firstIndex + i + 1), text: `[${firstIndex}]` },
      metadata: { commandId: randomUUID(), actor: admin },
    });

    it('each command reads only the events appended since the previous one', async () => {
      const reads: number[] = []; // fromRevision of every read
      const watched = new Proxy(store, {
        get: (target, key, receiver) => key === 'readStream'
          ? (streamId: string, options: { fromRevision?: number } = {}) => {
            reads.push(options.fromRevision ?? 0);
            return target.readStream(streamId, options);
          }
          : Reflect.get(target, key, receiver),
      });
      const worker = new CommandHandler({ store: watched });
      const g = randomUUID();
      assert.ok((await worker.execute(requestFor(g))).ok);
      for (let i = 0; i < 20; i++) assert.ok((await worker.execute(tokens(g, i * 4))).ok, `chunk ${i}`);
      // The request finds no stream; from then on each read starts where the previous one ended.
      assert.deepEqual(reads, [0, ...Array.from({ length: 20 }, (_, i) => i)], 'never from the start again');
      const events = await store.readStream(`generation-${g}`);
      assert.equal(events.length, 21);
      assert.equal(events.slice(1).map((e) => (e.data as { text: string }).text).join(''), Array.from({ length: 20 }, (_, i) => `[${i * 4}]`).join(''));
    });

    it('sees what another process appended meanwhile', async () => {
      const a = new CommandHandler({ store });
      const b = new CommandHandler({ store });
      const g = randomUUID();
      assert.ok((await a.execute(requestFor(g))).ok);
      assert.ok((await a.execute(tokens(g, 0))).ok);
      assert.ok((await b.execute(tokens(g, 4))).ok);
      const next = await a.execute(tokens(g, 8));
      assert.ok(next.ok, 'a decides on the chunk b appended');
      const gap = await a.execute(tokens(g, 8));
      assert.ok(!gap.ok && gap.error.code === 'TOKEN_INDEX_GAP', 'and on its own last one');
    });
  });
});
