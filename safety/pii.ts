// Stage 3 of the cascade: personal data with spans in the original text, so input can be flagged
// and output can be scrubbed. Every candidate is validated (Luhn for cards, mod-97 for IBANs,
// SSA rules for SSNs, numeric ranges for IPs, digit counts for phones) to keep look-alikes out.
import { isIPv6 } from 'node:net';
import type { Severity } from '../schemas/safety.ts';

export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD' | 'SSN' | 'IBAN' | 'IP';

export interface PiiMatch {
  readonly kind: PiiKind;
  /** UTF-16 offsets into the text that was scanned: `text.slice(start, end)` is the item. */
  readonly start: number;
  readonly end: number;
}

export interface PiiOptions {
  /** Which kinds to look for (all by default). */
  readonly kinds?: readonly PiiKind[];
  /**
   * `public` (default): IP addresses in private, loopback, link-local, documentation and
   * multicast ranges are not personal data and are left alone (they fill technical answers).
   * `all`: every syntactically valid address.
   */
  readonly ipScope?: 'public' | 'all';
}

/** How serious each kind is when found in a message. */
export const PII_SEVERITY: Readonly<Record<PiiKind, Exclude<Severity, 'NEGLIGIBLE'>>> = {
  EMAIL: 'LOW',
  PHONE: 'LOW',
  IP: 'LOW',
  IBAN: 'MEDIUM',
  CARD: 'HIGH',
  SSN: 'HIGH',
};

const ALL_KINDS: readonly PiiKind[] = ['EMAIL', 'CARD', 'IBAN', 'SSN', 'PHONE', 'IP'];

// ---------------------------------------------------------------------------------------------
// Validators

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Issuer prefixes and lengths of the major card networks. */
function cardNetworkValid(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305)) return n >= 14 && n <= 19; // Diners
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (['50', '56', '57', '58', '63', '67'].includes(d.slice(0, 2))) return n >= 12 && n <= 19; // Maestro
  return false;
}

// Country code → IBAN length (SWIFT registry).
const IBAN_LENGTH: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22,
  GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31,
  MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24,
  SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** IBAN validation: known country, its length, and the ISO 7064 mod-97 checksum. */
export function ibanValid(raw: string): boolean {
  const iban = raw.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  if (IBAN_LENGTH[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/** US SSN as issued: area not 000, 666 or 9xx; group not 00; serial not 0000. */
export function ssnValid(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  // Numbers the SSA itself published as examples / never-valid placeholders.
  if (`${area}${group}${serial}` === '078051120' || `${area}${group}${serial}` === '219099999') return false;
  return true;
}

function ipv4Octets(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

// Well-known public resolvers: infrastructure, not anyone's personal address.
const PUBLIC_RESOLVERS = new Set(['8.8.8.8', '8.8.4.4', '1.1.1.1', '1.0.0.1', '9.9.9.9', '149.112.112.112', '208.67.222.222', '208.67.220.220']);

function ipv4Public([a, b, c, d]: number[]): boolean {
  if (PUBLIC_RESOLVERS.has(`${a}.${b}.${c}.${d}`)) return false;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF / TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

function ipv6Public(s: string): boolean {
  const lower = s.toLowerCase();
  if (lower === '::' || lower === '::1') return false;
  const first = lower.startsWith('::') ? 0 : parseInt(lower.split(':')[0], 16);
  if ((first & 0xffc0) === 0xfe80) return false; // link-local
  if ((first & 0xfe00) === 0xfc00) return false; // unique local
  if ((first & 0xff00) === 0xff00) return false; // multicast
  if (lower.startsWith('2001:db8:') || lower.startsWith('2001:0db8:')) return false; // documentation
  if (first === 0) return false; // ::ffff: mapped, ::/8 reserved
  return true;
}

// ---------------------------------------------------------------------------------------------
// Candidate patterns (validated afterwards)

const EMAIL = /(?<![\w.+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;
// 12–19 digits, optionally grouped by single spaces or dashes.
const CARD = /(?<![\w.-])\d(?:[ -]?\d){11,18}(?![\w-]|\.\d)/g;
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])/g;
const SSN = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;
const SSN_BARE = /(?<![\w-])(\d{3})(\d{2})(\d{4})(?![\w-])/g;
const SSN_CONTEXT = /\b(?:ssn|social security(?: number| no\.?| #)?|ss#)(?:\s*(?:is|was|:|#))?\W{0,5}$/i;
// NANP: optional +1, area code not starting with 0/1, separators or parentheses.
const PHONE_NANP = /(?<![\w+])(?:\+?1[ .-]?)?(?:\(([2-9]\d{2})\)[ .-]?|([2-9]\d{2})[ .-])(\d{3})[ .-](\d{4})(?![\w-]|\.\d)/g;
// International: +CC then groups of digits separated by single spaces, dots or dashes.
const PHONE_INTL = /(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){2,6}(?![\w-]|\.\d)/g;
const PHONE_BARE = /(?<![\w+.-])(?:\+?1)?[2-9]\d{2}[2-9]\d{6}(?![\w-]|\.\d)/g;
const PHONE_CONTEXT = /\b(?:phone|tel|telephone|mobile|cell|call|text|sms|whatsapp|fax|number)\b\W{0,12}(?:me\W{0,3})?(?:at|on|is|:)?\W{0,3}$/i;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g;
const IPV6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;

function overlapsAny(list: readonly PiiMatch[], start: number, end: number): boolean {
  for (const m of list) if (start < m.end && m.start < end) return true;
  return false;
}

/**
 * Finds personal data in `text`. Matches never overlap; they are sorted by start offset.
 * Kinds are tried in order of specificity (email, card, IBAN, SSN, phone, IP), and a later kind
 * cannot claim characters an earlier kind already matched.
 */
export function detectPii(text: string, options: PiiOptions = {}): PiiMatch[] {
  const kinds = new Set(options.kinds ?? ALL_KINDS);
  const ipScope = options.ipScope ?? 'public';
  const found: PiiMatch[] = [];
  const add = (kind: PiiKind, start: number, end: number): void => {
    if (!overlapsAny(found, start, end)) found.push({ kind, start, end });
  };
  // Cheap pre-checks: most text has no '@' and few digits.
  const hasAt = text.includes('@');
  const hasDigit = /\d/.test(text);

  if (kinds.has('EMAIL') && hasAt) {
    for (const m of text.matchAll(EMAIL)) add('EMAIL', m.index, m.index + m[0].length);
  }
  if (!hasDigit) return found.sort((a, b) => a.start - b.start);

  if (kinds.has('CARD')) {
    for (const m of text.matchAll(CARD)) {
      const digits = m[0].replace(/[ -]/g, '');
      // Grouping must be consistent: all separators the same character (or none).
      const seps = new Set(m[0].replace(/\d/g, ''));
      if (seps.size > 1) continue;
      if (digits.length >= 12 && cardNetworkValid(digits) && luhnValid(digits)) add('CARD', m.index, m.index + m[0].length);
    }
  }
  if (kinds.has('IBAN')) {
    for (const m of text.matchAll(IBAN)) {
      // The regex may run into a following word; try the longest valid prefix ending on a group.
      let candidate = m[0].replace(/\s+$/, '');
      while (candidate.replace(/\s/g, '').length >= 15) {
        if (ibanValid(candidate)) {
          add('IBAN', m.index, m.index + candidate.length);
          break;
        }
        const cut = candidate.lastIndexOf(' ');
        if (cut < 0) break;
        candidate = candidate.slice(0, cut);
      }
    }
  }
  if (kinds.has('SSN')) {
    for (const m of text.matchAll(SSN)) {
      if (ssnValid(m[1], m[3], m[4])) add('SSN', m.index, m.index + m[0].length);
    }
    for (const m of text.matchAll(SSN_BARE)) {
      if (ssnValid(m[1], m[2], m[3]) && SSN_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index))) {
        add('SSN', m.index, m.index + m[0].length);
      }
    }
  }
  if (kinds.has('PHONE')) {
    for (const m of text.matchAll(PHONE_NANP)) add('PHONE', m.index, m.index + m[0].length);
    for (const m of text.matchAll(PHONE_INTL)) {
      const digits = m[0].replace(/\D/g, '').length;
      const end = m.index + m[0].replace(/[ .-]+$/, '').length;
      if (digits >= 8 && digits <= 15) add('PHONE', m.index, end);
    }
    for (const m of text.matchAll(PHONE_BARE)) {
      if (PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index))) add('PHONE', m.index, m.index + m[0].length);
    }
  }
  if (kinds.has('IP')) {
    for (const m of text.matchAll(IPV4)) {
      const octets = ipv4Octets(m[0]);
      if (!octets) continue;
      // `v1.2.3.4`, `version 1.2.3.4`, `chapter 12.3.4.5` are numbering, not addresses.
      if (/(?:\bv|\b(?:version|release|build|chapter|section|sections|rule|step|item|clause|article|§)\s?)$/i.test(text.slice(Math.max(0, m.index - 10), m.index))) continue;
      if (ipScope === 'all' || ipv4Public(octets)) add('IP', m.index, m.index + m[0].length);
    }
    if (text.includes(':')) {
      for (const m of text.matchAll(IPV6)) {
        const s = m[0];
        if (!isIPv6(s)) continue;
        const groups = s.split(':').filter(Boolean).length;
        if (groups < 3 || !/\d/.test(s)) continue; // `a::b`, `dead::beef`, `std::map` are not addresses here
        if (ipScope === 'all' || ipv6Public(s)) add('IP', m.index, m.index + s.length);
      }
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

export interface ScrubResult {
  readonly text: string;
  readonly matches: readonly PiiMatch[];
}

/** Replaces every detected item with `[REDACTED:<KIND>]`. */
export function scrubPii(text: string, options: PiiOptions = {}): ScrubResult {
  const matches = detectPii(text, options);
  if (matches.length === 0) return { text, matches };
  let out = '';
  let pos = 0;
  for (const m of matches) {
    out += text.slice(pos, m.start) + `[REDACTED:${m.kind}]`;
    pos = m.end;
  }
  return { text: out + text.slice(pos), matches };
}
