import type { ServerResponse } from 'node:http';

// OpenAI's error shape: {"error": {"message", "type", "param", "code"}} with the matching status.
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new OpenAiError(400, message, 'invalid_request_error', code, param);

export const unauthorized = (message: string) => new OpenAiError(401, message, 'invalid_request_error', 'invalid_api_key');

export const notFound = (message: string, code: string, param: string | null = null) => new OpenAiError(404, message, 'invalid_request_error', code, param);

export function rateLimited(message: string, retryAfterS: number, limit: string): OpenAiError {
  // type names the exhausted limit as OpenAI does ("requests" / "tokens"); the client retries after retry-after.
  const type = limit === 'rpm' ? 'requests' : limit === 'tpm' ? 'tokens' : 'concurrent_streams';
  return new OpenAiError(429, message, type, 'rate_limit_exceeded', null, { 'retry-after': String(retryAfterS), 'retry-after-ms': String(retryAfterS * 1000) });
}

export function overloaded(message: string, retryAfterS: number): OpenAiError {
  return new OpenAiError(503, message, 'server_error', 'overloaded', null, { 'retry-after': String(retryAfterS), 'retry-after-ms': String(retryAfterS * 1000) });
}

// A dependency (the quota store) is unreachable: nothing was accepted; retry after the pause.
export function unavailable(message: string, retryAfterS: number): OpenAiError {
  return new OpenAiError(503, message, 'server_error', 'service_unavailable', null, { 'retry-after': String(retryAfterS), 'retry-after-ms': String(retryAfterS * 1000) });
}

// A refused admission as the OpenAI API says it.
export function refusal(a: { kind: 'rate_limited' | 'overloaded' | 'unavailable'; message: string; retryAfterS: number; limit?: string }): OpenAiError {
  if (a.kind === 'rate_limited') return rateLimited(a.message, a.retryAfterS, a.limit!);
  return a.kind === 'unavailable' ? unavailable(a.message, a.retryAfterS) : overloaded(a.message, a.retryAfterS);
}

export function sendOpenAiError(res: ServerResponse, error: OpenAiError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(error.body());
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...error.headers,
    ...extraHeaders,
  });
  res.end(body);
}
