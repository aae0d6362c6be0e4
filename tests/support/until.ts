// Polls `probe` every 50 ms until it gives a value (up to 30 s): what a test waits for that a
// background process (saga, projector, indexer) produces.
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}
