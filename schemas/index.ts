export * from './common.ts';
export * from './config.ts';
export * from './safety.ts';
export * from './events.ts';
export * from './commands.ts';
export * from './upcasters.ts';
export * from './constraint.ts';
export * from './tools.ts';
