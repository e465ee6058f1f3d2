// A "penalty" that is the whole loss: `loss = (w ** 2).sum()` then `loss.backward()`, with nothing
// else ever added to it. A quadratic of the weights alone is the objective itself (an optimizer's unit
// test that checks a step against a hand-written reference, a toy problem), not a regularizer added to a
// data loss, so an optimizer's decay beside it regularizes nothing twice (NB201).
import type { Stmt } from '../ir';
import type { Facts } from './index';
import type { LossPenaltyFact } from './frameworks';
import { someExpr, type Scope } from './scope';
import { ownStatements, programIndex, spanKey } from './program';

/** Whether the penalty is the whole value of an assignment to a name that nothing adds to afterwards (see the file's comment). */
export function isWholeObjective(facts: Facts, p: LossPenaltyFact): boolean {
  const stmts = bodyAround(facts, p.ctx.scope);
  const i = stmts.findIndex((s) => s.kind === 'assign' && !s.op && spanKey(s.value.span) === spanKey(p.span));
  const stmt = stmts[i];
  if (!stmt || stmt.kind !== 'assign' || stmt.targets.length !== 1 || stmt.targets[0].kind !== 'name') return false;
  const name = stmt.targets[0].name;
  // Nothing afterwards adds to the loss or rebinds it from its own value (`loss = loss + data`, `loss += data`).
  return !stmts.slice(i + 1).some((s) => s.kind === 'assign' && s.targets.some((t) => t.kind === 'name' && t.name === name) && (s.op !== undefined || someExpr(s.value, (e) => e.kind === 'name' && e.name === name)));
}

function bodyAround(facts: Facts, scope: Scope): Stmt[] {
  const index = programIndex(facts);
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.kind === 'function') {
      const fn = index.functionOfScope(s);
      if (fn) return ownStatements(fn.body);
    }
    if (s.kind === 'class') break;
  }
  return ownStatements(facts.module.body);
}
