// Answers that depend only on one top-level statement's own IR, not on where it lies in the file: a
// file-wide walk written as the union of per-statement answers, each kept for the statement and for
// the copies an edit moved (lower/reuse.ts `copiedFrom`: the same IR with every span shifted), so a
// keystroke walks only the statements it changed (issue 12). An answer may compare spans within its
// statement (a callee's span against a read's) but never hold one, nor a node: what it holds must be
// the same for a moved copy.
import type { Stmt } from '../ir';
import { copiedFrom } from '../lower/reuse';
import { countWork } from '../workCounts';

/** One per-statement question: its memo, and the work counter it adds to (workCounts.ts). */
export interface StatementQuestion<T> {
  readonly name: string;
  readonly answer: (stmt: Stmt) => T;
  readonly memo: WeakMap<Stmt, T>;
}

export function statementQuestion<T>(name: string, answer: (stmt: Stmt) => T): StatementQuestion<T> {
  return { name, answer, memo: new WeakMap() };
}

/** `q`'s answer for a top-level statement: kept, taken from the statement it is a moved copy of, or computed. */
export function answerOf<T>(q: StatementQuestion<T>, stmt: Stmt): T {
  if (q.memo.has(stmt)) return q.memo.get(stmt)!;
  const from = copiedFrom(stmt);
  if (from && q.memo.has(from)) {
    const known = q.memo.get(from)!;
    q.memo.set(stmt, known);
    return known;
  }
  const computed = q.answer(stmt);
  q.memo.set(stmt, computed);
  countWork(`${q.name}: statements walked`);
  return computed;
}

/** The union of `q`'s answers (lists of strings) over a body's top-level statements. */
export function unionOver(q: StatementQuestion<readonly string[]>, body: readonly Stmt[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < body.length; i++) for (const x of answerOf(q, body[i])) out.add(x);
  return out;
}
