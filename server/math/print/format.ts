// Helpers shared by the printers: number formatting and splitting a Coef into a fraction.

import type { Coef, SymbolPower } from '../terms';

/** Rounds away float noise such as 0.30000000000000004 before printing. */
export const tidy = (x: number): number => Number(x.toPrecision(15));

/** Integers plain; otherwise the shorter of `String(x)` and exponent form (`1e-4`, not `0.0001`). */
export function formatNumber(x: number): string {
  const t = tidy(x);
  const plain = String(t);
  if (Number.isInteger(t) && Math.abs(t) < 1e21) return plain;
  const exp = t.toExponential().replace('e+', 'e');
  return exp.length < plain.length ? exp : plain;
}

/** A number as `formatNumber` writes it, in TeX: `1e-8` as 10^{-8}, `2.5e-4` as 2.5\times 10^{-4}. */
export function texNumber(s: string): string {
  const e = s.indexOf('e');
  return e < 0 ? s : `${s.slice(0, e) === '1' ? '' : `${s.slice(0, e)}\\times `}10^{${s.slice(e + 1)}}`;
}

/**
 * An argument as written, with its value when the text is not the number itself: `decay (4e-4)` for
 * `decay=decay` where `decay = 4e-4`, so a message reads `decay=decay (4e-4)`, not `decay=decay = 4e-4`.
 */
export function writtenWithValue(text: string, value: number | undefined, literal: boolean): string {
  if (value === undefined || literal || text.replace(/\s+/g, '') === formatNumber(value)) return text;
  return `${text} (${formatNumber(value)})`;
}

/** A coefficient as sign · (numNumber · Π numSyms) / (denNumber · Π denSyms); powers positive. */
export interface CoefParts {
  negative: boolean;
  numNumber?: number;
  numSyms: SymbolPower[];
  denNumber?: number;
  denSyms: SymbolPower[];
}

const FRACTION_MAX_DENOMINATOR = 12;

function smallFraction(x: number): [number, number] | undefined {
  for (let q = 2; q <= FRACTION_MAX_DENOMINATOR; q++) {
    const p = Math.round(x * q);
    if (p !== 0 && Math.abs(p - x * q) <= 1e-9 * x * q) return [p, q];
  }
  return undefined;
}

/**
 * Splits c for printing. A number goes below the bar only when that reads better:
 * `reg/(2·n)` rather than `0.5·reg/n`, `reg/3` rather than `0.333333333333333·reg`;
 * `0.5·reg` and `1e-4·reg/n` stay as written.
 */
export function splitCoef(c: Coef): CoefParts {
  const numSyms = c.syms.filter((s) => s.pow > 0);
  const denSyms = c.syms.filter((s) => s.pow < 0).map((s) => ({ name: s.name, pow: -s.pow }));
  const parts: CoefParts = { negative: c.num < 0, numSyms, denSyms };
  const x = tidy(Math.abs(c.num));
  if (x === 1) return parts;
  if (Number.isInteger(x) || x === 0) return { ...parts, numNumber: x };
  const frac = smallFraction(x);
  if (frac && ((frac[0] === 1 && denSyms.length > 0) || formatNumber(x).length > 6)) {
    return { ...parts, numNumber: frac[0] === 1 ? undefined : frac[0], denNumber: frac[1] };
  }
  return { ...parts, numNumber: x };
}

const OPERATOR = /[\s+\-*/%@<>=!&|^~?:,;]/;

/** True when `text` has an operator or space outside brackets and quotes: `a + b`, `-w`. */
export function needsParens(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && OPERATOR.test(ch)) return true;
  }
  return false;
}

/** `text` or `(text)`, for use as one factor. */
export const atom = (text: string): string => (needsParens(text) ? `(${text})` : text);

/** For an element such as `w[i]` or `p[j][k]`, the array it indexes into (`w`, `p[j]`). */
export function indexedArray(text: string): string | undefined {
  if (!text.endsWith(']')) return undefined;
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    if (text[i] === ']') depth++;
    else if (text[i] === '[' && --depth === 0) {
      const base = text.slice(0, i);
      // `params["W1"]` is a lookup by key, not an element of an array.
      return base && !needsParens(base) && !/^\[\s*['"`]/.test(text.slice(i)) ? base : undefined;
    }
  }
  return undefined;
}
