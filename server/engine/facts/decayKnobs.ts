// Decay knobs an optimizer class accepts and never applies: `def __init__(self, params, lr,
// weight_decay=0)` stores the knob in `defaults` (or on `self`), and no method of the class or of
// its bases reads it back. Torch-style optimizers only (a class deriving from the framework's
// Optimizer through project classes whose code is visible).
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { forEachChild, someExpr, type ClassDef, type FunctionDef } from './scope';
import { baseClasses, derivesFrom, methodOf, resolveCall, resolveExpr } from './resolve';
import { DICT_WALKS, NO_INSTANCE_DECORATORS, OPTIMIZER_DEFAULTS_ATTRIBUTE, OPTIMIZER_STEP_METHODS, CONSTRUCTOR_METHODS, PARAM_GROUPS_ATTRIBUTE, frameworkPath, isNeutralBasePath, isOptimizerBasePath } from './catalogue';
import { decayKnobKey, isDecayKnobName, isLearningRateName } from './roles';
import { programIndex, spanKey, walkAll } from './program';
import type { UpdateSite } from './updates';
import { isScalarFactor } from './updates';
import { baseExpr, exprKey } from './keys';
import { isRegularizationTerm, regGradientTerms, type RegGradientTerm } from './gradients';
import { appliedReturns, isBindingRead } from './appliedSteps';
import { trimSpan } from './steps';

export interface UnusedDecayKnob {
  cls: ClassDef;
  /** The constructor parameter. */
  param: Param;
  /** The step method (its name) that never reads the knob. */
  step: Span;
  /** Where the knob is stored (`'weight_decay': weight_decay`, `self.wd = wd`), when it is. */
  stored?: Span;
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
  const init = CONSTRUCTOR_METHODS.map((m) => cls.scope.functions.get(m)).find((f) => f !== undefined);
  if (!init) return undefined;
  const knobs = init.params.filter((p) => isDecayKnobName(p.name));
  if (knobs.length === 0) return undefined;
  if (!isTorchOptimizer(facts, cls, 0)) return undefined;
  const step = OPTIMIZER_STEP_METHODS.map((m) => methodOf(program, cls, m)).find((f) => f !== undefined);
  if (!step || !step.nameSpan) return undefined;
  // A base of another class in the file: a subclass may apply what the base stores.
  for (const other of fileClasses) if (other !== cls && derivesFrom(program, other, cls)) return undefined;
  const out: UnusedDecayKnob[] = [];
  for (const param of knobs) {
    const uses = constructorUses(facts, init, param.name);
    if (!uses) continue; // used in the constructor beyond storing and validating it
    // An attribute of the knob's own name counts as a read whatever the constructor shows:
    // TypeScript's `constructor(private weightDecay: number)` stores it without an assignment.
    if (readInClass(facts, cls, init, uses.keys, new Set([...uses.attrs, param.name]))) continue;
    out.push({ cls, param, step: step.nameSpan, stored: uses.stored });
  }
  return out;
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
  if (!target || target.constructs) return false;
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
