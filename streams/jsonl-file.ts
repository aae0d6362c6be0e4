import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, rename, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { ReplayManifest, ReplayManifestJson } from './manifest.ts';
import type { WireEvent } from './privacy.ts';

// Appends events to a JSONL file, one per line, with backpressure.
export class JsonlWriter {
  private readonly out: WriteStream;

  constructor(readonly path: string, options: { append: boolean }) {
    this.out = createWriteStream(path, { flags: options.append ? 'a' : 'w' });
  }

  // Resolves once the file is open; a path that cannot be written rejects with one clear line.
  async opened(): Promise<void> {
    if (!this.out.pending) return;
    try {
      await once(this.out, 'open');
    } catch (error) {
      throw new Error(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }

  async write(event: WireEvent): Promise<void> {
    if (!this.out.write(JSON.stringify(event) + '\n')) await new Promise<void>((r) => this.out.once('drain', () => r()));
  }

  // Resolves once everything written so far has reached the file.
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.out.write('', (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}

// Writes the manifest atomically (write then rename): a reader never sees half a manifest.
export async function writeManifest(path: string, manifest: ReplayManifest | ReplayManifestJson): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
}

// To continue a replay file: drop a torn last line (a crash mid-write), then count what the
// file holds into `manifest`. The file, not an older manifest, is the truth about what was written.
export async function scanReplayFile(path: string, manifest: ReplayManifest): Promise<void> {
  if (!existsSync(path)) return;
  await truncateTornLine(path);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let event: WireEvent;
    try {
      event = JSON.parse(line) as WireEvent;
    } catch {
      throw new Error(`${path}:${n} is not JSON; cannot resume this file`);
    }
    if (typeof event.position !== 'string' || typeof event.type !== 'string') throw new Error(`${path}:${n} is not a replayed event; cannot resume this file`);
    manifest.add(event);
  }
}

async function truncateTornLine(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        const keep = start + nl + 1;
        if (keep < size) await handle.truncate(keep);
        return;
      }
      end = start;
    }
    await handle.truncate(0); // not one complete line
  } finally {
    await handle.close();
  }
}
