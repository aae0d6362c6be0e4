import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import type { EventStore, Position, RecordedEvent } from '../../eventstore/port.ts';
import { authorizeGeneration, type PendingCheck } from '../../read-api/graphql/generation-stream.ts';
import type { Actor } from '../../schemas/common.ts';
import { AcceptedTurns } from '../../read-api/accepted-turns.ts';

// generationStream's first step: is this a generation the caller may follow? It must answer an
// unknown id at once (no polling), and still wait for a generation whose message is submitted but
// not yet requested by the saga (sendMessage returns the id before the saga writes it).

const alice: Actor = { userId: 'alice', tenantId: 'acme', roles: ['user'] };
const mallory: Actor = { userId: 'mallory', tenantId: 'acme', roles: ['user'] };
const requested = { type: 'GenerationRequested', data: { generationId: 'g1', ownerId: 'alice', tenantId: 'acme' } } as unknown as RecordedEvent;

// A store whose generation stream appears after `after` reads (never, when null).
function store(after: number | null) {
  let reads = 0;
  const fake = {
    readStream: async (streamId: string) => {
      assert.equal(streamId, 'generation-g1');
      reads++;
      return after !== null && reads > after ? [requested] : [];
    },
  } as unknown as EventStore;
  return { fake, reads: () => reads };
}

function pending(submitted: boolean) {
  const calls: string[] = [];
  const check: PendingCheck = {
    checkpoint: async () => { calls.push('checkpoint'); return '10/5' as Position; },
    submittedAfter: async (checkpoint) => { calls.push(`submittedAfter ${checkpoint}`); return submitted; },
  };
  return { check, calls };
}

const notFound = (error: unknown) => error instanceof GraphQLError && error.extensions.code === 'NOT_FOUND' && error.extensions.field === 'id';

describe('generationStream authorization', () => {
  it('answers NOT_FOUND after one look when no submitted message names the id', async () => {
    const s = store(null);
    const p = pending(false);
    await assert.rejects(authorizeGeneration(s.fake, alice, 'g1', undefined, p.check), notFound);
    assert.equal(s.reads(), 1);
    // the checkpoint is read before the stream, so a message the saga passed has its request visible
    assert.deepEqual(p.calls, ['checkpoint', 'submittedAfter 10/5']);
  });

  it('waits for the request of a message the saga has not handled yet', async () => {
    const s = store(3);
    await authorizeGeneration(s.fake, alice, 'g1', undefined, pending(true).check);
    assert.equal(s.reads(), 4);
  });

  it('reports someone else\'s generation as missing, without waiting', async () => {
    const s = store(0);
    await assert.rejects(authorizeGeneration(s.fake, mallory, 'g1', undefined, pending(false).check), notFound);
    assert.equal(s.reads(), 1);
  });

  it('stops waiting when the client goes away', async () => {
    const s = store(null);
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(authorizeGeneration(s.fake, alice, 'g1', abort.signal, pending(true).check), notFound);
  });

  it('authorizes a turn this process just accepted without reading the log: its submitter and the tenant\'s admins', async () => {
    const accepted = new AcceptedTurns();
    accepted.remember('g1', alice);
    for (const actor of [alice, { userId: 'root', tenantId: 'acme', roles: ['admin'] } as Actor]) {
      const s = store(null);
      const p = pending(true);
      await authorizeGeneration(s.fake, actor, 'g1', undefined, p.check, accepted);
      assert.equal(s.reads(), 0);
      assert.deepEqual(p.calls, []);
    }
  });

  it('sends anyone else through the log: another user, the same user id in another tenant, another tenant\'s admin', async () => {
    const accepted = new AcceptedTurns();
    accepted.remember('g1', alice);
    const others: Actor[] = [mallory, { userId: 'alice', tenantId: 'evil', roles: ['user'] }, { userId: 'root', tenantId: 'evil', roles: ['admin'] }];
    for (const actor of others) {
      const s = store(0);
      await assert.rejects(authorizeGeneration(s.fake, actor, 'g1', undefined, pending(false).check, accepted), notFound);
      assert.equal(s.reads(), 1);
    }
  });

  it('forgets after its time to live and beyond its size, and never records a platform operator\'s turn', () => {
    let now = 0;
    const accepted = new AcceptedTurns({ maxEntries: 2, ttlMs: 1000, now: () => now });
    accepted.remember('a', alice);
    accepted.remember('b', alice);
    accepted.remember('c', alice);
    assert.equal(accepted.lookup('a'), null, 'the oldest is dropped beyond maxEntries');
    assert.deepEqual(accepted.lookup('c'), { ownerId: 'alice', tenantId: 'acme' });
    now = 1001;
    assert.equal(accepted.lookup('c'), null, 'expired');
    accepted.remember('d', { userId: 'op', tenantId: 'acme', roles: ['admin', 'platform_operator'] });
    assert.equal(accepted.lookup('d'), null);
  });
});
