import type { toAuditEntry } from './read-models.ts';

// One audit entry as a line of JSONL or CSV: the HTTP export, the CLI and the console's download
// write the same columns.
type AuditEntry = ReturnType<typeof toAuditEntry>;

export const AUDIT_CSV_COLUMNS = ['occurredAt', 'eventId', 'eventType', 'userId', 'tenantId', 'actorId', 'stage', 'verdict', 'categories', 'policyVersion',
  'degraded', 'correlationId', 'conversationId', 'generationId', 'appealId', 'outcome', 'contentHash', 'position', 'toolName', 'latencyMs', 'sources'] as const;
export const AUDIT_CSV_HEADER = AUDIT_CSV_COLUMNS.join(',') + '\n';

export function auditLine(format: 'jsonl' | 'csv', entry: AuditEntry): string {
  if (format === 'jsonl') return JSON.stringify(entry) + '\n';
  return AUDIT_CSV_COLUMNS.map((c) => csvCell(c === 'categories' || c === 'sources' ? (entry[c] ? JSON.stringify(entry[c]) : null) : entry[c])).join(',') + '\n';
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
