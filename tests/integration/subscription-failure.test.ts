import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-sse';
import { signToken } from '../../read-api/auth.ts';
import type { Services } from '../../read-api/context.ts';
import { createEventsResolvers } from '../../read-api/graphql/events-resolvers.ts';
import { createApi } from '../../read-api/server.ts';
import type { EventStreams } from '../../streams/replay.ts';

// A subscription whose source fails after it started (the database went away mid-follow) must end
// that subscription with an error event — on Yoga's SSE (/graphql) and on graphql-sse
// (/graphql/stream) alike — and never take the server down with it.

const secret = 's'.repeat(32);
const failingStreams = {
  follow: async function* () {
    yield { position: '1/1', type: 'MessageSubmitted' };
    throw new Error('connection terminated unexpectedly');
  },
} as unknown as EventStreams;

describe('a subscription that fails mid-stream', () => {
  let url: string;
  let close: () => Promise<void>;
  let token: string;

  before(async () => {
    const services = { jwtSecret: secret, knex: null, keys: null } as unknown as Services;
    const { server } = createApi({ services, resolvers: [createEventsResolvers(failingStreams)] });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
    token = await signToken(secret, { userId: 'dan', tenantId: 'acme', roles: ['data_scientist'] });
  });
  after(async () => close?.());

  const QUERY = 'subscription { eventAppended { type position } }';

  it('ends with an INTERNAL error on graphql-sse, and the server answers afterwards', async () => {
    for (const singleConnection of [false, true]) {
      const client = createClient({ url: `${url}/graphql/stream`, headers: { authorization: `Bearer ${token}` }, singleConnection, retryAttempts: 0 });
      const results: unknown[] = [];
      try {
        for await (const r of client.iterate({ query: QUERY })) results.push(r);
      } catch (error) {
        results.push({ thrown: String(error) });
      } finally {
        client.dispose();
      }
      assert.deepEqual((results[0] as any).data.eventAppended, { type: 'MessageSubmitted', position: '1/1' });
      assert.equal((results.at(-1) as any).errors?.[0]?.extensions?.code, 'INTERNAL', JSON.stringify(results));
    }
    const health = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { userId } }' }) });
    assert.deepEqual(await health.json(), { data: { me: { userId: 'dan' } } });
  });

  it('ends with an INTERNAL error on Yoga\'s SSE', async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: QUERY }),
    });
    const frames = (await res.text()).split('\n').filter((l) => l.startsWith('data:') && l.length > 6).map((l) => JSON.parse(l.slice(5)));
    assert.deepEqual(frames[0].data.eventAppended, { type: 'MessageSubmitted', position: '1/1' });
    assert.equal(frames.at(-1).errors?.[0]?.extensions?.code, 'INTERNAL', JSON.stringify(frames));
  });
});
