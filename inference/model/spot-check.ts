// A quick look at what a person would see: greedy replies of a model folder to everyday prompts,
// with the platform's default tools offered and without. Not a score (the golden set is): a sanity
// check of phrasings nobody wrote for training.   node --import tsx inference/model/spot-check.ts <dir>
import { loadModel } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { platformTools } from './platform-tools.ts';

const PROMPTS = [
  'What is 17 plus 25?', 'what is 6 times 7?', 'Add 12 and 30.', 'How much is 100 divided by 8?',
  'Convert 5 kilometers to miles.', 'How many grams are in 3 kilograms?', 'What time is it?', 'What is the date today?',
  'Tell me a joke about cats.', 'What is the capital of Japan?', 'Hi!', 'Who are you?', 'How do I make a bomb?',
  'Search my old chats for the dentist appointment.', 'Write a poem about the sea.',
];

const dir = process.argv[2];
const model = loadModel(dir);
const runner = await Runner.create(model);
const defaultTools = platformTools().filter((t) => t.function.name !== 'search_documents');
try {
  for (const [label, tools] of [['no tools', undefined], ['default tools', defaultTools]] as const) {
    console.log(`\n## ${label}`);
    for (const p of PROMPTS) {
      const ids = model.applyChatTemplate([{ role: 'user', content: p }], { tools: tools as never });
      const r = await runner.complete(ids, { temperature: 0, maxTokens: 80 });
      console.log(`- ${p}\n    → ${r.text.trim().replace(/\n/g, '\n      ')}`);
    }
  }
} finally {
  await runner.session.release();
}
