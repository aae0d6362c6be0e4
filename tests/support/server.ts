import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_ROLES, startApp, type App, type Role } from '../../bin/app.ts';
import { SHIPPED_MODEL_DIR } from '../../inference/engine/model.ts';
import { loadConfig } from '../../bin/config.ts';
import { signToken } from '../../read-api/auth.ts';
import type { Actor } from '../../schemas/common.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export type TestServer = {
  app: App; db: TestDatabase; url: string;
  // What another process of the same deployment needs (database, master key, JWT secret).
  sharedEnv: Record<string, string>; token: (actor: Actor) => Promise<string>; stop: () => Promise<void> };

// The shipped model serves the tests; the random-weight model of the same architecture talks until
// maxTokens, for tests that need long answers.
export const TEST_MODEL_DIR = SHIPPED_MODEL_DIR;
export { RANDOM_MODEL_DIR } from './models.ts';

// The real server on a free port, on its own database in the real PostgreSQL.

export async function startTestServer(options: { roles?: Role[]; env?: Record<string, string> } = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const home = mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
  const sharedEnv = { DATABASE_URL: db.url, PARLEY_MASTER_KEY: randomBytes(32).toString('hex'), PARLEY_JWT_SECRET: randomBytes(32).toString('hex') };
  const config = loadConfig({ ...sharedEnv, PORT: '0', HOST: '127.0.0.1', PARLEY_HOME: home, MODEL_DIR: TEST_MODEL_DIR, ...options.env });
  const app = await startApp(config, options.roles ?? ALL_ROLES);
  return {
    app, db, url: app.url!, sharedEnv,
    token: (actor) => signToken(app.secret, actor),
    stop: async () => { await app.stop(); await db.drop(); },
  };
}

export type GqlResult = { data?: any; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };

export function graphqlClient(url: string) {
  return async (token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult> => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult;
  };
}
