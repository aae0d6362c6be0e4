import { mentionedNumbers, mentionedUnits } from './selection.ts';

// Argument grounding: a tool's parameters narrowed, for one turn's call constraint, to what the
// user's message names (policy only: pure functions of the message). The tools section of the
// prompt keeps the full schema; only the engine's mask is narrower, so a call the model begins can
// only take the message's own values. Why: measured on `npm start` with the shipped model,
// "Convert miles to kilometers." was called with from "gal", "How many grams are in a kilogram?"
// with from "min", and "How many minutes are in an hour?" with the value ", " — each a failed call
// (the model's copying is weak), where the message held everything the call needed.
// Invariants: a narrowed schema accepts a subset of what the tool's schema accepts; when the message
// does not pin an argument down (one unit only, numbers in words or with a comma), it is left as is.

/** Property schemas for convert_units from a message, or null when it names fewer than two units. */
export function groundConversion(message: string): Record<string, unknown> | null {
  const units = mentionedUnits(message);
  if (units.length < 2) return null;
  const { digits, words } = mentionedNumbers(message);
  // "How many grams are in a kilogram?": no number at all means one of the unit.
  const values = digits === null || words ? null : digits.length ? digits : [1];
  return {
    value: values ? { type: 'number', enum: values } : { type: 'number' },
    from: { type: 'string', enum: units },
    to: { type: 'string', enum: units },
  };
}
