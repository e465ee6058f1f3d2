// A variable that holds a gradient by data flow, whatever it is called: a function hands its value
// on to a backward pass as the gradient to carry back (`G_x = G_y`, then
// `for layer in reversed(layers): G_x = layer.backward(G_x, self)`; torch's `out.backward(g)`),
// directly, through plain copies, or through a function of the program it hands the value to
// (`self._propagate(G_y)`, a base class's method in another module). Book-style code names such a
// value `G_y` or `delta`; names are not what makes it a gradient.
import type { Expr, Stmt } from '../ir';
import type { Program } from '../program';
import { upstreamGradientArg } from './autodiff';
import { explicitParams, forEachChild, someExpr, type Scope } from './scope';
import { callArguments, resolveCall } from './resolve';
import { isLossName } from './roles';
import { MEAN_FUNCTIONS, REDUCTION_KEYWORDS, SUM_FUNCTIONS } from './catalogue';

type Call = Extract<Expr, { kind: 'call' }>;

/** Calls through which a value is followed into another function: the hop that finds a base class's propagation. */
const MAX_HOPS = 2;
/** Bounded: a body this long is generated code, not a training step. */
const MAX_STATEMENTS = 2000;

interface BodyFacts {
  /** `a = b` copies in the body: b's value flows into a. */
  copies: Map<string, Set<string>>;
  /** Calls of the body (nested functions and classes aside). */
  calls: Call[];
  /** The values plain assignments give each name. */
  assigned: Map<string, Expr[]>;
}

/** A body's statements are its file's: kept by the body. */
const bodies = new WeakMap<Stmt[], BodyFacts>();
/** Answers read other files (the calls a body makes resolve in them): kept per program, by body, name and hop. */
const answers = new WeakMap<Program, WeakMap<Stmt[], Map<string, boolean>>>();

/**
 * Does the function whose statements are `body` hand the value of its variable `name` on to a
 * backward pass as the gradient to propagate? `scope` is the function's scope (calls are resolved
 * from it); `isModule` tells a module (`torch`) from a value.
 */
export function handsOnAsGradient(program: Program, body: Stmt[], scope: Scope, name: string, isModule: (e: Expr) => boolean, hops = 0): boolean {
  let perProgram = answers.get(program);
  if (!perProgram) answers.set(program, (perProgram = new WeakMap()));
  let memo = perProgram.get(body);
  if (!memo) perProgram.set(body, (memo = new Map()));
  const key = `${hops} ${name}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const answer = decide(program, body, scope, name, isModule, hops);
  memo.set(key, answer);
  return answer;
}

function decide(program: Program, body: Stmt[], scope: Scope, name: string, isModule: (e: Expr) => boolean, hops: number): boolean {
  const facts = bodyFacts(body);
  // A loss handed to a backward method (`model.backward(total)`) is what is differentiated, not a
  // gradient: a value reduced to one number (`total = np.mean(err ** 2)`), or, failing that, named so.
  // (A value that reads the name, `G = G + reg * np.sum(W ** 2)`, adds to it: it says nothing of what it is.)
  const defining = (facts.assigned.get(name) ?? []).filter((v) => !someExpr(v, (x) => x.kind === 'name' && x.name === name));
  if (defining.some((v) => reducedToScalar(v, isModule, 0)) || isLossName(name)) return false;
  // Where the value goes: the name and every name a plain copy gives it to.
  const holders = new Set([name]);
  const todo = [name];
  while (todo.length > 0 && holders.size < 50) {
    for (const next of facts.copies.get(todo.pop()!) ?? []) {
      if (!holders.has(next)) {
        holders.add(next);
        todo.push(next);
      }
    }
  }
  const held = (e: Expr | undefined): boolean => e !== undefined && e.kind === 'name' && holders.has(e.name);
  for (const call of facts.calls) {
    if (held(upstreamGradientArg(call, isModule))) return true;
  }
  if (hops >= MAX_HOPS) return false;
  for (const call of facts.calls) {
    if (!call.args.some(held)) continue;
    const target = resolveCall(program, call, scope, call.span.start);
    if (!target || target.constructs) continue;
    const at = callArguments(call, target).findIndex(held);
    const param = (target.args ? target.fn.params : explicitParams(target.fn))[at];
    if (param && handsOnAsGradient(program, target.fn.body, target.fn.scope, param.name, isModule, hops + 1)) return true;
  }
  return false;
}

function bodyFacts(body: Stmt[]): BodyFacts {
  let found = bodies.get(body);
  if (found) return found;
  found = { copies: new Map(), calls: [], assigned: new Map() };
  const { copies, calls, assigned } = found;
  let count = 0;
  const exprCalls = (root: Expr): void => {
    const stack = [root];
    while (stack.length > 0 && calls.length < 500) {
      const e = stack.pop()!;
      if (e.kind === 'lambda') continue; // its own function
      if (e.kind === 'call') calls.push(e);
      forEachChild(e, (c) => void stack.push(c));
    }
  };
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (++count > MAX_STATEMENTS) return;
      switch (s.kind) {
        case 'assign':
          if (!s.op && s.targets.length === 1 && s.targets[0].kind === 'name') {
            const values = assigned.get(s.targets[0].name) ?? [];
            if (values.length < 20) values.push(s.value);
            assigned.set(s.targets[0].name, values);
          }
          if (!s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.value.kind === 'name') {
            const from = s.value.name;
            const set = copies.get(from) ?? new Set<string>();
            set.add(s.targets[0].name);
            copies.set(from, set);
          }
          exprCalls(s.value);
          break;
        case 'expr':
          exprCalls(s.expr);
          break;
        case 'return':
          if (s.value) exprCalls(s.value);
          break;
        case 'for':
          exprCalls(s.iter);
          visit(s.body);
          break;
        case 'block':
          s.heads.forEach(exprCalls);
          visit(s.body);
          break;
        default:
          break; // nested functions and classes run on their own
      }
    }
  };
  visit(body);
  bodies.set(body, found);
  return found;
}

/** `np.mean(err ** 2)`, `err.sum()`, `np.mean(a) + reg * np.sum(W ** 2)`: a value with a full reduction among its terms and factors, one number. */
function reducedToScalar(e: Expr, isModule: (e: Expr) => boolean, depth: number): boolean {
  if (depth > 20) return false;
  if (e.kind === 'binary') return reducedToScalar(e.left, isModule, depth + 1) || reducedToScalar(e.right, isModule, depth + 1);
  if (e.kind === 'unary') return reducedToScalar(e.arg, isModule, depth + 1);
  if (e.kind !== 'call' || e.callee.kind !== 'attr') return false;
  const fn = e.callee.name;
  if (fn === 'item') return e.args.length === 0;
  if (!SUM_FUNCTIONS.has(fn) && !MEAN_FUNCTIONS.has(fn)) return false;
  if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name) && !(k.value.kind === 'name' && k.value.name === 'None'))) return false;
  // `np.sum(x)` takes the array; a second positional argument is an axis. `x.sum()` takes none.
  return e.args.length === (isModule(e.callee.object) ? 1 : 0);
}
