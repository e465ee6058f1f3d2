// A helper of an optimizer step that rewrites, in place, a direction its caller hands it (a momentum
// helper: `torch._foreach_add_(dirs, bufs, alpha=mu)` on the caller's `dirs`), while the caller
// applies the learning rate to that direction after the call (`torch._foreach_mul_(dirs, -lr)`,
// `p.add_(d, alpha=-lr)`). The helper is a part of the step, not a whole step that forgets the
// learning rate (NB404). Decided by data flow: the updated tensor is the helper's argument, and every
// call the file shows hands it a tensor that a later statement of the caller scales or applies
// together with a learning rate.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex } from './program';
import { exprKey } from './keys';
import { explicitParams, namesIn, someExpr, type FunctionDef } from './scope';
import { isLearningRateName } from './roles';
import { stepCall } from './catalogue';
import type { OptimizerStep } from './optimizerSteps';

/** Whether the caller applies the learning rate to every tensor the step updates in place, after calling it. */
export function learningRateAppliedByCallers(facts: Facts, step: OptimizerStep): boolean {
  if (step.params.length === 0) return false;
  // A helper that returns the new direction (`return m, d + mu * m`) for its caller to step by: the
  // caller unpacks the call (`m, upd = smooth(g, m, mu)`) and scales that item by the learning rate.
  if (step.params.every((p) => p.handedBack !== undefined)) return returnedScaledByCallers(facts, step);
  const params = explicitParams(step.fn);
  const positions = new Set<number>();
  for (const p of step.params) {
    const root = rootName(p.eq.target);
    const at = root === undefined ? -1 : params.findIndex((q) => q.name === root);
    if (at < 0) return false;
    positions.add(at);
  }
  const index = programIndex(facts);
  const calls = index.callsTo(step.fn);
  if (calls.length === 0) return false;
  return calls.every(({ call, scope }) => {
    const caller = index.enclosingFunction(scope);
    if (!caller || caller === step.fn) return false;
    return [...positions].every((at) => {
      const arg = call.args[at] ?? call.kwargs.find((k) => k.name === params[at].name)?.value;
      const key = arg && exprKey(arg);
      return key !== undefined && !key.includes('?') && scaledAfter(facts, caller, call.span.end, key);
    });
  });
}

/** `dirs` of `dirs`, `dirs[i]`, `dirs.data`: the name the written tensor is reached from. */
function rootName(target: Expr): string | undefined {
  let e = target;
  for (let depth = 0; (e.kind === 'attr' || e.kind === 'index') && depth < 20; depth++) e = e.object;
  return e.kind === 'name' ? e.name : undefined;
}

/**
 * A write of the caller after `after` (an assignment, or an in-place call such as `_foreach_mul_` or
 * `add_`) that reads the tensor (`key`, or a loop variable walking it: `for p, d in zip(params, dirs)`)
 * together with a learning rate.
 */
function scaledAfter(facts: Facts, caller: FunctionDef, after: number, key: string): boolean {
  const aliases = new Set([key]);
  const reads = (e: Expr): boolean => someExpr(e, (x) => {
    const k = exprKey(x);
    return k !== undefined && aliases.has(k);
  });
  const learningRate = (e: Expr): boolean => someExpr(e, (x) => (x.kind === 'name' || x.kind === 'attr' ? isLearningRateName(x.name) : x.kind === 'str' && isLearningRateName(x.value)));
  const visit = (stmts: Stmt[], depth: number): boolean => {
    if (depth > 40) return false;
    for (const s of stmts) {
      if (s.span.end <= after) continue;
      if (s.kind === 'function' || s.kind === 'class') continue;
      if (s.kind === 'for') {
        if (s.span.start >= after && reads(s.iter)) for (const t of namesIn(s.target)) aliases.add(t);
        if (visit(s.body, depth + 1)) return true;
        continue;
      }
      if (s.kind === 'block') {
        if (visit(s.body, depth + 1)) return true;
        continue;
      }
      if (s.span.start < after) continue;
      const writes = s.kind === 'expr' && s.expr.kind === 'call' && stepCall(s.expr, (x) => facts.analyzer.isModule(x))?.writes !== undefined;
      const exprs = s.kind === 'assign' ? [...s.targets, s.value] : writes && s.kind === 'expr' ? [s.expr] : [];
      if (exprs.some(reads) && exprs.some(learningRate)) return true;
    }
    return false;
  };
  return visit(caller.body, 0);
}

/**
 * Every call the file shows of the step's function is the whole value of an assignment in another
 * function, and the items the parameters' new values are returned as (`ParamUpdate.handedBack`) land
 * in places that a later statement of that function scales or applies together with a learning rate.
 */
function returnedScaledByCallers(facts: Facts, step: OptimizerStep): boolean {
  const index = programIndex(facts);
  const calls = index.callsTo(step.fn);
  if (calls.length === 0) return false;
  return calls.every(({ call, scope }) => {
    const caller = index.enclosingFunction(scope);
    if (!caller || caller === step.fn) return false;
    const assign = assignmentOf(caller.body, call, 0);
    if (!assign || assign.targets.length !== 1) return false;
    const target = assign.targets[0];
    return step.params.every((p) => {
      const item = p.handedBack! < 0 ? target : target.kind === 'seq' ? target.items[p.handedBack!] : undefined;
      const key = item && exprKey(item);
      return key !== undefined && !key.includes('?') && scaledAfter(facts, caller, assign.span.end, key);
    });
  });
}

/** The assignment statement of `body` (at any depth outside nested definitions) whose whole value is `call`. */
function assignmentOf(body: Stmt[], call: Expr, depth: number): (Stmt & { kind: 'assign' }) | undefined {
  if (depth > 40) return undefined;
  for (const s of body) {
    if (s.span.end < call.span.start || s.span.start > call.span.end) continue;
    if (s.kind === 'assign') return !s.op && s.value === call ? s : undefined;
    if (s.kind === 'for' || s.kind === 'block') return assignmentOf(s.body, call, depth + 1);
    return undefined;
  }
  return undefined;
}
