// Exact rational numbers over BigInt: the calculator and unit conversion never round until the
// answer is printed, so 0.1 + 0.2 is 0.3 and 2^200 has all its digits.

export class ArithmeticError extends Error {}

const abs = (n: bigint) => (n < 0n ? -n : n);
function gcd(a: bigint, b: bigint): bigint {
  a = abs(a); b = abs(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

// Bounds so one expression cannot make the process compute megabytes of digits.
export const MAX_DIGITS = 2_000;

export class Rational {
  private constructor(readonly num: bigint, readonly den: bigint) {}

  static of(num: bigint, den = 1n): Rational {
    if (den === 0n) throw new ArithmeticError('division by zero');
    if (den < 0n) { num = -num; den = -den; }
    const g = gcd(num, den) || 1n;
    const r = new Rational(num / g, den / g);
    if (r.num.toString().length > MAX_DIGITS || r.den.toString().length > MAX_DIGITS) {
      throw new ArithmeticError(`the result has more than ${MAX_DIGITS} digits`);
    }
    return r;
  }

  // "12", "-3.25", "1e3", "2.5E-2": exact.
  static parse(text: string): Rational {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text.trim());
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new ArithmeticError(`not a number: ${text}`);
    const [, sign, whole, frac = '', exp = '0'] = m;
    let num = BigInt((whole || '0') + frac) * (sign === '-' ? -1n : 1n);
    let den = 10n ** BigInt(frac.length);
    const e = Number(exp);
    if (e >= 0) num *= 10n ** BigInt(e);
    else den *= 10n ** BigInt(-e);
    return Rational.of(num, den);
  }

  add(o: Rational) { return Rational.of(this.num * o.den + o.num * this.den, this.den * o.den); }
  sub(o: Rational) { return Rational.of(this.num * o.den - o.num * this.den, this.den * o.den); }
  mul(o: Rational) { return Rational.of(this.num * o.num, this.den * o.den); }
  div(o: Rational) {
    if (o.num === 0n) throw new ArithmeticError('division by zero');
    return Rational.of(this.num * o.den, this.den * o.num);
  }
  // Remainder with the sign of the dividend (as JavaScript's and C's %).
  mod(o: Rational) {
    if (o.num === 0n) throw new ArithmeticError('modulo by zero');
    const q = (this.num * o.den) / (o.num * this.den); // truncated quotient
    return this.sub(o.mul(Rational.of(q)));
  }
  neg() { return Rational.of(-this.num, this.den); }
  isInteger() { return this.den === 1n; }

  pow(e: Rational): Rational {
    if (!e.isInteger()) throw new ArithmeticError('only whole-number powers are exact');
    const n = e.num;
    const bits = Math.max(abs(this.num).toString(2).length, abs(this.den).toString(2).length);
    // digits of the result ≈ |n| · digits of the base: refused before it is computed.
    if (Number(abs(n)) * bits * 0.302 > MAX_DIGITS) throw new ArithmeticError(`the result has more than ${MAX_DIGITS} digits`);
    if (n >= 0n) return Rational.of(this.num ** n, this.den ** n);
    if (this.num === 0n) throw new ArithmeticError('division by zero');
    return Rational.of(this.den ** -n, this.num ** -n);
  }

  // Exact when the denominator has only the factors 2 and 5; otherwise `digits` decimals, rounded
  // half away from zero, and `exact` is false.
  toDecimal(digits = 20): { text: string; exact: boolean } {
    let d = this.den; let twos = 0; let fives = 0;
    while (d % 2n === 0n) { d /= 2n; twos++; }
    while (d % 5n === 0n) { d /= 5n; fives++; }
    const exact = d === 1n;
    const places = exact ? Math.max(twos, fives) : digits;
    const scale = 10n ** BigInt(places);
    const scaled = this.num * scale;
    let q = scaled / this.den;
    const r = abs(scaled % this.den);
    if (!exact && r * 2n >= this.den) q += this.num < 0n ? -1n : 1n;
    const sign = q < 0n || (q === 0n && this.num < 0n) ? '-' : '';
    const digitsText = abs(q).toString().padStart(places + 1, '0');
    const int = digitsText.slice(0, digitsText.length - places);
    let frac = places > 0 ? digitsText.slice(-places) : '';
    if (!exact) frac = frac.replace(/0+$/, '');
    const text = `${sign}${int}${frac ? `.${frac}` : ''}`;
    return { text: text === '-0' ? '0' : text, exact };
  }

  toFraction(): string {
    return this.den === 1n ? this.num.toString() : `${this.num}/${this.den}`;
  }
}
