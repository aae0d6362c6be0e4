import { GraphQLError } from 'graphql';
import type { CommandError } from '../commands/command-result.ts';

// UNAVAILABLE: a dependency (the quota store) cannot be reached; nothing was done — retry after `retryAfter` s.
export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'INTERNAL';

export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

// Command-side error codes → the API's stable codes.
export function fromCommandError(error: CommandError): GraphQLError {
  const extra: Record<string, unknown> = { reason: error.code };
  if (error.field) extra.field = error.field;
  switch (error.code) {
    case 'VALIDATION':
    case 'INVALID_FIELD':
    case 'PARENT_NOT_FOUND':
    case 'TOO_MANY_MESSAGES':
      return apiError('BAD_USER_INPUT', error.message, extra);
    case 'NOT_FOUND':
      return apiError('NOT_FOUND', error.message, extra);
    case 'FORBIDDEN':
      return apiError('FORBIDDEN', error.message, extra);
    default:
      return apiError('CONFLICT', error.message, extra);
  }
}
