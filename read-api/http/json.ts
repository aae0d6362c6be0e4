import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

// Under /v1 every error has OpenAI's shape, so OpenAI clients read it: {"error": {"message", "type", "param", "code"}}.
export function sendV1Error(res: ServerResponse, status: number, message: string, code: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { message, type: 'invalid_request_error', param: null, code } }, headers);
}
