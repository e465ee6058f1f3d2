// A hand-written dropout whose training and inference outputs differ in expectation (NB209).
//
// Dropout keeps each unit with a probability q. Its two conventions agree on what the next layer
// sees on average: inverted dropout scales the kept units by 1/q in training and is the identity at
// inference; classic dropout keeps them unscaled in training and multiplies by q at inference. Either
// way E[training output] = q·s_train·x equals s_infer·x. A layer that keeps them unscaled and also
// passes x unscaled at inference (the next layer sees 1/q times more than it was trained on), or
// that scales by the drop probability p instead of q = 1 − p at inference, breaks that contract.
//
// Read by data flow in one function (or function expression): an `if` on a flag (a parameter or a
// field of the instance, its negation, or its comparison with a literal: `if (training)`,
// `if not train`, `if mode == 'train'`) splits it into two paths, one of which draws the mask (a
// uniform draw compared with a probability, or a Bernoulli draw: catalogue.ts) and the other draws
// nothing. Each path is run on abstract values: a scalar c·p^a·(1 − p)^b in the mask's probability p
// (a number when p is one), or such a scalar times the data (whatever is not p, a number or a value
// the function computed). A mask's indicator counts as its expectation (the draw is independent of
// the data); a selection by it (`mask ? 0 : x`, `if (rand < p) out[i] = 0 else out[i] = x`,
// `np.where(mask, x, 0)`) as the mix of its two sides. What the paths return, or else the places the
// training path writes from the mask (`out[i] = …`, `t.set(i, 0)` in a callback), are compared.
// Anything else (a product of two data values, a sum, an unknown call) is unknown, and unknown is
// silent. So is a layer whose mask is also drawn at inference (MC dropout), one with no flag (only
// training), and an identity inference when the probability scales something outside the function
// (classic dropout applied to the next layer's weights, say).
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex, startsInFile, walkAll } from './program';
import { isSelfName } from './resolve';
import { baseExpr, exprKey } from './keys';
import { arithmeticCall, bernoulliProbability, comparisonCall, frameworkPath, isElementMapMethod, isMathObject, literalFlag, mayNameDropoutApi, isElementStoreMethod, isMultiplyCall, isUnitUniformDraw, isWhereCall, valueKeptBy } from './catalogue';
import { ifChainAt, forEachChild, type Scope } from './scope';
import { masksIndices } from './dropoutIndices';

/** c · p^a · (1 − p)^b. */
interface Mono {
  c: number;
  a: number;
  b: number;
}

/** `lin`: m times the data; `const`: the scalar m (`ind`: an indicator whose expectation is m); `draw`: a uniform draw in [0, 1). */
type Val = { k: 'lin' | 'const' | 'draw'; m: Mono; masked: boolean; ind?: boolean } | undefined;

export interface DropoutScaleMismatch {
  /** Where the mask is drawn (the comparison or the Bernoulli draw). */
  mask: Span;
  /** The probability as written where the mask is drawn. */
  probability: string;
  /** The probability's key (`this.dropProb`) or its number. */
  variable: string;
  /** The flag's test that splits training from inference. */
  flag: Span;
  /** The expected factor of the data in training and at inference. */
  train: Mono;
  infer: Mono;
  /** The training value's expression (the store or return that applies the mask). */
  trainAt: Expr;
  /** The inference value's expression, when the inference path writes one. */
  inferAt?: Expr;
  /** The factor of the inference expression to replace (`this.dropProb` in `input[j] * this.dropProb`). */
  inferFactor?: Expr;
  /** The product `x * factor` that holds it, when the factor is one of its operands. */
  inferProduct?: Expr & { kind: 'binary' };
  /** The statement that writes the inference expression (`out = h * (1 - p)`), for the corrected line. */
  inferStatement?: Span;
  /** Where to report. */
  span: Span;
}

const cache = new WeakMap<Facts, DropoutScaleMismatch[]>();

export function dropoutScaleMismatches(facts: Facts): DropoutScaleMismatch[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

/** A function-like body with its parameters and scope. */
interface Body {
  stmts: Stmt[];
  params: Param[];
  scope: Scope;
  span: Span;
}

function collect(facts: Facts): DropoutScaleMismatch[] {
  const index = programIndex(facts);
  const bodies = new Map<Scope, Body>();
  // The function bodies (and function expressions) around a draw, innermost first, at most three.
  for (const site of index.calls) {
    const call = site.call;
    if (!startsInFile(facts, call.span)) continue;
    if (!isUnitUniformDraw(call) && !bernoulliProbability(call)) continue;
    let depth = 0;
    for (let s: Scope | undefined = site.scope; s && depth < 3; s = s.parent) {
      if (s.kind === 'class' || s.kind === 'module') break;
      if (bodies.has(s)) break;
      if (s.kind === 'function') {
        const fn = index.functionOfScope(s);
        if (fn) bodies.set(s, { stmts: fn.body, params: fn.params, scope: s, span: fn.span });
        depth++;
      } else if (s.kind === 'lambda') {
        const l = index.lambdas.get(s);
        if (l && l.lambda.stmts.length > 0) bodies.set(s, { stmts: l.lambda.stmts, params: l.lambda.params, scope: s, span: l.lambda.span });
        depth++;
      }
    }
  }
  const out: DropoutScaleMismatch[] = [];
  const seen = new Set<number>();
  for (const body of bodies.values()) {
    const found = readBody(facts, body);
    if (found && !seen.has(found.mask.start)) {
      seen.add(found.mask.start);
      out.push(found);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Monomials

const ONE: Mono = { c: 1, a: 0, b: 0 };
const mul = (x: Mono, y: Mono): Mono => ({ c: x.c * y.c, a: x.a + y.a, b: x.b + y.b });
const div = (x: Mono, y: Mono): Mono | undefined => (y.c === 0 ? undefined : { c: x.c / y.c, a: x.a - y.a, b: x.b - y.b });
export const sameMono = (x: Mono, y: Mono): boolean => Math.abs(x.c - y.c) < 1e-9 * Math.max(1, Math.abs(x.c)) && x.a === y.a && x.b === y.b;
/** 1 − x, when it is a monomial again. */
function complement(x: Mono): Mono | undefined {
  if (x.a === 0 && x.b === 0) return { c: 1 - x.c, a: 0, b: 0 };
  if (x.c === 1 && x.a === 1 && x.b === 0) return { c: 1, a: 0, b: 1 };
  if (x.c === 1 && x.a === 0 && x.b === 1) return { c: 1, a: 1, b: 0 };
  return undefined;
}

/** The factor in the probability's own words: `1 - this.p`, `this.p`, `1 / (1 - p)`, `0.8`. */
export function monoText(m: Mono, p: string): string {
  const num = Math.round(m.c * 1e6) / 1e6;
  const factors: string[] = [];
  const den: string[] = [];
  const put = (list: string[], text: string, n: number): void => {
    for (let i = 0; i < n; i++) list.push(text);
  };
  put(m.a >= 0 ? factors : den, p, Math.abs(m.a));
  put(m.b >= 0 ? factors : den, `(1 - ${p})`, Math.abs(m.b));
  if (num !== 1 || factors.length === 0) factors.unshift(String(num));
  const top = factors.length === 1 ? factors[0].replace(/^\((.*)\)$/, '$1') : factors.join(' * ');
  if (den.length === 0) return top;
  return `${factors.length === 1 ? factors[0] : `(${top})`} / ${den.length === 1 ? den[0] : `(${den.join(' * ')})`}`;
}

// ---------------------------------------------------------------------------------------------
// The reader of one body

interface Entry {
  v: Val;
  /** The value expression written last (for the report). */
  at?: Expr;
}

type Env = Map<string, Entry>;

interface PathResult {
  env: Env;
  returned?: Entry;
  /** The path ended in a way this reader does not follow (a return inside a branch it merges). */
  lost?: boolean;
}

function isDraw(e: Expr): boolean {
  return e.kind === 'call' && (isUnitUniformDraw(e) || bernoulliProbability(e) !== undefined);
}

function containsDraw(stmts: Stmt[]): boolean {
  let found = false;
  walkAll(stmts, (e) => {
    if (!found && isDraw(e)) found = true;
  });
  return found;
}

/**
 * `draw < p` and the like: the probability side and whether the comparison is true with probability p
 * (else 1 − p). `isDrawn` says whether an operand holds a uniform draw (a draw call, or a name the
 * caller knows was given one: `D = np.random.rand(*A.shape)`, then `D = D < keep_prob`).
 */
export function drawComparison(e: Expr, isModule: (x: Expr) => boolean, isDrawn: (x: Expr) => boolean = (x) => x.kind === 'call' && isUnitUniformDraw(x)): { p: Expr; below: boolean } | undefined {
  let op: string;
  let l: Expr;
  let r: Expr;
  if (e.kind === 'other' && e.children.length === 2 && e.ops?.length === 1) {
    op = e.ops[0];
    [l, r] = e.children;
  } else if (e.kind === 'call') {
    const c = comparisonCall(e, isModule);
    if (!c) return undefined;
    ({ op, left: l, right: r } = c);
  } else return undefined;
  const lt = op === '<' || op === '<=';
  const gt = op === '>' || op === '>=';
  if (!lt && !gt) return undefined;
  if (isDrawn(l)) return { p: r, below: lt };
  if (isDrawn(r)) return { p: l, below: gt };
  return undefined;
}

/** Keys given a uniform draw in `stmts` (`D = np.random.rand(n, m)`), nested blocks included. */
function drawnKeys(stmts: Stmt[], out = new Set<string>()): Set<string> {
  for (const s of stmts) {
    if (s.kind === 'assign' && !s.op && s.value.kind === 'call' && isUnitUniformDraw(s.value)) {
      for (const t of s.targets) {
        const k = exprKey(t);
        if (k !== undefined) out.add(k);
      }
    } else if (s.kind === 'block' || s.kind === 'for') drawnKeys(s.body, out);
  }
  return out;
}

/** Whether an operand in `stmts` holds a uniform draw: a draw call, or a name given one there (`D = np.random.rand(n, m)`). */
export function drawnIn(stmts: Stmt[]): (x: Expr) => boolean {
  const keys = drawnKeys(stmts);
  return (x) => (x.kind === 'call' && isUnitUniformDraw(x)) || (keys.size > 0 && (x.kind === 'name' || x.kind === 'attr') && keys.has(exprKey(x) ?? ''));
}

/** The first mask drawn in `stmts` (a comparison with a uniform draw or a Bernoulli draw), in source order. */
function firstMask(stmts: Stmt[], isModule: (x: Expr) => boolean): { p: Expr; at: Span } | undefined {
  let found: { p: Expr; at: Span } | undefined;
  const isDrawn = drawnIn(stmts);
  walkAll(stmts, (e) => {
    if (found) return;
    const c = drawComparison(e, isModule, isDrawn);
    if (c) found = { p: c.p, at: e.span };
    else if (e.kind === 'call') {
      const p = bernoulliProbability(e);
      if (p) found = { p, at: e.span };
    }
  });
  return found;
}

/**
 * A flag that selects the mode: a parameter, an instance field or an entry of a parameter
 * (`dropout_param['mode']`, `opts.training`), or a local bound once from one (`mode = param['mode']`);
 * its negation; its comparison with a literal.
 */
function isFlagTest(test: Expr, body: Body): boolean {
  const isParam = (name: string): boolean => body.params.some((p) => p.name === name);
  const root = (e: Expr): Expr => (e.kind === 'attr' || e.kind === 'index' ? root(e.object) : e);
  const fromParam = (e: Expr): boolean => {
    const r = root(e);
    return r !== e && r.kind === 'name' && (isParam(r.name) || isSelfName(r.name));
  };
  const isFlag = (e: Expr): boolean => {
    if (e.kind === 'name') {
      if (isParam(e.name)) return true;
      const b = body.scope.lookup(e.name, e.span.start);
      if (b?.kind !== 'assign' || b.op || b.scope !== body.scope || (b.scope.bindings.get(e.name) ?? []).length !== 1) return false;
      const v = b.unpacked ? b.unpacked.value : b.value;
      if (!v) return false;
      if (v.kind === 'seq') return v.items.some(fromParam);
      return fromParam(v) || (v.kind === 'name' && isParam(v.name));
    }
    return fromParam(e);
  };
  if (isFlag(test)) return true;
  if (test.kind === 'unary' && test.op === 'not') return isFlag(test.arg);
  if (test.kind === 'other' && test.children.length === 2 && test.ops?.length === 1 && ['==', '!=', 'is', 'is not'].includes(test.ops[0])) {
    const [l, r] = test.children;
    const literal = (e: Expr): boolean => e.kind === 'str' || literalFlag(e) !== undefined;
    return (isFlag(l) && literal(r)) || (isFlag(r) && literal(l));
  }
  return false;
}

function endsInReturn(stmts: Stmt[]): boolean {
  const last = stmts[stmts.length - 1];
  return last?.kind === 'return';
}

function readBody(facts: Facts, body: Body): DropoutScaleMismatch | undefined {
  const r = readList(facts, body, body.stmts, [], 0);
  return r === NO_SPLIT ? undefined : r;
}

/** No `if` on a mode flag splits this statement list (the caller goes on looking). */
const NO_SPLIT = Symbol('no split');

/** The keys a test reads (`train`, `self.p`), to tell a guard on the rate from one on the mode. */
function readKeys(e: Expr): Set<string> {
  const out = new Set<string>();
  const visit = (x: Expr): void => {
    if (x.kind === 'name' || x.kind === 'attr') {
      const k = exprKey(x);
      if (k !== undefined) {
        out.add(k);
        return;
      }
    }
    forEachChild(x, visit);
  };
  visit(e);
  return out;
}

/**
 * The statements before the split that both modes run, without the guards that return early on a
 * test of something other than the mode (`if not 0 < self.p < 1: return x`): the split is read on the
 * path where the guard lets it through.
 */
function prefixWithoutGuards(prefix: Stmt[], flagKeys: Set<string>): Stmt[] {
  const out: Stmt[] = [];
  for (let i = 0; i < prefix.length; i++) {
    const s = prefix[i];
    if (s.kind === 'block' && s.label === 'if' && s.heads.length === 1) {
      const chain = ifChainAt(prefix, i);
      if (chain.length === 1 && endsInReturn(s.body) && !containsDraw(s.body) && ![...readKeys(s.heads[0])].some((k) => flagKeys.has(k))) continue;
    }
    out.push(s);
  }
  return out;
}

/**
 * The first split on a mode flag in `stmts` (the function's body, or at most two levels down the body of
 * an `if` on something else that holds a draw: `if 0 < self.p < 1: if train: … else: …`), with the
 * statements both modes run before it (`outer`, then this list's own).
 */
function readList(facts: Facts, body: Body, stmts: Stmt[], outer: Stmt[], depth: number): DropoutScaleMismatch | undefined | typeof NO_SPLIT {
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (s.kind !== 'block' || s.label !== 'if' || s.heads.length !== 1) continue;
    const chain = ifChainAt(stmts, i);
    if (chain.length > 2) continue;
    const test = s.heads[0];
    if (!isFlagTest(test, body)) {
      // A split nested in a guard on something else (the rate's range, a shape).
      if (depth >= 2 || !chain.some((b) => containsDraw(b.body))) continue;
      if (chain[1] && chain[1].heads.length > 0) continue;
      for (const b of chain) {
        if (!containsDraw(b.body)) continue;
        const r = readList(facts, body, b.body, [...outer, ...stmts.slice(0, i)], depth + 1);
        if (r !== NO_SPLIT) return r;
      }
      continue;
    }
    const second = chain[1];
    if (second && second.heads.length === 1 && !isFlagTest(second.heads[0], body)) continue;
    const rest = stmts.slice(i + chain.length);
    const pathA = endsInReturn(s.body) ? s.body : [...s.body, ...rest];
    const elseBody = second ? second.body : [];
    const pathB = endsInReturn(elseBody) ? elseBody : [...elseBody, ...rest];
    const drawA = containsDraw(pathA);
    const drawB = containsDraw(pathB);
    if (drawA === drawB) {
      if (drawA) return undefined;
      continue;
    }
    // Nested in a guard, both paths must end here: what follows the guard is not read.
    if (depth > 0 && !(endsInReturn(pathA) && endsInReturn(pathB))) return undefined;
    const train = drawA ? pathA : pathB;
    const infer = drawA ? pathB : pathA;
    const mask = firstMask(train, (x) => facts.analyzer.isModule(x));
    if (!mask) return undefined;
    const variable = probabilityVariable(facts, body, mask.p, 0);
    if (!variable) return undefined;
    const reader = new Reader(facts, body, variable);
    const before = reader.walk(prefixWithoutGuards([...outer, ...stmts.slice(0, i)], readKeys(test)), new Map());
    if (before.returned || before.lost) return undefined;
    const t = reader.walk(train, new Map(before.env));
    const n = reader.walk(infer, new Map(before.env));
    if (t.lost || n.lost) return undefined;
    let tv: Entry | undefined;
    let nv: Entry | undefined;
    // Both paths end in the same `return out` after the split: compare what each wrote to `out`, or
    // else to the first place the training path wrote from the mask (`output.w[i]` before `return output`).
    const sharedReturn = t.returned && n.returned && t.returned.at !== undefined && t.returned.at === n.returned.at;
    if (t.returned && n.returned && !sharedReturn) {
      tv = t.returned;
      nv = n.returned;
    } else if (sharedReturn || (!t.returned && !n.returned)) {
      const returnedKey = sharedReturn && t.returned?.at ? baseKey(t.returned.at) : undefined;
      const tr = returnedKey !== undefined ? t.env.get(returnedKey) : undefined;
      if (returnedKey !== undefined && tr?.v?.k === 'lin' && tr.v.masked) {
        tv = tr;
        nv = n.env.get(returnedKey);
      } else
        for (const [key, e] of t.env) {
          if (e.v?.k !== 'lin' || !e.v.masked) continue;
          tv = e;
          nv = n.env.get(key);
          break;
        }
    }
    if (!tv?.v || !nv?.v || tv.v.k !== 'lin' || !tv.v.masked || nv.v.k !== 'lin' || nv.v.masked) return undefined;
    if (!tv.v.m || sameMono(tv.v.m, nv.v.m)) return undefined;
    // A probability that scales something outside this function (the next layer's weights at test
    // time): the identity here may be classic dropout applied elsewhere.
    if (sameMono(nv.v.m, ONE) && scaledElsewhere(facts, body, variable)) return undefined;
    const inferAt = nv.at && nv.at.span.start >= body.span.start && nv.at.span.end <= body.span.end ? nv.at : undefined;
    const factor = inferAt ? factorOf(inferAt, variable) : undefined;
    const trainAt = tv.at;
    if (!trainAt) return undefined;
    // Word dropout: ids, not activations, are masked; nothing is owed at inference.
    if (masksIndices(facts, body, trainAt, variable.key)) return undefined;
    return {
      mask: mask.at,
      probability: facts.source(mask.p.span),
      variable: variable.key ?? String(variable.value),
      flag: test.span,
      train: tv.v.m,
      infer: nv.v.m,
      trainAt,
      inferAt,
      inferFactor: factor?.factor,
      inferProduct: factor?.product,
      inferStatement: factor && inferAt ? statementAround(body.stmts, inferAt.span) : undefined,
      span: inferAt && !sameMono(nv.v.m, ONE) ? inferAt.span : trainAt.span,
    };
  }
  return NO_SPLIT;
}

/** The innermost simple statement (an assignment, a call, a return) of `stmts` that holds `at`. */
function statementAround(stmts: Stmt[], at: Span): Span | undefined {
  for (const s of stmts) {
    if (s.span.start > at.start || s.span.end < at.end) continue;
    if (s.kind === 'assign' || s.kind === 'expr' || s.kind === 'return') return s.span;
    // An `if`'s span may hold its `else` (a block of its own that follows it).
    const inner = s.kind === 'block' || s.kind === 'for' ? statementAround(s.body, at) : undefined;
    if (inner) return inner;
  }
  return undefined;
}

/** The mask's probability variable: a key (`this.p`) or a number, through the function's own `keep = 1 - p`. */
interface Variable {
  key?: string;
  value?: number;
}

function probabilityVariable(facts: Facts, body: Body, p: Expr, depth: number): Variable | undefined {
  if (depth > 3) return undefined;
  if (p.kind === 'num') return { value: p.value };
  if (p.kind === 'binary' && p.op === '-' && p.left.kind === 'num' && p.left.value === 1) return probabilityVariable(facts, body, p.right, depth + 1);
  if (p.kind === 'name') {
    const b = body.scope.lookup(p.name, p.span.start);
    if (b?.kind === 'assign' && !b.op && b.value) {
      const all = b.scope.bindings.get(p.name) ?? [];
      if (all.length !== 1) return undefined;
      if (b.value.kind === 'num') return { value: b.value.value };
      const v = b.value;
      const formula = v.kind === 'name' || v.kind === 'attr' || (v.kind === 'binary' && v.op === '-' && v.left.kind === 'num' && v.left.value === 1);
      if (b.scope === body.scope && !b.unpacked && formula) return probabilityVariable(facts, body, v, depth + 1);
    }
  }
  const key = p.kind === 'name' || p.kind === 'attr' ? exprKey(p) : undefined;
  return key !== undefined ? { key } : undefined;
}

/** `x * p` (or `x * (1 - p)`) anywhere in the file outside the function: the probability scales something else. */
function scaledElsewhere(facts: Facts, body: Body, v: Variable): boolean {
  if (v.key === undefined) return false;
  const spans = scaledKeys(facts).get(v.key);
  return spans !== undefined && spans.some((s) => s.start < body.span.start || s.end > body.span.end);
}

const scaledCache = new WeakMap<Facts, Map<string, Span[]>>();

/**
 * The keys that scale something in the file (an operand of `*` or `/`, or of `np.multiply`, as itself or
 * as `1 - key`), each with the spans of those products: one walk per file, read for every candidate body.
 */
function scaledKeys(facts: Facts): Map<string, Span[]> {
  const cached = scaledCache.get(facts);
  if (cached) return cached;
  const out = new Map<string, Span[]>();
  scaledCache.set(facts, out);
  const add = (x: Expr, at: Span): void => {
    const key = exprKey(x) ?? (x.kind === 'binary' && x.op === '-' && x.left.kind === 'num' && x.left.value === 1 ? exprKey(x.right) : undefined);
    if (key === undefined) return;
    const spans = out.get(key);
    if (spans) spans.push(at);
    else out.set(key, [at]);
  };
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  walkAll(facts.module.body, (e) => {
    if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) {
      add(e.left, e.span);
      add(e.right, e.span);
    } else if (e.kind === 'call' && isMultiplyCall(e, isModule)) for (const a of e.args) add(a, e.span);
  });
  return out;
}

/**
 * The operand of a product that holds the probability (`this.dropProb` in `input[j] * this.dropProb`),
 * with that product when the factor is one of its two operands (to drop the factor when the right scale is 1).
 */
function factorOf(e: Expr, v: Variable): { factor: Expr; product?: Expr & { kind: 'binary' } } | undefined {
  // `V2.w[i] *= this.drop_prob`: the value is the factor.
  if (v.key !== undefined && (exprKey(e) === v.key || (e.kind === 'binary' && e.op === '-' && e.left.kind === 'num' && exprKey(e.right) === v.key))) return { factor: e };
  let found: { factor: Expr; product?: Expr & { kind: 'binary' } } | undefined;
  const unwrap = (x: Expr): Expr => (x.kind === 'other' && x.children.length === 1 && !x.ops?.length ? unwrap(x.children[0]) : x);
  const visit = (x: Expr): void => {
    if (found) return;
    if (x.kind === 'binary' && x.op === '*') {
      for (const side of [x.left, x.right]) {
        const inner = unwrap(side);
        if (v.key !== undefined && (exprKey(inner) === v.key || (inner.kind === 'binary' && inner.op === '-' && exprKey(inner.right) === v.key))) {
          found = { factor: inner, product: x };
          return;
        }
        if (v.value !== undefined && inner.kind === 'num') {
          found = { factor: inner, product: x };
          return;
        }
      }
    }
    forEachChild(x, visit);
  };
  visit(e);
  return found;
}

class Reader {
  /** A module (`np`, `tf`) rather than a value with methods: the analyzer's test. */
  private readonly isModule: (x: Expr) => boolean;

  constructor(private readonly facts: Facts, private readonly body: Body, private readonly v: Variable) {
    this.isModule = (x) => facts.analyzer.isModule(x);
  }

  private steps = 0;

  walk(stmts: Stmt[], env: Env): PathResult {
    for (let i = 0; i < stmts.length; i++) {
      if (++this.steps > 2000) return { env, lost: true };
      const s = stmts[i];
      switch (s.kind) {
        case 'assign': {
          const value = s.op ? this.binary(s.op, this.eval(s.targets[0], env), this.eval(s.value, env)) : this.eval(s.value, env);
          for (const t of s.targets) {
            const key = baseKey(t);
            if (key !== undefined) env.set(key, { v: value, at: s.value });
            else if (t.kind === 'seq') for (const item of t.items) {
              const k = baseKey(item);
              if (k !== undefined) env.set(k, { v: undefined });
            }
          }
          break;
        }
        case 'expr':
          if (!this.statementCall(s.expr, env)) return { env, lost: true };
          break;
        case 'return': {
          if (!s.value) return { env, returned: { v: undefined } };
          const v = this.eval(s.value, env);
          // `return this.out`: the store that gave it its value is where the output is written.
          const key = s.value.kind === 'name' || s.value.kind === 'attr' ? exprKey(s.value) : undefined;
          const stored = key !== undefined ? env.get(key) : undefined;
          return { env, returned: { v, at: stored && stored.v === v && stored.at ? stored.at : s.value } };
        }
        case 'for': {
          const key = baseKey(s.target);
          if (key !== undefined) env.set(key, { v: undefined });
          const r = this.walk(s.body, env);
          if (r.returned || r.lost) return { env, lost: true };
          break;
        }
        case 'block': {
          if (s.label === 'if') {
            const chain = ifChainAt(stmts, i);
            i += chain.length - 1;
            const r = this.branches(chain, env);
            if (r.lost) return r;
            break;
          }
          for (const h of s.heads) if (!this.statementCall(h, env)) return { env, lost: true };
          const r = this.walk(s.body, env);
          if (r.returned || r.lost) return r.returned ? r : { env, lost: true };
          break;
        }
        default:
          break;
      }
    }
    return { env };
  }

  /** An `if` chain: a mask's selection mixes its two sides; any other test keeps what both sides agree on. */
  private branches(chain: (Stmt & { kind: 'block' })[], env: Env): PathResult {
    const second = chain[1];
    if (chain.length > 2 || (second && second.heads.length > 0)) {
      // elif chains: unknown for whatever any branch writes.
      for (const b of chain) {
        const r = this.walk(b.body, new Map(env));
        if (r.returned || r.lost) return { env, lost: true };
        for (const k of r.env.keys()) if (r.env.get(k) !== env.get(k)) env.set(k, { v: undefined });
      }
      return { env };
    }
    const test = this.eval(chain[0].heads[0], env);
    const a = this.walk(chain[0].body, new Map(env));
    const b = second ? this.walk(second.body, new Map(env)) : { env: new Map(env) };
    if (a.returned || a.lost || b.returned || (b as PathResult).lost) return { env, lost: true };
    const keys = new Set([...a.env.keys(), ...b.env.keys()]);
    for (const k of keys) {
      const x = a.env.get(k) ?? known(env, k);
      const y = b.env.get(k) ?? known(env, k);
      if (x === y) continue;
      if (test?.k === 'const' && test.ind) {
        const v = mix(test.m, x?.v, y?.v);
        env.set(k, { v, at: pickAt(x, y, chain[0].span) });
      } else {
        env.set(k, x?.v && y?.v && x.v.k === y.v.k && x.v.masked === y.v.masked && sameMono(x.v.m, y.v.m) ? { v: x.v, at: x.at } : { v: undefined });
      }
    }
    return { env };
  }

  /**
   * A call as a statement: an element store (`t.set(i, 0)`), callbacks run in place (`t.iterate((i) => …)`).
   * False when a callback holds what this reader does not follow.
   */
  private statementCall(e: Expr, env: Env): boolean {
    if (e.kind !== 'call') return true;
    if (arithmeticCall(e, this.isModule)?.inPlace) {
      this.eval(e, env);
      return true;
    }
    if (e.callee.kind === 'attr' && isElementStoreMethod(e.callee.name) && e.args.length >= 2) {
      const key = baseKey(e.callee.object);
      if (key !== undefined) env.set(key, { v: this.eval(e.args[e.args.length - 1], env), at: e });
      return true;
    }
    for (const a of e.args) {
      if (a.kind !== 'lambda') continue;
      for (const p of a.params) env.set(p.name, { v: lin(ONE, false) });
      // A callback's `return` ends only the callback.
      if (this.walk(a.stmts, env).lost) return false;
    }
    return true;
  }

  private variableValue(): Val {
    return { k: 'const', m: this.v.value !== undefined ? { c: this.v.value, a: 0, b: 0 } : { c: 1, a: 1, b: 0 }, masked: false };
  }

  eval(e: Expr, env: Env): Val {
    switch (e.kind) {
      case 'num':
        return { k: 'const', m: { c: e.value, a: 0, b: 0 }, masked: false };
      case 'name':
      case 'attr':
      case 'index': {
        const key = baseKey(e);
        if (key === undefined) {
          // An attribute or element of a computed value (`(<Layer>input).activation`, `(x * m).T`).
          const of = this.eval(e.kind === 'name' ? e : e.object, env);
          return of?.k === 'lin' ? of : undefined;
        }
        const own = exprKey(e);
        if (this.v.key !== undefined && (own === this.v.key || key === this.v.key)) return this.variableValue();
        const hit = known(env, key);
        if (hit) return hit.v;
        if (e.kind === 'name') {
          const flag = literalFlag(e);
          if (flag !== undefined) return { k: 'const', m: flag ? ONE : { c: 0, a: 0, b: 0 }, masked: false };
          const b = this.body.scope.lookup(e.name, e.span.start);
          if (b?.kind === 'assign' && !b.op && b.value?.kind === 'num' && (b.scope.bindings.get(e.name) ?? []).length === 1) return { k: 'const', m: { c: b.value.value, a: 0, b: 0 }, masked: false };
        }
        return lin(ONE, false);
      }
      case 'binary':
        if (e.op === '-' && e.left.kind === 'num' && e.left.value === 1) {
          const r = this.eval(e.right, env);
          if (r?.k !== 'const') return undefined;
          const m = complement(r.m);
          return m ? { k: 'const', m, masked: r.masked, ind: r.ind } : undefined;
        }
        return this.binary(e.op, this.eval(e.left, env), this.eval(e.right, env));
      case 'unary': {
        const x = this.eval(e.arg, env);
        if (!x) return undefined;
        if (e.op === '-') return { ...x, m: { ...x.m, c: -x.m.c }, ind: false };
        if (e.op === '+') return x;
        if (e.op === 'not' && x.k === 'const' && x.ind) {
          const m = complement(x.m);
          return m ? { k: 'const', m, masked: true, ind: true } : undefined;
        }
        return undefined;
      }
      case 'cond': {
        const t = this.eval(e.test, env);
        if (t?.k !== 'const' || !t.ind) return undefined;
        return mix(t.m, this.eval(e.then, env), this.eval(e.else, env));
      }
      case 'other': {
        const mask = this.maskOf(e, env);
        if (mask) return mask;
        if (e.children.length === 1 && !e.ops?.length) return this.eval(e.children[0], env);
        return undefined;
      }
      case 'call': {
        if (isUnitUniformDraw(e)) return { k: 'draw', m: ONE, masked: false };
        if (comparisonCall(e, this.isModule)) return this.maskOf(e, env);
        const arith = arithmeticCall(e, this.isModule);
        if (arith) {
          const v = this.binary(arith.op, this.eval(arith.left, env), this.eval(arith.right, env));
          // torch's `x.mul_(mask)`: the receiver holds the product from here on.
          const key = arith.inPlace ? baseKey(arith.left) : undefined;
          if (key !== undefined) env.set(key, { v, at: e });
          return v;
        }
        const p = bernoulliProbability(e);
        if (p) {
          const v = this.eval(p, env);
          return v?.k === 'const' && !v.masked ? { k: 'const', m: v.m, masked: true, ind: true } : undefined;
        }
        const kept = valueKeptBy(e, this.isModule);
        if (kept) return this.eval(kept, env);
        if (isWhereCall(e)) {
          const t = this.eval(e.args[0], env);
          return t?.k === 'const' && t.ind ? mix(t.m, this.eval(e.args[1], env), this.eval(e.args[2], env)) : undefined;
        }
        if (isMultiplyCall(e, this.isModule)) return this.binary('*', this.eval(e.args[0], env), this.eval(e.args[1], env));
        if (e.callee.kind === 'attr' && isElementMapMethod(e.callee.name) && e.args.length >= 1 && e.args[0].kind === 'lambda') {
          const fn = e.args[0];
          const inner: Env = new Map(env);
          fn.params.forEach((p, i) => inner.set(p.name, { v: i === 0 ? this.eval(e.callee.kind === 'attr' ? e.callee.object : e, env) : undefined }));
          if (fn.body) return this.eval(fn.body, inner);
          const r = this.walk(fn.stmts, inner);
          // Stores a callback makes on the object (a cached mask) are the path's too.
          for (const [k, v] of r.env) if (!fn.params.some((p) => p.name === k) && env.get(k) !== v && k.includes('.')) env.set(k, v);
          return r.returned && !r.lost ? r.returned.v : undefined;
        }
        return this.frameworkCall(e, env);
      }
      default:
        return undefined;
    }
  }

  /** A comparison of a uniform draw with a probability: an indicator whose expectation is that probability (or its complement). */
  private maskOf(e: Expr, env: Env): Val {
    const c = drawComparison(e, this.isModule, (x) => (x.kind === 'call' && isUnitUniformDraw(x)) || ((x.kind === 'name' || x.kind === 'attr') && this.eval(x, env)?.k === 'draw'));
    if (!c) return undefined;
    const p = this.eval(c.p, env);
    if (p?.k !== 'const' || p.masked) return undefined;
    const m = c.below ? p.m : complement(p.m);
    return m ? { k: 'const', m, masked: true, ind: true } : undefined;
  }

  /**
   * A framework's function of the data (`np.maximum(0, z)`, `torch.relu(z)`, `Math.max(0, z)`) that no
   * mask reaches: more data. A project function, or a framework dropout, is unknown.
   */
  private frameworkCall(e: Expr & { kind: 'call' }, env: Env): Val {
    const callee = e.callee;
    const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
    if (name === undefined || mayNameDropoutApi(name)) return undefined;
    const builtin = callee.kind === 'attr' && isMathObject(callee.object);
    if (!builtin && !frameworkPath(callee, this.body.scope, e.span.start, this.facts.scopes.imports, this.facts.language === 'python' ? 'python' : 'script')) return undefined;
    for (const a of [...e.args, ...e.kwargs.map((k) => k.value)]) {
      const v = this.eval(a, env);
      if (!v || v.masked || v.k === 'draw') return undefined;
    }
    return lin(ONE, false);
  }

  binary(op: string, x: Val, y: Val): Val {
    if (!x || !y || x.k === 'draw' || y.k === 'draw') return undefined;
    const masked = x.masked || y.masked;
    if (op === '@') return x.k === 'lin' && y.k === 'lin' ? { k: 'lin', m: mul(x.m, y.m), masked } : undefined;
    if (op === '*') {
      if (x.k === 'lin' && y.k === 'lin') return undefined;
      return { k: x.k === 'lin' || y.k === 'lin' ? 'lin' : 'const', m: mul(x.m, y.m), masked };
    }
    if (op === '/') {
      if (y.k === 'lin') return undefined;
      const m = div(x.m, y.m);
      return m ? { k: x.k, m, masked } : undefined;
    }
    if ((op === '+' || op === '-') && x.k === 'const' && y.k === 'const' && x.m.a === 0 && x.m.b === 0 && y.m.a === 0 && y.m.b === 0 && !masked)
      return { k: 'const', m: { c: op === '+' ? x.m.c + y.m.c : x.m.c - y.m.c, a: 0, b: 0 }, masked: false };
    return undefined;
  }
}

function lin(m: Mono, masked: boolean): Val {
  return { k: 'lin', m, masked };
}

/** h·x + (1 − h)·y for an indicator with expectation h. */
function mix(h: Mono, x: Val, y: Val): Val {
  if (!x || !y || x.k === 'draw' || y.k === 'draw') return undefined;
  const zero = (v: NonNullable<Val>): boolean => v.m.c === 0;
  if (zero(x) && zero(y)) return { k: 'const', m: { c: 0, a: 0, b: 0 }, masked: true };
  if (zero(x)) {
    const rest = complement(h);
    return rest ? { k: y.k, m: mul(rest, y.m), masked: true } : undefined;
  }
  if (zero(y)) return { k: x.k, m: mul(h, x.m), masked: true };
  if (x.k === y.k && sameMono(x.m, y.m)) return { k: x.k, m: x.m, masked: true };
  return undefined;
}

function pickAt(x: Entry | undefined, y: Entry | undefined, chain: Span): Expr | undefined {
  // The side that keeps the data is the one to show, when the selection writes it; else the store of 0.
  const inside = (e: Entry | undefined): Expr | undefined => (e?.at && e.at.span.start >= chain.start && e.at.span.end <= chain.end ? e.at : undefined);
  if (x?.v?.k === 'lin' && inside(x)) return x.at;
  if (y?.v?.k === 'lin' && inside(y)) return y.at;
  return inside(x) ?? inside(y);
}

/**
 * What `env` knows of a place: its own entry, or the data it is a field of (`V2.w` of `V2 = V.clone()`:
 * a field of data is data at the same scale).
 */
function known(env: Env, key: string): Entry | undefined {
  const own = env.get(key);
  if (own) return own;
  for (let k = key, dot = k.lastIndexOf('.'); dot > 0; k = k.slice(0, dot), dot = k.lastIndexOf('.')) {
    const up = env.get(k.slice(0, dot));
    if (up) return up.v?.k === 'lin' ? up : undefined;
  }
  return undefined;
}

/**
 * The place a store writes or a read reads, without its element index: `out` for `out[i]`, `this.mask`
 * for `this.mask[i]`; a string-keyed entry is its own place (`cache['out']` is not `cache['mask']`).
 */
function baseKey(e: Expr): string | undefined {
  return exprKey(baseExpr(e));
}
