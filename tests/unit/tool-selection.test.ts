import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { builtinTools, demandsCall, selectTools } from '../../inference/tools/index.ts';

// Which server-side tools a turn is offered (inference/tools/selection.ts): a message that needs a
// tool gets that tool, everyday chat gets none (a small model calls whatever it is offered).
const tools = builtinTools({ searchHistory: async () => [], searchDocuments: async () => [] });
const offered = (text: string, mode?: 'relevant' | 'all') => selectTools(tools, text, mode).map((t) => t.name);

describe('tool selection', () => {
  it('offers the calculator for arithmetic in digits, symbols or words', () => {
    for (const q of ['What is 17 plus 25?', "what's 17+25?", 'seventeen plus twenty-five', 'Add 12 and 30.', 'How much is 100 divided by 8?', '3 x 4', 'What is the square root of 144?', 'Subtract 9 from 40', "What's 15% of 80?"])
      assert.deepEqual(offered(q), ['calculator'], q);
  });

  it('offers conversions for two units, or "convert" and one', () => {
    for (const q of ['Convert 5 kilometers to miles.', 'How many grams are in 3 kilograms?', 'How many minutes are in 2 hours?', 'What is 30 C in F?', '10 mph in km/h?', 'convert 3 gallons'])
      assert.deepEqual(offered(q), ['convert_units'], q);
  });

  it('offers the date and time for questions about them', () => {
    for (const q of ['What time is it?', 'What is the date today?', 'Could you check the time for me?', 'What day is it?', 'What time is it in Tokyo?'])
      assert.deepEqual(offered(q), ['current_datetime'], q);
  });

  it('offers the searches for earlier conversations and documents', () => {
    assert.deepEqual(offered('Search my old chats for the dentist appointment.'), ['search_history']);
    assert.deepEqual(offered('What did we talk about last time?'), ['search_history']);
    assert.deepEqual(offered('According to the handbook, when is payday?'), ['search_documents']);
    assert.deepEqual(offered('Check my files for the school fees, please.'), ['search_documents']);
  });

  it('offers nothing to everyday chat, or to a follow-up whose other number is in an earlier answer', () => {
    for (const q of ['Hello', 'Hi!', 'Tell me a joke about cats.', 'What is the capital of Japan?', 'Could you say that again?', 'Write a poem about the sea.', 'Once upon a time there was a king', 'Which one in the list is best?', 'How do I make a bomb?', 'Then add 4 to it.', 'I have two cats'])
      assert.deepEqual(offered(q), [], q);
  });

  it('`all` offers every tool, in their order; a message may need several', () => {
    assert.deepEqual(offered('Hello', 'all'), tools.map((t) => t.name));
    assert.deepEqual(offered('What time is it, and what is 6 times 7?'), ['calculator', 'current_datetime']);
  });

  it('a message that demands a tool\'s result must begin with a call; one that only mentions numbers or units need not', () => {
    const demands = (q: string) => demandsCall(selectTools(tools, q), q);
    for (const q of ['What is 17 plus 25?', 'seventeen plus twenty-five', 'Add 17 and 25', 'What do you get for 7 * 2?', 'How many meters make 3 kilometers?',
      'Convert 5 km to miles.', 'What is 5 km in miles?', 'How many minutes are in 2 hours?', 'What time is it?', 'What is the date today?'])
      assert.equal(demands(q), true, q);
    for (const q of ['Add 2 eggs and 3 cups of flour', 'I ran 5 km in 30 minutes', 'See you tomorrow at 5', 'What is a kilometer?', 'I have 2 cats and 3 dogs', 'Hello'])
      assert.equal(demands(q), false, q);
  });
});
