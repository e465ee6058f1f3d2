// A buffer that transforms the gradient: an update `X = c·X + G` (the buffer's own old value scaled,
// plus what else it reads) whose new value a later statement of the same statement list adds back
// into G, one of the places the step read (`G = G + c·X`, `G += c·X`: Nesterov's transform of the
// gradient in a plain function, `bufs[i] = mu * bufs[i] + grads[i]` then
// `grads[i] = grads[i] + mu * bufs[i]`). X is optimizer state by data flow: a weight's value is never
// fed back into the gradient it was stepped by, so the sign of what X adds says nothing about descent.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { someExpr } from './scope';
import { exprKey } from './keys';
import { programIndex, spanKey } from './program';

const memo = new WeakMap<Stmt, boolean>();

/** Whether the site is such a buffer (see the file's comment). Looks only at its statement's siblings after it. */
export function feedsGradientBack(facts: Facts, site: UpdateSite): boolean {
  if (site.kind !== 'update') return false;
  const index = programIndex(facts);
  const stmt = index.stmtBySpan.get(spanKey(site.span));
  if (!stmt || stmt.kind !== 'assign' || stmt.op || stmt.targets.length !== 1) return false;
  const known = memo.get(stmt);
  if (known !== undefined) return known;
  let answer = false;
  const own = exprKey(stmt.targets[0]);
  const body = index.blockOf.get(stmt);
  if (own !== undefined && body && scalesItself(stmt.value, own)) {
    // The places the step reads besides the buffer itself: names, fields and entries.
    const read = new Set<string>();
    someExpr(stmt.value, (e) => {
      if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') {
        const k = exprKey(e);
        if (k !== undefined && k !== own) read.add(k);
      }
      return false;
    });
    const after = body.indexOf(stmt);
    for (let i = after + 1; i < body.length && !answer; i++) {
      const s = body[i];
      if (s.kind !== 'assign' || s.targets.length !== 1) continue;
      const target = exprKey(s.targets[0]);
      // The buffer rebound, or a place it read rebound, ends what this statement's value is.
      if (target === own) break;
      if (target === undefined || !read.has(target)) continue;
      const readsBuffer = someExpr(s.value, (e) => exprKey(e) === own);
      // `G += c·X`, or `G = G + c·X`: the gradient keeps its own value and takes the buffer's in.
      const keepsItself = s.op === '+' || (!s.op && someExpr(s.value, (e) => exprKey(e) === target));
      if (readsBuffer && keepsItself) answer = true;
      else break;
    }
  }
  memo.set(stmt, answer);
  return answer;
}

/** `c * X + …` (or `X * c + …`) at the top level of a sum: the buffer's old value scaled by a factor. */
function scalesItself(value: Expr, own: string): boolean {
  const summands: Expr[] = [];
  const split = (e: Expr, depth: number): void => {
    if (depth < 16 && e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
      split(e.left, depth + 1);
      split(e.right, depth + 1);
    } else summands.push(e);
  };
  split(value, 0);
  if (summands.length < 2) return false;
  return summands.some((s) => s.kind === 'binary' && s.op === '*' && (exprKey(s.left) === own || exprKey(s.right) === own));
}
