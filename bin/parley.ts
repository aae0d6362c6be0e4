#!/usr/bin/env node
// The `parley` command line.
import { Command } from 'commander';
import { registerAudit } from './commands/audit.ts';
import { registerDocs } from './commands/docs.ts';
import { registerErase } from './commands/erase.ts';
import { registerExport } from './commands/export.ts';
import { registerPlan } from './commands/plan.ts';
import { registerModel } from './commands/model.ts';
import { registerProject } from './commands/project.ts';
import { registerRelay } from './commands/relay.ts';
import { registerReplay } from './commands/replay.ts';
import { registerServe } from './commands/serve.ts';
import { registerToken } from './commands/token.ts';

const program = new Command('parley').description('Parley: an event-sourced chat platform for language models');
registerServe(program);
registerToken(program);
registerProject(program);
registerExport(program);
registerReplay(program);
registerRelay(program);
registerErase(program);
registerAudit(program);
registerPlan(program);
registerDocs(program);
registerModel(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
