import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

// What a new user does: `npm start` with no DATABASE_URL, then talk to the printed URL with the printed token.
describe('npm start (embedded default)', () => {
  it('starts an embedded PostgreSQL, prints the URLs, a token and a ready line, and serves GraphQL', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'parley-embedded-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_HOME: home, PORT: '0' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['bin/parley.mjs', 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no PARLEY_READY within 90 s:\n${out}`)), 90_000);
        child.stdout.on('data', (d) => { out += d; if (out.includes('PARLEY_READY')) { clearTimeout(timer); resolve(); } });
        child.stderr.on('data', (d) => { out += d; });
        child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
      });
      // Parley reaches its embedded PostgreSQL over a Unix-domain socket in the data directory.
      const { connectionString } = JSON.parse(readFileSync(path.join(home, 'running.json'), 'utf8')) as { connectionString: string };
      const db = new URL(connectionString);
      const socket = path.join(db.searchParams.get('host') ?? '(no host parameter)', `.s.PGSQL.${db.port}`);
      assert.ok(statSync(socket).isSocket(), `${socket} is a socket`);
      const url = /GraphQL\s+(\S+)/.exec(out)![1]!;
      const token = /dev token[^\n]*\n\s*(\S+)/.exec(out)![1]!;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation { sendMessage(input: {content: "hello"}) { conversation { title messages { content } } } }' }),
      });
      const body = (await res.json()) as any;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      // The user's message is there at once (the answer may follow, from the saga and the worker).
      assert.deepEqual(body.data.sendMessage.conversation.messages[0], { content: 'hello' });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
