// A penalty accumulated inside a loop it does not depend on: `cost = 0.0; for x, y in data:
// cost += fit(x, y) / len(data); cost += 0.5 * (lmbda / len(data)) * Σ‖w‖²` adds the penalty once
// per element of `data`, so the cost holds it len(data) times. Read by data flow: the accumulation
// `+=` that writes the penalty sits in a loop that the variable's `= 0` does not, and what it adds
// reads no name that loop binds (its variables, or anything assigned in its body).
import type { Expr, Span } from '../ir';
import type { Coef } from '../../math/terms';
import { equalCoef, coef as makeCoef } from '../../math/coef';
import { returnsOf } from './resolve';
import type { Facts } from './index';
import type { Binding, Scope } from './scope';
import { someExpr } from './scope';
import { exprKey } from './keys';
import { programIndex } from './program';

export interface RepeatedPenalty {
  /** How many times the loop adds it: `len(data)`, or the bound of `range(N)`. */
  count: Coef;
  /** The loop's iterable, for messages. */
  loop: Expr;
}

/** Whether the penalty written at `span` is added once per iteration of a loop, and how many times. */
export function repeatedPenalty(entry: Facts, span: Span): RepeatedPenalty | undefined {
  const facts = entry.program.factsAt(span) ?? entry;
  const scope = programIndex(facts).scopeAt(span.start);
  const own = accumulationAt(scope, span);
  if (!own || own.branches?.length) return undefined; // in an `if` inside the loop: how often is not known
  const init = scope
    .allBindings(own.key)
    .filter((b) => b.kind === 'assign' && !b.op && b.at < own.at)
    .pop();
  if (!init || init.value?.kind !== 'num' || init.value.value !== 0) return undefined;
  // The innermost loop around the accumulation that does not also hold the `= 0`.
  const outside = own.loops.filter((l) => !init.loops.includes(l));
  if (outside.length !== 1) return undefined;
  const iter = outside[0];
  if (readsLoopNames(scope, own, iter)) return undefined;
  const count = loopCount(facts, iter, scope, own.at);
  if (!count || returnedOver(facts, scope, own, count)) return undefined;
  return { count, loop: iter };
}

/**
 * Does the function return the accumulator divided by the loop's count (`return loss / batch_size`,
 * `return cost / steps, dW`)? Then the cost holds the penalty once, as after `loss /= batch_size`
 * (which losses.ts reads as a cost scaled later).
 */
function returnedOver(facts: Facts, scope: Scope, own: Binding, count: Coef): boolean {
  const fn = programIndex(facts).enclosingFunction(scope);
  if (!fn) return false;
  return returnsOf(facts.program, fn).some((r) => {
    const value = r.expr.kind === 'seq' && r.expr.items.length > 0 ? r.expr.items[0] : r.expr;
    if (r.at <= own.at || value.kind !== 'binary' || value.op !== '/' || exprKey(value.left) !== own.key) return false;
    const p = facts.analyzer.classify(value.right, r.scope, r.at);
    return !p.tensor && !p.penalty && p.params.length === 0 && equalCoef(p.coef, count);
  });
}

/** The `x += …` binding of the scope (or an enclosing one) whose added value holds the span. */
function accumulationAt(scope: Scope, span: Span): Binding | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    for (const list of s.bindings.values()) {
      for (const b of list) {
        if (b.op !== '+' || !b.value || b.loops.length === 0) continue;
        if (b.value.span.start <= span.start && span.end <= b.value.span.end) return b;
      }
    }
    if (s.kind === 'function' || s.kind === 'class') break;
  }
  return undefined;
}

/** Does the added value read a name the loop binds: one of its variables, or a name assigned in its body? */
function readsLoopNames(scope: Scope, own: Binding, iter: Expr): boolean {
  const bound = new Set<string>();
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    for (const [key, list] of s.bindings) if (list.some((b) => b !== own && (b.loop?.iter === iter || b.loops.includes(iter)))) bound.add(key);
    if (s.kind === 'function' || s.kind === 'class') break;
  }
  return someExpr(own.value!, (x) => {
    if (x.kind !== 'name' && x.kind !== 'attr') return false;
    const key = exprKey(x);
    return key !== undefined && bound.has(key);
  });
}

/** `for x in data` → len(data) (`for (const x of data)` → data.length); `for i in range(N)` → N. Other loops: not counted. */
function loopCount(facts: Facts, iter: Expr, scope: Scope, at: number): Coef | undefined {
  if (iter.kind === 'name' || iter.kind === 'attr') {
    const key = exprKey(iter);
    // Named as the analyzer names a count of that collection: `len(data)`, `data.length`.
    return key === undefined ? undefined : makeCoef(1, [{ name: facts.language === 'python' ? `len(${key})` : `${key}.length`, pow: 1 }]);
  }
  if (iter.kind === 'call' && iter.callee.kind === 'name' && iter.callee.name === 'range' && iter.args.length === 1 && iter.kwargs.length === 0) {
    const p = facts.analyzer.classify(iter.args[0], scope, at);
    if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length || p.coef.num <= 0) return undefined;
    return p.coef;
  }
  return undefined;
}

/**
 * Whether the statement at `span` runs inside the loop over `loop` too: a gradient term added (or a
 * step taken) once per iteration of the loop that adds the penalty once per iteration. Cost and
 * gradient then repeat alike, and the penalty is compared with its term per iteration
 * (`for i in range(n): loss += 0.5 * reg * ΣW²; dW += dW_i + reg * W`, whatever divides both after).
 */
export function repeatedAlike(entry: Facts, span: Span, loop: Expr): boolean {
  const facts = entry.program.factsAt(span) ?? entry;
  return programIndex(facts).loopsAround(span).some((s) => s.kind === 'for' && s.iter === loop);
}
