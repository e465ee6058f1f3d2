// The loss of a loss-and-gradient function by data flow, whatever it is called: in `return obj, delta`
// where `delta` is a gradient (named like one, the zeros shaped like a weight that lossCompanions.ts
// reads as that weight's gradient, or the value of an autodiff call), the other element is the loss
// the gradient belongs to. Course code calls it `loss` or `cost`; other code `obj`, `E`, `err`, `f`,
// `val`, and the name is not what makes it one. Asked by losses.ts when a variable's name does not say
// it holds an objective, so a penalty added to it (`E += 0.5 * reg * np.sum(W * W)`) is read as a
// penalty of the loss, and the gradient returned beside it is checked against it.
//
// The tuple must be a loss and its gradients: exactly one element is not a gradient (the loss), the
// others all are (`return E, dW, db`), so a training function's `return loss_history, W`, a model's
// `return out, cache` or a step's `return W, v` give no loss. A name that says it is a maximized
// quantity or a score (`acc`, `reward`, `ll`: roles.ts `isAscentWord`) is not taken as a loss, and the
// loss must be a local the function assigns (not one of its parameters handed back).
// Cheap: one pass over a function's own statements, cached per function body.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef, Scope } from './scope';
import { ownStatements, programIndex } from './program';
import { gradientsBesideLoss, returnedNameTuples, shapeSource } from './lossCompanions';
import { isAscentWord, isGradientLike, isLossFunctionName, isLossWord, isObjectiveRecordName, isPenaltyVariableName, isStateLike } from './roles';
import { someExpr } from './scope';
import { readsAutodiff } from './autodiff';
import { ABS_FUNCTIONS, DOT_FUNCTIONS, LOG_FUNCTIONS, MEAN_FUNCTIONS, NORM_FUNCTIONS, SQUARE_FUNCTIONS, SUM_FUNCTIONS } from './catalogue';

/** Tuples longer than this are not a loss and its gradients. */
const MAX_ITEMS = 8;

const cache = new WeakMap<Stmt[], Set<string>>();

/** The names `fn` returns as the loss beside its gradients (empty for most functions). */
export function lossesBesideGradients(facts: Facts, fn: FunctionDef): Set<string> {
  let found = cache.get(fn.body);
  if (found) return found;
  found = new Set();
  cache.set(fn.body, found);
  const stmts = ownStatements(fn.body);
  const tuples: (Expr & { kind: 'name' })[][] = [];
  const tupleItems = new Set<Expr>();
  for (const s of stmts) {
    if (s.kind !== 'return' || s.value?.kind !== 'seq') continue;
    const items = s.value.items;
    if (items.length < 2 || items.length > MAX_ITEMS) continue;
    // A name, or a view of one (`grads[::-1]`, the layers' gradients gathered backwards).
    const names = items.map((i) => (i.kind === 'index' && i.object.kind === 'name' ? i.object : i));
    if (!names.every((i) => i.kind === 'name')) continue;
    tuples.push(names as (Expr & { kind: 'name' })[]);
    for (const i of items) if (i.kind === 'name') tupleItems.add(i);
  }
  if (tuples.length === 0) return found;
  // Every plain assignment of each returned name (a local the function gives a value).
  const values = new Map<string, Expr[]>();
  const returned = new Set(tuples.flat().map((i) => i.name));
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    if (returned.has(name)) values.set(name, [...(values.get(name) ?? []), s.value]);
  }
  let companions: Set<string> | undefined;
  const isGradient = (item: Expr & { kind: 'name' }): boolean => {
    if (isGradientLike(item)) return true;
    if ((values.get(item.name) ?? []).some((v) => someExpr(v, readsAutodiff))) return true;
    companions ??= gradientsBesideLoss(fn.body, facts.scopes, facts.analyzer);
    return companions.has(item.name);
  };
  for (const items of tuples) {
    const others = items.filter((i) => !isGradientLike(i));
    // Cheap test first: a tuple with two or more names not named like gradients needs data flow for all but one.
    const losses = others.filter((i) => !isGradient(i));
    if (losses.length !== 1 || losses.length === items.length) continue;
    const loss = losses[0];
    if (loss.kind !== 'name' || !tupleItems.has(loss)) continue; // a view (`x[::-1]`) is no loss
    if (isAscentWord(loss.name) || isObjectiveRecordName(loss.name) || !values.has(loss.name)) continue;
    if (items.filter((i) => i.name === loss.name).length > 1) continue;
    found.add(loss.name);
  }
  return found;
}

const unpackCache = new WeakMap<Stmt[], Set<string>>();

/**
 * The names `fn` unpacks a loss into from a call to a loss-and-gradient function of the program
 * (`obj, delta = backward(x, y, mats)`, where `backward` returns its loss beside its gradients), and
 * the names it then assigns a sum with such a loss in it (`E = obj + l2_penalty(mats, lam)`): a
 * training loop's losses, whatever they are called.
 */
export function unpackedLosses(facts: Facts, fn: FunctionDef): Set<string> {
  let found = unpackCache.get(fn.body);
  if (found) return found;
  found = new Set();
  unpackCache.set(fn.body, found);
  const index = programIndex(facts);
  for (const s of ownStatements(fn.body)) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.op) continue;
    const t = s.targets[0];
    if (t.kind === 'seq' && s.value.kind === 'call' && t.items.length >= 2 && t.items.length <= MAX_ITEMS) {
      const callee = s.value.callee;
      const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' && callee.object.kind === 'name' && (callee.object.name === 'self' || callee.object.name === 'this') ? callee.name : undefined;
      const def = name ? fn.scope.lookupFunction(name) ?? index.functionNamed(name) : undefined;
      if (!def || def === fn) continue;
      const position = lossPosition(facts, def);
      const item = position === undefined ? undefined : t.items[position];
      if (item?.kind === 'name' && !isAscentWord(item.name)) found.add(item.name);
    } else if (t.kind === 'name' && found.size > 0 && addends(s.value).some((a) => a.kind === 'name' && found!.has(a.name)) && !isAscentWord(t.name) && !isObjectiveRecordName(t.name)) {
      found.add(t.name);
    }
  }
  return found;
}

const positionCache = new WeakMap<Stmt[], number | null>();

/** Where a loss-and-gradient function's returned tuple holds the loss (the same place in every such return); cached per function body. */
export function lossPosition(facts: Facts, def: FunctionDef): number | undefined {
  const known = positionCache.get(def.body);
  if (known !== undefined) return known ?? undefined;
  const at = lossPositionUncached(facts, def);
  positionCache.set(def.body, at ?? null);
  return at;
}

function lossPositionUncached(facts: Facts, def: FunctionDef): number | undefined {
  const losses = lossesBesideGradients(facts, def);
  if (losses.size !== 1) return undefined;
  const [loss] = losses;
  let at: number | undefined;
  for (const s of ownStatements(def.body)) {
    if (s.kind !== 'return' || s.value?.kind !== 'seq') continue;
    const k = s.value.items.findIndex((i) => i.kind === 'name' && i.name === loss);
    if (k < 0 || (at !== undefined && at !== k)) return undefined;
    at = k;
  }
  return at;
}

const climbedCache = new WeakMap<Stmt[], boolean>();

/**
 * Whether the loss `fn` returns beside its gradients subtracts a reduced penalty on a weight
 * (`lp = ll - 0.5 * lam * np.sum(w ** 2)`, `f -= c * np.sum(w ** 2)`): by the penalty's sign it is a
 * quantity to maximize (a log posterior, a bound, a reward minus a cost), whose gradient an ascent adds
 * on purpose. The penalty and the gradient agree either way; only the direction of the step differs.
 * One pass over the function's own statements, cached per function body.
 */
export function climbedByPenalty(facts: Facts, fn: FunctionDef): boolean {
  const known = climbedCache.get(fn.body);
  if (known !== undefined) return known;
  climbedCache.set(fn.body, false);
  const losses = lossesBesideGradients(facts, fn);
  let climbed = false;
  for (const s of losses.size === 1 ? ownStatements(fn.body) : []) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name' || !losses.has(s.targets[0].name)) continue;
    if ((s.op && s.op !== '+' && s.op !== '-') || !someExpr(s.value, (e) => e.kind === 'call')) continue;
    const opSign = s.op === '-' ? -1 : 1;
    const scope = facts.scopes.stmtScopes.get(s) ?? facts.scopes.root;
    climbed = facts.analyzer.summands(s.value, scope, s.span.start).some((x) => {
      const p = facts.analyzer.classifySummand(x).penalty;
      return p !== undefined && REDUCED.has(p.kind) && x.sign * opSign * Math.sign(p.coef.num) < 0;
    });
    if (climbed) break;
  }
  climbedCache.set(fn.body, climbed);
  return climbed;
}

const minimizedCache = new WeakMap<Stmt[], boolean>();

/**
 * Whether the value of the loss `fn` returns beside its gradients says it is minimized: a square, an
 * absolute value or a norm (a squared error), a loss function's call or a negated logarithm (a negative
 * log-likelihood), with a positive sign, or a penalty added with a positive sign; directly or through
 * the locals it is built from. A log-likelihood returned with its gradient and climbed on purpose
 * (`f = np.sum(t * np.log(p) + …)`, `theta += lr * g`) or a negated squared error (a Gaussian
 * log-likelihood) says none of these, so NB102 asks this before taking "returned beside the gradient"
 * for "a loss to descend". Cached per function body.
 */
export function minimizedByValue(facts: Facts, fn: FunctionDef): boolean {
  const known = minimizedCache.get(fn.body);
  if (known !== undefined) return known;
  minimizedCache.set(fn.body, false);
  const losses = lossesBesideGradients(facts, fn);
  const values = new Map<string, (Stmt & { kind: 'assign' })[]>();
  for (const s of ownStatements(fn.body)) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    values.set(name, [...(values.get(name) ?? []), s]);
  }
  const nameSign = (name: string, hops: number): number => {
    if (hops > 2) return 0;
    const first = (values.get(name) ?? []).find((s) => !s.op);
    return first ? signOf(first.value, (n) => nameSign(n, hops + 1)) : 0;
  };
  const penaltyAdded = (s: Stmt & { kind: 'assign' }): boolean => {
    if (s.op === '-' || !someExpr(s.value, (e) => e.kind === 'call')) return false;
    const scope = facts.scopes.stmtScopes.get(s) ?? facts.scopes.root;
    return facts.analyzer.summands(s.value, scope, s.span.start).some((x) => {
      const p = facts.analyzer.classifySummand(x).penalty;
      return p !== undefined && REDUCED.has(p.kind) && x.sign * Math.sign(p.coef.num) > 0;
    });
  };
  const minimized = losses.size === 1 && [...losses].every((l) => nameSign(l, 0) > 0 || (values.get(l) ?? []).some(penaltyAdded));
  minimizedCache.set(fn.body, minimized);
  return minimized;
}

/**
 * +1 when `e` is, by its shape, a quantity to minimize (a square, |x|, a norm, a loss call, a negated
 * logarithm, scaled or summed with a positive sign), −1 when it is one negated or a logarithm (a
 * likelihood), 0 when its shape says nothing. `local` gives the sign of a name the function assigned.
 */
function signOf(e: Expr, local: (name: string) => number, depth = 0): number {
  if (depth > 24) return 0;
  const d = depth + 1;
  switch (e.kind) {
    case 'name':
      return local(e.name);
    case 'unary':
      return e.op === '-' ? -signOf(e.arg, local, d) : 0;
    case 'binary': {
      if (e.op === '**') return e.right.kind === 'num' && e.right.value === 2 ? 1 : 0;
      const l = signOf(e.left, local, d);
      const r = signOf(e.right, local, d);
      if (e.op === '*' || e.op === '/') {
        const ln = e.left.kind === 'num' ? Math.sign(e.left.value) : undefined;
        const rn = e.right.kind === 'num' ? Math.sign(e.right.value) : undefined;
        if (ln !== undefined) return ln * r;
        if (rn !== undefined) return rn * l;
        return l !== 0 && r !== 0 ? l * r : l + r;
      }
      const rr = e.op === '-' ? -r : e.op === '+' ? r : 0;
      if (e.op !== '+' && e.op !== '-') return 0;
      return l === 0 ? rr : rr === 0 || rr === l ? l : 0;
    }
    case 'call': {
      const name = callName(e) ?? '';
      if (SQUARE_FUNCTIONS.has(name) || ABS_FUNCTIONS.has(name) || NORM_FUNCTIONS.has(name) || isLossWord(name) || isLossFunctionName(name)) return 1;
      if (LOG_FUNCTIONS.has(name)) return -1;
      if (SUM_FUNCTIONS.has(name) || MEAN_FUNCTIONS.has(name)) {
        const operand = e.args[0] ?? (e.callee.kind === 'attr' ? e.callee.object : undefined);
        return operand ? signOf(operand, local, d) : 0;
      }
      return 0;
    }
    default:
      return 0;
  }
}

/** The terms of a sum as written, `a + b` → a, b (a difference is no loss plus a penalty). */
function addends(e: Expr): Expr[] {
  if (e.kind === 'binary' && e.op === '+') return [...addends(e.left), ...addends(e.right)].slice(0, 64);
  return [e];
}

/**
 * `E = 0.5 * np.mean(r ** 2) + 0.5 * lam * np.sum(W ** 2)`: a value that adds, with a positive sign, a
 * reduced penalty on a weight (a sum of squares, a sum of absolute values, a norm of a parameter of the
 * file) to some other term (the data's) is a penalized objective, whatever the variable is called. A sum of penalties
 * alone (`pen = lam * ΣW²`) is a penalty part, not the loss, and an accumulation into itself
 * (`q = q + lam * ΣW²`) is left to its name; a subtracted penalty is a maximized objective's, not a loss's.
 */
export function penalizedObjective(facts: Facts, st: Stmt & { kind: 'assign' }, scope: Scope): boolean {
  const target = st.targets[0];
  if (st.op === '+') return target.kind === 'name' && accumulatesPenalty(facts, st, scope, target.name);
  if (st.op || st.value.kind !== 'binary' || (st.value.op !== '+' && st.value.op !== '-')) return false;
  if (target.kind !== 'name' || isAscentWord(target.name) || isObjectiveRecordName(target.name) || isStateLike(target) || isPenaltyVariableName(target.name)) return false;
  // A reduced penalty is a call (`np.sum`, `sum`, `norm`); cheap tests before the Analyzer's.
  if (!someExpr(st.value, (e) => e.kind === 'call') || someExpr(st.value, (e) => e.kind === 'name' && e.name === target.name)) return false;
  let penalty = false;
  let data = false;
  for (const x of facts.analyzer.summands(st.value, scope, st.span.start)) {
    const p = facts.analyzer.classifySummand(x);
    if (p.penalty) {
      if (!REDUCED.has(p.penalty.kind) || x.sign < 0 || p.penalty.coef.num <= 0) return false;
      penalty = true;
    } else if (notANumber(p)) data = true; // a number (`1e-12 + np.sum(W ** 2)`, a log-density's constant) is no data term
  }
  return penalty && data;
}
const REDUCED = new Set(['sumsq', 'l1', 'norm2']);

/** A summand that is more than a written number: a tensor, or a name whose value is not known here (a data loss handed in). */
const notANumber = (p: { tensor: boolean; coef: { syms: readonly unknown[] } }): boolean => p.tensor || p.coef.syms.length > 0;

/**
 * `E = -np.mean(np.log(p[rows, labels]))` … `E += lam / n * np.sum(W ** 2)`: a reduced penalty added to
 * a variable that starts as another term (not a number, not a penalty) is the penalized objective, as
 * the one-statement form is. Started at a number (`q = 0.0; q += c * ΣW²`), it is a penalty's sum.
 */
function accumulatesPenalty(facts: Facts, st: Stmt & { kind: 'assign' }, scope: Scope, name: string): boolean {
  if (isAscentWord(name) || isObjectiveRecordName(name) || isStateLike(st.targets[0]) || isPenaltyVariableName(name)) return false;
  if (!someExpr(st.value, (e) => e.kind === 'call')) return false;
  const binding = scope.lookup(name, st.span.start);
  if (binding?.kind !== 'assign' || !binding.value || binding.op !== undefined || binding.unpacked || binding.loops.length > 0) return false;
  const start = binding.value;
  if (start.kind === 'num' || (start.kind === 'unary' && start.arg.kind === 'num') || someExpr(start, (e) => e.kind === 'name' && e.name === name)) return false;
  let penalty = false;
  for (const x of facts.analyzer.summands(st.value, scope, st.span.start)) {
    const p = facts.analyzer.classifySummand(x).penalty;
    if (!p || !REDUCED.has(p.kind) || x.sign < 0 || p.coef.num <= 0) return false;
    penalty = true;
  }
  if (!penalty) return false;
  // The start is a data term (a tensor, not a number) and no penalty itself.
  const startTerms = facts.analyzer.summands(start, binding.scope, binding.at).map((x) => facts.analyzer.classifySummand(x));
  return startTerms.some(notANumber) && !startTerms.some((p) => p.penalty);
}

// ------------------------------------------------------------------ weights by data flow

/**
 * The weights of loss-and-gradient functions that nothing in the file steps, by data flow: a function
 * that starts a returned name as zeros shaped like one of its arguments (`delta = np.zeros_like(theta)`)
 * and returns it beside another name it adds that argument's sum of squares to
 * (`E += 0.5 * gamma * np.sum(theta * theta)`) … `return E, delta` computes a loss penalizing
 * `theta` and theta's gradient: theta is a weight inside that function, whatever it is called
 * (a cost function handed to `scipy.optimize.minimize`, or stepped by a caller in another file).
 * Read from statements only, before the parameter set exists (index.ts), so the square is matched as
 * written: `np.sum(theta * theta)`, `np.sum(theta ** 2)`, `np.sum(np.square(theta))`,
 * `(theta ** 2).sum()`, `theta @ theta`, `np.dot(theta, theta)`, `np.linalg.norm(theta) ** 2`.
 * One walk of the statements (not the expressions) to find functions, and one pass over the own
 * statements of a function that returns a tuple of names.
 */
export function weightsBesideLoss(body: Stmt[], out: { key: string; fn: Stmt & { kind: 'function' } }[] = [], depth = 0): { key: string; fn: Stmt & { kind: 'function' } }[] {
  if (depth > 40) return out;
  for (const s of body) {
    if (s.kind === 'function') {
      for (const key of zeroShapedWeights(s)) out.push({ key, fn: s });
      weightsBesideLoss(s.body, out, depth + 1);
    } else if (s.kind === 'class' || s.kind === 'block' || s.kind === 'for') weightsBesideLoss(s.body, out, depth + 1);
  }
  return out;
}

function zeroShapedWeights(fn: Stmt & { kind: 'function' }): string[] {
  const stmts = ownStatements(fn.body);
  const tuples = returnedNameTuples(stmts);
  if (tuples.length === 0) return [];
  const args = new Set(fn.params.map((p) => p.name));
  const returned = new Set(tuples.flat());
  const first = new Map<string, Expr>();
  const values = new Map<string, Expr[]>();
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    if (!returned.has(name)) continue;
    if (!s.op && !first.has(name)) first.set(name, s.value);
    if (s.op !== '*' && s.op !== '/') values.set(name, [...(values.get(name) ?? []), s.value]);
  }
  const found: string[] = [];
  for (const names of tuples)
    for (const g of names) {
      const v = first.get(g);
      const w = v ? shapeSource(v) : undefined;
      if (w?.kind !== 'name' || !args.has(w.name) || names.includes(w.name) || found.includes(w.name)) continue;
      if (names.some((l) => l !== g && (values.get(l) ?? []).some((x) => someExpr(x, (e) => isSquareOf(e, w.name))))) found.push(w.name);
    }
  return found;
}

const isName = (e: Expr | undefined, name: string): boolean => e?.kind === 'name' && e.name === name;
const callName = (e: Expr & { kind: 'call' }): string | undefined => (e.callee.kind === 'name' || e.callee.kind === 'attr' ? e.callee.name : undefined);

/** A sum of squares of the name as written (see weightsBesideLoss). */
function isSquareOf(e: Expr, w: string): boolean {
  const squared = (x: Expr | undefined): boolean =>
    !!x && ((x.kind === 'binary' && ((x.op === '*' && isName(x.left, w) && isName(x.right, w)) || (x.op === '**' && isName(x.left, w) && x.right.kind === 'num' && x.right.value === 2))) ||
      (x.kind === 'call' && SQUARE_FUNCTIONS.has(callName(x) ?? '') && isName(x.args[0], w)));
  if (e.kind === 'binary' && e.op === '@' && isName(e.left, w) && isName(e.right, w)) return true;
  if (e.kind === 'binary' && e.op === '**' && e.right.kind === 'num' && e.right.value === 2 && e.left.kind === 'call' && NORM_FUNCTIONS.has(callName(e.left) ?? '') && isName(e.left.args[0], w)) return true;
  if (e.kind !== 'call') return false;
  const name = callName(e);
  if (name === undefined) return false;
  if (DOT_FUNCTIONS.has(name)) return e.args.length === 2 ? isName(e.args[0], w) && isName(e.args[1], w) : e.callee.kind === 'attr' && isName(e.callee.object, w) && isName(e.args[0], w);
  if (!SUM_FUNCTIONS.has(name)) return false;
  return squared(e.args[0]) || (e.callee.kind === 'attr' && squared(e.callee.object));
}
