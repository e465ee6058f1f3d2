// A collection of weights stepped item by item by a collection of gradients, read in the IR alone:
// `ws = [w - lr * g for w, g in zip(ws, grads)]`, `ws = [ws[i] - lr * g for i, g in enumerate(grads)]`
// (the collection rebound to its items moved along the other collection's), and the loops
// `for w, g in zip(ws, grads): w -= lr * g`, `for i in range(len(ws)): ws[i] -= lr * grads[i]`.
// Data flow says the collection holds weights (the analyzer's `holdsWeights`) and which collection
// its gradients come from (untrainedPenalties.ts), whatever either is called. The step must be the
// item minus a scalar multiple of the gradient's item, nothing else: a decay or a penalty term in it
// is another form.
import type { Expr, Stmt } from '../ir';
import { exprKey } from './keys';
import { forEachChild } from './scope';

export interface ItemStep {
  /** The collection stepped, as written in the zip/enumerate/index (`ws`). */
  collection: Expr;
  key: string;
  /** The collection of gradients the step reads item by item (`grads`). */
  gradients: Expr;
  gradientKey: string;
  /** The gradient's item as the step reads it (`g`, `grads[i]`). */
  gradient: Expr;
  /** The item stepped as written (`w`, `ws[i]`). */
  item: Expr;
  /** The whole step expression (`w - lr * g`) or the statement (`w -= lr * g`). */
  span: Expr['span'];
}

type Roles = Map<string, { kind: 'element'; of: Expr } | { kind: 'counter' }>;

/** What each name of a loop or generator target walks: an element of a zip/enumerate argument, or a counter. */
function targetRoles(target: Expr, iter: Expr): Roles | undefined {
  const roles: Roles = new Map();
  const names = target.kind === 'seq' ? target.items : [target];
  if (names.some((n) => n.kind !== 'name')) return undefined;
  const ids = names.map((n) => (n as Expr & { kind: 'name' }).name);
  if (iter.kind === 'call' && iter.callee.kind === 'name' && iter.kwargs.length === 0) {
    const fn = iter.callee.name;
    if (fn === 'zip' && iter.args.length === ids.length && ids.length >= 2) {
      ids.forEach((id, i) => roles.set(id, { kind: 'element', of: iter.args[i] }));
      return roles;
    }
    if (fn === 'enumerate' && iter.args.length === 1 && ids.length === 2) {
      roles.set(ids[0], { kind: 'counter' });
      roles.set(ids[1], { kind: 'element', of: iter.args[0] });
      return roles;
    }
    if (fn === 'range' && ids.length === 1) {
      roles.set(ids[0], { kind: 'counter' });
      return roles;
    }
  }
  return undefined;
}

/** The collection an item read walks: `w` (an element of a zip argument) or `ws[i]` (indexed by a counter). */
function itemOf(e: Expr, roles: Roles): Expr | undefined {
  if (e.kind === 'name') {
    const r = roles.get(e.name);
    return r?.kind === 'element' ? r.of : undefined;
  }
  if (e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'name' && roles.get(e.index[0].name)?.kind === 'counter') {
    return e.object.kind === 'name' || e.object.kind === 'attr' ? e.object : undefined;
  }
  return undefined;
}

function readsAny(e: Expr, names: Set<string>): boolean {
  let found = false;
  const visit = (x: Expr): void => {
    if (found) return;
    if (x.kind === 'name' && names.has(x.name)) found = true;
    else forEachChild(x, visit);
  };
  visit(e);
  return found;
}

/**
 * `c * g`, `g * c`, `c / n * g`, `g / n`: the gradient's item times a scalar that reads none of the
 * loop's names. The gradient item found, or undefined.
 */
function scaledGradient(e: Expr, roles: Roles, stepped: string): { gradient: Expr; gradients: Expr } | undefined {
  const names = new Set(roles.keys());
  const leaf = (x: Expr): { gradient: Expr; gradients: Expr } | undefined => {
    const of = itemOf(x, roles);
    const key = of && exprKey(of);
    return of && key !== undefined && key !== stepped ? { gradient: x, gradients: of } : undefined;
  };
  const direct = leaf(e);
  if (direct) return direct;
  if (e.kind !== 'binary' || (e.op !== '*' && e.op !== '/')) return undefined;
  const left = scaledGradient(e.left, roles, stepped);
  if (left && !readsAny(e.right, names)) return left;
  if (e.op === '*' && !readsAny(e.left, names)) return scaledGradient(e.right, roles, stepped);
  return undefined;
}

function stepIn(item: Expr, increment: Expr, roles: Roles, span: Expr['span']): ItemStep | undefined {
  const collection = itemOf(item, roles);
  const key = collection && exprKey(collection);
  if (!collection || key === undefined) return undefined;
  const g = scaledGradient(increment, roles, key);
  const gradientKey = g && exprKey(g.gradients);
  if (!g || gradientKey === undefined) return undefined;
  return { collection, key, gradients: g.gradients, gradientKey, gradient: g.gradient, item, span };
}

/** `[w - lr * g for w, g in zip(ws, grads)]` as the new value of `key`: a step of its own items. */
export function comprehensionStep(value: Expr, key: string): ItemStep | undefined {
  if (value.kind !== 'comprehension' || value.generators.length !== 1 || value.filtered) return undefined;
  const g = value.generators[0];
  const roles = targetRoles(g.target, g.iter);
  const e = value.element;
  if (!roles || e.kind !== 'binary' || e.op !== '-') return undefined;
  const step = stepIn(e.left, e.right, roles, e.span);
  return step && step.key === key ? step : undefined;
}

/** `for w, g in zip(ws, grads): w -= lr * g` (or `ws[i] = ws[i] - lr * grads[i]`), the loop's one statement. */
export function loopStep(stmt: Stmt): ItemStep | undefined {
  if (stmt.kind !== 'for' || stmt.body.length !== 1) return undefined;
  const roles = targetRoles(stmt.target, stmt.iter);
  const s = stmt.body[0];
  if (!roles || s.kind !== 'assign' || s.targets.length !== 1) return undefined;
  const target = s.targets[0];
  if (s.op === '-') return stepIn(target, s.value, roles, s.span);
  if (s.op === undefined && s.value.kind === 'binary' && s.value.op === '-' && exprKey(s.value.left) === exprKey(target)) return stepIn(target, s.value.right, roles, s.span);
  return undefined;
}
