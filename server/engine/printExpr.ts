// An IR expression (an update's value, a step, a penalty) printed as math, in TeX and in Unicode,
// with the file's names mapped to symbols: learning rates → η, regularization strengths → λ,
// gradient containers (`dW`, `grads["W1"]`, `p.grad`, `g`) → ∂L/∂W, parameters → W, W₁, θ, and
// penalties the Analyzer recognizes → ΣW², ‖W‖₂, Σ|W|. Method chains print as the arithmetic they
// do (`w.sub(g.mul(lr))` → W − ηg); unknown calls as \operatorname{name}(…). Output is bounded:
// past a node budget the rest of an expression is elided with \dots. Every TeX string parses in
// KaTeX strict mode (test/hover/expr.test.ts checks that).
//
// One printer call may substitute summands: the span of a summand (NB101's site) is printed as a
// given gradient, so the correct update is the same line with R(W) replaced by ∇R(W).
import { table } from './table';
import type { Expr, Span } from './ir';
import type { Analyzer, PenaltyTerm } from './facts/analysis';
import { MODULE_ROOTS, penaltyOfProduct } from './facts/analysis';
import { ARITHMETIC_CALLS, arithmeticPlacement, inPlaceMathName } from './facts/catalogue';
import type { Scope } from './facts/scope';
import { isSelfName } from './facts/resolve';
import { baseExpr, calleePath, exprKey, isKeyedByString, lastComponent } from './facts/keys';
import { isGradientLike, isLearningRateName, isRegularizationName, isWeightName, parameterOfGradient } from './facts/roles';
import type { Coef, Gradient } from '../math/terms';
import { defaultParamTeX, defaultSymbolTeX, escapeTT } from '../math/print/latex';
import { formatNumber, splitCoef, texNumber, tidy } from '../math/print/format';

// ------------------------------------------------------------------ symbols and the legend

/** One line of a legend: the symbol, and the code it stands for. */
export interface LegendEntry {
  tex: string;
  unicode: string;
  code: string;
}

/** A symbol in both notations. */
export interface Sym {
  tex: string;
  unicode: string;
}

const GREEK_UNICODE: Record<string, string> = table({
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ϵ', varepsilon: 'ε', zeta: 'ζ', eta: 'η',
  theta: 'θ', vartheta: 'ϑ', iota: 'ι', kappa: 'κ', lambda: 'λ', mu: 'μ', nu: 'ν', xi: 'ξ', pi: 'π',
  rho: 'ρ', sigma: 'σ', tau: 'τ', upsilon: 'υ', phi: 'ϕ', varphi: 'φ', chi: 'χ', psi: 'ψ', omega: 'ω',
  Gamma: 'Γ', Delta: 'Δ', Theta: 'Θ', Lambda: 'Λ', Xi: 'Ξ', Pi: 'Π', Sigma: 'Σ', Upsilon: 'Υ',
  Phi: 'Φ', Psi: 'Ψ', Omega: 'Ω',
});
const SUB_DIGITS = '₀₁₂₃₄₅₆₇₈₉';
const SUB_LETTERS: Record<string, string> = table({ i: 'ᵢ', j: 'ⱼ', k: 'ₖ', l: 'ₗ', m: 'ₘ', n: 'ₙ', t: 'ₜ', a: 'ₐ', e: 'ₑ', o: 'ₒ', x: 'ₓ' });
const SUPER: Record<string, string> = table({ '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻' });

/** Unicode subscript of `s`, or undefined when some character has none. */
function subscript(s: string): string | undefined {
  let out = '';
  for (const ch of s) {
    if (/[0-9]/.test(ch)) out += SUB_DIGITS[Number(ch)];
    else if (SUB_LETTERS[ch]) out += SUB_LETTERS[ch];
    else return undefined;
  }
  return out;
}

/** Unicode superscript of an exponent such as `2`, `-1`; undefined when it has none. */
function superscript(s: string): string | undefined {
  let out = '';
  for (const ch of s) {
    if (!SUPER[ch]) return undefined;
    out += SUPER[ch];
  }
  return out;
}

/** Unicode for the simple TeX the symbol table makes: `\eta`, `W_1`, `\theta_{12}`, `W'`. */
function texToUnicode(tex: string, fallback: string): string {
  if (tex.startsWith('\\mathtt')) return fallback;
  const m = /^(\\[A-Za-z]+|[A-Za-z]|[\u0391-\u03c9])(?:_\{?([A-Za-z0-9]+)\}?)?('*)$/u.exec(tex);
  if (!m) return fallback;
  const base = m[1].startsWith('\\') ? GREEK_UNICODE[m[1].slice(1)] : m[1];
  if (!base) return fallback;
  const sub = m[2] === undefined ? '' : subscript(m[2]);
  if (sub === undefined) return fallback;
  return base + sub + m[3].replace(/'/g, '′');
}

/** The last identifier of a source key: `self.reg` → `reg`, `cfg["lr"]` → `lr`, `args.lr` → `lr`. */
function lastName(source: string): string {
  const keyed = /\[\s*["'`]([A-Za-z_]\w*)["'`]\s*\]$/.exec(source);
  if (keyed) return keyed[1];
  const dotted = /(?:^|\.)([A-Za-z_]\w*)$/.exec(source);
  if (dotted && /^[\w.]+$/.test(source)) return dotted[1];
  return source;
}

/** A short code name is shown as \mathtt; anything longer or multi-line is elided. */
const MAX_TT = 28;

function ttSym(code: string): Sym {
  const clean = code.replace(/\s+/g, ' ').trim();
  if (clean.length > MAX_TT) return { tex: '\\dots', unicode: '…' };
  return { tex: `\\mathtt{${escapeTT(clean)}}`, unicode: clean };
}

const WEIGHT_WORDS = /^(weights?|kernel|W_?\w*)$/;
const THETA_WORDS = /^(params?|parameters|theta)$/;

/**
 * Names → symbols for one explanation. Every printer call of one explanation shares a table, so the
 * computed and the correct update use the same symbols, and the legend lists each name once.
 * A second name that would get a taken symbol gets a subscript from its digits, or a prime.
 */
export class SymbolTable {
  private readonly bySource = new Map<string, Sym>();
  private readonly owner = new Map<string, string>();
  private readonly entries: LegendEntry[] = [];
  private readonly seen = new Set<string>();

  /** The legend so far: symbols whose code differs from how they print. */
  get legend(): LegendEntry[] {
    return [...this.entries];
  }

  /** Adds a legend line (once per symbol and code). */
  note(sym: Sym, code: string): void {
    const clean = code.replace(/\s+/g, ' ').trim();
    if (!clean || clean.startsWith('\u0000') || clean === sym.unicode || sym.tex === '\\dots' || sym.tex.startsWith('\\mathtt')) return;
    const key = `${sym.tex}\u0000${clean}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push({ tex: sym.tex, unicode: sym.unicode, code: clean });
  }

  /** Gradient containers by their code, and the code that holds each gradient symbol. */
  private readonly gradients = new Map<string, Sym>();
  private readonly stepDirections = new Set<string>();
  private readonly displacing = new Set<string>();

  /** Did this container take the ∂L/∂W of another one that was printed after it? */
  displaced(code: string): boolean {
    return this.displacing.has(code.replace(/\s+/g, ''));
  }

  /**
   * A gradient container's symbol: ∂L/∂W, unless another container already prints as that (then a
   * step-direction symbol ΔW, ΔW′, …), so that `delta_w = grad_w + l2 * w` never reads ∂L/∂w = ∂L/∂w + λw.
   */
  gradient(code: string, wanted: Sym, param: Sym | undefined): Sym {
    const clean = code.replace(/\s+/g, '');
    const known = this.gradients.get(clean);
    if (known) return known;
    const taken = (tex: string): boolean => [...this.gradients.values()].some((g) => g.tex === tex) || this.owner.has(tex);
    let sym = wanted;
    if (taken(sym.tex)) {
      const holder = [...this.gradients].find(([, g]) => g.tex === sym.tex)?.[0];
      if (holder !== undefined) this.displacing.add(holder);
    }
    if (this.stepDirections.has(clean) || taken(sym.tex)) {
      sym = param ? { tex: `\\Delta ${param.tex}`, unicode: `Δ${param.unicode}` } : { tex: 'g', unicode: 'g' };
      while (taken(sym.tex)) sym = { tex: `${sym.tex}'`, unicode: `${sym.unicode}′` };
    }
    this.gradients.set(clean, sym);
    return sym;
  }

  /** Marks a container as the step direction built from another gradient: it prints as ΔW, not ∂L/∂W. */
  markStepDirection(code: string): void {
    this.stepDirections.add(code.replace(/\s+/g, ''));
  }

  /** A fixed symbol for something not written in the code (η of a generic step): no legend line. */
  virtual(source: string, sym: Sym): Sym {
    this.bySource.set(source, sym);
    if (!this.owner.has(sym.tex)) this.owner.set(sym.tex, source);
    return sym;
  }

  private claim(source: string, wanted: Sym): Sym {
    const known = this.bySource.get(source);
    if (known) return known;
    let sym = wanted;
    const holder = this.owner.get(sym.tex);
    // The same name used as a scalar and as a parameter (`p`, `self.p`) is one symbol.
    const sameName = holder !== undefined && lastName(holder.replace(/^\u0001/, '')) === lastName(source.replace(/^\u0001/, ''));
    if (holder !== undefined && !sameName && !sym.tex.startsWith('\\mathtt') && sym.tex !== '\\dots') {
      const digits = /(\d+)$/.exec(lastName(source))?.[1];
      const plain = !/[_']/.test(sym.tex);
      const withDigits = digits && plain ? { tex: `${sym.tex}_{${digits}}`, unicode: sym.unicode + (subscript(digits) ?? `_${digits}`) } : undefined;
      sym = withDigits && !this.owner.has(withDigits.tex) ? withDigits : sym;
      while (this.owner.has(sym.tex)) sym = { tex: `${sym.tex}'`, unicode: `${sym.unicode}′` };
    }
    this.owner.set(sym.tex, source);
    this.bySource.set(source, sym);
    return sym;
  }

  /** A scalar's symbol: `lr` → η, `reg` / `weight_decay` → λ, `alpha` → α, `n` → n, else \mathtt. */
  scalar(source: string, tensor = false): Sym {
    const code = source.replace(/\s+/g, '');
    const known = this.bySource.get(code);
    if (known) return known;
    const last = lastName(code);
    let tex = defaultSymbolTeX(last);
    // A tensor keeps its own letter or name: η and λ are for scalars only.
    if (tensor && !/^[A-Za-z]$/.test(last) && !GREEK_UNICODE[last] && last !== 'eps') tex = `\\mathtt{}`;
    else if (tex.startsWith('\\mathtt')) {
      if (isLearningRateName(last)) tex = '\\eta';
      else if (/^[A-Za-z_]\w*$/.test(last) && isRegularizationName(last) && !/^(beta\w+|\w*coef\w*|penalty\w*|\w*(lr|learning)\w*)$/i.test(last)) tex = '\\lambda';
    }
    const sym = tex.startsWith('\\mathtt') ? ttSym(code) : { tex, unicode: texToUnicode(tex, code) };
    return this.claim(code, sym);
  }

  /** A parameter's symbol: `W`, `W1` → W₁, `self.W` → W, `params["W1"]` → W₁, `weights` → W, `params` → θ. */
  param(source: string): Sym {
    // One parameter, however it is reached (`W1`, `self.W1`, `params["W1"]`): keyed by its last name.
    const last = lastName(source.replace(/\s+/g, ''));
    const code = `\u0001${last}`;
    const known = this.bySource.get(code);
    if (known) return known;
    let tex = defaultParamTeX(last);
    if (tex.startsWith('\\mathtt')) {
      if (THETA_WORDS.test(last)) tex = '\\theta';
      else if (WEIGHT_WORDS.test(last) || /^(weights?|kernel)$/i.test(last)) tex = 'W';
    }
    const sym = tex.startsWith('\\mathtt') ? ttSym(last) : { tex, unicode: texToUnicode(tex, last) };
    return this.claim(code, sym);
  }
}

// ------------------------------------------------------------------ the math tree

/** Math in a small tree, printed to TeX and Unicode by one renderer so both always agree. */
export type MathNode =
  /** `scalar`: a coefficient (η, λ, a number's neighbour), which products print first. */
  | { k: 'atom'; tex: string; uni: string; num?: number; frac?: boolean; scalar?: boolean }
  | { k: 'add'; terms: { neg: boolean; m: MathNode }[] }
  | { k: 'mul'; fs: MathNode[] }
  | { k: 'div'; n: MathNode; d: MathNode }
  | { k: 'pow'; b: MathNode; tex: string; uni: string }
  | { k: 'neg'; m: MathNode }
  | { k: 'apply'; tex: string; uni: string; args: MathNode[] }
  | { k: 'sum'; m: MathNode; subTex?: string; subUni?: string }
  | { k: 'wrap'; lt: string; rt: string; lu: string; ru: string; m: MathNode }
  | { k: 'rel'; left: MathNode; tex: string; uni: string; right: MathNode };

export const ELIDED: MathNode = { k: 'atom', tex: '\\dots', uni: '…' };

export const atom = (s: Sym): MathNode => ({ k: 'atom', tex: s.tex, uni: s.unicode });

export function numberNode(x: number): MathNode {
  const s = formatNumber(Math.abs(x));
  const node: MathNode = { k: 'atom', tex: texNumber(s), uni: s, num: Math.abs(x) };
  return x < 0 ? { k: 'neg', m: node } : node;
}

export function mulNode(...fs: MathNode[]): MathNode {
  return fs.length === 1 ? fs[0] : { k: 'mul', fs };
}

export function addNode(...terms: { neg: boolean; m: MathNode }[]): MathNode {
  return { k: 'add', terms };
}

export const relNode = (left: MathNode, tex: string, uni: string, right: MathNode): MathNode => ({ k: 'rel', left, tex, uni, right });

/** The gradient symbol ∂L/∂W for a parameter symbol (∇L without one). */
export function gradientSym(param: Sym | undefined): Sym {
  if (!param) return { tex: '\\nabla L', unicode: '∇L' };
  return { tex: `\\frac{\\partial L}{\\partial ${param.tex}}`, unicode: `∂L/∂${param.unicode}` };
}

/** A coefficient monomial as math: `2λ`, `λ/(2n)`, `−ηλ`, with its names through `symbols`. */
export function coefNode(c: Coef, symbols: SymbolTable): MathNode {
  if (c.num === 0) return numberNode(0);
  const p = splitCoef(c);
  const symNode = (name: string, pow: number): MathNode => {
    const sym = symbols.scalar(name);
    symbols.note(sym, name);
    // A coefficient kept as its code (`1-self.l1_ratio`) is a sum: parenthesized in a product.
    const sum = /[^\s(+-]\s*[-+]\s*\S/.test(sym.unicode);
    const plain = atom(sym) as MathNode & { k: 'atom'; tex: string; uni: string };
    const base: MathNode = { ...plain, ...(sum ? { tex: `\\left(${plain.tex}\\right)`, uni: `(${plain.uni})` } : {}), scalar: true } as MathNode;
    return pow === 1 ? base : powNode(base, pow);
  };
  const top = [...(p.numNumber === undefined ? [] : [numberNode(tidy(p.numNumber))]), ...p.numSyms.map((s) => symNode(s.name, s.pow))];
  const bottom = [...(p.denNumber === undefined ? [] : [numberNode(tidy(p.denNumber))]), ...p.denSyms.map((s) => symNode(s.name, s.pow))];
  const numerator = top.length === 0 ? numberNode(1) : mulNode(...top);
  const body = bottom.length === 0 ? numerator : ({ k: 'div', n: numerator, d: mulNode(...bottom) } as MathNode);
  return p.negative ? { k: 'neg', m: body } : body;
}

export function powNode(b: MathNode, k: number | string): MathNode {
  const s = typeof k === 'number' ? formatNumber(k) : k;
  const sup = s === '\\top' ? 'ᵀ' : superscript(s);
  return { k: 'pow', b, tex: s, uni: sup ?? `^${s}` };
}

/** c · term, dropping a coefficient of 1 and writing −1 as a sign. */
export function scaled(c: Coef, term: MathNode, symbols: SymbolTable): MathNode {
  if (c.num === 0) return numberNode(0);
  if (c.syms.length === 0 && Math.abs(c.num) === 1) return c.num < 0 ? { k: 'neg', m: term } : term;
  const coef = coefNode(c, symbols);
  if (coef.k === 'neg') return { k: 'neg', m: mulNode(coef.m, term) };
  return mulNode(coef, term);
}

export const normNode = (m: MathNode, sub = '2'): MathNode => ({ k: 'wrap', lt: '\\lVert ', rt: `\\rVert_{${sub}}`, lu: '‖', ru: `‖${subscript(sub) ?? `_${sub}`}`, m });
export const absNode = (m: MathNode): MathNode => ({ k: 'wrap', lt: '\\lvert ', rt: '\\rvert', lu: '|', ru: '|', m });
export const sqrtNode = (m: MathNode): MathNode => ({ k: 'wrap', lt: '\\sqrt{', rt: '}', lu: '√(', ru: ')', m });

/** ∇R(W) for a canonical gradient with the parameter already as math. */
export function gradientNode(g: Gradient, param: MathNode, symbols: SymbolTable): MathNode {
  switch (g.kind) {
    case 'linear':
      return scaled(g.coef, param, symbols);
    case 'sign':
      return scaled(g.coef, { k: 'apply', tex: '\\operatorname{sign}', uni: 'sign', args: [param] }, symbols);
    case 'normalized':
      return scaled(g.coef, { k: 'div', n: param, d: normNode(param) }, symbols);
  }
}

/** R(W) for a penalty term with the parameter already as math. */
export function penaltyNode(kind: PenaltyTerm['kind'], coef: Coef, param: MathNode, symbols: SymbolTable): MathNode {
  switch (kind) {
    case 'sumsq':
      return scaled(coef, { k: 'sum', m: powNode(param, 2) }, symbols);
    case 'elemsq':
      return scaled(coef, powNode(param, 2), symbols);
    case 'norm2':
      return scaled(coef, normNode(param), symbols);
    case 'l1':
      return scaled(coef, { k: 'sum', m: absNode(param) }, symbols);
    case 'elemabs':
      return scaled(coef, absNode(param), symbols);
  }
}

// ------------------------------------------------------------------ rendering

const P_REL = 0;
const P_ADD = 1;
const P_MUL = 2;
const P_POW = 4;
const P_ATOM = 5;

interface Out {
  tex: string;
  uni: string;
  /** Binding strength of the outermost operator, in TeX and in Unicode (a/b binds weaker there). */
  pt: number;
  pu: number;
}

const parenT = (o: Out, min: number): string => (o.pt < min ? `\\left(${o.tex}\\right)` : o.tex);
const parenU = (o: Out, min: number): string => (o.pu < min ? `(${o.uni})` : o.uni);

/** Flattens nested sums and products and pulls signs out of products. */
function normalize(m: MathNode): MathNode {
  switch (m.k) {
    case 'add': {
      const terms: { neg: boolean; m: MathNode }[] = [];
      const push = (neg: boolean, x: MathNode): void => {
        const n = normalize(x);
        if (n.k === 'add') for (const t of n.terms) terms.push({ neg: neg !== t.neg, m: t.m });
        else if (n.k === 'neg') push(!neg, n.m);
        else terms.push({ neg, m: n });
      };
      for (const t of m.terms) push(t.neg, t.m);
      return terms.length === 1 && !terms[0].neg ? terms[0].m : { k: 'add', terms };
    }
    case 'mul': {
      let negative = false;
      const fs: MathNode[] = [];
      const push = (x: MathNode): void => {
        let n = normalize(x);
        while (n.k === 'neg') {
          negative = !negative;
          n = n.m;
        }
        if (n.k === 'mul') n.fs.forEach(push);
        else if (n.k === 'atom' && n.num === 1 && fs.length + m.fs.length > 1) return; // 1·x
        else fs.push(n);
      };
      m.fs.forEach(push);
      // One number goes first, then coefficients: `W * 2 * reg` reads 2λW, `g.mul(lr)` reads ηg.
      const numbers = fs.filter((f) => f.k === 'atom' && f.num !== undefined);
      const leading = numbers.length === 1 ? [numbers[0]] : [];
      const coefs = fs.filter((f) => f.k === 'atom' && f.scalar && !leading.includes(f));
      const ordered = [...leading, ...coefs, ...fs.filter((f) => !leading.includes(f) && !coefs.includes(f))];
      // x·x is x².
      const merged: MathNode[] = [];
      for (const f of ordered) {
        const prev = merged[merged.length - 1];
        if (prev && f.k === 'atom' && f.num === undefined && prev.k === 'atom' && prev.tex === f.tex && f.tex !== '\\dots') merged[merged.length - 1] = powNode(f, 2);
        else merged.push(f);
      }
      const body: MathNode = merged.length === 0 ? numberNode(1) : merged.length === 1 ? merged[0] : { k: 'mul', fs: merged };
      return negative ? { k: 'neg', m: body } : body;
    }
    case 'neg': {
      const inner = normalize(m.m);
      return inner.k === 'neg' ? inner.m : { k: 'neg', m: inner };
    }
    case 'div':
      return { k: 'div', n: normalize(m.n), d: normalize(m.d) };
    case 'pow':
      return { ...m, b: normalize(m.b) };
    case 'apply':
      return { ...m, args: m.args.map(normalize) };
    case 'sum':
    case 'wrap':
      return { ...m, m: normalize(m.m) };
    case 'rel':
      return { ...m, left: normalize(m.left), right: normalize(m.right) };
    default:
      return m;
  }
}

/** A factor that Unicode may juxtapose: one letter or Greek letter, with sub/superscripts. */
const SHORT_UNI = /^[A-Za-z\u0370-\u03ff][\u2080-\u209c\u1d62-\u1d6a\u2c7c′⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ]*$/u;

/** What goes between two factors in Unicode: nothing (2λW, η(…)) or a middle dot. */
function unicodeSeparator(left: string, right: string): string {
  const numberLeft = /^[\d.]+$/.test(left);
  if (numberLeft && (SHORT_UNI.test(right) || /^[(Σ‖|√∇]/u.test(right) || /^[A-Za-z\u0370-\u03ff][\u2080-\u209c\u1d62-\u1d6a\u2c7c′⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᵀ]*[(Σ‖|√]/u.test(right)) && !right.includes('/')) return '';
  const leftShort = SHORT_UNI.test(left) || (left.startsWith('(') && left.endsWith(')'));
  if (leftShort && (right.startsWith('(') || SHORT_UNI.test(right) || /^[Σ‖|√∇]/u.test(right))) return '';
  return '·';
}

/** What goes between two factors in TeX: `\cdot` before a number, a thin space around code names. */
function texSeparator(left: string, right: string, rightNode: MathNode): string {
  if ((rightNode.k === 'atom' && rightNode.num !== undefined) || /^\d/.test(right)) return ' \\cdot ';
  if (/\\mathtt\{[^}]*\}$/.test(left) || right.startsWith('\\mathtt')) return '\\,';
  // `\lambda W`: a command name must not run into the next letter.
  if (/[A-Za-z]$/.test(left) && /^[A-Za-z]/.test(right)) return ' ';
  return '';
}

function render(m: MathNode): Out {
  switch (m.k) {
    case 'atom':
      return { tex: m.tex, uni: m.uni, pt: P_ATOM, pu: m.frac ? P_MUL : P_ATOM };
    case 'add': {
      let tex = '';
      let uni = '';
      m.terms.forEach((t, i) => {
        const o = render(t.m);
        const ti = parenT(o, P_ADD + (t.neg ? 1 : 0));
        const ui = parenU(o, P_ADD + (t.neg ? 1 : 0));
        if (i === 0) {
          tex += (t.neg ? '-' : '') + ti;
          uni += (t.neg ? '−' : '') + ui;
        } else {
          tex += (t.neg ? ' - ' : ' + ') + ti;
          uni += (t.neg ? ' − ' : ' + ') + ui;
        }
      });
      return { tex, uni, pt: P_ADD, pu: P_ADD };
    }
    case 'neg': {
      const o = render(m.m);
      return { tex: `-${parenT(o, P_MUL)}`, uni: `−${parenU(o, P_MUL)}`, pt: P_ADD, pu: P_ADD };
    }
    case 'mul': {
      const parts = m.fs.map(render);
      let tex = '';
      let uni = '';
      let prev: { tex: string; uni: string } | undefined;
      parts.forEach((o, i) => {
        const f = m.fs[i];
        // A sum sign swallows what follows it: only the last factor may be a bare Σ.
        const sumInside = f.k === 'sum' && i < m.fs.length - 1;
        const t = o.pt < P_MUL || sumInside ? `\\left(${o.tex}\\right)` : o.tex;
        // In Unicode a quotient inside a product gets parentheses: (η/n)·g.
        const u = o.pu < P_MUL || sumInside || f.k === 'div' ? `(${o.uni})` : o.uni;
        if (prev) {
          tex += texSeparator(prev.tex, t, f);
          uni += unicodeSeparator(prev.uni, u);
        }
        tex += t;
        uni += u;
        prev = { tex: t, uni: u };
      });
      return { tex, uni, pt: P_MUL, pu: P_MUL };
    }
    case 'div': {
      const n = render(m.n);
      const d = render(m.d);
      // A numerator ending in a power of ±1 is parenthesized: x¹/2 reads as x^(1/2), (x¹)/2 does not (`x ** 1/2`).
      const num = /¹$/.test(n.uni) ? `(${n.uni})` : parenU(n, P_MUL);
      const uni = `${num}/${d.pu <= P_MUL || d.uni.includes('/') ? `(${d.uni})` : d.uni}`;
      return { tex: `\\frac{${n.tex}}{${d.tex}}`, uni, pt: P_ATOM, pu: P_MUL };
    }
    case 'pow': {
      const b = render(m.b);
      const fracAtom = m.b.k === 'atom' && m.b.tex.includes('\\frac');
      const baseT = b.pt < P_ATOM || fracAtom ? `\\left(${b.tex}\\right)` : b.tex.includes('^') ? `{${b.tex}}` : b.tex;
      const baseU = b.pu < P_ATOM ? `(${b.uni})` : b.uni;
      return { tex: `${baseT}^{${m.tex}}`, uni: baseU + m.uni, pt: P_POW, pu: P_POW };
    }
    case 'apply': {
      const args = m.args.map(render);
      return {
        tex: `${m.tex}\\left(${args.map((a) => a.tex).join(', ')}\\right)`,
        uni: `${m.uni}(${args.map((a) => a.uni).join(', ')})`,
        pt: P_ATOM,
        pu: P_ATOM,
      };
    }
    case 'sum': {
      const o = render(m.m);
      const sub = m.subTex ? `_{${m.subTex}}` : '';
      return { tex: `\\sum${sub} ${parenT(o, P_POW)}`, uni: `Σ${m.subUni ? subscript(m.subUni) ?? `_${m.subUni}` : ''}${parenU(o, P_POW)}`, pt: P_MUL, pu: P_MUL };
    }
    case 'wrap': {
      const o = render(m.m);
      return { tex: `${m.lt}${o.tex}${m.rt}`, uni: `${m.lu}${o.uni}${m.ru}`, pt: P_ATOM, pu: P_ATOM };
    }
    case 'rel': {
      const l = render(m.left);
      const r = render(m.right);
      return { tex: `${l.tex} ${m.tex} ${r.tex}`, uni: `${l.uni} ${m.uni} ${r.uni}`, pt: P_REL, pu: P_REL };
    }
  }
}

export interface PrintedMath {
  tex: string;
  unicode: string;
  /** True when part of the expression was replaced by \dots to bound the size. */
  elided: boolean;
}

/** Renders a math tree (after normalizing it) to TeX and Unicode. */
export function renderMath(m: MathNode): { tex: string; unicode: string } {
  const o = render(normalize(m));
  return { tex: o.tex, unicode: o.uni };
}

// ------------------------------------------------------------------ IR → math

/** Replace a summand (by its span) with a gradient. */
export interface Substitution {
  span: Span;
  gradient: Gradient;
  /** The parameter as written where the penalty was found; defaults to `gradient.param` as a name. */
  param?: Expr;
}

/** Print a variable's use (by its span) as the value it holds: `step` → `dW + reg * W`. */
export interface Expansion {
  expr: Expr;
  scope?: Scope;
  at?: number;
}

export interface PrintOptions {
  /** The source text of a span (for source snippets), in whichever file it is. */
  source: (span: Span) => string;
  symbols: SymbolTable;
  /** Recognizes penalties and parameters; without it parameters are judged by their names only. */
  analyzer?: Analyzer;
  scope?: Scope;
  at?: number;
  /** Parameter that bare gradient names (`g`, `grad`) belong to, as a source key. */
  contextParam?: Expr;
  substitutions?: readonly Substitution[];
  expansions?: ReadonlyMap<string, Expansion>;
  /** Node budget; beyond it the rest prints as \dots. Default 48. */
  maxNodes?: number;
}

const spanKey = (s: Span): string => `${s.start}:${s.end}`;

/** The index of `w[i]` / `g[0]` when it is one short name or number. */
function elementIndex(e: Expr & { kind: 'index' }): string | undefined {
  if (e.index.length !== 1) return undefined;
  const i = e.index[0];
  const text = i.kind === 'name' ? i.name : i.kind === 'num' ? String(i.value) : undefined;
  return text !== undefined && /^[A-Za-z0-9]{1,3}$/.test(text) ? text : undefined;
}

/** The indices of `W[i][j]` → [i, j]; empty when any index is not short (`W[:, j]`, `w[i + 1]`). */
function elementIndices(e: Expr): string[] {
  const out: string[] = [];
  let x = e;
  while (x.kind === 'index' && !isKeyedByString(x)) {
    const i = elementIndex(x);
    if (i === undefined) return [];
    out.unshift(i);
    x = x.object;
  }
  return out;
}

/** A symbol with subscripts: W_{ij}, wᵢ. Symbols that already carry a subscript stay whole. */
function withIndex(m: MathNode, indices: string[]): MathNode {
  if (indices.length === 0 || m.k !== 'atom' || m.tex.startsWith('\\mathtt') || /[_']/.test(m.tex)) return m;
  const joined = indices.join(indices.every((i) => i.length === 1) ? '' : ',');
  const sub = subscript(indices.join(''));
  return { k: 'atom', tex: `${m.tex}_{${joined}}`, uni: sub && indices.every((i) => i.length === 1) ? m.uni + sub : `${m.uni}[${indices.join('][')}]` };
}

const ONE_COEF: Coef = { num: 1, syms: [] };

/** Calls that print as the object they are called on (or their only argument). */
const TRANSPARENT = new Set(['flatten', 'ravel', 'reshape', 'view', 'detach', 'clone', 'copy', 'item', 'numpy', 'float', 'double', 'data', 'contiguous', 'squeeze', 'asarray', 'array', 'convert_to_tensor', 'stop_gradient', 'dataSync', 'arraySync']);
const SUM = new Set(['sum', 'reduce_sum', 'nansum', 'fsum']);
const MATMUL = new Set(['dot', 'matmul', 'mm', 'bmm', 'tensordot', 'inner', 'outer', 'matMul', 'einsum_dot']);
const BUILTIN_FN: Record<string, [string, string]> = table({
  exp: ['\\exp', 'exp'], log: ['\\log', 'log'], tanh: ['\\tanh', 'tanh'], sin: ['\\sin', 'sin'], cos: ['\\cos', 'cos'],
  maximum: ['\\max', 'max'], minimum: ['\\min', 'min'], max: ['\\max', 'max'], min: ['\\min', 'min'],
});
/** Builds math trees from IR expressions for one explanation. */
export class ExprPrinter {
  private nodes = 0;
  private elided = false;
  private expanding = 0;
  /** Spans of substitutions that were printed. */
  readonly applied = new Set<string>();
  private readonly subs = new Map<string, Substitution>();

  constructor(private readonly options: PrintOptions) {
    for (const s of options.substitutions ?? []) this.subs.set(spanKey(s.span), s);
  }

  get symbols(): SymbolTable {
    return this.options.symbols;
  }

  private substitutedByZero(e: Expr): boolean {
    const sub = this.subs.get(spanKey(e.span));
    if (!sub || sub.gradient.coef.num !== 0) return false;
    this.applied.add(spanKey(e.span));
    return true;
  }

  /** Does a substitution lie strictly inside `span`? */
  private substitutesInside(span: Span): boolean {
    for (const s of this.subs.values()) if (span.start <= s.span.start && s.span.end <= span.end && (s.span.start !== span.start || s.span.end !== span.end)) return true;
    return false;
  }

  /** Prints `e` as math. */
  print(e: Expr): PrintedMath {
    return this.finish(this.build(e, this.options.scope, this.options.at ?? Infinity));
  }

  /** Renders a tree built with `node` (and friends), reporting elision. */
  finish(m: MathNode): PrintedMath {
    const { tex, unicode } = renderMath(m);
    return { tex, unicode, elided: this.elided };
  }

  /** The math tree of `e`. */
  node(e: Expr, scope = this.options.scope, at = this.options.at ?? Infinity): MathNode {
    return this.build(e, scope, at);
  }

  private source(e: { span: Span }): string {
    return this.options.source(e.span);
  }

  private isModule(e: Expr): boolean {
    if (this.options.analyzer) return this.options.analyzer.isModule(e);
    const path = calleePath(e);
    return !!path && MODULE_ROOTS.has(path[0]);
  }

  isParam(e: Expr): boolean {
    if (this.options.analyzer) return this.options.analyzer.isParam(e);
    const last = lastComponent(baseExpr(e));
    return last !== undefined && isWeightName(last) && !isGradientLike(e);
  }

  /** The parameter's symbol: the base tensor by its last name; an element `w[i][j]` gets subscripts. */
  paramNode(e: Expr): MathNode {
    const base = baseExpr(e);
    const code = exprKey(base) ?? this.source(base);
    const sym = this.symbols.param(code);
    this.symbols.note(sym, this.source(base));
    return withIndex(atom(sym), elementIndices(e));
  }

  /**
   * The symbol of a penalty's parameter occurrence. When it is the parameter being updated, the
   * update's own target is used (`v` rather than the `params[name]` it aliases; `w[j]` for an
   * elementwise term); `whole` asks for the tensor itself (Σ, ‖·‖ sum over all of it).
   */
  occurrenceNode(occurrence: Expr, whole: boolean): MathNode {
    const ctx = this.options.contextParam;
    if (ctx && this.sameParam(ctx, occurrence)) return whole ? this.paramNode(baseExpr(ctx)) : this.paramNode(ctx);
    return whole ? this.paramNode(baseExpr(occurrence)) : this.paramNode(occurrence);
  }

  private sameParam(a: Expr, b: Expr): boolean {
    const ka = exprKey(baseExpr(a));
    const kb = exprKey(baseExpr(b));
    if (ka !== undefined && ka === kb) return true;
    const analyzer = this.options.analyzer;
    if (!analyzer || !this.options.scope) return false;
    try {
      const pa = analyzer.classify(baseExpr(a), this.options.scope, this.options.at ?? Infinity);
      const pb = analyzer.classify(baseExpr(b), this.options.scope, this.options.at ?? Infinity);
      return pa.params.length === 1 && pb.params.length === 1 && exprKey(pa.params[0].base) === exprKey(pb.params[0].base);
    } catch {
      return false;
    }
  }

  /** ∂L/∂W for a gradient container (an element `g[j]` gets the parameter's subscript), or undefined when it is not a loss gradient. */
  private gradientNode(e: Expr): MathNode | undefined {
    let container = e;
    const indices: string[] = [];
    while (container.kind === 'index' && !isKeyedByString(container) && isGradientLike(container.object)) {
      const i = elementIndex(container);
      if (i === undefined) break;
      indices.unshift(i);
      container = container.object;
    }
    const param = this.gradientParam(container);
    if (param === null) return undefined;
    const p = param && atom(param);
    const withSub = p && indices.length > 0 && indices.length === elementIndices(e).length ? withIndex(p, indices) : p;
    const paramSym = withSub && withSub.k === 'atom' ? { tex: withSub.tex, unicode: withSub.uni } : undefined;
    const sym = this.symbols.gradient(this.source(e), gradientSym(paramSym), paramSym);
    this.symbols.note(sym, this.source(e));
    return { k: 'atom', tex: sym.tex, uni: sym.unicode, frac: sym.tex.startsWith('\\frac') };
  }

  /**
   * The parameter a gradient container belongs to; undefined for an unnamed loss gradient (∇L),
   * null when the name says it is the gradient of something else (`pen_grad`, `d_hidden`).
   */
  private gradientParam(e: Expr): Sym | undefined | null {
    if (e.kind === 'call') {
      const target = e.args[1];
      return target ? this.paramSym(target) : undefined;
    }
    const named = parameterOfGradient(e);
    if (named) {
      if (isWeightName(named) || this.isParam({ kind: 'name', name: named, span: e.span })) return this.symbols.param(named);
      const ctx = this.options.contextParam;
      // `grads["w1"]` of `params.w1`; otherwise a gradient of something that is not a parameter.
      if (ctx && lastComponent(baseExpr(ctx)) === named) return this.paramSym(ctx);
      return null;
    }
    const ctx = this.options.contextParam;
    return ctx ? this.paramSym(ctx) : undefined;
  }

  private paramSym(e: Expr): Sym {
    const base = baseExpr(e);
    return this.symbols.param(exprKey(base) ?? this.source(base));
  }

  private spend(): boolean {
    if (this.nodes >= (this.options.maxNodes ?? 48)) {
      this.elided = true;
      return false;
    }
    this.nodes++;
    return true;
  }

  private build(e: Expr, scope: Scope | undefined, at: number): MathNode {
    if (!this.spend()) return ELIDED;
    const sub = this.subs.get(spanKey(e.span));
    if (sub) {
      this.applied.add(spanKey(e.span));
      const elementwise = sub.gradient.kind !== 'normalized';
      const param = sub.param ? this.occurrenceNode(sub.param, !elementwise) : atom(this.symbols.param(sub.gradient.param));
      if (sub.gradient.kind === 'normalized' && sub.param) {
        // W/‖W‖₂ of an element is w_j/‖w‖₂.
        const element = this.occurrenceNode(sub.param, false);
        return scaled(sub.gradient.coef, { k: 'div', n: element, d: normNode(param) }, this.symbols);
      }
      return gradientNode(sub.gradient, param, this.symbols);
    }
    const expansion = this.options.expansions?.get(spanKey(e.span));
    if (expansion) return this.build(expansion.expr, expansion.scope ?? scope, expansion.at ?? at);
    // `lam * (ΣW1² + ΣW2²)` with a finding on each sum: read as one penalty, the sums would never be built.
    const penalty = this.substitutesInside(e.span) ? undefined : this.penalty(e, scope, at);
    if (penalty) return penalty;
    switch (e.kind) {
      case 'num':
        return numberNode(e.value);
      case 'name':
      case 'attr':
      case 'index':
        return this.reference(e, scope, at);
      case 'binary':
        return this.binary(e.op, e.left, e.right, scope, at);
      case 'unary':
        if (e.op === '-') return { k: 'neg', m: this.build(e.arg, scope, at) };
        if (e.op === '+') return this.build(e.arg, scope, at);
        return this.fallback(e);
      case 'call':
        return this.call(e, scope, at);
      case 'comprehension':
        return this.fallback(e);
      default:
        return this.fallback(e);
    }
  }

  private fallback(e: Expr): MathNode {
    return atom(ttSym(this.source(e)));
  }

  /** A recognized penalty (through variables and helpers too) prints in canonical form. */
  private penalty(e: Expr, scope: Scope | undefined, at: number): MathNode | undefined {
    const analyzer = this.options.analyzer;
    if (!analyzer || !scope) return undefined;
    const arith = e.kind === 'call' ? analyzer.arithmeticCall(e) : undefined;
    const candidate =
      (e.kind === 'call' && (!arith || arith.op === '*' || arith.op === '/')) ||
      (e.kind === 'binary' && (e.op === '*' || e.op === '/' || e.op === '@' || e.op === '**')) ||
      ((e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && !isGradientLike(e) && !analyzer.isParam(e));
    if (!candidate) return undefined;
    let found: PenaltyTerm | undefined;
    try {
      found = penaltyOfProduct(analyzer.classify(e, scope, at));
    } catch {
      return undefined;
    }
    if (!found || found.params.length === 0 || found.params.length > 3 || !found.params.every((p) => analyzer.isParam(p.base))) return undefined;
    // Σ, ‖·‖ run over the whole tensor; W², |W| are of the occurrence itself.
    const whole = found.kind === 'sumsq' || found.kind === 'norm2' || found.kind === 'l1';
    const params = found.params.map((p) => this.occurrenceNode(p.expr, whole));
    const distinct = params.filter((p, i) => params.findIndex((q) => renderMath(q).tex === renderMath(p).tex) === i);
    const m =
      distinct.length === 1
        ? penaltyNode(found.kind, found.coef, distinct[0], this.symbols)
        : scaled(found.coef, addNode(...distinct.map((p) => ({ neg: false, m: penaltyNode(found!.kind, ONE_COEF, p, this.symbols) }))), this.symbols);
    if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') {
      const printed = renderMath(m);
      this.symbols.note({ tex: printed.tex, unicode: printed.unicode }, this.source(e));
    }
    return m;
  }

  private reference(e: Expr & { kind: 'name' | 'attr' | 'index' }, scope: Scope | undefined, at: number): MathNode {
    if (e.kind === 'attr' && e.name === 'T') return powNode(this.build(e.object, scope, at), '\\top');
    // A tensor's `.data` (`.value`) is the tensor; an object's own field of that name (`self.data`, the data set) is not.
    if (e.kind === 'attr' && (e.name === 'data' || e.name === 'value' || e.name === 'val') && !(e.object.kind === 'name' && isSelfName(e.object.name))) return this.build(e.object, scope, at);
    if (isGradientLike(e)) {
      const g = this.gradientNode(e);
      if (g) return g;
    }
    if (this.isParam(e)) return this.paramNode(e);
    const key = exprKey(e);
    if (key === undefined || key.includes('[?]')) return this.fallback(e);
    if (e.kind === 'index' && !isKeyedByString(e)) {
      // An element of something that is not a parameter: `X[i]`, `shape[0]`.
      return this.fallback(e);
    }
    // What the name holds decides how it prints: a scalar gets η/λ/α, a tensor only its letter,
    // and a variable holding c·W (`l2_term = reg * W`) prints as that value.
    let tensor = false;
    const analyzer = this.options.analyzer;
    if (analyzer && scope) {
      let product: ReturnType<Analyzer['classify']> | undefined;
      try {
        product = analyzer.classify(e, scope, at);
      } catch {
        product = undefined;
      }
      if (product && !product.tensor && !product.penalty && product.params.length > 0) {
        const binding = scope.lookup(key, at);
        // `v = params[name]`: v is that parameter, under its own name.
        if (product.params.length === 1 && product.abs.length === 0 && product.coef.num === 1 && product.coef.syms.length === 0) return this.paramNode(e);
        if (binding?.kind === 'assign' && binding.value && !binding.op && this.expanding < 3) {
          this.expanding++;
          const value = this.build(binding.value, binding.scope, binding.at);
          this.expanding--;
          const printed = renderMath(value);
          this.symbols.note({ tex: printed.tex, unicode: printed.unicode }, this.source(e));
          return value;
        }
      }
      tensor = !product || product.tensor || product.params.length > 0;
    }
    const sym = this.symbols.scalar(key, tensor);
    this.symbols.note(sym, this.source(e));
    // Greek symbols (η, λ, α, …) are coefficients; Latin letters may be matrices (X, A).
    return { ...atom(sym), scalar: !tensor && sym.tex.startsWith('\\') && !sym.tex.startsWith('\\mathtt') && sym.tex !== '\\dots' } as MathNode;
  }

  private binary(op: string, left: Expr, right: Expr, scope: Scope | undefined, at: number): MathNode {
    const l = (): MathNode => this.build(left, scope, at);
    const r = (): MathNode => this.build(right, scope, at);
    switch (op) {
      case '+':
      case '-': {
        // A term replaced by a zero gradient (a penalty on another parameter) leaves the sum.
        if (this.substitutedByZero(right)) return l();
        if (this.substitutedByZero(left)) return op === '-' ? { k: 'neg', m: r() } : r();
        return addNode({ neg: false, m: l() }, { neg: op === '-', m: r() });
      }
      case '*':
      case '@':
        return mulNode(l(), r());
      case '/':
        return { k: 'div', n: l(), d: r() };
      case '//':
        return { k: 'wrap', lt: '\\left\\lfloor ', rt: '\\right\\rfloor', lu: '⌊', ru: '⌋', m: { k: 'div', n: l(), d: r() } };
      case '%':
        return { k: 'apply', tex: '\\operatorname{mod}', uni: 'mod', args: [l(), r()] };
      case '**': {
        const base = l();
        if (right.kind === 'num') return right.value === 0.5 ? sqrtNode(base) : powNode(base, right.value);
        if (right.kind === 'unary' && right.op === '-' && right.arg.kind === 'num') return powNode(base, -right.arg.value);
        const exp = renderMath(r());
        return { k: 'pow', b: base, tex: exp.tex, uni: `^(${exp.unicode})` };
      }
      default:
        return mulNode(l(), r());
    }
  }

  private call(e: Expr & { kind: 'call' }, scope: Scope | undefined, at: number): MathNode {
    const analyzer = this.options.analyzer;
    // Arithmetic as calls, torch's in-place forms too (`buf.mul_(mu)` → μ·buf, `g.add_(w, alpha=c)` → g + c·w).
    const arith = analyzer?.valueArithmetic(e);
    if (arith) {
      const [a, b, alpha] = arith.operands;
      if (arith.op === 'neg') return { k: 'neg', m: this.build(a!, scope, at) };
      const left = this.build(a!, scope, at);
      let right = b ? this.build(b, scope, at) : ELIDED;
      if (alpha) right = mulNode(this.build(alpha, scope, at), right);
      if (arith.op === '+') return addNode({ neg: false, m: left }, { neg: false, m: right });
      if (arith.op === '-') return addNode({ neg: false, m: left }, { neg: true, m: right });
      if (arith.op === '*') return mulNode(left, right);
      return { k: 'div', n: left, d: right };
    }
    const path = calleePath(e.callee);
    const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
    // torch's in-place elementwise math (`g.square_()`, `v.sqrt_()`, `g.pow_(2)`) prints as the math it computes.
    const fn = (methodForm ? inPlaceMathName(e) : undefined) ?? (e.callee.kind === 'attr' ? e.callee.name : path?.[path.length - 1]);
    const operand = methodForm ? (e.callee as { object: Expr }).object : e.args[0];
    const rest = methodForm ? e.args : e.args.slice(1);
    const b = (x: Expr): MathNode => this.build(x, scope, at);
    if (!fn) return this.fallback(e);
    // Without an analyzer, arithmetic methods and their in-place forms as the catalogue names them (`a.add(b)`, `buf.mul_(mu)`).
    const placement = !analyzer && methodForm && !e.kwargs.some((k) => k.name === 'out') ? arithmeticPlacement(e) : undefined;
    const op = placement && ARITHMETIC_CALLS[placement === 'in-place' ? fn.slice(0, -1) : fn];
    if (op && op !== 'neg' && e.args.length === 1) {
      const alpha = e.kwargs.find((k) => k.name === 'alpha')?.value;
      const left = b(operand!);
      const right = alpha ? mulNode(b(alpha), b(e.args[0])) : b(e.args[0]);
      if (op === '+' || op === '-') return addNode({ neg: false, m: left }, { neg: op === '-', m: right });
      return op === '*' ? mulNode(left, right) : { k: 'div', n: left, d: right };
    }
    if (fn === 'gradient' && e.args.length >= 2) return this.gradientNode(e) ?? this.fallback(e);
    if (operand) {
      if (TRANSPARENT.has(fn) && (methodForm || e.args.length === 1)) return b(operand);
      if (SUM.has(fn)) {
        if (operand.kind === 'comprehension') {
          const names = operand.generators.flatMap((g) => (g.target.kind === 'name' ? [g.target.name] : g.target.kind === 'seq' ? g.target.items.filter((i) => i.kind === 'name').map((i) => (i as { name: string }).name) : []));
          const sub = names.length > 0 && names.every((n) => /^[A-Za-z]$/.test(n)) ? names.join(',') : undefined;
          return { k: 'sum', m: b(operand.element), subTex: sub, subUni: sub };
        }
        return { k: 'sum', m: b(operand) };
      }
      if (fn === 'square') return powNode(b(operand), 2);
      if ((fn === 'pow' || fn === 'power') && rest[0]) {
        const k = rest[0].kind === 'num' ? rest[0].value : undefined;
        return k !== undefined ? powNode(b(operand), k) : { k: 'pow', b: b(operand), tex: renderMath(b(rest[0])).tex, uni: `^(${renderMath(b(rest[0])).unicode})` };
      }
      if (fn === 'sqrt') return sqrtNode(b(operand));
      if (fn === 'abs' || fn === 'absolute' || fn === 'fabs') return absNode(b(operand));
      if (fn === 'norm' || fn === 'vector_norm') {
        const ord = rest[0] ?? e.kwargs.find((k) => k.name === 'ord' || k.name === 'p')?.value;
        const sub = !ord ? '2' : ord.kind === 'num' ? formatNumber(ord.value) : ord.kind === 'str' && ord.value === 'fro' ? 'F' : '2';
        return normNode(b(operand), sub);
      }
      if (fn === 'sign') return { k: 'apply', tex: '\\operatorname{sign}', uni: 'sign', args: [b(operand)] };
      if (fn === 'transpose' || (fn === 't' && methodForm)) return powNode(b(operand), '\\top');
      if (MATMUL.has(fn) && rest[0]) return mulNode(b(operand), b(rest[0]));
      if (fn === 'vdot' && rest[0]) return mulNode(powNode(b(operand), '\\top'), b(rest[0]));
      const builtin = BUILTIN_FN[fn];
      if (builtin) return { k: 'apply', tex: builtin[0], uni: builtin[1], args: [operand, ...rest].slice(0, 3).map(b) };
    }
    return this.unknownCall(fn, methodForm ? [operand!, ...e.args] : e.args, scope, at);
  }

  private unknownCall(fn: string, args: Expr[], scope: Scope | undefined, at: number): MathNode {
    const name = fn.length <= MAX_TT && /^[A-Za-z_]\w*$/.test(fn) ? fn : undefined;
    if (!name) return ELIDED;
    const shown = args.slice(0, 3).map((a) => this.build(a, scope, at));
    if (args.length > 3) shown.push(ELIDED);
    return { k: 'apply', tex: `\\operatorname{${escapeTT(name)}}`, uni: name, args: shown };
  }
}

/** Prints one expression with a fresh printer. */
export function printExpr(e: Expr, options: PrintOptions): PrintedMath {
  return new ExprPrinter(options).print(e);
}

/**
 * The β of a moving average written T ← β·T + (1 − β)·X, by its math (the two weights sum to one),
 * for each root: a decay T ← T − λ·T or a rescaled T ← η·T + … is not one. A blend β·A + (1 − β)·B
 * of two other values is weighted by a β too.
 */
export function blendWeights(target: Expr | undefined, roots: readonly Expr[]): string[] {
  const key = target && exprKey(target);
  const out: string[] = [];
  const summands = (e: Expr, acc: Expr[] = []): Expr[] => {
    if (e.kind === 'binary' && (e.op === '+' || e.op === '-') && acc.length < 16) {
      summands(e.left, acc);
      acc.push(e.right);
    } else acc.push(e);
    return acc;
  };
  const factors = (e: Expr): Expr[] => (e.kind === 'binary' && e.op === '*' ? [...factors(e.left), ...factors(e.right)] : [e]);
  for (const root of roots) {
    const terms = summands(root).map(factors);
    for (const t of terms) {
      if (t.length !== 2) continue;
      // β·S + (1 − β)·X: the weight of the old value; also β·A + (1 − β)·B, a blend of two other
      // values (a running mean that forgot its old value, NB403's mistake), whose weight is a β still.
      for (const [i, beta] of t.entries()) {
        const k = beta.kind === 'name' || beta.kind === 'attr' || beta.kind === 'index' ? exprKey(beta) : undefined;
        if (k === undefined || k === key || exprKey(t[1 - i]) === k) continue;
        const complement = (f: Expr): boolean => f.kind === 'binary' && f.op === '-' && f.left.kind === 'num' && f.left.value === 1 && exprKey(f.right) === k;
        if (terms.some((u) => u !== t && u.some(complement))) out.push(k);
      }
    }
  }
  return out;
}
