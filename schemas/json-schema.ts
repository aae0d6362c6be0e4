import { z } from 'zod';
import { currentVersion, eventSchemas, eventTypes, schemaId } from './events.ts';

// file name → JSON text, one file per event type at its current version.
export function renderJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const type of eventTypes) {
    const schema = z.toJSONSchema(eventSchemas[type], { io: 'output' }) as Record<string, unknown>;
    const doc = { $id: schemaId(type), title: `${type} v${currentVersion[type]}`, ...schema };
    files[`${type}.v${currentVersion[type]}.json`] = JSON.stringify(doc, null, 2) + '\n';
  }
  return files;
}
