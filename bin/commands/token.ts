import type { Command } from 'commander';
import { signToken } from '../../read-api/auth.ts';
import { parseTiers } from '../../read-api/rate-limit/tiers.ts';
import { Actor } from '../../schemas/common.ts';
import { jwtSecret, loadConfig } from '../config.ts';

export function registerToken(program: Command) {
  program
    .command('token')
    .description('print a signed JWT for the API (uses PARLEY_JWT_SECRET or the one under PARLEY_HOME)')
    .requiredOption('--user <id>', 'user id (sub claim)')
    .option('--tenant <id>', 'tenant id', 'default')
    .option('--roles <roles>', 'comma-separated: user, compliance, data_scientist, admin', 'user')
    .option('--tier <tier>', 'quota tier claim: free, paid, premium (or a tier PARLEY_TIERS adds)', 'free')
    .option('--expires <duration>', 'lifetime, e.g. 1h, 30d', '30d')
    .action(async (opts: { user: string; tenant: string; roles: string; tier: string; expires: string }) => {
      const config = loadConfig();
      const actor = Actor.safeParse({ userId: opts.user, tenantId: opts.tenant, roles: opts.roles.split(',').map((r) => r.trim()) });
      if (!actor.success) throw new Error(`invalid token claims: ${actor.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      // An unknown tier would silently be free at admission: refuse it here instead.
      const tiers = Object.keys(parseTiers(config.PARLEY_TIERS));
      if (!tiers.includes(opts.tier)) throw new Error(`--tier must be one of ${tiers.join(', ')} (got "${opts.tier}")`);
      console.log(await signToken(jwtSecret(config), actor.data, opts.expires, opts.tier));
    });
}
