// `npx tsx safety/train/measure.ts [--card safety/models/moderation-v1.json]`: measures a trained
// model card on today's held-out split and the false-positive sets without training (e.g. the shipped
// model before a retrain). Caveat printed with it: the shipped model was trained on the held-out
// split of its own data (train.ts --final), so only rows new since then are unseen by it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, isTest } from './generate.ts';
import { evaluateModel } from './evaluate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const cardArg = process.argv.indexOf('--card');
const card = cardArg > 0 ? process.argv[cardArg + 1] : path.join(here, '..', 'models', 'moderation-v1.json');
const rows = generate(16);
const split = (group: string): string => (isTest(group) ? 'test' : isTest(`val:${group}`, 0.12) ? 'val' : 'train');
console.log(await evaluateModel(rows.filter((r) => split(r.group) === 'test'), rows, split, card));
