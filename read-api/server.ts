import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { GraphQLError } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { authenticate } from './auth.ts';
import { createLoaders, type GraphQLContext, type Services } from './context.ts';
import { boundedDocumentCache } from './graphql/document-cache.ts';
import { documentLimits } from './graphql/document-limits.ts';
import { graphqlSse } from './graphql/sse-endpoint.ts';
import { subscriptionFailures } from './graphql/subscription-failures.ts';
import { buildSchema } from './graphql/schema.ts';
import { handleAuditExport } from './http/audit-export.ts';
import { applyCors, corsPolicy, type CorsPolicy } from './http/cors.ts';
import { handleUserExport } from './subject-access/index.ts';
import { answerUnreadBody, ClientGoneError, MAX_BODY_BYTES, readBody } from './http/body.ts';
import { createHealthRoute, type Readiness } from './http/health.ts';
import { sendJson, sendV1Error } from './http/json.ts';
import { BAD_TARGET, requestUrl } from './http/request-url.ts';

export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export type ApiOptions = {
  services: Services; routes?: HttpRoute[]; resolvers?: Record<string, object>[];
  ready?: () => Promise<boolean | Readiness>;
  // Extra Yoga plugins (e.g. the metrics' GraphQL timing).
  plugins?: Plugin[];
  /** cross-origin access to /v1 and GraphQL (http/cors.ts); default: PARLEY_CORS_ORIGINS's default */
  cors?: CorsPolicy;
};

export function createApi({ services, routes = [], resolvers = [], ready, plugins = [], cors = corsPolicy(undefined) }: ApiOptions) {
  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, GraphQLContext>({
    schema: buildSchema(resolvers) as never,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // CORS is answered for every route alike (http/cors.ts); Yoga's own would echo any origin with credentials.
    cors: false,
    // Only small documents are cached, so one-off large ones cannot pin heap (document-cache.ts).
    parserAndValidationCache: { documentCache: boundedDocumentCache(), errorCache: boundedDocumentCache() },
    // /graphql serves Yoga's own SSE (and graphql-sse's distinct-connections mode);
    // /graphql/stream serves the graphql-sse protocol in both modes (single connection too).
    plugins: [documentLimits, subscriptionFailures, maxDepthPlugin({ n: 15, ignoreIntrospection: false }), costLimitPlugin({ maxCost: 20000 }), badInputCodes, graphqlSse('/graphql/stream'), ...plugins],
    // No stack traces or internals to clients: unexpected errors become INTERNAL.
    maskedErrors: {
      maskError(error) {
        const original = (error as GraphQLError).originalError;
        if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
          if (!error.extensions?.code) {
            // The same error given the stable code: Yoga logs every error its mask replaces, and a
            // client's bad variable is not a server error (nor worth logging its value, up to 1 MB).
            return Object.assign(error, { extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } });
          }
          return error;
        }
        console.error('internal error', original ?? error);
        return new GraphQLError('internal error', { path: (error as GraphQLError).path, extensions: { code: 'INTERNAL' } });
      },
    },
    context: async ({ request }) => {
      const auth = await authenticate(services.jwtSecret, request.headers.get('authorization'));
      return {
        services,
        actor: auth.actor,
        authError: auth.actor ? null : auth.error,
        loaders: createLoaders(services.knex, services.keys),
      };
    },
  });

  // The body is read here, under the size limit, before Yoga parses anything; Yoga then takes it
  // from req.body (@whatwg-node/server uses a body already read when there is one).
  async function serveGraphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return void yoga(req, res);
    const read = await readBody(req, MAX_BODY_BYTES);
    if (!read.ok) {
      const message = `the request body is larger than ${read.limit} bytes`;
      return answerUnreadBody(req, res, 413, JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' } }] }));
    }
    const body = read.body;
    // An async iterable with an own enumerable key: what @whatwg-node/server accepts as a read body.
    if (body.length > 0) Object.assign(req, { body: { bytes: body.length, async *[Symbol.asyncIterator]() { yield body; } } });
    return void yoga(req, res);
  }

  const builtIn: HttpRoute[] = [
    createHealthRoute(ready), // /healthz, /readyz
    (req, res, url) => handleAuditExport(services, req, res, url),
    (req, res, url) => handleUserExport(services, req, res, url),
  ];

  const server: Server = createServer(async (req, res) => {
    const url = requestUrl(req);
    if (!url) return void sendJson(res, 400, BAD_TARGET);
    if (applyCors(cors, req, res, url.pathname)) return; // a preflight, answered
    try {
      for (const route of [...builtIn, ...routes]) if (await route(req, res, url)) return;
      if (url.pathname === '/graphql' || url.pathname === '/graphql/stream') return void (await serveGraphql(req, res));
      const message = `no route for ${req.method} ${url.pathname.slice(0, 200)}`;
      if (url.pathname === '/v1' || url.pathname.startsWith('/v1/')) sendV1Error(res, 404, message, 'not_found');
      else sendJson(res, 404, { error: { message, code: 'NOT_FOUND' } });
    } catch (error) {
      if (error instanceof ClientGoneError) return; // no one left to answer
      console.error('request failed', error);
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'internal error', code: 'INTERNAL' } });
      else res.end();
    }
  });
  // Keep-alive: the client must be the side that closes an idle connection. With Node's 5 s the
  // server may close a socket at the moment a client (undici's fetch, whose own idle timeout is
  // shorter but runs on a busy event loop) reuses it, and that request fails with "other side
  // closed" although it never reached Parley (2 of 10,000 fuzzed requests in the chaos run).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return { server, yoga };
}

// Malformed or invalid operations are the client's input errors: one stable code for them.
const badInputCodes: Plugin = {
  onValidate() {
    return ({ result, setResult }) => {
      if (result.length === 0) return;
      setResult(result.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } })));
    };
  },
};
