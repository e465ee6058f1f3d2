// A loop that deals a model's parameters into two lists, `if COND: a.append(p) else: b.append(p)`,
// and how often each list is written in a body: the shared reading of nameFilteredDecay.ts (a split by
// names) and shapeRoutedDecay.ts (a split by shape), for NB204.
import type { Expr, Stmt } from '../ir';

/** How often each name is written among `own` statements: assigned (`xs = []`, `a, b = [], []`, `xs += more`) or changed by a method (`xs.append(p)`). */
export function listWrites(own: Stmt[]): Map<string, number> {
  const writes = new Map<string, number>();
  const bump = (t: Expr): void => {
    if (t.kind === 'name') writes.set(t.name, (writes.get(t.name) ?? 0) + 1);
    else if (t.kind === 'seq') t.items.forEach(bump);
  };
  for (const s of own) {
    if (s.kind === 'assign') s.targets.forEach(bump);
    if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr') bump(s.expr.callee.object);
  }
  return writes;
}

/** `xs.append(p)` as a branch's only statement: `xs`. */
export function appendedTo(body: Stmt[], value: string): string | undefined {
  if (body.length !== 1 || body[0].kind !== 'expr') return undefined;
  const e = body[0].expr;
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || e.callee.name !== 'append' || e.callee.object.kind !== 'name' || e.args.length !== 1) return undefined;
  const a = e.args[0];
  return a.kind === 'name' && a.name === value ? e.callee.object.name : undefined;
}

/**
 * A loop body that is `if COND: a.append(p) else: b.append(p)`, after guards with an empty body that
 * `guard` accepts (`if not p.requires_grad: continue`; `continue` is not lowered).
 */
export function appendSplit(body: Stmt[], value: string, guard: (cond: Expr) => boolean): { cond: Expr; then: string; else: string } | undefined {
  let split: { cond: Expr; then: string; else: string } | undefined;
  for (let i = 0; i < body.length; i++) {
    const s = body[i];
    if (s.kind !== 'block' || s.label !== 'if') return undefined;
    const next = body[i + 1];
    const thenList = s.heads.length === 1 ? appendedTo(s.body, value) : undefined;
    const elseList = next && next.kind === 'block' && next.label === 'if' && next.heads.length === 0 ? appendedTo(next.body, value) : undefined;
    if (thenList && elseList && !split) {
      split = { cond: s.heads[0], then: thenList, else: elseList };
      i++;
      continue;
    }
    if (s.heads.length === 1 && s.body.length === 0 && guard(s.heads[0])) continue;
    return undefined;
  }
  return split;
}
