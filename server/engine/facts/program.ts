// A navigable index of a lowered file, for facts that look across statements and functions:
// every scope, every function with the calls made to it, names bound by unpacking
// (`loss, dW = f(...)`, `const { value, grads } = tf.variableGrads(...)`), and the statement or
// expression behind an update site's span. Built lazily, once per Facts object.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { ExprWalk, forEachChild, type FunctionDef, type Scope } from './scope';
import { InnermostSpan, nestedSpans, type NestedSpans } from './spans';

/** A name bound by unpacking: its statement, and its position (tuple index or object key). */
export interface Unpacked {
  name: string;
  stmt: Stmt & { kind: 'assign' };
  position: number | string;
  scope: Scope;
}

export interface CallSite {
  call: Expr & { kind: 'call' };
  scope: Scope;
  at: number;
}

export interface ProgramIndex {
  readonly scopes: Scope[];
  readonly functions: FunctionDef[];
  readonly calls: CallSite[];
  /** Statements by `start:end` of their span. */
  readonly stmtBySpan: Map<string, Stmt>;
  /** The statement list (a body) each statement belongs to. */
  readonly blockOf: Map<Stmt, Stmt[]>;
  /** Expressions that can be an update's body (lambda bodies, comprehension elements, returns) by span. */
  readonly exprBySpan: Map<string, Expr>;
  /** Unpacking bindings by name. */
  readonly unpacked: Map<string, Unpacked[]>;
  /** Each lambda's scope: the lambda, the call it is passed to (`tree_map(lambda p, g: ..., params, grads)`), where. */
  readonly lambdas: Map<Scope, { lambda: Expr & { kind: 'lambda' }; call?: Expr & { kind: 'call' }; scope: Scope; at: number }>;
  /** The innermost scope whose span contains `offset`. */
  scopeAt(offset: number): Scope;
  /** The function whose body scope is `scope` or encloses it (lambdas and comprehensions skipped). */
  enclosingFunction(scope: Scope): FunctionDef | undefined;
  /** The first of `functions` whose scope is `scope`. */
  functionOfScope(scope: Scope): FunctionDef | undefined;
  /** The first of `functions` named `name`. */
  functionNamed(name: string): FunctionDef | undefined;
  /** Calls to the function `fn` in this file (by name; methods through `self.`/`this.` or any receiver). */
  callsTo(fn: FunctionDef): CallSite[];
  /** The `for` statements whose span holds `span`, outermost first (lambda bodies' loops included). */
  loopsAround(span: Span): Stmt[];
  /** The functions of this file that hold a call of `fn` (`callsTo`), once per function. */
  callersOf(fn: FunctionDef): ReadonlySet<FunctionDef>;
  /** The latest unpacking of `name` visible from `scope` before `at`. */
  unpackedAt(name: string, scope: Scope, at: number): Unpacked | undefined;
  /** Calls by the callee's last name (`backward` for `loss.backward()`). */
  callsNamed(name: string): CallSite[];
  /** The `+` or `-` written before an expression that is the right operand of a sum or difference (`-` in `dW - reg * W`). */
  operatorBefore(operand: Span): Span | undefined;
  /** Object literals with two or more methods (`{ cost(w) {...}, grad(w) {...} }`), with the scope they are in. */
  readonly objectLiterals: { object: Expr & { kind: 'object' }; scope: Scope }[];
}

/** Whether `fn` is written in this facts' file (the index of a program's file may hold functions read from elsewhere). */
export function definedInFile(facts: Facts, fn: FunctionDef): boolean {
  return startsInFile(facts, fn.span);
}

/** Does `span` start in this file (not in a module the program index also holds)? */
export function startsInFile(facts: Facts, span: Span): boolean {
  const start = facts.file.base;
  return span.start >= start && span.start < start + facts.text.length + 1;
}

/** The module's statements and every function written in this file, each with its own body (nameFilteredDecay.ts, shapeRoutedDecay.ts). */
export function fileBodies(facts: Facts): { stmts: Stmt[]; fn?: FunctionDef }[] {
  const bodies: { stmts: Stmt[]; fn?: FunctionDef }[] = [{ stmts: facts.module.body }];
  const root = facts.scopes.root.span;
  for (const fn of programIndex(facts).functions) if (fn.span.start >= root.start && fn.span.end <= root.end) bodies.push({ stmts: fn.body, fn });
  return bodies;
}

const cache = new WeakMap<Facts, ProgramIndex>();

export function programIndex(facts: Facts): ProgramIndex {
  let index = cache.get(facts);
  if (!index) {
    index = build(facts);
    cache.set(facts, index);
  }
  return index;
}

export const spanKey = (s: Span): string => `${s.start}:${s.end}`;

function build(facts: Facts): ProgramIndex {
  const { scopes } = facts;
  const scopeSet = new Set<Scope>([scopes.root]);
  for (const s of scopes.stmtScopes.values()) scopeSet.add(s);
  for (const s of scopes.lambdaScopes.values()) scopeSet.add(s);
  // A constructor function's prototype methods are a class no statement opens.
  for (const s of scopes.prototypeScopes) scopeSet.add(s);
  const functionSet = new Set<FunctionDef>();
  for (const s of scopeSet) for (const f of s.functions.values()) functionSet.add(f);
  const functions = [...functionSet];
  for (const f of functions) scopeSet.add(f.scope);
  const allScopes = [...scopeSet];
  const byScope = new Map<Scope, FunctionDef>();
  for (const f of functions) byScope.set(f.scope, f);
  // First-found lookups (what `functions.find` answered), indexed: files can define thousands.
  const firstByScope = new Map<Scope, FunctionDef>();
  const firstByName = new Map<string, FunctionDef>();
  const countByName = new Map<string, number>();
  for (const f of functions) {
    if (!firstByScope.has(f.scope)) firstByScope.set(f.scope, f);
    if (!firstByName.has(f.name)) firstByName.set(f.name, f);
    countByName.set(f.name, (countByName.get(f.name) ?? 0) + 1);
  }
  let innermost: InnermostSpan<Scope> | undefined;

  const calls: CallSite[] = [];
  const stmtBySpan = new Map<string, Stmt>();
  const loops: Stmt[] = [];
  const blockOf = new Map<Stmt, Stmt[]>();
  const exprBySpan = new Map<string, Expr>();
  const unpacked = new Map<string, Unpacked[]>();
  const addUnpacked = (u: Unpacked): void => {
    const list = unpacked.get(u.name);
    if (list) list.push(u);
    else unpacked.set(u.name, [u]);
  };

  const lambdas = new Map<Scope, { lambda: Expr & { kind: 'lambda' }; call?: Expr & { kind: 'call' }; scope: Scope; at: number }>();
  const operators = new Map<string, Span>();
  const objectLiterals: { object: Expr & { kind: 'object' }; scope: Scope }[] = [];
  // A node's context: its scope and the position its reads are at (children share their parent's).
  const walk = new ExprWalk<{ s: Scope; at: number }>();
  const visitExpr = (root: Expr, scope: Scope, at: number): void => {
    const base = walk.start(root, { s: scope, at });
    try {
      while (walk.depth() > base) visitNode(walk.pop(), walk.ctx, walk.parent);
    } finally {
      walk.end(base);
    }
  };
  const visitNode = (e: Expr, ctx: { s: Scope; at: number }, parent: Expr | undefined): void => {
    const { s, at: a } = ctx;
    if (e.kind === 'call') calls.push({ call: e, scope: s, at: a });
    if (e.kind === 'lambda') {
      const ls = scopes.lambdaScopes.get(e) ?? s;
      lambdas.set(ls, { lambda: e, call: parent?.kind === 'call' ? parent : undefined, scope: s, at: a });
      if (e.body) {
        exprBySpan.set(spanKey(e.span), e.body);
        walk.push(e.body, { s: ls, at: Infinity }, undefined);
      }
      visitStmts(e.stmts);
      return;
    }
    if (e.kind === 'comprehension') {
      const cs = scopes.lambdaScopes.get(e) ?? s;
      const elements = e.element.kind === 'seq' ? e.element.items : [e.element];
      for (const el of elements) exprBySpan.set(spanKey(el.span), el);
      for (const g of e.generators) walk.push(g.iter, ctx, undefined);
      walk.push(e.element, { s: cs, at: Infinity }, undefined);
      return;
    }
    if (e.kind === 'cond') {
      exprBySpan.set(spanKey(e.then.span), e.then);
      exprBySpan.set(spanKey(e.else.span), e.else);
    }
    if (e.kind === 'binary' && e.opSpan && (e.op === '+' || e.op === '-')) operators.set(spanKey(e.right.span), e.opSpan);
    if (e.kind === 'object' && e.entries.filter((x) => x.value.kind === 'lambda').length >= 2) objectLiterals.push({ object: e, scope: s });
    walk.pushChildren(e, ctx);
  };
  const visitStmts = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      const scope = scopes.stmtScopes.get(st) ?? scopes.root;
      stmtBySpan.set(spanKey(st.span), st);
      blockOf.set(st, stmts);
      switch (st.kind) {
        case 'assign': {
          for (const t of st.targets) {
            if (t.kind === 'seq') t.items.forEach((item, i) => item.kind === 'name' && addUnpacked({ name: item.name, stmt: st, position: i, scope }));
            if (t.kind === 'object')
              for (const entry of t.entries) if (entry.value.kind === 'name') addUnpacked({ name: entry.value.name, stmt: st, position: entry.name, scope });
          }
          visitExpr(st.value, scope, st.span.start);
          break;
        }
        case 'expr':
          visitExpr(st.expr, scope, st.span.start);
          break;
        case 'return':
          if (st.value) {
            exprBySpan.set(spanKey(st.value.span), st.value);
            visitExpr(st.value, scope, st.span.start);
          }
          break;
        case 'for':
          loops.push(st);
          visitExpr(st.iter, scope, st.span.start);
          visitStmts(st.body);
          break;
        case 'block':
          for (const h of st.heads) visitExpr(h, scope, st.span.start);
          visitStmts(st.body);
          break;
        case 'function':
        case 'class':
          visitStmts(st.body);
          break;
        default:
          break;
      }
    }
  };
  visitStmts(facts.module.body);

  const callCache = new Map<FunctionDef, CallSite[]>();
  const callerCache = new Map<FunctionDef, Set<FunctionDef>>();
  let loopTree: NestedSpans<Stmt> | undefined;
  const callsByName = new Map<string, CallSite[]>();
  for (const c of calls) {
    const name = c.call.callee.kind === 'name' || c.call.callee.kind === 'attr' ? c.call.callee.name : undefined;
    if (name === undefined) continue;
    const list = callsByName.get(name);
    if (list) list.push(c); // not a copy per call: a file may call `mul` thousands of times
    else callsByName.set(name, [c]);
  }
  return {
    scopes: allScopes,
    functions,
    calls,
    stmtBySpan,
    blockOf,
    exprBySpan,
    unpacked,
    lambdas,
    scopeAt(offset: number): Scope {
      // allScopes starts with the root, which is the answer when no scope contains the offset.
      innermost ??= new InnermostSpan(allScopes);
      return innermost.at(offset);
    },
    functionOfScope: (scope) => firstByScope.get(scope),
    functionNamed: (name) => firstByName.get(name),
    enclosingFunction(scope: Scope): FunctionDef | undefined {
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        if (s.kind === 'function') return byScope.get(s);
        if (s.kind === 'class' || s.kind === 'module') return undefined;
      }
      return undefined;
    },
    callsTo(fn: FunctionDef): CallSite[] {
      let found = callCache.get(fn);
      if (!found) {
        found = (callsByName.get(fn.name) ?? []).filter(({ call }) => {
          if (call.callee.kind === 'name') return call.callee.name === fn.name && !fn.isMethod;
          if (call.callee.kind === 'attr') return call.callee.name === fn.name && fn.isMethod;
          return false;
        });
        // Methods are matched by name on any receiver only when the name is unique among the file's functions.
        if (fn.isMethod && (countByName.get(fn.name) ?? 0) > 1) found = found.filter(({ call }) => /^(self|this)\./.test(exprKey(call.callee) ?? ''));
        callCache.set(fn, found);
      }
      return found;
    },
    loopsAround(span: Span): Stmt[] {
      loopTree ??= nestedSpans(loops);
      return loopTree.around(span);
    },
    callersOf(fn: FunctionDef): ReadonlySet<FunctionDef> {
      let found = callerCache.get(fn);
      if (!found) {
        found = new Set();
        for (const c of this.callsTo(fn)) {
          const caller = this.enclosingFunction(c.scope);
          if (caller) found.add(caller);
        }
        callerCache.set(fn, found);
      }
      return found;
    },
    callsNamed(name: string): CallSite[] {
      return callsByName.get(name) ?? [];
    },
    operatorBefore: (operand) => operators.get(spanKey(operand)),
    objectLiterals,
    unpackedAt(name: string, scope: Scope, at: number): Unpacked | undefined {
      const list = unpacked.get(name);
      if (!list) return undefined;
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        let best: Unpacked | undefined;
        for (const u of list) if (u.scope === s && u.stmt.span.start < (s === scope ? at : Infinity) && (!best || u.stmt.span.start > best.stmt.span.start)) best = u;
        if (best) return best;
      }
      return undefined;
    },
  };
}

/** The statements of a function's body, into blocks and loops but not into nested functions or classes (their statements themselves included). */
export function ownStatements(body: Stmt[], out: Stmt[] = [], depth = 0): Stmt[] {
  if (depth > 60) return out;
  for (const s of body) {
    out.push(s);
    if (s.kind === 'block' || s.kind === 'for') ownStatements(s.body, out, depth + 1);
  }
  return out;
}

/** Every expression of a statement list, nested functions, classes and lambda bodies included. */
export function walkAll(stmts: Stmt[], visit: (e: Expr) => void): void {
  const expr = (e: Expr): void => {
    visit(e);
    if (e.kind === 'lambda') walkAll(e.stmts, visit);
    if (e.kind === 'comprehension') e.conditions?.forEach(expr);
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
        expr(s.target);
        expr(s.iter);
        walkAll(s.body, visit);
        break;
      case 'block':
        s.heads.forEach(expr);
        s.aliases?.forEach((a) => a && expr(a));
        walkAll(s.body, visit);
        break;
      case 'function':
        s.params.forEach((p) => p.default && expr(p.default));
        s.decorators.forEach(expr);
        walkAll(s.body, visit);
        break;
      case 'class':
        s.bases.forEach(expr);
        s.decorators.forEach(expr);
        walkAll(s.body, visit);
        break;
      default:
        break;
    }
  }
}
