// A counter of appends that readers can wait on: wait(seen) resolves once an append newer than
// `seen` was announced, after `timeoutMs` (readers poll as a fallback), or on abort.
export class AppendSignal {
  private version = 0;
  private readonly waiters = new Set<() => void>();

  get current(): number {
    return this.version;
  }

  bump(): void {
    this.version++;
    this.release();
  }

  wait(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.version !== seen || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  // Wakes every waiter without an append (closing).
  release(): void {
    for (const w of [...this.waiters]) w();
  }
}
