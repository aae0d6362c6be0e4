// The engine's worker thread: drives the engine core (engine-loop.ts) step by step and relays
// requests in and tokens, results and metrics out, one message per step.
import { parentPort, workerData } from 'node:worker_threads';
import { EngineCore } from './engine-loop.ts';
import type { EngineOptions, FromWorker, StepMessage, ToWorker } from './protocol.ts';

const opts = (workerData as { options: EngineOptions }).options;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

let step: StepMessage = fresh();
function fresh(): StepMessage {
  return { type: 'step', tokens: [], done: [], errors: [], stats: undefined!, counters: {}, samples: {} };
}

async function main() {
  const core = await EngineCore.create(opts, {
    token: (key, id, text, index) => step.tokens.push([key, id, text, index]),
    done: (key, result) => step.done.push({ key, result }),
    error: (key, e) => step.errors.push({ key, name: e.name, message: e.message }),
  });
  const flush = () => {
    step.stats = core.stats();
    step.counters = core.counters();
    step.samples = core.metrics.drain();
    send(step);
    step = fresh();
  };
  let closing = false;
  let wake: (() => void) | null = null;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'submit') {
      core.submit({ key: m.key, promptIds: m.promptIds, params: m.params, priority: m.priority, tenant: m.tenant, arrival: m.arrival });
    } else if (m.type === 'abort') core.abort(m.key);
    else if (m.type === 'close') closing = true;
    const w = wake;
    wake = null;
    w?.();
  });
  send({ type: 'ready', stats: core.stats(), counters: core.counters() });
  started = true;
  for (;;) {
    if (closing) {
      core.abortAll();
      flush();
      break;
    }
    if (!core.hasWork) {
      if (step.tokens.length || step.done.length || step.errors.length) flush();
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    await core.step();
    flush();
    // let submit/abort messages in between steps
    await new Promise((r) => setImmediate(r));
  }
  await core.release();
  send({ type: 'closed' });
}

let started = false;
main().catch((e: Error) => send(started ? { type: 'fatal', name: e.name, message: e.message } : { type: 'init-error', name: e.name, message: e.message }));
