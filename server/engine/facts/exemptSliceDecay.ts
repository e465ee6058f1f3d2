// Decay of the slice a penalty exempts: a step shrinks a whole parameter, `theta = theta * (1 -
// alpha * lam / m) - ...` or `theta -= alpha * (grad + lam / m * theta)`, while the cost's penalty
// reads only a slice of it, `lam * np.sum(theta[1:] ** 2)` (the intercept θ₀ exempt). The step
// then decays θ₀, which the cost does not penalize. By data flow: the stepped variable followed
// to the storage it copies (`theta = self.theta`), and the penalty searched where that storage is
// read: the step's function, the other methods of its class (`self.theta[1:, 0]`), and the
// functions it calls with the parameter (`compute_cost(X, y, theta, lam)`, in any module).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { exprKey, isWholeAxis, lastComponent } from './keys';
import { explicitParams, forEachChild, type FunctionDef, type Scope } from './scope';
import { programIndex } from './program';
import { resolveCall } from './resolve';
import { isSizeSymbol } from './roles';
import { DOT_FUNCTIONS, FLATTENING_METHODS, MATRIX_PRODUCT_METHODS, squareBase, SUM_FUNCTIONS } from './catalogue';

export interface ExemptSliceDecay {
  /** The shrink as written in the step: the scaled self term, or the c·θ summand. */
  span: Span;
  /** The parameter the step shrinks whole, as written there. */
  target: Expr;
  /** The penalty's sum of squares over the slice, and the slice as written in it. */
  penalty: Span;
  slice: Expr & { kind: 'index' };
}

const MAX_HOPS = 4;
const cache = new WeakMap<Facts, ExemptSliceDecay[]>();

export function exemptSliceDecays(facts: Facts): ExemptSliceDecay[] {
  let found = cache.get(facts);
  if (!found) {
    found = facts.updates.flatMap((u) => {
      const f = exemptSliceDecayOf(facts, u);
      return f ? [f] : [];
    });
    cache.set(facts, found);
  }
  return found;
}

interface Shrink {
  span: Span;
  /** The names the shrink's coefficient reads (`alpha`, `lam`, `m`). */
  names: Set<string>;
}

interface Place {
  body: Stmt[];
  /** The storage's key in that body: the step's own variable, `self.theta`, the callee's parameter. */
  keys: Set<string>;
  /** A callee's parameter names → the caller's argument keys, to compare strengths across the call. */
  renames: Map<string, string>;
}

function exemptSliceDecayOf(facts: Facts, u: UpdateSite): ExemptSliceDecay | undefined {
  if (u.kind !== 'update' || (u.target.kind !== 'name' && u.target.kind !== 'attr')) return undefined;
  const targetKey = exprKey(u.target);
  if (!targetKey) return undefined;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(u.scope);
  const body = fn?.body ?? facts.module.body;
  const shrink = shrinkOf(facts, u, targetKey, fn, body);
  if (!shrink) return undefined;
  // A copy with θ₀ zeroed (`reg = theta.copy(); reg[0] = 0`) is the exempt slice done by hand.
  if (zeroesAnElement(body)) return undefined;
  const keys = storageKeys(u.target, targetKey, u.scope, u.at);
  const places: Place[] = [{ body, keys, renames: new Map() }];
  const members = [...keys].filter((k) => /^(self|this)\./.test(k));
  if (fn?.cls && members.length > 0) {
    for (const m of fn.cls.scope.functions.values()) if (m !== fn) places.push({ body: m.body, keys: new Set(members), renames: new Map() });
  }
  walkExprs(body, (e) => {
    if (e.kind !== 'call') return;
    const at = e.span.start;
    const passed = e.args.findIndex((a) => keys.has(exprKey(a) ?? ''));
    if (passed < 0) return;
    const target = resolveCall(facts.program, e, index.scopeAt(at), at);
    if (!target || target.fn === fn) return;
    const params = explicitParams(target.fn);
    const param = params[passed];
    if (!param || param.rest) return;
    const renames = new Map<string, string>();
    params.forEach((p, i) => {
      const k = e.args[i] && exprKey(e.args[i]);
      if (k && !p.rest) renames.set(p.name, k);
    });
    places.push({ body: target.fn.body, keys: new Set([param.name]), renames });
  });
  let hit: { penalty: Span; slice: Expr & { kind: 'index' } } | undefined;
  for (const place of places) {
    for (const sq of squareSums(facts, place.body)) {
      const key = exprKey(sq.base);
      if (!key || !place.keys.has(key)) continue;
      // A penalty over the whole parameter too: the shrink matches it.
      if (!sq.slice) return undefined;
      const strengths = [...sq.names].map((n) => place.renames.get(n) ?? n);
      if (!hit && strengths.some((n) => shrink.names.has(n) && !isSizeSymbol(n) && !keys.has(n))) hit = { penalty: sq.span, slice: sq.slice };
    }
  }
  return hit && { span: shrink.span, target: u.target, ...hit };
}

/**
 * The step's shrink of its whole target: a self term scaled by 1 − c (`theta * reg_param` with
 * `reg_param = 1 - alpha * lam / m`), or a subtracted summand c·θ whose other factors are scalars.
 */
function shrinkOf(facts: Facts, u: UpdateSite, targetKey: string, fn: FunctionDef | undefined, body: Stmt[]): Shrink | undefined {
  if (u.selfFactor) {
    const factor = valueOf(u.selfFactor, u.scope, u.at);
    const c = factor && oneMinus(factor);
    if (c && !isNumber(c)) {
      const names = namesIn(c);
      if (names.size > 0) return { span: selfTermSpan(u, body) ?? u.span, names };
    }
  }
  for (const s of u.increment) {
    if (s.sign !== -1 || s.den.some((f) => mentions(f.expr, targetKey))) continue;
    const own = s.num.filter((f) => exprKey(f.expr) === targetKey);
    if (own.length !== 1) continue;
    // Read where the step writes it or in the step's function: not a copy handed in from elsewhere.
    const at = own[0].expr.span.start;
    const inside = (sp: Span): boolean => sp.start <= at && at < sp.end;
    if (!inside(u.span) && !(fn && inside(fn.span))) continue;
    const others = [...s.num.filter((f) => f !== own[0]), ...s.den];
    if (others.length === 0 || others.some((f) => mentions(f.expr, targetKey))) continue;
    const scalar = others.every((f) => {
      if (isShapeEntry(f.expr, f.scope, f.at)) return true;
      const p = facts.analyzer.classify(f.expr, f.scope, f.at, f.env);
      return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
    });
    if (!scalar) continue;
    const names = new Set<string>();
    for (const f of others) for (const n of namesIn(valueOf(f.expr, f.scope, f.at) ?? f.expr)) names.add(n);
    if (names.size > 0) return { span: inside(u.span) ? covering(u, body, s.site, own[0].expr.span) : u.span, names };
  }
  return undefined;
}

/** `m` of `m, n = X.shape`: a count. */
function isShapeEntry(e: Expr, scope: Scope, at: number): boolean {
  if (e.kind !== 'name') return false;
  const value = scope.lookup(e.name, at)?.unpacked?.value;
  return value?.kind === 'attr' && value.name === 'shape';
}

/** The scaled self term as written in the step: `theta * reg_param` of `theta = theta * reg_param - ...`. */
function selfTermSpan(u: UpdateSite, body: Stmt[]): Span | undefined {
  let found: Span | undefined;
  forEachStmtExpr(body, (stmt, root) => {
    if (found || stmt.kind !== 'assign' || stmt.span.start !== u.span.start || stmt.span.end !== u.span.end || root !== stmt.value) return;
    walk(root, (e) => {
      if (!found && e.kind === 'binary' && e.op === '*' && (e.left === u.selfFactor || e.right === u.selfFactor)) found = e.span;
    });
  });
  return found;
}

/** The smallest product in the step's statement that holds both the summand and the parameter (`W * (1 - lr * lam / m)`). */
function covering(u: UpdateSite, body: Stmt[], site: Span, param: Span): Span {
  const holds = (e: Span, x: Span): boolean => e.start <= x.start && x.end <= e.end;
  if (holds(site, param)) return site;
  let found: Span | undefined;
  forEachStmtExpr(body, (stmt, root) => {
    if (stmt.span.start !== u.span.start || stmt.span.end !== u.span.end) return;
    walk(root, (e) => {
      if (e.kind === 'binary' && e.op === '*' && holds(e.span, site) && holds(e.span, param) && (!found || holds(found, e.span))) found = e.span;
    });
  });
  return found ?? site;
}

/** `1 - c`, with parentheses and a local holding it followed: c; otherwise undefined. */
function oneMinus(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '-' && isNumber(e.left) && (e.left as Expr & { kind: 'num' }).value === 1) return e.right;
  return undefined;
}

function isNumber(e: Expr): boolean {
  return e.kind === 'num' || (e.kind === 'unary' && e.arg.kind === 'num');
}

/** A name's one plain value before `at`, followed a few hops (`reg_param = 1 - ...`); else the expression itself. */
function valueOf(e: Expr, scope: Scope, at: number): Expr | undefined {
  let cur = e;
  for (let i = 0; i < MAX_HOPS && cur.kind === 'name'; i++) {
    const b = scope.lookup(cur.name, at);
    if (!b || b.kind !== 'assign' || b.op || !b.value || b.unpacked) break;
    cur = b.value;
    at = b.at;
  }
  return cur;
}

/** The stepped variable and the storage it is a plain copy of (`theta = self.theta`). */
function storageKeys(target: Expr, targetKey: string, scope: Scope, at: number): Set<string> {
  const keys = new Set([targetKey]);
  if (target.kind !== 'name') return keys;
  let name = target.name;
  for (let i = 0; i < MAX_HOPS; i++) {
    const b = scope.lookup(name, at);
    if (!b || b.kind !== 'assign' || b.op || !b.value || b.unpacked) break;
    const k = b.value.kind === 'name' || b.value.kind === 'attr' ? exprKey(b.value) : undefined;
    if (!k || keys.has(k)) break;
    keys.add(k);
    if (b.value.kind !== 'name') break;
    name = b.value.name;
    at = b.at;
  }
  return keys;
}

interface SquareSum {
  span: Span;
  /** The parameter read: `theta` of `theta[1:]`. */
  base: Expr;
  /** The slice that leaves out the leading row or column (`theta[1:]`, `W[:, 1:]`), absent when the whole parameter is read. */
  slice?: Expr & { kind: 'index' };
  /** The names of the statement that computes it (its strength among them). */
  names: Set<string>;
}

/** Sums of squares in a body (`np.sum(x ** 2)`, `np.sum(np.square(x))`, `x.T @ x`, `np.dot(x, x)`), with what x reads. */
function squareSums(facts: Facts, body: Stmt[]): SquareSum[] {
  const out: SquareSum[] = [];
  const index = programIndex(facts);
  forEachStmtExpr(body, (stmt, root) => {
    walk(root, (e) => {
      const operand = squaredOperand(e);
      if (!operand) return;
      const scope = index.scopeAt(operand.span.start);
      const read = stripView(valueOf(operand, scope, operand.span.start) ?? operand);
      const names = namesIn(root);
      if (stmt.kind === 'assign') for (const t of stmt.targets) names.delete(exprKey(t) ?? '');
      if (read.kind === 'index') {
        if (exemptsLeading(read)) out.push({ span: e.span, base: read.object, slice: read, names });
        return;
      }
      if (read.kind === 'name' || read.kind === 'attr') out.push({ span: e.span, base: read, names });
    });
  });
  return out;
}

/** The x of a sum of squares, when both factors are the same expression. */
function squaredOperand(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '@') return same(stripTranspose(e.left), e.right);
  if (e.kind !== 'call') return undefined;
  const callee = e.callee;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  if (!name) return undefined;
  if (DOT_FUNCTIONS.has(name) && e.args.length === 2) return same(stripTranspose(e.args[0]), e.args[1]);
  // `x.T.dot(x)`, `x.dot(x)`
  if (callee.kind === 'attr' && MATRIX_PRODUCT_METHODS.has(name) && e.args.length === 1) return same(stripTranspose(callee.object), e.args[0]);
  if (SUM_FUNCTIONS.has(name)) {
    const arg = callee.kind === 'attr' && e.args.length === 0 ? callee.object : e.args[0];
    return arg && squared(arg);
  }
  return undefined;
}

/** The x of `x ** 2`, `np.square(x)`, `x.pow(2)` (the catalogue's `squareBase`) or `x * x`. */
function squared(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '*') return same(e.left, e.right);
  return squareBase(e);
}

function same(a: Expr, b: Expr): Expr | undefined {
  const k = exprKey(a);
  return k !== undefined && k === exprKey(b) ? a : undefined;
}

function stripTranspose(e: Expr): Expr {
  return e.kind === 'attr' && e.name === 'T' ? e.object : e;
}

/** `x.T`, `x.flatten()`, `x.ravel()`: the same entries. */
function stripView(e: Expr): Expr {
  if (e.kind === 'attr' && e.name === 'T') return e.object;
  if (e.kind === 'call' && e.args.length === 0 && e.callee.kind === 'attr' && FLATTENING_METHODS.has(e.callee.name)) return e.callee.object;
  return e;
}

/** `theta[1:]`, `theta[1:, :]`, `theta[1:, 0]`: every row but the first; `W[:, 1:]`: every column but the first. Read from the slices' parts in the IR. */
function exemptsLeading(e: Expr & { kind: 'index' }): boolean {
  if (fromSecond(e.index[0])) return true;
  return isWholeAxis(e.index[0]) && fromSecond(e.index[1]);
}

/** `1:` (or `1:None`): every entry of the axis but the first. */
function fromSecond(e: Expr | undefined): boolean {
  if (e?.kind !== 'other' || !e.slice || e.slice[0] !== 'lower') return false;
  const [lower, upper] = e.children;
  if (lower?.kind !== 'num' || lower.value !== 1) return false;
  return e.slice.length === 1 || (e.slice.length === 2 && e.slice[1] === 'upper' && upper?.kind === 'name' && upper.name === 'None');
}

/** `v[0] = 0`, `v[0, :] = 0`, `v[:, 0] = 0`: an element zeroed, a mask written by hand. */
function zeroesAnElement(body: Stmt[]): boolean {
  let found = false;
  forEachStmtExpr(body, (stmt) => {
    if (found || stmt.kind !== 'assign' || stmt.op || stmt.value.kind !== 'num' || stmt.value.value !== 0) return;
    found = stmt.targets.some((t) => t.kind === 'index');
  });
  return found;
}

/** The variables an expression reads (a call's function and its module, `np.sum`, `np`, are none). */
function namesIn(e: Expr): Set<string> {
  const names = new Set<string>();
  const callees = new Set<Expr>();
  walk(e, (x) => {
    if (x.kind === 'call') for (let c: Expr = x.callee; ; c = c.object) {
      callees.add(c);
      if (c.kind !== 'attr') break;
    }
    if (callees.has(x)) return;
    if (x.kind === 'name' || x.kind === 'attr') {
      const k = exprKey(x);
      if (k) names.add(k.replace(/^(self|this)\./, ''));
      const last = x.kind === 'attr' ? lastComponent(x) : undefined;
      if (last) names.add(last);
    }
  });
  return names;
}

function mentions(e: Expr, key: string): boolean {
  let found = false;
  walk(e, (x) => {
    if (!found && exprKey(x) === key) found = true;
  });
  return found;
}

function walk(e: Expr, visit: (e: Expr) => void, depth = 0): void {
  if (depth > 40) return;
  visit(e);
  forEachChild(e, (c) => walk(c, visit, depth + 1));
}

function walkExprs(body: Stmt[], visit: (e: Expr) => void): void {
  forEachStmtExpr(body, (_, root) => walk(root, visit));
}

/** Each statement of a body, nested blocks and loops included (not nested functions), with each expression it holds. */
function forEachStmtExpr(body: Stmt[], visit: (stmt: Stmt, root: Expr) => void, depth = 0): void {
  if (depth > 30) return;
  for (const s of body) {
    switch (s.kind) {
      case 'assign':
        for (const t of s.targets) visit(s, t);
        visit(s, s.value);
        break;
      case 'expr':
        visit(s, s.expr);
        break;
      case 'return':
        if (s.value) visit(s, s.value);
        break;
      case 'for':
        visit(s, s.iter);
        forEachStmtExpr(s.body, visit, depth + 1);
        break;
      case 'block':
        for (const h of s.heads) visit(s, h);
        forEachStmtExpr(s.body, visit, depth + 1);
        break;
      default:
        break;
    }
  }
}
