// The moderation model's worker thread: one onnxruntime-node session, off the event loop
// (session.run blocks the thread it runs on). Plain JavaScript, so the worker needs no loader.
// In: { id, ids: Int32Array (batch × width, 0-padded), batch, width }. Out: { id, scores } or { id, error }.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const port = parentPort;
try {
  const session = await ort.InferenceSession.create(workerData.modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  port.on('message', async (m) => {
    try {
      const ids = BigInt64Array.from(m.ids, (v) => BigInt(v));
      const out = await session.run({ ids: new ort.Tensor('int64', ids, [m.batch, m.width]) });
      const scores = Float32Array.from(out.scores.data);
      port.postMessage({ id: m.id, scores }, [scores.buffer]);
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
