// Decay arguments JavaScript drops (NB206): a call of a project function or class that passes more
// positional arguments than the callee declares, where a dropped one is a regularization strength.
// JavaScript ignores the extras without a word (Python raises a TypeError, TypeScript's compiler
// refuses the call: only JavaScript files are read), so the decay the caller hands over never
// reaches the optimizer: `new DecayedAdam(lr, weightDecay, names)` against `constructor(opts)`. A callee with a rest
// parameter or that reads `arguments` takes any number, and is left alone.
import type { Facts } from './index';
import type { Expr, Stmt } from '../ir';
import { programIndex } from './program';
import { callArguments, resolveCall } from './resolve';
import { explicitParams, someExpr, type ClassDef, type FunctionDef } from './scope';
import { stmtExprs } from './loops';
import { isRegularizationStrengthName } from './roles';
import { exprKey } from './keys';
import { calleeUsesSettings } from './steppedUses';

export interface DroppedDecay {
  call: Expr & { kind: 'call' };
  /** The dropped argument that holds the strength, and how it is written. */
  arg: Expr;
  written: string;
  /** Its 0-based position among the call's arguments. */
  position: number;
  /** The function the call runs (a class's constructor when `constructs` is set). */
  fn: FunctionDef;
  constructs?: ClassDef;
  /** The parameters the callee declares, as written. */
  declared: string[];
}

const cache = new WeakMap<Facts, DroppedDecay[]>();

export function droppedDecayArguments(facts: Facts): DroppedDecay[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): DroppedDecay[] {
  if (facts.language !== 'javascript') return [];
  const out: DroppedDecay[] = [];
  const program = facts.program;
  for (const site of programIndex(facts).calls) {
    const call = site.call;
    // Only a call with more arguments than any callee worth reading, and none spread (`...xs`).
    if (call.args.length < 2 || call.args.some((a) => a.kind === 'other')) continue;
    const target = resolveCall(program, call, site.scope, site.at);
    if (!target || target.candidates) continue;
    const args = callArguments(call, target);
    const params = explicitParams(target.fn);
    if (args.length <= params.length || takesAnyNumber(target.fn)) continue;
    for (let i = params.length; i < args.length; i++) {
      const arg = args[i];
      const written = arg.kind === 'name' ? arg.name : arg.kind === 'attr' ? arg.name : undefined;
      if (!written || !isRegularizationStrengthName(written)) continue;
      // A callee that takes no step and hands none of its parameters on (`function noop() {}`) uses no setting.
      if (!calleeUsesSettings(facts, target.fn, target.constructs)) break;
      out.push({ call, arg, written: exprKey(arg) ?? written, position: call.args.indexOf(arg), fn: target.fn, constructs: target.constructs, declared: params.map((p) => p.name || facts.source(p.span)) });
      break;
    }
  }
  return out;
}

/**
 * A rest parameter (`...args`) or a read of `arguments` anywhere in its body (a nested function's
 * own `arguments` too: reading it there is rare, and staying silent is the safe side): the function
 * takes any number of arguments. Asked only of a callee handed more arguments than it declares.
 */
function takesAnyNumber(fn: FunctionDef): boolean {
  if (fn.params.some((p) => p.rest)) return true;
  let found = takesAny.get(fn);
  if (found === undefined) {
    found = fn.params.some((p) => p.default !== undefined && someExpr(p.default, readsArguments)) || someStatementExpr(fn.body, readsArguments);
    takesAny.set(fn, found);
  }
  return found;
}

const takesAny = new WeakMap<FunctionDef, boolean>();

/** Whether a statement reads the name `arguments`, inside the functions and closures it holds too. */
function someStatementExpr(stmts: Stmt[], test: (e: Expr) => boolean, depth = 0): boolean {
  if (depth > MAX_DEPTH) return true;
  for (const s of stmts) {
    if (stmtExprs(s).some((e) => someExpr(e, (x) => test(x) || (x.kind === 'lambda' && someStatementExpr(x.stmts, test, depth + 1))))) return true;
    if ((s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') && someStatementExpr(s.body, test, depth + 1)) return true;
  }
  return false;
}

const MAX_DEPTH = 64;

function readsArguments(e: Expr): boolean {
  return e.kind === 'name' && e.name === 'arguments';
}
