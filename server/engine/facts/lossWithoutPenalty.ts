// The reverse of returnedGradients.ts: a loss function that writes a penalty's gradient term into a
// hand-written gradient (`dW += reg * W`) and returns it beside a loss with no penalty at all
// (`loss = margins.sum() / n` … `return loss, dW`). The step follows the gradient of
// loss + ½·reg·ΣW², so the loss the function reports is not the objective being minimized: a
// numerical gradient check against it is off by reg·W, and loss curves hide the penalty. (NB103.)
//
// Decided by data flow, and only where nothing else can hold the penalty: the function returns a
// pair of two plain variables, the gradient whose definition holds the term and a loss it computes
// itself (no call into the program, whose helper could add the penalty); no loss penalty is found
// anywhere in the function; the strength is read by no write of the loss (a penalty in a form not
// recognized); no autodiff runs in it; no caller in the file adds a penalty to what it returns.
// Which of the two items is the loss is read from its name (roles.ts), as a last resort; a name that
// says the data part only (`data_loss`) leaves the penalty to the caller.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { namesIn, someExpr, type FunctionDef } from './scope';
import { ownStatements, programIndex } from './program';
import { lossFacts } from './losses';
import { regGradientTerms, type RegGradientTerm } from './gradients';
import { isGradientLike, isWholeLossName, namesDataPartOfLoss } from './roles';
import { differentiates } from './returnedGradients';
import { resolveCall } from './resolve';

export interface ReturnedLossWithoutPenalty {
  fn: FunctionDef;
  /** The gradient's penalty term (`reg * W` of `dW += reg * W`). */
  term: RegGradientTerm;
  /** The returned loss and gradient, as written in the `return`. */
  loss: Expr & { kind: 'name' };
  gradient: Expr & { kind: 'name' };
  ret: Stmt & { kind: 'return' };
}

const cache = new WeakMap<Facts, ReturnedLossWithoutPenalty[]>();

export function returnedLossesWithoutPenalty(facts: Facts): ReturnedLossWithoutPenalty[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = find(facts)));
  return found;
}

function find(facts: Facts): ReturnedLossWithoutPenalty[] {
  const out: ReturnedLossWithoutPenalty[] = [];
  const terms = regGradientTerms(facts).filter((t) => t.kind === 'linear' && !t.foreign && t.param && t.coef && t.coef.num > 0 && t.site.target.kind === 'name' && isGradientLike(t.site.target));
  if (terms.length === 0) return out;
  const index = programIndex(facts);
  const penalized = new Set<FunctionDef>();
  for (const p of lossFacts(facts).penalties) if (p.site.fn) penalized.add(p.site.fn);
  const seen = new Set<Stmt>();
  // A function's own statements and its returns of two values, once per function (not per term in it).
  const own = new Map<FunctionDef, { stmts: Stmt[]; returns: Stmt[] }>();
  for (const term of terms) {
    const fn = index.enclosingFunction(term.site.scope);
    if (!fn || penalized.has(fn) || differentiates(fn)) continue;
    const gradientName = (term.site.target as Expr & { kind: 'name' }).name;
    let body = own.get(fn);
    if (!body) {
      const all = ownStatements(fn.body);
      own.set(fn, (body = { stmts: all, returns: all.filter((r) => r.kind === 'return' && r.value?.kind === 'seq' && r.value.items.length === 2) }));
    }
    const stmts = body.stmts;
    const strengths = new Set(term.coef!.syms.filter((s) => s.pow > 0).map((s) => s.name.replace(/^.*\./, '')));
    if (strengths.size === 0) continue;
    for (const ret of body.returns) {
      if (ret.kind !== 'return' || ret.value?.kind !== 'seq' || ret.value.items.length !== 2 || seen.has(ret)) continue;
      if (ret.span.start < term.span.end) continue;
      const [a, b] = ret.value.items;
      const gradient = [a, b].find((i): i is Expr & { kind: 'name' } => i.kind === 'name' && i.name === gradientName);
      const loss = [a, b].find((i): i is Expr & { kind: 'name' } => i !== gradient && i.kind === 'name' && isWholeLossName(i.name) && !namesDataPartOfLoss(i.name));
      if (!gradient || !loss) continue;
      if (!computedHere(facts, fn, stmts, loss.name, strengths)) continue;
      if (callerPenalizes(facts, fn, penalized)) continue;
      seen.add(ret);
      out.push({ fn, term, loss, gradient, ret });
    }
  }
  return out;
}

/**
 * The loss is written in the function, from scratch, by statements that call no function of the
 * program and read none of the strengths; a loss written only through a tuple, or never, is not.
 */
function computedHere(facts: Facts, fn: FunctionDef, stmts: Stmt[], loss: string, strengths: Set<string>): boolean {
  let written = false;
  for (const s of stmts) {
    if (s.kind !== 'assign') continue;
    const direct = s.targets.some((t) => t.kind === 'name' && t.name === loss);
    const packed = s.targets.some((t) => t.kind === 'seq' && t.items.some((i) => exprKey(i) === loss));
    if (packed) return false;
    if (!direct) continue;
    written = true;
    if (namesIn(s.value).some((n) => strengths.has(n.replace(/^.*\./, '')))) return false;
    const scope = programIndex(facts).scopeAt(s.span.start);
    const callsProgram = someExpr(s.value, (e) => e.kind === 'call' && resolveCall(facts.program, e, scope, s.span.start) !== undefined);
    if (callsProgram) return false;
  }
  return written;
}

/** A function of the file that calls `fn` and has a loss penalty of its own (it may add it to the returned loss). */
function callerPenalizes(facts: Facts, fn: FunctionDef, penalized: Set<FunctionDef>): boolean {
  for (const caller of programIndex(facts).callersOf(fn)) if (penalized.has(caller)) return true;
  return false;
}

