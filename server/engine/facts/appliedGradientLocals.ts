// A local that a function defines as a sum, returns in a tuple, and that a caller unpacks and steps a
// parameter by (`j_wrt_w = G @ X.T / n + lam * self.W; return j_wrt_w, gb` … `jw, gb =
// self.gradients(X, Y)`; `self.W = self.W - eta * jw`): a gradient by data flow, whatever it is
// called, as `dW` is by its name. Read even when the function returns from several branches (one
// gradient per loss), where the caller's step cannot be expanded through one return.
import type { Expr, Stmt } from '../ir';
import type { Program } from '../program';
import type { Scope } from './scope';
import type { UpdateSite } from './updates';
import { resolveCall } from './resolve';

/** The names `body`'s returns (outside nested functions) hand back in a tuple, with their positions. */
function returnedNames(body: Stmt[], into: Map<string, Set<number>>): Map<string, Set<number>> {
  for (const s of body) {
    if (s.kind === 'return' && s.value?.kind === 'seq') {
      s.value.items.forEach((item, i) => {
        if (item.kind !== 'name') return;
        const at = into.get(item.name);
        if (at) at.add(i);
        else into.set(item.name, new Set([i]));
      });
    } else if (s.kind === 'block' || s.kind === 'for') returnedNames(s.body, into);
  }
  return into;
}

const returnedMemo = new WeakMap<Stmt[], Map<string, Set<number>>>();

/**
 * Is the local `name` of the function with body `fnBody` returned at a tuple position that a caller's
 * parameter update (among `sites`, this file's) steps by, unpacked from a call of that function?
 */
export function isAppliedGradientLocal(program: Program, fnBody: Stmt[], name: string, sites: readonly UpdateSite[]): boolean {
  let returned = returnedMemo.get(fnBody);
  if (!returned) returnedMemo.set(fnBody, (returned = returnedNames(fnBody, new Map())));
  const positions = returned.get(name);
  if (!positions) return false;
  const unpackedHere = (e: Expr, scope: Scope, at: number): boolean => {
    if (e.kind !== 'name') return false;
    const b = scope.lookup(e.name, at);
    const u = b?.kind === 'assign' && !b.value ? b.unpacked : undefined;
    if (!b || !u || u.value.kind !== 'call' || !positions.has(u.position)) return false;
    return resolveCall(program, u.value, b.scope, b.at)?.fn.body === fnBody;
  };
  return sites.some((site) => site.kind === 'update' && site.increment.some((s) => s.via.length === 0 && s.num.some((f) => !f.env && unpackedHere(f.expr, f.scope, f.at))));
}
