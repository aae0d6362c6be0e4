import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';

// Admission before work: an over-limit body is refused with a 413 that reaches the client, every
// time, on every route that reads a body — whether the client declared its length or not.

const TWO_MB = Buffer.alloc(2 << 20, 0x61);

// A raw node:http client: what the status was, or the socket error the client saw instead.
function post(url: string, path: string, token: string | null, chunked: boolean): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': TWO_MB.length }),
      },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    if (chunked) {
      // 32 chunks of 64 KiB: the server sees the limit crossed mid-stream.
      let i = 0;
      const next = () => {
        while (i < 32) {
          const ok = req.write(TWO_MB.subarray(i * 65536, (i + 1) * 65536));
          i++;
          if (!ok) return void req.once('drain', next);
        }
        req.end();
      };
      next();
    } else {
      req.end(TWO_MB);
    }
  });
}

describe('request bodies over the limit', () => {
  let server: TestServer;
  let token: string;
  before(async () => {
    // The dev sign-in route reads its switch from the process environment.
    process.env.PARLEY_DEV_LOGIN = 'on';
    server = await startTestServer();
    delete process.env.PARLEY_DEV_LOGIN;
    token = await server.token({ userId: `big-${randomUUID().slice(0, 8)}`, tenantId: 'acme', roles: ['user'] });
  });
  after(async () => server?.stop());

  for (const path of ['/v1/chat/completions', '/graphql', '/graphql/stream', '/auth/dev-login']) {
    it(`${path}: a 2 MB body gets a 413 every time, with and without content-length`, async () => {
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        for (const chunked of [false, true]) {
          const r = await post(server.url, path, token, chunked);
          seen.push('status' in r ? String(r.status) : r.error);
          if ('status' in r && r.status === 413) {
            const body = JSON.parse(r.body) as { error?: { code?: string }; errors?: { extensions?: { code?: string } }[] };
            assert.ok(body.error?.code || body.errors?.[0]?.extensions?.code, r.body);
          }
        }
      }
      assert.deepEqual(seen.filter((s) => s !== '413'), [], `all 40 answered 413: ${seen.join(',')}`);
    });
  }

  it('the server still answers small requests on the same routes afterwards', async () => {
    const r = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ me { userId } }' }),
    });
    assert.equal(r.status, 200);
    assert.match(((await r.json()) as { data: { me: { userId: string } } }).data.me.userId, /^big-/);
    const login = await fetch(`${server.url}/auth/dev-login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob' }) });
    assert.equal(login.status, 200);
  });
});
