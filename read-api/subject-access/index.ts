// Subject access (GDPR right of access): one bundle of everything Parley holds about a user, served
// by GraphQL (exportUserData), HTTP (GET /v1/users/{id}/export) and the CLI (parley export user).
export { startUserDataExport, newCounts, type ExportHeader, type ExportRefusal, type ExportServices, type StartedExport } from './export.ts';
export { EXPORT_KINDS, userIsKnown, type ExportKind, type ExportRecord } from './collect.ts';
export { handleUserExport } from './http-route.ts';
