import type { PromoteModel } from '../schemas/commands.ts';
import type { ParleyEvent } from '../schemas/events.ts';
import { accept, reject, type Decision } from './decision.ts';

// The `models` stream: which model is the deployment's default, by promotion. The golden-set gate
// is enforced here, not only in the CLI: a PromoteModel whose score is below its threshold, or with a
// skill below its floor, is refused, whoever sends it.
export type ModelPromotionState = { current: string | null };

export const initialModelPromotionState = (): ModelPromotionState => ({ current: null });

export function evolveModelPromotion(state: ModelPromotionState, event: ParleyEvent): ModelPromotionState {
  return event.type === 'ModelPromoted' ? { current: event.data.model } : state;
}

export function decideModelPromotion(command: PromoteModel, state: ModelPromotionState): Decision {
  const actor = command.metadata.actor;
  if (!actor.roles.includes('platform_operator')) return reject('FORBIDDEN', 'promoting a model needs the platform_operator role');
  const { model, passed, total, threshold } = command.data;
  if (passed > total) return reject('INVALID_FIELD', `passed (${passed}) cannot exceed total (${total})`, 'passed');
  if (passed / total < threshold) {
    return reject('BELOW_THRESHOLD', `${model} passed ${passed}/${total} of the golden set, below the threshold ${threshold}`, 'passed');
  }
  for (const s of command.data.skills ?? []) {
    if (s.ok > s.n) return reject('INVALID_FIELD', `skill ${s.skill}: ok (${s.ok}) cannot exceed n (${s.n})`, 'skills');
    if (s.ok / s.n < s.floor) return reject('BELOW_THRESHOLD', `${model} scored ${s.ok}/${s.n} on ${s.skill}, below its floor ${s.floor}`, 'skills');
  }
  if (state.current === model) return reject('ALREADY_EXISTS', `${model} is already the promoted default`, 'model');
  return accept({ type: 'ModelPromoted', version: 1, data: { ...command.data, previous: state.current } });
}
