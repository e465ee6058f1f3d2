// Whether a value named like training math takes part in training, by data flow (NB106, NB206):
// - a gradient a function defines or accumulates in a local (`dW = X.T @ err + lam`) reaches a step:
//   an update reads it, or it leaves the function (returned, stored in a field or an entry, handed to
//   a call as it is). A local that only feeds more local arithmetic (`dLambda = lambda - lambda0`, a
//   longitude difference in map-projection code, compared and multiplied into a sine) is no gradient;
// - a function that a call drops arguments of takes steps (an update site in its body, or in its
//   class's methods when the call constructs it), hands one of its parameters on to a call or keeps
//   it in a field, or is a class that extends another (a framework optimizer): a function that does nothing with its
//   parameters (`function noop() {}`, a stream's default handler) applies no decay to begin with.
// Each answer is asked only of a finding about to be reported, and walks one function.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { ClassDef, FunctionDef } from './scope';
import { someExpr } from './scope';
import { stmtExprs } from './loops';
import { programIndex } from './program';

const MAX_DEPTH = 64;

/**
 * A gradient site on a plain local name (`dW = …`, `dW += …`): whether that local reaches a step.
 * Sites on fields and entries (`self.dW`, `grads['W']`) outlive the call and are kept.
 */
export function gradientReachesStep(facts: Facts, site: UpdateSite): boolean {
  if (site.kind === 'update' || site.penaltyGradientOf || site.target.kind !== 'name') return true;
  const name = site.target.name;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  const stmts = fn ? fn.body : facts.module.body;
  const reads = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && x.name === name);
  // An update of another target that reads it (`W -= lr * dW`, `W = W - lr * dW`).
  const updates = [...facts.updates].some((u) => u !== site && u.kind === 'update' && (!fn || (fn.span.start <= u.span.start && u.span.end <= fn.span.end)) && u.increment.some((s) => s.num.some((f) => reads(f.expr)) || s.den.some((f) => reads(f.expr))));
  if (updates) return true;
  return leaves(stmts, name, reads, 0);
}

/** Returned, stored in a field or an entry, handed to a call as it is, or read by a nested function. */
function leaves(stmts: Stmt[], name: string, reads: (e: Expr) => boolean, depth: number): boolean {
  if (depth > MAX_DEPTH) return true;
  for (const s of stmts) {
    if (s.kind === 'return' && s.value && reads(s.value)) return true;
    if (s.kind === 'assign' && s.targets.some((t) => t.kind !== 'name' && t.kind !== 'seq') && reads(s.value)) return true;
    if (s.kind === 'assign' && s.op && s.targets.some((t) => !(t.kind === 'name' && t.name === name)) && reads(s.value)) return true;
    if (s.kind === 'function' || s.kind === 'class') {
      if (stmtsRead(s.body, reads, depth + 1)) return true;
      continue;
    }
    const handed = stmtExprs(s).some((e) =>
      someExpr(e, (x) => (x.kind === 'call' && [...x.args, ...x.kwargs.map((k) => k.value)].some((a) => a.kind === 'name' && a.name === name)) || (x.kind === 'lambda' && x.stmts.length > 0 && stmtsRead(x.stmts, reads, depth + 1))),
    );
    if (handed) return true;
    if ((s.kind === 'for' || s.kind === 'block') && leaves(s.body, name, reads, depth + 1)) return true;
  }
  return false;
}

function stmtsRead(stmts: Stmt[], reads: (e: Expr) => boolean, depth: number): boolean {
  if (depth > MAX_DEPTH) return true;
  for (const s of stmts) {
    if (stmtExprs(s).some(reads)) return true;
    if ((s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') && stmtsRead(s.body, reads, depth + 1)) return true;
  }
  return false;
}

/**
 * Whether a callee whose call drops arguments does anything a decay could go to: takes a step (an
 * update site in its body, or in its class when the call constructs it), extends a class, hands
 * one of its parameters on to a call, or keeps one in a field or an entry. Unknown (its file's facts
 * are not at hand): yes.
 */
export function calleeUsesSettings(facts: Facts, fn: FunctionDef, constructs: ClassDef | undefined): boolean {
  if (constructs && constructs.bases.length > 0) return true;
  const fnFacts = facts.program.parsedOf(fn.span)?.file.id === facts.file.id ? facts : facts.program.factsAt(fn.span);
  if (!fnFacts) return true;
  const span = constructs?.span ?? fn.span;
  if (fnFacts.updates.some((u) => span.start <= u.span.start && u.span.end <= span.end)) return true;
  const params = new Set(fn.params.map((p) => p.name).filter((n) => n));
  if (params.size === 0) return false;
  const handsOn = (stmts: Stmt[], depth: number): boolean => {
    if (depth > MAX_DEPTH) return true;
    for (const s of stmts) {
      const readsParam = (a: Expr): boolean => someExpr(a, (y) => y.kind === 'name' && params.has(y.name));
      const found = stmtExprs(s).some((e) => someExpr(e, (x) => x.kind === 'call' && [...x.args, ...x.kwargs.map((k) => k.value)].some(readsParam)));
      if (found) return true;
      // Kept in a field or an entry (`this.opts = opts`), for the methods that run later.
      if (s.kind === 'assign' && s.targets.some((t) => t.kind === 'attr' || t.kind === 'index') && readsParam(s.value)) return true;
      if ((s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') && handsOn(s.body, depth + 1)) return true;
    }
    return false;
  };
  return handsOn(fn.body, 0);
}
