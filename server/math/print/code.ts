// Source code for quick fixes, in the file's own dialect: `2 * reg * W`, `W.mul(2 * reg)`.

import { equalCoef, isOne, num } from '../coef';
import type { Coef, Dialect, Gradient, SymbolPower } from '../terms';
import { atom, formatNumber, indexedArray, splitCoef } from './format';

function factor(s: SymbolPower): string {
  return s.pow === 1 ? atom(s.name) : `${atom(s.name)} ** ${formatNumber(s.pow)}`;
}

/** c · Π top / Π bottom as a Python/JS expression (`**` is valid in both). */
function product(c: Coef, top: string[] = [], bottom: string[] = []): string {
  if (c.num === 0) return '0';
  const p = splitCoef(c);
  const num = [...(p.numNumber === undefined ? [] : [formatNumber(p.numNumber)]), ...p.numSyms.map(factor), ...top];
  const den = [...(p.denNumber === undefined ? [] : [formatNumber(p.denNumber)]), ...p.denSyms.map(factor), ...bottom];
  const over = den.length === 0 ? '' : den.length === 1 ? ` / ${den[0]}` : ` / (${den.join(' * ')})`;
  return (p.negative ? '-' : '') + (num.length ? num.join(' * ') : '1') + over;
}

/** A coefficient as code: `2 * reg`, `reg / n`, `reg / (2 * n)`, `-lr * reg`, `1e-4`. */
export const codeCoef = (c: Coef): string => product(c);

const SIGN: Record<Exclude<Dialect, 'tfjs' | 'plain-py'>, string> = {
  numpy: 'np.sign', torch: 'torch.sign', tf: 'tf.sign', jax: 'jnp.sign', 'plain-ts': 'Math.sign',
};

/** ‖w‖₂ in the dialect; for plain code the param must be an element such as `w[i]`. */
function normCode(dialect: Dialect, w: string): string | undefined {
  switch (dialect) {
    case 'numpy': return `np.linalg.norm(${w})`;
    case 'torch': return `${atom(w)}.norm()`;
    case 'tf': return `tf.norm(${w})`;
    case 'jax': return `jnp.linalg.norm(${w})`;
    case 'tfjs': return `${atom(w)}.norm()`;
    case 'plain-ts': {
      const arr = indexedArray(w);
      return arr && `Math.hypot(...${arr})`;
    }
    case 'plain-py': {
      const arr = indexedArray(w);
      return arr && `sum(v * v for v in ${arr}) ** 0.5`;
    }
  }
}

/** tfjs tensors are immutable objects: scalars go into `.mul(...)` after the tensor term. */
function tfjsGradient(g: Gradient, w: string): string {
  const t = atom(w);
  const base = g.kind === 'linear' ? t : g.kind === 'sign' ? `${t}.sign()` : `${t}.div(${t}.norm())`;
  if (isOne(g.coef)) return base;
  if (equalCoef(g.coef, num(-1))) return `${base}.neg()`;
  return `${base}.mul(${codeCoef(g.coef)})`;
}

/**
 * The gradient as code in `dialect`, with the parameter written as `paramText`
 * (default g.param). Undefined only for a norm gradient in plain code whose parameter is not
 * an element `w[i]`, because the norm needs the whole array.
 */
export function codeGradient(g: Gradient, dialect: Dialect, paramText = g.param): string | undefined {
  if (dialect === 'tfjs') return tfjsGradient(g, paramText);
  const w = atom(paramText);
  switch (g.kind) {
    case 'linear':
      return product(g.coef, [w]);
    case 'sign':
      return product(g.coef, [dialect === 'plain-py' ? `((${w} > 0) - (${w} < 0))` : `${SIGN[dialect]}(${paramText})`]);
    case 'normalized': {
      const norm = normCode(dialect, paramText);
      return norm && product(g.coef, [w], [atom(norm)]);
    }
  }
}
