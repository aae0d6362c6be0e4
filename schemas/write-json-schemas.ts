// `npm run schemas`: JSON Schema for every event (current version) into schemas/json/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from './json-schema.ts';

const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'json');
mkdirSync(outDir, { recursive: true });
for (const [file, text] of Object.entries(renderJsonSchemas())) {
  writeFileSync(path.join(outDir, file), text);
  console.log(`wrote schemas/json/${file}`);
}
