import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

// Opens a command's --out file before any work is done (and before an export is recorded), so a
// missing directory or a read-only path is one clear line and exit 1, never an unhandled 'error'.
export async function openOutputFile(path: string, flags: 'w' | 'a' = 'w'): Promise<WriteStream> {
  const out = createWriteStream(path, { flags });
  try {
    await once(out, 'open');
  } catch (error) {
    throw new Error(`cannot write ${path}: ${(error as Error).message}`);
  }
  return out;
}
