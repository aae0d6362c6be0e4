// Training rows for the tiny test guard model (safety/train/train_guard.py): the moderation model's
// generated training split (never its held-out split), each as a Llama Guard 3-style prompt
// (safety/guard.ts) and the answer a guard model gives: "safe" or "unsafe\nS<n>". Written as JSONL
// to the path given; small and seeded.
import { writeFileSync } from 'node:fs';
import { GUARD_CODE_OF, guardPrompt } from '../guard.ts';
import { generate, isTest } from './generate.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: guard-data.ts <out.jsonl> [rows]');
const limit = Number(process.argv[3] ?? 6000);
const rows = generate(16, { moreIntents: true }).filter((r) => !isTest(r.group));
// Every k-th row: all categories, languages and obfuscations, a few thousand rows.
const step = Math.max(1, Math.floor(rows.length / limit));
const lines: string[] = [];
for (let i = 0; i < rows.length && lines.length < limit; i += step) {
  const r = rows[i];
  const codes = [...new Set(r.labels.map((c) => GUARD_CODE_OF[c]).filter(Boolean))];
  const answer = codes.length ? `unsafe\n${codes.join(',')}` : 'safe';
  lines.push(JSON.stringify({ prompt: guardPrompt(r.text), answer }));
}
writeFileSync(out, lines.join('\n') + '\n');
console.log(`guard-data: ${lines.length} rows → ${out}`);
