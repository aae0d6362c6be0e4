import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { Id, IsoDateTime, IsoDay, Text } from '../../schemas/common.ts';
import { reachesTenant } from '../../domain/access.ts';
import { requireHttpRole } from './require-role.ts';
import type { Services } from '../context.ts';
import { auditQuery, toAuditEntry } from '../read-models.ts';
import { sendJson, sendV1Error } from './json.ts';
import { AUDIT_CSV_HEADER, auditLine } from '../audit-format.ts';

const Query = z.object({
  format: z.enum(['jsonl', 'csv']).default('jsonl'),
  userId: Id.optional(),
  tenantId: Id.optional(),
  verdict: Text.max(64).optional(),
  category: Text.max(128).optional(),
  eventType: Text.max(128).optional(),
  from: IsoDateTime.or(IsoDay).optional(),
  to: IsoDateTime.or(IsoDay).optional(),
});


// GET /v1/audit/export?format=jsonl|csv&userId=&tenantId=&verdict=&category=&from=&to= (compliance role), streamed.
export async function handleAuditExport(services: Services, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (url.pathname !== '/v1/audit/export') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return void sendV1Error(res, 405, `${req.method} is not allowed on /v1/audit/export; use GET`, 'method_not_allowed', { allow: 'GET' }), true;
  const actor = await requireHttpRole(services.jwtSecret, req, res, ['compliance']);
  if (!actor) return true;
  const parsed = Query.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return void sendJson(res, 400, { error: { message: `${issue.path.join('.')}: ${issue.message}`, code: 'BAD_USER_INPUT', field: issue.path.join('.') } }), true;
  }
  const { format, ...filter } = parsed.data;
  if (filter.tenantId && !reachesTenant(actor, filter.tenantId)) {
    return void sendJson(res, 403, { error: { message: 'the compliance role exports its own tenant\'s audit log only', code: 'FORBIDDEN', field: 'tenantId' } }), true;
  }
  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="audit.${format}"`,
  });
  if (format === 'csv') res.write(AUDIT_CSV_HEADER);
  const stream = auditQuery(services.knex, actor, filter).orderBy([{ column: 'occurred_at' }, { column: 'seq' }]).stream();
  for await (const row of stream) {
    res.write(auditLine(format, toAuditEntry(row as Record<string, unknown>)));
  }
  res.end();
  return true;
}
