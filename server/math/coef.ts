// Arithmetic on Coef monomials. Every constructor returns a normalized Coef: syms sorted by
// name, merged, zero powers dropped; a zero coefficient carries no symbols (0·reg is just 0).

import type { Coef, SymbolPower } from './terms';

const REL_TOL = 1e-9;

/**
 * A symbol's name without whitespace. Most names hold none: printable ASCII (33–126) is never `\s`,
 * so a name made only of it is returned as it is, without running the regular expression (which
 * was the largest self time of a lint run on real code).
 */
function withoutSpaces(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 32 || c >= 127) return name.replace(/\s+/g, '');
  }
  return name;
}

/** Builds a normalized Coef from any number and list of symbol powers. */
export function coef(n: number, syms: readonly SymbolPower[] = []): Coef {
  if (n === 0) return { num: 0, syms: [] };
  if (syms.length === 0) return { num: n, syms: [] }; // the common plain number, without the Map
  if (syms.length === 1) {
    // One symbol, also without the Map: what the loop below gives for it.
    const name = withoutSpaces(syms[0].name);
    const pow = syms[0].pow;
    return { num: n, syms: Math.abs(pow) > 1e-12 ? [{ name, pow }] : [] };
  }
  if (syms.length === 2) {
    // Two symbols, also without the Map and the sort: what the loop below gives for them.
    const a = withoutSpaces(syms[0].name);
    const b = withoutSpaces(syms[1].name);
    if (a === b) {
      const pow = 0 + syms[0].pow + syms[1].pow;
      return { num: n, syms: Math.abs(pow) > 1e-12 ? [{ name: a, pow }] : [] };
    }
    const pa = 0 + syms[0].pow;
    const pb = 0 + syms[1].pow;
    const merged: SymbolPower[] = [];
    const first = a < b;
    if (Math.abs(first ? pa : pb) > 1e-12) merged.push(first ? { name: a, pow: pa } : { name: b, pow: pb });
    if (Math.abs(first ? pb : pa) > 1e-12) merged.push(first ? { name: b, pow: pb } : { name: a, pow: pa });
    return { num: n, syms: merged };
  }
  const pows = new Map<string, number>();
  for (const s of syms) {
    const name = withoutSpaces(s.name);
    pows.set(name, (pows.get(name) ?? 0) + s.pow);
  }
  const merged: SymbolPower[] = [];
  for (const [name, pow] of pows) {
    if (Math.abs(pow) > 1e-12) merged.push({ name, pow });
  }
  // Code-unit order, not localeCompare: output must not depend on the machine's locale.
  merged.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { num: n, syms: merged };
}

/** The plain number n. */
export const num = (n: number): Coef => coef(n);

/** The symbol `name` (source text, whitespace removed) raised to `pow`. */
export const sym = (name: string, pow = 1): Coef => coef(1, [{ name, pow }]);

export const ONE: Coef = num(1);

/** a·b */
export const mul = (a: Coef, b: Coef): Coef => coef(a.num * b.num, [...a.syms, ...b.syms]);

/** a/b; b must not be zero. */
export function div(a: Coef, b: Coef): Coef {
  if (b.num === 0) throw new RangeError('division by a zero coefficient');
  return mul(a, pow(b, -1));
}

/** a^k */
export function pow(a: Coef, k: number): Coef {
  if (k === 0) return ONE;
  return coef(a.num ** k, a.syms.map((s) => ({ name: s.name, pow: s.pow * k })));
}

/** n·a */
export const scale = (a: Coef, n: number): Coef => coef(a.num * n, a.syms);

/** −a */
export const neg = (a: Coef): Coef => scale(a, -1);

const close = (x: number, y: number): boolean =>
  x === y || Math.abs(x - y) <= REL_TOL * Math.max(Math.abs(x), Math.abs(y));

/** True when both coefficients have exactly the same symbols and powers. */
export function sameSymbols(a: Coef, b: Coef): boolean {
  return a.syms.length === b.syms.length &&
    a.syms.every((s, i) => s.name === b.syms[i].name && close(s.pow, b.syms[i].pow));
}

/** True for a plain number (no symbols). */
export const isNumber = (a: Coef): boolean => a.syms.length === 0;

/** True for the number 1 (within tolerance). */
export const isOne = (a: Coef): boolean => isNumber(a) && close(a.num, 1);

/** Equal symbols and numbers equal within 1e-9 relative. */
export const equalCoef = (a: Coef, b: Coef): boolean =>
  close(a.num, b.num) && (a.num === 0 || sameSymbols(a, b));

/** The number r with a = r·b when a and b have the same symbols (or a is 0); else undefined. */
export function coefRatio(a: Coef, b: Coef): number | undefined {
  if (b.num === 0) return undefined;
  if (a.num === 0) return 0;
  return sameSymbols(a, b) ? a.num / b.num : undefined;
}
