import { decideUser, initialUserState } from '../domain/user.ts';
import { ExportUserData } from '../schemas/commands.ts';
import type { Actor } from '../schemas/common.ts';
import type { CommandHandler } from './command-handler.ts';
import { validationError, type CommandResult } from './command-result.ts';

export type ExportChannel = 'graphql' | 'http' | 'cli';

// GDPR right of access. `authorizeUserDataExport` answers "may this actor export this user?" without
// writing (the caller then checks the user exists: a refused caller must not learn that);
// `recordUserDataExport` appends UserDataExported through the user's decider before anything is served.
export function authorizeUserDataExport(actor: Actor, userId: string, channel: ExportChannel, commandId: string, tenantId?: string): CommandResult | null {
  const command = ExportUserData.safeParse({ type: 'ExportUserData', data: { userId, tenantId, channel }, metadata: { commandId, actor } });
  if (!command.success) return validationError(command.error);
  const decision = decideUser(command.data, initialUserState());
  return decision.ok ? null : decision;
}

export function recordUserDataExport(
  commands: CommandHandler, actor: Actor, userId: string, channel: ExportChannel, commandId: string, tenantId?: string,
): Promise<CommandResult> {
  return commands.execute({ type: 'ExportUserData', data: { userId, tenantId, channel }, metadata: { commandId, actor } });
}
