// Gradient clipping by the squared norm (NB409). Global-norm clipping compares a threshold θ with
// ‖g‖ = √(Σ g²) and scales every tensor by θ/‖g‖, so the clipped norm is θ. A local S that only ever
// holds Σ g² (started at zero, added sums of squares, or one `sum(...)` of them) used as the divisor of
// θ/S scales by θ/‖g‖²: the clipped norm is θ/‖g‖, which falls as the gradient grows. Read by data
// flow inside one function: every write of S, the tensors whose squares it sums, and a multiplication
// of one of those tensors by θ/S (directly, in place, or through a local) under a test of S against θ
// (or `min(1, θ / S)`). A root anywhere (`torch.sqrt(S)`, `S ** 0.5`, `np.linalg.norm`) makes S a norm,
// not reported. One pass over each function's statements; no name decides anything.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex, definedInFile } from './program';
import { exprKey } from './keys';
import { IN_PLACE_SCALES, MIN_FUNCTIONS, SUM_FUNCTIONS, squareBase, zeroValue } from './catalogue';
import { calleeName } from './direction';
import { unwrap } from './selfBlend';

export interface SquaredNormClip {
  /** The statement that scales a tensor by θ/S. */
  span: Span;
  /** S as written, θ as written, the scaled tensor as written. */
  norm: string;
  threshold: string;
  tensor: string;
  /** The test of S against θ (`if S > θ:`), when there is one. */
  test?: Span;
  /** Where S gets a sum of squares. */
  sum: Span;
}

const cache = new WeakMap<Facts, SquaredNormClip[]>();

interface Walked {
  /** Writes of each local name: its statement and value, and the operator of an augmented write. */
  writes: Map<string, { span: Span; value: Expr; op?: string }[]>;
  /** Statements, each with the `if` tests around it. */
  stmts: { s: Stmt; tests: Expr[] }[];
}

export function squaredNormClips(facts: Facts): SquaredNormClip[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const fn of programIndex(facts).functions) {
    if (!definedInFile(facts, fn) || fn.body.length === 0) continue;
    const w: Walked = { writes: new Map(), stmts: [] };
    walk(fn.body, [], w, 0);
    for (const [name, writes] of w.writes) {
      const squared = sumOfSquares(writes);
      if (!squared) continue;
      const clip = scaled(w, name, squared.tensors);
      if (clip) found.push({ ...clip, norm: name, sum: squared.span });
    }
  }
  cache.set(facts, found);
  return found;
}

function walk(stmts: readonly Stmt[], tests: Expr[], w: Walked, depth: number): void {
  if (depth > 20) return;
  for (const s of stmts) {
    w.stmts.push({ s, tests });
    if (s.kind === 'assign') {
      for (const t of s.targets) {
        if (t.kind !== 'name') continue;
        const list = w.writes.get(t.name) ?? [];
        list.push({ span: s.span, value: s.value, ...(s.op ? { op: s.op } : {}) });
        w.writes.set(t.name, list);
      }
    } else if (s.kind === 'for') {
      // The loop variable is rebound on every pass: a write that is no sum of squares.
      if (s.target.kind === 'name') w.writes.set(s.target.name, [...(w.writes.get(s.target.name) ?? []), { span: s.span, value: s.iter, op: 'for' }]);
      walk(s.body, tests, w, depth + 1);
    } else if (s.kind === 'block') walk(s.body, s.label === 'if' || s.label === 'while' ? [...tests, ...s.heads] : tests, w, depth + 1);
  }
}


/** Every write of S is a zero start, an added sum of squares, or one sum of them: the tensors squared, and where. */
function sumOfSquares(writes: { span: Span; value: Expr; op?: string }[]): { tensors: string[]; span: Span } | undefined {
  const tensors: string[] = [];
  let span: Span | undefined;
  for (const w of writes) {
    const v = unwrap(w.value);
    // A scalar zero start: `0`, `0.0`, `torch.zeros(1)`, `np.zeros(())`, `torch.tensor(0.)`.
    if (!w.op && zeroValue(v) === 'scalar') continue;
    const sq = w.op === '+' ? squaresSummed(v) : !w.op ? summedOverLoop(v) : undefined;
    if (!sq) return undefined;
    tensors.push(...sq);
    span ??= w.span;
  }
  return span && tensors.length > 0 ? { tensors, span } : undefined;
}

/** `sum(<sum of squares> for g in grads)`, `sum([...])`: the tensors squared. */
function summedOverLoop(e: Expr): string[] | undefined {
  if (e.kind === 'call' && e.callee.kind === 'name' && SUM_FUNCTIONS.has(e.callee.name) && e.args.length === 1) {
    const a = unwrap(e.args[0]);
    if (a.kind === 'comprehension') return squaresSummed(unwrap(a.element));
  }
  return undefined;
}

/** Σ x² of one tensor x: `(x ** 2).sum()`, `np.sum(x * x)`, `torch.sum(x.pow(2))`, `x.pow(2).sum()`, `(x * x).sum().item()`: x's key. */
function squaresSummed(e: Expr, depth = 0): string[] | undefined {
  if (depth > 6) return undefined;
  e = unwrap(e);
  if (e.kind !== 'call') return undefined;
  const n = calleeName(e);
  // `.item()`, `float(...)`: the same number.
  if ((n === 'item' && e.callee.kind === 'attr' && e.args.length === 0) || (n === 'float' && e.callee.kind === 'name' && e.args.length === 1)) return squaresSummed(e.callee.kind === 'attr' && n === 'item' ? e.callee.object : e.args[0], depth + 1);
  if (n === undefined || !SUM_FUNCTIONS.has(n)) return undefined;
  const inner = e.callee.kind === 'attr' && e.args.length === 0 ? e.callee.object : e.args.length === 1 && e.callee.kind === 'attr' ? e.args[0] : undefined;
  if (!inner) return undefined;
  const x = squareOf(unwrap(inner));
  return x !== undefined ? [x] : undefined;
}

/** `x * x`, or a square written as one (catalogue.ts `squareBase`: `x ** 2`, `x.pow(2)`, `np.square(x)`, `x.square()`): x's key. */
function squareOf(e: Expr): string | undefined {
  if (e.kind === 'binary' && e.op === '*') {
    const a = exprKey(unwrap(e.left));
    return a !== undefined && a === exprKey(unwrap(e.right)) ? a : undefined;
  }
  const x = squareBase(e);
  return x && exprKey(unwrap(x));
}

/** `θ / S` with θ a plain value (a name, an attribute, a number): θ as written. */
function ratio(e: Expr, norm: string): Expr | undefined {
  e = unwrap(e);
  if (e.kind === 'call' && MIN_FUNCTIONS.has(calleeName(e) ?? '') && e.args.length === 2) {
    const [a, b] = e.args.map(unwrap);
    if (a.kind === 'num' && a.value === 1) return ratio(b, norm);
    if (b.kind === 'num' && b.value === 1) return ratio(a, norm);
    return undefined;
  }
  if (e.kind !== 'binary' || e.op !== '/') return undefined;
  const d = unwrap(e.right);
  const t = unwrap(e.left);
  if (d.kind !== 'name' || d.name !== norm) return undefined;
  return t.kind === 'name' || t.kind === 'attr' || t.kind === 'num' ? t : undefined;
}

/** A multiplication of one of the squared tensors by θ/S (or by a local holding it), under a test of S against θ or through `min(1, θ / S)`. */
function scaled(w: Walked, norm: string, tensors: string[]): Omit<SquaredNormClip, 'norm' | 'sum'> | undefined {
  // Locals given θ / S once (`scale = theta / norm`).
  const held = new Map<string, Expr>();
  for (const [name, writes] of w.writes) {
    if (writes.length !== 1 || writes[0].op) continue;
    const t = ratio(writes[0].value, norm);
    if (t) held.set(name, t);
  }
  const factor = (e: Expr): Expr | undefined => {
    e = unwrap(e);
    if (e.kind === 'name' && held.has(e.name)) return held.get(e.name);
    return ratio(e, norm);
  };
  for (const { s, tests } of w.stmts) {
    let hit: { tensor: string; theta: Expr; guarded: boolean } | undefined;
    const minGuarded = (e: Expr): boolean => {
      e = unwrap(e);
      if (e.kind === 'name' && held.has(e.name)) {
        const v = w.writes.get(e.name)![0].value;
        return unwrap(v).kind === 'call';
      }
      return e.kind === 'call';
    };
    if (s.kind === 'assign' && s.targets.length === 1) {
      const target = exprKey(s.targets[0]);
      const v = unwrap(s.value);
      // `g *= θ / S`
      if (s.op === '*' && target !== undefined && tensors.includes(target)) {
        const t = factor(v);
        if (t) hit = { tensor: target, theta: t, guarded: minGuarded(v) };
      }
      // `x = [g * (θ / S) for g in grads]`, `g = g * (θ / S)`
      if (!hit && !s.op) {
        const product = v.kind === 'comprehension' ? unwrap(v.element) : v;
        if (product.kind === 'binary' && product.op === '*') {
          for (const [a, b] of [[product.left, product.right], [product.right, product.left]]) {
            const key = exprKey(unwrap(a));
            const t = factor(b);
            if (key !== undefined && tensors.includes(key) && t) hit = { tensor: key, theta: t, guarded: minGuarded(b) };
          }
        }
      }
    } else if (s.kind === 'expr') {
      // `g.mul_(θ / S)`
      const e = unwrap(s.expr);
      if (e.kind === 'call' && e.callee.kind === 'attr' && IN_PLACE_SCALES.has(e.callee.name) && e.args.length === 1) {
        const key = exprKey(e.callee.object);
        const t = factor(e.args[0]);
        if (key !== undefined && tensors.includes(key) && t) hit = { tensor: key, theta: t, guarded: minGuarded(e.args[0]) };
      }
    }
    if (!hit) continue;
    const theta = exprKey(hit.theta) ?? (hit.theta.kind === 'num' ? String(hit.theta.value) : undefined);
    if (theta === undefined) continue;
    const test = tests.find((t) => comparesWith(t, norm, theta));
    if (!test && !hit.guarded) continue;
    return { span: s.span, threshold: theta, tensor: hit.tensor, ...(test ? { test: test.span } : {}) };
  }
  return undefined;
}

/** `S > θ`, `θ < S`, `S >= θ`, `θ <= S`. */
function comparesWith(test: Expr, norm: string, theta: string): boolean {
  const t = unwrap(test);
  if (t.kind !== 'other' || t.ops?.length !== 1 || t.children.length !== 2) return false;
  const [a, b] = t.children.map((c) => { const u = unwrap(c); return exprKey(u) ?? (u.kind === 'num' ? String(u.value) : undefined); });
  const op = t.ops[0];
  return ((op === '>' || op === '>=') && a === norm && b === theta) || ((op === '<' || op === '<=') && a === theta && b === norm);
}
