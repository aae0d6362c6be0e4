import type { Knex } from 'knex';
import type { CommandHandler } from '../../commands/command-handler.ts';
import { authorizeUserDataExport, recordUserDataExport, type ExportChannel } from '../../commands/subject-access.ts';
import type { KeyStore } from '../../eventstore/crypto/key-store.ts';
import type { EventStore } from '../../eventstore/port.ts';
import type { Actor } from '../../schemas/common.ts';
import { collectUserData, EXPORT_KINDS, userIsKnown, type ExportKind, type ExportRecord } from './collect.ts';

export type ExportServices = { knex: Knex; store: EventStore; commands: CommandHandler; keys?: KeyStore | null; newId: () => string };

// The first record of every bundle: whose data, who asked, when, and the UserDataExported event.
export type ExportHeader = {
  kind: 'export'; format: 'parley.user-export.v1'; userId: string; tenantId: string; exportedBy: string; exportedByTenant: string;
  channel: ExportChannel; exportedAt: string; eventId: string; position: string;
};

export type ExportRefusal = { ok: false; code: 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'INTERNAL'; message: string; field?: string };
export type StartedExport = { ok: true; header: ExportHeader; records: AsyncGenerator<ExportRecord> };

// Authorise (the user themself or an admin of their tenant; anyone else learns nothing), check the
// user is known (404 otherwise; the user themself always gets a bundle, if empty), record
// UserDataExported, then hand back the records to stream. Recording first means no export is ever
// served unaudited; an export that fails half-way is still on the record, which errs on the safe side.
export async function startUserDataExport(
  services: ExportServices, actor: Actor, userId: string, channel: ExportChannel, tenantId?: string,
): Promise<StartedExport | ExportRefusal> {
  const commandId = services.newId();
  const refused = authorizeUserDataExport(actor, userId, channel, commandId, tenantId);
  if (refused && !refused.ok) {
    const code = refused.error.code === 'FORBIDDEN' ? 'FORBIDDEN' : 'BAD_USER_INPUT';
    return { ok: false, code, message: refused.error.message, field: refused.error.field ?? 'userId' };
  }
  const subject = { tenantId: tenantId ?? actor.tenantId, userId };
  const self = actor.userId === userId && actor.tenantId === subject.tenantId;
  if (!self && !(await userIsKnown(services.knex, subject))) {
    return { ok: false, code: 'NOT_FOUND', message: `no user "${userId}" in tenant "${subject.tenantId}"`, field: 'userId' };
  }
  const recorded = await recordUserDataExport(services.commands, actor, userId, channel, commandId, tenantId);
  if (!recorded.ok) return { ok: false, code: recorded.error.code === 'FORBIDDEN' ? 'FORBIDDEN' : 'INTERNAL', message: recorded.error.message };
  const event = recorded.events[0]!;
  const header: ExportHeader = {
    kind: 'export', format: 'parley.user-export.v1', userId, tenantId: subject.tenantId, exportedBy: actor.userId, exportedByTenant: actor.tenantId,
    channel, exportedAt: event.metadata.occurredAt, eventId: event.metadata.eventId, position: recorded.position,
  };
  return { ok: true, header, records: collectUserData(services, subject) };
}

// Counts per kind, for the manifest.
export function newCounts(): Record<ExportKind, number> {
  return Object.fromEntries(EXPORT_KINDS.map((k) => [k, 0])) as Record<ExportKind, number>;
}
