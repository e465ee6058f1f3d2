// A function's parameter that holds a gradient by data flow, whatever it is called: every call of the
// function in the file hands it, at that place, a value that is a gradient where the call is made
// (`p.grad`, what `tape.gradient`/`torch.autograd.grad`/`jax.grad(f)(x)` return, what a layer's
// `backward` hands back, the gradient a loss-and-gradient function returns beside its loss
// (lossCompanions.ts), the gradients tfjs's `variableGrads` hands back (gradientDicts.ts), an entry of
// or a loop's item over such a collection, a copy of one, or the caller's own parameter of this kind).
// `adam_step(theta, delta, state, lr)` called as `adam_step(W, W.grad, …)` steps theta by the gradient
// delta, as `dW` would say. A function no call in the file reaches, a call that may run another
// function of the same name, or one call that hands something else (a momentum buffer, a batch, a
// random perturbation) leaves the parameter to its name (roles.ts). Asked by `updates.ts`
// (`gradientRole`, gradient copies) and `direction.ts` (NB102's sign of a handed gradient).
import type { Expr, Stmt } from '../ir';
import type { Program } from '../program';
import type { Analyzer } from './analysis';
import { explicitParams, forEachChild, loopIterable, someExpr, type FunctionDef, type Scope, type ScopeBuilder } from './scope';
import { callArguments } from './resolve';
import { GRADIENT_KEEPING_METHODS, loopSource, TORCH_GRAD_ATTRIBUTE } from './catalogue';
import { curriedValueAndGradient, tapeNames, wholeGradientCall } from './autodiff';
import { isBackwardMethodName } from './roles';
import { ownStatements } from './program';
import { catalogueGradientNames } from './gradientDicts';
import { gradientsBesideLoss, returnedNameTuples } from './lossCompanions';

type Call = Extract<Expr, { kind: 'call' }>;

/** Callers followed through their own handed parameters (`train → step → adam_step`). */
const MAX_HOPS = 2;
/** Calls of a file looked at, at most: generated code is no training loop. */
const MAX_CALLS = 5000;

interface FileCalls {
  /** Every call of the file (lambda bodies aside) with the scope and statement start it is made at, by callee's last name. */
  byName: Map<string, { call: Call; scope: Scope; at: number }[]>;
  /** Each function of the file by its body. */
  functions: Map<Stmt[], FunctionDef>;
  /** Each function of the file by its scope. */
  byScope: Map<Scope, FunctionDef>;
}

const files = new WeakMap<ScopeBuilder, FileCalls>();
const answers = new WeakMap<ScopeBuilder, Map<Stmt[], Map<string, boolean>>>();

export interface HandedContext {
  program: Program;
  /** The module's statements (the file walked for calls). */
  body: Stmt[];
  scopes: ScopeBuilder;
  analyzer: Analyzer;
  isModule: (e: Expr) => boolean;
}

/** Is `name`, a parameter of the function whose statements are `fnBody`, a gradient by what every call hands it? */
export function handedGradient(ctx: HandedContext, fnBody: Stmt[], name: string, hops = 0): boolean {
  let perFile = answers.get(ctx.scopes);
  if (!perFile) answers.set(ctx.scopes, (perFile = new Map()));
  let memo = perFile.get(fnBody);
  if (!memo) perFile.set(fnBody, (memo = new Map()));
  const known = memo.get(name);
  if (known !== undefined) return known;
  memo.set(name, false); // a call chain that comes back here is being judged already
  const answer = decide(ctx, fnBody, name, hops);
  memo.set(name, answer);
  return answer;
}

/** The function of the file whose body scope is `scope`, if any. */
export function functionOfScopeIn(ctx: HandedContext, scope: Scope): FunctionDef | undefined {
  return fileCalls(ctx).byScope.get(scope);
}

function decide(ctx: HandedContext, fnBody: Stmt[], name: string, hops: number): boolean {
  const file = fileCalls(ctx);
  const fn = file.functions.get(fnBody);
  if (!fn || fn.name === '' || fn.name === '<lambda>') return false;
  const position = explicitParams(fn).findIndex((p) => p.name === name);
  if (position < 0) return false;
  // The parameter keeps the handed value: never rebound to something else, never scaled (a state's update).
  if (!keepsValue(fnBody, name)) return false;
  const calls = file.byName.get(fn.name) ?? [];
  let reached = 0;
  for (const c of calls) {
    const target = ctx.analyzer.callTarget(c.call, c.scope, c.at);
    // A call that may be another function's (its receiver unknown) leaves the name to decide.
    if (!target) return false;
    if (target.constructs || target.fn.body !== fnBody) continue;
    reached++;
    if (c.call.args.some((a) => a.kind === 'other')) return false;
    const arg = callArguments(c.call, target)[position] ?? c.call.kwargs.find((k) => k.name === name)?.value;
    if (!arg || !gradientValue(ctx, arg, c.scope, c.at, hops, 0)) return false;
  }
  return reached > 0;
}

/** Every plain assignment of `name` in the function keeps its value plus terms (`g = g + wd * w`, `g = g.add(p, alpha=wd)`); nothing scales it. */
function keepsValue(fnBody: Stmt[], name: string): boolean {
  for (const s of ownStatements(fnBody)) {
    if (s.kind === 'for' && mentions(s.target, name)) return false;
    if (s.kind !== 'assign') continue;
    for (const t of s.targets) {
      if (t.kind === 'name' && t.name === name) {
        if (s.op === '*' || s.op === '/' || s.op === '-') return false;
        if (s.op) continue;
        const v = s.value;
        const plus = v.kind === 'binary' && v.op === '+' && v.left.kind === 'name' && v.left.name === name;
        const added = v.kind === 'call' && v.callee.kind === 'attr' && v.callee.name === 'add' && v.callee.object.kind === 'name' && v.callee.object.name === name;
        if (!plus && !added) return false;
      } else if (t.kind !== 'name' && t.kind !== 'attr' && t.kind !== 'index' && mentions(t, name)) return false;
    }
  }
  return true;
}

function mentions(e: Expr, name: string): boolean {
  return someExpr(e, (x) => x.kind === 'name' && x.name === name);
}

/** Is `e`, read at `at` in `scope`, a gradient by data flow? */
function gradientValue(ctx: HandedContext, e: Expr, scope: Scope, at: number, hops: number, depth: number): boolean {
  if (depth > 6) return false;
  for (let i = 0; i < 6; i++) {
    if (e.kind === 'attr' && e.name === 'data') e = e.object;
    else if (e.kind === 'call' && e.callee.kind === 'attr' && GRADIENT_KEEPING_METHODS.has(e.callee.name) && !ctx.isModule(e.callee.object)) e = e.callee.object;
    else break;
  }
  if (e.kind === 'attr') return e.name === TORCH_GRAD_ATTRIBUTE;
  // An entry of a gradient container (`grads[k]`, `grads["W1"]`).
  if (e.kind === 'index') return gradientValue(ctx, e.object, scope, at, hops, depth + 1);
  if (e.kind === 'call') return wholeGradientCall(e, ctx.isModule, tapeNames(ctx.body));
  if (e.kind !== 'name') return false;
  const b = scope.lookup(e.name, at);
  if (!b) return catalogueGradientNames(ctx.body).has(e.name);
  if (catalogueGradientNames(ctx.body).has(e.name) && b.kind === 'assign' && !b.value) return true;
  if (b.kind === 'param') {
    if (hops >= MAX_HOPS) return false;
    const fn = functionOfScopeIn(ctx, b.scope);
    return fn !== undefined && handedGradient(ctx, fn.body, e.name, hops + 1);
  }
  if (b.kind === 'loop') {
    if (!b.loop) return false;
    const source = loopSource(loopIterable(b.loop), b.loop.position, ctx.isModule);
    return source?.kind === 'element' && gradientValue(ctx, source.collection, b.scope, b.at, hops, depth + 1);
  }
  if (b.unpacked) return unpackedGradient(ctx, b.unpacked.value, b.unpacked.position, b.scope, b.at);
  if (b.op || !b.value) return false;
  return gradientValue(ctx, b.value, b.scope, b.at, hops, depth + 1);
}

/**
 * `loss, dW = loss_and_grad(W, X, y)` (the gradient a function returns beside its loss), `dx, dW, db =
 * layer.backward(dout)` (what a program's backward method hands back), `dW, db = tape.gradient(loss, [W, b])`,
 * `loss, g = jax.value_and_grad(f)(w)`.
 */
function unpackedGradient(ctx: HandedContext, value: Expr, position: number, scope: Scope, at: number): boolean {
  if (value.kind !== 'call') return false;
  if (wholeGradientCall(value, ctx.isModule, tapeNames(ctx.body))) return true;
  if (position === 1 && curriedValueAndGradient(value, ctx.isModule)) return true;
  const target = ctx.analyzer.callTarget(value, scope, at);
  if (!target || target.constructs) return false;
  // A program layer's backward pass: every value it hands back is a gradient (of its input, of its weights).
  if (value.callee.kind === 'attr' && isBackwardMethodName(value.callee.name) && target.fn.isMethod) return true;
  const own = fileCalls(ctx).functions.get(target.fn.body);
  if (!own) return false;
  const companions = gradientsBesideLoss(own.body, ctx.scopes, ctx.analyzer);
  const tuples = returnedNameTuples(own.body);
  return tuples.length > 0 && tuples.every((t) => t[position] !== undefined && companions.has(t[position]));
}

function fileCalls(ctx: HandedContext): FileCalls {
  let found = files.get(ctx.scopes);
  if (found) return found;
  found = { byName: new Map(), functions: new Map(), byScope: new Map() };
  const { byName, functions, byScope } = found;
  const scopeSet = new Set<Scope>([ctx.scopes.root, ...ctx.scopes.stmtScopes.values(), ...ctx.scopes.lambdaScopes.values(), ...ctx.scopes.prototypeScopes]);
  for (const s of scopeSet)
    for (const f of s.functions.values()) {
      if (!functions.has(f.body)) functions.set(f.body, f);
      if (!byScope.has(f.scope)) byScope.set(f.scope, f);
    }
  let count = 0;
  const exprs = (root: Expr, scope: Scope, at: number): void => {
    const stack = [root];
    while (stack.length > 0 && count < MAX_CALLS) {
      const e = stack.pop()!;
      if (e.kind === 'lambda') continue;
      if (e.kind === 'call') {
        const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
        if (name !== undefined) {
          count++;
          const list = byName.get(name);
          if (list) list.push({ call: e, scope, at });
          else byName.set(name, [{ call: e, scope, at }]);
        }
      }
      forEachChild(e, (c) => void stack.push(c));
    }
  };
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > 100) return;
    for (const s of stmts) {
      const scope = ctx.scopes.stmtScopes.get(s) ?? ctx.scopes.root;
      const at = s.span.start;
      switch (s.kind) {
        case 'assign':
          exprs(s.value, scope, at);
          s.targets.forEach((t) => exprs(t, scope, at));
          break;
        case 'expr':
          exprs(s.expr, scope, at);
          break;
        case 'return':
          if (s.value) exprs(s.value, scope, at);
          break;
        case 'for':
          exprs(s.iter, scope, at);
          visit(s.body, depth + 1);
          break;
        case 'block':
          s.heads.forEach((h) => exprs(h, scope, at));
          visit(s.body, depth + 1);
          break;
        case 'function':
        case 'class':
          visit(s.body, depth + 1);
          break;
        default:
          break;
      }
    }
  };
  visit(ctx.body, 0);
  files.set(ctx.scopes, found);
  return found;
}
