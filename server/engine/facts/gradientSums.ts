// Sums of gradient pieces that a function builds and returns: a layer's backward adding up what its
// branches hand back (`dx = 0; for g in grads: dx += g; return dx`), a calculator adding up force
// terms (`f = 0; f += pair_grad; return energy, f`). Such a local is an output, not a parameter: no
// step is taken on it, so the sign of what it adds says nothing about descent.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { Binding, FunctionDef } from './scope';
import { numberOf } from './analysis';
import { someExpr } from './scope';
import { PASS_THROUGH_FUNCTIONS, functionalScatterAdd, zeroValue } from './catalogue';
import { DirectionAnalyzer } from './direction';
import { programIndex } from './program';

const MAX_NESTING = 64;

/**
 * Whether an update `T += …` only adds a gradient piece to a sum that its function builds and
 * returns, by data flow:
 * - T is a plain name of the function's own (no parameter, loop variable or unpacked value; never
 *   an attribute, entry or handed-in tensor, which persist after the call);
 * - every plain assignment of T starts the sum: from zero, or from a first piece that is itself a
 *   gradient (`dx = g` in the first iteration); any other rebinding only adds to it;
 * - the update adds pieces with at most a numeric weight: no step size scales them;
 * - T is never read except by its own accumulations and in what the function returns: nothing is
 *   computed from its running value, as a step threaded through a loop computes its gradient from
 *   the weights it moves.
 */
export function isReturnedGradientSum(facts: Facts, site: UpdateSite): boolean {
  const target = site.target;
  if (site.kind !== 'update' || target.kind !== 'name' || site.increment.length === 0) return false;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  if (!fn) return false;
  const name = target.name;
  if (!site.increment.every((s) => s.den.every((f) => numberOf(f.expr) !== undefined) && s.num.filter((f) => numberOf(f.expr) === undefined).length === 1)) return false;
  const bindings = site.scope.allBindings(name);
  if (bindings.length === 0 || bindings.some((b) => b.scope !== fn.scope)) return false;
  let direction: DirectionAnalyzer | undefined;
  let starts = 0;
  for (const b of bindings) {
    if (b.kind !== 'assign' || b.unpacked || !b.value) return false;
    if (b.op === '+' || b.op === '-') continue;
    if (b.op !== undefined) {
      if (numberOf(b.value) === undefined) return false; // `dx *= lr` turns the sum into a step
      continue;
    }
    if (keepsSum(b.value, name)) continue;
    if (!startsSum((direction ??= new DirectionAnalyzer(facts)), b, name)) return false;
    starts++;
  }
  return starts > 0 && returnedUnread(fn, name);
}

/** Per function and name, whether the name is returned and read nowhere else: one walk each, however many updates ask. */
const unreadSums = new WeakMap<FunctionDef, Map<string, boolean>>();

function returnedUnread(fn: FunctionDef, name: string): boolean {
  let byName = unreadSums.get(fn);
  if (!byName) unreadSums.set(fn, (byName = new Map()));
  let answer = byName.get(name);
  if (answer === undefined) byName.set(name, (answer = readsOnlyToReturn(fn, name)));
  return answer;
}

/** `0`, `np.zeros_like(x)`, or a first piece that is a gradient and nothing else. */
function startsSum(direction: DirectionAnalyzer, b: Binding, name: string): boolean {
  if (zeroValue(b.value!)) return true;
  if (someExpr(b.value!, (e) => e.kind === 'name' && e.name === name)) return false;
  const { terms, ascent } = direction.step(b.value!, b.scope, b.at, 1, []);
  return !ascent && terms.length > 0 && terms.every((t) => t.kind === 'grad');
}

/**
 * A rebinding of T that keeps it a sum: more pieces added (`T = T + x`, JAX's `T = T.at[i].add(x)`),
 * or T converted as it is (`T = jnp.array(T)`, `T = T.astype(float)`), with T read nowhere else.
 */
function keepsSum(e: Expr, name: string): boolean {
  if (selfOperand(e, name)) return true;
  const isSelf = (x: Expr): boolean => x.kind === 'name' && x.name === name;
  const scatter = functionalScatterAdd(e);
  if (scatter) return isSelf(scatter.array) && !mentionsName(scatter.added, name) && !indexMentions(e, name);
  if (e.kind !== 'call' || (e.callee.kind !== 'attr' && e.callee.kind !== 'name') || !PASS_THROUGH_FUNCTIONS.has(e.callee.name)) return false;
  const args = [...e.args, ...e.kwargs.map((k) => k.value)];
  if (e.callee.kind === 'attr' && isSelf(e.callee.object)) return !args.some((a) => mentionsName(a, name));
  return args.length > 0 && isSelf(args[0]) && !args.slice(1).some((a) => mentionsName(a, name)) && !(e.callee.kind === 'attr' && mentionsName(e.callee.object, name));
}

/** `T.at[i].add(x)`: whether the index `i` reads T. */
function indexMentions(e: Expr, name: string): boolean {
  return e.kind === 'call' && e.callee.kind === 'attr' && e.callee.object.kind === 'index' && e.callee.object.index.some((i) => mentionsName(i, name));
}

/** `T + x`, `x - T + y`: T as one operand of a top-level sum (an accumulation written out). */
function selfOperand(e: Expr, name: string): boolean {
  const operands: Expr[] = [];
  const collect = (x: Expr, depth: number): void => {
    if (depth < MAX_NESTING && x.kind === 'binary' && (x.op === '+' || x.op === '-')) {
      collect(x.left, depth + 1);
      collect(x.right, depth + 1);
    } else operands.push(x);
  };
  collect(e, 0);
  const own = operands.filter((x) => x.kind === 'name' && x.name === name);
  return operands.length > 1 && own.length === 1 && !operands.some((x) => x !== own[0] && mentionsName(x, name));
}

/**
 * Whether the function returns `name` and reads it nowhere else than in its returned values and as
 * the accumulated side of its own updates (`T += x`, `T = T + x`). Nested functions and lambdas
 * count: a closure that reads the running sum reads it.
 */
function readsOnlyToReturn(fn: FunctionDef, name: string): boolean {
  let returned = false;
  const reads = (e: Expr, depth: number): boolean =>
    someExpr(
      e,
      (x) =>
        (x.kind === 'name' && x.name === name) ||
        (x.kind === 'lambda' && x.stmts.length > 0 && visit(x.stmts, depth + 1, true)) ||
        (x.kind === 'comprehension' && (x.conditions ?? []).some((c) => reads(c, depth + 1))),
    );
  /** `nested`: inside a function the returns of which are not the function's own. */
  const visit = (stmts: Stmt[], depth: number, nested = false): boolean => {
    if (depth > MAX_NESTING) return true;
    for (const s of stmts) {
      switch (s.kind) {
        case 'assign': {
          const own = s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name;
          if (s.targets.some((t) => !(t.kind === 'name' && t.name === name) && reads(t, depth))) return true;
          if (own && !s.op && keepsSum(s.value, name)) break;
          if (reads(s.value, depth)) return true;
          break;
        }
        case 'expr':
          if (reads(s.expr, depth)) return true;
          break;
        case 'return':
          if (s.value && reads(s.value, depth)) {
            if (nested) return true;
            returned = true;
          }
          break;
        case 'for':
          if (reads(s.target, depth) || reads(s.iter, depth) || visit(s.body, depth + 1, nested)) return true;
          break;
        case 'block':
          if (s.heads.some((h) => reads(h, depth)) || (s.aliases ?? []).some((a) => a !== undefined && reads(a, depth)) || visit(s.body, depth + 1, nested)) return true;
          break;
        case 'function':
          if (s.params.some((p) => p.default !== undefined && reads(p.default, depth)) || visit(s.body, depth + 1, true)) return true;
          break;
        case 'class':
          if (s.bases.some((b) => reads(b, depth)) || visit(s.body, depth + 1, true)) return true;
          break;
        default:
          break;
      }
    }
    return false;
  };
  return !visit(fn.body, 0) && returned;
}

function mentionsName(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}
