// Framework optimizers built anew on every iteration of a training loop (NB208): a torch optimizer
// with state (Adam, RMSprop, Adagrad, momentum SGD, ...) constructed inside a loop, directly or in a
// helper the loop calls, over the parameters of a model that comes from outside the loop, and stepped
// inside it. Each construction starts the moments, accumulators and step count from zero, so they
// never outlive one iteration (an epoch, a batch). By data flow: where the model is bound (a parameter,
// a binding before the loop) against where the optimizer is built and where it steps.
// Silent when the loop also rebuilds or resets the model (cross-validation folds, trials of a
// hyper-parameter search: `model = Net()`, `model.load_state_dict(init)`), when the construction is
// under an `if` inside the loop (a restart on a schedule, a phase change), when two or more loops lie
// between the construction and the step (the outer loop runs stages, each training many epochs), and
// for plain SGD without momentum (it keeps no state).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { CONSTRUCTOR_METHODS, frameworkPath, isModuleResetMethod, isParametersMethod, OPTIMIZER_STEP_METHOD, TORCH_OPTIMIZER_MENTION, TORCH_OPTIMIZERS, torchOptimizerKeepsState } from './catalogue';
import { ownStatements, programIndex, walkAll } from './program';
import { exprKey } from './keys';
import { blocksAround } from './loops';
import { callArguments, isSelfName, resolveCall } from './resolve';
import { explicitParams, namesIn, type FunctionDef, type Scope } from './scope';
import { frameworkFacts } from './frameworks';

export interface RebuiltOptimizer {
  /** The optimizer's construction (in the helper when one builds it). */
  construction: Expr & { kind: 'call' };
  /** Class names it may build (`Adam`; `SGD`, `Adam` when a variable chooses one). */
  classes: string[];
  /** The loop that runs it again, and its first line. */
  loop: Stmt;
  /** The model whose parameters it takes, as the loop's function writes it. */
  model: string;
  /** The step call. */
  step: Span;
  /** When a helper builds it (`optim = self._get_optimizer(model)`): that call. */
  helperCall?: Expr & { kind: 'call' };
  /** When the loop calls the function that builds and steps it once per iteration: that call. */
  epochCall?: Expr & { kind: 'call' };
  /** The function that builds and steps it, in the epochCall form. */
  epochFn?: string;
}

const cache = new WeakMap<Facts, RebuiltOptimizer[]>();

export function rebuiltOptimizers(facts: Facts): RebuiltOptimizer[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = facts.language === 'python' && TORCH_OPTIMIZER_MENTION.test(facts.text) ? collect(facts) : []));
  return found;
}

interface Built {
  construction: Expr & { kind: 'call' };
  classes: string[];
  /** The model's key in the function that assigns the optimizer (or the argument expression). */
  model: Expr;
  helperCall?: Expr & { kind: 'call' };
}

/** The statements enclosing `span` inside `body`, outermost first (nested functions and classes not entered). */
function pathTo(body: Stmt[], span: Span): Stmt[] {
  return blocksAround(body, span) ?? [];
}

const isLoop = (s: Stmt): boolean => s.kind === 'for' || (s.kind === 'block' && s.label === 'while');

function collect(facts: Facts): RebuiltOptimizer[] {
  const index = programIndex(facts);
  const fw = frameworkFacts(facts);
  const owner = { id: 0, span: facts.scopes.root.span };
  const classesOf = (callee: Expr, scope: Scope, at: number, depth = 0): string[] => {
    const bound = callee.kind === 'name' ? scope.allBindings(callee.name).filter((b) => b.kind === 'assign' && b.at < at) : [];
    const path = bound.length > 1 ? undefined : frameworkPath(callee, scope, at, facts.scopes.imports, 'python');
    if (path && path[0] === 'torch' && path.includes('optim') && TORCH_OPTIMIZERS[path[path.length - 1]] !== undefined) return [path[path.length - 1]];
    if ((path && bound.length <= 1) || depth > 2 || callee.kind !== 'name') return [];
    // `opt = Adam` / `opt = SGD` in branches, or `Adam if … else SGD`: every class it may hold.
    const out: string[] = [];
    for (const b of scope.allBindings(callee.name)) {
      if (b.kind !== 'assign' || !b.value || b.op || b.at >= at) continue;
      const vs = b.value.kind === 'cond' ? [b.value.then, b.value.else] : [b.value];
      for (const v of vs) if (v.kind === 'name' || v.kind === 'attr') out.push(...classesOf(v, b.scope, b.at, depth + 1));
    }
    return [...new Set(out)];
  };
  const paramsRoot = (call: Expr & { kind: 'call' }): Expr | undefined => {
    const p = call.kwargs.find((k) => k.name === 'params')?.value ?? call.args[0];
    if (p?.kind === 'call' && p.callee.kind === 'attr' && isParametersMethod(p.callee.name) && (p.callee.object.kind === 'name' || p.callee.object.kind === 'attr')) return p.callee.object;
    return undefined;
  };
  const stateful = (call: Expr & { kind: 'call' }, classes: string[], scope: Scope, at: number): boolean =>
    classes.some((c) => {
      if (c !== 'SGD') return torchOptimizerKeepsState(c, undefined);
      const m = call.kwargs.find((k) => k.name === 'momentum')?.value ?? call.args[2];
      return torchOptimizerKeepsState(c, m === undefined ? undefined : fw.evaluate(m, { scope, at, owner }) ?? NaN);
    });
  /** A direct construction, or a helper's call that returns one: what it builds and over which model. */
  const built = (value: Expr, scope: Scope, at: number): Built | undefined => {
    if (value.kind !== 'call') return undefined;
    const classes = classesOf(value.callee, scope, at);
    if (classes.length > 0) {
      const model = paramsRoot(value);
      return model && stateful(value, classes, scope, at) ? { construction: value, classes, model } : undefined;
    }
    const target = resolveCall(facts.program, value, scope, at);
    if (!target || target.candidates || target.constructs) return undefined;
    const h = target.fn;
    for (const s of h.body) {
      if (s.kind !== 'return' || !s.value) continue;
      let r: Expr = s.value;
      const hs = index.scopeAt(s.span.start);
      if (r.kind === 'name') {
        const b = hs.lookup(r.name, s.span.start);
        if (b?.kind !== 'assign' || !b.value) continue;
        r = b.value;
      }
      if (r.kind !== 'call') continue;
      const rs = index.scopeAt(r.span.start);
      const classes2 = classesOf(r.callee, rs, r.span.start);
      const root = classes2.length > 0 ? paramsRoot(r) : undefined;
      if (!root || root.kind !== 'name' || !stateful(r, classes2, rs, r.span.start)) continue;
      const i = explicitParams(h).findIndex((p) => p.name === root.name);
      if (i < 0) continue;
      const arg = value.kwargs.find((k) => k.name === root.name)?.value ?? callArguments(value, target)[i];
      if (arg && (arg.kind === 'name' || arg.kind === 'attr')) return { construction: r, classes: classes2, model: arg, helperCall: value };
    }
    return undefined;
  };
  const out: RebuiltOptimizer[] = [];
  const bodies: { body: Stmt[]; fn?: FunctionDef }[] = [{ body: facts.module.body }, ...index.functions.filter((f) => f.body.length > 0 && f.span.start >= facts.file.base && f.span.start <= facts.file.base + facts.text.length).map((fn) => ({ body: fn.body, fn }))];
  for (const { body, fn } of bodies) {
    for (const s of ownAssignments(body)) {
      if (s.targets.length !== 1 || s.value.kind !== 'call') continue;
      const key = exprKey(s.targets[0]);
      if (key === undefined) continue;
      const scope = index.scopeAt(s.span.start);
      const b = built(s.value, scope, s.span.start);
      if (!b) continue;
      const modelKey = exprKey(b.model);
      if (modelKey === undefined) continue;
      const step = stepAfter(body, key, s.span.end);
      if (!step) continue;
      const sitePath = pathTo(body, s.span);
      const stepPath = pathTo(body, step);
      // Case A: the loop around the construction that also runs the step.
      let shared = -1;
      for (let i = sitePath.length - 1; i >= 0; i--) if (isLoop(sitePath[i]) && stepPath.includes(sitePath[i])) { shared = i; break; }
      if (shared >= 0) {
        const loop = sitePath[shared];
        if (sitePath.slice(shared + 1).some((x) => x.kind === 'block' && x.label !== 'with' && x.label !== 'try')) continue;
        const between = stepPath.slice(stepPath.indexOf(loop) + 1).filter(isLoop).length;
        if (between >= 2) continue;
        if (modelRenewedIn(loop, modelKey) || modelBoundIn(b.model, scope, s.span.start, loop) || assignedOutsideInit(facts, modelKey)) continue;
        const inner = stepPath.slice(stepPath.indexOf(loop) + 1).flatMap((x) => (x.kind === 'for' ? [x.iter] : []));
        if (between === 1 && stagedLoop(loop, [...settings(b.helperCall ?? b.construction), ...inner])) continue;
        out.push({ construction: b.construction, classes: b.classes, loop, model: modelKey, step, helperCall: b.helperCall });
        continue;
      }
      // Case B: built once per call of a function that steps it through (at most) one loop, called inside a loop.
      if (sitePath.some(isLoop) || !fn || stepPath.filter(isLoop).length > 1 || b.model.kind !== 'name') continue;
      const pi = explicitParams(fn).findIndex((p) => p.name === modelKey);
      if (pi < 0) continue;
      for (const c of index.callsTo(fn)) {
        const caller = index.enclosingFunction(c.scope);
        const callerBody = caller ? caller.body : facts.module.body;
        const target = resolveCall(facts.program, c.call, c.scope, c.at);
        if (!target || target.fn !== fn) continue;
        const arg = c.call.kwargs.find((k) => k.name === modelKey)?.value ?? callArguments(c.call, target)[pi];
        const argKey = arg && (arg.kind === 'name' || arg.kind === 'attr') ? exprKey(arg) : undefined;
        if (!arg || argKey === undefined) continue;
        const callPath = pathTo(callerBody, c.call.span);
        let li = -1;
        for (let i = callPath.length - 1; i >= 0; i--) if (isLoop(callPath[i])) { li = i; break; }
        if (li < 0) continue;
        const loop = callPath[li];
        if (callPath.slice(li + 1).some((x) => x.kind === 'block' && x.label !== 'with' && x.label !== 'try')) continue;
        if (modelRenewedIn(loop, argKey) || modelBoundIn(arg, c.scope, c.at, loop) || assignedOutsideInit(facts, argKey)) continue;
        if (stagedLoop(loop, [...c.call.args, ...c.call.kwargs.map((k) => k.value)].filter((a) => a !== arg))) continue;
        out.push({ construction: b.construction, classes: b.classes, loop, model: argKey, step, helperCall: b.helperCall, epochCall: c.call, epochFn: fn.name });
        break;
      }
    }
  }
  return out;
}

/** A call's arguments other than the parameters it is handed (`params` / `.parameters()` / the model). */
function settings(call: Expr & { kind: 'call' }): Expr[] {
  return [...call.args.slice(1), ...call.kwargs.filter((k) => k.name !== 'params').map((k) => k.value)];
}

/**
 * A loop over stages, tasks or settings rather than a count: a `for` over anything but `range(...)`
 * (or a wrapper of it, `tqdm(range(n))`) whose variable the optimizer's settings, the data of the inner
 * loop or the per-iteration call read (`for task_loader in tasks`, `for lr in lrs`). Each iteration is a
 * run of its own; a fresh optimizer there is a choice.
 */
function stagedLoop(loop: Stmt, uses: Expr[]): boolean {
  if (loop.kind !== 'for') return false;
  const it = loop.iter;
  const isRange = (e: Expr): boolean => e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'range';
  if (isRange(it) || (it.kind === 'call' && it.args[0] !== undefined && isRange(it.args[0]))) return false;
  const names = new Set(targetKeys(loop.target));
  return uses.some((u) => namesIn(u).some((n) => names.has(n)));
}

/** The assignments of a body, nested blocks and loops included (not nested functions or classes). */
function ownAssignments(body: Stmt[]): (Stmt & { kind: 'assign' })[] {
  return ownStatements(body).filter((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign');
}

/** The first `<key>.step(...)` after `from` in the body. */
function stepAfter(body: Stmt[], key: string, from: number): Span | undefined {
  let found: Span | undefined;
  walkAll(body, (e) => {
    if (found || e.kind !== 'call' || e.span.start < from || e.callee.kind !== 'attr' || e.callee.name !== OPTIMIZER_STEP_METHOD) return;
    if (exprKey(e.callee.object) === key) found = e.span;
  });
  return found;
}

/** The loop rebinds the model (`model = Net()`, `for model in models`), or puts its weights back (`model.load_state_dict(init)`). */
function modelRenewedIn(loop: Stmt, key: string): boolean {
  if (loop.kind === 'for' && targetKeys(loop.target).includes(key)) return true;
  const body = loop.kind === 'for' || loop.kind === 'block' ? loop.body : [];
  const root = key.split('.')[0];
  // Assigned in the loop, or the variable of a loop inside it (`for model in candidates:`).
  for (const s of ownStatements(body)) {
    if (s.kind === 'assign' && s.targets.some((t) => targetKeys(t).some((k) => k === key || k === root))) return true;
    if (s.kind === 'for' && targetKeys(s.target).includes(key)) return true;
  }
  let renewed = false;
  walkAll(body, (e) => {
    if (renewed || e.kind !== 'call' || e.callee.kind !== 'attr') return;
    if (isModuleResetMethod(e.callee.name) && exprKey(e.callee.object) === key) renewed = true;
  });
  return renewed;
}

function targetKeys(t: Expr): string[] {
  if (t.kind === 'seq') return t.items.flatMap(targetKeys);
  const k = exprKey(t);
  return k === undefined ? [] : [k];
}

/** The model's binding seen at the construction is made inside the loop. */
function modelBoundIn(model: Expr, scope: Scope, at: number, loop: Stmt): boolean {
  if (model.kind !== 'name') return false;
  const b = scope.lookup(model.name, at);
  return b !== undefined && b.span.start >= loop.span.start && b.span.end <= loop.span.end;
}

const assignedKeys = new WeakMap<Facts, Set<string>>();

/** `self.model` assigned in a method other than the constructor (a builder the loop may call). */
function assignedOutsideInit(facts: Facts, key: string): boolean {
  const dot = key.indexOf('.');
  if (dot < 0 || !isSelfName(key.slice(0, dot))) return false;
  // The keys the program's functions other than constructors assign, gathered once per file.
  let keys = assignedKeys.get(facts);
  if (!keys) {
    keys = new Set();
    for (const fn of programIndex(facts).functions) {
      if (CONSTRUCTOR_METHODS.includes(fn.name)) continue;
      for (const s of ownAssignments(fn.body)) for (const t of s.targets) {
        const k = exprKey(t);
        if (k !== undefined) keys.add(k);
      }
    }
    assignedKeys.set(facts, keys);
  }
  return keys.has(key);
}
