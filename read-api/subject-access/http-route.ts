import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Id } from '../../schemas/common.ts';
import { authenticate } from '../auth.ts';
import { invalidRequest, notFound, OpenAiError, sendOpenAiError, unauthorized } from '../openai/errors.ts';
import { newCounts, startUserDataExport, type ExportServices } from './export.ts';

const PATH = /^\/v1\/users\/([^/]+)\/export$/;

// GET /v1/users/{id}/export[?tenantId=]: the user's bundle as NDJSON (the header record first, a
// closing {"kind":"end", counts} last), for the user themself or an admin of their tenant. Errors in
// OpenAI's shape: 401, 403 (anyone else, without learning whether the user exists), 404 (unknown user).
export async function handleUserExport(services: ExportServices & { jwtSecret: string }, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const match = PATH.exec(url.pathname);
  if (!match) return false;
  if (req.method !== 'GET') {
    sendOpenAiError(res, new OpenAiError(405, `${req.method} is not allowed here; use GET`, 'invalid_request_error', 'method_not_allowed'), { allow: 'GET' });
    return true;
  }
  const auth = await authenticate(services.jwtSecret, req.headers.authorization);
  if (!auth.actor) return void sendOpenAiError(res, unauthorized(auth.error ?? 'missing bearer token'), { 'www-authenticate': 'Bearer' }), true;
  let raw: string;
  try { raw = decodeURIComponent(match[1]!); } catch { raw = match[1]!; }
  const userId = Id.safeParse(raw);
  if (!userId.success) return void sendOpenAiError(res, invalidRequest('the user id must be 1-128 of A-Z a-z 0-9 _ . : -', 'id')), true;
  const tenant = url.searchParams.get('tenantId');
  if (tenant !== null && !Id.safeParse(tenant).success) return void sendOpenAiError(res, invalidRequest('tenantId is not a valid id', 'tenantId')), true;

  const started = await startUserDataExport(services, auth.actor, userId.data, 'http', tenant ?? undefined);
  if (!started.ok) {
    const error = started.code === 'NOT_FOUND' ? notFound(started.message, 'user_not_found', 'id')
      : started.code === 'FORBIDDEN' ? new OpenAiError(403, started.message, 'permission_error', 'forbidden', 'id')
        : started.code === 'BAD_USER_INPUT' ? invalidRequest(started.message, started.field ?? 'id')
          : new OpenAiError(500, started.message, 'server_error', 'internal_error');
    return void sendOpenAiError(res, error), true;
  }
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store',
    'content-disposition': `attachment; filename="parley-export-${started.header.tenantId}-${userId.data}.ndjson"`,
  });
  const write = async (record: object) => {
    // Wait for the socket to drain, or to close (a client gone mid-export must not hang us).
    if (!res.write(JSON.stringify(record) + '\n')) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  await write(started.header);
  const counts = newCounts();
  for await (const record of started.records) {
    if (res.destroyed) return true; // the client left; the export stays on the record
    counts[record.kind]++;
    await write(record);
  }
  await write({ kind: 'end', counts });
  res.end();
  return true;
}
