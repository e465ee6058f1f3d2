// An L2 penalty written as the sum of every entry of a Gram matrix: `np.sum(W.T @ W)`,
// `np.sum(np.dot(W.T, W))`, `(W.T @ W).sum()` (or `W @ W.T`). The analyzer reads `W.T @ W` as ΣW², which
// it is for a vector or a column; for a matrix with several columns the entries of WᵀW are the dot
// products of every pair of columns, and their sum is Σᵢ(Σⱼ Wᵢⱼ)², the squared row sums (for WWᵀ, the
// squared column sums). ΣW² is its trace. Reported when, by data flow:
//  - the sum is a penalty: a summand of a value the file computes (directly or through the variable it is
//    accumulated in) that the analyzer reads as c·ΣW², c a symbol;
//  - the same weight has a hand-written L2 gradient c·W sharing a symbol of that coefficient (the gradient
//    of c/2·ΣW², not of the Gram sum, whose gradient is 2c·W·11ᵀ);
//  - the weight has several columns (rows for WWᵀ): built in sight with such a shape (`np.random.randn(D, C)`,
//    through names, `self.x` and lists), or, built nowhere in sight, an entry a loop picks from a collection
//    of weights (one layer of several) with an L2 gradient written for that collection's entries, none for the
//    whole collection (`lam * W` makes W an array, whose `W[i]` is a row). A weight built as a vector or a
//    column (`np.zeros((n, 1))`) is left alone.
// The trace `np.trace(W.T @ W)`, `np.sum(np.diag(...))`, `np.sum(W * W)` and a Gram regularizer on purpose
// (‖WᵀW − I‖², whose sum is not of the bare product) are other expressions and never read here.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import type { Facts } from './index';
import { forEachChild, loopIterable, type Scope } from './scope';
import { programIndex } from './program';
import { baseExpr, exprKey } from './keys';
import { numberOf, penaltyOfProduct } from './analysis';
import { REDUCTION_KEYWORDS, SUM_FUNCTIONS, builtArray, builtArrayShape, frameworkPath, iteratingSum, loopSource } from './catalogue';
import { paramIds, regGradientTerms, type RegGradientTerm } from './gradients';
import { statementAround } from './unreducedPenalties';

export interface GramPenalty {
  /** The full sum as written: `np.sum(W.T @ W)`. */
  span: Span;
  /** The weight as written (the side not transposed). */
  weight: Expr;
  /** WᵀW (its sum is the squared row sums) or WWᵀ (the squared column sums). */
  form: 'gram' | 'outer';
  /** The summand that applies the strength, and its coefficient c of c·ΣW². */
  penalty: { span: Span; coef: Coef };
  /** The hand-written gradient term c·W of the same weight. */
  gradient: RegGradientTerm;
  /** Why the weight has several columns (rows): where it is built, or the loop that picks it from its collection. */
  shape: { span: Span; built: boolean };
}

const MAX_HOPS = 8;
const cache = new WeakMap<Facts, GramPenalty[]>();

export function gramPenalties(facts: Facts): GramPenalty[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

interface GramSum {
  call: Expr & { kind: 'call' };
  product: Expr;
  weight: Expr;
  form: 'gram' | 'outer';
  scope: Scope;
  at: number;
}

function collect(facts: Facts): GramPenalty[] {
  const index = programIndex(facts);
  const sums: GramSum[] = [];
  for (const { call, scope, at } of index.calls) {
    const g = gramSum(facts, call);
    if (g) sums.push({ ...g, call, scope, at });
  }
  if (sums.length === 0) return [];
  const out: GramPenalty[] = [];
  for (const g of sums) {
    const use = penaltyUse(facts, g);
    if (!use) continue;
    const gradients = l2Gradients(facts, use.coef, use.ids);
    if (gradients.length === 0) continue;
    const shape = severalColumns(facts, g, gradients);
    if (!shape) continue;
    out.push({ span: g.call.span, weight: g.weight, form: g.form, penalty: { span: use.span, coef: use.coef }, gradient: gradients[0], shape });
  }
  return out;
}

/** `np.sum(W.T @ W)`, `np.sum(np.dot(W.T, W))`, `(W.T @ W).sum()`, `np.sum(W.T.dot(W))`: a full sum of a Gram product. */
function gramSum(facts: Facts, e: Expr & { kind: 'call' }): { product: Expr; weight: Expr; form: 'gram' | 'outer' } | undefined {
  const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : '';
  if (!SUM_FUNCTIONS.has(name) || iteratingSum(name, e.callee.kind === 'name')) return undefined;
  if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name))) return undefined;
  const method = e.callee.kind === 'attr' && !facts.analyzer.isModule(e.callee.object);
  if (method ? e.args.length > 0 : e.args.length !== 1) return undefined;
  const operand = method ? (e.callee as Expr & { kind: 'attr' }).object : e.args[0];
  const sides = productSides(facts, operand);
  if (!sides) return undefined;
  const [l, r] = sides;
  const lt = transposed(l);
  const rt = transposed(r);
  if (lt && !rt && sameKey(lt, r)) return { product: operand, weight: r, form: 'gram' };
  if (rt && !lt && sameKey(l, rt)) return { product: operand, weight: l, form: 'outer' };
  return undefined;
}

function productSides(facts: Facts, e: Expr): [Expr, Expr] | undefined {
  if (e.kind === 'binary' && e.op === '@') return [e.left, e.right];
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || e.kwargs.length > 0) return undefined;
  const name = e.callee.name;
  if (name !== 'dot' && name !== 'matmul') return undefined;
  if (facts.analyzer.isModule(e.callee.object)) return e.args.length === 2 ? [e.args[0], e.args[1]] : undefined;
  return name === 'dot' && e.args.length === 1 ? [e.callee.object, e.args[0]] : undefined;
}

function transposed(e: Expr): Expr | undefined {
  return e.kind === 'attr' && (e.name === 'T' || e.name === 'mT') ? e.object : undefined;
}

function sameKey(a: Expr, b: Expr): boolean {
  const k = exprKey(a);
  return k !== undefined && k === exprKey(b);
}

function within(inner: Span, outer: Span): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

/**
 * Where the sum is used as c·ΣW² with c a symbol: a summand of the statement that holds it, or, when that
 * statement accumulates it into a variable (`pen += np.sum(W.T @ W)`, `pen = np.sum(...)`), of a
 * statement of the same function that reads the variable (`return ce + lam * pen / 2`).
 */
function penaltyUse(facts: Facts, g: GramSum): { span: Span; coef: Coef; ids: string[] } | undefined {
  const index = programIndex(facts);
  const st = statementAround(facts, g.call.span);
  if (!st) return undefined;
  const candidates: Stmt[] = [st];
  if (st.kind === 'assign' && st.targets.length === 1) {
    const key = exprKey(st.targets[0]);
    const fn = index.enclosingFunction(g.scope);
    if (key !== undefined) walkStatements(fn ? fn.body : facts.module.body, (other) => {
      if (other !== st && candidates.length < 12 && reads(other, key)) candidates.push(other);
    });
  }
  const a = facts.analyzer;
  for (const c of candidates) {
    const value = c.kind === 'assign' ? c.value : c.kind === 'return' ? c.value : c.kind === 'expr' ? c.expr : undefined;
    if (!value) continue;
    const scope = facts.scopes.stmtScopes.get(c) ?? g.scope;
    for (const s of a.summands(value, scope, c.span.start)) {
      const pen = penaltyOfProduct(a.classifySummand(s));
      if (!pen || pen.kind !== 'sumsq') continue;
      const occ = pen.params.find((p) => within(p.expr.span, g.product.span));
      if (!occ || !pen.coef.syms.some((x) => x.pow > 0)) continue;
      return { span: s.site, coef: pen.coef, ids: paramIds(facts, { ...occ, base: baseExpr(g.weight), expr: g.weight }, g.scope) };
    }
  }
  return undefined;
}

/** The hand-written gradient terms c·W of the same weight (or an entry of the same collection) whose coefficient shares a symbol with the penalty's. */
function l2Gradients(facts: Facts, coef: Coef, ids: string[]): RegGradientTerm[] {
  const found: RegGradientTerm[] = [];
  const names = new Set(coef.syms.filter((x) => x.pow > 0).map((x) => lastName(x.name)));
  const withItems = new Set([...ids, ...ids.filter((id) => !id.startsWith('each:')).map((id) => `each:${id}`)]);
  for (const t of regGradientTerms(facts)) {
    if (t.kind !== 'linear' || !t.param || t.foreign || t.preconditioned) continue;
    const tIds = [...t.ids, ...t.ids.filter((id) => !id.startsWith('each:')).map((id) => `each:${id}`)];
    if (!tIds.some((id) => withItems.has(id))) continue;
    // A decay written outside the learning rate (`W -= lr * g + reg * W`) has no gradient coefficient; its step's serves.
    if (!(t.coef ?? t.stepCoef).syms.some((x) => x.pow > 0 && names.has(lastName(x.name)))) continue;
    found.push(t);
  }
  return found;
}

function lastName(name: string): string {
  return name.replace(/^.*\./, '');
}

// ------------------------------------------------------------------ the weight's shape

/** Evidence that the weight has several columns (WᵀW) or rows (WWᵀ); undefined when it is a vector, a column, or nothing says. */
function severalColumns(facts: Facts, g: GramSum, gradients: RegGradientTerm[]): { span: Span; built: boolean } | undefined {
  const built = shapeOf(facts, g.weight, g.scope, g.at, 0);
  if (built) return built.matrix(g.form) ? { span: built.span, built: true } : undefined;
  // Built nowhere in sight: one entry of a collection of weights a loop walks (one layer of several).
  const item = pickedByLoop(facts, g.weight, g.scope, g.at);
  if (!item) return undefined;
  const collection = shapeOfItems(facts, item.collection, item.scope, item.at, 0);
  if (collection) return collection.matrix(g.form) ? { span: collection.span, built: true } : undefined;
  // The gradient scales the whole collection (`lam * W`): an array, not a list of layers, whose entries
  // the loop picks are its rows (`W[i]`, `for w in W`), vectors whose WᵀW is their ΣW².
  if (gradients.some((t) => t.param && sameKey(t.param.expr, item.collection))) return undefined;
  // Nothing shows the entries' shape: the L2 gradient must be written for this collection's entries, not
  // for a weight of another function that only shares the loop variable's name (`self.theta` for `theta`).
  const collectionIds = paramIds(facts, { key: exprKey(item.collection) ?? '', base: item.collection, expr: item.collection }, item.scope);
  const ofCollection = new Set([...collectionIds, ...collectionIds.map((id) => `each:${id}`)]);
  if (!gradients.some((t) => t.ids.some((id) => ofCollection.has(id)))) return undefined;
  return { span: item.span, built: false };
}

interface Shape {
  span: Span;
  matrix(form: 'gram' | 'outer'): boolean;
}

function shapeFromDims(span: Span, dims: Expr[]): Shape {
  return {
    span,
    // A vector's WᵀW and WWᵀ are its ΣW² (NumPy's `.T` of one axis is itself); a column's WᵀW and a row's WWᵀ are 1×1.
    matrix: (form) => dims.length >= 2 && numberOf(form === 'gram' ? dims[dims.length - 1] : dims[dims.length - 2]) !== 1,
  };
}

/** The shape a weight is built with, through names, `self.x` (set once, or stepped in place), arithmetic and wrappers. */
function shapeOf(facts: Facts, e: Expr, scope: Scope, at: number, hops: number): Shape | undefined {
  if (hops > MAX_HOPS) return undefined;
  const bound = boundValue(e, scope, at);
  if (bound) return shapeOf(facts, bound.expr, bound.scope, bound.at, hops + 1);
  if (e.kind === 'binary' && (e.op === '*' || e.op === '/' || e.op === '+' || e.op === '-'))
    return shapeOf(facts, e.left, scope, at, hops + 1) ?? shapeOf(facts, e.right, scope, at, hops + 1);
  if (e.kind === 'unary' && e.op === '-') return shapeOf(facts, e.arg, scope, at, hops + 1);
  if (e.kind !== 'call') return undefined;
  const parsed = facts.program.parsedOf(e.span);
  if (!parsed) return undefined;
  const path = frameworkPath(e.callee, scope, at, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script');
  const dims = builtArrayShape(path, e);
  if (dims) return shapeFromDims(e.span, dims);
  if (builtArray(path, e) === 'wraps' && e.args[0]) return shapeOf(facts, e.args[0], scope, at, hops + 1);
  return undefined;
}

/** The shape of a collection's items when every item is built in sight: a list written out or a comprehension; a matrix when any is one. */
function shapeOfItems(facts: Facts, e: Expr, scope: Scope, at: number, hops: number): Shape | undefined {
  if (hops > MAX_HOPS) return undefined;
  const bound = boundValue(e, scope, at);
  if (bound) return shapeOfItems(facts, bound.expr, bound.scope, bound.at, hops + 1);
  if (e.kind === 'seq' && e.items.length > 0) {
    const shapes = e.items.map((x) => shapeOf(facts, x, scope, at, hops + 1));
    if (shapes.some((s) => !s)) return undefined;
    const all = shapes as Shape[];
    return { span: all[0].span, matrix: (form) => all.some((s) => s.matrix(form)) };
  }
  if (e.kind === 'comprehension' && e.generators.length === 1) return shapeOf(facts, e.element, facts.program.lambdaScope(e) ?? scope, Infinity, hops + 1);
  return undefined;
}

/** The one value a name or `self.x` holds where it is read: a single assignment, or one whose other writes step it in place. */
function boundValue(e: Expr, scope: Scope, at: number): { expr: Expr; scope: Scope; at: number } | undefined {
  if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
  const key = exprKey(e);
  if (!key) return undefined;
  let b = scope.lookup(key, at);
  // `self.W` read in a method: the class's one assignment of it (in `__init__`).
  if ((!b || b.kind !== 'assign') && e.kind === 'attr') {
    const members = classMembers(scope, key);
    const sets = (members ?? []).filter((m) => m.kind === 'assign' && !m.op && m.value && !keepsShape(m.value, key));
    if (sets.length === 1) b = sets[0];
  }
  if (!b || b.kind !== 'assign' || b.op || !b.value || b.unpacked) return undefined;
  const all = e.kind === 'attr' ? (classMembers(scope, key) ?? []) : [];
  for (const other of [...all, ...b.scope.allBindings(key)]) {
    if (other === b || (other.kind === 'assign' && (other.op || (other.value && keepsShape(other.value, key))))) continue;
    return undefined;
  }
  return { expr: b.value, scope: b.scope, at: b.at };
}

function classMembers(scope: Scope, key: string): ReturnType<Scope['allBindings']> | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.classScope) return s.classScope.members.get(key);
  return undefined;
}

/** `W - lr * dW`, `W * mask`: arithmetic on the value itself, which keeps its shape. */
function keepsShape(e: Expr, key: string): boolean {
  if ((e.kind === 'name' || e.kind === 'attr') && exprKey(e) === key) return true;
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/')) return keepsShape(e.left, key) || keepsShape(e.right, key);
  return e.kind === 'unary' && e.op === '-' && keepsShape(e.arg, key);
}

/**
 * The weight is an entry a loop picks from a collection: the loop's element (`for W in weights`), or
 * `X[i]` with `i` walking `range(len(X))`. Its collection, and the loop's iterable for the report.
 */
function pickedByLoop(facts: Facts, e: Expr, scope: Scope, at: number): { collection: Expr; span: Span; scope: Scope; at: number } | undefined {
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    if (!b || b.kind !== 'loop' || !b.loop) return undefined;
    const source = loopSource(loopIterable(b.loop), b.loop.position, (m) => facts.analyzer.isModule(m));
    if (source?.kind !== 'element') return undefined;
    return { collection: source.collection, span: b.loop.iter.span, scope: b.scope, at: b.at };
  }
  if (e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'name') {
    const i = e.index[0].name;
    const b = scope.lookup(i, at);
    const iter = b?.kind === 'loop' ? b.loop?.iter : undefined;
    if (!b || !iter || iter.kind !== 'call' || iter.callee.kind !== 'name' || iter.callee.name !== 'range' || iter.args.length !== 1) return undefined;
    const n = iter.args[0];
    if (n.kind !== 'call' || n.callee.kind !== 'name' || n.callee.name !== 'len' || n.args.length !== 1 || !sameKey(n.args[0], e.object)) return undefined;
    // `W[i]` of one array built in sight is a row, not a layer's weights.
    if (shapeOf(facts, e.object, scope, at, 0)) return undefined;
    return { collection: e.object, span: iter.span, scope: b.scope, at: b.at };
  }
  return undefined;
}

// ------------------------------------------------------------------ statements

function reads(st: Stmt, key: string): boolean {
  const roots = st.kind === 'assign' ? [st.value] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'expr' ? [st.expr] : [];
  let found = false;
  const visit = (e: Expr): void => {
    if (found) return;
    if ((e.kind === 'name' || e.kind === 'attr') && exprKey(e) === key) found = true;
    else forEachChild(e, visit);
  };
  roots.forEach(visit);
  return found;
}

function walkStatements(body: readonly Stmt[], f: (st: Stmt) => void): void {
  for (const st of body) {
    f(st);
    if (st.kind === 'for' || st.kind === 'block') walkStatements(st.body, f);
  }
}
