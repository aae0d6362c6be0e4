import { mentionedNumbers, mentionedUnits } from './selection.ts';
import { convertible } from './units.ts';

// Argument grounding: a tool's parameters narrowed, for one turn's call constraint, to what the
// user's message names (policy only: pure functions of the message). The tools section of the
// prompt keeps the full schema; only the engine's mask is narrower, so a call the model begins can
// only take the message's own values. Why: measured on `npm start` with the shipped model,
// "Convert miles to kilometers." was called with from "gal", "How many grams are in a kilogram?"
// with from "min", and "How many minutes are in an hour?" with the value ", " — each a failed call
// (the model's copying is weak), where the message held everything the call needed; narrowed to the
// units alone, it then wrote from "grams" to "grams" (a call that works and answers nothing), so the
// units are offered as pairs the converter can turn one into the other.
// Invariants: a narrowed schema accepts a subset of what the tool's schema accepts; when the message
// does not pin an argument down (numbers in words or with a comma), it is left as the tool has it;
// when it pins nothing down (fewer than two convertible units), the result is null.

/** convert_units' parameters for a message: one alternative per ordered pair of different units it
 *  names that convert into each other, the value one of its numbers (1 when it has none: "How many
 *  grams are in a kilogram?"); null when it names no such pair. */
export function groundConversion(message: string): Record<string, unknown> | null {
  const units = mentionedUnits(message);
  const pairs = units.flatMap((from) => units.filter((to) => convertible(from, to)).map((to) => [from, to] as const));
  if (pairs.length === 0) return null;
  const { digits, words } = mentionedNumbers(message);
  const values = digits === null || words ? null : digits.length ? digits : [1];
  const value = values ? { type: 'number', enum: values } : { type: 'number' };
  return {
    anyOf: pairs.map(([from, to]) => ({
      type: 'object',
      properties: { value, from: { const: from }, to: { const: to } },
      required: ['value', 'from', 'to'],
      additionalProperties: false,
    })),
  };
}
