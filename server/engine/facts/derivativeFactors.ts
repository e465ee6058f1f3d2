// Factors of a product that are an activation's derivative, written out: σ'(z) = o·(1 − o) with o the
// sigmoid's output, tanh'(z) = 1 − o², ReLU's mask (z > 0). Each is ≥ 0 (o in (0, 1), |o| < 1, a
// comparison is 0 or 1), so a backpropagated error multiplied by it keeps its sign:
// `delta = (t − o) · o · (1 − o)` holds −∇loss as `t − o` does. Read from the product's written
// shape only (the same expression o on both sides of the pair), never from names.
import type { Expr } from '../ir';
import { numberOf } from './analysis';
import { CAST_METHODS, SQUARE_FUNCTIONS } from './catalogue';

/** The factors of a chain of `*` (parentheses flattened), in order. */
export function productChain(e: Expr): Expr[] {
  if (e.kind === 'binary' && e.op === '*') return [...productChain(e.left), ...productChain(e.right)];
  return [e];
}

export interface DerivativeFactors {
  /** Factors that are a derivative on their own or with a partner: o and (1 − o), 1 − o², 1 − o·o. */
  positive: Set<number>;
  /** Comparisons (a ReLU mask `z > 0`, `(z > 0).astype(float)`): 0 or 1, positive only beside a gradient. */
  masks: Set<number>;
}

/**
 * Which factors of `chain` are an activation's derivative. `text` gives an expression's source with
 * whitespace dropped (two factors are the same expression when they read the same). Undefined when none is.
 */
export function derivativeFactors(chain: Expr[], text: (e: Expr) => string): DerivativeFactors | undefined {
  if (chain.length < 2 || chain.length > 12) return undefined;
  const positive = new Set<number>();
  const masks = new Set<number>();
  chain.forEach((f, j) => {
    const o = oneMinus(f);
    if (o) {
      // 1 − o², 1 − o·o, 1 − square(o): tanh's derivative through its output.
      if (isSquare(o, text)) {
        positive.add(j);
        return;
      }
      // o · (1 − o): the sigmoid's, its output o a partner factor of the same product.
      const ot = text(o);
      const i = chain.findIndex((g, k) => k !== j && !positive.has(k) && text(g) === ot);
      if (i >= 0) {
        positive.add(i);
        positive.add(j);
      }
      return;
    }
    if (isMask(f)) masks.add(j);
  });
  return positive.size > 0 || masks.size > 0 ? { positive, masks } : undefined;
}

/** `1 - x` (also `1.0 - x`): x. */
function oneMinus(e: Expr): Expr | undefined {
  return e.kind === 'binary' && e.op === '-' && numberOf(e.left) === 1 ? e.right : undefined;
}

function isSquare(e: Expr, text: (e: Expr) => string): boolean {
  if (e.kind === 'binary' && e.op === '**') return numberOf(e.right) === 2;
  if (e.kind === 'binary' && e.op === '*') return text(e.left) === text(e.right);
  if (e.kind === 'call' && e.args.length === 1 && e.kwargs.length === 0) {
    const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
    return name !== undefined && SQUARE_FUNCTIONS.has(name);
  }
  return false;
}

const ORDER = new Set(['>', '>=', '<', '<=']);

/** `z > 0`, `(z > 0).astype(float)`, `float(z > 0)`: 0 or 1 elementwise. */
function isMask(e: Expr): boolean {
  if (e.kind === 'other') return e.ops?.length === 1 && ORDER.has(e.ops[0]) && e.children.length === 2;
  if (e.kind === 'call' && e.callee.kind === 'attr' && CAST_METHODS.has(e.callee.name)) return isMask(e.callee.object);
  if (e.kind === 'call' && e.callee.kind === 'name' && CAST_METHODS.has(e.callee.name) && e.args.length === 1) return isMask(e.args[0]);
  return false;
}

/**
 * Does every span lie inside a factor of a product in `value` that is an activation's derivative
 * (`u` of `(1 - u * u) * d_out`)? Such a term is a piece of a chain-rule product, the local slope
 * times an upstream gradient, not a penalty of u. Walks `value` once (one statement's expression).
 */
export function withinDerivativeFactor(value: Expr, spans: readonly { start: number; end: number }[], text: (e: Expr) => string): boolean {
  if (spans.length === 0) return false;
  const inside = (outer: { start: number; end: number }, s: { start: number; end: number }): boolean => s.start >= outer.start && s.end <= outer.end;
  const stack: Expr[] = [value];
  let seen = 0;
  while (stack.length > 0 && seen++ < 400) {
    const e = stack.pop()!;
    if (!spans.every((s) => inside(e.span, s))) continue;
    if (e.kind === 'binary' && e.op === '*') {
      const chain = productChain(e);
      const found = derivativeFactors(chain, text);
      if (found && [...found.positive].some((j) => spans.every((s) => inside(chain[j].span, s)))) return true;
      stack.push(...chain);
      continue;
    }
    if (e.kind === 'binary') stack.push(e.left, e.right);
    else if (e.kind === 'unary') stack.push(e.arg);
    else if (e.kind === 'call') stack.push(...e.args);
  }
  return false;
}
