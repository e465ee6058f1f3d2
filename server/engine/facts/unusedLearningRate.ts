// A learning rate a training function takes and never reads (NB404): `fit(self, X, Y, lr=0.1)` or
// `let lr = 0.5; if (settings.lr !== undefined) lr = settings.lr;`, then `W = W + dW` with dW the
// gradient the function computes. Whatever rate the caller passes, every step has the size of the
// raw gradient.
//
// Decided by data flow in the function that writes the update:
// - the rate is one of its parameters, or a local it sets from its parameters (`settings.lr`), and
//   nothing in the function reads it (only its own assignments name it; a nested function or a
//   lambda that reads it counts as a read);
// - the function reads no other learning rate (`self.lr`, `group['lr']`, `eta`), and neither does a
//   method of the program that the update's value calls (a `backward` that applies `self.lr`);
// - each update of a parameter adds a gradient the function computes (`dW = X.T @ err / len(X)`),
//   not a step a caller hands in, and on the way to it nothing scales by a number other than ±1 and ±2
//   (a hard-coded `0.01` is a rate under no name) or by a scalar other than a count of examples
//   (`rate * g`), and nothing solves a linear system (Newton's step needs no rate).
// The name of the rate is the last resort (roles.ts): `lr`, `learning_rate`, `eta`, not `alpha`,
// which also names penalties and slopes.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { Binding, FunctionDef, Scope } from './scope';
import { explicitParams, forEachChild, someExpr } from './scope';
import { ownStatements, programIndex, spanKey, walkAll } from './program';
import { baseExpr, exprKey } from './keys';
import { resolveCall } from './resolve';
import { isLearningRateName, isPlainLearningRateName, isSizeSymbol } from './roles';
import { emptyJsArray, isLinearSolve } from './catalogue';

export interface UnusedLearningRate {
  fn: FunctionDef;
  /** The rate's name. */
  name: string;
  /** Where it is taken: the parameter, or the local's assignment from the settings. */
  taken: Span;
  /** Where its name is written there: the parameter's name, or the local's as the assignment's target (undefined when not found). */
  nameSpan: Span | undefined;
  /** A parameter of the function, rather than a local set from one. */
  parameter: boolean;
  /** The updates that add the raw gradient. */
  sites: UpdateSite[];
}

const cache = new WeakMap<Facts, UnusedLearningRate[]>();

export function unusedLearningRates(facts: Facts): UnusedLearningRate[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): UnusedLearningRate[] {
  const index = programIndex(facts);
  const byFn = new Map<FunctionDef, UpdateSite[]>();
  for (const site of facts.updates) {
    if (site.kind !== 'update' || site.selfFactor || site.movingAverage || site.upstream || site.increment.length === 0) continue;
    const key = exprKey(baseExpr(site.target));
    if (key === undefined || !facts.params.has(key)) continue;
    const fn = index.enclosingFunction(site.scope);
    if (!fn) continue;
    const list = byFn.get(fn) ?? [];
    list.push(site);
    byFn.set(fn, list);
  }
  const out: UnusedLearningRate[] = [];
  for (const [fn, sites] of byFn) {
    const knob = takenRate(facts, fn);
    if (!knob) continue;
    if (readsAnyRate(fn, knob.name, knob.bindings)) continue;
    // Updates by a value computed inline (`Z = Z - Z.max()`, a shift) say nothing; one scaled on the way says a rate is applied.
    const judged = sites.map((s) => ({ s, raw: addsRawGradient(facts, fn, s) })).filter((x) => x.raw !== undefined);
    if (judged.length === 0 || judged.some((x) => !x.raw)) continue;
    out.push({ fn, name: knob.name, taken: knob.taken, nameSpan: knob.nameSpan, parameter: knob.parameter, sites: judged.map((x) => x.s) });
  }
  return out;
}

/** The function's own learning rate: a parameter so named, or a local it sets from one of its parameters. */
function takenRate(facts: Facts, fn: FunctionDef): { name: string; taken: Span; nameSpan: Span | undefined; parameter: boolean; bindings: Binding[] } | undefined {
  const params = explicitParams(fn).filter((p) => !p.rest);
  const bindingsOf = (name: string): Binding[] => (fn.scope.bindings.get(name) ?? []).filter((b) => b.scope === fn.scope);
  for (const p of params) {
    if (isPlainLearningRateName(p.name)) return { name: p.name, taken: p.span, nameSpan: p.span, parameter: true, bindings: bindingsOf(p.name).filter((b) => b.kind !== 'param') };
  }
  const names = new Set(params.map((p) => p.name));
  for (const [name, list] of fn.scope.bindings) {
    if (!isPlainLearningRateName(name) || names.has(name)) continue;
    const own = list.filter((b) => b.scope === fn.scope);
    if (own.length === 0 || own.some((b) => b.kind !== 'assign' || b.op || !b.value)) continue;
    // Set from what the caller hands in (`lr = settings.lr`, `lr = opts.lr ?? 0.5`).
    const fromCaller = own.find((b) => readsName(b.value!, names));
    if (fromCaller) return { name, taken: fromCaller.span, nameSpan: targetNamed(facts, fromCaller.span, name)?.span, parameter: false, bindings: own };
  }
  return undefined;
}

/** The target `name` of the assignment at `span` (`lr = settings.lr`). */
function targetNamed(facts: Facts, span: Span, name: string): Expr | undefined {
  const st = programIndex(facts).stmtBySpan.get(spanKey(span));
  if (st?.kind !== 'assign') return undefined;
  const named = (t: Expr): Expr | undefined => (t.kind === 'name' && t.name === name ? t : t.kind === 'seq' ? t.items.map(named).find((x) => x) : undefined);
  return st.targets.map(named).find((x) => x);
}

function readsName(e: Expr, names: Set<string>): boolean {
  return someExpr(e, (x) => x.kind === 'name' && names.has(x.name));
}

/**
 * Does the function read the rate, or any learning rate? The rate's own assignments name it as
 * targets (one name each) and read the settings (`settings.lr`), which are not counted.
 */
function readsAnyRate(fn: FunctionDef, name: string, bindings: Binding[]): boolean {
  const assignedValues = new Set(bindings.flatMap((b) => (b.value ? [b.value] : [])));
  if (bindings.some((b) => b.kind !== 'assign' || b.op)) return true;
  // The setting the rate is read from (`settings.lr`), also where a test asks whether it is given.
  const settings = new Set<string>();
  for (const v of assignedValues) {
    const visit = (x: Expr): void => {
      const key = (x.kind === 'attr' || x.kind === 'index') && exprKey(x);
      if (key) settings.add(key);
      forEachChild(x, visit);
    };
    visit(v);
  }
  let named = 0;
  let otherRate = false;
  const inValue = new Set<Expr>();
  walkAll(fn.body, (x) => {
    if (assignedValues.has(x) || inValue.has(x)) {
      forEachChild(x, (c) => void inValue.add(c));
      return;
    }
    if ((x.kind === 'attr' || x.kind === 'index') && settings.has(exprKey(x) ?? '')) return;
    if (x.kind === 'name' && x.name === name) named++;
    else if (x.kind === 'name' && isLearningRateName(x.name)) otherRate = true;
    else if (x.kind === 'attr' && isLearningRateName(x.name)) otherRate = true;
    else if (x.kind === 'index' && x.index.length === 1 && x.index[0].kind === 'str' && isLearningRateName(x.index[0].value)) otherRate = true;
  });
  // Each assignment's target is one mention; anything more is a read.
  return otherRate || named > bindings.length;
}

/**
 * The update adds a gradient the function computes: every summand is one value the function computes
 * (`dW = X.T @ err / len(X)`, not a step a caller hands in), and nothing on the way scales it by a
 * number other than ±1 and ±2 or by a scalar other than a count of examples (`rate * g` is a learning
 * rate under another name), or calls a method of the program that reads a learning rate, or solves a
 * linear system (Newton's step needs no rate).
 */
function addsRawGradient(facts: Facts, fn: FunctionDef, site: UpdateSite): boolean | undefined {
  const params = new Set(explicitParams(fn).map((p) => p.name));
  let writes: Map<string, { value: Expr; scope: Scope; at: number }[]> | undefined;
  for (const s of site.increment) {
    if (s.den.length > 0 || s.num.length !== 1) return false;
    const f = s.num[0];
    // `dW`, or an entry of it (`grad[i][j]`).
    const base = baseExpr(f.expr);
    if (base.kind !== 'name' || f.env) return undefined;
    if (base !== f.expr && f.expr.kind !== 'index') return undefined;
    if (params.has(base.name) || !computedLocal(f.scope, base.name, f.at)) return false;
    writes ??= entryWrites(facts, fn);
    if (!plainChain(facts, fn, f.expr, f.scope, f.at, writes)) return false;
  }
  return true;
}

/** Writes of entries or fields of the function's locals (`grad[i][j] += x[i] * err[j]`), by the local's name. */
function entryWrites(facts: Facts, fn: FunctionDef): Map<string, { value: Expr; scope: Scope; at: number }[]> {
  const out = new Map<string, { value: Expr; scope: Scope; at: number }[]>();
  const index = programIndex(facts);
  for (const st of ownStatements(fn.body)) {
    if (st.kind !== 'assign') continue;
    for (const t of st.targets) {
      if (t.kind !== 'index' && t.kind !== 'attr') continue;
      const base = baseExpr(t);
      if (base.kind !== 'name') continue;
      const list = out.get(base.name) ?? [];
      list.push({ value: st.value, scope: index.scopeAt(st.span.start), at: st.span.start });
      out.set(base.name, list);
    }
  }
  return out;
}

/** A local the function computes (`dW = X.T @ err / m`), not a copy of a parameter or a loop variable. */
function computedLocal(scope: Scope, name: string, at: number): boolean {
  const b = scope.lookup(name, at);
  if (b?.kind !== 'assign' || b.op || !b.value) return false;
  return b.value.kind === 'call' || b.value.kind === 'binary' || b.value.kind === 'unary';
}

/** The value and the function's locals it is computed from (a few levels), read as `addsRawGradient` says. */
function plainChain(facts: Facts, fn: FunctionDef, root: Expr, scope: Scope, at: number, writes: Map<string, { value: Expr; scope: Scope; at: number }[]>): boolean {
  const followed = new Set<string>();
  const data = new Set(explicitParams(fn).filter((p) => !p.default && !p.rest).map((p) => p.name));
  const seen = new Set<Binding>();
  const queue: { e: Expr; scope: Scope; at: number; depth: number }[] = [{ e: root, scope, at, depth: 0 }];
  let steps = 0;
  while (queue.length > 0) {
    const item = queue.pop()!;
    if (++steps > 200) return false;
    let ok = true;
    const scaled = (x: Expr): boolean => {
      // A sign (`-1`, `mx.scale(out, -1)`) is no step size.
      if (x.kind === 'num') return Math.abs(x.value) !== 1 && Math.abs(x.value) !== 2;
      // The data a function is handed (`X`, `X.T`, `inputs[n][i]`: a parameter with no default) is no step size.
      const base = baseExpr(x);
      if (base.kind === 'name' && data.has(base.name) && item.scope.lookup(base.name, item.at)?.kind === 'param') return false;
      if (!facts.analyzer.isScalar(x)) return false;
      const c = facts.analyzer.classify(x, item.scope, item.at).coef;
      return !(Math.abs(c.num) === 1 || Math.abs(c.num) === 2) || !c.syms.every((y) => isSizeSymbol(y.name));
    };
    // A callback mapped over the entries (`m.activateMat(g, function (x) { return 1. * x / n; })`):
    // what it multiplies its own entry by counts as on the way; the entry itself is no factor.
    const unscaledCallback = (l: Expr & { kind: 'lambda' }): boolean => {
      const own = new Set(l.params.map((p) => p.name));
      const mentionsOwn = (y: Expr): boolean => someExpr(y, (z) => z.kind === 'name' && own.has(z.name));
      let fine = true;
      const check = (e: Expr): void => {
        if (!fine || e.kind === 'lambda' || e.kind === 'comprehension') return;
        if (e.kind === 'binary' && (e.op === '*' || e.op === '/') && [e.left, e.right].some((y) => !mentionsOwn(y) && scaled(y))) fine = false;
        else forEachChild(e, check);
      };
      const bodies = l.body ? [l.body] : l.stmts.flatMap((st) => (st.kind === 'return' && st.value ? [st.value] : []));
      bodies.forEach(check);
      return fine;
    };
    const visit = (x: Expr): void => {
      if (!ok || x.kind === 'comprehension') return;
      if (x.kind === 'lambda') {
        if (!unscaledCallback(x)) ok = false;
        return;
      }
      if (x.kind === 'binary' && (x.op === '*' || x.op === '/') && (scaled(x.left) || scaled(x.right))) ok = false;
      else if (x.kind === 'call') {
        // `new Array(n)` holds no value: its argument is a length.
        if (emptyJsArray(x)) return;
        const name = x.callee.kind === 'attr' ? x.callee.name : x.callee.kind === 'name' ? x.callee.name : undefined;
        if (name !== undefined && isLinearSolve(name)) ok = false;
        const target = resolveCall(facts.program, x, item.scope, item.at);
        if (target?.fn && readsRateInside(target.fn)) ok = false;
        if (x.args.some(scaled)) ok = false;
        // Keyword arguments (`axis=0`) are settings, not factors.
        forEachChild(x.callee, visit);
        x.args.forEach(visit);
        return;
      } else if (x.kind === 'name' && item.depth < 6) {
        const b = item.scope.lookup(x.name, item.at);
        if (b && b.scope === fn.scope && b.kind === 'assign' && b.value && !seen.has(b)) {
          seen.add(b);
          queue.push({ e: b.value, scope: b.scope, at: b.at, depth: item.depth + 1 });
        }
        // What its entries are given afterwards, in loops that build it.
        if (b && b.scope === fn.scope && !followed.has(x.name)) {
          followed.add(x.name);
          for (const w of writes.get(x.name) ?? []) queue.push({ e: w.value, scope: w.scope, at: w.at, depth: item.depth + 1 });
        }
      }
      if (ok) forEachChild(x, visit);
    };
    visit(item.e);
    if (!ok) return false;
  }
  return true;
}

const ratesInside = new WeakMap<FunctionDef, boolean>();

/** A function of the program that reads a learning rate (`self.lr`, `lr`, `group['lr']`) anywhere in its body. */
function readsRateInside(fn: FunctionDef): boolean {
  let known = ratesInside.get(fn);
  if (known === undefined) {
    known = false;
    walkAll(fn.body, (x) => {
      if ((x.kind === 'name' || x.kind === 'attr') && isLearningRateName(x.name)) known = true;
      else if (x.kind === 'index' && x.index.length === 1 && x.index[0].kind === 'str' && isLearningRateName(x.index[0].value)) known = true;
    });
    ratesInside.set(fn, known);
  }
  return known;
}
