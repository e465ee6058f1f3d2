// Integer counts by data flow (NB102): a value read as a bound of a counting call (`range(a, a + n)`,
// catalogue.ts `isCountingCall`) in the top-level statement around a step (its class, its function, a
// script's loop) is a count, not a weight: `self.f_count += self.n_grad` that feeds `range(self.f_count,
// …)` advances an index, whatever the names say. Read once per top-level statement.
import type { Span, Stmt } from '../ir';
import type { Facts } from './index';
import { isCountingCall } from './catalogue';
import { exprKey } from './keys';
import { walkAll } from './program';
import { someExpr } from './scope';

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
      for (const a of e.args)
        someExpr(a, (x) => {
          const k = x.kind === 'name' || x.kind === 'attr' ? exprKey(x) : undefined;
          if (k !== undefined) found.add(k);
          return false;
        });
    });
    byStmt.set(top, (keys = found));
  }
  return keys;
}
