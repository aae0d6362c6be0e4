// Entry of the embedding worker thread: registers tsx (a worker does not inherit the parent's
// loader hooks under Node 20), then loads the TypeScript worker module named in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
