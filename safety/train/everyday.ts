// False-positive sets beside the look-alikes (issue 16, second round): measured, never trained on.
// - everyday: ordinary chat requests in the six languages (safety/data/everyday_eval.jsonl:
//   cooking, coding, "Count slowly to one hundred", health, travel, homework, killing a process…);
// - test prompts: every content string the e2e and integration tests send, read from the test
//   files themselves, so a new test's prompt is measured the day it is written. A model that blocks
//   one of them fails that test (experiment 1 blocked "Count slowly to one hundred").
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface EverydayRow { readonly text: string; readonly lang: string }

/**
 * The everyday sets, measured only: set 1 (everyday_eval.jsonl, 285 prompts, round 2) and set 2
 * (everyday_eval_2.jsonl, 120 prompts written in round 5 after everyday-questions.ts took set 1's
 * question shapes into training, so that one set stays independent of what the model learnt).
 */
export function everydayPrompts(set: 1 | 2 = 1): EverydayRow[] {
  return readFileSync(path.join(root, 'safety', 'data', set === 1 ? 'everyday_eval.jsonl' : 'everyday_eval_2.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l) as EverydayRow);
}

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

// A string literal under a key a chat request carries its text in, or the first argument of a test's
// send/ask helper (`send('Count slowly to one hundred', …)`); template strings with ${…} are skipped.
const PROMPT = /(?:(?:content|text|input|prompt|message|question)"?:\s*|\b(?:send|sendMessage|ask|chat|post)\(\s*)(['"`])([^'"`$\n]{3,400})\1/g;

export function testPrompts(): string[] {
  const found = new Set<string>();
  for (const dir of ['e2e', 'integration']) {
    for (const file of walk(path.join(root, 'tests', dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(PROMPT)) if (!m[2].startsWith('/')) found.add(m[2]);
    }
  }
  return [...found].sort();
}
