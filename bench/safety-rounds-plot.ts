// `node --import tsx bench/safety-rounds-plot.ts`: draws bench/results/safety-rounds.svg from
// safety-rounds.json (the measured siblings of issue 16's round 5, one point per recipe and seed):
// held-out public red-team requests blocked against everyday prompts blocked, the trade a moderation
// model makes. Up is better recall, left fewer false positives.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Run { recipe: string; what: string; seed: number; publicBlocked: number; publicRows: number; everyday1Blocked: number }
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const { runs } = JSON.parse(readFileSync(path.join(dir, 'safety-rounds.json'), 'utf8')) as { runs: Run[] };

const W = 560, H = 380, L = 60, R = 20, T = 30, B = 50;
const xMax = 15, yMin = 25, yMax = 50;
const x = (v: number) => L + ((W - L - R) * v) / xMax;
const y = (v: number) => T + ((H - T - B) * (yMax - v)) / (yMax - yMin);
const colour: Record<string, string> = { A: '#888888', G: '#1f77b4', H: '#d62728' };
const parts: string[] = [];
for (let v = 0; v <= xMax; v += 5) parts.push(`<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${v}</text>`);
for (let v = yMin; v <= yMax; v += 5) parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v}%</text>`);
parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">everyday prompts blocked (set 1, of 285; never trained on)</text>`);
parts.push(`<text x="14" y="${(T + H - B) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">held-out public requests blocked (1,019)</text>`);
parts.push(`<text x="${L}" y="18" font-size="13">Moderation model, round 5: recall against false positives, seeds 16/17/18</text>`);
for (const r of runs) {
  const px = x(r.everyday1Blocked), py = y((100 * r.publicBlocked) / r.publicRows);
  parts.push(`<circle cx="${px}" cy="${py}" r="5" fill="${colour[r.recipe] ?? 'black'}"/><text x="${px + 7}" y="${py + 4}" font-size="10">${r.recipe}${r.seed}</text>`);
}
const legend = [...new Map(runs.map((r) => [r.recipe, r.what])).entries()].map(([k, what], i) =>
  `<circle cx="${L + 12}" cy="${T + 12 + 16 * i}" r="5" fill="${colour[k]}"/><text x="${L + 22}" y="${T + 16 + 16 * i}" font-size="11">${k}: ${what}</text>`);
writeFileSync(path.join(dir, 'safety-rounds.svg'), `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${[...parts, ...legend].join('\n')}\n</svg>\n`);
console.log(`wrote ${path.join(dir, 'safety-rounds.svg')} (${runs.length} runs)`);
