// The body of an OpenAI-compatible request: JSON, within a size limit, or an error in OpenAI's
// shape (400 invalid_content_type / invalid_json, 413 request_too_large). One reader for
// /v1/chat/completions, /v1/responses, /v1/moderations and /v1/embeddings, and one writer of their
// JSON answers and of their unexpected failures.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerUnreadBody, MAX_BODY_BYTES, readBody } from '../http/body.ts';
import type { Logger } from '../observability/logger.ts';
import { invalidRequest, OpenAiError, sendOpenAiError } from './errors.ts';

export async function readJsonBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type && !/^application\/json\b/i.test(type)) throw invalidRequest('the body must be JSON (content-type: application/json)', null, 'invalid_content_type');
  const read = await readBody(req, limit);
  if (!read.ok) throw new OpenAiError(413, `the request body is larger than ${read.limit} bytes`, 'invalid_request_error', 'request_too_large');
  try {
    return JSON.parse(read.body.toString('utf8'));
  } catch {
    throw invalidRequest('We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)', null, 'invalid_json');
  }
}

/** Answers an OpenAI-shaped error; a 413 is answered without reading the rest of the body (which
 *  was not read to its end), so that the client still receives it. */
export function answerOpenAiError(req: IncomingMessage, res: ServerResponse, error: OpenAiError, headers: Record<string, string>): void {
  if (error.status === 413) answerUnreadBody(req, res, 413, JSON.stringify(error.body()), { ...error.headers, ...headers });
  else sendOpenAiError(res, error, headers);
}

/** A JSON answer with its length (an OpenAI client reads the whole body at once). */
export function sendJsonBody(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** What a /v1 route answers for what it threw: an OpenAiError as itself; anything else is logged
 *  (as `what`) and answered as a 500 server_error that names nothing of it. */
export function answerRouteError(req: IncomingMessage, res: ServerResponse, error: unknown, headers: Record<string, string>, logger: Logger, what: string): void {
  if (error instanceof OpenAiError) {
    answerOpenAiError(req, res, error, headers);
    return;
  }
  logger.error({ err: error, ...headers }, what);
  sendOpenAiError(res, new OpenAiError(500, 'internal error', 'server_error'), headers);
}
