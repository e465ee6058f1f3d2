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
// A run-time-chosen entry (`Rules[name]`, a field holding one) runs one of several functions: it
// resolves only when they all agree on what is read through it (`chosenEntryTarget`).
// Every walk is bounded: import cycles and self-referential bindings end at MAX_HOPS.
import type { Expr, Stmt } from '../ir';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { ClassDef, FunctionDef, ImportedName, Scope } from './scope';
import { exprKey } from './keys';
import { CONSTRUCTOR_METHODS, NO_INSTANCE_DECORATORS, frameworkPath, methodCallRuns } from './catalogue';
import { agreedUpdateRule } from './updateRuleAgreement';
import { implicitGlobalOwner } from './implicitGlobals';

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
  /**
   * A run-time-chosen entry (`Rules[name](w, d)`, a field holding one): every function it may be,
   * `fn` among them, which agree on how they move their first argument (see `chosenEntryTarget`).
   */
  candidates?: FunctionDef[];
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

const SELF_NAMES = '(?:self|this)';
const SELF = new RegExp(`^${SELF_NAMES}$`);

/** `self` / `this`: the instance a method runs on. */
export function isSelfName(name: string): boolean {
  return SELF.test(name);
}

/**
 * A field of the instance as written in source text, `self.x` (group 1: `x`); spaces, line
 * continuations and `(self).x` allowed. functionReuse.ts reads a statement's text with it.
 */
export function selfFieldPattern(): RegExp {
  return new RegExp(`\\b${SELF_NAMES}[\\s\\\\)]*\\.[\\s\\\\]*([A-Za-z_][A-Za-z0-9_]*)`, 'g');
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
  const starred = parsed ? fromStarImports(program, parsed, name, hops) : undefined;
  if (starred || !parsed || scope.lookup(name, Infinity)) return starred;
  // A JS global bound by a required file (`m = module.exports` in math.js): implicitGlobals.ts.
  const owner = implicitGlobalOwner(program, parsed, name);
  if (owner?.kind === 'module') return { kind: 'module', parsed: owner.parsed };
  return owner ? ownDefinition(program, owner.parsed, name, hops + 1) : undefined;
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
  // `rules.adam(…)` with `const rules = require('./rules')`: a module read whole through `require` is the module.
  const module = owner?.kind === 'module' ? owner.parsed : owner ? requiredModule(program, owner) : undefined;
  const named = module ? exportedName(program, module, e.name, hops + 1) ?? exportedObjectEntry(program, module, e.name, hops + 1) : undefined;
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

/**
 * Per program, by call, what `resolveCall` answered for each scope and point the call was read at
 * (nearly always one). Resolution reads only the program (its files, scopes and module
 * resolution, never facts), and a program is one snapshot: rules and facts ask about the same
 * calls again and again (a keystroke in a 3,000-line file asked about each call four times).
 */
const resolvedCalls = new WeakMap<Program, WeakMap<Expr, { scope: Scope; at: number; target: CallTarget | undefined }[]>>();

/** The function a call runs: a function, a method of a known class (through its bases), or a class's constructor. */
export function resolveCall(program: Program, call: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
  let perCall = resolvedCalls.get(program);
  if (!perCall) resolvedCalls.set(program, (perCall = new WeakMap()));
  let known = perCall.get(call);
  if (!known) perCall.set(call, (known = []));
  for (const k of known) if (k.scope === scope && k.at === at) return k.target;
  const target = resolveCallUncached(program, call, scope, at);
  known.push({ scope, at, target });
  return target;
}

function resolveCallUncached(program: Program, call: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
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
  if (!def || (def.kind === 'value' && def.expr.kind !== 'lambda')) return instanceCallTarget(program, callee, scope, at) ?? chosenEntryTarget(program, call, callee, scope, at);
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
  const t = handed.thisArg;
  if (!fn) {
    // `this.net.stepFn.bind(this.net, w, d)()` of a field holding a run-time-chosen entry.
    const chosen = def ? undefined : chosenEntryTarget(program, call, handed.fn, scope, at);
    const handedThis = t && !(t.kind === 'name' && (t.name === 'null' || t.name === 'undefined')) ? t : undefined;
    return chosen && { fn: chosen.fn, candidates: chosen.candidates, ...(handedThis ? { receiver: handedThis } : {}), args: handed.args };
  }
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

/**
 * Run-time-chosen entries. A network that stores `Rules[opts.rule]` (an entry of an object literal of
 * functions, or of a class of static methods, picked by a string the caller gives) and a layer that
 * calls the stored function run one of several functions, and which one is known only at run time.
 * The candidates are every function entry of `Rules`, narrowed to the literals the key can hold when
 * the code shows them all (`Rules["sgd"]`, `const name = fast ? "sgd" : "adam"`); a parameter, even
 * with a default, can be given any entry's name. None when `Rules` is not such a literal or class of
 * the project (a library's table, an object filled at run time, a Python class with instance
 * methods or project bases, whose attribute may be none of the functions seen), or when it has more
 * than MAX_CHOSEN of them (a table mixing activations, losses and update rules says too little).
 *
 * A rule reads a call through one function, so a call of such an entry resolves only when every
 * candidate agrees on what the rules read there: each is an update rule that adds a positive
 * multiple of its second argument (the direction) to its first (the value), directly, through a
 * velocity it accumulates, or scaled by a positive normalizer as Adam's (updateRuleAgreement.ts).
 * The call then resolves to the plainest of them (`value + lr * direction`). A finding about the
 * direction the caller builds (a regularization term with the wrong sign in it) then holds whatever
 * rule runs: every one moves the weight the way the direction points. A table whose entries
 * disagree (one adds the direction, one subtracts it), or that holds functions other than update
 * rules, resolves to nothing, so nothing is reported through it.
 */
const MAX_CHOSEN = 6;

/** A call of a run-time-chosen entry (or of a variable or field holding one): the plainest of its agreeing candidates. */
function chosenEntryTarget(program: Program, call: Expr & { kind: 'call' }, fnExpr: Expr, scope: Scope, at: number): CallTarget | undefined {
  const candidates = chosenEntry(program, fnExpr, scope, at, 0);
  if (!candidates) return undefined;
  const python = program.parsedOf(call.span)?.language === 'python';
  // A Python call that passes arguments some candidate cannot take raises for that one: the others stay.
  const fitting = python ? candidates.filter((fn) => acceptsArguments(fn, call)) : candidates;
  if (fitting.length === 0) return undefined;
  // One candidate (`Rules["adam"]`, a key that can hold one name): no choice is made at run time.
  const fn = fitting.length === 1 ? fitting[0] : agreedUpdateRule(fitting.map((c) => ({ fn: c, returns: returnsOf(program, c) })), python);
  if (!fn) return undefined;
  // A JS method call runs the entry with `this` the object left of it (`this.net.stepFn(…)`: the network).
  const receiver = !python && fnExpr.kind === 'attr' ? fnExpr.object : undefined;
  return { fn, candidates: fitting, ...(receiver ? { receiver } : {}) };
}

/** The functions an expression may hold when it is a run-time-chosen entry: `Rules[key]`, `getattr(Rules, key)`, a variable or field bound to one. */
export function chosenEntry(program: Program, e: Expr, scope: Scope, at: number, hops: number): FunctionDef[] | undefined {
  if (hops > MAX_HOPS) return undefined;
  if (e.kind === 'index' && e.index.length === 1) return chosenAmong(program, e.object, e.index[0], scope, at, hops + 1);
  if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'getattr' && e.args.length === 2 && e.kwargs.length === 0) {
    const python = program.parsedOf(e.span)?.language === 'python';
    if (python && !resolveName(program, 'getattr', scope, at)) return chosenAmong(program, e.args[0], e.args[1], scope, at, hops + 1);
    return undefined;
  }
  if (e.kind === 'name') {
    if (SELF.test(e.name)) return undefined;
    const b = scope.lookup(e.name, at);
    return b?.kind === 'assign' && b.value && !b.op ? chosenEntry(program, b.value, b.scope, b.at, hops + 1) : undefined;
  }
  if (e.kind === 'attr') return storedEntry(program, e, scope, at, hops + 1);
  return undefined;
}

/** A field holding a run-time-chosen entry (`this.stepFn = Rules[name]`), read on the instance of a class the code shows, or of the one class that stores one in that field. */
function storedEntry(program: Program, e: Expr & { kind: 'attr' }, scope: Scope, at: number, hops: number): FunctionDef[] | undefined {
  const object = e.object;
  if (object.kind === 'name' && SELF.test(object.name)) {
    const own = enclosingClass(scope);
    return own ? entryStoredIn(program, own, e.name, hops + 1) : undefined;
  }
  // `np.sum`, `Math.max`: a name the code binds nowhere (a module, a global) holds no instance.
  if (object.kind === 'name' && !scope.lookup(object.name, at)) return undefined;
  const cls = instanceClass(program, object, scope, at);
  if (cls) return entryStoredIn(program, cls, e.name, hops + 1);
  // `this.net.stepFn` where the code does not show which class `this.net` is: the one class, among
  // this file's and those it imports from the project, that stores a chosen entry in that field.
  const parsed = program.parsedOf(e.span);
  if (!parsed) return undefined;
  let byField = fieldStores.get(program)?.get(parsed);
  if (!byField) {
    let perFile = fieldStores.get(program);
    if (!perFile) fieldStores.set(program, (perFile = new WeakMap()));
    perFile.set(parsed, (byField = new Map()));
  }
  const known = byField.get(e.name);
  if (known !== undefined) return known ?? undefined;
  byField.set(e.name, null); // a store that reads this very field again ends here
  // Most calls on an object of unknown class (`np.sum`) name a field no class here stores: none to read.
  const classes = classesInReach(program, parsed).filter((c) => c.scope.members.has(`self.${e.name}`) || c.scope.members.has(`this.${e.name}`));
  let found: FunctionDef[] | undefined;
  for (const c of classes) {
    // From no depth of the caller's: the answer is kept for every read of the field.
    const stored = entryStoredIn(program, c, e.name, 0);
    if (!stored) continue;
    if (found) {
      found = undefined;
      break;
    }
    found = stored;
  }
  byField.set(e.name, found ?? null);
  return found;
}

/** The classes a file defines at its top level and those it imports from the project, once per program and file. */
function classesInReach(program: Program, parsed: ParsedFile): ClassDef[] {
  let perFile = reachableClasses.get(program);
  if (!perFile) reachableClasses.set(program, (perFile = new WeakMap()));
  let classes = perFile.get(parsed);
  if (classes) return classes;
  const set = new Set<ClassDef>(parsed.scopes.root.classes.values());
  for (const imported of parsed.scopes.imports.values()) {
    const def = resolveImport(program, parsed, imported);
    if (def?.kind === 'class') set.add(def.cls);
  }
  perFile.set(parsed, (classes = [...set]));
  return classes;
}

const reachableClasses = new WeakMap<Program, WeakMap<ParsedFile, ClassDef[]>>();

/** Per program and file: the chosen entries a field holds on an instance of a class the code does not show (null: none). */
const fieldStores = new WeakMap<Program, WeakMap<ParsedFile, Map<string, FunctionDef[] | null>>>();

/** What a class's methods store in `self.<field>` / `this.<field>`, when every store is a run-time-chosen entry. */
function entryStoredIn(program: Program, cls: ClassDef, field: string, hops: number): FunctionDef[] | undefined {
  const stores = [...(cls.scope.members.get(`self.${field}`) ?? []), ...(cls.scope.members.get(`this.${field}`) ?? [])];
  if (stores.length === 0 || methodOf(program, cls, field)) return undefined;
  const all = new Set<FunctionDef>();
  for (const b of stores) {
    if (b.kind !== 'assign' || !b.value || b.op) return undefined;
    const chosen = chosenEntry(program, b.value, b.scope, b.at, hops + 1);
    if (!chosen) return undefined;
    for (const fn of chosen) all.add(fn);
  }
  return all.size > 0 && all.size <= MAX_CHOSEN ? [...all] : undefined;
}

/** The entries of `table` that `key` may pick: the literals it can hold, or every one. */
function chosenAmong(program: Program, table: Expr, key: Expr, scope: Scope, at: number, hops: number): FunctionDef[] | undefined {
  const entries = functionEntries(program, table, scope, at);
  if (!entries || entries.size === 0) return undefined;
  const keys = literalKeys(key, scope, at, 0);
  if (!keys) return entries.size <= MAX_CHOSEN ? [...entries.values()] : undefined;
  const picked = new Set<FunctionDef>();
  for (const k of keys) {
    const fn = entries.get(k);
    // A name that is no entry fails at run time: nothing runs there to read.
    if (!fn) return undefined;
    picked.add(fn);
  }
  return [...picked];
}

/** The literal strings a key can hold, when the code shows them all (a literal, a variable bound to one, either side of a conditional). */
function literalKeys(key: Expr, scope: Scope, at: number, depth: number): string[] | undefined {
  if (depth > 4) return undefined;
  if (key.kind === 'str') return [key.value];
  if (key.kind === 'cond') {
    const a = literalKeys(key.then, scope, at, depth + 1);
    const b = a && literalKeys(key.else, scope, at, depth + 1);
    return a && b ? [...a, ...b] : undefined;
  }
  if (key.kind !== 'name' && key.kind !== 'attr') return undefined;
  const k = exprKey(key);
  const b = k === undefined ? undefined : scope.lookup(k, at);
  return b?.kind === 'assign' && b.value && !b.op ? literalKeys(b.value, b.scope, b.at, depth + 1) : undefined;
}

/**
 * The function entries, by name, of an object literal of functions or a class (its static methods)
 * that the project defines; undefined when the table may hold others the code does not show.
 */
function functionEntries(program: Program, table: Expr, scope: Scope, at: number): Map<string, FunctionDef> | undefined {
  // The table written in place (`{tiny: tinyNet, wide: wideNet}[kind]`) is its own value.
  let def = table.kind === 'object' ? ({ kind: 'value', expr: table, scope, at } as const) : resolveExpr(program, table, scope, at);
  if (def?.kind === 'value' && def.expr.kind === 'call') def = wholeModuleExport(program, def, 0);
  if (!def) return undefined;
  const entries = new Map<string, FunctionDef>();
  if (def.kind === 'class') {
    const python = program.parsedOf(def.cls.span)?.language === 'python';
    // Inherited entries are not listed here: a table with bases says too little.
    if (def.cls.bases.some((b) => !(b.kind === 'name' && b.name === 'object'))) return undefined;
    for (const [name, fn] of def.cls.scope.functions) {
      if (CONSTRUCTOR_METHODS.includes(name)) continue;
      // `getattr(Rules, name)` of an instance method gives a function that takes the value as `self`.
      if (python && !fn.decorators.some((d) => d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name))) return undefined;
      entries.set(name, fn);
    }
    return entries;
  }
  if (def.kind !== 'value' || def.expr.kind !== 'object') return undefined;
  // An object whose entries are also set elsewhere (`Rules.extra = f`, `RULES["x"] = f`) holds more than its literal.
  const literal = def.expr;
  const names = [...def.scope.bindings].filter(([, list]) => list.some((b) => b.value === literal)).map(([k]) => k);
  if ([...def.scope.bindings.keys()].some((k) => names.some((n) => k.startsWith(`${n}.`) || k.startsWith(`${n}[`)))) return undefined;
  for (const entry of def.expr.entries) {
    const v = entry.value;
    let fn: FunctionDef | undefined;
    if (v.kind === 'lambda') fn = lambdaFunction(program, v, entry.name, def.scope);
    else if (v.kind === 'name' || v.kind === 'attr') {
      const target = resolveExpr(program, v, def.scope, def.at);
      fn = target?.kind === 'function' ? target.fn : undefined;
    }
    // An entry that is no function the project defines (a library's, a value) may be what is picked.
    if (!fn) return undefined;
    entries.set(entry.name, fn);
  }
  return entries;
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

/** `cls` and every class it derives from that the project defines, nearest first (six levels at most). */
export function classWithBases(program: Program, cls: ClassDef): ClassDef[] {
  const chain: ClassDef[] = [];
  const visit = (c: ClassDef, depth: number): void => {
    if (depth > 6 || chain.includes(c)) return;
    chain.push(c);
    for (const b of baseClasses(program, c)) visit(b, depth + 1);
  };
  visit(cls, 0);
  return chain;
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

/**
 * The project class whose instance `e` holds, when that class (or a project base) stores the field
 * `name` itself (`self.data = np.asarray(x)` in a from-scratch Tensor). Then `e.data` reads the
 * project's own field, not a framework attribute of the same name (torch's history-less `.data`).
 */
export function ownFieldClass(program: Program, e: Expr, name: string, scope: Scope, at: number): ClassDef | undefined {
  const cls = instanceClass(program, e, scope, at);
  if (!cls) return undefined;
  const stores = (c: ClassDef, hops: number): boolean =>
    [`self.${name}`, `this.${name}`].some((k) => (c.scope.members.get(k) ?? []).some((b) => b.kind === 'assign')) ||
    (hops < MAX_HOPS && baseClasses(program, c, hops + 1).some((b) => stores(b, hops + 1)));
  return stores(cls, 0) ? cls : undefined;
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
  const parsed = def.kind === 'module' ? def.parsed : requiredModule(program, def);
  if (!parsed?.scopes.exports.has('default')) return undefined;
  return exportedName(program, parsed, 'default', hops + 1);
}

/** The project module a name bound to `require('./rules')` holds (an import of scope.ts made by that very statement). */
function requiredModule(program: Program, def: Definition): ParsedFile | undefined {
  if (def.kind !== 'value' || def.expr.kind !== 'call' || def.expr.callee.kind !== 'name' || def.expr.callee.name !== 'require') return undefined;
  const from = program.parsedOf(def.scope.span);
  let parsed: ParsedFile | undefined;
  for (const imported of from?.scopes.imports.values() ?? []) {
    if (imported.name === undefined && imported.span.start === def.at) parsed = program.resolveModule(from!.file, imported.module);
  }
  return parsed;
}

/** An entry of the object literal a CommonJS module exports whole (`module.exports = { adam, sgd }`). */
function exportedObjectEntry(program: Program, parsed: ParsedFile, name: string, hops: number): Definition | undefined {
  const whole = parsed.scopes.exports.has('default') ? exportedName(program, parsed, 'default', hops + 1) : undefined;
  if (whole?.kind !== 'value' || whole.expr.kind !== 'object') return undefined;
  const entry = whole.expr.entries.find((x) => x.name === name);
  return entry ? valueDefinition(program, entry.value, whole.scope, whole.at, hops + 1) : undefined;
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
