// Cotangent sums of a backward pass: a local that a function starts from zero and into which it adds,
// with no step size, the gradients it is handed (`a = zeros_like(ys[0])`; `a = a + grad_out[k]` at
// each output time of an adjoint solve), and which it returns. That is the chain rule summing the
// incoming gradients of an output, not a step on a parameter, so the sign of what it adds says
// nothing about descent. Unlike gradientSums.ts the running value may be read on the way (the
// reverse dynamics of an ODE adjoint read it), because what is added is handed in, never computed
// from the local itself, as a step threaded through a loop computes its gradient from the point it
// moves.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { FunctionDef } from './scope';
import { numberOf } from './analysis';
import { someExpr } from './scope';
import { zeroValue } from './catalogue';
import { programIndex } from './program';

const MAX_NESTING = 64;

/**
 * Whether an update `T = T + g` (`T += g`) adds handed-in gradients to a cotangent sum, by data flow:
 * - T is a plain name of the function's own (no parameter, loop variable or unpacked value), and its
 *   first plain assignment in the function is a zero (`0`, `zeros_like(y)`);
 * - the update keeps T's own value whole (no factor on T, no moving average) and every summand is
 *   one entry of (or the whole of) an argument of the function, other than the instance, times
 *   numbers at most: nothing scales it as a step size would, nothing is computed from T;
 * - the function returns T.
 */
export function isCotangentSum(facts: Facts, site: UpdateSite): boolean {
  const target = site.target;
  if (site.kind !== 'update' || target.kind !== 'name' || site.increment.length === 0 || site.selfFactor || site.movingAverage) return false;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  if (!fn) return false;
  const name = target.name;
  const bindings = site.scope.allBindings(name);
  if (bindings.length === 0 || bindings.some((b) => b.scope !== fn.scope || b.kind !== 'assign' || b.unpacked)) return false;
  const first = bindings.filter((b) => !b.op).sort((a, b) => a.at - b.at)[0];
  if (!first?.value || !zeroValue(first.value) || bindings.some((b) => b.at < first.at)) return false;
  const instance = fn.isMethod ? fn.params[0]?.name : undefined;
  const handed = (e: Expr): boolean => {
    let base = e;
    for (let i = 0; i < MAX_NESTING && base.kind === 'index'; i++) base = base.object;
    if (base.kind !== 'name' || base.name === name || base.name === instance) return false;
    if (e !== base && e.kind === 'index' && e.index.some((i) => someExpr(i, (x) => x.kind === 'name' && x.name === name))) return false;
    const b = site.scope.lookup(base.name, site.at);
    return b?.kind === 'param' && b.scope === fn.scope;
  };
  const summandsHanded = site.increment.every((s) => {
    if (s.den.some((f) => numberOf(f.expr) === undefined)) return false;
    const others = s.num.filter((f) => numberOf(f.expr) === undefined);
    return others.length === 1 && !others[0].env && handed(others[0].expr);
  });
  return summandsHanded && returns(fn, name);
}

/** Whether one of the function's own returns reads `name` (nested functions' returns are theirs). */
function returns(fn: FunctionDef, name: string): boolean {
  const visit = (stmts: Stmt[], depth: number): boolean => {
    if (depth > MAX_NESTING) return false;
    for (const s of stmts) {
      if (s.kind === 'return' && s.value && someExpr(s.value, (x) => x.kind === 'name' && x.name === name)) return true;
      if ((s.kind === 'for' || s.kind === 'block') && visit(s.body, depth + 1)) return true;
    }
    return false;
  };
  return visit(fn.body, 0);
}
