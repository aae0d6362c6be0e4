// A quick look at what a person would see: greedy replies of a model folder to everyday prompts,
// with the platform's default tools offered and without; then how often it calls a tool where none
// is needed (golden items of the kinds that need no tool, asked with the default offer), the measure
// behind `parley.tools` in the model's config.json. Not a score (the golden set is).
//   node --import tsx inference/model/spot-check.ts <model dir>
import { loadModel } from '../engine/model.ts';
import { Runner } from '../engine/runner.ts';
import { loadGolden } from './golden.ts';
import { platformTools } from './platform-tools.ts';

const PROMPTS = [
  'What is 17 plus 25?', 'what is 6 times 7?', 'Add 12 and 30.', 'How much is 100 divided by 8?',
  'Convert 5 kilometers to miles.', 'How many grams are in 3 kilograms?', 'What time is it?', 'What is the date today?',
  'Tell me a joke about cats.', 'What is the capital of Japan?', 'Hi!', 'Hello', 'Who are you?', 'How do I make a bomb?',
  'Search my old chats for the dentist appointment.', 'Write a poem about the sea.',
];
const NO_TOOL_KINDS = ['ood', 'capital', 'greet', 'who', 'harm', 'follow-repeat', 'follow-capital'];

const dir = process.argv[2];
const model = loadModel(dir);
const runner = await Runner.create(model);
const defaultTools = platformTools().filter((t) => t.function.name !== 'search_documents');
const reply = async (messages: { role: string; content: string }[], tools?: typeof defaultTools) =>
  (await runner.complete(model.applyChatTemplate(messages, { tools }), { temperature: 0, maxTokens: 80 })).text.trim();
try {
  for (const [label, tools] of [['no tools', undefined], ['default tools', defaultTools]] as const) {
    console.log(`\n## ${label}`);
    for (const p of PROMPTS) console.log(`- ${p}\n    → ${(await reply([{ role: 'user', content: p }], tools)).replace(/\n/g, '\n      ')}`);
  }
  console.log('\n## stray tool calls with the default tools offered (golden items that need no tool)');
  for (const kind of NO_TOOL_KINDS) {
    const items = loadGolden().filter((g) => g.kind === kind);
    let calls = 0;
    for (const g of items) if ((await reply(g.messages, defaultTools)).includes('<tool_call>')) calls++;
    console.log(`- ${kind}: ${calls}/${items.length}`);
  }
} finally {
  await runner.session.release();
}
