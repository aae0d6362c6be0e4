import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// A subscription whose source fails after it started (the database went away mid-follow, a key
// could not be read) ends with one error event instead of an exception. graphql-sse consumes the
// stream in a detached promise: an exception there was an unhandled rejection that took the whole
// process down (one client's failed subscription at /graphql/stream stopped every turn on the
// server). Yoga's own SSE at /graphql already answered with an error event; now both do.

const ended = () => new GraphQLError('internal error: the subscription ended; subscribe again to resume', { extensions: { code: 'INTERNAL' } });

async function* endOnFailure(source: AsyncIterable<ExecutionResult>): AsyncGenerator<ExecutionResult> {
  try {
    yield* source;
  } catch (error) {
    console.error('subscription failed', error);
    yield { errors: [ended()] };
  }
}

const isAsyncIterable = (x: unknown): x is AsyncIterable<ExecutionResult> => typeof (x as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';

export const subscriptionFailures: Plugin = {
  onSubscribe() {
    return {
      onSubscribeResult({ result, setResult }) {
        if (isAsyncIterable(result)) setResult(endOnFailure(result));
        // A subscription refused before it started ({errors}, no data): graphql-sse only takes a
        // result with a `data` key for one, and otherwise answered "400 Unable to detect operation
        // AST", hiding the reason (NOT_FOUND, BAD_USER_INPUT...) from the client.
        else if (!('data' in result)) setResult({ ...result, data: null });
      },
    };
  },
};
