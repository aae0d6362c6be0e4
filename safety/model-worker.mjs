// The moderation model's worker thread: one onnxruntime-node session, off the event loop
// (session.run blocks the thread it runs on). Plain JavaScript, so the worker needs no loader.
// In: { id, ids: Int32Array (batch × width, 0-padded), batch, width } and, for a char-CNN model
// (round-4 experiment), bytes: Int32Array (batch × bytesWidth). Out: { id, scores } or { id, error }.
// Only the inputs the ONNX graph declares are fed.
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
      const feeds = {};
      if (session.inputNames.includes('ids')) feeds.ids = new ort.Tensor('int64', BigInt64Array.from(m.ids, (v) => BigInt(v)), [m.batch, m.width]);
      if (session.inputNames.includes('bytes')) feeds.bytes = new ort.Tensor('int64', BigInt64Array.from(m.bytes, (v) => BigInt(v)), [m.batch, m.bytesWidth]);
      const out = await session.run(feeds);
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
