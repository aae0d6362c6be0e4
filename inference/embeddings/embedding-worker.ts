// The embedding worker thread: owns the ONNX session (session.run would block the event loop of
// the API) and answers one batch per message.
import { parentPort, workerData } from 'node:worker_threads';
import { EmbedderCore } from './embedder-core.ts';
import type { FromEmbedWorker, ToEmbedWorker } from './protocol.ts';

const { dir, threads } = workerData as { dir: string; threads: number };
const port = parentPort!;
const send = (m: FromEmbedWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const core = await EmbedderCore.create(dir, threads);
  port.on('message', async (m: ToEmbedWorker) => {
    if (m.type === 'close') {
      await core.release();
      send({ type: 'closed' });
      return;
    }
    try {
      const { vectors, tokens } = await core.embed(m.texts);
      send({ type: 'result', id: m.id, vectors, tokens }, [vectors.buffer as ArrayBuffer]);
    } catch (e) {
      send({ type: 'error', id: m.id, message: (e as Error).message });
    }
  });
  send({ type: 'ready', name: core.files.name, dimensions: core.files.dimensions, maxTokens: core.files.maxTokens });
} catch (e) {
  send({ type: 'init-error', message: (e as Error).message });
}
