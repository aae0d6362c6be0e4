import { GraphQLError, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// Hard limits on a GraphQL document, checked before graphql-js parses it. Its parser is recursive
// descent, so a document nested 10,000 levels deep overflows the stack inside parse() — before
// graphql-armor's max-depth (which needs the parsed document) can say no. So: a size limit, a
// linear scan of bracket nesting ({ ( [ outside strings and comments), then parse with a token
// limit (graphql-js's own maxTokens). Each refusal is a 400 with BAD_USER_INPUT.

export const MAX_DOCUMENT_CHARS = 256 * 1024;
// Parley's deepest legitimate document is the standard introspection query (about 12 levels).
export const MAX_NESTING = 40;
export const MAX_TOKENS = 20_000;

// The first limit the document breaks, or null.
export function documentProblem(source: string): string | null {
  if (source.length > MAX_DOCUMENT_CHARS) return `the query document is longer than ${MAX_DOCUMENT_CHARS} characters`;
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        // Block string: ends at the next """ not escaped as \""".
        i += 3;
        while (i < source.length && !(source.startsWith('"""', i) && source[i - 1] !== '\\')) i++;
        i += 2;
      } else {
        i++;
        while (i < source.length && source[i] !== '"' && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      }
    } else if (c === '{' || c === '(' || c === '[') {
      if (++depth > MAX_NESTING) return `the query document is nested deeper than ${MAX_NESTING} levels`;
    } else if (c === '}' || c === ')' || c === ']') {
      depth--;
    }
  }
  return null;
}

const refuse = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

export const documentLimits: Plugin = {
  onParse({ params, setParseFn }) {
    const source = typeof params.source === 'string' ? params.source : params.source.body;
    const problem = documentProblem(source);
    if (problem) throw refuse(problem);
    // Too many tokens is a syntax error, reported as any other (BAD_USER_INPUT, see server.ts).
    setParseFn((src, options) => parse(src, { ...options, maxTokens: MAX_TOKENS }));
  },
};
