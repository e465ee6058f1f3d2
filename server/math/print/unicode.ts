// Plain-text math for messages, hovers (the screen-reader line) and the CLI: `2·reg·W`.

import type { Coef, Gradient, Penalty, SymbolPower } from '../terms';
import { atom, formatNumber, splitCoef } from './format';

const SUPERSCRIPT: Record<number, string> = { 2: '²', 3: '³' };

function factor(s: SymbolPower): string {
  return s.pow === 1 ? atom(s.name) : atom(s.name) + (SUPERSCRIPT[s.pow] ?? `^${formatNumber(s.pow)}`);
}

/** c · Π top / Π bottom as one line; extra factors join the coefficient's own. */
function product(c: Coef, top: string[] = [], bottom: string[] = []): string {
  if (c.num === 0) return '0';
  const p = splitCoef(c);
  const num = [...(p.numNumber === undefined ? [] : [formatNumber(p.numNumber)]), ...p.numSyms.map(factor), ...top];
  const den = [...(p.denNumber === undefined ? [] : [formatNumber(p.denNumber)]), ...p.denSyms.map(factor), ...bottom];
  const over = den.length === 0 ? '' : den.length === 1 ? `/${den[0]}` : `/(${den.join('·')})`;
  return (p.negative ? '−' : '') + (num.length ? num.join('·') : '1') + over;
}

/** A coefficient: `reg`, `2·reg`, `0.5·reg`, `reg/(2·n)`, `1e-4`, `−lr·reg`. */
export const unicodeCoef = (c: Coef): string => product(c);

/** A penalty: `reg·ΣW²`, `reg·W²`, `reg·‖W‖₂`, `reg·Σ|W|`, `reg·|W|`; `lmbda·ΣW²/(2·n)`. */
export function unicodePenalty(p: Penalty): string {
  const w = p.param;
  switch (p.kind) {
    case 'sumsq': return product(p.coef, [`Σ${atom(w)}²`]);
    case 'elemsq': return product(p.coef, [`${atom(w)}²`]);
    case 'norm2': return product(p.coef, [`‖${w}‖₂`]);
    case 'l1': return product(p.coef, [`Σ|${w}|`]);
    case 'elemabs': return product(p.coef, [`|${w}|`]);
  }
}

/** A gradient: `2·reg·W`, `reg·sign(W)`, `reg·W/‖W‖₂`. */
export function unicodeGradient(g: Gradient): string {
  const w = g.param;
  switch (g.kind) {
    case 'linear': return product(g.coef, [atom(w)]);
    case 'sign': return product(g.coef, [`sign(${w})`]);
    case 'normalized': return product(g.coef, [atom(w)], [`‖${w}‖₂`]);
  }
}
