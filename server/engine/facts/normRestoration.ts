// Whether a term that grows a weight (`w.grad += -reg * w`, a decay with the ascent sign) runs only
// while that weight's size is below a target: a norm restoration, not a penalty's gradient (NB102).
// Decided by data flow on the guards around the term's statement in its function:
// - an `if` whose body holds the term and whose test is `size(w) < target` (or `target > size(w)`);
// - an earlier `if` of the same statement list whose test is `size(w) > target` (or `target < size(w)`)
//   and whose branch leaves (`continue`, `break`, `return`, `raise`) — the term runs only below it.
// `size(w)` is a reduction of an expression that reads the weight (`w.data.pow(2).mean()`,
// `torch.norm(w)`, catalogue.ts SIZE_REDUCTIONS); `target` reads no weight (a stored value, a field, an
// entry of a table, a constant). Any other guard, or none, leaves the term a sign mistake.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { RegGradientTerm } from './gradients';
import { someExpr } from './scope';
import { exprKey } from './keys';
import { programIndex } from './program';
import { SCALAR_READOUTS, SIZE_REDUCTIONS } from './catalogue';

export function restoresNormTarget(facts: Facts, t: RegGradientTerm): boolean {
  const param = t.param ? exprKey(t.param.base) : undefined;
  if (!param) return false;
  const fn = programIndex(facts).enclosingFunction(t.site.scope);
  const body = fn ? fn.body : facts.module.body;
  const at = t.site.span;
  const readsParam = (e: Expr): boolean => someExpr(e, (x) => exprKey(x) === param);
  // -1: the test holds while the weight is smaller than the target; +1: while larger; 0: neither.
  const below = (test: Expr): number => {
    // A single comparison `a < b` (an `other` with one operator between its two operands).
    if (test.kind !== 'other' || test.ops?.length !== 1 || test.children.length !== 2 || !['<', '<=', '>', '>='].includes(test.ops[0])) return 0;
    const [a, b] = test.children;
    const left = isSize(a, readsParam) && !readsParam(b);
    const right = isSize(b, readsParam) && !readsParam(a);
    if (!left && !right) return 0;
    const less = test.ops[0] === '<' || test.ops[0] === '<=';
    return left === less ? -1 : 1;
  };
  const leaves = (s: Stmt): boolean => s.kind === 'block' && s.label === 'if' && (s.exits !== undefined || s.body.some((x) => x.kind === 'return'));
  const walk = (list: Stmt[], depth: number): boolean => {
    if (depth > 40) return false;
    for (const s of list) {
      if (s.span.end <= at.start) {
        if (leaves(s) && s.kind === 'block' && s.heads.length === 1 && below(s.heads[0]) === 1) {
          // The term comes later in this list: it runs only while the weight is at most the target.
          if (list.some((x) => x.span.start <= at.start && at.end <= x.span.end && x.span.start >= s.span.end)) return true;
        }
        continue;
      }
      if (!(s.span.start <= at.start && at.end <= s.span.end)) continue;
      if (s.kind === 'block' && s.label === 'if' && s.heads.length === 1 && below(s.heads[0]) === -1) return true;
      if ((s.kind === 'block' || s.kind === 'for') && walk(s.body, depth + 1)) return true;
      return false;
    }
    return false;
  };
  return walk(body, 0);
}

/** A reduction of an expression that reads the weight, through scalar read-outs (`….mean().item()`). */
function isSize(e: Expr, readsParam: (e: Expr) => boolean): boolean {
  let x = e;
  for (let i = 0; i < 4 && x.kind === 'call'; i++) {
    const name = x.callee.kind === 'attr' ? x.callee.name : x.callee.kind === 'name' ? x.callee.name : undefined;
    if (name && SCALAR_READOUTS.has(name)) {
      x = x.callee.kind === 'attr' && x.args.length === 0 ? x.callee.object : x.args[0] ?? x;
      continue;
    }
    if (name && SIZE_REDUCTIONS.has(name)) return x.callee.kind === 'attr' ? readsParam(x.callee.object) || x.args.some(readsParam) : x.args.some(readsParam);
    return false;
  }
  return false;
}
