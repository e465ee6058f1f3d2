// Whether a tape's gradient can reach a training step, by data flow (NB301).
// A function that binds `g = tape.gradient(loss, vars)` and then only returns `g` or differentiates it
// again (`outer.gradient(g, vars, output_gradients=v)`, a Hessian-vector product) takes no step
// with it: its callers decide. When every caller in the file (and theirs, two levels up) holds no
// optimizer step (`apply_gradients`, `minimize`, `step()`) and no weight write (`assign`,
// `assign_sub`, `assign_add`), the gradient is an outer meta-gradient or a curvature product, not
// a training step on the loss. Any other read of `g` (handed to a helper, `apply_grads(model, g)`,
// indexed, combined, read by a nested function), a gradient bound to no plain name, a function with
// no caller in its file (an entry point of another module), or a caller with a step: it may train.
import type { Expr, Stmt } from '../ir';
import type { FunctionDef } from './scope';
import { someExpr } from './scope';
import { stmtExprs, type DiffEvent, type TrainingFacts } from './loops';
import { programIndex } from './program';
import { KERAS_VARIABLE_WRITES, optimizerApplyCall } from './catalogue';
import { returnsGradients } from './autodiff';

const CALLER_LEVELS = 2;

/** True when the tape's gradient is only returned or differentiated again, and no caller steps. */
export function gradientNeverSteps(t: TrainingFacts, d: DiffEvent): boolean {
  if (d.kind !== 'tape') return false;
  const stmt = d.info.stmt;
  if (stmt.kind !== 'assign' || stmt.op || stmt.value !== d.call || stmt.targets.length !== 1 || stmt.targets[0].kind !== 'name') return false;
  const name = stmt.targets[0].name;
  const index = programIndex(t.facts);
  const fn = index.enclosingFunction(d.info.scope);
  if (!fn) return false;
  const use = usesOf(fn.body, name, stmt);
  if (use === 'other') return false;
  if (hasStep(fn.body)) return false;
  if (use === 'none' || use === 'differentiated') return true;
  // Returned: the callers decide.
  return callersStepNot(index, fn, 0);
}

function callersStepNot(index: ReturnType<typeof programIndex>, fn: FunctionDef, level: number): boolean {
  const callers = index.callersOf(fn);
  // Called at module level, from another module, or not at all: unknown.
  if (index.callsTo(fn).length !== callers.size && index.callsTo(fn).some((c) => !index.enclosingFunction(c.scope))) return false;
  if (callers.size === 0) return false;
  for (const c of callers) {
    if (c === fn || hasStep(c.body)) return false;
    if (level + 1 < CALLER_LEVELS && index.callersOf(c).size > 0 && !callersStepNot(index, c, level + 1)) return false;
  }
  return true;
}

type Use = 'none' | 'differentiated' | 'returned' | 'other';

/** How a function's statements read `name`, besides its definition `def`. */
function usesOf(stmts: Stmt[], name: string, def: Stmt): Use {
  let out: Use = 'none';
  const reads = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && x.name === name);
  const rank: Record<Use, number> = { none: 0, differentiated: 1, returned: 2, other: 3 };
  const merge = (u: Use): void => {
    if (rank[u] > rank[out]) out = u;
  };
  const walk = (list: Stmt[]): void => {
    for (const s of list) {
      if (out === 'other') return;
      if (s === def) continue;
      if (s.kind === 'function' || s.kind === 'class') {
        if (bodyReads(s.body, reads)) merge('other');
        continue;
      }
      if (s.kind === 'return') {
        if (s.value && reads(s.value)) merge(s.value.kind === 'name' && s.value.name === name ? 'returned' : 'other');
        continue;
      }
      if (s.kind === 'assign') {
        // Rebinding the name ends this gradient's value; any other read of it is a use.
        if (reads(s.value)) merge(differentiatedAgain(s.value, name) ? 'differentiated' : 'other');
        else if (s.targets.some(reads)) merge('other');
      } else if (s.kind === 'block') {
        if (s.heads.some(reads)) merge('other');
      } else if (s.kind === 'for') {
        if (reads(s.iter) || reads(s.target)) merge('other');
      } else if (stmtExprs(s).some(reads)) {
        merge(s.kind === 'expr' && differentiatedAgain(s.expr, name) ? 'differentiated' : 'other');
      }
      if (s.kind === 'for' || s.kind === 'block') walk(s.body);
    }
  };
  walk(stmts);
  return out;
}

/** `outer.gradient(g, vars, ...)`: the whole expression is that call, and `g` is only its target. */
function differentiatedAgain(e: Expr, name: string): boolean {
  if (e.kind !== 'call' || !returnsGradients(e)) return false;
  const [target, ...rest] = e.args;
  if (!target || target.kind !== 'name' || target.name !== name) return false;
  const reads = (x: Expr): boolean => someExpr(x, (y) => y.kind === 'name' && y.name === name);
  return !rest.some(reads) && !e.kwargs.some((k) => reads(k.value));
}

function bodyReads(stmts: Stmt[], reads: (e: Expr) => boolean): boolean {
  for (const s of stmts) {
    if (stmtExprs(s).some(reads)) return true;
    if ((s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') && bodyReads(s.body, reads)) return true;
  }
  return false;
}

/** An optimizer step or a weight write anywhere in the statements (nested functions included). */
function hasStep(stmts: Stmt[]): boolean {
  const step = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'call' && (optimizerApplyCall(x) !== undefined || (x.callee.kind === 'attr' && KERAS_VARIABLE_WRITES[x.callee.name] !== undefined)));
  for (const s of stmts) {
    if (stmtExprs(s).some(step)) return true;
    if ((s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') && hasStep(s.body)) return true;
  }
  return false;
}
