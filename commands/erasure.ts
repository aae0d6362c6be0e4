import type { KeyStore } from '../eventstore/crypto/key-store.ts';
import { decideUser, initialUserState } from '../domain/user.ts';
import { EraseUserData } from '../schemas/commands.ts';
import type { Actor } from '../schemas/common.ts';
import type { CommandHandler } from './command-handler.ts';
import { validationError, type CommandResult } from './command-result.ts';

// Crypto-shredding: authorise, destroy the user's keys (their ciphertext in the log becomes
// unreadable for good), then record UserDataErased so every read model forgets them. Keys go
// first: if the append failed, the data would already be unreadable, and a retry completes it.
export async function eraseUserData(
  commands: CommandHandler, keys: KeyStore | null, actor: Actor, userId: string, commandId: string,
): Promise<CommandResult> {
  const command = EraseUserData.safeParse({ type: 'EraseUserData', data: { userId, reason: actor.userId === userId ? 'user_request' : 'admin_request' }, metadata: { commandId, actor } });
  if (!command.success) return validationError(command.error);
  const allowed = decideUser(command.data, initialUserState());
  if (!allowed.ok) return allowed;
  await keys?.destroy(userId);
  return commands.execute(command.data);
}

// Retention: one conversation's key is destroyed and the erasure recorded.
export async function eraseConversation(
  commands: CommandHandler, keys: KeyStore | null, actor: Actor, conversation: { id: string; ownerId: string }, retentionDays: number | null, commandId: string,
): Promise<CommandResult> {
  await keys?.destroy(conversation.ownerId, conversation.id);
  return commands.execute({
    type: 'EraseConversation',
    data: { conversationId: conversation.id, reason: retentionDays === null ? 'admin_request' : 'retention', retentionDays },
    metadata: { commandId, actor },
  });
}
