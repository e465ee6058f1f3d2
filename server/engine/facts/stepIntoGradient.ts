// An optimizer's step written into the gradient it was driven by (NB410): `update(params, grads)`
// computes a velocity from the gradient, `v[i] = mu * v[i] - lr * grads[i]`, then adds it to that
// gradient, `grads[i] += v[i]`, and never writes the parameters it is given. The parameters never
// move; the next backward pass rebuilds the gradients, and the step is lost.
//
// Decided by data flow in one function, no name deciding anything:
//   - an in-place update `G[k] += S` (or `-=`) of an entry of a parameter G of the function, whose
//     increment reads a state S that the same loop body assigned before it from the same entry G[k]
//     (the state's driving term) and from its own previous value (a carried step, `v = mu*v - lr*g`;
//     a value of G[k] alone, `excess = g * (1 - c); g -= excess`, is a rescale such as clipping);
//   - the update moves G[k] against itself: the sign of G[k] in S's value times the update's sign is
//     negative (`v = mu*v - lr*g; g += v`, `v = mu*v + lr*g; g -= v`), so S is a step (a displacement),
//     not a transformed gradient (Nesterov's `g += mu * v` with `v = mu*v + g` stays silent);
//   - another parameter P of the function is read, and only to size things: `len(P)`, `P.length`, or a loop or a
//     comprehension over P whose variable is only read for its shape (`np.zeros_like(p)`, `p.shape`).
//     The function never writes, steps or hands on the parameters it is given.
// Gradient accumulation (`acc[i] += grads[i]`: no state driven by `acc[i]`), clipping in place
// (`grads[i] *= c`) and coupled L2 (`grads[i] += wd * params[i]`: P read as a value) stay silent.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { isMetadataAttribute, isShapedLikeCall } from './catalogue';
import { writtenAlike } from './entries';
import { forEachChild, someExpr } from './scope';

export interface StepIntoGradient {
  /** The update of the gradient entry (`grads[i] += self.v[i]`). */
  update: Stmt & { kind: 'assign' };
  /** The gradient entry written (`grads[i]`). */
  gradient: Expr;
  /** The state read by the update (`self.v[i]`). */
  state: Expr;
  /** The assignment of the state from the gradient (`self.v[i] = … - self.lr * grads[i]`). */
  driven: Stmt & { kind: 'assign' };
  /** The function and its parameter that holds the parameters, never written. */
  fn: Stmt & { kind: 'function' };
  params: string;
  paramsSpan: Span;
}

const memo = new WeakMap<Facts, StepIntoGradient[]>();

export function stepsIntoGradient(facts: Facts): StepIntoGradient[] {
  let found = memo.get(facts);
  if (found) return found;
  found = [];
  memo.set(facts, found);
  // A walk of the statements only (functions, classes, blocks, loops); expressions are read only in loop
  // bodies of functions with two parameters or more, at in-place `+=`/`-=` of an entry of one of them.
  const visit = (stmts: readonly Stmt[], inClass: boolean, depth: number): void => {
    if (depth > 40) return;
    for (const s of stmts) {
      if (s.kind === 'function') {
        // A Python method's first parameter is its instance; a JS/TS method's are all given.
        inFunction(s, inClass && facts.language === 'python', found!);
        visit(s.body, false, depth + 1);
      } else if (s.kind === 'class') visit(s.body, true, depth + 1);
      else if (s.kind === 'block' || s.kind === 'for') visit(s.body, inClass, depth + 1);
    }
  };
  visit(facts.module.body, false, 0);
  return found;
}

function inFunction(fn: Stmt & { kind: 'function' }, isMethod: boolean, out: StepIntoGradient[]): void {
  const params = fn.params.filter((p, i) => !p.rest && !(isMethod && i === 0)).map((p) => p.name);
  if (params.length < 2) return;
  // Loop bodies of the function (not of nested functions), each with its statements in order.
  const bodies: Stmt[][] = [];
  const collect = (stmts: Stmt[], depth: number): void => {
    if (depth > 30) return;
    for (const s of stmts) {
      if (s.kind === 'for' || (s.kind === 'block' && s.label === 'while')) {
        bodies.push(flatten(s.body));
        collect(s.body, depth + 1);
      } else if (s.kind === 'block') collect(s.body, depth + 1);
    }
  };
  collect(fn.body, 0);
  for (const seq of bodies) {
    for (let k = 0; k < seq.length; k++) {
      const u = seq[k];
      if (u.kind !== 'assign' || (u.op !== '+' && u.op !== '-') || u.targets.length !== 1) continue;
      const g = u.targets[0];
      if (g.kind !== 'index' || g.object.kind !== 'name' || !params.includes(g.object.name)) continue;
      const gName = g.object.name;
      // The state the update reads, assigned before it in this loop body from the same entry.
      for (let j = k - 1; j >= 0; j--) {
        const d = seq[j];
        if (d.kind !== 'assign' || d.op || d.targets.length !== 1) continue;
        const state = d.targets[0];
        if (writtenAlike(state, g) || !someExpr(u.value, (x) => writtenAlike(x, state))) continue;
        // A step carries its state over iterations (`v = mu * v - lr * g`): a value of the entry alone
        // (`excess = g * (1 - c)`, `shrink = lr * g`) makes the update a rescale of the gradient (clipping, damping).
        if (!someExpr(d.value, (x) => writtenAlike(x, state))) continue;
        const sign = signOf(d.value, (x) => writtenAlike(x, g));
        if (sign === undefined) continue;
        // The update moves the entry against itself: a descent step on the gradient.
        const inc = (u.op === '+' ? 1 : -1) * (signOf(u.value, (x) => writtenAlike(x, state)) ?? 0);
        if (inc * sign >= 0) break;
        const p = params.find((name) => name !== gName && onlySized(fn.body, name));
        if (p === undefined) break;
        const param = fn.params.find((x) => x.name === p)!;
        out.push({ update: u, gradient: g, state, driven: d, fn, params: p, paramsSpan: param.span });
        break;
      }
    }
  }
}

/** The loop body's statements in order, with those of its `if`/`with`/`try` blocks. */
function flatten(stmts: readonly Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === 'block' && s.label !== 'while') out.push(...flatten(s.body));
    else out.push(s);
  }
  return out;
}

/**
 * The sign with which a sum reads the term holding `hit` (`mu * v - lr * g` reads g with −1): +1 or −1
 * when exactly one term of the top-level sum holds it, as a product of factors; undefined otherwise.
 */
function signOf(e: Expr, hit: (x: Expr) => boolean): number | undefined {
  const terms: { sign: number; e: Expr }[] = [];
  const split = (x: Expr, sign: number, depth: number): void => {
    if (depth > 20) return;
    if (x.kind === 'binary' && (x.op === '+' || x.op === '-')) {
      split(x.left, sign, depth + 1);
      split(x.right, x.op === '-' ? -sign : sign, depth + 1);
    } else if (x.kind === 'unary' && x.op === '-') split(x.arg, -sign, depth + 1);
    else terms.push({ sign, e: x });
  };
  split(e, 1, 0);
  const holding = terms.filter((t) => someExpr(t.e, hit));
  if (holding.length !== 1) return undefined;
  const t = holding[0];
  // A product (or the entry alone): `lr * g`, `g`, `(1 - b) * g`; not inside a call that may change its sign.
  let sign = t.sign;
  let x = t.e;
  for (let depth = 0; depth < 20; depth++) {
    if (hit(x)) return sign;
    if (x.kind === 'binary' && (x.op === '*' || x.op === '/')) {
      const inLeft = someExpr(x.left, hit);
      const inRight = someExpr(x.right, hit);
      if (inLeft === inRight || (x.op === '/' && inRight)) return undefined;
      const other = inLeft ? x.right : x.left;
      const s = constantSign(other);
      if (s === undefined) return undefined;
      sign *= s;
      x = inLeft ? x.left : x.right;
    } else if (x.kind === 'unary' && x.op === '-') {
      sign = -sign;
      x = x.arg;
    } else if (x.kind === 'seq' && x.items.length === 1) x = x.items[0];
    else return undefined;
  }
  return undefined;
}

/** The sign of a factor beside the entry: a name, an attribute or a positive number is +1 (a rate, a β); `-c` flips it; `(1 - b)` counts as positive. */
function constantSign(e: Expr, depth = 0): number | undefined {
  if (depth > 10) return undefined;
  if (e.kind === 'num') return e.value > 0 ? 1 : e.value < 0 ? -1 : undefined;
  if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') return 1;
  if (e.kind === 'unary' && e.op === '-') {
    const s = constantSign(e.arg, depth + 1);
    return s === undefined ? undefined : -s;
  }
  if (e.kind === 'seq' && e.items.length === 1) return constantSign(e.items[0], depth + 1);
  if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) {
    const a = constantSign(e.left, depth + 1);
    const b = constantSign(e.right, depth + 1);
    return a === undefined || b === undefined ? undefined : a * b;
  }
  // `1 - beta`: a complement of a coefficient below 1.
  if (e.kind === 'binary' && e.op === '-' && e.left.kind === 'num' && e.left.value === 1) return 1;
  return undefined;
}

/**
 * Every read of `name` in the function is `len(name)`, or the collection of a loop or comprehension
 * whose variable is only read for its shape (`np.zeros_like(p)`, `p.shape`): the function sizes its
 * state from the parameters and never reads, writes or hands them on otherwise.
 */
function onlySized(body: readonly Stmt[], name: string): boolean {
  let uses = 0;
  let sized = 0;
  let ok = true;
  const isName = (e: Expr, n: string): boolean => e.kind === 'name' && e.name === n;
  const count = (e: Expr, n: string): number => {
    let c = 0;
    someExpr(e, (x) => {
      if (isName(x, n)) c++;
      return false;
    });
    return c;
  };
  /** All reads of the loop variable in `e` are shape reads. */
  const shapeOnly = (e: Expr, v: string): boolean => {
    let bad = false;
    const walk = (x: Expr, depth: number): void => {
      if (bad || depth > 60) return;
      if (x.kind === 'call' && (x.callee.kind === 'attr' || x.callee.kind === 'name') && isShapedLikeCall(x.callee.name) && x.args.length >= 1 && isName(x.args[0], v)) {
        x.args.slice(1).forEach((a) => walk(a, depth + 1));
        x.kwargs.forEach((k) => walk(k.value, depth + 1));
        return;
      }
      if (x.kind === 'attr' && isMetadataAttribute(x.name) && isName(x.object, v)) return;
      if (isName(x, v)) {
        bad = true;
        return;
      }
      forEachChild(x, (c) => walk(c, depth + 1));
    };
    walk(e, 0);
    return !bad;
  };
  const expr = (e: Expr, depth: number): void => {
    if (!ok || depth > 60) return;
    if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'len' && e.args.length === 1 && isName(e.args[0], name)) {
      uses++;
      sized++;
      return;
    }
    // JavaScript's `params.length`.
    if (e.kind === 'attr' && e.name === 'length' && isName(e.object, name)) {
      uses++;
      sized++;
      return;
    }
    if (e.kind === 'comprehension') {
      for (const g of e.generators) {
        if (isName(g.iter, name)) {
          if (g.target.kind !== 'name' || !shapeOnly(e.element, g.target.name)) {
            ok = false;
            return;
          }
          uses++;
          sized++;
        } else expr(g.iter, depth + 1);
      }
      if (count(e.element, name) > 0) ok = false;
      return;
    }
    if (isName(e, name)) uses++;
    forEachChild(e, (c) => expr(c, depth + 1));
  };
  const stmts = (ss: readonly Stmt[], depth: number): void => {
    for (const s of ss) {
      if (!ok || depth > 30) return;
      switch (s.kind) {
        case 'assign':
          s.targets.forEach((t) => (count(t, name) > 0 ? (ok = false) : undefined));
          expr(s.value, depth + 1);
          break;
        case 'expr':
          expr(s.expr, depth + 1);
          break;
        case 'return':
          if (s.value) expr(s.value, depth + 1);
          break;
        case 'for':
          if (isName(s.iter, name)) {
            if (s.target.kind !== 'name' || !s.body.every((b) => stmtShapeOnly(b, s.target.kind === 'name' ? s.target.name : '', shapeOnly))) {
              ok = false;
              return;
            }
            uses++;
            sized++;
          } else expr(s.iter, depth + 1);
          if (count(s.target, name) > 0) ok = false;
          stmts(s.body, depth + 1);
          break;
        case 'block':
          s.heads.forEach((h) => expr(h, depth + 1));
          stmts(s.body, depth + 1);
          break;
        case 'function':
        case 'class':
          // A nested function or class reading the name is not followed: give up.
          if (mentions(s.body, name)) ok = false;
          break;
        case 'delete':
          if (s.targets.some((t) => count(t, name) > 0)) ok = false;
          break;
        default:
          break;
      }
    }
  };
  stmts(body, 0);
  return ok && uses > 0 && uses === sized;
}

/** A statement of a loop over the parameters reads the loop variable only for its shape (`self.v.append(np.zeros_like(p))`). */
function stmtShapeOnly(s: Stmt, v: string, shapeOnly: (e: Expr, v: string) => boolean): boolean {
  switch (s.kind) {
    case 'assign':
      return s.targets.every((t) => !someExpr(t, (x) => x.kind === 'name' && x.name === v)) && shapeOnly(s.value, v);
    case 'expr':
      return shapeOnly(s.expr, v);
    case 'block':
      return s.heads.every((h) => shapeOnly(h, v)) && s.body.every((b) => stmtShapeOnly(b, v, shapeOnly));
    case 'for':
      return shapeOnly(s.iter, v) && s.body.every((b) => stmtShapeOnly(b, v, shapeOnly));
    case 'return':
      return !s.value || shapeOnly(s.value, v);
    default:
      return false;
  }
}

function mentions(stmts: readonly Stmt[], name: string): boolean {
  const inExpr = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && x.name === name);
  return stmts.some((s) => {
    switch (s.kind) {
      case 'assign':
        return s.targets.some(inExpr) || inExpr(s.value);
      case 'expr':
        return inExpr(s.expr);
      case 'return':
        return s.value !== undefined && inExpr(s.value);
      case 'for':
        return inExpr(s.iter) || mentions(s.body, name);
      case 'block':
        return s.heads.some(inExpr) || mentions(s.body, name);
      case 'function':
      case 'class':
        return mentions(s.body, name);
      default:
        return false;
    }
  });
}
