// A "penalty" that is the whole loss: `loss = (w ** 2).sum()` then `loss.backward()`, with nothing
// else ever added to it. A quadratic of the weights alone is the objective itself (an optimizer's unit
// test that checks a step against a hand-written reference, a toy problem), not a regularizer added to a
// data loss, so an optimizer's decay beside it regularizes nothing twice (NB201). Not when the function
// differentiates something else too (`data_loss.backward()` then `reg.backward()`): the gradients
// accumulate, and the quadratic is a penalty beside that data term.
import type { Stmt } from '../ir';
import type { Facts } from './index';
import type { LossPenaltyFact } from './frameworks';
import { someExpr, type Scope } from './scope';
import { ownStatements, programIndex, spanKey, walkAll } from './program';
import { readsAutodiff } from './autodiff';

/** Whether the penalty is the whole value of an assignment to a name that nothing adds to afterwards (see the file's comment). */
export function isWholeObjective(facts: Facts, p: LossPenaltyFact): boolean {
  const body = bodyAround(facts, p.ctx.scope);
  const stmts = ownStatements(body);
  const i = stmts.findIndex((s) => s.kind === 'assign' && !s.op && spanKey(s.value.span) === spanKey(p.span));
  const stmt = stmts[i];
  if (!stmt || stmt.kind !== 'assign' || stmt.targets.length !== 1 || stmt.targets[0].kind !== 'name') return false;
  const name = stmt.targets[0].name;
  // Nothing afterwards adds to the loss or rebinds it from its own value (`loss = loss + data`, `loss += data`).
  if (stmts.slice(i + 1).some((s) => s.kind === 'assign' && s.targets.some((t) => t.kind === 'name' && t.name === name) && (s.op !== undefined || someExpr(s.value, (e) => e.kind === 'name' && e.name === name)))) return false;
  // Nothing else differentiated in the function: every autodiff call there reads the name (`loss.backward()`).
  let other = false;
  walkAll(body, (e) => {
    if (other || e.kind !== 'call' || !readsAutodiff(e)) return;
    if (!someExpr(e, (x) => x.kind === 'name' && x.name === name)) other = true;
  });
  return !other;
}

/** The body of the function a scope is in (a class or the module: the module's). */
export function bodyAround(facts: Facts, scope: Scope): Stmt[] {
  const index = programIndex(facts);
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.kind === 'function') {
      const fn = index.functionOfScope(s);
      if (fn) return fn.body;
    }
    if (s.kind === 'class') break;
  }
  return facts.module.body;
}
