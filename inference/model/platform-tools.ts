// Writes inference/model/platform-tools.json: the server-side tools exactly as the saga offers them to
// the model (name, description, JSON Schema of the arguments, in the OpenAI `{type, function}` shape
// that the system turn renders). train.py's tool skills read this file, so the shipped model is trained
// on the very prompt the platform builds; tests/unit/platform-tools.test.ts fails when they drift.
//   node --import tsx inference/model/platform-tools.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinTools, toolFunctions } from '../tools/index.ts';

export const PLATFORM_TOOLS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'platform-tools.json');

/** every built-in tool (search ones included), as the model sees them */
export function platformTools(): { type: 'function'; function: ReturnType<typeof toolFunctions>[number] }[] {
  const none = async () => [];
  return toolFunctions(builtinTools({ searchHistory: none, searchDocuments: none })).map((f) => ({ type: 'function', function: f }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(PLATFORM_TOOLS_FILE, JSON.stringify(platformTools(), null, 2) + '\n');
  console.log(`wrote ${PLATFORM_TOOLS_FILE}`);
}
