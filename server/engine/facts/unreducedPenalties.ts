// A penalty that is an array, not a number: Python's builtin `sum` over a list of weight arrays
// (`sum(W ** 2 for W in weights)`), or a loop `total = total + np.abs(W)` from 0, adds the arrays
// elementwise and never reduces them. Each is read where the analyzer found a loss penalty
// (losses.ts): the sum's items are arrays by data flow (built by an array library in sight, through
// names, `self.x`, lists and a call's arguments), the summed term is the item's elementwise square
// or absolute value with no reduction inside, and the sum reaches the loss through arithmetic only
// (no `np.sum(...)`, `.mean()` or any other call on the way).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import { forEachChild, type FunctionDef, type Scope } from './scope';
import { lossFacts, type LossPenalty } from './losses';
import { programIndex, spanKey } from './program';
import { exprKey } from './keys';
import { ABS_FUNCTIONS, POWER_FUNCTIONS, SQUARE_FUNCTIONS, builtArray, frameworkPath, isSequenceCopy, iteratingSum, zeroValue } from './catalogue';
import { numberOf, type Env } from './analysis';

export interface UnreducedPenalty {
  /** The builtin `sum(...)` call, or the loop's accumulating statement. */
  span: Span;
  /** `sum(...)` of a generator or list, or a loop adding to a total. */
  form: 'sum' | 'loop';
  /** The summed term, `W ** 2` or `np.abs(W)`. */
  term: Expr;
  kind: 'sumsq' | 'l1';
  /** The name each item is bound to (`W`). */
  item: string;
  /** Where one of the items is built as an array (`np.random.randn(n, m)`). */
  array: Span;
  penalty: LossPenalty;
}

const MAX_HOPS = 8;
const cache = new WeakMap<Facts, UnreducedPenalty[]>();

export function unreducedPenalties(facts: Facts): UnreducedPenalty[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): UnreducedPenalty[] {
  const out: UnreducedPenalty[] = [];
  const seen = new Set<string>();
  for (const p of lossFacts(facts).penalties) {
    if (p.kind !== 'sumsq' && p.kind !== 'l1') continue;
    const found = unreducedAt(facts, p);
    if (!found || seen.has(spanKey(found.span))) continue;
    seen.add(spanKey(found.span));
    out.push(found);
  }
  return out;
}

/** One place that sums: the items' collection, the term of each, and the node whose value carries the sum. */
interface Summation {
  span: Span;
  term: Expr;
  item: string;
  items: Expr;
  /** Where the items' collection is read. */
  scope: Scope;
  at: number;
  /** The node whose value is the sum: the `sum(...)` call, or the accumulated name. */
  carrier: { call: Expr } | { key: string; stmts: Stmt[] };
}

function unreducedAt(facts: Facts, p: LossPenalty): UnreducedPenalty | undefined {
  const parsed = facts.program.parsedOf(p.param.expr.span);
  if (!parsed) return undefined;
  const where = facts.program.facts(parsed);
  const s = builtinSumAround(where, parsed, p.param.expr.span) ?? loopSumAround(where, parsed, p.param.expr.span);
  if (!s) return undefined;
  // `abs(W)` is the builtin and `np.square(W)` the library's, not a function of the project's that reduces.
  const known = (callee: Expr): boolean =>
    callee.kind === 'name'
      ? !s.scope.lookup(callee.name, Infinity) && !s.scope.lookupFunction(callee.name) && !s.scope.lookupClass(callee.name) && !parsed.scopes.imports.has(callee.name)
      : !!frameworkPath(callee, s.scope, s.at, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script');
  const kind = elementwiseOf(s.term, s.item, known);
  if (!kind || (kind === 'sumsq') !== (p.kind === 'sumsq')) return undefined;
  const index = programIndex(where);
  const fn = index.enclosingFunction(s.scope);
  // The call that hands the items to a helper, when the loss is computed in its caller.
  const hops = fn && p.site.fn !== fn && p.site.penaltyMethod !== fn ? callsInto(facts, p, fn) : [];
  const envs: (Env | undefined)[] = hops.length > 0 ? hops.map((h) => h.env) : [undefined];
  let array: Span | undefined;
  for (const env of envs) array ??= arrayItems(facts, s.items, s.scope, s.at, env, 0);
  if (!array) return undefined;
  const flows = new Flow(facts, p, hops.map((h) => h.call));
  const reaches = 'call' in s.carrier ? flows.reaches(where, s.carrier.call, s.scope, 0) : flows.readsReach(where, s.carrier.key, s.scope, s.carrier.stmts, 0);
  if (!reaches) return undefined;
  return { span: s.span, form: 'call' in s.carrier ? 'sum' : 'loop', term: s.term, kind, item: s.item, array, penalty: p };
}

// ------------------------------------------------------------------ the sum

/** `sum(W ** 2 for W in weights)` (or a list comprehension, or a start of 0) around `inner`. */
function builtinSumAround(facts: Facts, parsed: ParsedFile, inner: Span): Summation | undefined {
  let best: Summation | undefined;
  for (const { call, scope, at } of programIndex(facts).callsNamed('sum')) {
    if (call.callee.kind !== 'name' || !iteratingSum(call.callee.name, true) || call.span.start > inner.start || call.span.end < inner.end) continue;
    // A `sum` the file defines or imports is not the builtin.
    if (scope.lookup('sum', at) || scope.lookupFunction('sum') || parsed.scopes.imports.has('sum')) continue;
    if (call.kwargs.length > 0 || call.args.length === 0 || call.args.length > 2 || (call.args[1] && numberOf(call.args[1]) !== 0)) continue;
    let gen = call.args[0];
    if (gen.kind === 'seq' && gen.items.length === 1 && gen.items[0].kind === 'comprehension') gen = gen.items[0];
    if (gen.kind !== 'comprehension' || gen.generators.length !== 1 || gen.generators[0].target.kind !== 'name') continue;
    if (best && best.span.end - best.span.start <= call.span.end - call.span.start) continue;
    const target = gen.generators[0].target as Expr & { kind: 'name' };
    best = { span: call.span, term: gen.element, item: target.name, items: gen.generators[0].iter, scope, at, carrier: { call } };
  }
  return best;
}

/** `for W in weights: total = total + np.abs(W)` (or `+=`), `total` started at a scalar 0, around `inner`. */
function loopSumAround(facts: Facts, parsed: ParsedFile, inner: Span): Summation | undefined {
  for (const st of programIndex(facts).loopsAround(inner)) {
    if (st.kind !== 'for' || st.target.kind !== 'name') continue;
    for (const add of st.body) {
      if (add.kind !== 'assign' || add.targets.length !== 1 || add.span.start > inner.start || add.span.end < inner.end) continue;
      const key = exprKey(add.targets[0]);
      if (!key) continue;
      const term = addedTerm(add, key);
      if (!term) continue;
      const scope = parsed.scopes.stmtScopes.get(st) ?? parsed.scopes.root;
      // Every other binding of the total is its scalar start, before the loop.
      const others = scope.allBindings(key).filter((b) => b.span.start < add.span.start || b.span.end > add.span.end);
      if (others.length === 0 || !others.every((b) => b.kind === 'assign' && !b.op && b.value && zeroValue(b.value) === 'scalar' && b.span.end <= st.span.start)) continue;
      return { span: add.span, term, item: st.target.name, items: st.iter, scope, at: st.span.start, carrier: { key, stmts: [add] } };
    }
  }
  return undefined;
}

/** The term `t` of `key += t` or `key = key + t`. */
function addedTerm(add: Stmt & { kind: 'assign' }, key: string): Expr | undefined {
  if (add.op === '+') return add.value;
  if (add.op) return undefined;
  const v = add.value;
  if (v.kind !== 'binary' || v.op !== '+') return undefined;
  if (exprKey(v.left) === key) return v.right;
  if (exprKey(v.right) === key) return v.left;
  return undefined;
}

/**
 * `W ** 2`, `W * W`, `np.square(W)`, `W.pow(2)`, `abs(W)`, `np.abs(W)` of the item (or a field of
 * it, `w.data`), times or over factors that do not read it; nothing in it reduces.
 */
function elementwiseOf(e: Expr, item: string, known: (callee: Expr) => boolean): 'sumsq' | 'l1' | undefined {
  const isItem = (x: Expr): boolean => {
    while (x.kind === 'attr') x = x.object;
    return x.kind === 'name' && x.name === item;
  };
  const same = (a: Expr, b: Expr): boolean => isItem(a) && exprKey(a) !== undefined && exprKey(a) === exprKey(b);
  const reads = (x: Expr): boolean => {
    if (x.kind === 'name') return x.name === item;
    let found = false;
    forEachChild(x, (c) => (found ||= reads(c)));
    return found;
  };
  if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) {
    if (e.op === '*' && same(e.left, e.right)) return 'sumsq';
    const [inner, other] = reads(e.left) ? [e.left, e.right] : [e.right, e.left];
    if (reads(other) || (e.op === '/' && inner === e.right)) return undefined;
    return elementwiseOf(inner, item, known);
  }
  if (e.kind === 'binary' && e.op === '**') return isItem(e.left) && numberOf(e.right) === 2 ? 'sumsq' : undefined;
  if (e.kind === 'unary' && e.op === '-') return elementwiseOf(e.arg, item, known);
  if (e.kind !== 'call') return undefined;
  const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
  if (!fn) return undefined;
  const method = e.callee.kind === 'attr' && isItem(e.callee.object);
  const operand = method ? (e.callee as Expr & { kind: 'attr' }).object : e.args[0];
  const rest = method ? e.args : e.args.slice(1);
  if (!operand || !isItem(operand) || e.kwargs.length > 0 || (!method && !known(e.callee))) return undefined;
  if (SQUARE_FUNCTIONS.has(fn) && rest.length === 0) return 'sumsq';
  if (POWER_FUNCTIONS.has(fn) && rest.length === 1 && numberOf(rest[0]) === 2) return 'sumsq';
  if (ABS_FUNCTIONS.has(fn) && rest.length === 0) return 'l1';
  return undefined;
}

// ------------------------------------------------------------------ arrays by data flow

/** Where one item of a collection is built as an array, when every item is one: a list written out, a comprehension, names and `self.x` bound to them. */
function arrayItems(facts: Facts, e: Expr, scope: Scope, at: number, env: Env | undefined, hops: number): Span | undefined {
  if (hops > MAX_HOPS) return undefined;
  const bound = boundValue(e, scope, at, env);
  if (bound) return arrayItems(facts, bound.expr, bound.scope, bound.at, bound.env, hops + 1);
  if (e.kind === 'seq') {
    if (e.items.length === 0) return undefined;
    let first: Span | undefined;
    for (const item of e.items) {
      const built = arrayValue(facts, item, scope, at, env, hops + 1);
      if (!built) return undefined;
      first ??= built;
    }
    return first;
  }
  if (e.kind === 'comprehension' && e.generators.length === 1) {
    const inner = facts.program.lambdaScope(e) ?? scope;
    return arrayValue(facts, e.element, inner, Infinity, env, hops + 1);
  }
  // `list(ws)`, `tuple(ws)`: the same items.
  if (e.kind === 'call' && e.callee.kind === 'name' && isSequenceCopy(e.callee.name) && e.args.length === 1 && !scope.lookup(e.callee.name, at))
    return arrayItems(facts, e.args[0], scope, at, env, hops + 1);
  return undefined;
}

/** Where a value is built as an array of several entries by an array library: through names, `self.x`, arithmetic and wrappers. */
function arrayValue(facts: Facts, e: Expr, scope: Scope, at: number, env: Env | undefined, hops: number): Span | undefined {
  if (hops > MAX_HOPS) return undefined;
  const bound = boundValue(e, scope, at, env);
  if (bound) return arrayValue(facts, bound.expr, bound.scope, bound.at, bound.env, hops + 1);
  if (e.kind === 'binary' && (e.op === '*' || e.op === '/' || e.op === '+' || e.op === '-'))
    return arrayValue(facts, e.left, scope, at, env, hops + 1) ?? arrayValue(facts, e.right, scope, at, env, hops + 1);
  if (e.kind === 'unary' && e.op === '-') return arrayValue(facts, e.arg, scope, at, env, hops + 1);
  if (e.kind !== 'call') return undefined;
  const parsed = facts.program.parsedOf(e.span);
  if (!parsed) return undefined;
  const path = frameworkPath(e.callee, scope, at, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script');
  const built = builtArray(path, e);
  if (built === 'array') return e.span;
  if (built !== 'wraps') return undefined;
  const arg = e.args[0];
  // `np.array([[...], [...]])`: a literal of several rows or entries.
  if (arg.kind === 'seq') return arg.items.length >= 2 ? e.span : undefined;
  return arrayValue(facts, arg, scope, at, env, hops + 1);
}

/** The one value a name, `self.x` or a helper's parameter holds where it is read (an argument bound by the call, or a single assignment). */
function boundValue(e: Expr, scope: Scope, at: number, env: Env | undefined): { expr: Expr; scope: Scope; at: number; env?: Env } | undefined {
  if (e.kind === 'name' && env?.has(e.name)) return env.get(e.name);
  if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
  const key = exprKey(e);
  if (!key) return undefined;
  const b = scope.lookup(key, at);
  if (!b || b.kind !== 'assign' || b.op || !b.value || b.unpacked) return undefined;
  // A name rebound elsewhere may hold something else where it is read; a step in place
  // (`W -= lr * dW`, `W = W - lr * dW`) keeps its shape.
  const all = e.kind === 'attr' ? (b.scope.classScope?.members.get(key) ?? []) : [];
  for (const other of [...all, ...b.scope.allBindings(key)]) {
    if (other === b || (other.kind === 'assign' && (other.op || (other.value && keepsShape(other.value, key))))) continue;
    return undefined;
  }
  return { expr: b.value, scope: b.scope, at: b.at };
}

/** `W - lr * dW`, `W * mask`: arithmetic on the value itself, which keeps its shape. */
function keepsShape(e: Expr, key: string): boolean {
  if ((e.kind === 'name' || e.kind === 'attr') && exprKey(e) === key) return true;
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/')) return keepsShape(e.left, key) || keepsShape(e.right, key);
  return e.kind === 'unary' && e.op === '-' && keepsShape(e.arg, key);
}

// ------------------------------------------------------------------ the call in between

/** Calls in the loss's function that run `fn` (the helper that sums), with its parameters bound to their arguments. */
function callsInto(facts: Facts, p: LossPenalty, fn: FunctionDef): { call: Expr & { kind: 'call' }; env: Env }[] {
  const out: { call: Expr & { kind: 'call' }; env: Env }[] = [];
  const index = programIndex(facts);
  const lossFn = p.site.fn;
  for (const { call, scope, at } of index.calls) {
    if (index.enclosingFunction(scope) !== lossFn) continue;
    const target = facts.analyzer.callTarget(call, scope, at);
    if (target?.fn !== fn) continue;
    out.push({ call, env: facts.analyzer.argumentEnv(call, target, scope, at, p.site.env) });
  }
  return out;
}

// ------------------------------------------------------------------ reaching the loss unreduced

/**
 * Whether a value reaches the loss through arithmetic only: each statement it is read in adds,
 * subtracts, scales or divides it, and hands the result to a variable (followed to its reads), to a
 * `return` of the helper the loss calls (followed to that call), or to the loss itself.
 */
class Flow {
  constructor(
    private readonly facts: Facts,
    private readonly penalty: LossPenalty,
    private readonly hops: readonly (Expr & { kind: 'call' })[],
  ) {}

  /** Statements looked at: a long chain of variables is left alone rather than walked again and again. */
  private budget = 200;

  reaches(where: Facts, node: Expr, scope: Scope, depth: number): boolean {
    if (depth > MAX_HOPS || --this.budget < 0) return false;
    const st = statementAround(where, node.span);
    if (!st) return false;
    const roots = st.kind === 'assign' ? [st.value] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'expr' ? [st.expr] : [];
    if (!roots.some((r) => arithmeticPath(r, node))) return false;
    if (overlaps(st.span, this.penalty.site.span)) return true;
    if (st.kind === 'return') {
      const fn = programIndex(where).enclosingFunction(where.scopes.stmtScopes.get(st) ?? scope);
      if (fn && (fn === this.penalty.site.penaltyMethod || fn === this.penalty.site.fn)) return true;
      return this.hops.length > 0 && this.hops.every((call) => this.reaches(this.facts, call, this.penalty.site.scope, depth + 1));
    }
    if (st.kind !== 'assign' || st.targets.length !== 1 || (st.op && st.op !== '+' && st.op !== '-')) return false;
    const key = exprKey(st.targets[0]);
    return !!key && this.readsReach(where, key, where.scopes.stmtScopes.get(st) ?? scope, [st], depth + 1);
  }

  /** Every read of `key` in the function that assigns it (outside the statements that make it) reaches the loss. */
  readsReach(where: Facts, key: string, scope: Scope, making: Stmt[], depth: number): boolean {
    const index = programIndex(where);
    const fn = index.enclosingFunction(scope);
    const body = fn ? fn.body : where.module.body;
    const reads: Expr[] = [];
    const visit = (e: Expr): void => {
      if ((e.kind === 'name' || e.kind === 'attr') && exprKey(e) === key) reads.push(e);
      else forEachChild(e, visit);
    };
    walkStatements(body, (st) => {
      if (making.includes(st)) return;
      if (st.kind === 'assign') {
        visit(st.value);
        // `key += ...` elsewhere adds more; it is not a read that reduces.
        for (const t of st.targets) if (exprKey(t) !== key) forEachChild(t, visit);
      } else if (st.kind === 'expr') visit(st.expr);
      else if (st.kind === 'return' && st.value) visit(st.value);
      else if (st.kind === 'for') visit(st.iter);
      else if (st.kind === 'block') st.heads.forEach(visit);
    });
    return reads.length > 0 && reads.every((r) => this.reaches(where, r, scope, depth + 1));
  }
}

function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

/** `target` inside `root` under `+`, `-`, `*`, `/` and negation only. */
function arithmeticPath(root: Expr, target: Expr): boolean {
  if (root === target) return true;
  if (root.kind === 'binary' && (root.op === '+' || root.op === '-' || root.op === '*' || root.op === '/')) return arithmeticPath(root.left, target) || arithmeticPath(root.right, target);
  if (root.kind === 'unary' && (root.op === '-' || root.op === '+')) return arithmeticPath(root.arg, target);
  return false;
}

/** The innermost simple statement (assignment, expression, return) whose span holds `span`. */
export function statementAround(facts: Facts, span: Span): Stmt | undefined {
  let best: Stmt | undefined;
  for (const st of programIndex(facts).stmtBySpan.values()) {
    if (st.kind !== 'assign' && st.kind !== 'expr' && st.kind !== 'return') continue;
    if (st.span.start > span.start || st.span.end < span.end) continue;
    if (!best || st.span.end - st.span.start < best.span.end - best.span.start) best = st;
  }
  return best;
}

/** Statements of a body and of the loops and blocks in it, not of the functions and classes it defines. */
function walkStatements(body: readonly Stmt[], f: (st: Stmt) => void): void {
  for (const st of body) {
    f(st);
    if (st.kind === 'for' || st.kind === 'block') walkStatements(st.body, f);
  }
}
