// Deciders of user memory and documents, and the passage chunker: pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideMemory, evolveMemory, initialMemoryState } from '../../domain/memory.ts';
import { canReadDocument, decideDocument, evolveDocument, initialDocumentState } from '../../domain/document.ts';
import { chunkWords } from '../../knowledge/chunker.ts';
import { MEMORIES_PER_USER } from '../../schemas/knowledge.ts';
import type { Actor } from '../../schemas/common.ts';
import type { ParleyEvent } from '../../schemas/events.ts';

const meta = (actor: Actor) => ({ commandId: 'c', actor });
const stamp = (e: any): ParleyEvent => ({ ...e, metadata: { eventId: '00000000-0000-4000-8000-000000000000', correlationId: 'x', causationId: null, commandId: 'c', actor: { userId: 'u', tenantId: 't', roles: [] }, occurredAt: '2026-01-01T00:00:00Z' } });
const ann: Actor = { userId: 'ann', tenantId: 'acme', roles: ['user'] };
const ben: Actor = { userId: 'ben', tenantId: 'acme', roles: ['user'] };
const boss: Actor = { userId: 'boss', tenantId: 'acme', roles: ['admin'] };
const eve: Actor = { userId: 'eve', tenantId: 'evil', roles: ['admin'] };

test('memory: save records the caller as the owner; forget needs an existing memory; at most MEMORIES_PER_USER', () => {
  const saved = decideMemory({ type: 'SaveMemory', data: { memoryId: 'm1', text: 'I like tea' }, metadata: meta(ann) }, initialMemoryState());
  assert.ok(saved.ok);
  assert.deepEqual(saved.events[0]!.data, { memoryId: 'm1', userId: 'ann', tenantId: 'acme', text: 'I like tea' });
  const state = saved.events.map(stamp).reduce(evolveMemory, initialMemoryState());
  assert.equal(decideMemory({ type: 'SaveMemory', data: { memoryId: 'm1', text: 'again' }, metadata: meta(ann) }, state).ok, false);
  const missing = decideMemory({ type: 'ForgetMemory', data: { memoryId: 'nope' }, metadata: meta(ann) }, state);
  assert.equal(!missing.ok && missing.error.code, 'NOT_FOUND');
  const forgot = decideMemory({ type: 'ForgetMemory', data: { memoryId: 'm1' }, metadata: meta(ann) }, state);
  assert.ok(forgot.ok);
  assert.equal(forgot.events.map(stamp).reduce(evolveMemory, state).facts.size, 0);
  const full = { facts: new Map(Array.from({ length: MEMORIES_PER_USER }, (_, i) => [`m${i}`, { memoryId: `m${i}`, text: 't', savedAt: '' }])) };
  const over = decideMemory({ type: 'SaveMemory', data: { memoryId: 'x', text: 'one more' }, metadata: meta(ann) }, full);
  assert.equal(!over.ok && over.error.code, 'INVALID_FIELD');
});

test('memory: another user\'s fact is forgotten only by an admin of their tenant (the retention job), with the reason recorded', () => {
  const saved = decideMemory({ type: 'SaveMemory', data: { memoryId: 'm1', text: 'I like tea' }, metadata: meta(ann) }, initialMemoryState());
  assert.ok(saved.ok);
  const state = saved.events.map(stamp).reduce(evolveMemory, initialMemoryState());
  const forget = (actor: Actor) => decideMemory({ type: 'ForgetMemory', data: { memoryId: 'm1', userId: 'ann', tenantId: 'acme', reason: 'retention' }, metadata: meta(actor) }, state);
  assert.equal((forget(ben) as any).error.code, 'NOT_FOUND', 'a colleague does not learn it exists');
  assert.equal((forget(eve) as any).error.code, 'NOT_FOUND', 'an admin of another tenant neither');
  const byAdmin = forget(boss);
  assert.ok(byAdmin.ok);
  assert.deepEqual(byAdmin.events[0]!.data, { memoryId: 'm1', userId: 'ann', tenantId: 'acme', reason: 'retention' });
  const operator = forget({ userId: 'parley-retention', tenantId: 'system', roles: ['admin', 'platform_operator'] });
  assert.ok(operator.ok, 'the platform retention job reaches every tenant');
});

test('document: the caller’s tenant owns it; another tenant gets NOT_FOUND, another user FORBIDDEN, the owner or an admin removes it', () => {
  const added = decideDocument({ type: 'AddDocument', data: { documentId: 'd1', collection: 'kb', visibility: 'private', title: 'T', text: 'body' }, metadata: meta(ann) }, initialDocumentState());
  assert.ok(added.ok);
  assert.equal(added.events[0]!.type === 'DocumentAdded' && added.events[0].data.tenantId, 'acme');
  const state = added.events.map(stamp).reduce(evolveDocument, initialDocumentState());
  const remove = (actor: Actor) => decideDocument({ type: 'RemoveDocument', data: { documentId: 'd1' }, metadata: meta(actor) }, state);
  assert.equal((remove(eve) as any).error.code, 'NOT_FOUND');
  assert.equal((remove(ben) as any).error.code, 'NOT_FOUND', 'a private document does not exist for another user');
  assert.ok(remove(boss).ok);
  const removed = remove(ann);
  assert.ok(removed.ok);
  const gone = removed.events.map(stamp).reduce(evolveDocument, state);
  assert.equal((decideDocument({ type: 'RemoveDocument', data: { documentId: 'd1' }, metadata: meta(ann) }, gone) as any).error.code, 'NOT_FOUND');
  const shared = { tenantId: 'acme', ownerId: 'ann', visibility: 'shared' as const };
  assert.equal(canReadDocument(ben, shared), true);
  assert.equal(canReadDocument(eve, shared), false);
  assert.equal(canReadDocument(ben, { ...shared, visibility: 'private' }), false);
  // platform_operator only widens a role: alone, another tenant's operator is nobody here.
  assert.equal(canReadDocument({ userId: 'ops', tenantId: 'evil', roles: ['platform_operator'] }, shared), false);
  assert.equal(canReadDocument({ userId: 'ops', tenantId: 'evil', roles: ['admin', 'platform_operator'] }, shared), true);
});

test('chunker: passages within the token budget, overlapping, covering every word in order', () => {
  const words = Array.from({ length: 230 }, (_, i) => `w${i}`);
  const chunks = chunkWords(words.join(' '), () => 1, { maxTokens: 50, overlapTokens: 10 });
  assert.ok(chunks.every((c) => c.tokens <= 50));
  assert.equal(chunks[0]!.text.split(' ')[0], 'w0');
  assert.equal(chunks.at(-1)!.text.split(' ').at(-1), 'w229');
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!.text.split(' ');
    const next = chunks[i]!.text.split(' ');
    assert.equal(prev.slice(-10).join(' '), next.slice(0, 10).join(' '), 'ten words of overlap');
  }
  assert.deepEqual(chunkWords('', () => 1, { maxTokens: 5, overlapTokens: 1 }), []);
  assert.deepEqual(chunkWords('huge', () => 99, { maxTokens: 5, overlapTokens: 1 }).map((c) => c.text), ['huge']);
});
