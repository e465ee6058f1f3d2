// Sums of monomials over symbolic atoms, the normal form of an optimizer's step
// (server/engine/facts/optimizerSteps.ts): `b1*m + (1 - b1)*g` is b1·m + g − b1·g. Atoms are
// variables (by key), functions of sums (√, |·|, sign, max), reciprocals of sums and powers with a
// symbolic exponent. Products distribute; a sum divides only as the reciprocal atom of that sum.
// No dependency on the IR: plain symbolic data.

export type Atom =
  | { k: 'sym'; key: string }
  | { k: 'fn'; fn: string; args: Poly[] }
  /** 1 / (a sum of several monomials). */
  | { k: 'inv'; arg: Poly }
  /** base ** exponent with a symbolic exponent (`b1 ** t`). */
  | { k: 'pow'; base: Poly; exp: Poly }
  /** Something the normal form does not see into; equal only to itself. */
  | { k: 'opaque'; id: string };

export interface PolyFactor {
  atom: Atom;
  key: string;
  n: number;
}

export interface Mono {
  c: number;
  /** Sorted by key, each atom once, n ≠ 0. */
  fs: PolyFactor[];
}

export type Poly = Mono[];

/** Most monomials one sum may hold; past it, normalization gives up (the caller reads the value as opaque). */
export const MAX_MONOS = 48;

export class PolyOverflow extends Error {}

const EPS = 1e-9;
export const near = (a: number, b: number): boolean => Math.abs(a - b) <= EPS * Math.max(1, Math.abs(a), Math.abs(b));

const atomKeys = new WeakMap<Atom, string>();
const monoKeys = new WeakMap<Mono, string>();
const polyKeys = new WeakMap<Poly, string>();

export function atomKey(a: Atom): string {
  // A variable's key is its own; an opaque one's is short: neither is worth a cache entry.
  if (a.k === 'sym') return a.key;
  if (a.k === 'opaque') return `?${a.id}`;
  let k = atomKeys.get(a);
  if (k === undefined) {
    k = atomKeyUncached(a);
    atomKeys.set(a, k);
  }
  return k;
}

function atomKeyUncached(a: Atom): string {
  switch (a.k) {
    case 'sym':
      return a.key;
    case 'fn':
      return `${a.fn}(${a.args.map(polyKey).join(',')})`;
    case 'inv':
      return `inv(${polyKey(a.arg)})`;
    case 'pow':
      return `pow(${polyKey(a.base)},${polyKey(a.exp)})`;
    case 'opaque':
      return `?${a.id}`;
  }
}

/** The monomial's factors without its coefficient (monomials are never changed once made). */
export function monoKey(m: Mono): string {
  // A number's key is empty and one plain factor's is its own: nothing to join or cache.
  if (m.fs.length === 0) return '';
  if (m.fs.length === 1 && m.fs[0].n === 1) return m.fs[0].key;
  let k = monoKeys.get(m);
  if (k === undefined) {
    k = m.fs.map((f) => (f.n === 1 ? f.key : `${f.key}^${f.n}`)).join('·');
    monoKeys.set(m, k);
  }
  return k;
}

/** A canonical text of a sum (sums are never changed once made). */
export function polyKey(p: Poly): string {
  let k = polyKeys.get(p);
  if (k === undefined) {
    // One term's text needs no array, sort or join (the empty sum's is empty).
    if (p.length === 0) return '';
    if (p.length === 1) k = `${fmt(p[0].c)}*${monoKey(p[0])}`;
    else
      k = p
        .map((m) => `${fmt(m.c)}*${monoKey(m)}`)
        .sort()
        .join(' + ');
    polyKeys.set(p, k);
  }
  return k;
}

function fmt(c: number): string {
  return String(Math.round(c * 1e9) / 1e9);
}

export const constant = (c: number): Poly => (c === 0 ? [] : [{ c, fs: [] }]);
export const atomPoly = (atom: Atom): Poly => [{ c: 1, fs: [{ atom, key: atomKey(atom), n: 1 }] }];
export const sym = (key: string): Poly => atomPoly({ k: 'sym', key });

/** Past this many terms, like terms are found through a Map; up to it, by a scan of the keys seen (no Map per sum). */
const SCAN_MAX = 12;

/** Merges like monomials and drops zeros: terms in the order their key first occurs, coefficients summed in order. */
function normalize(monos: Mono[]): Poly {
  const n = monos.length;
  if (n === 0) return [];
  if (n === 1) {
    const m = monos[0];
    return near(m.c, 0) ? [] : [m];
  }
  if (n > SCAN_MAX) return normalizeByMap(monos);
  // The same merge as normalizeByMap's, with the keys seen in an array: a sum of a few terms is the common case.
  const keys: string[] = [];
  const firsts: Mono[] = [];
  const cs: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = monos[i];
    const k = monoKey(m);
    let at = -1;
    for (let j = 0; j < keys.length; j++)
      if (keys[j] === k) {
        at = j;
        break;
      }
    if (at >= 0) cs[at] += m.c;
    else {
      keys.push(k);
      firsts.push(m);
      cs.push(m.c);
    }
  }
  const out: Mono[] = [];
  for (let j = 0; j < keys.length; j++) {
    const c = cs[j];
    if (near(c, 0)) continue;
    const first = firsts[j];
    if (c === first.c) {
      out.push(first);
      continue;
    }
    const mono: Mono = { c, fs: first.fs };
    monoKeys.set(mono, keys[j]);
    out.push(mono);
  }
  if (out.length > MAX_MONOS) throw new PolyOverflow();
  return out;
}

function normalizeByMap(monos: Mono[]): Poly {
  const byKey = new Map<string, { c: number; first: Mono; key: string }>();
  for (let i = 0; i < monos.length; i++) {
    const m = monos[i];
    const k = monoKey(m);
    const known = byKey.get(k);
    if (known) known.c += m.c;
    else byKey.set(k, { c: m.c, first: m, key: k });
  }
  const out: Mono[] = [];
  for (const m of byKey.values()) {
    if (near(m.c, 0)) continue;
    // A term no other merged into is kept as it is (monomials are never changed once made).
    if (m.c === m.first.c) {
      out.push(m.first);
      continue;
    }
    const mono: Mono = { c: m.c, fs: m.first.fs };
    monoKeys.set(mono, m.key);
    out.push(mono);
  }
  if (out.length > MAX_MONOS) throw new PolyOverflow();
  return out;
}

export function add(a: Poly, b: Poly): Poly {
  // `concat`, not a spread: no iterator while V8 has not optimized the caller (the normal form's hottest call).
  return normalize(a.concat(b));
}

export function scale(a: Poly, k: number): Poly {
  return normalize(a.map((m) => ({ c: m.c * k, fs: m.fs })));
}

export function sub(a: Poly, b: Poly): Poly {
  return add(a, scale(b, -1));
}

function mulMono(a: Mono, b: Mono): Mono {
  // A number times a term: the term's factors as they are (already sorted, each once, none to the 0th).
  if (a.fs.length === 0 && wellFormed(b.fs)) return { c: a.c * b.c, fs: b.fs };
  if (b.fs.length === 0 && wellFormed(a.fs)) return { c: a.c * b.c, fs: a.fs };
  if (wellFormed(a.fs) && wellFormed(b.fs)) return { c: a.c * b.c, fs: mergeFactors(a.fs, b.fs) };
  const fs = new Map<string, PolyFactor>();
  const put = (f: PolyFactor): void => {
    const known = fs.get(f.key);
    fs.set(f.key, known ? { ...known, n: known.n + f.n } : f);
  };
  // a's factors then b's, in Map order, without the spread arrays and their iterators.
  for (let i = 0; i < a.fs.length; i++) put(a.fs[i]);
  for (let i = 0; i < b.fs.length; i++) put(b.fs[i]);
  const kept: PolyFactor[] = [];
  fs.forEach((f) => {
    if (f.n !== 0) kept.push(f);
  });
  return { c: a.c * b.c, fs: kept.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)) };
}

/**
 * The product's factors of two well-formed lists, merged as two sorted lists: what the Map and the sort
 * above make of them (a key in both is a's factor with the powers added, dropped at the 0th power).
 */
function mergeFactors(a: PolyFactor[], b: PolyFactor[]): PolyFactor[] {
  const out: PolyFactor[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    if (x.key < y.key) {
      out.push(x);
      i++;
    } else if (y.key < x.key) {
      out.push(y);
      j++;
    } else {
      const n = x.n + y.n;
      if (n !== 0) out.push({ ...x, n });
      i++;
      j++;
    }
  }
  for (; i < a.length; i++) out.push(a[i]);
  for (; j < b.length; j++) out.push(b[j]);
  return out;
}

/** Factors sorted by key, each key once, no 0th power: what mulMono would make of them alone. */
function wellFormed(fs: PolyFactor[]): boolean {
  for (let i = 0; i < fs.length; i++) if (fs[i].n === 0 || (i > 0 && !(fs[i - 1].key < fs[i].key))) return false;
  return true;
}

export function mul(a: Poly, b: Poly): Poly {
  if (a.length * b.length > MAX_MONOS * 4) throw new PolyOverflow();
  const out: Mono[] = [];
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out.push(mulMono(a[i], b[j]));
  return normalize(out);
}

/** 1 / p: a monomial's exponents negated; a sum becomes the reciprocal atom of itself. */
export function inverse(p: Poly): Poly | undefined {
  if (p.length === 0) return undefined;
  if (p.length === 1) {
    const m = p[0];
    return [{ c: 1 / m.c, fs: m.fs.map((f) => ({ ...f, n: -f.n })) }];
  }
  // A common numeric factor comes out: 1 / (2 − 2b) = ½ · 1/(1 − b).
  const k = p[0].c;
  const unit = scale(p, 1 / k);
  return scale(atomPoly({ k: 'inv', arg: unit }), 1 / k);
}

export function div(a: Poly, b: Poly): Poly | undefined {
  const inv = inverse(b);
  return inv && mul(a, inv);
}

export function fn(name: string, args: Poly[]): Poly {
  return atomPoly({ k: 'fn', fn: name, args });
}

/** √p: of a monomial, factor by factor (even powers halve, a reciprocal's root is the root's reciprocal); of a sum, the √ atom. */
export function sqrt(p: Poly): Poly {
  if (p.length === 1 && p[0].c > 0) {
    let out: Poly = constant(Math.sqrt(p[0].c));
    for (const f of p[0].fs) {
      let part: Poly;
      if (f.n % 2 === 0) part = [{ c: 1, fs: [{ ...f, n: f.n / 2 }] }];
      else if (f.atom.k === 'inv') part = power(fn('sqrt', [f.atom.arg]), -f.n);
      else part = power(fn('sqrt', [atomPoly(f.atom)]), f.n);
      out = mul(out, part);
    }
    return out;
  }
  return fn('sqrt', [p]);
}

/** p ** k for an integer k (negative through the inverse); undefined past small powers. */
export function power(p: Poly, k: number): Poly {
  if (k === 0) return constant(1);
  if (p.length === 1) return [{ c: p[0].c ** k, fs: p[0].fs.map((f) => ({ ...f, n: f.n * k })) }];
  if (k < 0) {
    const inv = inverse(p)!;
    return power(inv, -k);
  }
  let out: Poly = constant(1);
  for (let i = 0; i < k; i++) out = mul(out, p);
  return out;
}

/** base ** exp: whole and half powers worked out; a symbolic exponent is an atom. */
export function pow(base: Poly, exp: Poly): Poly {
  const e = numeric(exp);
  if (e !== undefined) {
    if (Number.isInteger(e) && Math.abs(e) <= 4) return power(base, e);
    if (near(e, 0.5)) return sqrt(base);
    if (near(e, -0.5)) return inverse(sqrt(base)) ?? atomPoly({ k: 'pow', base, exp });
  }
  const b = numeric(base);
  if (b !== undefined && e !== undefined) return constant(b ** e);
  return atomPoly({ k: 'pow', base, exp });
}

/** The value of a constant sum (0 for the empty sum), or undefined. */
export function numeric(p: Poly): number | undefined {
  if (p.length === 0) return 0;
  if (p.length === 1 && p[0].fs.length === 0) return p[0].c;
  return undefined;
}

export function polyEquals(a: Poly, b: Poly): boolean {
  if (a === b) return true;
  // Equal texts (polyKey) without building them where the answer is plain: the text of one term is
  // its coefficient, `*` and its factors; a sum of several joins its terms with ' + '; the empty sum's is empty.
  if (a.length === 0 || b.length === 0) return a.length === b.length;
  if (a.length === 1 && b.length === 1) return fmt(a[0].c) === fmt(b[0].c) && monoKey(a[0]) === monoKey(b[0]);
  // A text of n terms holds ' + ' at least n − 1 times; the shorter sum's, exactly that often when
  // none of its terms' texts holds it: then the two texts differ.
  if (a.length !== b.length && !(a.length < b.length ? a : b).some((m) => monoKey(m).includes(' + '))) return false;
  return polyKey(a) === polyKey(b);
}

/** Every atom of p, at any depth. */
export function atomsOf(p: Poly, out: Atom[] = [], depth = 0): Atom[] {
  if (depth > 20) return out;
  // Indexed loops: no iterator per monomial while V8 has not optimized a caller yet (asked for every value read).
  for (let i = 0; i < p.length; i++)
    for (let j = 0; j < p[i].fs.length; j++) {
      const a = p[i].fs[j].atom;
      out.push(a);
      if (a.k === 'fn') a.args.forEach((x) => atomsOf(x, out, depth + 1));
      else if (a.k === 'inv') atomsOf(a.arg, out, depth + 1);
      else if (a.k === 'pow') {
        atomsOf(a.base, out, depth + 1);
        atomsOf(a.exp, out, depth + 1);
      }
    }
  return out;
}

/** Whether the variable `key` is an atom of p at any depth (as atomsOf sees them), without listing them. */
export function mentions(p: Poly, key: string, depth = 0): boolean {
  if (depth > 20) return false;
  for (let i = 0; i < p.length; i++)
    for (let j = 0; j < p[i].fs.length; j++) {
      const a = p[i].fs[j].atom;
      if (a.k === 'sym') {
        if (a.key === key) return true;
      } else if (a.k === 'fn') {
        if (a.args.some((x) => mentions(x, key, depth + 1))) return true;
      } else if (a.k === 'inv') {
        if (mentions(a.arg, key, depth + 1)) return true;
      } else if (a.k === 'pow' && (mentions(a.base, key, depth + 1) || mentions(a.exp, key, depth + 1))) return true;
    }
  return false;
}

/** p with the variable `key` replaced by `value` everywhere. */
export function substitute(p: Poly, key: string, value: Poly, depth = 0): Poly {
  if (depth > 20 || !mentions(p, key)) return p;
  let out: Poly = [];
  for (const m of p) {
    let term: Poly = constant(m.c);
    for (const f of m.fs) {
      let part: Poly;
      const a = f.atom;
      if (a.k === 'sym' && a.key === key) part = power(value, f.n);
      else if (a.k === 'fn') part = power(fn(a.fn, a.args.map((x) => substitute(x, key, value, depth + 1))), f.n);
      else if (a.k === 'inv') part = power(inverse(substitute(a.arg, key, value, depth + 1)) ?? atomPoly(a), f.n);
      else if (a.k === 'pow') part = power(pow(substitute(a.base, key, value, depth + 1), substitute(a.exp, key, value, depth + 1)), f.n);
      else part = [{ c: 1, fs: [f] }];
      term = mul(term, part);
    }
    out = add(out, term);
  }
  return out;
}

/** `l op r` for the binary operators a step's arithmetic writes; undefined for any other operator, or a division the normal form cannot write. */
export function applyBinary(op: string, l: Poly, r: Poly): Poly | undefined {
  switch (op) {
    case '+':
      return add(l, r);
    case '-':
      return sub(l, r);
    case '*':
      return mul(l, r);
    case '/':
      return div(l, r);
    case '**':
      return pow(l, r);
    default:
      return undefined;
  }
}
