// Integer counts by data flow (NB102): a value read as a bound of a counting call (`range(a, a + n)`,
// catalogue.ts `isCountingCall`) in the top-level statement around a step (its class, its function, a
// script's loop) is a count, not a weight: `self.f_count += self.n_grad` that feeds `range(self.f_count,
// …)` advances an index, whatever the names say. Read once per top-level statement.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { isCountingCall } from './catalogue';
import { exprKey } from './keys';
import { walkAll } from './program';

const cache = new WeakMap<Facts, Map<Stmt, Set<string>>>();

/** The keys (`self.f_count`, `i`) read inside a counting call's arguments in the top-level statement that holds `span`. */
export function countsAround(facts: Facts, span: Span): ReadonlySet<string> {
  const top = facts.module.body.find((st) => st.span.start <= span.start && span.end <= st.span.end);
  if (!top) return new Set();
  let byStmt = cache.get(facts);
  if (!byStmt) cache.set(facts, (byStmt = new Map()));
  let keys = byStmt.get(top);
  if (!keys) {
    const found = new Set<string>();
    walkAll([top], (e) => {
      if (e.kind !== 'call' || e.callee.kind !== 'name' || !isCountingCall(e.callee.name)) return;
      for (const a of e.args) boundKeys(a, found);
    });
    byStmt.set(top, (keys = found));
  }
  return keys;
}

/**
 * The values a bound is counted from: the bound itself or a term of its arithmetic (`a`, `a + n`, `n // 2`),
 * not what a call or an index reads (`range(len(w))`, `range(W.shape[0])`: w and W are arrays whose size is counted).
 */
function boundKeys(e: Expr, out: Set<string>, depth = 0): void {
  if (depth > 32) return;
  if (e.kind === 'name' || e.kind === 'attr') {
    const k = exprKey(e);
    if (k !== undefined) out.add(k);
  } else if (e.kind === 'binary') {
    boundKeys(e.left, out, depth + 1);
    boundKeys(e.right, out, depth + 1);
  } else if (e.kind === 'unary') boundKeys(e.arg, out, depth + 1);
}
