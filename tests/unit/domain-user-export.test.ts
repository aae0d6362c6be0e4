import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainEvent } from '../../domain/decision.ts';
import { decideUser, evolveUser, initialUserState } from '../../domain/user.ts';
import { floorViolations } from '../../safety/index.ts';
import { ParleyCommand } from '../../schemas/commands.ts';
import type { Actor } from '../../schemas/common.ts';
import { admin, alice, bob, compliance } from '../support/events.ts';
import { cmdMeta, spec } from '../support/given-when-then.ts';

const given = spec({
  initial: initialUserState,
  evolve: evolveUser,
  decide: (c: unknown, s: ReturnType<typeof initialUserState>) => decideUser(ParleyCommand.parse(c) as never, s),
});
const exportOf = (userId: string, actor: Actor, extra: object = {}) => ({ type: 'ExportUserData', data: { userId, channel: 'graphql', ...extra }, metadata: cmdMeta(actor) });
const exported = (exportedBy: string, tenantId = 't1'): DomainEvent => ({ type: 'UserDataExported', version: 1, data: { userId: 'alice', tenantId, exportedBy, channel: 'graphql' } });
const erased: DomainEvent = { type: 'UserDataErased', version: 1, data: { userId: 'alice', tenantId: 't1', reason: 'user_request' } };

describe('user decider: subject-access exports', () => {
  it('records an export by the user themself or an admin of their tenant', () => {
    given([]).when(exportOf('alice', alice)).then([exported('alice')]);
    given([]).when(exportOf('alice', admin)).then([exported('root')]);
  });

  it('refuses anyone else, another tenant\'s admin included, without a hint of existence', () => {
    given([]).when(exportOf('alice', bob)).thenError('FORBIDDEN', 'userId');
    given([]).when(exportOf('alice', compliance)).thenError('FORBIDDEN', 'userId');
    given([]).when(exportOf('alice', { userId: 'root', tenantId: 't2', roles: ['admin'] }, { tenantId: 't1' })).thenError('FORBIDDEN', 'userId');
    // A platform operator's admin role reaches every tenant.
    given([]).when(exportOf('alice', { userId: 'ops', tenantId: 'ops', roles: ['admin', 'platform_operator'] }, { tenantId: 't1' })).then([exported('ops')]);
  });

  it('still exports after an erasure (the bundle then holds no personal text), and an export does not block an erasure', () => {
    given([erased]).when(exportOf('alice', admin)).then([exported('root')]);
    given([exported('alice')]).when({ type: 'EraseUserData', data: { userId: 'alice' }, metadata: cmdMeta(alice) }).then([erased]);
  });
});

describe('safety floors', () => {
  it('names every category a request asks to lower below a platform or tenant floor', () => {
    assert.deepEqual(floorViolations({ sexual_minors: 'BLOCK_ONLY_HIGH', dangerous: 'BLOCK_NONE', hate: 'BLOCK_NONE' }),
      [{ category: 'sexual_minors', floor: 'BLOCK_LOW_AND_ABOVE' }, { category: 'dangerous', floor: 'BLOCK_ONLY_HIGH' }]);
    assert.deepEqual(floorViolations({ dangerous: 'BLOCK_MEDIUM_AND_ABOVE', sexual_minors: 'BLOCK_LOW_AND_ABOVE', harassment: 'BLOCK_NONE' }), []);
    assert.deepEqual(floorViolations({ dangerous: 'BLOCK_LOW_AND_ABOVE' }), [], 'stricter than a floor is fine');
    const tenant = { floors: { hate: 'BLOCK_MEDIUM_AND_ABOVE' as const, dangerous: 'BLOCK_LOW_AND_ABOVE' as const } };
    assert.deepEqual(floorViolations({ hate: 'BLOCK_ONLY_HIGH' }, tenant), [{ category: 'hate', floor: 'BLOCK_MEDIUM_AND_ABOVE' }]);
    assert.deepEqual(floorViolations({ dangerous: 'BLOCK_MEDIUM_AND_ABOVE' }, tenant), [{ category: 'dangerous', floor: 'BLOCK_LOW_AND_ABOVE' }], 'the stricter of the two floors');
  });
});
