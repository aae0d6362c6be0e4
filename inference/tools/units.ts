import { ArithmeticError, Rational } from './rational.ts';

// Unit conversion with exact factors (the SI definitions: 1 in = 0.0254 m exactly, 1 lb =
// 0.45359237 kg exactly, …), so conversions are as exact as the calculator. Temperatures are affine
// (an offset, then a factor) and handled apart.

type Dimension = 'length' | 'mass' | 'volume' | 'time' | 'area' | 'speed' | 'data' | 'temperature';
type Unit = { dimension: Dimension; factor: string; names: string[] }; // factor: in the dimension's base unit

const UNITS: Unit[] = [
  { dimension: 'length', factor: '1', names: ['m', 'meter', 'meters', 'metre', 'metres'] },
  { dimension: 'length', factor: '1000', names: ['km', 'kilometer', 'kilometers', 'kilometre', 'kilometres'] },
  { dimension: 'length', factor: '0.01', names: ['cm', 'centimeter', 'centimeters', 'centimetre', 'centimetres'] },
  { dimension: 'length', factor: '0.001', names: ['mm', 'millimeter', 'millimeters', 'millimetre', 'millimetres'] },
  { dimension: 'length', factor: '0.0254', names: ['in', 'inch', 'inches'] },
  { dimension: 'length', factor: '0.3048', names: ['ft', 'foot', 'feet'] },
  { dimension: 'length', factor: '0.9144', names: ['yd', 'yard', 'yards'] },
  { dimension: 'length', factor: '1609.344', names: ['mi', 'mile', 'miles'] },
  { dimension: 'length', factor: '1852', names: ['nmi', 'nautical mile', 'nautical miles'] },
  { dimension: 'mass', factor: '1', names: ['kg', 'kilogram', 'kilograms'] },
  { dimension: 'mass', factor: '0.001', names: ['g', 'gram', 'grams'] },
  { dimension: 'mass', factor: '0.000001', names: ['mg', 'milligram', 'milligrams'] },
  { dimension: 'mass', factor: '1000', names: ['t', 'tonne', 'tonnes', 'metric ton', 'metric tons'] },
  { dimension: 'mass', factor: '0.45359237', names: ['lb', 'lbs', 'pound', 'pounds'] },
  { dimension: 'mass', factor: '0.028349523125', names: ['oz', 'ounce', 'ounces'] },
  { dimension: 'mass', factor: '6.35029318', names: ['st', 'stone', 'stones'] },
  { dimension: 'volume', factor: '1', names: ['l', 'liter', 'liters', 'litre', 'litres'] },
  { dimension: 'volume', factor: '0.001', names: ['ml', 'milliliter', 'milliliters', 'millilitre', 'millilitres'] },
  { dimension: 'volume', factor: '1000', names: ['m3', 'cubic meter', 'cubic meters', 'cubic metre', 'cubic metres'] },
  { dimension: 'volume', factor: '3.785411784', names: ['gal', 'gallon', 'gallons', 'us gallon', 'us gallons'] },
  { dimension: 'volume', factor: '4.54609', names: ['imperial gallon', 'imperial gallons', 'uk gallon', 'uk gallons'] },
  { dimension: 'volume', factor: '0.946352946', names: ['qt', 'quart', 'quarts'] },
  { dimension: 'volume', factor: '0.473176473', names: ['pt', 'pint', 'pints', 'us pint', 'us pints'] },
  { dimension: 'volume', factor: '0.2365882365', names: ['cup', 'cups'] },
  { dimension: 'volume', factor: '0.0295735295625', names: ['fl oz', 'fluid ounce', 'fluid ounces'] },
  { dimension: 'time', factor: '1', names: ['s', 'sec', 'second', 'seconds'] },
  { dimension: 'time', factor: '0.001', names: ['ms', 'millisecond', 'milliseconds'] },
  { dimension: 'time', factor: '60', names: ['min', 'minute', 'minutes'] },
  { dimension: 'time', factor: '3600', names: ['h', 'hr', 'hour', 'hours'] },
  { dimension: 'time', factor: '86400', names: ['d', 'day', 'days'] },
  { dimension: 'time', factor: '604800', names: ['wk', 'week', 'weeks'] },
  { dimension: 'area', factor: '1', names: ['m2', 'square meter', 'square meters', 'square metre', 'square metres'] },
  { dimension: 'area', factor: '1000000', names: ['km2', 'square kilometer', 'square kilometers'] },
  { dimension: 'area', factor: '10000', names: ['ha', 'hectare', 'hectares'] },
  { dimension: 'area', factor: '4046.8564224', names: ['acre', 'acres'] },
  { dimension: 'area', factor: '0.09290304', names: ['ft2', 'square foot', 'square feet'] },
  { dimension: 'speed', factor: '1', names: ['m/s', 'meters per second', 'metres per second'] },
  { dimension: 'speed', factor: '5/18', names: ['km/h', 'kph', 'kmh', 'kilometers per hour', 'kilometres per hour'] },
  { dimension: 'speed', factor: '0.44704', names: ['mph', 'miles per hour'] },
  { dimension: 'speed', factor: '463/900', names: ['kn', 'knot', 'knots'] },
  { dimension: 'data', factor: '1', names: ['b', 'byte', 'bytes'] },
  { dimension: 'data', factor: '1/8', names: ['bit', 'bits'] },
  { dimension: 'data', factor: '1000', names: ['kb', 'kilobyte', 'kilobytes'] },
  { dimension: 'data', factor: '1000000', names: ['mb', 'megabyte', 'megabytes'] },
  { dimension: 'data', factor: '1000000000', names: ['gb', 'gigabyte', 'gigabytes'] },
  { dimension: 'data', factor: '1024', names: ['kib', 'kibibyte', 'kibibytes'] },
  { dimension: 'data', factor: '1048576', names: ['mib', 'mebibyte', 'mebibytes'] },
  { dimension: 'data', factor: '1073741824', names: ['gib', 'gibibyte', 'gibibytes'] },
];

// Temperatures: kelvin = (value + offset) · factor.
const TEMPERATURES: Record<string, { offset: string; factor: string }> = {
  c: { offset: '273.15', factor: '1' }, celsius: { offset: '273.15', factor: '1' }, '°c': { offset: '273.15', factor: '1' },
  f: { offset: '459.67', factor: '5/9' }, fahrenheit: { offset: '459.67', factor: '5/9' }, '°f': { offset: '459.67', factor: '5/9' },
  k: { offset: '0', factor: '1' }, kelvin: { offset: '0', factor: '1' },
};

const ratio = (s: string) => {
  const [n, d] = s.split('/');
  return d ? Rational.parse(n!).div(Rational.parse(d)) : Rational.parse(n!);
};
const byName = new Map(UNITS.flatMap((u) => u.names.map((n) => [n, u] as const)));
const key = (unit: string) => unit.trim().toLowerCase().replace(/\s+/g, ' ');

// Every name convert() knows (lower case), for tool selection (selection.ts).
export const UNIT_NAMES: readonly string[] = [...byName.keys(), ...Object.keys(TEMPERATURES)];

export function convert(value: string, from: string, to: string): { value: string; from: string; to: string; result: string; exact: boolean } {
  const amount = Rational.parse(value);
  const [f, t] = [key(from), key(to)];
  let result: Rational;
  if (TEMPERATURES[f] || TEMPERATURES[t]) {
    const a = TEMPERATURES[f]; const b = TEMPERATURES[t];
    if (!a || !b) throw new ArithmeticError(`cannot convert ${from} to ${to}: one is a temperature and the other is not`);
    const kelvin = amount.add(ratio(a.offset)).mul(ratio(a.factor));
    result = kelvin.div(ratio(b.factor)).sub(ratio(b.offset));
  } else {
    const a = byName.get(f); const b = byName.get(t);
    if (!a) throw new ArithmeticError(`unknown unit "${from}"`);
    if (!b) throw new ArithmeticError(`unknown unit "${to}"`);
    if (a.dimension !== b.dimension) throw new ArithmeticError(`cannot convert ${a.dimension} (${from}) to ${b.dimension} (${to})`);
    result = amount.mul(ratio(a.factor)).div(ratio(b.factor));
  }
  const { text, exact } = result.toDecimal(12);
  return { value, from, to, result: text, exact };
}
