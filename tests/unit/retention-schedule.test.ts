// The retention job's schedule (bin/jobs/retention.ts): a run never starts while one is running.
// Two overlapping runs erased the same conversation twice (two ConversationErased events): the
// first tick and the interval could fire together, and a run longer than the interval overlapped
// the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleRetention } from '../../bin/jobs/retention.ts';

test('a retention run never starts while the previous one is running; the next tick after it ends does', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  let running = 0;
  let most = 0;
  let runs = 0;
  const finishers: (() => void)[] = [];
  const run = () => {
    runs++;
    running++;
    most = Math.max(most, running);
    return new Promise<void>((resolve) => finishers.push(() => { running--; resolve(); }));
  };
  const errors: unknown[] = [];
  // an interval shorter than the first delay: the interval's first ticks land on a running first run
  const stop = scheduleRetention(run, 1_000, (e) => errors.push(e));
  t.mock.timers.tick(5_000); // interval ×5 and the first delay
  t.mock.timers.tick(3_000); // three more ticks, still running
  assert.equal(runs, 1, 'one run started');
  finishers.shift()!();
  await new Promise((r) => setImmediate(r)); // let the finished run settle
  t.mock.timers.tick(1_000);
  assert.equal(runs, 2, 'the next tick after it ended starts one');
  assert.equal(most, 1, 'never two at once');
  finishers.shift()!();
  stop();
  assert.deepEqual(errors, []);
});
