// Scopes and bindings: which expression a name, attribute or subscript stands for at a point; the
// functions, classes and imports each scope defines. One walk per file, independent of every other
// file (the program links files through the imports recorded here).
import type { DocComment, Expr, Jump, Module, Param, Span, Stmt } from '../ir';
import type { SourceFile } from '../source';
import { exprKey } from './keys';
import { inPlaceUpdate, loopSource, nestedIterable, zeroValue } from './catalogue';
import { isInstanceParameterName } from './roles';

export interface Binding {
  key: string;
  /** The assigned value; undefined for parameters and loop variables. */
  value?: Expr;
  /** `+=` / `-=` bindings accumulate into the previous value. */
  op?: '+' | '-' | '*' | '/';
  kind: 'assign' | 'param' | 'loop';
  /** Where the statement starts; a use at `at` sees bindings that start before it. */
  at: number;
  span: Span;
  /**
   * For loop variables: what the loop iterates over, and which target position this name takes.
   * In a nested tuple (`for i, (p, g) in enumerate(zip(ps, gs))`) `walks` is the inner iterable the
   * tuple unpacks (`zip(ps, gs)`) and `position` is the name's place in that tuple.
   */
  loop?: { iter: Expr; position: number; depth: number; walks?: Expr };
  /** Loops enclosing this binding (their iter expressions), innermost last. */
  loops: Expr[];
  scope: Scope;
  /** Bound by unpacking a value that is not a literal tuple (`N, M = X.shape`): the value and this name's position. */
  unpacked?: { value: Expr; position: number };
  /** The `if … elif … else` branches the binding is made in, outermost first (see `exclusiveOf`). */
  branches?: readonly BranchPlace[];
}

/** One branch of an `if … elif … else` chain: the chain's whole span, and this branch's part of it. */
export interface BranchPlace {
  chain: Span;
  branch: Span;
}

/**
 * A binding made in one branch of a chain does not reach a use in another branch of that chain
 * (`if rule == 'momentum': v = … elif rule == 'adam': … v …`) in the same pass: it reaches it
 * only through a loop's next iteration, if the condition changes.
 */
export function exclusiveOf(b: Binding, at: number): boolean {
  if (!b.branches) return false;
  for (const p of b.branches) if (p.chain.start <= at && at < p.chain.end && !(p.branch.start <= at && at <= p.branch.end)) return true;
  return false;
}

/**
 * The `if` block at `stmts[i]` and the `elif`/`else` blocks of its chain: the lowering writes them
 * as the sibling blocks after it that lie inside its span.
 */
export function ifChainAt(stmts: readonly Stmt[], i: number): (Stmt & { kind: 'block' })[] {
  const head = stmts[i] as Stmt & { kind: 'block' };
  const chain = [head];
  for (let j = i + 1; j < stmts.length; j++) {
    const s = stmts[j];
    if (s.kind !== 'block' || s.label !== 'if' || s.span.start <= head.span.start || s.span.end > head.span.end) break;
    chain.push(s);
  }
  return chain;
}

/**
 * How the path through an `if` branch ends: `return` or `raise` leave the function, `continue` and
 * `break` the rest of the innermost loop's body; nothing when the branch runs on past its chain.
 * Only the branch's own statements count (a jump in a nested `if` may not be taken).
 */
export function branchExit(branch: Stmt & { kind: 'block' }): 'return' | Jump | undefined {
  if (branch.body.some((s) => s.kind === 'return')) return 'return';
  return branch.exits;
}

/** The function (or module) scope a scope's statements run in. */
function runsIn(s: Scope): Scope {
  let f: Scope = s;
  while (f.parent && f.kind !== 'function' && f.kind !== 'module' && f.kind !== 'lambda') f = f.parent;
  return f;
}

/** The iterable a loop variable's position refers to (the inner one of a nested tuple target). */
export function loopIterable(loop: NonNullable<Binding['loop']>): Expr {
  return loop.walks ?? loop.iter;
}

export interface FunctionDef {
  name: string;
  /** Where the name is written (absent for lambdas). */
  nameSpan?: Span;
  params: Param[];
  /** The returned expression when the body is a single `return` (docstrings and comments aside). */
  returns?: Expr;
  body: Stmt[];
  span: Span;
  /** True for methods, whose first parameter is the instance. */
  isMethod: boolean;
  scope: Scope;
  /** The class a method belongs to. */
  cls?: ClassDef;
  /** The JSDoc comment of a TS/JS function (a Python docstring is the body's first statement). */
  doc?: DocComment;
  /** `@torch.no_grad()` and other decorators (none for lambdas). */
  decorators: Expr[];
}

/** The parameters a call's arguments fill: a Python method's instance parameter (`self`, `cls`) left out. */
export function explicitParams(fn: FunctionDef): Param[] {
  return fn.isMethod && fn.params[0] && isInstanceParameterName(fn.params[0].name) ? fn.params.slice(1) : fn.params;
}

export interface ClassDef {
  name: string;
  /** `class A(B)`, `class A extends B`: the base expressions as written (resolved by the program). */
  bases: Expr[];
  /** The class body's scope: its methods (`functions`) and the `self.x` / `this.x` bindings of all methods (`members`). */
  scope: Scope;
  span: Span;
  /** The scope the class is defined in. */
  outer: Scope;
}

/** A name an import binds: `import numpy as np` → np: {module 'numpy'}; `from .m import f as g` → g: {module '.m', name 'f'}. */
export interface ImportedName {
  module: string;
  /** The imported member; undefined for the module itself (`import x.y as z`). */
  name?: string;
  span: Span;
}

export class Scope {
  readonly bindings = new Map<string, Binding[]>();
  readonly functions = new Map<string, FunctionDef>();
  readonly classes = new Map<string, ClassDef>();
  /** For class scopes: `self.x` / `this.x` bindings made in any method. */
  readonly members = new Map<string, Binding[]>();
  constructor(
    readonly kind: 'module' | 'function' | 'class' | 'lambda',
    readonly parent: Scope | undefined,
    readonly span: Span,
    readonly classScope?: Scope,
    /** The file the scope is in; inherited from the parent. */
    readonly file: SourceFile = parent!.file,
  ) {}

  /** The class defined by this class scope (set when the class statement is walked). */
  classDef?: ClassDef;

  /** The class of `name` visible from here, searching outward. */
  lookupClass(name: string): ClassDef | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const c = s.classes.get(name);
      if (c) return c;
    }
    return undefined;
  }

  addBinding(binding: Binding): void {
    const map = /^(self|this)\./.test(binding.key) && this.classScope ? this.classScope.members : this.bindings;
    const list = map.get(binding.key);
    if (list) list.push(binding);
    else map.set(binding.key, [binding]);
  }

  /** The latest binding of `key` before offset `at`, searching outward. */
  lookup(key: string, at: number): Binding | undefined {
    // `key.startsWith` rather than /^(self|this)\./: the same test, without a regular expression on every lookup.
    if (key.startsWith('self.') || key.startsWith('this.')) {
      for (let s: Scope | undefined = this; s; s = s.parent) {
        const own = reachingBefore(s.bindings.get(key), at);
        if (own) return own;
        if (s.kind === 'class') return latestBefore(s.members.get(key), Infinity);
        // The class scope holds the same members: what memberAt left out stays out.
        if (s.classScope) return this.memberAt(s.classScope.members.get(key), at);
      }
      return undefined;
    }
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const list = s.bindings.get(key);
      // Inner functions see the enclosing scope's final bindings (they run later).
      const found = s === this ? reachingBefore(list, at) : latestBefore(list, Infinity);
      if (found) return found;
      if (s.kind === 'class' && s !== this) continue;
    }
    return undefined;
  }

  /**
   * A `self.x` member as a use at `at` in a method sees it: the latest binding anywhere in the class
   * (another method set it, or this method did, perhaps in an earlier call), leaving out this
   * method's bindings in another branch of a chain around the use (a step whose `if rule == …`
   * branches share one state dict).
   */
  private memberAt(list: Binding[] | undefined, at: number): Binding | undefined {
    if (!list?.some((b) => b.branches)) return latestBefore(list, Infinity);
    const here = runsIn(this);
    return latestBefore(list.filter((b) => !(runsIn(b.scope) === here && exclusiveOf(b, at))), Infinity);
  }

  /** All bindings of `key` in the scope that owns it (for accumulations such as `pen += ...`). */
  allBindings(key: string): Binding[] {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const list = s.bindings.get(key);
      if (list && list.length > 0) return list;
    }
    return [];
  }

  lookupFunction(name: string): FunctionDef | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const f = s.functions.get(name);
      if (f) return f;
      if (s.classScope) {
        const method = s.classScope.functions.get(name);
        if (method && /^(self|this)\./.test(name)) return method;
      }
    }
    return undefined;
  }
}

/** How far each bindings list is known to be in source order (lists only grow), for latestBefore. */
const sortedPrefix = new WeakMap<Binding[], { checked: number; sorted: boolean }>();

function inSourceOrder(list: Binding[]): boolean {
  let state = sortedPrefix.get(list);
  if (!state) sortedPrefix.set(list, (state = { checked: 1, sorted: true }));
  for (; state.sorted && state.checked < list.length; state.checked++) if (list[state.checked].at < list[state.checked - 1].at) state.sorted = false;
  return state.sorted;
}

function latestBefore(list: Binding[] | undefined, at: number): Binding | undefined {
  if (!list) return undefined;
  // A name bound thousands of times (generated code): binary search, not a scan per lookup. Same
  // answer as the scan below: the last binding before `at`, the later one in the list on a tie.
  if (list.length > 16 && inSourceOrder(list)) {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? list[lo - 1] : undefined;
  }
  let best: Binding | undefined;
  for (const b of list) if (b.at < at && (!best || b.at >= best.at)) best = b;
  return best;
}

/**
 * The latest binding before `at` that reaches it: one in another branch of a chain around `at` is
 * passed over for an earlier one. When only such bindings exist (`if i == 0: prev = x else: … prev …`
 * in a loop), the latest of them, which reaches `at` through the loop.
 */
function reachingBefore(list: Binding[] | undefined, at: number): Binding | undefined {
  const latest = latestBefore(list, at);
  if (!latest || !exclusiveOf(latest, at)) return latest;
  let best: Binding | undefined;
  for (const b of list!) if (b.at < at && !exclusiveOf(b, at) && (!best || b.at >= best.at)) best = b;
  return best ?? latest;
}

/** The function's single returned expression, skipping docstrings. */
function singleReturn(body: Stmt[]): Expr | undefined {
  const real = body.filter((s) => !(s.kind === 'expr' && s.expr.kind === 'str'));
  if (real.length === 1 && real[0].kind === 'return') return real[0].value;
  return undefined;
}

/** Builds the scope tree of a module: every binding and one-expression helper, with a scope per function/lambda. */
export class ScopeBuilder {
  /** Methods by name across all classes, for `model.penalty()` calls on instances. */
  private readonly methods = new Map<string, FunctionDef[]>();

  /** The one method of this name in the file's classes, if exactly one exists. */
  uniqueMethod(name: string): FunctionDef | undefined {
    const found = this.methods.get(name);
    return found && found.length === 1 ? found[0] : undefined;
  }

  /** Every method of that name in the file. */
  methodsNamed(name: string): readonly FunctionDef[] {
    return this.methods.get(name) ?? [];
  }

  /**
   * Classes that a constructor function's prototype defines (`C.prototype.m = function (…) {…}`,
   * `C.prototype = { m() {…} }`), by the scope the assignments are in and C's name. No class
   * statement opens their scopes, so they are listed here (program.ts indexes their methods).
   */
  private readonly prototypeClasses = new Map<Scope, Map<string, ClassDef>>();
  readonly prototypeScopes: Scope[] = [];
  /** A prototype method's function expression → its class's scope (what its `this.x` binds in). */
  private readonly methodLambdas = new Map<Expr, Scope>();

  /** The scope each lambda expression opens, by its span start. */
  readonly lambdaScopes = new Map<Expr, Scope>();
  /** The innermost scope of each statement list owner, by statement. */
  readonly stmtScopes = new Map<Stmt, Scope>();
  readonly root: Scope;
  /** Names bound by imports anywhere in the file (notebook fragments import inside functions too). */
  readonly imports = new Map<string, ImportedName>();
  /** What the module exports under a name other than its own definitions' (TS `export { a as b }`, `export default x`, `module.exports = {...}`). */
  readonly exports = new Map<string, { expr?: Expr; from?: ImportedName; scope: Scope }>();
  /** `export * from './m'` (TS) re-exports. */
  readonly starExports: string[] = [];
  /** Python `from m import *`: modules whose public names this module binds (and so re-exports). */
  readonly starImports: string[] = [];

  constructor(
    module: Module,
    readonly file: SourceFile,
  ) {
    this.root = new Scope('module', undefined, { start: file.base, end: file.base + file.text.length }, undefined, file);
    this.stmts(module.body, this.root, []);
  }

  private stmts(stmts: Stmt[], scope: Scope, loops: Expr[]): void {
    for (let i = 0; i < stmts.length; i++) {
      const head = stmts[i];
      if (head.kind !== 'block' || head.label !== 'if') {
        this.stmt(head, scope, loops);
        continue;
      }
      const chain = ifChainAt(stmts, i);
      chain.forEach((block, j) => {
        const first = block.body[0];
        const last = block.body[block.body.length - 1];
        // The head's own branch is its body (its span is the whole chain's); an `elif`/`else` block's span is its branch.
        const branch = j === 0 ? (first && last ? { start: first.span.start, end: last.span.end } : { start: head.span.start, end: head.span.start }) : block.span;
        this.branches.push({ chain: head.span, branch });
        this.stmt(block, scope, loops);
        this.branches.pop();
      });
      i += chain.length - 1;
    }
  }

  /** The branches of the chains being walked, outermost first. */
  private readonly branches: BranchPlace[] = [];

  private bindTarget(target: Expr, value: Expr | undefined, op: Binding['op'], scope: Scope, at: number, span: Span, loops: Expr[], loop?: Binding['loop'], unpacked?: Binding['unpacked']): void {
    if (target.kind === 'seq') {
      target.items.forEach((item, i) => {
        // `for i, (p, g) in enumerate(zip(ps, gs))`: the inner tuple walks the iterable enumerate or zip gives it.
        const inner = loop && item.kind === 'seq' ? nestedIterable(loop.walks ?? loop.iter, i) : undefined;
        if (loop && inner) return this.bindTarget(item, undefined, op, scope, at, span, loops, { ...loop, position: 0, walks: inner });
        // Loop targets record their position in the tuple (`for g, v in zip(...)`); assignments unpack literal tuples.
        const part = !loop && value && value.kind === 'seq' && value.items.length === target.items.length ? value.items[i] : undefined;
        // In a nested tuple over a plain collection (`for (w, b), (dw, db) in zip(ps, gs)`), each name is a component of an element.
        const position = loop?.walks && !loopSource(loop.walks, i, () => false) ? 0 : i;
        this.bindTarget(item, part, op, scope, at, span, loops, loop && { ...loop, position }, !loop && !part && value ? { value, position: i } : undefined);
      });
      return;
    }
    const key = exprKey(target);
    if (!key) return;
    // `sq += v * v` inside a callback accumulates into the enclosing function's `sq`.
    let owner = scope;
    if (op && !scope.bindings.has(key)) for (let s = scope.parent; s; s = s.parent) if (s.bindings.has(key)) { owner = s; break; }
    owner.addBinding({ key, value, op, kind: loop ? 'loop' : 'assign', at, span, loop, loops, scope, ...(unpacked ? { unpacked } : {}), ...(this.branches.length > 0 ? { branches: [...this.branches] } : {}) });
  }

  /**
   * `d.add_(p, alpha=c)` on a local `d` assigned earlier in the same scope changes what `d` holds,
   * like `d = d + c * p`: later reads of d see the added term. Only plain names with an assignment
   * of their own in the same loop body (not parameters, attributes or loop variables), so state,
   * arguments and accumulators keep their meaning.
   */
  private inPlaceRebinding(e: Expr, scope: Scope, span: Span, loops: Expr[]): void {
    if (e.kind !== 'call' || e.callee.kind !== 'attr' || e.callee.object.kind !== 'name') return;
    const update = inPlaceUpdate(e, () => false);
    if (!update || (update.op !== '+' && update.op !== '-')) return;
    const name = e.callee.object.name;
    const own = scope.bindings.get(name);
    if (!own || own.length === 0 || own.some((b) => b.kind !== 'assign')) return;
    // A buffer started at zero, or a value made outside the loop the call is in, accumulates across
    // iterations (`acc.add_(g)`): it stays one buffer, not a new value per step.
    const last = own[own.length - 1];
    if (!last.value || zeroValue(last.value) || last.loops.length !== loops.length || last.loops.some((l, i) => l !== loops[i])) return;
    this.bindTarget(e.callee.object, update.operand, update.op, scope, span.start, span, loops);
  }

  private stmt(stmt: Stmt, scope: Scope, loops: Expr[]): void {
    this.stmtScopes.set(stmt, scope);
    switch (stmt.kind) {
      case 'assign': {
        const methods = prototypeMethods(stmt);
        const protoClass = methods ? this.prototypeClass(scope, methods.ctor, stmt.span) : undefined;
        if (methods && protoClass) for (const m of methods.methods) this.methodLambdas.set(m.fn, protoClass.scope);
        this.exprs(stmt.value, scope, loops);
        if (methods && protoClass) for (const m of methods.methods) this.prototypeMethod(protoClass, m.name, m.nameSpan, m.fn);
        for (const target of stmt.targets) this.bindTarget(target, stmt.value, stmt.op, scope, stmt.span.start, stmt.span, loops);
        // `const f = (w) => ...` and `f = lambda w: ...` are helpers too.
        if (stmt.value.kind === 'lambda' && stmt.targets.length === 1 && stmt.targets[0].kind === 'name') {
          const lambdaScope = this.lambdaScopes.get(stmt.value);
          scope.functions.set(stmt.targets[0].name, {
            name: stmt.targets[0].name,
            params: stmt.value.params,
            returns: stmt.value.body,
            body: stmt.value.stmts,
            span: stmt.span,
            isMethod: false,
            scope: lambdaScope ?? scope,
            decorators: [],
          });
        }
        if (scope === this.root) this.moduleAssign(stmt);
        return;
      }
      case 'expr':
        this.exprs(stmt.expr, scope, loops);
        this.inPlaceRebinding(stmt.expr, scope, stmt.span, loops);
        return;
      case 'function': {
        const fnScope = new Scope('function', scope, stmt.span, scope.kind === 'class' ? scope : scope.classScope);
        const isMethod = scope.kind === 'class';
        const def: FunctionDef = {
          name: stmt.name, nameSpan: stmt.nameSpan, params: stmt.params, returns: singleReturn(stmt.body), body: stmt.body, span: stmt.span, isMethod, scope: fnScope,
          cls: isMethod ? scope.classDef : undefined, decorators: stmt.decorators, ...(stmt.doc ? { doc: stmt.doc } : {}),
        };
        // A getter and setter of one name: the getter (defined first) is what a read calls.
        if (!(isMethod && scope.functions.has(stmt.name))) scope.functions.set(stmt.name, def);
        if (scope === this.root && stmt.exported) this.exports.set(stmt.exported === 'default' ? 'default' : stmt.name, { expr: { kind: 'name', name: stmt.name, span: stmt.nameSpan }, scope });
        if (isMethod) this.methods.set(stmt.name, [...(this.methods.get(stmt.name) ?? []), def]);
        stmt.params.forEach((p) => fnScope.addBinding({ key: p.name, kind: 'param', at: -1, span: p.span, loops: [], scope: fnScope, value: p.default }));
        this.stmts(stmt.body, fnScope, []);
        return;
      }
      case 'class': {
        const classScope = new Scope('class', scope, stmt.span);
        (classScope as { classScope?: Scope }).classScope = classScope;
        const def: ClassDef = { name: stmt.name, bases: stmt.bases, scope: classScope, span: stmt.span, outer: scope };
        classScope.classDef = def;
        if (stmt.name) scope.classes.set(stmt.name, def);
        if (scope === this.root && stmt.exported) this.exports.set(stmt.exported === 'default' ? 'default' : stmt.name, { expr: { kind: 'name', name: stmt.name, span: stmt.span }, scope });
        this.stmts(stmt.body, classScope, loops);
        return;
      }
      case 'for': {
        this.exprs(stmt.iter, scope, loops);
        const inner = [...loops, stmt.iter];
        this.bindTarget(stmt.target, undefined, undefined, scope, stmt.span.start, stmt.target.span, inner, { iter: stmt.iter, position: 0, depth: inner.length });
        this.stmts(stmt.body, scope, inner);
        return;
      }
      case 'block':
        for (const h of stmt.heads) this.exprs(h, scope, loops);
        this.stmts(stmt.body, scope, stmt.label === 'while' ? [...loops, stmt.heads[0] ?? stmt.body[0]?.span as never] : loops);
        return;
      case 'return':
        if (stmt.value) this.exprs(stmt.value, scope, loops);
        return;
      case 'import':
        for (const n of stmt.names) {
          // `from m import *` binds every public name of m, which other modules then see here too.
          if (n.name === '*' && n.alias === '*') {
            this.starImports.push(stmt.module);
            continue;
          }
          // `import a.b.c` binds `a` (the package); `import a.b as c` binds the module a.b.
          const whole = n.name === stmt.module;
          const module = whole && n.alias !== n.name && stmt.module.startsWith(n.alias + '.') ? n.alias : stmt.module;
          this.imports.set(n.alias, whole ? { module, span: stmt.span } : { module: stmt.module, name: n.name, span: stmt.span });
        }
        return;
      case 'export':
        if (stmt.module !== undefined) {
          for (const n of stmt.names) {
            if (n.name === '*') this.starExports.push(stmt.module);
            else this.exports.set(n.alias, { from: { module: stmt.module, name: n.name, span: stmt.span }, scope });
          }
        } else for (const n of stmt.names) this.exports.set(n.alias, { expr: { kind: 'name', name: n.name, span: stmt.span }, scope });
        return;
    }
  }

  /**
   * The class of constructor function `ctor`'s prototype, made on its first method. The
   * constructor's own `this.x = …` are the class's members too (read by the methods, as a class
   * statement's constructor's are), once the constructor is defined in the same scope.
   */
  private prototypeClass(scope: Scope, ctor: string, at: Span): ClassDef {
    let byName = this.prototypeClasses.get(scope);
    if (!byName) this.prototypeClasses.set(scope, (byName = new Map()));
    let cls = byName.get(ctor);
    if (cls) return cls;
    const classScope = new Scope('class', scope, at);
    (classScope as { classScope?: Scope }).classScope = classScope;
    cls = { name: ctor, bases: [], scope: classScope, span: at, outer: scope };
    classScope.classDef = cls;
    byName.set(ctor, cls);
    this.prototypeScopes.push(classScope);
    const constructor = scope.functions.get(ctor);
    if (constructor && !constructor.isMethod && constructor.scope.kind === 'function')
      for (const [key, list] of constructor.scope.bindings) if (/^this\./.test(key)) for (const b of list) classScope.addBinding(b);
    return cls;
  }

  /** `C.prototype.m = function (…) {…}`: a method m of C's prototype class, whose `this` is the instance. */
  private prototypeMethod(cls: ClassDef, name: string, nameSpan: Span, fn: Expr & { kind: 'lambda' }): void {
    const fnScope = this.lambdaScopes.get(fn);
    if (!fnScope) return;
    const def: FunctionDef = { name, nameSpan, params: fn.params, returns: fn.body, body: fn.stmts, span: fn.span, isMethod: true, scope: fnScope, cls, decorators: [] };
    // A method assigned twice: the first one stays, as for a class's getter and setter.
    if (cls.scope.functions.has(name)) return;
    cls.scope.functions.set(name, def);
    this.methods.set(name, [...(this.methods.get(name) ?? []), def]);
  }

  /** Top-level names bound to a CommonJS module's exports object (`m = module.exports`, `var utils = exports`). */
  private readonly exportsAliasNames = new Set<string>();
  get exportsAliases(): ReadonlySet<string> {
    return this.exportsAliasNames;
  }

  /**
   * Module-level assignments that export or import: `export default (...) => ...`, `export const f`,
   * `module.exports = { a, b }`, `exports.f = ...`, `const X = require('./m')`, `const { a } = require('./m')`.
   */
  private moduleAssign(stmt: Stmt & { kind: 'assign' }): void {
    const target = stmt.targets[0];
    if (!target) return;
    if (stmt.exported === 'default') this.exports.set('default', { expr: stmt.value, scope: this.root });
    else if (stmt.exported && target.kind === 'name') this.exports.set(target.name, { expr: target, scope: this.root });
    const key = exprKey(target);
    if (key === 'module.exports') {
      if (stmt.value.kind === 'object') for (const e of stmt.value.entries) this.exports.set(e.name, { expr: e.value, scope: this.root });
      else this.exports.set('default', { expr: stmt.value, scope: this.root });
    } else if (target.kind === 'attr' && (key === `exports.${target.name}` || key === `module.exports.${target.name}`)) {
      this.exports.set(target.name, { expr: stmt.value, scope: this.root });
    } else if (target.kind === 'attr' && target.object.kind === 'name' && this.exportsAliasNames.has(target.object.name)) {
      // `m = module.exports; m.addMat = function (…) {…}`: a member of the exports object under another name.
      this.exports.set(target.name, { expr: stmt.value, scope: this.root });
    }
    // `m = module.exports`, `var utils = exports`: the exports object under another name.
    const valueKey = stmt.value.kind === 'attr' || stmt.value.kind === 'name' ? exprKey(stmt.value) : undefined;
    if (target.kind === 'name' && (valueKey === 'module.exports' || valueKey === 'exports')) this.exportsAliasNames.add(target.name);
    const required = stmt.value.kind === 'call' && stmt.value.callee.kind === 'name' && stmt.value.callee.name === 'require' && stmt.value.args[0]?.kind === 'str' ? stmt.value.args[0].value : undefined;
    if (required === undefined) return;
    if (target.kind === 'name') this.imports.set(target.name, { module: required, span: stmt.span });
    else if (target.kind === 'object') for (const e of target.entries) if (e.value.kind === 'name') this.imports.set(e.value.name, { module: required, name: e.name, span: stmt.span });
  }

  /** Visits an expression to open scopes for the lambdas and comprehensions inside it. */
  private exprs(root: Expr, scope: Scope, loops: Expr[]): void {
    const walk = this.walk;
    const base = walk.start(root, scope);
    try {
      while (walk.depth() > base) {
        const e = walk.pop();
        const s = walk.ctx;
        const parent = walk.parent;
        this.expr(e, s, parent, loops);
      }
    } finally {
      walk.end(base);
    }
  }

  private readonly walk = new ExprWalk<Scope>();

  /** One node of `exprs`' walk: a lambda or comprehension opens a scope; others walk on to their children. */
  private expr(e: Expr, s: Scope, parent: Expr | undefined, loops: Expr[]): void {
    const walk = this.walk;
    switch (e.kind) {
      case 'lambda': {
        // A prototype method's body is a method's: its scope is a function's, its `this` the class's.
        const methodOf = this.methodLambdas.get(e);
        const ls = new Scope(methodOf ? 'function' : 'lambda', s, e.span, methodOf ?? s.classScope);
        this.lambdaScopes.set(e, ls);
        // `xs.forEach((x) => ...)`, `xs.map((x, i) => ...)`: the callback walks xs like a loop.
        const receiver = parent?.kind === 'call' && parent.callee.kind === 'attr' && iterationMethods.has(parent.callee.name) ? parent.callee.object : undefined;
        const elementIndex = parent?.kind === 'call' && parent.callee.kind === 'attr' && parent.callee.name === 'reduce' ? 1 : 0;
        e.params.forEach((p, i) => {
          const loop = receiver && i === elementIndex ? { iter: receiver, position: 0, depth: loops.length + 1 } : undefined;
          ls.addBinding({ key: p.name, kind: loop ? 'loop' : 'param', at: -1, span: p.span, loops: receiver ? [...loops, receiver] : [], scope: ls, loop, value: p.default });
        });
        if (e.body) walk.push(e.body, ls, undefined);
        this.stmts(e.stmts, ls, receiver ? [...loops, receiver] : []);
        break;
      }
      case 'comprehension': {
        const cs = new Scope('lambda', s, e.span, s.classScope);
        this.lambdaScopes.set(e, cs);
        for (const g of e.generators) {
          walk.push(g.iter, s, undefined);
          this.bindTarget(g.target, undefined, undefined, cs, -1, g.target.span, [g.iter], { iter: g.iter, position: 0, depth: 1 });
        }
        walk.push(e.element, cs, undefined);
        break;
      }
      default:
        walk.pushChildren(e, s);
    }
  }
}

/**
 * The methods a prototype assignment defines, and the constructor they belong to:
 * `C.prototype.m = function (…) {…}` and `C.prototype = { m() {…}, n: function (…) {…} }`.
 */
function prototypeMethods(stmt: Stmt & { kind: 'assign' }): { ctor: string; methods: { name: string; nameSpan: Span; fn: Expr & { kind: 'lambda' } }[] } | undefined {
  if (stmt.op || stmt.targets.length !== 1) return undefined;
  const target = stmt.targets[0];
  if (target.kind !== 'attr') return undefined;
  const ctorOf = (e: Expr): string | undefined => (e.kind === 'attr' && e.name === 'prototype' && e.object.kind === 'name' ? e.object.name : undefined);
  const value = stmt.value;
  const isMethodBody = (e: Expr): e is Expr & { kind: 'lambda' } => e.kind === 'lambda' && (e.stmts.length > 0 || e.body !== undefined);
  const own = ctorOf(target.object);
  if (own !== undefined) return isMethodBody(value) ? { ctor: own, methods: [{ name: target.name, nameSpan: target.span, fn: value }] } : undefined;
  const whole = ctorOf(target);
  if (whole === undefined || value.kind !== 'object') return undefined;
  const methods = value.entries.flatMap((entry) => (isMethodBody(entry.value) ? [{ name: entry.name, nameSpan: entry.span ?? entry.value.span, fn: entry.value }] : []));
  return methods.length > 0 ? { ctor: whole, methods } : undefined;
}

/** Array methods whose callback visits each element (the element is the first parameter; reduce's second). */
const iterationMethods = new Set(['forEach', 'map', 'flatMap', 'filter', 'some', 'every', 'reduce', 'find']);

/**
 * The stack of a depth-first walk over expressions, each with its context (a scope, say) and the
 * node it was pushed from. Walkers keep one per file: a walk starts at the stack's current depth and
 * pops back down to it, so walks nested in a walk share it. No frame object, array or closure is made
 * per node or per walk (walkers run for every statement of every file), and the arrays are indexed
 * rather than popped, which would shrink them to grow again on the next walk.
 */
export class ExprWalk<C> {
  private readonly nodes: Expr[] = [];
  private readonly ctxs: C[] = [];
  private readonly parents: (Expr | undefined)[] = [];
  private size = 0;
  /** The context and parent of the node `pop` returned last. */
  ctx!: C;
  parent: Expr | undefined;
  private from: Expr | undefined;
  private fromCtx!: C;
  private readonly pushChild = (c: Expr): void => this.push(c, this.fromCtx, this.from);

  /** Pushes `root`; the walk goes on while `depth() > ` the returned depth. */
  start(root: Expr, ctx: C): number {
    const base = this.size;
    this.push(root, ctx, undefined);
    return base;
  }

  depth(): number {
    return this.size;
  }

  push(e: Expr, ctx: C, parent: Expr | undefined): void {
    const i = this.size++;
    this.nodes[i] = e;
    this.ctxs[i] = ctx;
    this.parents[i] = parent;
  }

  /** Pushes `e`'s children (`forEachChild` order), each with `ctx` and `e` as its parent. */
  pushChildren(e: Expr, ctx: C): void {
    this.from = e;
    this.fromCtx = ctx;
    forEachChild(e, this.pushChild);
  }

  /** The next node (its context and parent in `ctx` and `parent`, to be read before walking on). */
  pop(): Expr {
    const i = --this.size;
    this.ctx = this.ctxs[i];
    this.parent = this.parents[i];
    return this.nodes[i];
  }

  /** Drops what a walk that began at `base` left (it threw). */
  end(base: number): void {
    this.size = base;
  }
}

/**
 * someExpr's stack, shared by all its calls (a call nested in `test` works above the caller's part
 * and returns to it): no array or closure per call. Popped entries are cleared so that no old
 * file's nodes stay reachable from here.
 */
const someStack: (Expr | undefined)[] = [];
let someSize = 0;
const pushSome = (c: Expr): void => {
  someStack[someSize++] = c;
};

/** Whether `test` holds for `root` or any expression inside it (one walk, no recursion). */
export function someExpr(root: Expr, test: (e: Expr) => boolean): boolean {
  const base = someSize;
  pushSome(root);
  try {
    while (someSize > base) {
      const e = someStack[--someSize]!;
      someStack[someSize] = undefined;
      if (test(e)) return true;
      forEachChild(e, pushSome);
    }
    return false;
  } finally {
    while (someSize > base) someStack[--someSize] = undefined;
  }
}

/** The names read anywhere inside an expression (itself included), in walk order, repeats kept. */
export function namesIn(root: Expr): string[] {
  const out: string[] = [];
  someExpr(root, (x) => {
    if (x.kind === 'name') out.push(x.name);
    return false;
  });
  return out;
}

/** Calls `f` on each of `children(e)`, in the same order, without building the array (walkers call this per node). */
export function forEachChild(e: Expr, f: (c: Expr) => void): void {
  switch (e.kind) {
    case 'attr':
      f(e.object);
      return;
    case 'index':
      f(e.object);
      for (let i = 0; i < e.index.length; i++) f(e.index[i]);
      return;
    case 'call':
      f(e.callee);
      for (let i = 0; i < e.args.length; i++) f(e.args[i]);
      for (let i = 0; i < e.kwargs.length; i++) f(e.kwargs[i].value);
      return;
    case 'binary':
      f(e.left);
      f(e.right);
      return;
    case 'unary':
      f(e.arg);
      return;
    case 'lambda':
      if (e.body) f(e.body);
      return;
    case 'comprehension':
      f(e.element);
      for (let i = 0; i < e.generators.length; i++) {
        f(e.generators[i].target);
        f(e.generators[i].iter);
      }
      return;
    case 'seq':
      for (let i = 0; i < e.items.length; i++) f(e.items[i]);
      return;
    case 'object':
      for (let i = 0; i < e.entries.length; i++) f(e.entries[i].value);
      return;
    case 'cond':
      f(e.test);
      f(e.then);
      f(e.else);
      return;
    case 'other':
      for (let i = 0; i < e.children.length; i++) f(e.children[i]);
      return;
    default:
      return;
  }
}

/** Direct sub-expressions of an expression (lambda bodies and comprehension parts included). */
export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'attr':
      return [e.object];
    case 'index':
      return [e.object, ...e.index];
    case 'call':
      return [e.callee, ...e.args, ...e.kwargs.map((k) => k.value)];
    case 'binary':
      return [e.left, e.right];
    case 'unary':
      return [e.arg];
    case 'lambda':
      return e.body ? [e.body] : [];
    case 'comprehension':
      return [e.element, ...e.generators.flatMap((g) => [g.target, g.iter])];
    case 'seq':
      return e.items;
    case 'object':
      return e.entries.map((k) => k.value);
    case 'cond':
      return [e.test, e.then, e.else];
    case 'other':
      return e.children;
    default:
      return [];
  }
}
