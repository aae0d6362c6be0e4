import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { InProcessLimiter, type QuotaLimiter, type Scope, type Ticket } from '../../read-api/rate-limit/limiter.ts';
import { loadLevel } from '../../read-api/rate-limit/load.ts';
import { RedisLimiter } from '../../read-api/rate-limit/redis-limiter.ts';
import { lowestTiers, parseTiers, tierOfToken } from '../../read-api/rate-limit/tiers.ts';
import { REDIS_URL, requireRedis } from '../support/redis.ts';

const scope = (key: string, rpm: number, tpm: number, streams: number): Scope => ({ key, limits: { rpm, tpm, streams } });

// rpm 3: four requests at once are refused and charge nothing; three pass; then one more is refused.
async function requestsAtOnce(l: QuotaLimiter, key: string) {
  const s = [scope(key, 3, 1000, 10)];
  const four = await l.admit({ ticketId: randomUUID(), scopes: s, tokens: 4, stream: false, requests: 4 });
  assert.ok(!four.ok && four.limit === 'rpm', JSON.stringify(four));
  assert.equal((await l.admit({ ticketId: randomUUID(), scopes: s, tokens: 3, stream: false, requests: 3 })).ok, true);
  const one = await l.admit({ ticketId: randomUUID(), scopes: s, tokens: 1, stream: false });
  assert.ok(!one.ok && one.limit === 'rpm', JSON.stringify(one));
}

describe('in-process limiter (token buckets, fake clock)', () => {
  it('requests per minute: a burst up to the limit, then refilled evenly', async () => {
    let now = 0;
    const l = new InProcessLimiter(() => now);
    const s = [scope('u:a', 3, 1000, 10)];
    for (let i = 0; i < 3; i++) assert.equal((await l.admit({ ticketId: `t${i}`, scopes: s, tokens: 1, stream: false })).ok, true);
    const refused = await l.admit({ ticketId: 'x', scopes: s, tokens: 1, stream: false });
    assert.ok(!refused.ok && refused.limit === 'rpm' && refused.retryAfterMs === 20_000, JSON.stringify(refused));
    now += 20_000; // one request's worth
    assert.equal((await l.admit({ ticketId: 'y', scopes: s, tokens: 1, stream: false })).ok, true);
  });

  it('several requests admitted at once (a GraphQL request\'s turns): all charged, or none', async () => {
    await requestsAtOnce(new InProcessLimiter(() => 0), 'u:batch');
  });

  it('tokens per minute: reserved up front, the unused part refunded at settlement', async () => {
    const l = new InProcessLimiter(() => 0);
    const s = [scope('u:b', 100, 1000, 10)];
    const a = await l.admit({ ticketId: 'a', scopes: s, tokens: 800, stream: false });
    assert.ok(a.ok);
    const b = await l.admit({ ticketId: 'b', scopes: s, tokens: 300, stream: false });
    assert.ok(!b.ok && b.limit === 'tpm');
    await l.settle({ ticketId: 'a', scopes: s, reserved: a.reserved, stream: false }, 120);
    assert.equal((await l.admit({ ticketId: 'c', scopes: s, tokens: 300, stream: false })).ok, true, 'the refund makes room');
  });

  it('all scopes or none: a tenant refusal charges the user nothing', async () => {
    const l = new InProcessLimiter(() => 0);
    const tenant = scope('t:x', 1, 1000, 10);
    assert.ok((await l.admit({ ticketId: '1', scopes: [scope('u:x1', 5, 1000, 10), tenant], tokens: 1, stream: false })).ok);
    const r = await l.admit({ ticketId: '2', scopes: [scope('u:x2', 5, 1000, 10), tenant], tokens: 1, stream: false });
    assert.ok(!r.ok && r.scope === 't:x');
    for (let i = 0; i < 5; i++) assert.ok((await l.admit({ ticketId: `u${i}`, scopes: [scope('u:x2', 5, 1000, 10)], tokens: 1, stream: false })).ok);
  });

  it('concurrent streams: a slot is held until settled', async () => {
    const l = new InProcessLimiter(() => 0);
    const s = [scope('u:c', 100, 10_000, 1)];
    const a = await l.admit({ ticketId: 'a', scopes: s, tokens: 1, stream: true });
    assert.ok(a.ok);
    const b = await l.admit({ ticketId: 'b', scopes: s, tokens: 1, stream: true });
    assert.ok(!b.ok && b.limit === 'streams');
    await l.settle({ ticketId: 'a', scopes: s, reserved: a.reserved, stream: true }, 1);
    assert.ok((await l.admit({ ticketId: 'b', scopes: s, tokens: 1, stream: true })).ok);
  });
});

describe('Redis limiter (atomic Lua)', async () => {
  // No Redis: these fail with one line saying what to install (never skipped).
  let reachable = false;
  before(async () => { await requireRedis(); reachable = true; });
  const prefix = `parley:test:${randomUUID()}:`;
  const limiters: QuotaLimiter[] = [];
  after(async () => {
    for (const l of limiters) await l.close();
    if (!reachable) return; // nothing was written, and ioredis would retry an absent server forever
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    r.disconnect();
  });

  it('several requests admitted at once: all charged, or none', async () => {
    const l = new RedisLimiter(REDIS_URL, prefix);
    limiters.push(l);
    await requestsAtOnce(l, 'u:rbatch');
  });

  it('two processes\' limiters share one budget; 40 racing requests admit exactly the limit', async () => {
    const a = new RedisLimiter(REDIS_URL, prefix);
    const b = new RedisLimiter(REDIS_URL, prefix);
    limiters.push(a, b);
    const s = [scope('u:r1', 10, 100_000, 100), scope('t:r', 1000, 1_000_000, 1000)];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).admit({ ticketId: `t${i}`, scopes: s, tokens: 5, stream: false })));
    assert.equal(results.filter((r) => r.ok).length, 10);
    const refused = results.find((r) => !r.ok);
    assert.ok(refused && !refused.ok && refused.limit === 'rpm' && refused.retryAfterMs > 0 && refused.retryAfterMs <= 6000);
  });

  it('tokens reserved and refunded; stream slots held, released and renewed', async () => {
    const l = new RedisLimiter(REDIS_URL, prefix);
    limiters.push(l);
    const s = [scope('u:r2', 100, 1000, 1)];
    const a = await l.admit({ ticketId: 'a', scopes: s, tokens: 900, stream: true });
    assert.ok(a.ok);
    const t: Ticket = { ticketId: 'a', scopes: s, reserved: a.reserved, stream: true };
    const b = await l.admit({ ticketId: 'b', scopes: s, tokens: 50, stream: true });
    assert.ok(!b.ok && b.limit === 'streams');
    await l.renew([t]);
    const c = await l.admit({ ticketId: 'c', scopes: s, tokens: 500, stream: false });
    assert.ok(!c.ok && c.limit === 'tpm');
    await l.settle(t, 100);
    const d = await l.admit({ ticketId: 'd', scopes: s, tokens: 500, stream: true });
    assert.ok(d.ok, 'refund and released slot');
  });
});

describe('tiers and load levels', () => {
  it('PARLEY_TIERS merges over the defaults; the tier comes from the token claim', () => {
    const tiers = parseTiers('{"free":{"user":{"rpm":5}},"gold":{"priority":9,"user":{"rpm":1,"tpm":2,"streams":3},"tenant":{"rpm":1,"tpm":2,"streams":3}}}');
    assert.equal(tiers.free!.user.rpm, 5);
    assert.equal(tiers.free!.user.tpm, 40_000);
    assert.equal(tiers.gold!.priority, 9);
    assert.deepEqual([...lowestTiers(tiers)], ['free']);
    const jwt = (claims: object) => `Bearer x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;
    assert.equal(tierOfToken(jwt({ tier: 'gold' }), tiers), 'gold');
    assert.equal(tierOfToken(jwt({ tier: 'platinum' }), tiers), 'free');
    assert.equal(tierOfToken(null, tiers), 'free');
    assert.throws(() => parseTiers('{"new":{"priority":1}}'));
  });

  it('watermarks: queue depth or KV usage above the first → brownout, above the second → shed', () => {
    const c = { brownoutQueueDepth: 4, shedQueueDepth: 8, brownoutKvUsage: 0.8, shedKvUsage: 0.95, brownoutMaxTokens: 32, retryAfterS: 2 };
    assert.equal(loadLevel({ queueDepth: 0, kvUsage: 0.1, engines: 1 }, c), 0);
    assert.equal(loadLevel({ queueDepth: 4, kvUsage: 0.1, engines: 1 }, c), 1);
    assert.equal(loadLevel({ queueDepth: 0, kvUsage: 0.85, engines: 1 }, c), 1);
    assert.equal(loadLevel({ queueDepth: 9, kvUsage: 0.1, engines: 1 }, c), 2);
    assert.equal(loadLevel({ queueDepth: 0, kvUsage: 0.96, engines: 1 }, c), 2);
  });
});
