import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApolloClient, ApolloLink, gql, InMemoryCache, Observable } from '@apollo/client';
import { Client as UrqlClient, subscriptionExchange } from '@urql/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client as SseClient } from 'graphql-sse';
import type { Actor } from '../../schemas/common.ts';
import { alice, bob } from '../support/events.ts';
import { graphqlClient, startTestServer, type TestServer } from '../support/server.ts';

// What a graphql-sse client sees at /graphql/stream when a subscription is refused: a GraphQL error
// with extensions.code (never an HTTP 400/500 that clients report as a network error), in both
// graphql-sse modes, and through urql and Apollo Client over graphql-sse.
type GqlError = { message: string; extensions?: { code?: string; field?: string } };

const STREAM = 'subscription($id: ID!) { generationStream(id: $id) { index delta done finishReason } }';

describe('/graphql/stream: refusals reach graphql-sse clients as GraphQL errors', () => {
  let server: TestServer;
  let token: string;
  let generationId: string;
  const otherTenant: Actor = { userId: 'alice', tenantId: 't2', roles: ['user'] };

  before(async () => {
    server = await startTestServer();
    token = await server.token(alice);
    const sent = await graphqlClient(server.url)(token, 'mutation { sendMessage(input: { content: "Hello there" }) { generation { id } } }');
    generationId = sent.data.sendMessage.generation.id;
  });
  after(async () => {
    await server?.stop();
  });

  // Headers as a function: graphql-sse's single-connection client writes its stream token into a
  // headers object it is given, so a reconnect would reuse a spent token (409 Conflict).
  const sseClient = (auth: string | null, singleConnection: boolean) => createClient({
    url: `${server.url}/graphql/stream`, headers: (): Record<string, string> => (auth ? { authorization: auth } : {}), singleConnection, retryAttempts: 0,
  });

  // The first result of a subscription; a thrown error (a network error) fails the test with its text.
  async function firstResult(client: SseClient, query: string, variables: Record<string, unknown>): Promise<ExecutionResult> {
    try {
      for await (const result of client.iterate({ query, variables })) return result as ExecutionResult;
      assert.fail('the stream completed without a result');
    } finally {
      client.dispose();
    }
  }

  for (const singleConnection of [false, true]) {
    const mode = singleConnection ? 'single connection' : 'distinct connections';
    it(`${mode}: unauthenticated, invalid, malformed, unknown and foreign subscriptions each carry their code`, async () => {
      const cases: { name: string; auth: string | null; query: string; variables?: Record<string, unknown>; code: string; field?: string }[] = [
        { name: 'no token', auth: null, query: STREAM, code: 'UNAUTHENTICATED' },
        { name: 'bad token', auth: 'Bearer not-a-jwt', query: STREAM, code: 'UNAUTHENTICATED' },
        { name: 'unknown field', auth: `Bearer ${token}`, query: 'subscription($id: ID!) { generationStream(id: $id) { nope } }', code: 'BAD_USER_INPUT' },
        { name: 'syntax error', auth: `Bearer ${token}`, query: 'subscription {', code: 'BAD_USER_INPUT' },
        { name: 'two anonymous operations', auth: `Bearer ${token}`, query: `${STREAM} ${STREAM}`, code: 'BAD_USER_INPUT' },
        { name: 'missing variable', auth: `Bearer ${token}`, query: STREAM, variables: {}, code: 'BAD_USER_INPUT' },
        { name: 'bad argument', auth: `Bearer ${token}`, query: 'subscription($id: ID!) { generationStream(id: $id, afterIndex: -5) { delta } }', code: 'BAD_USER_INPUT', field: 'afterIndex' },
        { name: 'unknown generation', auth: `Bearer ${token}`, query: STREAM, variables: { id: 'no-such-generation' }, code: 'NOT_FOUND' },
        { name: 'another user\'s generation', auth: `Bearer ${await server.token(bob)}`, query: STREAM, code: 'NOT_FOUND' },
        { name: 'another tenant\'s generation', auth: `Bearer ${await server.token(otherTenant)}`, query: STREAM, code: 'NOT_FOUND' },
      ];
      for (const c of cases) {
        const result = await firstResult(sseClient(c.auth, singleConnection), c.query, c.variables ?? { id: generationId });
        assert.equal(result.data ?? null, null, c.name);
        const errors = result.errors as GqlError[] | undefined;
        assert.equal(errors?.[0]?.extensions?.code, c.code, `${c.name}: ${JSON.stringify(result)}`);
        assert.ok(errors[0]!.message.length > 0);
        if (c.field) assert.equal(errors[0]!.extensions!.field, c.field, c.name);
        assert.equal(JSON.stringify(errors).includes('"http"'), false, `no internal hints: ${c.name} ${JSON.stringify(errors)}`);
      }
      // And the same client streams the owner's generation to its end.
      const chunks: { done: boolean }[] = [];
      const client = sseClient(`Bearer ${token}`, singleConnection);
      try {
        for await (const r of client.iterate<{ generationStream: { done: boolean } }>({ query: STREAM, variables: { id: generationId } })) {
          assert.equal(r.errors, undefined);
          chunks.push(r.data!.generationStream);
          if (r.data!.generationStream.done) break;
        }
      } finally {
        client.dispose();
      }
      assert.equal(chunks.at(-1)!.done, true);
    });
  }

  it('urql over graphql-sse: the error carries its code, and a stream reaches its end', async () => {
    const sse = sseClient(`Bearer ${token}`, true);
    const urql = new UrqlClient({
      url: `${server.url}/graphql`,
      exchanges: [subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      })],
    });
    const run = (id: string) => new Promise<{ codes: (string | undefined)[]; chunks: { done: boolean }[] }>((resolve) => {
      const chunks: { done: boolean }[] = [];
      const sub = urql.subscription(STREAM, { id }).subscribe((r) => {
        if (r.error) { sub.unsubscribe(); resolve({ codes: r.error.graphQLErrors.map((e) => e.extensions?.code as string | undefined), chunks }); return; }
        chunks.push(r.data.generationStream);
        if (r.data.generationStream.done) { sub.unsubscribe(); resolve({ codes: [], chunks }); }
      });
    });
    try {
      const missing = await run('no-such-generation');
      assert.deepEqual(missing.codes, ['NOT_FOUND']);
      const found = await run(generationId);
      assert.deepEqual(found.codes, []);
      assert.equal(found.chunks.at(-1)!.done, true);
    } finally {
      sse.dispose();
    }
  });

  it('Apollo Client over graphql-sse: the error carries its code, and a stream reaches its end', async () => {
    const sse = sseClient(`Bearer ${token}`, false);
    const link = new ApolloLink((operation) => new Observable((observer) => sse.subscribe(
      { query: print(operation.query), variables: operation.variables, operationName: operation.operationName },
      { next: (r) => observer.next(r as never), complete: () => observer.complete(), error: (e) => observer.error(e) },
    )));
    const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
    const run = (id: string) => new Promise<{ codes: unknown[]; chunks: { done: boolean }[] }>((resolve, reject) => {
      const chunks: { done: boolean }[] = [];
      const sub = apollo.subscribe<{ generationStream: { done: boolean } }>({ query: gql(STREAM), variables: { id } }).subscribe({
        next: (r) => {
          if (r.error) { sub.unsubscribe(); resolve({ codes: ((r.error as { errors?: GqlError[] }).errors ?? []).map((e) => e.extensions?.code), chunks }); return; }
          chunks.push(r.data!.generationStream);
          if (r.data!.generationStream.done) { sub.unsubscribe(); resolve({ codes: [], chunks }); }
        },
        error: reject,
      });
    });
    try {
      const missing = await run('no-such-generation');
      assert.deepEqual(missing.codes, ['NOT_FOUND']);
      const found = await run(generationId);
      assert.deepEqual(found.codes, []);
      assert.equal(found.chunks.at(-1)!.done, true);
    } finally {
      sse.dispose();
      apollo.stop();
    }
  });
});
