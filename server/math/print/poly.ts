// Sums of monomials (server/math/poly.ts) as TeX and Unicode from one walk, so the two never
// disagree: the hover's lines of a hand-written optimizer step. Factors with a negative power and
// reciprocals of sums go below a fraction bar; √ and |·| keep their signs; a symbolic power is a
// superscript. Variables print through `name` (the code's own text, by key).
import type { Atom, Mono, Poly } from '../poly';
import { formatNumber, texNumber } from './format';

export interface PolyText {
  tex: string;
  unicode: string;
}

export type PolyNamer = (key: string) => PolyText;

const SUPERSCRIPT: Record<string, string> = { '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻', '.': '·' };

/** Six significant digits, plain (0.001), or 1e-8 below 1e-4: an ε of 1e-8 is not 0 (rounding to six decimals made it so). */
function num(c: number): string {
  const r = Number(c.toPrecision(6));
  return Math.abs(r) >= 1e-4 || r === 0 ? String(r) : formatNumber(r);
}

/** A sum, with its first sign in front (`−η·m`), other signs as binary operators. */
export function printPoly(p: Poly, name: PolyNamer): PolyText {
  if (p.length === 0) return { tex: '0', unicode: '0' };
  const tex: string[] = [];
  const uni: string[] = [];
  // Positive terms first, a constant first among them (`1 − β₁ᵗ`, `g − β·g`), as people write them.
  const rank = (m: Mono): number => (m.c < 0 ? 2 : m.fs.length === 0 ? 0 : 1);
  const ordered = [...p].sort((a, b) => rank(a) - rank(b));
  ordered.forEach((m, i) => {
    const neg = m.c < 0;
    const body = printMono({ c: Math.abs(m.c), fs: m.fs }, name);
    if (i === 0) {
      tex.push(neg ? `-${body.tex}` : body.tex);
      uni.push(neg ? `−${body.unicode}` : body.unicode);
    } else {
      tex.push(`${neg ? ' - ' : ' + '}${body.tex}`);
      uni.push(`${neg ? ' − ' : ' + '}${body.unicode}`);
    }
  });
  return { tex: tex.join(''), unicode: uni.join('') };
}

/** A sum as a factor: in parentheses when it has more than one term or a sign. */
export function printFactor(p: Poly, name: PolyNamer): PolyText {
  const factored = printFactored(p, name);
  if (factored) return factored;
  const t = printPoly(p, name);
  if (p.length > 1 || (p.length === 1 && p[0].c < 0)) return { tex: `\\left(${t.tex}\\right)`, unicode: `(${t.unicode})` };
  return t;
}

/**
 * A sum inside a product or below a bar whose terms all hold the same factors, as those factors
 * times the rest: `(1 − β₁ᵗ)/√(1 − β₂ᵗ)`, not `1/√(1 − β₂ᵗ) − β₁ᵗ/√(1 − β₂ᵗ)` (the normal form
 * distributes every product; the code wrote the factored form).
 */
function printFactored(p: Poly, name: PolyNamer): PolyText | undefined {
  if (p.length < 2) return undefined;
  const [first, ...others] = p;
  const common = first.fs.filter((g) => others.every((m) => m.fs.some((h) => h.key === g.key && h.n === g.n)));
  if (common.length === 0) return undefined;
  const rest: Poly = p.map((m) => ({ c: m.c, fs: m.fs.filter((g) => !common.some((h) => h.key === g.key)) }));
  const t = printMono({ c: 1, fs: common }, name, printPoly(rest, name));
  // A product needs no parentheses as a factor; a fraction does in Unicode (`(a/b)·c`), not in TeX.
  const fraction = common.some((g) => (g.atom.k === 'inv' ? g.n > 0 : g.n < 0));
  return fraction ? { tex: t.tex, unicode: `(${t.unicode})` } : t;
}

/** A monomial; `sum` is one more factor above the bar, a sum printed apart (`printFactored`). */
function printMono(m: Mono, name: PolyNamer, sum?: PolyText): PolyText {
  const top: PolyText[] = sum ? [{ tex: `\\left(${sum.tex}\\right)`, unicode: `(${sum.unicode})` }] : [];
  const bottom: PolyText[] = [];
  for (const f of m.fs) {
    if (f.atom.k === 'inv') {
      const arg = printFactor(f.atom.arg, name);
      // Alone below the bar, a sum needs no parentheses in TeX.
      const alone = f.n === 1 && m.fs.filter((g) => g.n < 0 || g.atom.k === 'inv').length === 1 && !printFactored(f.atom.arg, name);
      (f.n > 0 ? bottom : top).push(alone ? { tex: printPoly(f.atom.arg, name).tex, unicode: arg.unicode } : power(arg, Math.abs(f.n)));
      continue;
    }
    const base = printAtom(f.atom, name);
    (f.n > 0 ? top : bottom).push(power(base, Math.abs(f.n)));
  }
  const c = num(m.c);
  const join = (xs: PolyText[], withCoef: boolean): PolyText => {
    const parts = withCoef && c !== '1' ? [{ tex: texNumber(c), unicode: c }, ...xs] : xs;
    if (parts.length === 0) return { tex: withCoef ? texNumber(c) : '1', unicode: withCoef ? c : '1' };
    return { tex: parts.map((x) => x.tex).join(' \\cdot '), unicode: parts.map((x) => x.unicode).join('·') };
  };
  // Alone above a bar, the sum needs no parentheses in TeX.
  const numerator = sum && top.length === 1 && c === '1' && bottom.length > 0 ? { tex: sum.tex, unicode: top[0].unicode } : join(top, true);
  if (bottom.length === 0) return numerator;
  const denominator = join(bottom, false);
  const uniDen = bottom.length > 1 ? `(${denominator.unicode})` : denominator.unicode;
  const uniNum = top.length > 1 || (top.length === 1 && c !== '1') ? `(${numerator.unicode})` : numerator.unicode;
  return { tex: `\\frac{${numerator.tex}}{${denominator.tex}}`, unicode: `${uniNum}/${uniDen}` };
}

function power(base: PolyText, n: number): PolyText {
  if (n === 1) return base;
  if (n === 0.5) return { tex: `\\sqrt{${base.tex}}`, unicode: `√(${base.unicode})` };
  const s = num(n);
  return { tex: `{${base.tex}}^{${s}}`, unicode: `${base.unicode}${[...s].map((ch) => SUPERSCRIPT[ch] ?? ch).join('')}` };
}

function printAtom(a: Atom, name: PolyNamer): PolyText {
  switch (a.k) {
    case 'sym':
      return name(a.key);
    case 'fn': {
      const args = a.args.map((x) => printPoly(x, name));
      // √√x reads as the fourth root it is: ∜x.
      const inner = a.fn === 'sqrt' && a.args.length === 1 && a.args[0].length === 1 && a.args[0][0].c === 1 && a.args[0][0].fs.length === 1 && a.args[0][0].fs[0].n === 1 ? a.args[0][0].fs[0].atom : undefined;
      if (inner?.k === 'fn' && inner.fn === 'sqrt' && inner.args.length === 1) {
        const x = printPoly(inner.args[0], name);
        return { tex: `\\sqrt[4]{${x.tex}}`, unicode: inner.args[0].length > 1 || inner.args[0][0]?.fs.length !== 1 ? `∜(${x.unicode})` : `∜${x.unicode}` };
      }
      if (a.fn === 'sqrt' && args.length === 1) return { tex: `\\sqrt{${args[0].tex}}`, unicode: a.args[0].length > 1 || a.args[0][0]?.fs.length !== 1 ? `√(${args[0].unicode})` : `√${args[0].unicode}` };
      if (a.fn === 'abs' && args.length === 1) return { tex: `\\left|${args[0].tex}\\right|`, unicode: `|${args[0].unicode}|` };
      const fname = a.fn.replace(/[^A-Za-z0-9]/g, '');
      return { tex: `\\operatorname{${fname || 'f'}}\\left(${args.map((x) => x.tex).join(', ')}\\right)`, unicode: `${a.fn}(${args.map((x) => x.unicode).join(', ')})` };
    }
    case 'inv': {
      const arg = printFactor(a.arg, name);
      return { tex: `\\frac{1}{${arg.tex}}`, unicode: `1/${arg.unicode}` };
    }
    case 'pow': {
      const base = printFactor(a.base, name);
      // A shifted count reads as people write it: t + 1, not 1 + t.
      const k = a.exp.length > 1 ? a.exp.find((m) => m.fs.length === 0 && m.c > 0) : undefined;
      const rest = k ? printPoly(a.exp.filter((m) => m !== k), name) : undefined;
      const exp = k && rest ? { tex: `${rest.tex} + ${num(k.c)}`, unicode: `${rest.unicode} + ${num(k.c)}` } : printPoly(a.exp, name);
      return { tex: `{${base.tex}}^{${exp.tex}}`, unicode: `${base.unicode}^${a.exp.length > 1 ? `(${exp.unicode})` : exp.unicode}` };
    }
    case 'opaque':
      return { tex: '\\dots', unicode: '…' };
  }
}
