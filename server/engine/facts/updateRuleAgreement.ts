// Whether the functions a run-time-chosen entry may be (resolve.ts, `chosenEntryTarget`) agree on
// what a rule reads through a call of it: each is an update rule `(value, direction, …)` that
// returns the value plus a positive multiple of the direction. The multiple may be a learning rate
// (`value + lr * d`), a velocity the rule accumulates from d (`v = mu * v + lr * d; value + v`,
// or `v = mu * v - lr * d; value - v`), a moving average of d scaled by a positive normalizer
// (Adam's `m / (sqrt(v) + eps)`). Hyperparameters and state read as positive scalars, as the
// Analyzer reads a coefficient. Anything else (a rule that subtracts the direction, an activation
// that ignores it, a square of it) breaks the agreement. The agreed rule the call is read through
// is the plainest: one whose returned step is the direction times factors that do not depend on it.
import type { Expr } from '../ir';
import type { FunctionDef, Scope } from './scope';
import { explicitParams, forEachChild } from './scope';
import { exprKey } from './keys';
import { MAGNITUDE_FUNCTIONS } from './catalogue';

/** How an expression depends on the direction: +1 along it, −1 against it, 0 not at all, undefined unknown. */
type Dependence = 1 | -1 | 0 | undefined;

/** A candidate with the values it returns (resolve.ts's `returnsOf`). */
export interface RuleCandidate {
  fn: FunctionDef;
  returns: readonly { expr: Expr; scope: Scope; at: number }[];
}

const MAX_DEPTH = 12;

/** The plainest of the candidates when every one adds a positive multiple of its second argument to its first; else undefined. */
export function agreedUpdateRule(candidates: readonly RuleCandidate[], python: boolean): FunctionDef | undefined {
  let plainest: FunctionDef | undefined;
  for (const c of candidates) {
    const shape = updateShape(c, python);
    if (!shape) return undefined;
    if (shape.plain && !plainest) plainest = c.fn;
  }
  return plainest;
}

interface Reader {
  fn: FunctionDef;
  value: string;
  direction: string;
}

/** Whether a candidate returns `value ± step` with the step along its direction; `plain` when the step is the direction times free factors. */
function updateShape(c: RuleCandidate, python: boolean): { plain: boolean } | undefined {
  const params = python ? explicitParams(c.fn) : c.fn.params;
  if (params.length < 2 || params.slice(0, 2).some((p) => p.rest) || c.returns.length !== 1) return undefined;
  const reader: Reader = { fn: c.fn, value: params[0].name, direction: params[1].name };
  const r = c.returns[0];
  const split = splitValue(reader, r.expr, r.scope, r.at, 0);
  if (!split) return undefined;
  const along = split.sign * (dependence(reader, split.step, r.scope, r.at, 0) ?? 0);
  if (along !== 1) return undefined;
  return { plain: split.sign === 1 && split.bindings === 0 && isPlainStep(reader, split.step) };
}

/** `value + step` / `step + value` / `value - step`, also through a local the function returns (`newVal = value + …; return newVal`). */
function splitValue(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): { step: Expr; sign: 1 | -1; bindings: number } | undefined {
  if (depth > 3) return undefined;
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
    if (isName(e.left, reader.value)) return { step: e.right, sign: e.op === '+' ? 1 : -1, bindings: depth };
    if (e.op === '+' && isName(e.right, reader.value)) return { step: e.left, sign: 1, bindings: depth };
    return undefined;
  }
  const bound = localBinding(reader, e, scope, at);
  return bound ? splitValue(reader, bound.value, bound.scope, bound.at, depth + 1) : undefined;
}

function isName(e: Expr, name: string): boolean {
  return e.kind === 'name' && e.name === name;
}

/** The direction times factors that are no function of it (`lr * d`, `d * lr / n`). */
function isPlainStep(reader: Reader, e: Expr): boolean {
  if (isName(e, reader.direction)) return true;
  if (e.kind !== 'binary' || (e.op !== '*' && e.op !== '/')) return false;
  if (e.op === '/') return isPlainStep(reader, e.left) && !mentions(e.right, reader);
  return (isPlainStep(reader, e.left) && !mentions(e.right, reader)) || (isPlainStep(reader, e.right) && !mentions(e.left, reader));
}

function mentions(e: Expr, reader: Reader): boolean {
  if (e.kind === 'name') return e.name === reader.direction || e.name === reader.value;
  let found = false;
  forEachChild(e, (x) => {
    if (!found && mentions(x, reader)) found = true;
  });
  return found;
}

/** The binding a name, attribute or element read in the function has there, when the function itself makes it (once, not accumulated). */
function localBinding(reader: Reader, e: Expr, scope: Scope, at: number): { value: Expr; scope: Scope; at: number } | undefined {
  if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return undefined;
  const key = exprKey(e);
  if (key === undefined) return undefined;
  const b = scope.lookup(key, at);
  if (!b || !within(b.scope, reader.fn.scope)) return undefined;
  return b.kind === 'assign' && b.value && !b.op ? { value: b.value, scope: b.scope, at: b.at } : undefined;
}

/** Whether the function binds the name itself other than as a parameter: accumulated (`v += d`) or a loop variable, no single value to read. */
function madeInFunction(reader: Reader, e: Expr, scope: Scope, at: number): boolean {
  const key = exprKey(e);
  if (key === undefined) return false;
  const b = scope.lookup(key, at);
  return !!b && b.kind !== 'param' && within(b.scope, reader.fn.scope);
}

function within(s: Scope | undefined, outer: Scope): boolean {
  for (let x = s; x; x = x.parent) if (x === outer) return true;
  return false;
}

function combine(a: Dependence, b: Dependence): Dependence {
  if (a === undefined || b === undefined) return undefined;
  if (a === 0) return b;
  if (b === 0 || a === b) return a;
  return undefined;
}

function negate(a: Dependence): Dependence {
  return a === undefined || a === 0 ? a : a === 1 ? -1 : 1;
}

/** How `e` depends on the direction, read through the function's own bindings. */
function dependence(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): Dependence {
  if (depth > MAX_DEPTH) return undefined;
  const D = (x: Expr): Dependence => dependence(reader, x, scope, at, depth + 1);
  switch (e.kind) {
    case 'num':
    case 'str':
      return 0;
    case 'name':
      if (e.name === reader.direction) return 1;
      if (e.name === reader.value) return undefined;
      return bound(reader, e, scope, at, depth);
    case 'attr':
    case 'index':
      if (mentions(e, reader)) return undefined;
      return bound(reader, e, scope, at, depth);
    case 'unary':
      if (e.op === '-') return negate(D(e.arg));
      return e.op === '+' ? D(e.arg) : D(e.arg) === 0 ? 0 : undefined;
    case 'binary': {
      const l = D(e.left);
      const r = D(e.right);
      if (l === 0 && r === 0) return 0;
      if (e.op === '+') return combine(l, r);
      if (e.op === '-') return combine(l, negate(r));
      if (e.op === '*') {
        if (l === 0 && r !== undefined) return times(r, positivity(reader, e.left, scope, at, depth + 1));
        if (r === 0 && l !== undefined) return times(l, positivity(reader, e.right, scope, at, depth + 1));
        return undefined;
      }
      if (e.op === '/') {
        if (l === undefined || l === 0) return undefined;
        // Divided by a positive normalizer, even one computed from the direction (Adam's sqrt(v) + eps).
        if (r === 0) return times(l, positivity(reader, e.right, scope, at, depth + 1));
        return positiveDefinite(reader, e.right, scope, at, depth + 1) ? l : undefined;
      }
      return undefined;
    }
    case 'cond': {
      const a = D(e.then);
      const b = D(e.else);
      return a === b ? a : undefined;
    }
    case 'call':
    case 'other': {
      const parts: Expr[] = [];
      forEachChild(e, (x) => void parts.push(x));
      return parts.every((x) => D(x) === 0) ? 0 : undefined;
    }
    default:
      return undefined;
  }
}

/** A name or field the function binds: what it was bound to; one it does not bind (a hyperparameter, a state read): no function of the direction. */
function bound(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): Dependence {
  const local = localBinding(reader, e, scope, at);
  if (local) return dependence(reader, local.value, local.scope, local.at, depth + 1);
  return madeInFunction(reader, e, scope, at) ? undefined : 0;
}

function times(a: Dependence, sign: 1 | -1 | undefined): Dependence {
  if (a === undefined || sign === undefined) return undefined;
  return a === 0 ? 0 : sign === 1 ? a : negate(a);
}

/** The sign of a factor that is no function of the direction: hyperparameters and state read as positive; `1 − β^t` positive. */
function positivity(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): 1 | -1 | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const P = (x: Expr): 1 | -1 | undefined => positivity(reader, x, scope, at, depth + 1);
  switch (e.kind) {
    case 'num':
      return e.value > 0 ? 1 : e.value < 0 ? -1 : undefined;
    case 'name':
    case 'attr':
    case 'index': {
      const local = localBinding(reader, e, scope, at);
      return local ? positivity(reader, local.value, local.scope, local.at, depth + 1) : 1;
    }
    case 'unary':
      return e.op === '-' ? (P(e.arg) === 1 ? -1 : P(e.arg) === -1 ? 1 : undefined) : e.op === '+' ? P(e.arg) : undefined;
    case 'binary': {
      if (e.op === '*' || e.op === '/') {
        const a = P(e.left);
        const b = P(e.right);
        return a && b ? (a === b ? 1 : -1) : undefined;
      }
      if (e.op === '+') return P(e.left) === 1 && P(e.right) === 1 ? 1 : undefined;
      // `1 - beta`, `1 - beta ** t`: the complement of a decay rate, positive.
      if (e.op === '-' && e.left.kind === 'num' && e.left.value === 1) return 1;
      return undefined;
    }
    case 'call':
      return isMagnitudeCall(e) ? 1 : undefined;
    default:
      return undefined;
  }
}

/** A normalizer that is positive whatever it is computed from: `sqrt(v) + eps`, `eps + sqrt(cache)`. */
function positiveDefinite(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (e.kind === 'num') return e.value > 0;
  if (e.kind === 'binary' && e.op === '+') {
    const l = nonNegative(reader, e.left, scope, at, depth + 1);
    const r = nonNegative(reader, e.right, scope, at, depth + 1);
    return (l && positiveDefinite(reader, e.right, scope, at, depth + 1)) || (r && positiveDefinite(reader, e.left, scope, at, depth + 1));
  }
  const local = localBinding(reader, e, scope, at);
  return local ? positiveDefinite(reader, local.value, local.scope, local.at, depth + 1) : false;
}

function nonNegative(reader: Reader, e: Expr, scope: Scope, at: number, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (e.kind === 'num') return e.value >= 0;
  if (e.kind === 'call') return isMagnitudeCall(e);
  if (e.kind === 'binary' && e.op === '+') return nonNegative(reader, e.left, scope, at, depth + 1) && nonNegative(reader, e.right, scope, at, depth + 1);
  const local = localBinding(reader, e, scope, at);
  return local ? nonNegative(reader, local.value, local.scope, local.at, depth + 1) : false;
}

/** `Math.sqrt(x)`, `np.sqrt(x)`, `abs(x)`: a magnitude, never negative. */
function isMagnitudeCall(e: Expr & { kind: 'call' }): boolean {
  const name = e.callee.kind === 'name' ? e.callee.name : e.callee.kind === 'attr' ? e.callee.name : undefined;
  return name !== undefined && MAGNITUDE_FUNCTIONS.has(name);
}
