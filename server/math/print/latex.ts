// TeX for hover images and the preview panel. Every string must parse in KaTeX strict mode.

import { isOne, equalCoef, num } from '../coef';
import type { Coef, Gradient, Penalty, SymbolPower } from '../terms';
import { formatNumber, needsParens, splitCoef } from './format';

/** Source name → TeX, consulted before the defaults; undefined falls back to them. */
export type SymbolMap = ((name: string) => string | undefined) | ReadonlyMap<string, string>;

const GREEK = [
  'alpha', 'beta', 'gamma', 'delta', 'epsilon', 'varepsilon', 'zeta', 'eta', 'theta', 'vartheta',
  'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'pi', 'rho', 'sigma', 'tau', 'upsilon', 'phi',
  'varphi', 'chi', 'psi', 'omega', 'Gamma', 'Delta', 'Theta', 'Lambda', 'Xi', 'Pi', 'Sigma',
  'Upsilon', 'Phi', 'Psi', 'Omega',
];
const LEARNING_RATE = ['lr', 'learning_rate', 'step_size', 'eta'];
const REGULARIZATION = [
  'reg', 'lam', 'lmbda', 'lambda_', 'lambd', 'lamda', 'l2', 'l2_reg', 'weight_decay', 'wd',
  'decay', 'reg_strength',
];
const NAMED = new Map<string, string>([
  ...GREEK.map((g): [string, string] => [g, `\\${g}`]),
  ['eps', '\\varepsilon'],
  ...LEARNING_RATE.map((n): [string, string] => [n, '\\eta']),
  ...REGULARIZATION.map((n): [string, string] => [n, '\\lambda']),
]);

const GREEK_CHAR = /^[\u0391-\u03a9\u03b1-\u03c9]$/u;
// Accented Latin letters KaTeX accepts in \text (strict mode rejects them in math mode).
const LATIN_LETTER = /^[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f]$/u;

/** Escapes source text for `\mathtt{...}` (math mode, so text-mode escapes do not apply). */
export function escapeTT(text: string): string {
  let out = '';
  for (const ch of text) {
    if ('_#%&${}'.includes(ch)) out += `\\${ch}`;
    else if (/\s/.test(ch)) out += '\\ ';
    else if (LATIN_LETTER.test(ch)) out += `\\text{${ch}}`;
    // `'` would be a prime and `~ ^ \` are active or special: print them by code point.
    else if ("~^\\'`".includes(ch) || (ch > '\u007e' && !GREEK_CHAR.test(ch))) {
      out += `\\char"${ch.codePointAt(0)!.toString(16).toUpperCase()} `;
    } else out += ch;
  }
  return out;
}

/** Default TeX for a coefficient name: `lr` → `\eta`, `reg` → `\lambda`, `n` → `n`, else `\mathtt`. */
export function defaultSymbolTeX(name: string): string {
  const named = NAMED.get(name);
  if (named) return named;
  if (/^[A-Za-z]$/.test(name) || GREEK_CHAR.test(name)) return name;
  return `\\mathtt{${escapeTT(name)}}`;
}

/** Default TeX for a parameter: `W`, `W1` → `W_1`, `theta` → `\theta`, else `\mathtt`. */
export function defaultParamTeX(param: string): string {
  const m = /^([A-Za-z]+)_?(\d+)$/.exec(param);
  if (m && (m[1].length === 1 || GREEK.includes(m[1]))) {
    const base = m[1].length === 1 ? m[1] : `\\${m[1]}`;
    return m[2].length === 1 ? `${base}_${m[2]}` : `${base}_{${m[2]}}`;
  }
  if (GREEK.includes(param)) return `\\${param}`;
  if (/^[A-Za-z]$/.test(param) || GREEK_CHAR.test(param)) return param;
  return `\\mathtt{${escapeTT(param)}}`;
}

function lookup(symbols: SymbolMap | undefined, name: string): string | undefined {
  if (!symbols) return undefined;
  return typeof symbols === 'function' ? symbols(name) : symbols.get(name);
}

/** True when TeX has an operator outside braces and delimiters: `1-\beta`. */
function texHasOperator(tex: string): boolean {
  let depth = 0;
  for (let i = 0; i < tex.length; i++) {
    const ch = tex[i];
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (ch === '\\') {
      const cmd = /^\\([A-Za-z]+|.)/.exec(tex.slice(i))![1];
      if (cmd === 'left') depth++;
      else if (cmd === 'right') depth--;
      else if (depth === 0 && /^(cdot|times|pm|mp)$/.test(cmd)) return true;
      i += cmd.length;
    } else if (depth === 0 && /[-+=<>,]/.test(ch)) return true;
  }
  return false;
}

/** TeX for source text `source`, parenthesized when it is not one factor. */
function factorTeX(source: string, tex: string): string {
  return needsParens(source) || texHasOperator(tex) ? `\\left(${tex}\\right)` : tex;
}

/** `base^{k}`; a base with its own superscript is grouped to avoid a double superscript. */
function powered(base: string, k: number): string {
  if (k === 1) return base;
  return `${/\^/.test(base) && !base.startsWith('\\left(') ? `{${base}}` : base}^{${formatNumber(k)}}`;
}

function latexNumber(x: number): string {
  const s = formatNumber(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const mant = s.slice(0, e);
  return `${mant === '1' ? '' : `${mant}\\times `}10^{${s.slice(e + 1)}}`;
}

const PLAIN_NUMBER = /^-?[\d.]+$/;
// Terms that TeX already spaces from what precedes them (operators, opening delimiters).
const SELF_SPACED = /^\\(sum|lVert|lvert|operatorname)\b/;

/** Juxtaposes two factors: `2\lambda`, `\eta\,\lambda`, `\lambda\sum W^{2}`. */
function juxtapose(a: string, b: string): string {
  if (SELF_SPACED.test(b)) return a + b;
  if (PLAIN_NUMBER.test(a) && /^([A-Za-z]|\\[A-Za-z]+)/.test(b) && !/^\\(mathtt|frac|left)/.test(b)) return a + b;
  return `${a}\\,${b}`;
}

function productTeX(factors: string[]): string {
  return factors.length === 0 ? '1' : factors.reduce(juxtapose);
}

/** A coefficient: `2\lambda`, `\frac{\lambda}{2n}`, `-\eta\,\lambda`, `10^{-4}`. */
export function latexCoef(c: Coef, symbols?: SymbolMap): string {
  if (c.num === 0) return '0';
  const p = splitCoef(c);
  const sym = (s: SymbolPower): string =>
    powered(factorTeX(s.name, lookup(symbols, s.name) ?? defaultSymbolTeX(s.name)), s.pow);
  const top = [...(p.numNumber === undefined ? [] : [latexNumber(p.numNumber)]), ...p.numSyms.map(sym)];
  const bottom = [...(p.denNumber === undefined ? [] : [latexNumber(p.denNumber)]), ...p.denSyms.map(sym)];
  const body = bottom.length ? `\\frac{${productTeX(top)}}{${productTeX(bottom)}}` : productTeX(top);
  return (p.negative ? '-' : '') + body;
}

/** coefficient · term, omitting a coefficient of 1 and writing −1 as a sign. */
function withCoef(c: Coef, term: string, symbols?: SymbolMap): string {
  if (c.num === 0) return '0';
  if (isOne(c)) return term;
  if (equalCoef(c, num(-1))) return `-${term}`;
  return juxtapose(latexCoef(c, symbols), term);
}

const paramTeX = (param: string, symbols?: SymbolMap): string =>
  lookup(symbols, param) ?? defaultParamTeX(param);

/** The parameter as one factor (for products and powers; delimiters need no parentheses). */
const paramFactor = (param: string, symbols?: SymbolMap): string =>
  factorTeX(param, paramTeX(param, symbols));

/** A penalty: `\lambda\sum W^{2}`, `\lambda\,W^{2}`, `\lambda\lVert W\rVert_2`, `\lambda\sum \lvert W\rvert`. */
export function latexPenalty(p: Penalty, symbols?: SymbolMap): string {
  const w = paramTeX(p.param, symbols);
  const f = paramFactor(p.param, symbols);
  switch (p.kind) {
    case 'sumsq': return withCoef(p.coef, `\\sum ${powered(f, 2)}`, symbols);
    case 'elemsq': return withCoef(p.coef, powered(f, 2), symbols);
    case 'norm2': return withCoef(p.coef, `\\lVert ${w}\\rVert_2`, symbols);
    case 'l1': return withCoef(p.coef, `\\sum \\lvert ${w}\\rvert`, symbols);
    case 'elemabs': return withCoef(p.coef, `\\lvert ${w}\\rvert`, symbols);
  }
}

/** A gradient: `2\lambda\,W`, `\lambda\operatorname{sign}(W)`, `\lambda\,\frac{W}{\lVert W\rVert_2}`. */
export function latexGradient(g: Gradient, symbols?: SymbolMap): string {
  const w = paramTeX(g.param, symbols);
  switch (g.kind) {
    case 'linear': return withCoef(g.coef, paramFactor(g.param, symbols), symbols);
    case 'sign': return withCoef(g.coef, `\\operatorname{sign}(${w})`, symbols);
    case 'normalized': return withCoef(g.coef, `\\frac{${w}}{\\lVert ${w}\\rVert_2}`, symbols);
  }
}
