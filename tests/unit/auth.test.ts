import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { authenticate, signToken } from '../../read-api/auth.ts';
import type { Actor } from '../../schemas/common.ts';

// Bearer tokens → actors. Verified tokens are remembered (the HMAC is a visible share of a turn's
// CPU), so these check what the memory must never change: the secret, the expiry, bad tokens.
const alice: Actor = { userId: 'alice', tenantId: 'acme', roles: ['user'] };

describe('authenticate', () => {
  it('accepts a good token again and again, and never under another secret', async () => {
    const token = await signToken('secret-one', alice);
    for (let i = 0; i < 3; i++) assert.deepEqual(await authenticate('secret-one', `Bearer ${token}`), { actor: alice });
    const other = await authenticate('secret-two', `Bearer ${token}`);
    assert.equal(other.actor, null);
    assert.match((other as { error: string }).error, /invalid token/);
  });

  it('stops accepting a remembered token once it expires', async () => {
    // exp is in whole seconds: now + 1 could be 1 ms away (it failed once under load); 3 s is room
    // for the first check, then the test waits until exp has passed.
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ tenant: 'acme', roles: ['user'] }).setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice').setExpirationTime(exp).sign(new TextEncoder().encode('s'));
    assert.deepEqual(await authenticate('s', `Bearer ${token}`), { actor: alice });
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    const later = await authenticate('s', `Bearer ${token}`);
    assert.equal(later.actor, null);
    assert.match((later as { error: string }).error, /exp/);
  });

  it('rejects an edited token even after the original was accepted', async () => {
    const token = await signToken('s', alice);
    assert.deepEqual(await authenticate('s', `Bearer ${token}`), { actor: alice });
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'alice', tenant: 'evil', roles: ['admin'] })).toString('base64url')}.${sig}`;
    assert.equal((await authenticate('s', `Bearer ${forged}`)).actor, null);
    assert.equal((await authenticate('s', 'Basic abc')).actor, null);
    assert.deepEqual(await authenticate('s', undefined), { actor: null, error: null });
  });
});
