// A variable that holds a weight's gradient by data flow, whatever it is called: a function starts it
// as zeros shaped like a weight (`np.zeros_like(W)`, `np.zeros(W.shape)`) and returns it in one tuple
// with a loss that adds a penalty on that same weight (`loss += reg * np.sum(W * W)` … `return loss, dW`).
// A loss-and-gradient function (cs231n's `svm_loss_naive`, a course's `cost_and_grad`) hands back the
// loss and the gradient of that loss; course code names the second `dW`, other code `delta`, `acc` or
// `g_w`, and the name is not what makes it one. Asked by `updates.ts` (`gradientRole`) after the
// name-free upstream route and before the name, so a penalty added to such a variable is read as a
// term of a gradient, not as a step of a weight.
//
// Each half of the shape alone says too little: a training function returns its loss beside the
// weights it stepped (`return loss, W`), and a zero array shaped like W is also a velocity or a
// running sum. The weight is the one the returned loss penalizes, so the zeros are that weight's shape
// and the tuple is that loss's: both must hold, and the zeros must be given a term of data or of a
// gradient (zeros that only collect the penalty's values per weight are a report's map, no gradient).
// Cheap: one pass over a function's own statements, and one more per candidate that passes the rest,
// once per function body and pass of `findUpdates` (the caller keeps the answer).
import type { Expr, Stmt } from '../ir';
import type { Analyzer } from './analysis';
import type { Scope, ScopeBuilder } from './scope';
import { baseExpr, exprKey } from './keys';
import { isShapeAttribute, isShapedLikeCall, zeroValue } from './catalogue';
import { ownStatements } from './program';

/** Tuples longer than this are not a loss and its gradients. */
const MAX_ITEMS = 8;

/** The tuples of two to eight plain names the statements return (`return loss, dW, db`). */
export function returnedNameTuples(stmts: readonly Stmt[]): string[][] {
  const tuples: string[][] = [];
  for (const s of stmts) {
    if (s.kind !== 'return' || s.value?.kind !== 'seq') continue;
    const items = s.value.items;
    if (items.length < 2 || items.length > MAX_ITEMS || !items.every((i) => i.kind === 'name')) continue;
    tuples.push(items.map((i) => (i as Expr & { kind: 'name' }).name));
  }
  return tuples;
}

/**
 * The names of `body` (a function's statements) that it returns beside a loss penalizing the weight
 * whose shape of zeros they start from. Empty for most functions: those that return no tuple of names.
 */
export function gradientsBesideLoss(body: Stmt[], scopes: ScopeBuilder, analyzer: Analyzer): Set<string> {
  const found = new Set<string>();
  const stmts = ownStatements(body);
  const tuples = returnedNameTuples(stmts);
  if (tuples.length === 0) return found;
  // The first plain assignment of each returned name, and every assignment of it.
  const first = new Map<string, Stmt & { kind: 'assign' }>();
  const writes = new Map<string, (Stmt & { kind: 'assign' })[]>();
  const returned = new Set(tuples.flat());
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    if (!returned.has(name)) continue;
    if (!s.op && !first.has(name)) first.set(name, s);
    writes.set(name, [...(writes.get(name) ?? []), s]);
  }
  /** The weight whose shape a name's first value is zeros of. */
  const zerosOf = new Map<string, string>();
  for (const [name, s] of first) {
    const weight = shapeSource(s.value);
    const key = weight && exprKey(weight);
    if (key !== undefined) zerosOf.set(name, key);
  }
  if (zerosOf.size === 0) return found;
  /** Whether a name is given a penalty on the weight (by key) anywhere in the function. */
  const penalizes = (name: string, weight: string): boolean =>
    (writes.get(name) ?? []).some((s) => {
      if (s.op === '*' || s.op === '/') return false;
      const scope: Scope = scopes.stmtScopes.get(s) ?? scopes.root;
      return analyzer.summands(s.value, scope, s.span.start).some((x) => {
        const p = analyzer.classifySummand(x).penalty;
        return p !== undefined && p.params.some((o) => o.key === weight);
      });
    });
  /**
   * Whether a name, after its zeros, is given some term that holds data or a gradient, not only
   * weights, knobs and penalties (`dW += X.T.dot(r)`, `acc[:, c] += x`): a gradient of a loss with a data term carries that term's gradient, while
   * zeros that only collect the penalty's values (`pen += reg * W ** 2`, a per-weight map kept for a
   * report) say nothing of being a gradient.
   */
  const carriesData = (name: string): boolean =>
    stmts.some((s) => {
      if (s.kind !== 'assign' || s === first.get(name) || s.op === '*' || s.op === '/' || s.targets.length !== 1) return false;
      const base = baseExpr(s.targets[0]);
      if (base.kind !== 'name' || base.name !== name) return false;
      const scope: Scope = scopes.stmtScopes.get(s) ?? scopes.root;
      return addends(s.value).some((a) => !(a.kind === 'name' && a.name === name) && analyzer.summands(a, scope, s.span.start).some((x) => analyzer.classifySummand(x).tensor));
    });
  for (const names of tuples)
    for (const g of names) {
      const weight = zerosOf.get(g);
      if (weight === undefined || names.includes(weight)) continue;
      if (names.some((l) => l !== g && !zerosOf.has(l) && penalizes(l, weight)) && carriesData(g)) found.add(g);
    }
  return found;
}

/** The terms of a sum as written: `a + b - c` → a, b, c (signs dropped). */
function addends(e: Expr): Expr[] {
  const out: Expr[] = [];
  const stack = [e];
  while (stack.length > 0 && out.length < 64) {
    const x = stack.pop()!;
    if (x.kind === 'binary' && (x.op === '+' || x.op === '-')) stack.push(x.right, x.left);
    else out.push(x);
  }
  return out;
}

/** `np.zeros_like(W)`, `torch.zeros_like(W)`, `np.zeros(W.shape)`: zeros shaped like W, which it returns. */
export function shapeSource(value: Expr): Expr | undefined {
  if (value.kind !== 'call' || zeroValue(value) !== 'array') return undefined;
  const fn = value.callee.kind === 'attr' ? value.callee.name : value.callee.kind === 'name' ? value.callee.name : undefined;
  const first = value.args[0];
  if (!fn || !first) return undefined;
  if (isShapedLikeCall(fn) || fn === 'zerosLike') return first.kind === 'name' || first.kind === 'attr' || first.kind === 'index' ? first : undefined;
  if (first.kind === 'attr' && isShapeAttribute(first.name) && value.args.length === 1) return first.object;
  return undefined;
}
