import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { ErrorCode } from '../errors.ts';

// The graphql-sse protocol (both modes: distinct connections and a single connection) at
// /graphql/stream, run through Yoga's envelop (its context, plugins, parse and validate caches).
//
// Yoga's own graphql-sse plugin hands a document that does not parse, does not validate or names no
// operation to graphql-sse as a plain `{errors}`, which graphql-sse does not take for a result: the
// client got an HTTP 400 "Unable to detect operation AST" (or a 500 for a syntax error), and
// graphql-sse, urql and Apollo clients report that as a network error without the reason. Here every
// such refusal is an execution result — `data: null` and the errors, each with `extensions.code` —
// which graphql-sse sends as a `next` event on the stream, so clients see a GraphQL error.

const PARLEY_CODES = new Set<string>(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL'] satisfies ErrorCode[]);

// Parley's stable code for a client's bad document (another library's code, e.g. a parse error's, is BAD_USER_INPUT with
// that code as its reason); Yoga's internal `http` hint is not the client's business.
const withCode = (error: unknown): GraphQLError => {
  const e = error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error));
  const { http: _http, code, ...extensions } = e.extensions ?? {};
  const stable = typeof code === 'string' && PARLEY_CODES.has(code) ? { code } : { code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}) };
  return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...extensions, ...stable } });
};
const refused = (errors: readonly unknown[]): ExecutionResult => ({ data: null, errors: errors.map(withCode) });

// Errors raised before a subscription starts (a missing variable, a resolver's refusal) pass Yoga's error mask,
// which keeps its `http` hint: Yoga's own responses drop it, graphql-sse does not.
function clean(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((e) => e.extensions?.http)) return result;
  return { ...result, errors: result.errors.map((e) => (e.extensions?.http ? withCode(e) : e)) };
}
const isAsyncIterable = (x: unknown): x is AsyncIterable<ExecutionResult> => typeof (x as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';

export function graphqlSse(endpoint = '/graphql/stream'): Plugin {
  const serverContexts = new WeakMap<Request, object>();
  let handler: (request: Request) => Promise<Response>;
  return {
    onYogaInit({ yoga }) {
      handler = createHandler({
        async onSubscribe(req, params) {
          const enveloped = yoga.getEnveloped({ ...serverContexts.get(req.raw), request: req.raw, params } as unknown as YogaInitialContext);
          let document: DocumentNode;
          try {
            document = enveloped.parse(params.query);
          } catch (error) {
            return refused([error]);
          }
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return refused(errors);
          const operation = getOperationAST(document, params.operationName);
          if (!operation) return refused([new GraphQLError(params.operationName ? `no operation named "${params.operationName}"` : 'the document must hold exactly one operation, or name one with operationName')]);
          const contextValue = await enveloped.contextFactory();
          const args = { schema: enveloped.schema, document, contextValue, variableValues: params.variables, operationName: params.operationName };
          const result = await ((operation.operation === 'subscription' ? enveloped.subscribe(args) : enveloped.execute(args)) as Promise<ExecutionResult | AsyncIterable<ExecutionResult>>);
          // A stream is passed on as it is (wrapping it would delay its return() on disconnect).
          return isAsyncIterable(result) ? result : clean(result);
        },
      }, yoga.fetchAPI);
    },
    onRequest({ request, endResponse, serverContext }) {
      const path = request.url.split('?')[0]!;
      if (!path.endsWith(endpoint)) return;
      serverContexts.set(request, serverContext as object);
      return handler(request).then(endResponse);
    },
  };
}
