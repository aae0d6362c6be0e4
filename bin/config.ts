import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RuntimeConfig } from '../schemas/runtime-config.ts';
import { TenantPolicies } from '../schemas/safety.ts';

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = RuntimeConfig.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

// The embedded default keeps its JWT signing secret under PARLEY_HOME, created on first start.
export function jwtSecret(config: RuntimeConfig): string {
  if (config.PARLEY_JWT_SECRET) return config.PARLEY_JWT_SECRET;
  const file = path.join(config.PARLEY_HOME, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(config.PARLEY_HOME, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

// The master key of the key hierarchy (master → per-user, per-conversation data keys).
export function masterKey(config: RuntimeConfig): Buffer {
  const text = config.PARLEY_MASTER_KEY ?? readOrCreate(path.join(config.PARLEY_HOME, 'master-key'), () => randomBytes(32).toString('base64'));
  const key = /^[0-9a-f]{64}$/i.test(text.trim()) ? Buffer.from(text.trim(), 'hex') : Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('PARLEY_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
  return key;
}

function readOrCreate(file: string, create: () => string): string {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, create(), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8');
}

// PARLEY_TENANT_POLICY: JSON, or the path of a JSON file; checked whole at start, so a typo in a
// category or threshold stops the process instead of silently applying the platform defaults.
export function tenantPolicies(config: RuntimeConfig): TenantPolicies {
  const value = config.PARLEY_TENANT_POLICY?.trim();
  if (!value) return {};
  let json: unknown;
  try {
    json = JSON.parse(value.startsWith('{') ? value : readFileSync(value, 'utf8'));
  } catch (error) {
    throw new Error(`PARLEY_TENANT_POLICY must be JSON or the path of a JSON file: ${(error as Error).message}`);
  }
  const parsed = TenantPolicies.safeParse(json);
  if (!parsed.success) {
    throw new Error(`invalid PARLEY_TENANT_POLICY: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
