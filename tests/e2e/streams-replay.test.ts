// Replay of the event log for data scientists, end to end on PostgreSQL: GraphQL (connection and
// SSE subscription), GET /v1/events (NDJSON) and `parley replay` (a child process).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-sse';
import { comparePositions, type RecordedEvent } from '../../eventstore/port.ts';
import type { ReplayManifestJson } from '../../streams/manifest.ts';
import type { WireEvent } from '../../streams/privacy.ts';
import { alice } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';
import { carol, ev, scientist, seedStory, type Story } from '../support/streams-fixtures.ts';

describe('event streams for data scientists, end to end', () => {
  let server: TestServer;
  let gql: ReturnType<typeof graphqlClient>;
  let story: Story;
  let ds: string;
  let user: string;
  // The server's own roles may append (the saga answers submitted messages), so expectations are
  // taken from the log up to a position the test has seen, never from a count of everything.
  const log = () => server.app.store.readAll({ limit: 100_000 });
  const upTo = (events: RecordedEvent[], position: string) => events.filter((e) => comparePositions(e.position, position) <= 0);
  const mine = (streamId: string) => [story.kept.conversationId, story.kept.generationId, story.erased.conversationId, story.erased.generationId]
    .some((id) => streamId.endsWith(id)) || streamId === 'user-dana';
  const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
  const renameMany = async (n: number) => {
    const id = randomUUID();
    await server.app.store.append(`conversation-${id}`, [ev.started(id, carol, 'bulk')], { expectedRevision: 'no_stream' });
    await server.app.store.append(`conversation-${id}`, Array.from({ length: n }, (_, i) => ev.renamed(id, `bulk ${i}`, carol)), { expectedRevision: 0 });
  };

  before(async () => {
    server = await startTestServer();
    gql = graphqlClient(server.url);
    ds = await server.token(scientist);
    user = await server.token(alice);
    story = await seedStory(server.app.store);
    // The fixture appends UserDataErased without destroying Dana's key first (eraseUserData does),
    // so until the erasure is readable in log order her text is still decryptable. It becomes
    // readable once the transactions that began before it (the saga reacting to the seeded turns) have ended;
    // before this wait the first test failed in CI showing "dana message".
    await until('the erasure to be readable', async () => (await server.app.store.readAll({ types: ['UserDataErased'] })).length > 0);
  });
  after(async () => server?.stop());

  const EVENTS = `query($after: String, $types: [String!], $first: Int) { events(after: $after, types: $types, first: $first) {
    edges { cursor node { position eventId type version storedVersion schemaId streamId revision recordedAt data metadata withheld { reason fields } } }
    pageInfo { hasNextPage endCursor } } }`;

  describe('GraphQL', () => {
    it('pages through the log with position cursors, filters by type, and withholds erased users\' content', async () => {
      const seen: any[] = [];
      let cursor: string | null = null;
      for (;;) {
        const r: any = await gql(ds, EVENTS, { after: cursor, first: 4 });
        assert.equal(r.errors, undefined, JSON.stringify(r.errors));
        const { edges, pageInfo } = r.data.events;
        for (const e of edges) assert.equal(e.cursor, e.node.position);
        seen.push(...edges.map((e: any) => e.node));
        if (!pageInfo.hasNextPage) break;
        assert.equal(pageInfo.endCursor, edges.at(-1).cursor);
        cursor = pageInfo.endCursor;
      }
      const expected = upTo(await log(), seen.at(-1).position);
      assert.deepEqual(seen.map((e) => e.eventId), expected.map((e) => e.metadata.eventId), 'every event once, in log order');

      const message = seen.find((e) => e.type === 'MessageSubmitted' && e.data.conversationId === story.kept.conversationId);
      assert.equal(message.data.content, 'carol message');
      assert.equal(message.version, 2);
      assert.equal(message.storedVersion, 1);
      assert.match(message.schemaId, /MessageSubmitted\.v2\.json$/);
      const erased = seen.find((e) => e.type === 'MessageSubmitted' && e.data.conversationId === story.erased.conversationId);
      assert.deepEqual(erased.data.content, { withheld: 'erased' });
      assert.deepEqual(erased.withheld, { reason: 'erased', fields: ['content'] });
      assert.equal(erased.metadata.actor.userId, 'dana');

      const tokens: any = await gql(ds, EVENTS, { types: ['TokensGenerated', 'FeedbackGiven'], first: 1000 });
      const nodes = tokens.data.events.edges.map((e: any) => e.node);
      assert.deepEqual(new Set(nodes.map((e: any) => e.type)), new Set(['TokensGenerated', 'FeedbackGiven']));
      assert.equal(nodes.filter((e: any) => mine(e.streamId)).length, 6);
    });

    it('is for the data_scientist role only, and rejects bad arguments with BAD_USER_INPUT', async () => {
      assert.equal(codeOf(await gql(user, EVENTS)), 'FORBIDDEN');
      assert.equal(codeOf(await gql(null, EVENTS)), 'UNAUTHENTICATED');
      for (const [vars, field] of [[{ after: 'nope' }, 'after'], [{ types: ['NoSuchEvent'] }, 'types'], [{ first: 0 }, 'first'], [{ first: 5000 }, 'first']] as const) {
        const r = await gql(ds, EVENTS, vars);
        assert.equal(codeOf(r), 'BAD_USER_INPUT', JSON.stringify(vars));
        assert.equal(r.errors![0]!.extensions!.field, field);
      }
    });

    it('eventAppended catches up then follows live, with no gap or duplicate at the seam (graphql-sse client)', async () => {
      await renameMany(300); // enough catch-up to append into
      const from = (await log())[3]!.position;
      const client = createClient({ url: `${server.url}/graphql`, headers: { authorization: `Bearer ${ds}` }, retryAttempts: 0 });
      const sub = client.iterate<{ eventAppended: { position: string; eventId: string; type: string; data: any } }>({
        query: 'subscription($after: String) { eventAppended(after: $after) { position eventId type data } }',
        variables: { after: from },
      });
      const convo = randomUUID();
      const received: string[] = [];
      let appended = 0;
      let lastId: string | null = null;
      const appendLive = async () => {
        const e = appended === 0 ? ev.started(convo, carol, 'live 0') : ev.renamed(convo, `live ${appended}`, carol);
        await server.app.store.append(`conversation-${convo}`, [e], { expectedRevision: appended === 0 ? 'no_stream' : appended - 1 });
        appended++;
        lastId = e.metadata.eventId;
      };
      const deadline = setTimeout(() => void sub.return?.(), 15_000);
      try {
        for await (const result of sub) {
          assert.equal(result.errors, undefined, JSON.stringify(result.errors));
          const e = result.data!.eventAppended;
          received.push(e.eventId);
          // Appends land while the subscription is still catching up, and after it went live.
          if (received.length === 1 || received.length === 50 || (received.length > 300 && appended < 8)) await appendLive();
          if (e.eventId === lastId && appended >= 8) break;
        }
      } finally {
        clearTimeout(deadline);
        client.dispose();
      }
      const expected = (await server.app.store.readAll({ from, limit: 100_000 })).map((e) => e.metadata.eventId);
      assert.equal(appended, 8);
      assert.equal(new Set(received).size, received.length, 'no duplicate');
      assert.deepEqual(received, expected.slice(0, received.length), 'no gap, log order');
      assert.equal(received.at(-1), lastId);
    });

    it('eventAppended filters by type, and refuses other roles', async () => {
      const head = await server.app.store.headPosition();
      const client = createClient({ url: `${server.url}/graphql`, headers: { authorization: `Bearer ${ds}` }, retryAttempts: 0 });
      const sub = client.iterate<{ eventAppended: { type: string; data: any } }>({
        query: 'subscription($after: String) { eventAppended(after: $after, types: ["ConversationRenamed"]) { type data } }',
        variables: { after: head },
      });
      const convo = randomUUID();
      setTimeout(() => void server.app.store.append(`conversation-${convo}`, [ev.started(convo, carol, 'x'), ev.renamed(convo, 'only this', carol)], { expectedRevision: 'no_stream' }), 100);
      const first = await sub.next();
      await sub.return?.();
      client.dispose();
      assert.deepEqual(first.value.data.eventAppended, { type: 'ConversationRenamed', data: { conversationId: convo, title: 'only this' } });

      const forbidden = createClient({ url: `${server.url}/graphql`, headers: { authorization: `Bearer ${user}` }, retryAttempts: 0 });
      const denied = forbidden.iterate({ query: 'subscription { eventAppended { type } }' });
      const r = await denied.next().catch((e: unknown) => ({ value: { errors: Array.isArray(e) ? e : [e] } }));
      forbidden.dispose();
      assert.equal((r.value as any).errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(r.value));
    });
  });

  describe('GET /v1/events (NDJSON)', () => {
    const get = (query: string, token: string | null = ds) =>
      fetch(`${server.url}/v1/events${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const lines = async (res: Response) => (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as WireEvent);

    it('streams the log as NDJSON up to the head, resumable from the last cursor', async () => {
      const all = await get('');
      assert.equal(all.status, 200);
      assert.match(all.headers.get('content-type')!, /application\/x-ndjson/);
      const events = await lines(all);
      const head = all.headers.get('x-parley-head')!;
      assert.equal(events.at(-1)!.position, head, 'up to the head when the request came');
      assert.deepEqual(events.map((e) => e.eventId), upTo(await log(), head).map((e) => e.metadata.eventId));

      const resumed: WireEvent[] = [];
      let cursor = '';
      for (let i = 0; i < 1000; i++) {
        const page = await lines(await get(`?limit=97${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`));
        if (page.length === 0) break;
        resumed.push(...page);
        cursor = page.at(-1)!.position;
      }
      const expected = upTo(await log(), resumed.at(-1)!.position);
      assert.deepEqual(resumed.map((e) => e.position), expected.map((e) => e.position), 'pages chained by the last cursor = the whole log');

      const erased = events.find((e) => e.type === 'TokensGenerated' && e.streamId === `generation-${story.erased.generationId}`)!;
      assert.deepEqual(erased.data.text, { withheld: 'erased' });
      const kept = events.find((e) => e.type === 'TokensGenerated' && e.streamId === `generation-${story.kept.generationId}`)!;
      assert.equal(kept.data.text, 'carol tok');
    });

    it('filters by type (comma-separated or repeated)', async () => {
      const a = await lines(await get('?types=UserDataErased,FeedbackGiven'));
      const b = await lines(await get('?types=UserDataErased&types=FeedbackGiven'));
      assert.deepEqual(a.map((e) => e.eventId), b.map((e) => e.eventId));
      assert.deepEqual(new Set(a.map((e) => e.type)), new Set(['FeedbackGiven', 'UserDataErased']));
      assert.deepEqual(a.filter((e) => mine(e.streamId)).map((e) => e.type).sort(), ['FeedbackGiven', 'FeedbackGiven', 'UserDataErased']);
    });

    it('answers bad requests with JSON errors', async () => {
      const cases: [string, string | null, number, string, string?][] = [
        ['', null, 401, 'UNAUTHENTICATED'],
        ['', 'garbage', 401, 'UNAUTHENTICATED'],
        ['', user, 403, 'FORBIDDEN'],
        ['?after=latest', ds, 400, 'BAD_USER_INPUT', 'after'],
        ['?types=Nope', ds, 400, 'BAD_USER_INPUT', 'types'],
        ['?limit=0', ds, 400, 'BAD_USER_INPUT', 'limit'],
        ['?limit=ten', ds, 400, 'BAD_USER_INPUT', 'limit'],
        ['?from=1/1', ds, 400, 'BAD_USER_INPUT', 'from'],
        ['?after=1/1&after=2/2', ds, 400, 'BAD_USER_INPUT', 'after'],
      ];
      for (const [query, token, status, code, field] of cases) {
        const res = await get(query, token === 'garbage' ? 'not-a-jwt' : token);
        assert.equal(res.status, status, query);
        assert.match(res.headers.get('content-type')!, /application\/json/);
        const body = (await res.json()) as { error: { code: string; field?: string; message: string } };
        assert.equal(body.error.code, code, query);
        if (field) assert.equal(body.error.field, field, query);
        assert.ok(body.error.message.length > 0);
      }
      const post = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${ds}` } });
      assert.equal(post.status, 405);
    });
  });

  describe('parley replay (CLI)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-replay-'));
    const run = (args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['bin/parley.mjs', 'replay', ...args], {
          env: { ...process.env, ...server.sharedEnv, PARLEY_HOME: dir },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`replay timed out:\n${stderr}`)); }, 60_000);
        child.stderr.on('data', (d) => { stderr += d; onStderr?.(stderr, child); });
        child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
      });
    const readJsonl = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as WireEvent);
    const readManifest = (file: string) => JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as ReplayManifestJson;

    it('writes the chosen types after a cursor to JSONL with a manifest; --resume continues the file', async () => {
      const after = (await log())[0]!.position; // skips the first ConversationStarted: not one of the types anyway
      const out = path.join(dir, 'events.jsonl');
      const first = await run(['--after', after, '--types', 'MessageSubmitted,TokensGenerated', '--out', out, '--limit', '3']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(readJsonl(out).length, 3);
      const resumed = await run(['--resume', '--types', 'MessageSubmitted,TokensGenerated', '--out', out]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resuming/);

      const events = readJsonl(out);
      const manifest = readManifest(out);
      const expected = upTo(await server.app.store.readAll({ types: ['MessageSubmitted', 'TokensGenerated'], limit: 100_000 }), manifest.headAtStart!);
      assert.deepEqual(events.map((e) => e.eventId), expected.map((e) => e.metadata.eventId), 'no gap, no duplicate across the resume');
      assert.equal(manifest.count, expected.length);
      assert.equal(manifest.firstCursor, expected[0]!.position);
      assert.equal(manifest.lastCursor, expected.at(-1)!.position);
      assert.equal(manifest.complete, true);
      assert.deepEqual(manifest.types, ['MessageSubmitted', 'TokensGenerated']);
      assert.deepEqual(manifest.schemaVersions.MessageSubmitted, {
        version: 2, schemaId: events.find((e) => e.type === 'MessageSubmitted')!.schemaId, count: 2, storedVersions: { 1: 2 },
      });
      assert.equal(manifest.schemaVersions.TokensGenerated!.count, events.filter((e) => e.type === 'TokensGenerated').length);
      assert.equal(manifest.withheld.erased, events.filter((e) => e.withheld?.reason === 'erased').length);
      assert.equal(events.filter((e) => mine(e.streamId) && e.withheld?.reason === 'erased').length, 3, "dana's message and two token chunks");
    });

    it('rejects bad options with a clear message and a non-zero exit', async () => {
      const r = await run(['--types', 'Nope', '--out', path.join(dir, 'x.jsonl')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unknown event type\(s\): Nope/);
      const bad = await run(['--after', 'yesterday', '--out', path.join(dir, 'x.jsonl')]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--after must be a cursor/);
    });

    it('--follow keeps tailing new events until interrupted, and leaves a manifest naming the last one', async () => {
      const out = path.join(dir, 'follow.jsonl');
      const head = await server.app.store.headPosition();
      const convo = randomUUID();
      const live: RecordedEvent[] = [];
      let triggered = false;
      const result = await run(['--after', head, '--types', 'ConversationStarted,ConversationRenamed', '--out', out, '--follow'], (stderr, child) => {
        if (triggered || !stderr.includes('following new events')) return;
        triggered = true;
        void (async () => {
          await server.app.store.append(`conversation-${convo}`, [ev.started(convo, carol, 'tail 0')], { expectedRevision: 'no_stream' });
          for (let i = 1; i <= 3; i++) await server.app.store.append(`conversation-${convo}`, [ev.renamed(convo, `tail ${i}`, carol)], { expectedRevision: i - 1 });
          live.push(...(await server.app.store.readStream(`conversation-${convo}`)));
          // Interrupt once the last one is in the file.
          for (let i = 0; i < 200; i++) {
            try {
              if (readJsonl(out).some((e) => e.eventId === live.at(-1)!.metadata.eventId)) break;
            } catch { /* not there yet */ }
            await new Promise((r) => setTimeout(r, 50));
          }
          child.kill('SIGINT');
        })();
      });
      assert.equal(result.code, 0, result.stderr);
      const events = readJsonl(out);
      assert.deepEqual(events.map((e) => e.eventId), live.map((e) => e.metadata.eventId));
      const manifest = readManifest(out);
      assert.equal(manifest.lastCursor, live.at(-1)!.position);
      assert.equal(manifest.count, 4);
      assert.equal(manifest.follow, true);
    });
  });
});
