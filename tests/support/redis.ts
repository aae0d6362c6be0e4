import net from 'node:net';

// The Redis the tests talk to: TEST_REDIS_URL, or 127.0.0.1:6379 (CI starts it; `npm test` starts
// its own redis-server when nothing answers there and redis-server is installed).
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

// Fails the tests that need Redis with one line saying what to install, rather than letting
// ioredis retry forever (a hang) or the tests skip (a pass that checked nothing).
export async function requireRedis(): Promise<void> {
  const { hostname, port } = new URL(REDIS_URL);
  const answers = await new Promise<boolean>((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
  if (!answers) throw new Error(`no Redis answers at ${hostname}:${port || 6379}: install redis-server (apt-get install redis-server; npm test then starts its own) or set TEST_REDIS_URL`);
}
