import type { Command } from 'commander';
import { loadMeasured, plan, PlanInput, renderPlan } from '../plan/index.ts';

// `parley plan`: sizes a deployment from users to GPUs, Parley's CPU, PostgreSQL, Redis and cost.
export function registerPlan(program: Command) {
  program
    .command('plan')
    .description('capacity plan: requests/s → tokens/s → GPUs → Parley CPU → PostgreSQL → Redis → monthly cost')
    .requiredOption('--dau <n>', 'daily active users')
    .option('--messages-per-user <n>', 'messages per user per day (default 20)')
    .option('--tokens-in <n>', 'prompt tokens per turn, history included (default 1000)')
    .option('--tokens-out <n>', 'output tokens per answer (default 250)')
    .option('--peak-factor <x>', 'peak-hour load ÷ daily mean (default 3)')
    .option('--model-size <size>', 'model size: 8b or 70b (default 8b)')
    .option('--gpu <gpu>', 'h100, a100 or l4 (default h100)')
    .option('--price-per-gpu-hour <usd>', 'GPU price in $/hour (default: a list price for the GPU)')
    .option('--ttft-slo-ms <ms>', 'TTFT p95 objective in ms (default 500)')
    .option('--subscribers-per-turn <n>', 'clients streaming each answer (default 1)')
    .option('--json', 'print the plan as JSON')
    .action((opts: Record<string, string | boolean | undefined>) => {
      const { json, ...flags } = opts;
      const parsed = PlanInput.safeParse(Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)));
      if (!parsed.success) throw new Error(`parley plan: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
      const result = plan(parsed.data, loadMeasured());
      console.log(json ? JSON.stringify(result, null, 2) : renderPlan(result));
    });
}
