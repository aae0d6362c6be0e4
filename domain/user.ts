import type { CommandOf } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { canActOn, isOwner } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

export type UserState = { erased: boolean };

export const initialUserState = (): UserState => ({ erased: false });

export function evolveUser(state: UserState, event: ParleyEvent): UserState {
  return event.type === 'UserDataErased' ? { erased: true } : state;
}

type UserCommand = CommandOf<'EraseUserData'> | CommandOf<'ExportUserData'>;

// The user themself or an admin of their tenant may erase or export a user's data; erasing twice is
// refused as a conflict, exporting after an erasure is allowed (the export then holds no personal
// text). Anyone else is told FORBIDDEN without learning whether the user exists.
export function decideUser(command: UserCommand, state: UserState): Decision {
  const actor = command.metadata.actor;
  const user = { ownerId: command.data.userId, tenantId: userTenant(command) };
  if (command.type === 'ExportUserData') {
    if (!canActOn(actor, user)) {
      return reject('FORBIDDEN', 'only the user themself or an admin of their tenant may export their data', 'userId');
    }
    return accept({
      type: 'UserDataExported', version: 1,
      data: { userId: user.ownerId, tenantId: user.tenantId, exportedBy: actor.userId, channel: command.data.channel },
    });
  }
  if (!canActOn(actor, user)) {
    return reject('FORBIDDEN', 'only the user themself or an admin of their tenant may erase their data', 'userId');
  }
  if (state.erased) return reject('ALREADY_EXISTS', 'this user was already erased', 'userId');
  return accept({
    type: 'UserDataErased', version: 1,
    data: { userId: user.ownerId, tenantId: user.tenantId, reason: isOwner(actor, user) ? 'user_request' : command.data.reason },
  });
}

// A user is (tenant, user); the tenant defaults to the caller's own.
export const userTenant = (command: UserCommand) => command.data.tenantId ?? command.metadata.actor.tenantId;
export const erasureTenant = userTenant;
