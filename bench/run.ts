// `npm run bench [name...] [--option ...]`: runs bench/<name>.ts (each exports `run()`), or every benchmark.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
// Names come first; options after them (`npm run bench:pipeline -- --tree ../before`) are the benchmark's own.
const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? args : args.slice(0, firstOption);
const names = wanted.length ? wanted : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark "${name}"; known: ${all.join(', ')}`);
    process.exit(2);
  }
}
for (const name of names) {
  console.log(`\n=== bench: ${name} ===`);
  const mod = (await import(path.join(here, `${name}.bench.ts`))) as { run: () => Promise<void> };
  await mod.run();
}
process.exit(0);
