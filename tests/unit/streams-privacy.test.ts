import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { canSeeContent, CONTENT_FIELDS, ErasureIndex, present, type WireEvent } from '../../streams/privacy.ts';
import { parseAfter, parseLimit, parseTypes, ReplayInputError } from '../../streams/query.ts';
import { EventStreams } from '../../streams/replay.ts';
import { eventTypes, schemaId } from '../../schemas/events.ts';
import { carol, dana, ev, MemoryEventStore, seedStory } from '../support/streams-fixtures.ts';

const texts = (events: WireEvent[]) => JSON.stringify(events.map((e) => e.data));

describe('streams privacy: content of erased users is withheld, metadata kept', () => {
  it('withholds every text field of an erased user, even when the erasure comes later in the log', async () => {
    const store = new MemoryEventStore();
    const story = await seedStory(store);
    const index = new ErasureIndex(store);
    // Every event but the erasure itself: the erasure is after all of Dana's events.
    const recorded = (await store.readAll()).filter((e) => e.type !== 'UserDataErased');
    const wire = await present(index, recorded, { includeContent: true });
    assert.equal(wire.length, recorded.length, 'no event is dropped');

    const danas = wire.filter((e) => e.streamId.endsWith(story.erased.conversationId) || e.streamId.endsWith(story.erased.generationId));
    const carols = wire.filter((e) => e.streamId.endsWith(story.kept.conversationId) || e.streamId.endsWith(story.kept.generationId));
    assert.doesNotMatch(texts(danas), /dana (title|system|message|tok|comment)/, 'no text of the erased user leaves');
    assert.match(texts(carols), /carol message/);
    assert.match(texts(carols), /carol tok/);
    assert.match(texts(carols), /carol comment/);

    const message = danas.find((e) => e.type === 'MessageSubmitted')!;
    assert.deepEqual(message.data.content, { withheld: 'erased' });
    assert.deepEqual(message.withheld, { reason: 'erased', fields: ['content'] });
    assert.equal(message.data.messageId !== undefined, true, 'ids stay');
    assert.equal(message.metadata.actor.userId, 'dana', 'metadata stays');
    const tokens = danas.find((e) => e.type === 'TokensGenerated')!;
    assert.deepEqual(tokens.withheld, { reason: 'erased', fields: ['text', 'tokens'] }, 'token ids are content too');
    assert.equal(tokens.data.firstIndex, 0);
    const startedEvent = danas.find((e) => e.type === 'ConversationStarted')!;
    assert.deepEqual(startedEvent.withheld?.fields, ['title', 'systemPrompt']);
    assert.equal(startedEvent.data.model, 'parley-tiny');
    const completed = danas.find((e) => e.type === 'GenerationCompleted')!;
    assert.equal(completed.withheld, null, 'an event without content is untouched');
    assert.deepEqual(completed.data.usage, { promptTokens: 5, completionTokens: 2 });
  });

  it('emits events upcast, with their JSON Schema id and stored version', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const wire = await present(new ErasureIndex(store), await store.readAll(), { includeContent: true });
    const message = wire.find((e) => e.type === 'MessageSubmitted')!;
    assert.equal(message.version, 2);
    assert.equal(message.storedVersion, 1);
    assert.equal(message.data.parentMessageId, null, 'v1 upcast to v2');
    assert.equal(message.schemaId, schemaId('MessageSubmitted'));
    assert.match(message.schemaId, /MessageSubmitted\.v2\.json$/);
    for (const e of wire) assert.equal(e.eventId, e.metadata.eventId);
  });

  it('withholds all content from a reader without content access, without looking anything up', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const events = await store.readAll();
    const reads = store.reads;
    const wire = await present(new ErasureIndex(store), events, { includeContent: false });
    assert.equal(store.reads, reads);
    assert.doesNotMatch(texts(wire), /(carol|dana) (title|system|message|tok|comment)/);
    assert.ok(wire.filter((e) => e.withheld).every((e) => e.withheld!.reason === 'no_content_access'));
    assert.equal(canSeeContent(['data_scientist']), true);
    assert.equal(canSeeContent(['user', 'compliance']), false);
  });

  it('withholds summaries, memories and documents like messages: from readers without content access, and once their user is erased', async () => {
    const store = new MemoryEventStore();
    const conversationId = randomUUID();
    const meta = (actor: typeof carol) => ({ eventId: randomUUID(), correlationId: randomUUID(), causationId: null, commandId: null, actor, occurredAt: new Date().toISOString() });
    await store.append(`conversation-${conversationId}`, [
      ev.started(conversationId, carol, 'hello carol'),
      ev.submitted(conversationId, 'm1', 'carol message', carol),
      { type: 'ConversationSummarized', version: 1, metadata: meta(carol), data: { conversationId, summaryId: 's1', messageIds: ['m1'], previousSummaryId: null, text: 'carol summary' } },
    ], { expectedRevision: 'no_stream' });
    await store.append(`memory-${carol.tenantId}/${carol.userId}`, [{ type: 'MemorySaved', version: 1, metadata: meta(carol), data: { memoryId: 'f1', userId: carol.userId, tenantId: carol.tenantId, text: 'carol fact' } }], { expectedRevision: 'no_stream' });
    await store.append('document-d1', [{ type: 'DocumentAdded', version: 1, metadata: meta(carol), data: { documentId: 'd1', tenantId: carol.tenantId, ownerId: carol.userId, collection: 'kb', visibility: 'shared', title: 'carol title', text: 'carol doc' } }], { expectedRevision: 'no_stream' });
    const all = await store.readAll();
    const open = await present(new ErasureIndex(store), all, { includeContent: true });
    assert.match(texts(open), /carol summary/);
    const closed = await present(new ErasureIndex(store), all, { includeContent: false });
    assert.doesNotMatch(texts(closed), /carol (summary|fact|doc|title)/);
    assert.deepEqual(closed.find((e) => e.type === 'ConversationSummarized')!.data.messageIds, ['m1'], 'ids stay');
    await store.append('user-carol', [ev.erased(carol)], { expectedRevision: 'no_stream' });
    const erased = await present(new ErasureIndex(store), await store.readAll(), { includeContent: true });
    assert.doesNotMatch(texts(erased), /carol (summary|fact|doc|title|message)/);
    assert.deepEqual(erased.find((e) => e.type === 'DocumentAdded')!.withheld, { reason: 'erased', fields: ['title', 'text'] });
  });

  it('learns new erasures: a user erased after a first read is withheld on the next one', async () => {
    const store = new MemoryEventStore();
    const conversationId = randomUUID();
    await store.append(`conversation-${conversationId}`, [ev.started(conversationId, carol, 'hello carol')], { expectedRevision: 'no_stream' });
    const streams = new EventStreams(store);
    const first = await streams.page({ first: 10, includeContent: true });
    assert.equal(first.events[0]!.data.title, 'hello carol');
    await store.append('user-carol', [ev.erased(carol)], { expectedRevision: 'no_stream' });
    const second = await streams.page({ first: 10, includeContent: true });
    assert.deepEqual(second.events[0]!.data.title, { withheld: 'erased' });
  });

  it('looks each stream owner up once, and shares a refresh between concurrent readers', async () => {
    const store = new MemoryEventStore();
    const conversationId = randomUUID();
    await store.append(`conversation-${conversationId}`, [ev.started(conversationId, dana, 't')], { expectedRevision: 'no_stream' });
    for (let i = 0; i < 5; i++) {
      await store.append(`conversation-${conversationId}`, [ev.renamed(conversationId, `title ${i}`, dana)], { expectedRevision: 'stream_exists' });
    }
    const index = new ErasureIndex(store);
    const renames = await store.readAll({ types: ['ConversationRenamed'] });
    const before = store.reads;
    await Promise.all([present(index, renames, { includeContent: true }), present(index, renames, { includeContent: true })]);
    // One owner lookup plus, per refresh, one erasure read: far fewer than one per event.
    assert.ok(store.reads - before <= 3, `reads: ${store.reads - before}`);
  });

  it('knows which fields are content for every event type that has any', () => {
    for (const [type, fields] of Object.entries(CONTENT_FIELDS)) {
      assert.ok((eventTypes as string[]).includes(type), type);
      assert.ok(fields!.length > 0);
    }
  });
});

describe('streams replay queries', () => {
  it('validates after, types and limit with the field at fault', () => {
    assert.equal(parseAfter(undefined), '0/0');
    assert.equal(parseAfter('12/34'), '12/34');
    assert.throws(() => parseAfter('abc'), (e: unknown) => e instanceof ReplayInputError && e.field === 'after');
    assert.deepEqual(parseTypes('MessageSubmitted,TokensGenerated'), ['MessageSubmitted', 'TokensGenerated']);
    assert.deepEqual(parseTypes(['MessageSubmitted', 'MessageSubmitted']), ['MessageSubmitted']);
    assert.equal(parseTypes(''), undefined);
    assert.throws(() => parseTypes('Nope'), (e: unknown) => e instanceof ReplayInputError && e.field === 'types' && /Nope/.test(e.message));
    assert.equal(parseLimit('10', 100), 10);
    for (const bad of ['0', '-1', '1.5', 'x', '101']) assert.throws(() => parseLimit(bad, 100), ReplayInputError);
  });

  it('replays in pages up to a position, by type, and resumes after the last cursor with no gap or repeat', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const streams = new EventStreams(store);
    const all = (await store.readAll()).map((e) => e.position);
    const collected: string[] = [];
    let after: string | undefined;
    for (let round = 0; round < 20; round++) {
      const page: string[] = [];
      for await (const batch of streams.replay({ after, limit: 3, pageSize: 2, includeContent: true })) page.push(...batch.map((e) => e.position));
      if (page.length === 0) break;
      assert.ok(page.length <= 3);
      collected.push(...page);
      after = page.at(-1);
    }
    assert.deepEqual(collected, all);

    const until = all[5]!;
    const upTo: string[] = [];
    for await (const batch of streams.replay({ until, pageSize: 4, includeContent: true })) upTo.push(...batch.map((e) => e.position));
    assert.deepEqual(upTo, all.slice(0, 6));

    const tokens: string[] = [];
    for await (const batch of streams.replay({ types: ['TokensGenerated'], includeContent: true })) tokens.push(...batch.map((e) => e.type));
    assert.deepEqual(tokens, ['TokensGenerated', 'TokensGenerated', 'TokensGenerated', 'TokensGenerated']);
  });

  it('follows: catch-up then live with no gap or duplicate at the seam; return() ends a waiting follow at once', async () => {
    const store = new MemoryEventStore();
    await seedStory(store);
    const streams = new EventStreams(store);
    const follow = streams.follow({ includeContent: true });
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await follow.next()).value!.position);
    const conversationId = randomUUID();
    await store.append(`conversation-${conversationId}`, [ev.started(conversationId, carol, 'live')], { expectedRevision: 'no_stream' });
    for (;;) {
      const r = await follow.next();
      seen.push(r.value!.position);
      if (r.value!.type === 'ConversationStarted' && r.value!.data.title === 'live') break;
    }
    assert.deepEqual(seen, (await store.readAll()).map((e) => e.position));
    const waiting = follow.next(); // nothing more to come: waits for an append
    const started = Date.now();
    await follow.return!();
    assert.deepEqual(await waiting, { done: true, value: undefined });
    assert.ok(Date.now() - started < 500, 'ended promptly');
    streams.close();
  });
});
