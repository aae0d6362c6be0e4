import type { Command } from 'commander';
import { signToken } from '../../read-api/auth.ts';
import { Actor } from '../../schemas/common.ts';
import { jwtSecret, loadConfig } from '../config.ts';

export function registerToken(program: Command) {
  program
    .command('token')
    .description('print a signed JWT for the API (uses PARLEY_JWT_SECRET or the one under PARLEY_HOME)')
    .requiredOption('--user <id>', 'user id (sub claim)')
    .option('--tenant <id>', 'tenant id', 'default')
    .option('--roles <roles>', 'comma-separated: user, compliance, data_scientist, admin', 'user')
    .option('--expires <duration>', 'lifetime, e.g. 1h, 30d', '30d')
    .action(async (opts: { user: string; tenant: string; roles: string; expires: string }) => {
      const actor = Actor.safeParse({ userId: opts.user, tenantId: opts.tenant, roles: opts.roles.split(',').map((r) => r.trim()) });
      if (!actor.success) throw new Error(`invalid token claims: ${actor.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      console.log(await signToken(jwtSecret(loadConfig()), actor.data, opts.expires));
    });
}
