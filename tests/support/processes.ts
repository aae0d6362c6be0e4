import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type RoleProcess = { child: ChildProcess; output: () => string; stop: () => Promise<void> };

// `parley serve --role <roles>` as its own OS process, as an operator would run it.
export async function startRoleProcess(roles: string, env: Record<string, string>, args: string[] = []): Promise<RoleProcess> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'parley-role-'));
  const child = spawn(process.execPath, ['bin/parley.mjs', 'serve', '--role', roles, ...args], {
    env: { ...process.env, PARLEY_HOME: home, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${roles}: no PARLEY_READY in 60 s:\n${out}`)), 60_000);
    const check = () => { if (out.includes('PARLEY_READY')) { clearTimeout(timer); resolve(); } };
    child.stdout!.on('data', check);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${roles} exited with ${code}:\n${out}`)); });
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
