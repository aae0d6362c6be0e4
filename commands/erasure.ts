import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { subjectOf } from '../domain/access.ts';
import { decideUser, erasureTenant, initialUserState } from '../domain/user.ts';
import { EraseUserData } from '../schemas/commands.ts';
import type { Actor } from '../schemas/common.ts';
import type { CommandHandler } from './command-handler.ts';
import { validationError, type CommandResult } from './command-result.ts';

// Crypto-shredding: authorise, destroy the user's keys (their ciphertext in the log becomes
// unreadable for good), then record UserDataErased so every read model forgets them. Keys go
// first: if the append failed, the data would already be unreadable, and a retry completes it.
// The user is (tenantId, userId); tenantId defaults to the caller's own tenant.
export async function eraseUserData(
  commands: CommandHandler, keys: KeyStore | null, actor: Actor, userId: string, commandId: string, tenantId?: string,
): Promise<CommandResult> {
  const reason = actor.userId === userId && actor.tenantId === (tenantId ?? actor.tenantId) ? 'user_request' : 'admin_request';
  const command = EraseUserData.safeParse({ type: 'EraseUserData', data: { userId, tenantId, reason }, metadata: { commandId, actor } });
  if (!command.success) return validationError(command.error);
  const allowed = decideUser(command.data, initialUserState());
  if (!allowed.ok) return allowed;
  await keys?.destroy(subjectOf(erasureTenant(command.data), userId));
  return commands.execute(command.data);
}

// Retention: one conversation's key is destroyed and the erasure recorded.
export async function eraseConversation(
  commands: CommandHandler, keys: KeyStore | null, actor: Actor, conversation: { id: string; ownerId: string; tenantId: string }, retentionDays: number | null, commandId: string,
): Promise<CommandResult> {
  await keys?.destroy(subjectOf(conversation.tenantId, conversation.ownerId), conversation.id);
  return commands.execute({
    type: 'EraseConversation',
    data: { conversationId: conversation.id, reason: retentionDays === null ? 'admin_request' : 'retention', retentionDays },
    metadata: { commandId, actor },
  });
}
