// Tensors the code steps by hand with their own gradient (`x.data -= 5 * x.grad`, `x -= lr * x.grad`):
// an input optimized directly (class visualization, an adversarial example, a deep dream), whose
// penalty is no business of a framework optimizer built over a model's parameters.
import type { Facts } from './index';
import { someExpr, type Scope } from './scope';
import { baseExpr, exprKey } from './keys';
import { stmtExprs } from './loops';
import { programIndex, spanKey } from './program';

/**
 * Is the tensor `key` of `scope` updated in place, in that same scope, by a step that reads its own
 * `.grad`? (A step in another function, such as a hand SGD over `model.parameters()` with a loop
 * variable of the same name, says nothing about this tensor.)
 */
export function steppedByOwnGradient(facts: Facts, key: string, scope: Scope): boolean {
  const index = programIndex(facts);
  const readsOwnGradient = (e: Parameters<typeof exprKey>[0]): boolean =>
    e.kind === 'attr' && e.name === 'grad' && (exprKey(e.object) === key || exprKey(e.object) === `${key}.data`);
  return facts.updates.some((site) => {
    if (site.upstream || site.scope !== scope) return false;
    const target = exprKey(baseExpr(site.target)) ?? exprKey(site.target);
    if (target !== key && target !== `${key}.data`) return false;
    const stmt = index.stmtBySpan.get(spanKey(site.span));
    return stmt !== undefined && stmtExprs(stmt).some((e) => someExpr(e, readsOwnGradient));
  });
}
