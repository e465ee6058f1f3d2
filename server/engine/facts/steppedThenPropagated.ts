// A weight stepped and then read, in the same iteration of a loop over layers, to send the error back
// to the layer below (NB109): `weights['W' + str(l)] -= alpha * dW`, then `dZ = np.matmul(W.T, dZ)`
// with `W = weights['W' + str(l)]` bound before the step. A NumPy `-=` changes the array in place, so
// `W` names the new weights too; so does an entry of a shallow copy of the weights' dict
// (`old = weights.copy()`, meant to keep the old ones), and the stepped entry itself read again.
// Backpropagation needs the weights the forward pass used: every layer below gets its gradient
// through the weights after their step.
//
// Decided by data flow in one loop body (the statements of `if`s in it included, in order):
//   - the step is an update site whose target reads the loop's own variable (each iteration steps
//     another layer; a loop of iterations stepping one `w`, then the gradient at the new `w`, is
//     gradient descent, not backpropagation);
//   - after it, an assignment `D = …` multiplies the stepped weight (the entry, or an alias of its
//     storage after an in-place step) with the error: `D` itself, or a value derived from `D` before
//     the step (`dZ = dA * g'(Z)`), where `D` is read itself or read in the loop body before the step
//     (the error carried to the next layer). A sum of the new weights (a penalty logged after the step)
//     is not a product with the error.
// Python only: a JavaScript `-=` on an array element is a number's.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { PRODUCT_FUNCTIONS, isMetadataAttribute, isShapeAttribute, shallowContainerCopy } from './catalogue';
import { exprKey } from './keys';
import { forEachChild, someExpr } from './scope';
import { within } from './loops';

export interface SteppedThenPropagated {
  /** The step of the weight. */
  step: UpdateSite;
  /** The weight read after it, in the product. */
  read: Expr;
  /** The assignment that carries the error back through it. */
  carried: Stmt & { kind: 'assign' };
  /** The variable carried (the error `dZ`). */
  error: string;
  /** How the read reaches the new weights: the stepped entry itself, a name bound to it before an in-place step, or an entry of a shallow copy of its container. */
  through: 'entry' | 'alias' | 'copy';
}

const memo = new WeakMap<Facts, SteppedThenPropagated[]>();

export function steppedThenPropagated(facts: Facts): SteppedThenPropagated[] {
  let found = memo.get(facts);
  if (found) return found;
  found = [];
  memo.set(facts, found);
  if (facts.language !== 'python') return found;
  const steps = facts.updates.filter((s) => s.kind === 'update');
  if (steps.length === 0) return found;
  const visit = (stmts: readonly Stmt[], fnBody: readonly Stmt[], depth: number): void => {
    if (depth > 60) return;
    for (const s of stmts) {
      if (s.kind === 'function') visit(s.body, s.body, depth + 1);
      else if (s.kind === 'class' || s.kind === 'block') visit(s.body, fnBody, depth + 1);
      else if (s.kind === 'for') {
        const inLoop = steps.filter((st) => within(st.span, s.span));
        if (inLoop.length > 0) loopFindings(s, fnBody, inLoop, found!);
        visit(s.body, fnBody, depth + 1);
      }
    }
  };
  visit(facts.module.body, facts.module.body, 0);
  return found;
}

function loopFindings(loop: Stmt & { kind: 'for' }, fnBody: readonly Stmt[], steps: UpdateSite[], out: SteppedThenPropagated[]): void {
  const seq = flatten(loop.body);
  const loopNames = namesIn(loop.target);
  for (const step of steps) {
    const at = seq.findIndex((s) => within(step.span, s.span));
    if (at < 0) continue;
    const stepStmt = seq[at];
    const target = step.target;
    if (![...namesIn(target)].some((n) => loopNames.has(n))) continue;
    const inPlace = (stepStmt.kind === 'assign' && stepStmt.op !== undefined) || stepStmt.kind === 'expr';
    // Names bound to the stepped storage before the step, in this iteration.
    const aliases = new Set<string>();
    for (const s of seq.slice(0, at)) {
      if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && writtenAlike(s.value, target)) aliases.add(s.targets[0].name);
    }
    // Shallow copies of the stepped entry's container, made in the function before the loop.
    const copies = new Set<string>();
    if (target.kind === 'index' && target.index.length === 1 && stringKeyed(target.index[0])) {
      for (const s of fnBody) {
        if (s.span.start >= loop.span.start) break;
        if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
        const copied = shallowContainerCopy(s.value);
        if (copied && writtenAlike(copied, target.object)) copies.add(s.targets[0].name);
      }
    }
    const newWeights = (e: Expr): 'entry' | 'alias' | 'copy' | undefined => {
      if (writtenAlike(e, target)) return 'entry';
      if (!inPlace) return undefined;
      if (e.kind === 'name' && aliases.has(e.name)) return 'alias';
      if (e.kind === 'index' && e.object.kind === 'name' && copies.has(e.object.name) && target.kind === 'index' && e.index.length === 1 && writtenAlike(e.index[0], target.index[0])) return 'copy';
      return undefined;
    };
    for (const s of seq.slice(at + 1)) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
      const error = s.targets[0].name;
      if (!readsName(s.value, error) && !readBefore(seq, at, error)) continue;
      // What the product may take the error as: D itself, or this layer's error derived from it before the step (`dZ = dA * g'(Z)`).
      const errors = new Set([error]);
      for (const b of seq.slice(0, at)) if (b.kind === 'assign' && !b.op && b.targets.length === 1 && b.targets[0].kind === 'name' && readsName(b.value, error)) errors.add(b.targets[0].name);
      const product = productOf(s.value, newWeights, errors);
      if (product) {
        out.push({ step, read: product.read, carried: s, error, through: product.through });
        break;
      }
    }
  }
}

/** The loop body's statements in order, with those of its `if`/`with`/`try` blocks (not of nested loops or functions). */
function flatten(stmts: readonly Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === 'block' && s.label !== 'while') {
      out.push(s);
      out.push(...flatten(s.body));
    } else out.push(s);
  }
  return out;
}

/**
 * A product in `value` with the new weights on one side and the error on the other: `W.T @ dZ`,
 * `np.matmul(W.T, dZ)`, `np.dot(W.T, dZ) * g`, `dZ.dot(W.T)`.
 */
function productOf(value: Expr, newWeights: (e: Expr) => 'entry' | 'alias' | 'copy' | undefined, errors: ReadonlySet<string>): { read: Expr; through: 'entry' | 'alias' | 'copy' } | undefined {
  let found: { read: Expr; through: 'entry' | 'alias' | 'copy' } | undefined;
  const weightIn = (e: Expr): { read: Expr; through: 'entry' | 'alias' | 'copy' } | undefined => {
    let hit: { read: Expr; through: 'entry' | 'alias' | 'copy' } | undefined;
    const walk = (x: Expr): void => {
      if (hit) return;
      // `W.shape[0]` reads no value of W.
      if (x.kind === 'attr' && (isShapeAttribute(x.name) || isMetadataAttribute(x.name))) return;
      const through = newWeights(x);
      if (through) {
        hit = { read: x, through };
        return;
      }
      forEachChild(x, walk);
    };
    walk(e);
    return hit;
  };
  const check = (sides: Expr[]): void => {
    for (const side of sides) {
      const w = weightIn(side);
      if (w && sides.some((other) => other !== side && someExpr(other, (x) => x.kind === 'name' && errors.has(x.name)))) {
        found = w;
        return;
      }
    }
  };
  const walk = (x: Expr): void => {
    if (found) return;
    if (x.kind === 'binary' && (x.op === '*' || x.op === '@')) check([x.left, x.right]);
    else if (x.kind === 'call') {
      const callee = x.callee;
      const name = callee.kind === 'attr' || callee.kind === 'name' ? callee.name : undefined;
      if (name !== undefined && PRODUCT_FUNCTIONS.has(name)) check(callee.kind === 'attr' ? [callee.object, ...x.args] : x.args);
    }
    if (!found) forEachChild(x, walk);
  };
  walk(value);
  return found;
}

/** Whether a statement of the loop body up to the step (included) reads `name` before any assigns it: the value carried in from the last iteration. */
function readBefore(seq: readonly Stmt[], at: number, name: string): boolean {
  for (const s of seq.slice(0, at + 1)) {
    if (s.kind === 'assign') {
      if (readsName(s.value, name)) return true;
      if (!s.op && s.targets.some((t) => t.kind === 'name' && t.name === name)) return false;
    } else if (s.kind === 'expr' && readsName(s.expr, name)) return true;
    else if (s.kind === 'block' && s.heads.some((h) => readsName(h, name))) return true;
  }
  return false;
}

function readsName(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}

function namesIn(e: Expr): Set<string> {
  const out = new Set<string>();
  someExpr(e, (x) => {
    if (x.kind === 'name') out.add(x.name);
    return false;
  });
  return out;
}

/** A key of a dict written with a string (`'W' + str(l)`, `f'W{l}'`, `"W1"`): the container is a dict of arrays, not an array. */
function stringKeyed(index: Expr): boolean {
  return someExpr(index, (x) => x.kind === 'str');
}

/** The same place written alike: the same names, attributes and index expressions (`weights['W' + str(l)]`). */
function writtenAlike(a: Expr, b: Expr): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'name' && b.kind === 'name') return a.name === b.name;
  if (a.kind === 'attr' && b.kind === 'attr') return a.name === b.name && writtenAlike(a.object, b.object);
  if (a.kind === 'index' && b.kind === 'index') return a.index.length === b.index.length && writtenAlike(a.object, b.object) && a.index.every((x, i) => writtenAlike(x, b.index[i]));
  if (a.kind === 'num' && b.kind === 'num') return a.value === b.value;
  if (a.kind === 'str' && b.kind === 'str') return a.value === b.value;
  if (a.kind === 'binary' && b.kind === 'binary') return a.op === b.op && writtenAlike(a.left, b.left) && writtenAlike(a.right, b.right);
  if (a.kind === 'call' && b.kind === 'call') return a.args.length === b.args.length && a.kwargs.length === 0 && b.kwargs.length === 0 && writtenAlike(a.callee, b.callee) && a.args.every((x, i) => writtenAlike(x, b.args[i]));
  return exprKey(a) !== undefined && exprKey(a) === exprKey(b) && !someExpr(a, (x) => x.kind === 'index');
}
