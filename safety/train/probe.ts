// `npx tsx safety/train/probe.ts [--card safety/models/moderation-v1.json] [--file F] [--verbose]`:
// the input cascade's verdicts, with a model card, on hand-written probe sets that no model was trained
// on (default: safety/data/probes_session9.json; every array of strings in the file is a set; a .jsonl
// file of labelled rows gives one set per harmful/benign × language, e.g. round 9's written requests
// for a model not trained on them). Prints
// blocked / total per set; --verbose also each line with its blocked categories. A set named
// harmful_* should be blocked, benign_* not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSafetyCascade } from '../cascade.ts';
import { createModerationModel, DEFAULT_MODEL_CARD } from '../model.ts';
import { MEASURE_TIMEOUT_MS } from './evaluate.ts';
import { readJsonl } from './generate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const card = arg('--card', DEFAULT_MODEL_CARD);
const file = arg('--file', path.join(here, '..', 'data', 'probes_session9.json'));
const verbose = process.argv.includes('--verbose');

/** A labelled JSONL file (rows {text, labels, lang}, e.g. safety/data/written_requests.jsonl): one set per kind and language. */
function setsOfRows(jsonl: string): [string, string[]][] {
  const sets = new Map<string, string[]>();
  for (const r of readJsonl(jsonl) as { text: string; labels: string[]; lang?: string }[]) {
    const name = `${r.labels.length ? 'harmful' : 'benign'}_${r.lang ?? 'en'}`;
    sets.set(name, [...(sets.get(name) ?? []), r.text]);
  }
  return [...sets].sort(([a], [b]) => a.localeCompare(b));
}
// every model verdict is waited for (evaluate.ts's limit): a slow call must not become a rules-only verdict
const cascade = createSafetyCascade({ model: createModerationModel(card), modelTimeoutMs: MEASURE_TIMEOUT_MS });
const sets = file.endsWith('.jsonl') ? setsOfRows(file) : Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
  .filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every((x) => typeof x === 'string'));
console.log(`card ${path.relative(process.cwd(), card)}`);
for (const [name, lines] of sets) {
  let blocked = 0;
  for (const text of lines) {
    const r = await cascade.check(text);
    if (r.verdict === 'blocked') blocked++;
    if (verbose) console.log(`  ${r.verdict === 'blocked' ? 'BLOCK' : '-----'} ${r.categories.filter((c) => c.blocked).map((c) => c.category).join(',').padEnd(22)} ${text}`);
  }
  console.log(`${name.padEnd(14)} ${String(blocked).padStart(3)}/${lines.length} blocked (${((100 * blocked) / lines.length).toFixed(1)}%)`);
}
process.exit(0);
