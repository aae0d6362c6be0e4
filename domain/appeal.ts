import type { AppealCommand } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { hasRoleIn } from './access.ts';
import { accept, reject, type Decision } from './decision.ts';

export type AppealState =
  | { status: 'none' }
  | { status: 'filed' | 'resolved'; appealId: string; userId: string; tenantId: string };

export const initialAppealState = (): AppealState => ({ status: 'none' });

export function evolveAppeal(state: AppealState, event: ParleyEvent): AppealState {
  if (event.type === 'AppealFiled') return { status: 'filed', appealId: event.data.appealId, userId: event.data.userId, tenantId: event.data.tenantId };
  if (event.type === 'AppealResolved' && state.status !== 'none') return { ...state, status: 'resolved' };
  return state;
}

export function decideAppeal(command: AppealCommand, state: AppealState): Decision {
  const actor = command.metadata.actor;
  if (command.type === 'FileAppeal') {
    if (state.status !== 'none') return reject('ALREADY_EXISTS', 'this decision has already been appealed', 'safetyEventId');
    return accept({
      type: 'AppealFiled',
      version: 1,
      data: { ...command.data, userId: actor.userId, tenantId: actor.tenantId },
    });
  }
  if (!actor.roles.includes('admin') && !actor.roles.includes('compliance')) {
    return reject('FORBIDDEN', 'resolving appeals needs the compliance or admin role');
  }
  // Another tenant's appeal is reported as missing, so ids cannot be probed.
  if (state.status === 'none' || !(hasRoleIn(actor, 'admin', state.tenantId) || hasRoleIn(actor, 'compliance', state.tenantId))) {
    return reject('NOT_FOUND', 'appeal not found', 'appealId');
  }
  if (state.status === 'resolved') return reject('APPEAL_ALREADY_RESOLVED', 'appeal already resolved', 'appealId');
  return accept({ type: 'AppealResolved', version: 1, data: { ...command.data, resolvedBy: actor.userId } });
}
