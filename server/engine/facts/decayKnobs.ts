// Decay knobs an optimizer class accepts and never applies: `def __init__(self, params, lr,
// weight_decay=0)` stores the knob in `defaults` (or on `self`), and no method of the class or of
// its bases reads it back. Torch-style optimizers only (a class deriving from the framework's
// Optimizer through project classes whose code is visible). Also decays that never reach the
// update applied: a local the returned step never reads, and a gradient's local (or an
// out-of-place sum) a subclass computes before running the framework's own step on the originals.
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { forEachChild, someExpr, type ClassDef, type FunctionDef, type Scope } from './scope';
import { baseClasses, callArguments, derivesFrom, methodOf, resolveCall, resolveExpr } from './resolve';
import { arithmeticPlacement, stepCall, DICT_WALKS, NO_INSTANCE_DECORATORS, OPTIMIZER_DEFAULTS_ATTRIBUTE, OPTIMIZER_STEP_METHODS, CONSTRUCTOR_METHODS, PARAM_GROUPS_ATTRIBUTE, TORCH_DECAY_GROUP_KEY, TORCH_GRAD_ATTRIBUTE, frameworkPath, isFrameworkOptimizerClassPath, isNeutralBasePath, isOptimizerBasePath } from './catalogue';
import { decayKnobKey, isDecayKnobName, isLearningRateName } from './roles';
import { programIndex, spanKey, walkAll } from './program';
import type { UpdateSite } from './updates';
import { isScalarFactor } from './updates';
import { baseExpr, exprKey } from './keys';
import { isRegularizationTerm, regGradientTerms, type RegGradientTerm } from './gradients';
import { appliedReturns, isBindingRead } from './appliedSteps';
import { numberOf } from './analysis';
import { trimSpan } from './steps';
import { projectSubclasses } from './subclasses';

export interface UnusedDecayKnob {
  cls: ClassDef;
  /** The constructor parameter. */
  param: Param;
  /** The step method (its name) that never reads the knob. */
  step: Span;
  /** Where the knob is stored (`'weight_decay': weight_decay`, `self.wd = wd`), when it is. */
  stored?: Span;
  /** The base class whose constructor takes the knob, when the class has no constructor of its own. */
  inheritedFrom?: ClassDef;
}

const cache = new WeakMap<Facts, UnusedDecayKnob[]>();

export function unusedDecayKnobs(facts: Facts): UnusedDecayKnob[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const classes = new Set<ClassDef>();
  for (const fn of index.functions) if (fn.cls) classes.add(fn.cls);
  for (const cls of classes) {
    const knob = checkClass(facts, cls, classes);
    if (knob) found.push(...knob);
  }
  cache.set(facts, found);
  return found;
}

function checkClass(facts: Facts, cls: ClassDef, fileClasses: Set<ClassDef>): UnusedDecayKnob[] | undefined {
  const program = facts.program;
  const own = CONSTRUCTOR_METHODS.map((m) => cls.scope.functions.get(m)).find((f) => f !== undefined);
  // No constructor of its own: the one a project base defines runs with the class's arguments
  // (`class PlainSGD(BaseOptimizer)` with only a `step`); then the class's own step must be its step.
  const init = own ?? CONSTRUCTOR_METHODS.map((m) => methodOf(program, cls, m)).find((f) => f !== undefined);
  if (!init) return undefined;
  const named = init.params.filter((p) => isDecayKnobName(p.name));
  // Whatever its name, a parameter the constructor stores under torch's decay key of a parameter
  // group (`dict(lr=eta, weight_decay=gamma)`: catalogue.ts) is the optimizer's decay knob.
  const mayStoreUnderGroupKey = named.length === 0 && mentionsGroupDecayKey(init);
  if (named.length === 0 && !mayStoreUnderGroupKey) return undefined;
  if (!isTorchOptimizer(facts, cls, 0)) return undefined;
  const knobs = mayStoreUnderGroupKey ? init.params.filter((p) => constructorUses(facts, init, p.name)?.keys.has(TORCH_DECAY_GROUP_KEY)) : named;
  if (knobs.length === 0) return undefined;
  const step = OPTIMIZER_STEP_METHODS.map((m) => (own ? methodOf(program, cls, m) : cls.scope.functions.get(m))).find((f) => f !== undefined);
  if (!step || !step.nameSpan) return undefined;
  const inheritedFrom = own ? undefined : init.cls;
  if (!own && !inheritedFrom) return undefined;
  // A base of another class in the file: a subclass may apply what the base stores.
  for (const other of fileClasses) if (other !== cls && derivesFrom(program, other, cls)) return undefined;
  const out: UnusedDecayKnob[] = [];
  for (const param of knobs) {
    const uses = constructorUses(facts, init, param.name);
    if (!uses) continue; // used in the constructor beyond storing and validating it
    // An attribute of the knob's own name counts as a read whatever the constructor shows:
    // TypeScript's `constructor(private weightDecay: number)` stores it without an assignment.
    const attrs = new Set([...uses.attrs, param.name]);
    if (readInClass(facts, cls, init, uses.keys, attrs)) continue;
    if (answeredBySubclass(facts, cls, init, param.name, uses.keys, attrs)) continue;
    out.push({ cls, param, step: step.nameSpan, stored: uses.stored, inheritedFrom });
  }
  return out;
}

/**
 * A class of another module derives from this one (`class DashGpu(ISTAOptimizer)`, found by
 * `projectSubclasses`) and reads the knob (`group['weight_decay']` in the `optimizer_step` the
 * base's `step` runs), or is judged on its own (its own constructor takes the knob, or it runs a
 * step of its own with this constructor): the base's step is not the whole story. A base whose
 * subclasses all leave the knob alone is still reported.
 */
function answeredBySubclass(facts: Facts, cls: ClassDef, init: FunctionDef, name: string, keys: Set<string>, attrs: Set<string>): boolean {
  for (const sub of projectSubclasses(facts.program, cls)) {
    const ownInit = CONSTRUCTOR_METHODS.map((m) => sub.scope.functions.get(m)).find((f) => f !== undefined);
    // Judged on its own: a constructor that takes the knob and does more than hand it to the base's,
    // or no constructor and a step of its own (reported there, `inheritedFrom`).
    if (ownInit ? ownInit.params.some((p) => p.name === name) && usedBeyondBaseConstructor(ownInit, name) : OPTIMIZER_STEP_METHODS.some((m) => sub.scope.functions.has(m))) return true;
    if (readInClass(facts, sub, init, keys, attrs)) return true;
  }
  return false;
}

/** Whether a constructor mentions its parameter `name` other than as an argument of a base constructor (`super().__init__(params, lr, weight_decay)`). */
function usedBeyondBaseConstructor(fn: FunctionDef, name: string): boolean {
  const forwarded = new Set<Expr>();
  let used = false;
  walkAll(fn.body, (e) => {
    if (used) return;
    const baseConstructor = e.kind === 'call' && ((e.callee.kind === 'attr' && e.callee.name === '__init__') || (e.callee.kind === 'name' && e.callee.name === 'super'));
    if (e.kind === 'call' && baseConstructor) {
      for (const a of [...e.args, ...e.kwargs.map((k) => k.value)]) forwarded.add(a);
    } else if (e.kind === 'name' && e.name === name && !forwarded.has(e)) used = true;
  });
  return used;
}

/** Derives from the framework's Optimizer, every base in between visible in the project. */
export function isTorchOptimizer(facts: Facts, cls: ClassDef, depth = 0): boolean {
  if (depth > 8 || cls.bases.length === 0) return false;
  const program = facts.program;
  const resolved = baseClasses(program, cls);
  let framework = false;
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start);
    if (def?.kind === 'class') {
      if (!resolved.includes(def.cls) || !isTorchOptimizer(facts, def.cls, depth + 1)) return false;
      continue;
    }
    const parsed = program.parsedOf(b.span);
    if (!parsed) return false;
    const imports = parsed.scopes.imports;
    const path = frameworkPath(b, cls.outer, cls.span.start, imports, parsed.language === 'python' ? 'python' : 'script') ?? (b.kind === 'name' && b.name === 'object' ? ['object'] : undefined);
    if (isNeutralBasePath(path)) continue;
    if (!isOptimizerBasePath(path)) return false;
    framework = true;
  }
  return framework || resolved.length > 0;
}

/**
 * What the constructor does with the knob: the dict keys and `self` attributes it is stored under.
 * Undefined when it does anything else with it (computes with it, passes it on, branches on it
 * other than to reject a bad value).
 */
export function constructorUses(facts: Facts, init: FunctionDef, name: string): { keys: Set<string>; attrs: Set<string>; stored?: Span } | undefined {
  const keys = new Set<string>();
  const attrs = new Set<string>();
  let stored: Span | undefined;
  let other = false;
  const isKnob = (e: Expr): boolean => e.kind === 'name' && e.name === name;
  const visitExpr = (e: Expr): void => {
    if (other) return;
    if (isKnob(e)) {
      other = true;
      return;
    }
    if (e.kind === 'object') {
      for (const entry of e.entries) {
        if (isKnob(entry.value)) {
          keys.add(entry.name);
          stored ??= entry.span ?? entry.value.span;
        } else visitExpr(entry.value);
      }
      return;
    }
    if (e.kind === 'call') {
      // `dict(lr=lr, weight_decay=weight_decay)`
      const isDict = e.callee.kind === 'name' && e.callee.name === 'dict' && !resolveExpr(facts.program, e.callee, init.scope, e.span.start);
      if (isDict) {
        for (const kw of e.kwargs) {
          if (isKnob(kw.value)) {
            keys.add(kw.name);
            stored ??= kw.span ?? kw.value.span;
          } else visitExpr(kw.value);
        }
        e.args.forEach(visitExpr);
        return;
      }
      const knobArgs = e.args.map((a, i) => (isKnob(a) ? i : -1)).filter((i) => i >= 0);
      if (knobArgs.length > 0 || e.kwargs.some((k) => isKnob(k.value))) {
        if (e.kwargs.some((k) => isKnob(k.value)) || !knobArgs.every((i) => validates(facts, e, i, init))) {
          other = true;
          return;
        }
        visitExpr(e.callee);
        e.args.filter((a) => !isKnob(a)).forEach(visitExpr);
        e.kwargs.forEach((k) => visitExpr(k.value));
        return;
      }
    }
    forEachChild(e, visitExpr);
  };
  const visitStmts = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (other) return;
      switch (s.kind) {
        case 'assign':
          if (s.targets.length === 1 && !s.op && isKnob(s.value) && s.targets[0].kind === 'attr' && isInstance(s.targets[0].object, init)) {
            attrs.add(s.targets[0].name);
            stored ??= s.span;
          } else {
            if (s.targets.some(isKnob)) other = true; // rebound: its value is no longer the argument
            visitExpr(s.value);
            s.targets.forEach(visitExpr);
          }
          break;
        case 'expr':
          visitExpr(s.expr);
          break;
        case 'return':
          if (s.value) visitExpr(s.value);
          break;
        case 'for':
          visitExpr(s.iter);
          visitStmts(s.body);
          break;
        case 'block':
          for (const h of s.heads) if (mentions(h, isKnob) && !isRejection(facts, s, h)) other = true;
          if (s.label !== 'if' && s.label !== 'while') s.heads.forEach(visitExpr);
          visitStmts(s.body);
          break;
        case 'function':
        case 'class':
          if (mentionsStmts(s.body, isKnob)) other = true;
          break;
        default:
          break;
      }
    }
  };
  visitStmts(init.body);
  return other ? undefined : { keys, attrs, stored };
}

/** The instance in a method: Python's first parameter, JavaScript's `this`. */
function isInstance(e: Expr, fn: FunctionDef): boolean {
  return e.kind === 'name' && fn.isMethod && (fn.params[0]?.name === e.name || e.name === 'this');
}

/**
 * `if not 0.0 <= weight_decay: raise ValueError(...)`, `if wd < 0: raise ...`: a check that rejects
 * a negative value, whose body (a raise) the engine does not keep. A condition for a nonzero value
 * (`if weight_decay != 0: raise NotImplementedError`) says the knob is not supported: not this.
 */
function isRejection(facts: Facts, block: Stmt & { kind: 'block' }, head: Expr): boolean {
  if (block.label !== 'if' || block.body.length > 0) return false;
  return facts.source(head.span).includes('<');
}

/** A call to a project function that only checks its argument (`self.validate_non_negative(wd, 'wd')`). */
function validates(facts: Facts, call: Expr & { kind: 'call' }, argIndex: number, init: FunctionDef): boolean {
  const target = resolveCall(facts.program, call, init.scope, call.span.start);
  if (!target || target.constructs || target.args) return false;
  const fn = target.fn;
  const staticMethod = fn.decorators.some((d) => d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name));
  const offset = fn.isMethod && !staticMethod && call.callee.kind === 'attr' ? 1 : 0;
  const param = fn.params[argIndex + offset];
  if (!param) return false;
  const isArg = (e: Expr): boolean => e.kind === 'name' && e.name === param.name;
  let ok = true;
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (!ok) return;
      if (s.kind === 'block') {
        for (const h of s.heads) if (mentions(h, isArg) && !isRejection(facts, s, h)) ok = false;
        visit(s.body);
      } else if (s.kind === 'for') {
        if (mentions(s.iter, isArg)) ok = false;
        visit(s.body);
      } else if (s.kind === 'assign') {
        if (mentions(s.value, isArg) || s.targets.some((t) => mentions(t, isArg))) ok = false;
      } else if (s.kind === 'expr') {
        if (mentions(s.expr, isArg)) ok = false;
      } else if (s.kind === 'return') {
        if (s.value && mentions(s.value, isArg)) ok = false;
      } else if (s.kind === 'function' || s.kind === 'class') {
        if (mentionsStmts(s.body, isArg)) ok = false;
      }
    }
  };
  visit(fn.body);
  return ok;
}

/**
 * Is the knob read by any method of the class (its constructor aside) or of its project bases, or
 * by a function they call? A read is the key as a string (`group['weight_decay']`,
 * `group.get('weight_decay')`, `getattr(...)`), the attribute (`self.weight_decay`), or the whole
 * group handed over (`**group`, `group.items()`, a group passed to a function the code cannot see).
 */
function readInClass(facts: Facts, cls: ClassDef, init: FunctionDef, keys: Set<string>, attrs: Set<string>): boolean {
  const program = facts.program;
  const seen = new Set<FunctionDef>([init]);
  const queue: FunctionDef[] = [];
  const addClass = (c: ClassDef, depth: number): void => {
    if (depth > 8) return;
    for (const fn of c.scope.functions.values()) queue.push(fn);
    for (const b of baseClasses(program, c)) addClass(b, depth + 1);
  };
  addClass(cls, 0);
  // Constructors of the bases count: they run with the class's arguments.
  let read = false;
  let calls = 0;
  while (queue.length > 0 && !read) {
    const fn = queue.shift()!;
    if (seen.has(fn)) continue;
    seen.add(fn);
    const visit = (e: Expr): void => {
      if (read) return;
      if (e.kind === 'str' && (keys.has(e.value) || attrs.has(e.value))) read = true;
      else if (e.kind === 'attr' && attrs.has(e.name)) read = true;
      else if (e.kind === 'call') {
        // `group.items()`, `self.defaults.values()`: the settings read without naming them.
        if (e.callee.kind === 'attr' && DICT_WALKS.has(e.callee.name) && isSettings(e.callee.object, fn)) read = true;
        // `f(**group)`, `f(*args)`: a splat hands over everything.
        if (e.args.some((a) => a.kind === 'other' && facts.source(a.span).startsWith('*') && a.children.some((c) => isSettings(c, fn)))) read = true;
        const target = resolveCall(program, e, fn.scope, e.span.start);
        if (target && !target.constructs) {
          if (calls++ < 64) queue.push(target.fn);
        } else if ([...e.args, ...e.kwargs.map((k) => k.value)].some((a) => isGroup(a, fn))) read = true;
      }
    };
    walkAll(fn.body, visit);
  }
  return read;
}

/** A group's or the defaults' settings: a group, or the optimizer's `defaults`. */
function isSettings(e: Expr, fn: FunctionDef): boolean {
  if (e.kind === 'name' && !isGroup(e, fn)) {
    // `settings = group` / `settings = self.defaults` before the walk.
    const b = fn.scope.lookup(e.name, e.span.start);
    if (b?.kind === 'assign' && !b.op && b.value && b.value !== e) return isSettings(b.value, fn);
  }
  return isGroup(e, fn) || (e.kind === 'attr' && e.name === OPTIMIZER_DEFAULTS_ATTRIBUTE) || (e.kind === 'index' && (isGroup(e.object, fn) || (e.object.kind === 'attr' && e.object.name === PARAM_GROUPS_ATTRIBUTE)));
}

/** A whole parameter group: a loop variable over `self.param_groups`. */
function isGroup(e: Expr, fn: FunctionDef): boolean {
  if (e.kind === 'attr' && e.name === PARAM_GROUPS_ATTRIBUTE) return true;
  if (e.kind !== 'name') return false;
  const b = fn.scope.lookup(e.name, e.span.start) ?? fn.scope.lookup(e.name, Infinity);
  const iter = b?.kind === 'loop' ? b.loop?.iter : undefined;
  return iter !== undefined && mentions(iter, (x) => x.kind === 'attr' && x.name === PARAM_GROUPS_ATTRIBUTE);
}

const mentions = someExpr;

function mentionsStmts(stmts: Stmt[], test: (e: Expr) => boolean): boolean {
  let found = false;
  walkAll(stmts, (e) => {
    if (!found && test(e)) found = true;
  });
  return found;
}

// ------------------------------------------------------------------ a decay the returned step leaves out

export interface DecayNotReturned {
  /** The decay statement: `t = t.detach() * (1 - lr * wd)`. */
  span: Span;
  /** The local it rebinds (`t`), and the method that returns the step. */
  local: string;
  /** The decay knob, the learning rate taken out (`self.wd` of `self.wd * self.lr`). */
  term: string;
  method: FunctionDef;
  /** Where a caller applies the returned step to the weights. */
  appliedAt: Span;
  caller?: FunctionDef;
}

const notReturnedCache = new WeakMap<Facts, DecayNotReturned[]>();

/**
 * A method whose returned value a caller subtracts from the weights (a framework's `_step`), in
 * which a weight decay only rebinds the local that holds the weight (`t = t * (1 - lr * wd)`) and
 * nothing reads that local afterwards: the decay never reaches what the method returns, and the
 * caller applies the update to its own reference to the weight, undecayed.
 */
export function decaysNotReturned(facts: Facts): DecayNotReturned[] {
  let found = notReturnedCache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const program = facts.program;
  const analyzer = facts.analyzer;
  const decays = regGradientTerms(facts).filter((t) => t.site.kind === 'update' && t.kind === 'linear' && t.stepCoef.num < 0 && t.param && t.site.target.kind === 'name' && isRegularizationTerm(facts, t));
  const byFunction = new Map<FunctionDef, RegGradientTerm[]>();
  for (const t of decays) {
    const fn = index.enclosingFunction(t.site.scope);
    if (!fn?.cls || !fn.isMethod || exprKey(baseExpr(t.param!.base)) !== exprKey(t.site.target)) continue;
    const list = byFunction.get(fn);
    if (list) list.push(t);
    else byFunction.set(fn, [t]);
  }
  for (const [fn, terms] of byFunction) {
    const sitesOf = (caller: FunctionDef): readonly UpdateSite[] | undefined => program.factsAt(caller.span)?.updates ?? (program.parsedOf(caller.span) === program.parsedOf(fn.span) ? facts.updates : undefined);
    const applied = appliedReturns(program, fn, sitesOf, (f) => isScalarFactor(f, analyzer), (e) => analyzer.isModule(e));
    // Only a step the caller subtracts: the method returns the descent step itself.
    const subtracted = applied.find((a) => a.sign === -1);
    if (!subtracted || applied.some((a) => a.sign === 1)) continue;
    const seen = new Set<number>();
    for (const t of terms) {
      const site = t.site;
      if (seen.has(site.span.start)) continue;
      const stmt = index.stmtBySpan.get(spanKey(site.span));
      if (stmt?.kind !== 'assign' || stmt.op || stmt.targets.length !== 1 || stmt.targets[0].kind !== 'name') continue;
      const name = stmt.targets[0].name;
      // The name holds a weight the method was handed: one of its parameters, or a loop over them.
      const before = site.scope.lookup(name, site.at);
      if (!before || (before.kind !== 'param' && before.kind !== 'loop')) continue;
      const own = site.scope.allBindings(name).find((b) => b.kind === 'assign' && b.at === stmt.span.start);
      if (!own || isBindingRead(program, fn, own)) continue;
      seen.add(site.span.start);
      const caller = programIndex(program.factsAt(subtracted.site.span) ?? facts).enclosingFunction(subtracted.site.scope);
      // λ as the knob, the learning rate taken out (`self.weight_decay` of `self.lr * self.weight_decay`).
      const knobs = t.stepCoef.syms.filter((x) => x.pow > 0 && !isLearningRateName(decayKnobKey(x.name))).map((x) => x.name);
      found.push({ span: trimSpan(facts, site.span), local: name, term: knobs.length > 0 ? knobs.join(' * ') : facts.source(t.span), method: fn, appliedAt: trimSpan(facts, subtracted.site.span), caller });
    }
  }
  notReturnedCache.set(facts, found);
  return found;
}

// ------------------------------------------------------------------ a decayed gradient the base step never gets

export interface DecayNotHandedOn {
  /** The statement that adds the decay to the gradient's local: `g = g.add(w.mul(wd))`. */
  span: Span;
  /** The gradient's local (`g`) and the weight (`w`). */
  local: string;
  weight: string;
  method: FunctionDef;
  /** The base class's step the method calls instead: `super.applyGradients(grads)`. */
  baseStep: Span;
  /** Through a helper that returns the decayed gradient: its name. */
  helper?: string;
  /** The sum is a statement of its own (`p.grad.add(p, alpha=wd)`): its result is thrown away. */
  discarded: boolean;
  /** What the base step applies: torch's each parameter's `.grad`, TensorFlow.js's the map it is handed. */
  baseReads: 'grad' | 'map';
}

const notHandedOnCache = new WeakMap<Facts, DecayNotHandedOn[]>();

/**
 * A subclass of a framework optimizer whose step adds a coupled decay to a gradient's local
 * (`g = g.add(w.mul(wd))`, or `g = withDecay(w, g, wd)` through a helper that returns it) and then
 * calls the base class's step (`super.applyGradients(grads)`, `super().step()`): the base step
 * reads the gradients it always reads (the map it is handed, each parameter's `.grad`), and the
 * local nobody reads again carries the decay away with it.
 */
export function decaysNotHandedOn(facts: Facts): DecayNotHandedOn[] {
  let found = notHandedOnCache.get(facts);
  if (found) return found;
  found = [];
  const program = facts.program;
  const scopes = facts.scopes;
  for (const fn of programIndex(facts).functions) {
    if (!fn.cls || !fn.isMethod || !OPTIMIZER_STEP_METHODS.includes(fn.name) || program.parsedOf(fn.span)?.scopes !== facts.scopes) continue;
    if (!derivesFromFrameworkOptimizer(facts, fn.cls)) continue;
    const baseStep = superStepCall(facts, fn);
    if (!baseStep) continue;
    const baseReads = facts.language === 'python' ? 'grad' : 'map';
    // The method's own body, and the bodies of the callbacks it runs (`forEach(([k, g]) => {...})`).
    const units: { stmts: Stmt[]; scope: Scope; patterns: Param[] }[] = [{ stmts: fn.body, scope: fn.scope, patterns: [] }];
    walkAll(fn.body, (e) => {
      if (e.kind === 'lambda' && e.stmts.length > 0) units.push({ stmts: e.stmts, scope: scopes.lambdaScopes.get(e) ?? fn.scope, patterns: e.params.filter((p) => p.name === '') });
    });
    for (const unit of units) {
      for (const stmt of assignsIn(unit.stmts)) {
        if (stmt.op || stmt.targets.length !== 1 || stmt.targets[0].kind !== 'name') continue;
        const local = stmt.targets[0].name;
        const scope = scopes.stmtScopes.get(stmt) ?? unit.scope;
        if (!isDestructured(facts, unit.patterns, local) && !isHandedGradient(scope, local, stmt.span.start)) continue;
        const decay = addedWeight(facts, stmt.value, local, scope, stmt.span.start);
        const weights = decay?.weights.filter((w) => isWeightOf(scope, w, local, stmt.span.start)) ?? [];
        if (!decay || weights.length !== 1) continue;
        if (readAfter(unit.stmts, local, stmt.span.end)) continue;
        found.push({ span: trimSpan(facts, stmt.span), local, weight: weights[0], method: fn, baseStep: trimSpan(facts, baseStep.span), helper: decay.helper, discarded: false, baseReads });
      }
      // `p.grad.add(p, alpha=wd)` as a statement: an out-of-place sum whose result nothing keeps.
      eachStmt(unit.stmts, (stmt) => {
        if (stmt.kind !== 'expr') return;
        const scope = scopes.stmtScopes.get(stmt) ?? unit.scope;
        const d = discardedSum(facts, stmt.expr, scope, unit.patterns);
        if (d) found!.push({ span: trimSpan(facts, stmt.span), local: d.local, weight: d.weight, method: fn, baseStep: trimSpan(facts, baseStep.span), discarded: true, baseReads });
      });
    }
  }
  notHandedOnCache.set(facts, found);
  return found;
}

/** Derives directly from a framework's own optimizer class (`tf.AdamOptimizer`, `torch.optim.Adam`). */
function derivesFromFrameworkOptimizer(facts: Facts, cls: ClassDef): boolean {
  const imports = facts.scopes.imports;
  const language = facts.language === 'python' ? 'python' : 'script';
  return cls.bases.some((b) => isFrameworkOptimizerClassPath(frameworkPath(b, cls.outer, cls.span.start, imports, language)));
}

/** `super.applyGradients(...)`, `super().step(...)`, `super(Cls, self).step(...)` in the method's body. */
function superStepCall(facts: Facts, fn: FunctionDef): (Expr & { kind: 'call' }) | undefined {
  let call: (Expr & { kind: 'call' }) | undefined;
  walkAll(fn.body, (e) => {
    if (call || e.kind !== 'call' || e.callee.kind !== 'attr' || e.callee.name !== fn.name) return;
    const receiver = e.callee.object;
    // JavaScript's `super` is no expression the IR keeps: its text says it.
    const isSuper = (x: Expr): boolean => (x.kind === 'name' && x.name === 'super') || (x.kind === 'other' && x.children.length === 0 && facts.source(x.span) === 'super');
    if (isSuper(receiver) || (receiver.kind === 'call' && isSuper(receiver.callee))) call = e;
  });
  return call;
}

/** Every assignment in a body, through loops and branches, not into nested functions. */
function assignsIn(stmts: Stmt[], depth = 0): (Stmt & { kind: 'assign' })[] {
  const out: (Stmt & { kind: 'assign' })[] = [];
  if (depth > 32) return out;
  for (const s of stmts) {
    if (s.kind === 'assign') out.push(s);
    else if (s.kind === 'for' || s.kind === 'block') out.push(...assignsIn(s.body, depth + 1));
  }
  return out;
}

/**
 * The local holds a gradient the base step reads on its own: a callback's or loop's variable (an
 * entry of the map handed on), or a parameter's `.grad` (`g = p.grad`).
 */
function isHandedGradient(scope: Scope, local: string, at: number): boolean {
  const before = scope.lookup(local, at);
  if (!before) return false;
  if (before.kind === 'param' || before.kind === 'loop') return true;
  return before.kind === 'assign' && !before.op && before.value?.kind === 'attr' && before.value.name === TORCH_GRAD_ATTRIBUTE;
}

/**
 * `g + c·w` as written (`g.add(w.mul(c))`, `g.add(w, alpha=c)`, `g + c * w`), or a project helper
 * handed g that returns g with such a term added in one of its paths: the names that may be the
 * weight (the caller's names for the helper's), the rest of the term settings.
 */
function addedWeight(facts: Facts, value: Expr, local: string, scope: Scope, at: number): { weights: string[]; helper?: string } | undefined {
  const weights = sumWithWeight(facts, value, local);
  if (weights) return { weights };
  if (value.kind !== 'call') return undefined;
  const target = resolveCall(facts.program, value, scope, at);
  if (!target || target.constructs || target.receiver) return undefined;
  const fn = target.fn;
  // The helper's parameter the gradient arrives in, by position.
  const gradIndex = callArguments(value, target).findIndex((a) => a.kind === 'name' && a.name === local);
  const gradParam = fn.params[gradIndex]?.name;
  if (gradIndex < 0 || !gradParam) return undefined;
  const fnFacts = facts.program.factsAt(fn.span) ?? facts;
  let returnsGrad = false;
  let added: string[] | undefined;
  eachStmt(fn.body, (s) => {
    if (s.kind === 'return' && s.value?.kind === 'name' && s.value.name === gradParam) returnsGrad = true;
    if (s.kind === 'return' && s.value && !added) added = sumWithWeight(fnFacts, s.value, gradParam);
    if (s.kind === 'assign' && !s.op && !added && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === gradParam) added = sumWithWeight(fnFacts, s.value, gradParam);
  });
  if (!added || (!returnsGrad && !fn.body.some((s) => s.kind === 'return'))) return undefined;
  // The caller's names for the helper's: a setting it passes is a scalar, anything else no weight.
  const callerNames: string[] = [];
  for (const name of added) {
    const arg = value.args[fn.params.findIndex((p) => p.name === name)];
    if (arg?.kind === 'name' && arg.name !== local) callerNames.push(arg.name);
    else if (!arg || !isSetting(arg)) return undefined;
  }
  return { weights: callerNames, helper: fn.name };
}

/** `g + c·w` with g the local: the names the added term multiplies (all else settings). */
function sumWithWeight(facts: Facts, e: Expr, local: string, isGradient?: (z: Expr) => boolean): string[] | undefined {
  const analyzer = facts.analyzer;
  let operands: (Expr | undefined)[] | undefined;
  if (e.kind === 'binary' && e.op === '+') operands = [e.left, e.right];
  else if (e.kind === 'call') {
    const a = analyzer.arithmeticCall(e);
    if (a?.op === '+') operands = a.operands;
  }
  if (!operands || operands.length < 2) return undefined;
  const [x, y, alpha] = operands;
  const isLocal = (z: Expr | undefined): boolean => z !== undefined && (isGradient ? isGradient(z) : z.kind === 'name' && z.name === local);
  const other = isLocal(x) ? y : isLocal(y) ? x : undefined;
  if (!other || (alpha && !isSetting(alpha) && alpha.kind !== 'name')) return undefined;
  const names = factorNames(analyzer, other, 0);
  if (!names || names.length === 0 || names.includes(local)) return undefined;
  if (alpha?.kind === 'name') names.push(alpha.name);
  return names;
}

/** The names a product of names and settings multiplies (`w.mul(this.wd)` → w); undefined for anything else. */
function factorNames(analyzer: Facts['analyzer'], e: Expr, depth: number): string[] | undefined {
  if (depth > 4) return undefined;
  if (e.kind === 'name') return [e.name];
  if (isSetting(e)) return [];
  let operands: (Expr | undefined)[] | undefined;
  if (e.kind === 'binary' && e.op === '*') operands = [e.left, e.right];
  else if (e.kind === 'call') {
    const a = analyzer.arithmeticCall(e);
    if (a?.op === '*' && a.operands.length >= 2 && !a.operands[2]) operands = a.operands.slice(0, 2);
  }
  if (!operands) return undefined;
  const out: string[] = [];
  for (const o of operands) {
    const n = o && factorNames(analyzer, o, depth + 1);
    if (!n) return undefined;
    out.push(...n);
  }
  return out;
}

/** A number, or a setting read from the object or a group: `this.wd`, `self.weight_decay`, `group["weight_decay"]`. */
function isSetting(e: Expr): boolean {
  if (e.kind === 'num') return true;
  if (e.kind === 'attr') return e.object.kind === 'name' && (e.object.name === 'this' || e.object.name === 'self');
  if (e.kind === 'index') return e.object.kind === 'name' && e.index.length === 1 && e.index[0].kind === 'str';
  return false;
}

/** Does any statement of the body read `name` after `offset` (source order)? */
function readAfter(stmts: Stmt[], name: string, offset: number): boolean {
  let read = false;
  walkAll(stmts, (e) => {
    if (!read && e.kind === 'name' && e.name === name && e.span.start >= offset) read = true;
  });
  return read;
}

/**
 * The weight the gradient belongs to, as the step finds it: a loop's variable (`for p in
 * group["params"]`), an entry read by a variable key (`engine.registeredVariables[name]`), or the tensor
 * whose `.grad` the gradient's local holds (`g = p.grad`). Not a tensor made on the spot (noise).
 */
function isWeightOf(scope: Scope, weight: string, local: string, at: number): boolean {
  const w = scope.lookup(weight, at);
  if (!w) return false;
  // Keyed by a variable (`registeredVariables[name]`), not a setting's name (`group["weight_decay"]`).
  const byKey = w.kind === 'assign' && !w.op && w.value?.kind === 'index' && w.value.index.length === 1 && w.value.index[0].kind !== 'str' && w.value.index[0].kind !== 'num';
  if (w.kind === 'loop' || byKey) return true;
  const g = scope.lookup(local, at);
  const v = g?.kind === 'assign' ? g.value : undefined;
  return v?.kind === 'attr' && v.name === TORCH_GRAD_ATTRIBUTE && v.object.kind === 'name' && v.object.name === weight;
}

/** Every statement of a body, through loops and branches, not into nested functions. */
function eachStmt(stmts: Stmt[], visit: (s: Stmt) => void, depth = 0): void {
  if (depth > 32) return;
  for (const s of stmts) {
    visit(s);
    if (s.kind === 'for' || s.kind === 'block') eachStmt(s.body, visit, depth + 1);
  }
}

/** A callback's destructured entry (`([name, g]) => ...`) binds no name the IR keeps: its text does. */
function isDestructured(facts: Facts, patterns: Param[], local: string): boolean {
  const word = new RegExp(`(^|[^\\w$])${local.replace(/\$/g, '\\$')}($|[^\\w$])`);
  return patterns.some((p) => word.test(facts.source(p.span)));
}

/** `g.add(w.mul(wd))` or `p.grad.add(p, alpha=wd)` as a statement: the gradient's name and the weight. */
function discardedSum(facts: Facts, e: Expr, scope: Scope, patterns: Param[]): { local: string; weight: string } | undefined {
  const a = e.kind === 'call' ? facts.analyzer.arithmeticCall(e) : e.kind === 'binary' && e.op === '+' ? { op: '+', operands: [e.left, e.right] } : undefined;
  if (a?.op !== '+') return undefined;
  for (const g of a.operands.slice(0, 2)) {
    if (!g) continue;
    if (g.kind === 'attr' && g.name === TORCH_GRAD_ATTRIBUTE && g.object.kind === 'name') {
      const weight = g.object.name;
      const local = `${weight}.${TORCH_GRAD_ATTRIBUTE}`;
      const names = sumWithWeight(facts, e, local, (z) => z === g);
      if (names?.includes(weight)) return { local, weight };
    } else if (g.kind === 'name' && (isDestructured(facts, patterns, g.name) || isHandedGradient(scope, g.name, e.span.start))) {
      const names = sumWithWeight(facts, e, g.name);
      const weights = names?.filter((w) => isWeightOf(scope, w, g.name, e.span.start)) ?? [];
      if (weights.length === 1) return { local: g.name, weight: weights[0] };
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ a decayed value thrown away

export interface DiscardedDecay {
  /** The statement: `dp.add(p.data, alpha=wd)`, `p.data.mul(1 - lr * wd)`. */
  span: Span;
  /** The call's receiver as written (`dp`, `p.data`): an out-of-place call leaves it as it was. */
  receiver: string;
  /** The weight the decay is of (`p`), as the update writes it. */
  weight: string;
  /** The receiver is a gradient the step reads afterwards, or the weight itself. */
  of: 'gradient' | 'weight';
  /** The method as called (`add`), the callee as written (`g.add`, `torch.add`), and the in-place form (`add_`). */
  method: string;
  callee: string;
  inPlace: string;
  /** The first later read of the receiver (a gradient), else the weight's update. */
  readAt: Span;
  /** The update of the weight in the same function. */
  update: Span;
  /** The decay's term as written (`p.data, alpha=weight_decay`). */
  term: string;
}

const discardedCache = new WeakMap<Facts, DiscardedDecay[]>();

/**
 * An out-of-place arithmetic call written as a statement in a function that steps a weight, whose
 * value was that weight's decay: `dp.add(p.data, alpha=wd)` (the decayed gradient, with dp read by
 * the step afterwards), `p.data.mul(1 - lr * wd)` or `p.data.add(p.data, alpha=-lr * wd)` (the
 * decayed weight). torch's `add`, `mul` (NumPy's, TF's, tfjs's alike) return a new tensor and leave
 * the receiver as it was (catalogue.ts `arithmeticPlacement`): nothing keeps the sum, so the decay
 * is never applied. Only calls that read the weight the same function updates: a bare `x.add(y)`
 * with no step around is not this.
 */
export function discardedDecays(facts: Facts): DiscardedDecay[] {
  let found = discardedCache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const analyzer = facts.analyzer;
  // Each function's parameter updates by the weight's key (`p` of `p.data.add_(...)`), built on the first candidate.
  let updates: Map<FunctionDef | undefined, Map<string, UpdateSite[]>> | undefined;
  const sitesByFn = new Map<FunctionDef | undefined, UpdateSite[]>();
  const updatesOf = (fn: FunctionDef | undefined, key: string): UpdateSite[] => {
    if (!updates) {
      updates = new Map();
      // Pushed, not copied: a function of thousands of updates must not cost their square.
      const push = <K>(map: Map<K, UpdateSite[]>, key: K, site: UpdateSite): void => {
        const list = map.get(key);
        if (list) list.push(site);
        else map.set(key, [site]);
      };
      for (const site of facts.updates) {
        const owner = index.enclosingFunction(site.scope);
        push(sitesByFn, owner, site);
        if (site.kind !== 'update') continue;
        const k = exprKey(baseExpr(site.target));
        if (k === undefined) continue;
        let byKey = updates.get(owner);
        if (!byKey) updates.set(owner, (byKey = new Map()));
        push(byKey, k, site);
      }
    }
    return updates.get(fn)?.get(key) ?? [];
  };
  const weightKey = (e: Expr | undefined): string | undefined => (e && (e.kind === 'name' || e.kind === 'attr') ? exprKey(baseExpr(e)) : undefined);
  // Parameters a function writes in place by a call the update sites do not list (`p.data.addcdiv_(m, d, value=-lr)`), by function.
  const inPlaceWrites = new Map<FunctionDef | undefined, Map<string, Span>>();
  const writtenInPlace = (fn: FunctionDef | undefined, body: Stmt[], key: string): Span | undefined => {
    let written = inPlaceWrites.get(fn);
    if (!written) {
      const found = new Map<string, Span>();
      eachStmt(body, (s) => {
        if (s.kind !== 'expr' || s.expr.kind !== 'call') return;
        let target = stepCall(s.expr, (e) => analyzer.isModule(e))?.writes;
        for (let i = 0; i < 8 && target?.kind === 'call'; i++) target = stepCall(target, (e) => analyzer.isModule(e))?.writes;
        const k = target && target.kind !== 'call' ? exprKey(baseExpr(target)) : undefined;
        if (k !== undefined && facts.params.has(k) && !found.has(k)) found.set(k, s.span);
      });
      inPlaceWrites.set(fn, (written = found));
    }
    return written.get(key);
  };
  for (const stmt of index.stmtBySpan.values()) {
    if (stmt.kind !== 'expr' || stmt.expr.kind !== 'call' || stmt.expr.callee.kind !== 'attr') continue;
    const call = stmt.expr;
    if (arithmeticPlacement(call) !== 'out-of-place') continue;
    const a = analyzer.arithmeticCall(call);
    if (!a || a.op === 'neg') continue;
    const [x, y, alpha] = a.operands;
    // JAX's functional `x.at[i].add(v)` is another mistake (a scatter thrown away), not a decay.
    if (!x || !y || (x.kind === 'index' && x.object.kind === 'attr' && x.object.name === 'at')) continue;
    const scope = index.scopeAt(stmt.span.start);
    const fn = index.enclosingFunction(scope);
    const body = fn ? fn.body : facts.module.body;
    const scalar = (e: Expr | undefined): boolean => e === undefined || analyzer.isScalar(e);
    const xKey = weightKey(x);
    const updateOf = (k: string): Span | undefined => updatesOf(fn, k)[0]?.span ?? writtenInPlace(fn, body, k);
    const xIsWeight = xKey !== undefined && updateOf(xKey) !== undefined;
    let weight: string | undefined;
    let of: DiscardedDecay['of'];
    if (a.op === '*' || a.op === '/') {
      // `p.data.mul(1 - lr * wd)`: the weight scaled by a number that reads a setting.
      if (!xIsWeight || !scalar(y) || alpha || numberOf(y) !== undefined) continue;
      weight = xKey;
      of = 'weight';
    } else {
      if (!scalar(alpha)) continue;
      const w = termWeight(facts, y, (k) => updateOf(k) !== undefined);
      if (w === undefined) continue;
      if (xIsWeight) {
        // `p.data.add(p.data, alpha=-lr * wd)`: the weight's own multiple.
        if (w !== xKey) continue;
        of = 'weight';
      } else of = 'gradient';
      weight = w;
    }
    const update = updateOf(weight!)!;
    let readAt: Span | undefined = update;
    if (of === 'gradient') {
      // A step reads the receiver afterwards (the weight's update, a buffer's): the decay would have
      // reached it in place. A set's `seen.add(p)` feeds no step.
      // A parameter's `.grad` (`g = p.grad`, `p.grad`) or a loop's tensor is read by whatever reads
      // it next; anything else counts only when a step's own statement reads it.
      const rKey = exprKey(x);
      const bound = x.kind === 'name' ? scope.lookup(x.name, stmt.span.start) : undefined;
      const gradient = (x.kind === 'attr' && x.name === TORCH_GRAD_ATTRIBUTE) || bound?.kind === 'loop' || (bound?.kind === 'assign' && !bound.op && bound.value?.kind === 'attr' && bound.value.name === TORCH_GRAD_ATTRIBUTE);
      const readBy = rKey !== undefined && (gradient || (sitesByFn.get(fn) ?? []).some((site) => site.span.start >= stmt.span.end && statementReads(index.stmtBySpan.get(spanKey(site.span)), rKey)));
      readAt = readBy && rKey !== undefined ? firstReadAfter(body, rKey, stmt.span.end) : undefined;
      if (!readAt) continue;
    }
    // `torch.add(g, p, alpha=wd)`: the module function's first argument is the receiver.
    const moduleForm = call.args[0] === x;
    const method = (call.callee as Expr & { kind: 'attr' }).name;
    found.push({
      span: trimSpan(facts, stmt.span),
      receiver: facts.source(x.span),
      callee: facts.source(call.callee.span),
      weight: weight!,
      of: of!,
      method,
      inPlace: `${method}_`,
      readAt: trimSpan(facts, readAt),
      update: trimSpan(facts, update),
      term: argumentsText(facts, call, moduleForm),
    });
  }
  discardedCache.set(facts, found);
  return found;
}

/** The key of the one weight a product of scalars reads (`p.data`, `wd * p`, `p.mul(wd)`), when `isWeight` says it is one. */
function termWeight(facts: Facts, e: Expr, isWeight: (key: string) => boolean, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  if (e.kind === 'name' || e.kind === 'attr') {
    const k = exprKey(baseExpr(e));
    if (k !== undefined && isWeight(k)) return k;
  }
  let operands: (Expr | undefined)[] | undefined;
  if (e.kind === 'binary' && e.op === '*') operands = [e.left, e.right];
  else if (e.kind === 'call') {
    const a = facts.analyzer.arithmeticCall(e);
    if (a?.op === '*' && !a.operands[2]) operands = a.operands.slice(0, 2);
    // `p.detach()`, `p.clone()`: the same values.
    else if (e.callee.kind === 'attr' && e.args.length === 0 && (e.callee.name === 'detach' || e.callee.name === 'clone')) return termWeight(facts, e.callee.object, isWeight, depth + 1);
  }
  if (!operands || operands.some((o) => !o)) return undefined;
  const weights = operands.map((o) => termWeight(facts, o!, isWeight, depth + 1));
  const one = weights.filter((w) => w !== undefined);
  if (one.length !== 1) return undefined;
  return operands.every((o, i) => weights[i] !== undefined || facts.analyzer.isScalar(o!)) ? one[0] : undefined;
}

/** The first expression of the body after `offset` (source order) that reads `key`. */
function firstReadAfter(stmts: Stmt[], key: string, offset: number): Span | undefined {
  let at: Span | undefined;
  walkAll(stmts, (e) => {
    if (e.span.start < offset || (at && at.start <= e.span.start)) return;
    if ((e.kind === 'name' || e.kind === 'attr') && exprKey(e) === key) at = e.span;
  });
  return at;
}

/** A call's arguments as written, keywords and all (`p.data, alpha=wd`), the receiver of a module function (`torch.add(g, p)`) left out. */
function argumentsText(facts: Facts, call: Expr & { kind: 'call' }, skipFirst: boolean): string {
  return [...call.args.slice(skipFirst ? 1 : 0).map((a) => facts.source(a.span)), ...call.kwargs.map((k) => `${k.name}=${facts.source(k.value.span)}`)].join(', ');
}

/** Whether a simple statement reads `key` (as a name or attribute, anywhere in it). */
function statementReads(stmt: Stmt | undefined, key: string): boolean {
  if (!stmt) return false;
  const exprs = stmt.kind === 'assign' ? [stmt.value, ...stmt.targets] : stmt.kind === 'expr' ? [stmt.expr] : stmt.kind === 'return' && stmt.value ? [stmt.value] : [];
  return exprs.some((e) => someExpr(e, (x) => (x.kind === 'name' || x.kind === 'attr') && exprKey(x) === key));
}

/** Does the constructor write torch's group decay key (`weight_decay=` in `dict(...)`, a `"weight_decay"` entry)? A cheap gate before reading its parameters' uses. */
function mentionsGroupDecayKey(init: FunctionDef): boolean {
  let found = false;
  walkAll(init.body, (e) => {
    if (found) return;
    if (e.kind === 'object' && e.entries.some((x) => x.name === TORCH_DECAY_GROUP_KEY)) found = true;
    else if (e.kind === 'call' && e.kwargs.some((k) => k.name === TORCH_DECAY_GROUP_KEY)) found = true;
  });
  return found;
}
