// A learning rate multiplied into the error a hand-written backward pass carries back (NB404): a
// layer's backward computes its local error `delta = err * f'(out) * lr`, steps its own weights by it
// (`W = W + delta @ x.T`), and returns the error for the layer before it through those weights
// (`return W.T @ delta`). The returned error is already scaled by the rate, so the previous layer's
// `delta` multiplies it by the rate again: layer L−k is stepped with lr^(k+1) times its gradient.
//
// Decided by data flow in one function:
// - a local D is given its value once, and the rate is a factor of that value (an operand of a
//   product, the argument of a scaling call on it: `scale(e, rate)`, `e.multiplyScalar(rate)`);
// - a weight (an attribute or entry, not a local) is written from its own old value and D, directly
//   or through a local computed from D (`weightsDelta = delta.dot(x.T)`), and that write reads no
//   other copy of the rate: the rate in D is the step's only one;
// - the function returns a value that multiplies D (or a local computed from it) by that same weight:
//   the error passed back through it (`W.T @ delta`), not the two handed back side by side
//   (`return self.w, err`, a dict of both, a sum of their norms).
// The rate is a parameter of the function or a field of its object; the last resort is its name
// (roles.ts `isLearningRateName`), which tells it from a count of examples (`/ m`) that also scales D.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef } from './scope';
import { explicitParams } from './scope';
import { definedInFile, ownStatements, programIndex } from './program';
import { stmtExprs, subExprs } from './loops';
import { exprKey } from './keys';
import { isLearningRateName, isPlainLearningRateName } from './roles';

export interface RateInBackpropError {
  fn: FunctionDef;
  /** The rate as written (`learningRate`, `self.lr`). */
  rate: string;
  /** The local it scales, and the statement that gives it its value. */
  error: string;
  scaled: Span;
  /** The weight stepped by it, and the write. */
  weight: string;
  update: Span;
  /** The `return` that hands the scaled error back. */
  passed: Span;
}

const cache = new WeakMap<Facts, RateInBackpropError[]>();

export function ratesInBackpropErrors(facts: Facts): RateInBackpropError[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const fn of programIndex(facts).functions) {
    if (!definedInFile(facts, fn)) continue;
    const f = inFunction(fn);
    if (f) found.push(f);
  }
  cache.set(facts, found);
  return found;
}

const reads = (e: Expr, key: string): boolean => subExprs(e).some((x) => (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && exprKey(x) === key);

/** The rates that scale `value` as a whole: factors of its product, arguments of the scaling call it is. */
function factors(value: Expr, out: Expr[] = [], depth = 0): Expr[] {
  if (depth > 12) return out;
  if (value.kind === 'binary' && value.op === '*') {
    factors(value.left, out, depth + 1);
    factors(value.right, out, depth + 1);
  } else if (value.kind === 'call') {
    // `scale(e, rate)`, `e.multiplyScalar(rate)`, `e.multiply(g).multiplyScalar(rate)`: a scalar argument scales the result.
    for (const a of value.args) if (a.kind === 'name' || a.kind === 'attr') out.push(a);
    if (value.callee.kind === 'attr') factors(value.callee.object, out, depth + 1);
  } else if (value.kind === 'name' || value.kind === 'attr') out.push(value);
  return out;
}

/**
 * Does `value` carry the error through the weight: a product of the two (`W.T @ delta`, `delta * W`,
 * `np.dot(W.T, delta)`, `W.T.dot(delta)`), not the two handed back side by side (`return self.w, err`,
 * `{ weights: W, update: step }`, `norm(W) + norm(step)`)?
 */
function passedThrough(value: Expr, weight: string, readsError: (e: Expr) => boolean): boolean {
  const pair = (operands: Expr[]): boolean => operands.some((a, i) => reads(a, weight) && operands.some((b, j) => j !== i && readsError(b)));
  return subExprs(value).some((x) => {
    if (x.kind === 'binary') return (x.op === '@' || x.op === '*') && pair([x.left, x.right]);
    if (x.kind === 'call') return pair([...(x.callee.kind === 'attr' ? [x.callee.object] : []), ...x.args]);
    return false;
  });
}

function inFunction(fn: FunctionDef): RateInBackpropError | undefined {
  const stmts = ownStatements(fn.body);
  if (stmts.length > 400) return undefined;
  const params = new Set(explicitParams(fn).map((p) => p.name));
  const assigns = stmts.filter((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign' && s.targets.length === 1);
  const returns = stmts.filter((s): s is Stmt & { kind: 'return'; value: Expr } => s.kind === 'return' && s.value !== undefined);
  if (returns.length === 0) return undefined;
  const localValues = new Map<string, (Stmt & { kind: 'assign' })[]>();
  for (const a of assigns) {
    const t = a.targets[0];
    if (t.kind !== 'name') continue;
    const list = localValues.get(t.name) ?? [];
    list.push(a);
    localValues.set(t.name, list);
  }
  // The function's own rates (its parameters and its object's fields that a rate's name names), read anywhere in it.
  const ownRate = (x: Expr): boolean => {
    const key = exprKey(x);
    if (key === undefined) return false;
    const own = x.kind === 'name' ? params.has(x.name) : x.kind === 'attr' && x.object.kind === 'name' && (x.object.name === 'self' || x.object.name === 'this');
    return own && isLearningRateName(key);
  };
  const rates = new Set<string>();
  for (const st of stmts) for (const root of stmtExprs(st)) for (const x of subExprs(root)) if ((x.kind === 'name' || x.kind === 'attr') && ownRate(x)) rates.add(exprKey(x)!);
  // What a value reads, through the locals it is computed from (`upd = lr * (delta @ x.T)`, `W -= upd`).
  // (Not into the scaled error itself, whose rate is the one in question.)
  const readsThrough = (e: Expr, key: string, error: string, depth = 0): boolean =>
    reads(e, key) || (depth < 8 && subExprs(e).some((x) => x.kind === 'name' && x.name !== error && localValues.get(x.name)?.length === 1 && readsThrough(localValues.get(x.name)![0].value, key, error, depth + 1)));
  for (const [error, writes] of localValues) {
    if (writes.length !== 1 || writes[0].op) continue;
    const scaled = writes[0];
    const rate = factors(scaled.value).find((x) => exprKey(x) !== error && ownRate(x));
    if (!rate) continue;
    const rateKey = exprKey(rate)!;
    // A factor named like a rate beside a plain rate the function also reads (`delta = err * self.alpha * …`,
    // a scaled tanh's gain, with `lr` stepping the weights) is no rate: the plain one is.
    if (!isPlainLearningRateName(rateKey) && [...rates].some((r) => r !== rateKey && isPlainLearningRateName(r))) continue;
    // Locals computed from the error (`weightsDelta = delta.dot(x.T)`).
    const carriers = new Set([error]);
    for (const [name, ws] of localValues) if (ws.length === 1 && !ws[0].op && [...carriers].some((c) => reads(ws[0].value, c))) carriers.add(name);
    const readsError = (e: Expr): boolean => [...carriers].some((c) => reads(e, c));
    for (const u of assigns) {
      const t = u.targets[0];
      if (t.kind !== 'attr' && t.kind !== 'index') continue;
      const weight = exprKey(t);
      // The write reads no other rate, directly or through the locals it is computed from: the one in the error is its only one.
      if (weight === undefined || !readsError(u.value) || [...rates].some((r) => readsThrough(u.value, r, error))) continue;
      if (!u.op && !reads(u.value, weight)) continue;
      if (u.op && u.op !== '+' && u.op !== '-') continue;
      const passed = returns.find((r) => passedThrough(r.value, weight, readsError));
      if (!passed) continue;
      return { fn, rate: rateKey, error, scaled: scaled.span, weight, update: u.span, passed: passed.span };
    }
  }
  return undefined;
}
