import type { CommandOf } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { accept, reject, type Decision } from './decision.ts';

export type UserState = { erased: boolean };

export const initialUserState = (): UserState => ({ erased: false });

export function evolveUser(state: UserState, event: ParleyEvent): UserState {
  return event.type === 'UserDataErased' ? { erased: true } : state;
}

// The user themself or an admin may erase a user's data; erasing twice is refused as a conflict.
export function decideUser(command: CommandOf<'EraseUserData'>, state: UserState): Decision {
  const actor = command.metadata.actor;
  if (actor.userId !== command.data.userId && !actor.roles.includes('admin')) {
    return reject('FORBIDDEN', 'only the user themself or an admin may erase their data', 'userId');
  }
  if (state.erased) return reject('ALREADY_EXISTS', 'this user was already erased', 'userId');
  return accept({
    type: 'UserDataErased', version: 1,
    data: { userId: command.data.userId, tenantId: actor.tenantId, reason: actor.userId === command.data.userId ? 'user_request' : command.data.reason },
  });
}
