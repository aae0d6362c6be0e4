import { ArithmeticError, Rational } from './rational.ts';

// A recursive-descent parser for arithmetic (no eval): numbers with decimals and exponents,
// + - * / ^ %, unary minus, parentheses. `^` is right-associative and binds tighter than unary
// minus (-2^2 = -4). `%` after an operand that is not followed by another operand is a percentage
// (50% = 0.5, 200 * 15% = 30); between two operands it is the remainder (7 % 3 = 1).
//
//   expr   := term (('+' | '-') term)*
//   term   := unary (('*' | '/' | '%') unary)*
//   unary  := ('-' | '+') unary | power
//   power  := postfix ('^' unary)?
//   postfix:= atom '%'*            (percent)
//   atom   := number | '(' expr ')'

export const MAX_EXPRESSION_CHARS = 500;

type Token = { kind: 'num'; text: string; at: number } | { kind: 'op'; text: string; at: number } | { kind: 'end'; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([-+*/^%()×÷−]))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(source);
    if (!m) throw new ArithmeticError(`unexpected character at ${at + 1}: "${source.slice(at).trimStart()[0]}"`);
    const start = m.index + m[0].length - (m[1] ?? m[2])!.length;
    if (m[1] !== undefined) tokens.push({ kind: 'num', text: m[1], at: start });
    else tokens.push({ kind: 'op', text: ({ '×': '*', '÷': '/', '−': '-' } as Record<string, string>)[m[2]!] ?? m[2]!, at: start });
    at = re.lastIndex;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

export function evaluate(source: string): Rational {
  if (source.length > MAX_EXPRESSION_CHARS) throw new ArithmeticError(`the expression is longer than ${MAX_EXPRESSION_CHARS} characters`);
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i]!;
  const isOp = (t: Token, ...ops: string[]) => t.kind === 'op' && ops.includes(t.text);
  const startsOperand = (t: Token) => t.kind === 'num' || isOp(t, '(', '-', '+');
  let depth = 0;

  function expr(): Rational {
    let v = term();
    for (;;) {
      if (isOp(peek(), '+')) { i++; v = v.add(term()); } else if (isOp(peek(), '-')) { i++; v = v.sub(term()); } else return v;
    }
  }
  function term(): Rational {
    let v = unary();
    for (;;) {
      const t = peek();
      if (isOp(t, '*')) { i++; v = v.mul(unary()); } else if (isOp(t, '/')) { i++; v = v.div(unary()); } else if (isOp(t, '%')) { i++; v = v.mod(unary()); } else return v;
    }
  }
  function unary(): Rational {
    if (isOp(peek(), '-')) { i++; return unary().neg(); }
    if (isOp(peek(), '+')) { i++; return unary(); }
    return power();
  }
  function power(): Rational {
    const base = postfix();
    if (isOp(peek(), '^')) { i++; return base.pow(unary()); }
    return base;
  }
  function postfix(): Rational {
    let v = atom();
    // A '%' not followed by an operand is a percentage.
    while (isOp(peek(), '%') && !startsOperand(tokens[i + 1]!)) { i++; v = v.div(Rational.of(100n)); }
    return v;
  }
  function atom(): Rational {
    const t = tokens[i++]!;
    if (t.kind === 'num') return Rational.parse(t.text);
    if (isOp(t, '(')) {
      if (++depth > 64) throw new ArithmeticError('parentheses nested too deep');
      const v = expr();
      if (!isOp(tokens[i++]!, ')')) throw new ArithmeticError(`missing ")" at ${tokens[i - 1]!.at + 1}`);
      depth--;
      return v;
    }
    if (t.kind === 'end') throw new ArithmeticError('the expression ends too early');
    throw new ArithmeticError(`unexpected "${t.text}" at ${t.at + 1}`);
  }

  const value = expr();
  const rest = peek();
  if (rest.kind !== 'end') throw new ArithmeticError(`unexpected "${rest.text}" at ${rest.at + 1}`);
  return value;
}

// The tool's answer: the decimal (exact when it terminates), and the fraction when it does not.
export function calculate(expression: string): { expression: string; result: string; exact: boolean; fraction?: string } {
  const value = evaluate(expression);
  const { text, exact } = value.toDecimal(30);
  return exact ? { expression, result: text, exact } : { expression, result: text, exact, fraction: value.toFraction() };
}
