// Helpers that switch what they return on one setting of their object: `if self.reg_type == "l1":
// return lam * np.sign(w)` beside `elif self.reg_type == "l2": return lam * w / 2` (a `match` on the
// field lowers to the same tests). A from-scratch network keeps its penalty in one such method and the
// penalty's gradient in another, both switched on the same field; with the field holding one value for
// a whole run, the loss and the step it regularizes take the branch of the same value. What the
// call returns depends on which: without a value assumed the returns disagree and the call reads as
// unknown (analysis.ts `helperCall`); with one assumed, only that branch's returns (or, for a value no
// branch tests, the returns after the switch) are what it gives.
//
// Read in the IR by data flow: the tests compare one `self` field (the same place in every branch,
// which the helper does not write) with literals; no name decides.
import type { Expr, Stmt } from '../ir';
import type { Program } from '../program';
import type { FunctionDef } from './scope';
import { someExpr } from './scope';
import { exprKey } from './keys';
import { isSelfName, returnsOf, type Returned } from './resolve';

/** A value assumed for a switched field while a question is answered (analysis.ts `underAssumption`). */
export interface Assumption {
  /** The field's key, `self.reg_type`. */
  key: string;
  /** The literal it holds, as text (`l2`, `2`). */
  value: string;
}

export interface Switch {
  key: string;
  /** Returns of each tested value's branch (the branch's own, and those after the switch when the branch can fall through). */
  branches: Map<string, Returned[]>;
  /** Returns reached when no test holds (after the tests, or in an `else`). */
  rest: Returned[];
}

const memo = new WeakMap<FunctionDef, Switch | null>();

/** The test `self.f == "lit"` (either side) as its field key and literal text. */
export function fieldTest(head: Expr): { key: string; value: string } | undefined {
  if (head.kind !== 'other' || head.ops?.length !== 1 || head.ops[0] !== '==' || head.children.length !== 2) return undefined;
  const [a, b] = head.children;
  const lit = literalText(a) ?? literalText(b);
  const place = literalText(a) !== undefined ? b : a;
  if (lit === undefined || place.kind !== 'attr' || place.object.kind !== 'name' || !isSelfName(place.object.name)) return undefined;
  const key = exprKey(place);
  return key === undefined ? undefined : { key, value: lit };
}

function literalText(e: Expr): string | undefined {
  if (e.kind === 'str') return e.value;
  if (e.kind === 'num') return String(e.value);
  return undefined;
}

/**
 * The switch of a helper whose top-level `if`/`elif` (or `match`) tests one `self` field against
 * literals, with a return in at least one branch, and which never writes that field. One branch is
 * a switch too: `if self.mode == "ridge": return pen; return 0` gives nothing for another value.
 */
export function switchOf(program: Program, fn: FunctionDef): Switch | undefined {
  const known = memo.get(fn);
  if (known !== undefined) return known ?? undefined;
  const found = readSwitch(program, fn);
  memo.set(fn, found ?? null);
  return found;
}

function readSwitch(program: Program, fn: FunctionDef): Switch | undefined {
  const tested: { value: string; stmt: Stmt & { kind: 'block' } }[] = [];
  let key: string | undefined;
  for (const st of fn.body) {
    if (st.kind !== 'block' || st.label !== 'if' || st.heads.length !== 1) continue;
    const test = fieldTest(st.heads[0]);
    if (!test) continue;
    if (key !== undefined && test.key !== key) return undefined;
    key = test.key;
    tested.push({ value: test.value, stmt: st });
  }
  if (key === undefined) return undefined;
  const all = returnsOf(program, fn);
  // The branch's own body: the first `if` block's span is the whole chain's (lower/python.ts), which holds the `elif`s' returns too.
  const inside = (r: Returned, st: Stmt & { kind: 'block' }): boolean => st.body.length > 0 && r.at >= st.body[0].span.start && r.at <= st.body[st.body.length - 1].span.end;
  const branches = new Map<string, Returned[]>();
  const claimed = new Set<Returned>();
  let withReturn = 0;
  for (const { value, stmt } of tested) {
    const own = all.filter((r) => inside(r, stmt));
    for (const r of own) claimed.add(r);
    if (own.length === 0 || branches.has(value)) continue;
    withReturn++;
    branches.set(value, own);
  }
  if (withReturn === 0) return undefined;
  const rest = all.filter((r) => !claimed.has(r));
  // A branch that can end without returning goes on to the statements after the switch.
  for (const { value, stmt } of tested) {
    const last = stmt.body[stmt.body.length - 1];
    if (last?.kind !== 'return' && branches.has(value)) branches.set(value, [...branches.get(value)!, ...rest]);
  }
  if (writesKey(fn.body, key)) return undefined;
  return { key, branches, rest };
}

/** Does any statement of the body assign the place `key`? */
function writesKey(body: Stmt[], key: string): boolean {
  const visit = (stmts: Stmt[]): boolean =>
    stmts.some((s) => {
      if (s.kind === 'assign') return s.targets.some((t) => someExpr(t, (e) => exprKey(e) === key));
      if (s.kind === 'block' || s.kind === 'for') return visit(s.body);
      return false;
    });
  return visit(body);
}

/** The returns a switched helper gives with the assumption, or undefined when the assumption is not about its field. */
export function returnsUnder(sw: Switch, assumed: Assumption | undefined): Returned[] | undefined {
  if (!assumed || assumed.key !== sw.key) return undefined;
  return sw.branches.get(assumed.value) ?? sw.rest;
}
