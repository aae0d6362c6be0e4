import { createHash } from 'node:crypto';
import type { Experiment } from '../../schemas/models.ts';

// A user's arm: a stable hash of the experiment's name and the user (tenant/user), mapped onto the
// arms' weights. Stable, so a user sees one arm for the whole experiment (and a replayed saga batch
// picks the same arm); independent between experiments, because the name is hashed in.
export function armOf(experiment: Experiment, subject: string): Experiment['arms'][number] {
  const digest = createHash('sha256').update(`${experiment.name}\u0000${subject}`).digest();
  const u = digest.readUIntBE(0, 6) / 2 ** 48; // uniform in [0, 1)
  const total = experiment.arms.reduce((s, a) => s + a.weight, 0);
  let at = u * total;
  for (const arm of experiment.arms) {
    if (at < arm.weight) return arm;
    at -= arm.weight;
  }
  return experiment.arms.findLast((a) => a.weight > 0)!;
}
