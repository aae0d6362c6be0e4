import type { Command } from 'commander';
import { eraseUserData } from '../../commands/erasure.ts';
import { userIsKnown } from '../../read-api/subject-access/index.ts';
import { operatorActor, withOperatorEnv } from '../operator-env.ts';

// `parley erase --user <id> [--tenant <id>]`: GDPR erasure by an operator, exactly as eraseUserData
// by an admin of the user's tenant (keys destroyed, then UserDataErased, recorded under --operator).
export function registerErase(program: Command) {
  program
    .command('erase')
    .description('erase a user\'s personal data (destroys their keys; read models forget them)')
    .requiredOption('--user <id>', 'the user id')
    .option('--tenant <id>', 'the user\'s tenant', 'default')
    .option('--operator <id>', 'who runs the erasure (recorded in the audit log)', 'cli-operator')
    .action(async (opts: { user: string; tenant: string; operator: string }) => {
      const actor = operatorActor(opts.operator, opts.tenant);
      await withOperatorEnv(async (env) => {
        // A typo must not look like a completed erasure: refuse a user Parley has no trace of.
        if (!(await userIsKnown(env.knex, { tenantId: opts.tenant, userId: opts.user }))) {
          throw new Error(`no user "${opts.user}" in tenant "${opts.tenant}": nothing to erase`);
        }
        const result = await eraseUserData(env.commands, env.keys, actor, opts.user, env.newId());
        if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
        console.log(`erased ${opts.tenant}/${opts.user}: keys destroyed, UserDataErased at position ${result.position}`);
      });
    });
}
