// `parley plan` run as an operator runs it: the CLI in a child process, its text and its JSON.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const exec = promisify(execFile);
const parley = (...args: string[]) => exec(process.execPath, ['bin/parley.mjs', 'plan', ...args]);
const planJson = async (...args: string[]) => JSON.parse((await parley(...args, '--json')).stdout);
const failure = async (...args: string[]) => {
  const e = await parley(...args).then(() => null, (error: { code: number; stdout: string; stderr: string }) => error);
  assert.ok(e, `parley plan ${args.join(' ')} fails`);
  assert.equal(e.code, 1);
  assert.equal(e.stdout, '', 'no plan is printed for bad flags');
  return e.stderr.trim();
};

// The measured figures the planner must use, read here independently of it.
const pipeline = JSON.parse(readFileSync('bench/results/pipeline.json', 'utf8'));
const nullNow = pipeline.runs.find((r: { label: string; model: string }) => r.label === 'now' && r.model === 'null');
const busiest = nullNow.levels.reduce((a: { users: number }, b: { users: number }) => (b.users > a.users ? b : a));
const roles = JSON.parse(readFileSync('bench/results/roles.json', 'utf8'));
const rolesBusiest = roles.levels.reduce((a: { users: number }, b: { users: number }) => (b.users > a.users ? b : a));
const footprint = JSON.parse(readFileSync('bench/results/event-footprint.json', 'utf8')).fit;

describe('parley plan', () => {
  it('reproduces the worked example (1M DAU, 20 messages a day, TTFT p95 < 500 ms) with its assumptions printed', async () => {
    const { stdout } = await parley('--dau', '1000000');
    for (const expected of [
      'Capacity plan: 1,000,000 daily active users',
      '20 messages/user/day, 1,000 prompt tokens and 250 output tokens per turn',
      'peak hour = 3× the daily mean', 'TTFT p95 < 500 ms', 'not measured here',
      'Parley\'s cost per turn: measured, bench/results/pipeline.json (run "now", null model',
      '20,000,000 turns/day = 231.5 turns/s mean, 694.4 turns/s at peak',
      'prompt 694,444 tokens/s, output 173,611 tokens/s',
      'bench/results/roles.json (null model',
      '1. Requests', '2. Tokens at peak', '3. GPUs', '4. Parley, one Deployment per role', '  api ', '  saga ', '  projector ', '  worker ', '5. PostgreSQL', '6. Redis fan-out', '7. Monthly cost',
    ]) assert.ok(stdout.includes(expected), `the plan says "${expected}":\n${stdout}`);
    assert.match(stdout, /(FIRST TO SATURATE|First to saturate): \S/);
  });

  it('chains the numbers: GPUs from the table, CPU and storage from Parley\'s measured cost per turn', async () => {
    const p = await planJson('--dau', '1000000');
    const peak = (1_000_000 * 20 / 86_400) * 3;
    assert.ok(Math.abs(p.requests.peakTurnsPerSec - peak) < 1e-9);
    assert.ok(Math.abs(p.tokens.outputTokPerSec - peak * 250) < 1e-6);
    const busy = (peak * 1000) / p.gpu.prefillTokPerSecPerGpu + (peak * 250) / p.gpu.decodeTokPerSecPerGpu;
    assert.equal(p.gpu.gpus, Math.ceil(busy / 0.8));
    for (const role of ['api', 'saga', 'projector', 'worker']) {
      const cores = (peak * rolesBusiest.cpuMsPerTurn[role]) / 1000;
      assert.ok(Math.abs(p.parley.roles[role].cores - cores) < 1e-9, `${role} CPU from roles.json`);
      const scalesOut = role === 'api' || role === 'worker';
      assert.equal(p.parley.roles[role].vcpus, scalesOut ? Math.max(1, Math.ceil(cores / 0.7)) : 2, `${role}: vCPU at 70 % busy, or one active + one standby process`);
    }
    // The saga and the projector are checkpointed consumers (one active process each): they saturate at one core.
    for (const [name, role] of [['Parley saga (one active process)', 'saga'], ['Parley projector (one active process per read model)', 'projector']]) {
      const c = p.components.find((x: { name: string }) => x.name === name);
      assert.ok(c, `${name} is among the components that do not scale out`);
      assert.equal(c.saturatesAtDau, Math.floor((0.7 / p.parley.roles[role].cores) * 1_000_000));
    }
    assert.equal(p.parley.vcpus, ['api', 'saga', 'projector', 'worker'].reduce((s, r) => s + p.parley.roles[r].vcpus, 0), 'one Deployment per role');
    const pgMs = Math.max(busiest.postgresCpuMsPerTurn, rolesBusiest.cpuMsPerTurn.postgres);
    assert.ok(Math.abs(p.postgres.cores - (peak * pgMs) / 1000) < 1e-9, 'PostgreSQL CPU: the larger of the embedded and the scaled measurement');
    const stored = (footprint.eventBytesPerTurnFixed + footprint.eventBytesPerOutputToken * 250) * footprint.storedBytesPerEventByte;
    assert.ok(Math.abs(p.postgres.storageGBPerDay - (20_000_000 * stored) / 1e9) < 1e-6, 'storage from event-footprint.json');
    assert.equal(p.redis.publishesPerSec, peak * 251);
    assert.ok(Math.abs(p.costPerMonth.gpus - p.gpu.gpus * 2.5 * 730) < 1e-6);
    assert.equal(p.costPerMonth.total, p.costPerMonth.gpus + p.costPerMonth.cpu + p.costPerMonth.storage);
    // The first to saturate is the single instance with the lowest ceiling in users.
    const bounded = p.components.filter((c: { saturatesAtDau: number | null }) => c.saturatesAtDau !== null);
    const lowest = Math.min(...bounded.map((c: { saturatesAtDau: number }) => c.saturatesAtDau));
    assert.equal(p.firstToSaturate.atDau, lowest);
    assert.equal(p.firstToSaturate.alreadySaturated, lowest < 1_000_000);
  });

  it('follows the flags: a 70B model on A100s comes in 4-GPU replicas, a price replaces the list price, load scales linearly', async () => {
    const big = await planJson('--dau', '50000', '--model-size', '70b', '--gpu', 'a100', '--price-per-gpu-hour', '1.1', '--tokens-out', '100');
    assert.equal(big.gpu.gpusPerReplica, 4);
    assert.equal(big.gpu.gpus % 4, 0);
    assert.equal(big.input.pricePerGpuHour, 1.1);
    assert.ok(Math.abs(big.costPerMonth.gpus - big.gpu.gpus * 1.1 * 730) < 1e-6);
    const small = await planJson('--dau', '10000');
    const ten = await planJson('--dau', '100000');
    assert.ok(Math.abs(ten.redis.messagesPerSec - 10 * small.redis.messagesPerSec) < 1e-6);
    assert.equal(small.firstToSaturate.alreadySaturated, false);
    assert.equal(small.firstToSaturate.atDau, ten.firstToSaturate.atDau, 'the ceiling in users does not depend on the users planned for');
  });

  it('refuses bad flags with one clear line and no plan', async () => {
    assert.match(await failure(), /required option '--dau <n>' not specified/);
    assert.match(await failure('--dau', 'lots'), /--dau must be a number/);
    assert.match(await failure('--dau', '0'), /--dau must be > 0/);
    assert.match(await failure('--dau', '1.5'), /--dau must be a whole number/);
    assert.match(await failure('--dau', '1000', '--gpu', 'tpu'), /--gpu must be one of h100, a100, l4/);
    assert.match(await failure('--dau', '1000', '--model-size', '13b'), /--model-size must be one of 8b, 70b/);
    assert.match(await failure('--dau', '1000', '--peak-factor', '0.5'), /--peak-factor must be ≥ 1/);
    assert.match(await failure('--dau', '1000', '--model-size', '70b', '--gpu', 'l4'), /70b model is not sized for l4 GPUs.*--gpu h100 or a100/);
    assert.match(await failure('--dau', '1000', '--gpus', '3'), /unknown option '--gpus'/);
  });
});
