// Loop-carried state: a variable updated from its own old value in a loop (`vel = mom * vel - lr * dY`)
// reads, there, what the previous iteration left in it. The binding before the loop (`vel = Y`, or
// zeros) is its value on the first iteration only, so it says nothing about the terms of later steps:
// the old value is optimizer state, not the array it started from.
import type { Expr } from '../ir';
import type { Binding } from './scope';

/**
 * Is `e`, read at `at` and seeing `before`, the old value of a self-update made in a loop that
 * `before` is outside of? `at` is where the read is asked (the statement's start for a value
 * expanded from its binding); the read's own span is checked too.
 */
export function carriedFromLastIteration(e: Expr, at: number, before: Binding): boolean {
  if (before.kind !== 'assign') return false;
  for (const b of before.scope.allBindings(before.key)) {
    if (b === before || b.kind !== 'assign' || !b.value || b.at < before.at) continue;
    const inside = b.at === at || (b.value.span.start <= e.span.start && e.span.end <= b.value.span.end);
    if (inside && b.loops.some((l) => !before.loops.includes(l))) return true;
  }
  return false;
}
