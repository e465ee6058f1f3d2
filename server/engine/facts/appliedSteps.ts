// Steps a method returns and a caller applies: the framework pattern where a base class's `step()`
// asks `self._step(params, grads)` for the updates and subtracts them from the weights itself
// (`p.assign(p.detach() - update)`). What the method returns is the step; a buffer it reads into
// that value is optimizer state (it feeds a step, as `v` feeds `W += v`), and a value the method
// computes and never lets reach what it returns (a decay that only rebinds a loop variable) is
// never applied. Decided by data flow: the caller's update site is traced back to the call, and the
// returned value forward through the method's locals, list appends and loops.
import type { Expr, Span, Stmt } from '../ir';
import type { Program } from '../program';
import type { Env, Summand } from './analysis';
import type { UpdateSite } from './updates';
import { baseExpr, exprKey } from './keys';
import { forEachChild, loopIterable, type Binding, type ClassDef, type FunctionDef, type Scope, type ScopeBuilder } from './scope';
import { baseClasses, isSelfName, returnsOf } from './resolve';
import { walkAll } from './program';
import { LIST_APPEND_METHODS, PASS_THROUGH_FUNCTIONS, isMetadataAttribute, loopSource } from './catalogue';

export interface AppliedReturn {
  /** The caller's update of a parameter that applies the value. */
  site: UpdateSite;
  /** The item of a returned tuple that is applied (`updates, extra = self._step(...)`); undefined: the whole value. */
  position?: number;
  /** +1 when the caller adds the value to the parameter, −1 when it subtracts it (a descent step that returns +lr·g). */
  sign: 1 | -1;
}

const MAX_TRACE = 10;
const MAX_CLASS_HOPS = 8;

/**
 * The updates in `fn`'s class or its bases that apply what `fn` returns: a method calling
 * `self.<fn>(...)` whose update of a parameter is, up to scalars, that value (or an element of it).
 * `sitesOf` gives a caller's update sites (its file's, found so far).
 */
export function appliedReturns(
  program: Program,
  fn: FunctionDef,
  sitesOf: (caller: FunctionDef) => readonly UpdateSite[] | undefined,
  isScalar: (f: Summand['num'][number]) => boolean,
  isModule: (e: Expr) => boolean,
): AppliedReturn[] {
  if (!fn.cls || !fn.isMethod) return [];
  const out: AppliedReturn[] = [];
  for (const caller of callersInHierarchy(program, fn.cls, fn)) {
    const scopes = program.parsedOf(caller.span)?.scopes;
    if (!scopes) continue;
    for (const site of sitesOf(caller) ?? []) {
      if (site.kind !== 'update' || site.span.start < caller.span.start || site.span.end > caller.span.end) continue;
      for (const s of site.increment) {
        const tensors = s.num.filter((f) => !isScalar(f));
        if (tensors.length !== 1 || s.den.some((f) => !isScalar(f))) continue;
        const f = tensors[0];
        const traced = traceToCall(f.expr, f.scope, f.at, f.env, fn.name, scopes, isModule, 0);
        if (traced) out.push({ site, position: traced.position, sign: s.sign });
      }
    }
  }
  return out;
}

/** Methods of the class and of its bases (other than `fn`) that call `self.<fn.name>(...)`. */
function callersInHierarchy(program: Program, cls: ClassDef, fn: FunctionDef): FunctionDef[] {
  const out: FunctionDef[] = [];
  const seen = new Set<ClassDef>();
  const visit = (c: ClassDef, hops: number): void => {
    if (hops > MAX_CLASS_HOPS || seen.has(c)) return;
    seen.add(c);
    for (const m of c.scope.functions.values()) if (m !== fn && m.isMethod && callsSelfMethod(m, fn.name)) out.push(m);
    for (const b of baseClasses(program, c)) visit(b, hops + 1);
  };
  visit(cls, 0);
  return out;
}

const selfCalls = new WeakMap<FunctionDef, Set<string>>();

/** Whether a method calls `self.<name>(...)`: the names it calls on its instance, found once per method. */
function callsSelfMethod(m: FunctionDef, name: string): boolean {
  let names = selfCalls.get(m);
  if (!names) {
    const found = new Set<string>();
    walkStmts(m.body, (e) => {
      if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.object.kind === 'name' && isSelfName(e.callee.object.name)) found.add(e.callee.name);
    });
    selfCalls.set(m, (names = found));
  }
  return names.has(name);
}

function isSelfCall(e: Expr, name: string): boolean {
  return e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === name && e.callee.object.kind === 'name' && isSelfName(e.callee.object.name);
}

/**
 * Is `e` the value a `self.<name>(...)` call returned, up to views and copies (`up.to(device)`),
 * elements (`updates[i]`, a loop over it), helpers' parameters and one-to-one comprehensions?
 */
function traceToCall(e: Expr, scope: Scope, at: number, env: Env | undefined, name: string, scopes: ScopeBuilder, isModule: (e: Expr) => boolean, depth: number): { position?: number } | undefined {
  if (depth > MAX_TRACE) return undefined;
  const d = depth + 1;
  switch (e.kind) {
    case 'name': {
      const arg = env?.get(e.name);
      if (arg) return traceToCall(arg.expr, arg.scope, arg.at, arg.env, name, scopes, isModule, d);
      const b = scope.lookup(e.name, at);
      if (!b) return undefined;
      if (b.kind === 'loop' && b.loop) {
        const source = loopSource(loopIterable(b.loop), b.loop.position, isModule);
        return source?.kind === 'element' ? traceToCall(source.collection, b.scope, b.at, undefined, name, scopes, isModule, d) : undefined;
      }
      if (b.kind !== 'assign' || b.op) return undefined;
      if (b.unpacked) {
        const whole = traceToCall(b.unpacked.value, b.scope, b.at, undefined, name, scopes, isModule, d);
        return whole && whole.position === undefined ? { position: b.unpacked.position } : undefined;
      }
      return b.value ? traceToCall(b.value, b.scope, b.at, undefined, name, scopes, isModule, d) : undefined;
    }
    case 'index': {
      const inner = traceToCall(e.object, scope, at, env, name, scopes, isModule, d);
      // `self._step(...)[0]`: the first item of the returned tuple.
      if (inner && inner.position === undefined && e.object.kind === 'call' && e.index.length === 1 && e.index[0].kind === 'num') return { position: e.index[0].value };
      return inner;
    }
    case 'call': {
      if (isSelfCall(e, name)) return {};
      if (e.callee.kind === 'attr' && PASS_THROUGH_FUNCTIONS.has(e.callee.name) && !isModule(e.callee.object)) return traceToCall(e.callee.object, scope, at, env, name, scopes, isModule, d);
      return undefined;
    }
    case 'comprehension': {
      const inner = scopes.lambdaScopes.get(e);
      return inner && e.element.kind !== 'seq' ? traceToCall(e.element, inner, Infinity, env, name, scopes, isModule, d) : undefined;
    }
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ what the returned value reads

export interface ReturnedReads {
  /** Keys of the values read (`self.b` for `self.b[i]`), each through `baseExpr`. */
  keys: Set<string>;
  /** The function's own bindings whose value reaches the returned value. */
  bindings: Set<Binding>;
}

const MAX_READS = 2000;

/**
 * What `fn`'s returned value (item `position` of a returned tuple) is computed from: every binding of
 * the function that may reach it, through assignments, loops, list appends (`ret.append(g)`,
 * `return ret`) and loop-carried values, and the keys of the values read. Metadata (`t.dtype`,
 * `t.device`, `t.shape`) is not a read of t's value. An over-approximation: a binding that a later
 * one overwrites still counts.
 */
export function returnedReads(program: Program, fn: FunctionDef, position: number | undefined): ReturnedReads {
  const keys = new Set<string>();
  const bindings = new Set<Binding>();
  const scopes = program.parsedOf(fn.span)?.scopes;
  if (!scopes) return { keys, bindings };
  const shape = functionShape(fn, scopes);
  let budget = MAX_READS;
  const pending: { e: Expr; scope: Scope; at: number }[] = [];
  for (const r of returnsOf(program, fn)) {
    const value = position !== undefined && r.expr.kind === 'seq' ? r.expr.items[position] : r.expr;
    if (value) pending.push({ e: value, scope: r.scope, at: r.at });
  }
  const follow = (b: Binding): void => {
    if (bindings.has(b)) return;
    bindings.add(b);
    if (b.kind === 'loop' && b.loop) pending.push({ e: loopIterable(b.loop), scope: b.scope, at: b.at });
    else if (b.kind === 'assign') {
      if (b.unpacked) pending.push({ e: b.unpacked.value, scope: b.scope, at: b.at });
      else if (b.value) pending.push({ e: b.value, scope: b.scope, at: b.at });
    }
    // A list the function fills (`ret = []`, then `ret.append(g)`): what is appended.
    for (const a of shape.appends.get(b.key) ?? []) if (reaching(shape, a.scope, b.key, a.at).includes(b)) pending.push({ e: a.value, scope: a.scope, at: a.at });
  };
  while (pending.length > 0 && budget-- > 0) {
    const { e, scope, at } = pending.pop()!;
    switch (e.kind) {
      case 'name': {
        keys.add(e.name);
        for (const b of reaching(shape, scope, e.name, at)) follow(b);
        break;
      }
      case 'attr': {
        if (isMetadataAttribute(e.name)) break;
        const key = exprKey(baseExpr(e));
        if (key !== undefined) keys.add(key);
        pending.push({ e: e.object, scope, at });
        break;
      }
      case 'index': {
        const key = exprKey(baseExpr(e));
        if (key !== undefined) keys.add(key);
        pending.push({ e: e.object, scope, at });
        for (const i of e.index) pending.push({ e: i, scope, at });
        break;
      }
      case 'comprehension':
      case 'lambda': {
        const inner = scopes.lambdaScopes.get(e) ?? scope;
        forEachChild(e, (c) => void pending.push({ e: c, scope: inner, at: Infinity }));
        break;
      }
      default:
        forEachChild(e, (c) => void pending.push({ e: c, scope, at }));
    }
  }
  return { keys, bindings };
}

interface FunctionShape {
  fn: FunctionDef;
  /** The function's `for` loops, by their iterable. */
  loops: Map<Expr, Stmt & { kind: 'for' }>;
  /** `name.append(x)` calls, by the list's name. */
  appends: Map<string, { value: Expr; scope: Scope; at: number }[]>;
}

const shapes = new WeakMap<FunctionDef, FunctionShape>();

function functionShape(fn: FunctionDef, scopes: ScopeBuilder): FunctionShape {
  let shape = shapes.get(fn);
  if (shape) return shape;
  const loops = new Map<Expr, Stmt & { kind: 'for' }>();
  const appends = new Map<string, { value: Expr; scope: Scope; at: number }[]>();
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'for') {
        loops.set(s.iter, s);
        visit(s.body);
      } else if (s.kind === 'block') visit(s.body);
      else if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && LIST_APPEND_METHODS.has(s.expr.callee.name) && s.expr.callee.object.kind === 'name') {
        const list = s.expr.callee.object.name;
        const scope = scopes.stmtScopes.get(s) ?? fn.scope;
        for (const value of s.expr.args) {
          const known = appends.get(list);
          const entry = { value, scope, at: s.span.start };
          if (known) known.push(entry);
          else appends.set(list, [entry]);
        }
      }
    }
  };
  visit(fn.body);
  shape = { fn, loops, appends };
  shapes.set(fn, shape);
  return shape;
}

/**
 * The function's bindings of `name` that may reach a read at `at`: those before it (a branch of an
 * `if` chain the read is in another branch of aside), and those later in a loop around both that
 * does not rebind the name itself (its next iteration reads them). A name bound outside the
 * function is not followed.
 */
function reaching(shape: FunctionShape, scope: Scope, name: string, at: number): Binding[] {
  const list = scope.allBindings(name);
  if (list.length === 0 || !within(list[0].scope.span, shape.fn.span)) return [];
  return list.filter((b) => {
    // A read inside the assignment's own value sees the value before it.
    if (b.at < at) return !inOtherBranch(b, at) && !(b.value && at <= b.value.span.end);
    return b.loops.some((iter) => {
      const loop = shape.loops.get(iter);
      return loop !== undefined && loop.span.start <= at && at < loop.span.end && !list.some((x) => x.kind === 'loop' && x.loop?.iter === iter);
    });
  });
}

function inOtherBranch(b: Binding, at: number): boolean {
  return (b.branches ?? []).some((p) => p.chain.start <= at && at < p.chain.end && !(p.branch.start <= at && at <= p.branch.end));
}

const within = (inner: Span, outer: Span): boolean => outer.start <= inner.start && inner.end <= outer.end;

/** Every expression of the statements, nested functions and classes aside. */
function walkStmts(stmts: Stmt[], visit: (e: Expr) => void): void {
  const expr = (e: Expr): void => {
    visit(e);
    forEachChild(e, expr);
  };
  for (const s of stmts) {
    switch (s.kind) {
      case 'assign':
        s.targets.forEach(expr);
        expr(s.value);
        break;
      case 'expr':
        expr(s.expr);
        break;
      case 'return':
        if (s.value) expr(s.value);
        break;
      case 'for':
        expr(s.iter);
        walkStmts(s.body, visit);
        break;
      case 'block':
        s.heads.forEach(expr);
        walkStmts(s.body, visit);
        break;
      default:
        break;
    }
  }
}

/**
 * Does anything in `fn` read the value `binding` gives its name: a read (metadata aside) that the
 * binding may reach, in order or through a loop? Reads inside nested functions count whatever
 * their place.
 */
export function isBindingRead(program: Program, fn: FunctionDef, binding: Binding): boolean {
  const scopes = program.parsedOf(fn.span)?.scopes;
  if (!scopes) return true;
  const shape = functionShape(fn, scopes);
  const name = binding.key;
  let read = false;
  const visit = (e: Expr, scope: Scope, parent: Expr | undefined): void => {
    if (read) return;
    if (e.kind === 'name' && e.name === name && !(parent?.kind === 'attr' && parent.object === e && isMetadataAttribute(parent.name))) {
      if (scope.kind === 'function' && scope !== fn.scope) read = true;
      else if (reaching(shape, scope, name, e.span.start).includes(binding)) read = true;
      return;
    }
    if (e.kind === 'lambda' && e.stmts.length > 0 && mentionsStmts(e.stmts, name)) read = true;
    const inner = e.kind === 'lambda' || e.kind === 'comprehension' ? scopes.lambdaScopes.get(e) ?? scope : scope;
    forEachChild(e, (c) => visit(c, inner, e));
  };
  const visitStmts = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (read) return;
      const scope = scopes.stmtScopes.get(s) ?? fn.scope;
      switch (s.kind) {
        case 'assign':
          // `t[i] = x`, `t.data = x` read t; a plain `t = x` does not.
          for (const t of s.targets) if (t.kind !== 'name') visit(t, scope, undefined);
          visit(s.value, scope, undefined);
          break;
        case 'expr':
          visit(s.expr, scope, undefined);
          break;
        case 'return':
          if (s.value) visit(s.value, scope, undefined);
          break;
        case 'for':
          visit(s.iter, scope, undefined);
          visitStmts(s.body);
          break;
        case 'block':
          s.heads.forEach((h) => visit(h, scope, undefined));
          visitStmts(s.body);
          break;
        case 'function':
        case 'class':
          if (mentionsStmts(s.body, name)) read = true;
          break;
        default:
          break;
      }
    }
  };
  visitStmts(fn.body);
  return read;
}

function mentionsStmts(stmts: Stmt[], name: string): boolean {
  let found = false;
  walkAll(stmts, (e) => {
    if (e.kind === 'name' && e.name === name) found = true;
  });
  return found;
}
