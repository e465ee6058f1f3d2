// What a name or a callee refers to, across scopes, classes, instances and files: the one place the
// engine links a use to its definition. Local definitions first (functions, classes, variables in
// the scope chain), then the file's imports, followed into the project's other files
// (server/engine/project.ts) through `from m import f`, `import m as x; x.f`, packages' `__init__`
// re-exports, TS/JS named and default exports, CommonJS `module.exports` and `require`. Methods are
// found on `self`/`this`, on `super()`, and on instances whose class is known from where they were
// built (`model = Net(...)`, `self.reg = L2(alpha)` in `__init__`, `new Net()` of a JS constructor
// function whose prototype holds the methods), through base classes in any file;
// `self.f(...)` runs a plain function a method stored in `self.f`; calling an instance the code shows
// built (`self.l2 = L2Term(reg)`) runs the method its framework base calls (torch's `forward`).
// Every walk is bounded: import cycles and self-referential bindings end at MAX_HOPS.
import type { Expr, Stmt } from '../ir';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { ClassDef, FunctionDef, ImportedName, Scope } from './scope';
import { exprKey } from './keys';
import { frameworkPath, methodCallRuns } from './catalogue';

export type Definition =
  | { kind: 'function'; fn: FunctionDef }
  | { kind: 'class'; cls: ClassDef }
  | { kind: 'module'; parsed: ParsedFile }
  /** A value bound to a name (a module variable, an object literal's entry): the expression and where it is read. */
  | { kind: 'value'; expr: Expr; scope: Scope; at: number };

/** A call's target: the function it runs, and for a method call the instance it runs on. */
export interface CallTarget {
  fn: FunctionDef;
  /** The receiver of a method call (`model` in `model.l2()`); absent for plain functions and `Cls.m(obj)`. */
  receiver?: Expr;
  /** The class whose method this is, when the call was resolved through one. */
  cls?: ClassDef;
  /** A class instantiated (`Net(...)`): `fn` is its constructor. */
  constructs?: ClassDef;
  /** For an instance called (`self.l2(e)` running `forward`): the call that built it, where the code shows it. */
  built?: Construction;
  /**
   * A JS function run with an explicit `this` (`f.call(t, a, b)`, `f.apply(t, [a, b])`, `f.bind(t, a)(b)`):
   * the arguments its parameters take, in order, from the first (a, b); `receiver` is t. Read a
   * call's arguments through `callArguments`.
   */
  args?: Expr[];
}

/** The positional arguments a target's parameters take: the call's own, or those after `this` (`CallTarget.args`). */
export function callArguments(call: Expr & { kind: 'call' }, target: CallTarget): Expr[] {
  return target.args ?? call.args;
}

/** The call that built an instance (`L2Term(reg)` in `self.l2 = L2Term(reg)`), where it is read, and its class. */
export interface Construction {
  call: Expr & { kind: 'call' };
  scope: Scope;
  at: number;
  cls: ClassDef;
}

const MAX_HOPS = 8;

const SELF = /^(self|this)$/;

/** `self` / `this`: the instance a method runs on. */
export function isSelfName(name: string): boolean {
  return SELF.test(name);
}

/** The definition a name has at a point. */
export function resolveName(program: Program, name: string, scope: Scope, at: number, hops = 0): Definition | undefined {
  if (hops > MAX_HOPS) return undefined;
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    // Class bodies do not enclose their methods' names (Python); `self.x` is looked up separately.
    if (s.kind === 'class' && s !== scope) continue;
    const fn = s.functions.get(name);
    if (fn) return { kind: 'function', fn };
    const cls = s.classes.get(name);
    if (cls) return { kind: 'class', cls };
    const bindings = s.bindings.get(name);
    if (bindings && bindings.length > 0) {
      const b = scope.lookup(name, at);
      if (!b) break;
      if (b.kind !== 'assign' || !b.value || b.op) return undefined;
      return valueDefinition(program, b.value, b.scope, b.at, hops + 1);
    }
  }
  const parsed = program.parsedOf(scope.span);
  const imported = parsed?.scopes.imports.get(name);
  if (parsed && imported) return resolveImport(program, parsed, imported, hops + 1);
  return parsed ? fromStarImports(program, parsed, name, hops) : undefined;
}

/** A public name that `from m import *` brought in. */
function fromStarImports(program: Program, parsed: ParsedFile, name: string, hops: number): Definition | undefined {
  if (name.startsWith('_')) return undefined;
  for (const module of parsed.scopes.starImports) {
    const target = program.resolveModule(parsed.file, module);
    const found = target && target !== parsed ? exportedName(program, target, name, hops + 1) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** A bound value, seen through aliases (`f = helpers.l2`, `Model = YOLOv3`). */
function valueDefinition(program: Program, value: Expr, scope: Scope, at: number, hops: number): Definition | undefined {
  if (value.kind === 'name' || value.kind === 'attr') {
    const aliased = resolveExpr(program, value, scope, at, hops + 1);
    if (aliased) return aliased;
  }
  return { kind: 'value', expr: value, scope, at };
}

/** What an imported name refers to in the project, or undefined for libraries and missing files. */
export function resolveImport(program: Program, from: ParsedFile, imported: ImportedName, hops = 0): Definition | undefined {
  if (hops > MAX_HOPS) return undefined;
  const target = program.resolveModule(from.file, imported.module);
  if (imported.name === undefined || imported.name === '*') return target ? { kind: 'module', parsed: target } : undefined;
  if (!target) {
    // `from . import utils`, `from pkg import submodule`: the name is a module of the package.
    return undefined;
  }
  return exportedName(program, target, imported.name, hops + 1);
}

/** A module's member as other files see it: its definitions, re-exports, submodules, TS/CommonJS exports. */
export function exportedName(program: Program, parsed: ParsedFile, name: string, hops = 0): Definition | undefined {
  if (hops > MAX_HOPS) return undefined;
  const { scopes } = parsed;
  const root = scopes.root;
  const exported = scopes.exports.get(name);
  if (exported) {
    if (exported.from) return resolveImport(program, parsed, exported.from, hops + 1);
    if (exported.expr) {
      const e = exported.expr;
      if (e.kind === 'name' && e.name !== name) return resolveName(program, e.name, exported.scope, Infinity, hops + 1);
      if (e.kind === 'name') {
        const own = ownDefinition(program, parsed, e.name, hops);
        if (own) return own;
      }
      if (e.kind === 'lambda') {
        // `export default (w) => ...` is bound to `default` like `const f = (w) => ...` to f.
        const fn = root.functions.get(name);
        if (fn) return { kind: 'function', fn };
      }
      return valueDefinition(program, e, exported.scope, Infinity, hops + 1);
    }
  }
  const own = ownDefinition(program, parsed, name, hops);
  if (own) return own;
  for (const module of scopes.starExports) {
    const target = program.resolveModule(parsed.file, module);
    const found = target && exportedName(program, target, name, hops + 1);
    if (found) return found;
  }
  const starred = fromStarImports(program, parsed, name, hops);
  if (starred) return starred;
  const sub = program.submodule(parsed, name);
  if (sub) return { kind: 'module', parsed: sub };
  return undefined;
}

/** A module-level definition of the file itself (function, class, variable or import). */
function ownDefinition(program: Program, parsed: ParsedFile, name: string, hops: number): Definition | undefined {
  const root = parsed.scopes.root;
  const fn = root.functions.get(name);
  if (fn) return { kind: 'function', fn };
  const cls = root.classes.get(name);
  if (cls) return { kind: 'class', cls };
  if (root.bindings.has(name)) return resolveName(program, name, root, Infinity, hops + 1);
  const imported = parsed.scopes.imports.get(name);
  if (imported) return resolveImport(program, parsed, imported, hops + 1);
  return undefined;
}

/**
 * Per program: a lambda's definition holds the scope its file's parse gave it, and the statements of
 * one parse can be shared by the next version of the file (server/engine/lower/reuse.ts), whose
 * scopes are new.
 */
const lambdaFunctions = new WeakMap<Program, WeakMap<Expr, FunctionDef>>();

/** A lambda as a function definition (an object literal's method, an arrow function passed around). */
export function lambdaFunction(program: Program, e: Expr & { kind: 'lambda' }, name: string, outer: Scope): FunctionDef {
  let known = lambdaFunctions.get(program);
  if (!known) lambdaFunctions.set(program, (known = new WeakMap()));
  let fn = known.get(e);
  if (!fn) {
    const scope = program.lambdaScope(e) ?? outer;
    fn = { name, params: e.params, returns: e.body, body: e.stmts, span: e.span, isMethod: false, scope, decorators: [] };
    known.set(e, fn);
  }
  return fn;
}

/** The definition an expression names: a name, `module.member`, `self.method`, `obj.method`, `super().method`. */
export function resolveExpr(program: Program, e: Expr, scope: Scope, at: number, hops = 0): Definition | undefined {
  if (hops > MAX_HOPS) return undefined;
  if (e.kind === 'name') return resolveName(program, e.name, scope, at, hops + 1);
  if (e.kind !== 'attr') return undefined;
  const method = methodTarget(program, e, scope, at, hops + 1);
  if (method) return { kind: 'function', fn: method.fn };
  const owner = resolveExpr(program, e.object, scope, at, hops + 1);
  const named = owner?.kind === 'module' ? exportedName(program, owner.parsed, e.name, hops + 1) : undefined;
  if (named) return named;
  // `Updates.plainStep(…)` with `const Updates = require('./updates')` and `module.exports = Updates`: the class's static method.
  const cls = owner?.kind === 'class' ? owner : owner ? wholeModuleExport(program, owner, hops + 1) : undefined;
  if (cls?.kind === 'class') {
    const fn = methodOf(program, cls.cls, e.name, hops + 1);
    if (fn) return { kind: 'function', fn };
  }
  if (owner?.kind === 'value' && owner.expr.kind === 'object') {
    const entry = owner.expr.entries.find((x) => x.name === e.name);
    if (entry) return valueDefinition(program, entry.value, owner.scope, owner.at, hops + 1);
  }
  return undefined;
}

/** The function a call runs: a function, a method of a known class (through its bases), or a class's constructor. */
export function resolveCall(program: Program, call: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
  const callee = call.callee;
  if (callee.kind === 'attr') {
    const method = methodTarget(program, callee, scope, at, 0);
    if (method) return method;
  }
  const handed = explicitThisTarget(program, call, scope, at);
  if (handed) return handed;
  if (callee.kind === 'attr') {
    const stored = storedFunctionTarget(program, call, callee, scope, at);
    if (stored) return stored;
  }
  const def = resolveExpr(program, callee, scope, at);
  if (!def || (def.kind === 'value' && def.expr.kind !== 'lambda')) return instanceCallTarget(program, callee, scope, at);
  if (def.kind === 'function') return { fn: def.fn, cls: def.fn.cls, receiver: def.fn.isMethod && callee.kind === 'attr' ? callee.object : undefined };
  if (def.kind === 'value' && def.expr.kind === 'lambda') {
    // `reg.grad(w)` on an object literal `{ grad(w) { ... } }`: `this` is the object.
    return { fn: lambdaFunction(program, def.expr, callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : '', def.scope), receiver: callee.kind === 'attr' ? callee.object : undefined };
  }
  if (def.kind === 'class') {
    const init = methodOf(program, def.cls, '__init__') ?? methodOf(program, def.cls, 'constructor');
    return init ? { fn: init, cls: def.cls, constructs: def.cls } : undefined;
  }
  return undefined;
}

/**
 * A JS function run with `this` given apart from its arguments: `f.call(t, a, b)`, `f.apply(t, [a, b])`
 * (an array written out), `f.bind(t, a)(b)`, and `g(b)` after `const g = f.bind(t)`. Python has no
 * such forms (a Keras layer's `layer.call(x)` is its own method, found before this).
 */
function explicitThisTarget(program: Program, call: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
  if (program.parsedOf(call.span)?.language === 'python') return undefined;
  const callee = call.callee;
  let handed: { fn: Expr; thisArg?: Expr; args: Expr[] } | undefined;
  if (callee.kind === 'attr' && callee.name === 'call') handed = { fn: callee.object, thisArg: call.args[0], args: call.args.slice(1) };
  else if (callee.kind === 'attr' && callee.name === 'apply') {
    // `f.apply(t, xs)` of an array the code does not write out hands arguments nobody can place.
    const list = call.args[1];
    if (call.args.length > 2 || (list && list.kind !== 'seq')) return undefined;
    handed = { fn: callee.object, thisArg: call.args[0], args: list?.kind === 'seq' ? list.items : [] };
  } else if (callee.kind === 'call') {
    const bound = boundFunction(callee);
    if (bound) handed = { ...bound, args: [...bound.args, ...call.args] };
  } else if (callee.kind === 'name') {
    // `const g = f.bind(t)` read in the same scope: its arguments, if any, would be read where g is called.
    const b = scope.lookup(callee.name, at);
    const bound = b?.kind === 'assign' && !b.op && b.value?.kind === 'call' && b.scope === scope ? boundFunction(b.value) : undefined;
    if (bound && bound.args.length === 0) handed = { ...bound, args: call.args };
  }
  // `f.call(...xs)`: where the arguments start is unknown.
  if (!handed || call.kwargs.length > 0 || handed.thisArg?.kind === 'other') return undefined;
  const def = resolveExpr(program, handed.fn, scope, at);
  const name = handed.fn.kind === 'attr' || handed.fn.kind === 'name' ? handed.fn.name : '';
  const fn = def?.kind === 'function' ? def.fn : def?.kind === 'value' && def.expr.kind === 'lambda' ? lambdaFunction(program, def.expr, name, def.scope) : undefined;
  if (!fn) return undefined;
  const t = handed.thisArg;
  // (A TypeScript `this: Net` parameter is no parameter: the lowerer leaves it out.)
  const receiver = t && !(t.kind === 'name' && (t.name === 'null' || t.name === 'undefined')) ? t : undefined;
  return { fn, ...(fn.cls ? { cls: fn.cls } : {}), ...(receiver ? { receiver } : {}), args: handed.args };
}

/** `f.bind(t, a)`: the function, the `this` it is bound to and the arguments bound before the call's own. */
function boundFunction(e: Expr & { kind: 'call' }): { fn: Expr; thisArg?: Expr; args: Expr[] } | undefined {
  if (e.callee.kind !== 'attr' || e.callee.name !== 'bind' || e.kwargs.length > 0) return undefined;
  return { fn: e.callee.object, thisArg: e.args[0], args: e.args.slice(1) };
}

/**
 * `self.l2(e)`, `loss_fn(e)` where the code shows the instance built from a project class
 * (`self.l2 = L2Term(reg)`) whose framework base makes calling an instance run a method the class
 * defines (torch's `forward`, Keras's `call`): that method, on the instance, with how it was built.
 */
function instanceCallTarget(program: Program, callee: Expr, scope: Scope, at: number): CallTarget | undefined {
  if (callee.kind !== 'name' && callee.kind !== 'attr') return undefined;
  const built = construction(program, callee, scope, at, 0);
  // A class that defines its own `__call__` decides itself what a call runs.
  if (!built || methodOf(program, built.cls, '__call__')) return undefined;
  const name = calledMethodName(program, built.cls, 0);
  const fn = name ? methodOf(program, built.cls, name) : undefined;
  return fn ? { fn, receiver: callee, cls: built.cls, built } : undefined;
}

/** Which method calling an instance of a class runs, from the framework base it derives from (through project bases). */
function calledMethodName(program: Program, cls: ClassDef, hops: number): string | undefined {
  if (hops > MAX_HOPS) return undefined;
  const parsed = program.parsedOf(cls.span);
  if (!parsed || parsed.language !== 'python') return undefined;
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start, hops + 1);
    if (def?.kind === 'class') {
      if (def.cls === cls) continue;
      const inherited = calledMethodName(program, def.cls, hops + 1);
      if (inherited) return inherited;
      continue;
    }
    const name = methodCallRuns(frameworkPath(b, cls.outer, cls.span.start, parsed.scopes.imports, 'python'));
    if (name) return name;
  }
  return undefined;
}

/** The call that built the instance an expression holds, when the code shows it (`x = Cls(...)`, `self.x = Cls(...)`). */
export function construction(program: Program, e: Expr, scope: Scope, at: number, hops = 0): Construction | undefined {
  if (hops > MAX_HOPS) return undefined;
  if (e.kind === 'call') {
    const target = resolveExpr(program, e.callee, scope, at, hops + 1);
    return target?.kind === 'class' ? { call: e, scope, at, cls: target.cls } : undefined;
  }
  if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
  if (e.kind === 'name' && SELF.test(e.name)) return undefined;
  const key = exprKey(e);
  if (key === undefined) return undefined;
  const b = scope.lookup(key, at);
  if (b?.kind === 'assign' && b.value && !b.op) return construction(program, b.value, b.scope, b.at, hops + 1);
  return undefined;
}

/** `self.m(...)`, `obj.m(...)` with obj's class known, `super().m(...)`. */
function methodTarget(program: Program, callee: Expr & { kind: 'attr' }, scope: Scope, at: number, hops: number): CallTarget | undefined {
  const object = callee.object;
  // `super().m()`, `super(Cls, self).m()`: the method of a base class of the enclosing class.
  if (object.kind === 'call' && object.callee.kind === 'name' && object.callee.name === 'super') {
    const cls = enclosingClass(scope);
    if (!cls) return undefined;
    for (const base of baseClasses(program, cls, hops + 1)) {
      const fn = methodOf(program, base, callee.name, hops + 1);
      if (fn) return { fn, receiver: { kind: 'name', name: 'self', span: object.span }, cls: base };
    }
    return undefined;
  }
  const cls = instanceClass(program, object, scope, at, hops + 1);
  if (!cls) return undefined;
  const fn = methodOf(program, cls, callee.name, hops + 1);
  return fn ? { fn, receiver: object, cls } : undefined;
}

/**
 * `self.loss(...)` where a method of the class or of a base stores a plain function in the attribute
 * (`self.loss = bpr_loss`, perhaps one per branch): the stored function, called without the instance.
 * Of several, the one whose parameters take the call's arguments (the others would raise a
 * TypeError), when exactly one does.
 */
function storedFunctionTarget(program: Program, call: Expr & { kind: 'call' }, callee: Expr & { kind: 'attr' }, scope: Scope, at: number): CallTarget | undefined {
  if (callee.object.kind !== 'name' || !SELF.test(callee.object.name)) return undefined;
  const cls = enclosingClass(scope);
  if (!cls) return undefined;
  const key = `${callee.object.name}.${callee.name}`;
  const found = new Set<FunctionDef>();
  const visit = (c: ClassDef, hops: number): void => {
    if (hops > MAX_HOPS) return;
    for (const b of c.scope.members.get(key) ?? []) {
      if (b.kind !== 'assign' || b.op || (b.value?.kind !== 'name' && b.value?.kind !== 'attr')) continue;
      const def = resolveExpr(program, b.value, b.scope, b.at, hops + 1);
      if (def?.kind === 'function' && !def.fn.isMethod) found.add(def.fn);
    }
    for (const base of baseClasses(program, c, hops + 1)) visit(base, hops + 1);
  };
  visit(cls, 0);
  const fitting = [...found].filter((fn) => acceptsArguments(fn, call));
  return fitting.length === 1 ? { fn: fitting[0] } : undefined;
}

/** Whether a plain function's parameters take a call's arguments: every keyword named, every parameter without a default given. */
function acceptsArguments(fn: FunctionDef, call: Expr & { kind: 'call' }): boolean {
  if (call.args.some((a) => a.kind === 'other') || call.args.length > fn.params.length) return false;
  const names = new Set(fn.params.map((p) => p.name));
  if (!call.kwargs.every((k) => names.has(k.name))) return false;
  const given = new Set(call.kwargs.map((k) => k.name));
  return fn.params.every((p, i) => i < call.args.length || given.has(p.name) || p.default !== undefined);
}

/** The method `name` of a class or of its bases (depth first, as Python's MRO for single inheritance). */
export function methodOf(program: Program, cls: ClassDef, name: string, hops = 0): FunctionDef | undefined {
  if (hops > MAX_HOPS) return undefined;
  const own = cls.scope.functions.get(name);
  if (own) return own;
  for (const base of baseClasses(program, cls, hops + 1)) {
    const found = methodOf(program, base, name, hops + 1);
    if (found) return found;
  }
  return undefined;
}

/** The classes a class extends, where they are defined in the project. */
export function baseClasses(program: Program, cls: ClassDef, hops = 0): ClassDef[] {
  if (hops > MAX_HOPS) return [];
  const out: ClassDef[] = [];
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start, hops + 1);
    if (def?.kind === 'class' && def.cls !== cls) out.push(def.cls);
  }
  return out;
}

/** Is `cls` the class `ancestor` or derived from it? */
export function derivesFrom(program: Program, cls: ClassDef, ancestor: ClassDef, hops = 0): boolean {
  if (cls === ancestor) return true;
  if (hops > MAX_HOPS) return false;
  return baseClasses(program, cls, hops + 1).some((b) => derivesFrom(program, b, ancestor, hops + 1));
}

/** The class enclosing a scope (a method's, or a nested function's in a method). */
export function enclosingClass(scope: Scope): ClassDef | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.kind === 'class') return s.classDef;
    if (s.classScope) return s.classScope.classDef;
  }
  return undefined;
}

/** The class of the instance an expression holds, when the code shows where it was built. */
export function instanceClass(program: Program, e: Expr, scope: Scope, at: number, hops = 0): ClassDef | undefined {
  if (hops > MAX_HOPS) return undefined;
  if (e.kind === 'name' && SELF.test(e.name)) return enclosingClass(scope);
  if (e.kind === 'call') {
    const target = resolveExpr(program, e.callee, scope, at, hops + 1);
    if (target?.kind === 'class') return target.cls;
    // `new Network(...)` of a constructor function whose prototype defines methods, here or in the
    // module that exports it whole (`const Network = require('./network')`).
    const ctor = target?.kind === 'function' ? target.fn : target ? moduleFunction(program, target, hops + 1) : undefined;
    return ctor ? prototypeClassOf(program, ctor) : undefined;
  }
  if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
  const key = exprKey(e);
  if (key === undefined) return undefined;
  const b = scope.lookup(key, at);
  if (b?.kind === 'assign' && b.value && !b.op) return instanceClass(program, b.value, b.scope, b.at, hops + 1);
  if (b?.kind === 'param' && b.value) return instanceClass(program, b.value, b.scope, b.at, hops + 1);
  return undefined;
}

/**
 * What a CommonJS module exports whole (`module.exports = Network`): a module definition, or a name
 * bound to `require('./network')` (an import of scope.ts made by that very statement).
 */
function wholeModuleExport(program: Program, def: Definition, hops: number): Definition | undefined {
  let parsed: ParsedFile | undefined;
  if (def.kind === 'module') parsed = def.parsed;
  else if (def.kind === 'value' && def.expr.kind === 'call' && def.expr.callee.kind === 'name' && def.expr.callee.name === 'require') {
    const from = program.parsedOf(def.scope.span);
    for (const imported of from?.scopes.imports.values() ?? []) {
      if (imported.name === undefined && imported.span.start === def.at) parsed = program.resolveModule(from!.file, imported.module);
    }
  }
  if (!parsed?.scopes.exports.has('default')) return undefined;
  return exportedName(program, parsed, 'default', hops + 1);
}

/** The function a module exported whole is: what calling the module runs. */
function moduleFunction(program: Program, def: Definition, hops: number): FunctionDef | undefined {
  const exported = wholeModuleExport(program, def, hops);
  return exported?.kind === 'function' ? exported.fn : undefined;
}

/**
 * The class of a constructor function's prototype (`C.prototype.m = function (…) {…}`,
 * `C.prototype = { m() {…} }`; scope.ts's `prototypeScopes`): what `new C(...)` is an instance of.
 */
export function prototypeClassOf(program: Program, fn: FunctionDef): ClassDef | undefined {
  if (fn.isMethod || fn.cls) return undefined;
  const parsed = program.parsedOf(fn.span);
  for (const s of parsed?.scopes.prototypeScopes ?? []) {
    const cls = s.classDef;
    if (cls && cls.name === fn.name && cls.outer.functions.get(cls.name) === fn) return cls;
  }
  return undefined;
}

/** A value a function returns, with the scope and point it is read at. */
export interface Returned {
  expr: Expr;
  scope: Scope;
  at: number;
}

const returnsMemo = new WeakMap<FunctionDef, Returned[]>();

/** Every value a function returns (`return x` anywhere in its body but nested functions; a lambda's expression). */
export function returnsOf(program: Program, fn: FunctionDef): Returned[] {
  let found = returnsMemo.get(fn);
  if (found) return found;
  found = [];
  if (fn.returns && fn.body.length === 0) found.push({ expr: fn.returns, scope: fn.scope, at: Infinity });
  else {
    const parsed = program.parsedOf(fn.span);
    const visit = (stmts: Stmt[]): void => {
      for (const s of stmts) {
        if (s.kind === 'return' && s.value) found!.push({ expr: s.value, scope: parsed?.scopes.stmtScopes.get(s) ?? fn.scope, at: s.span.start });
        else if (s.kind === 'block' || s.kind === 'for') visit(s.body);
      }
    };
    visit(fn.body);
  }
  returnsMemo.set(fn, found);
  return found;
}
