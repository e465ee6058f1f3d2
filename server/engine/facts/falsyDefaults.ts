// Hyperparameters defaulted with a falsy test where 0 is a setting of its own (NB210):
// `this.momentum = opts.momentum || 0.9`, `wd = wd or 1e-4`, `kwargs.get("dropout") or 0.1`. `||` and
// `or` fall back on any falsy value, so an explicit 0 (plain SGD, no decay, no dropout) is replaced by
// the default, silently.
//
// Decided by data flow, from the places where 0 means something back to the value's definition:
// - the factor on a state's old value in its own update, T ← β·T + … (a momentum or moving-average
//   coefficient: optimizerSteps.ts's states, and a state stored from a local that reads its old value,
//   `change = lr * g + mom * prev; w += change; prev = change`, which is not a step there);
// - the shrink of a parameter's own value, w ← (1 − η·λ)·w, by a factor the gradient's term does not
//   read (λ, not the learning rate η);
// - a framework dropout's drop rate (catalogue.ts `dropoutRateParameter`) and a framework optimizer's
//   `momentum` / `weight_decay` keyword (`zeroMeaningfulOptimizerKeywords`).
// From such a read the value is followed through locals, `self.x` / `this.x` fields set anywhere in the
// class, an object or dict literal's entry, and a project function that returns one (`this.opts =
// resolve(options)` with `return { inertia: o.inertia || 0.5 }`), to a `X || d` / `X or d` with a
// positive number d and X a read of an option (a name, a field, an entry, `.get(k)`). A learning rate,
// a clipping norm, an epoch count or a batch size reaches none of these places and stays silent; so do
// `??`, `typeof x !== 'undefined' ? x : d`, `x if x is not None else d` and a default of 0.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef, Scope } from './scope';
import { regGradientTerms } from './gradients';
import { lossFacts } from './losses';
import { ENTRY_GETTER, ENTRY_SETTER, OPTION_GET_FUNCTION, OPTION_GET_METHOD, dropoutRateParameter, frameworkPath, isNoneLiteral, isNumericConversion, mayNameDropoutApi, zeroMeaningfulKeyword, zeroMeaningfulOptimizerKeywords } from './catalogue';
import { exprKey } from './keys';
import { howStepDivides, optimizerSteps } from './optimizerSteps';
import { definedInFile, ownStatements, programIndex, walkAll } from './program';
import { resolveCall } from './resolve';
import { returnedDictEntry } from './returnedDicts';
import { mentions, type Poly } from '../../math/poly';

export type ZeroMeaning = 'momentum' | 'decay' | 'penalty' | 'dropout';

export interface FalsyDefault {
  /** `opts.momentum || 0.9` as written (a value of its own: an assignment's, an entry's, an argument's). */
  expr: Expr & { kind: 'other' };
  /** `opts.momentum`. */
  option: Expr;
  /** `0.9`. */
  fallback: Expr & { kind: 'num' };
  meaning: ZeroMeaning;
  /** Where the value is read with that meaning. */
  use: Span;
  /** What it weighs there: the state or parameter as written, or the API and its keyword. */
  target: string;
  /** The framework keyword it is given to (`momentum`, `weight_decay`, `rate`), for a framework call. */
  keyword?: string;
}

interface Sink {
  expr: Expr;
  scope: Scope;
  at: number;
  meaning: ZeroMeaning;
  use: Span;
  target: string;
  keyword?: string;
}

const cache = new WeakMap<Facts, FalsyDefault[]>();

export function falsyDefaults(facts: Facts): FalsyDefault[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

/** How many definitions a value is followed through (a local, a field, an entry, a returned dict). */
const MAX_HOPS = 6;

function collect(facts: Facts): FalsyDefault[] {
  const sinks = [...stepSinks(facts), ...carriedSinks(facts), ...frameworkSinks(facts)];
  if (sinks.length === 0) return [];
  const out = new Map<Expr, FalsyDefault>();
  for (const s of sinks) {
    const found: (Expr & { kind: 'other' })[] = [];
    sources(facts, s.expr, s.scope, s.at, 0, found, new Set());
    for (const e of found) {
      if (out.has(e)) continue;
      out.set(e, { expr: e, option: e.children[0], fallback: e.children[1] as Expr & { kind: 'num' }, meaning: s.meaning, use: s.use, target: s.target, ...(s.keyword ? { keyword: s.keyword } : {}) });
    }
  }
  return [...out.values()];
}

/** `X || d`, `X or d`: X a read of an option, d a positive number. */
export function falsyDefault(e: Expr): (Expr & { kind: 'other' }) | undefined {
  if (e.kind !== 'other' || e.ops?.length !== 1 || e.ops[0] !== 'or' || e.children.length !== 2) return undefined;
  const [option, fallback] = e.children;
  if (fallback.kind !== 'num' || !(fallback.value > 0)) return undefined;
  return isOptionRead(option) ? e : undefined;
}

/** A name, a field, an entry, `d.get(k)` / `d.get(k, None)`, `getattr(o, "k", None)`: a value that may be absent. */
function isOptionRead(e: Expr): boolean {
  if (e.kind === 'name') return !e.receiver;
  if (e.kind === 'attr' || e.kind === 'index') return exprKey(e) !== undefined;
  if (e.kind !== 'call' || e.kwargs.length > 0) return false;
  const noneOrAbsent = (x: Expr | undefined): boolean => x === undefined || isNoneLiteral(x);
  if (e.callee.kind === 'attr' && e.callee.name === OPTION_GET_METHOD && e.args.length >= 1 && e.args.length <= 2 && e.args[0].kind === 'str') return noneOrAbsent(e.args[1]);
  if (e.callee.kind === 'name' && e.callee.name === OPTION_GET_FUNCTION && (e.args.length === 2 || e.args.length === 3) && e.args[1].kind === 'str') return noneOrAbsent(e.args[2]);
  return false;
}


/** The `X || d` definitions the value of `e` (read at `at` in `scope`) may come from. */
function sources(facts: Facts, e: Expr, scope: Scope, at: number, hops: number, out: (Expr & { kind: 'other' })[], seen: Set<Expr>): void {
  if (hops > MAX_HOPS || seen.has(e)) return;
  seen.add(e);
  const falsy = falsyDefault(e);
  if (falsy) {
    out.push(falsy);
    return;
  }
  if (e.kind === 'call' && e.callee.kind === 'name' && isNumericConversion(e.callee.name) && e.args.length === 1 && e.kwargs.length === 0) {
    sources(facts, e.args[0], scope, at, hops + 1, out, seen);
    return;
  }
  for (const v of valuesOf(facts, e, scope, at, hops)) sources(facts, v.expr, v.scope, v.at, hops + 1, out, seen);
}

interface Held {
  expr: Expr;
  scope: Scope;
  at: number;
}

/** What a name, a field or an entry may hold: its binding's value, every write of the field in its class, the container's entry. */
function valuesOf(facts: Facts, e: Expr, scope: Scope, at: number, hops: number): Held[] {
  if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return [];
  const key = exprKey(e);
  if (key === undefined) return [];
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    return b && b.kind === 'assign' && !b.op && b.value ? [{ expr: b.value, scope: b.scope, at: b.at }] : [];
  }
  if (key.startsWith('self.') || key.startsWith('this.')) {
    const members = classScopeOf(scope)?.members.get(key);
    if (members && members.length > 0) return members.filter((b) => b.kind === 'assign' && !b.op && b.value).map((b) => ({ expr: b.value!, scope: b.scope, at: b.at }));
  }
  // An entry of a container: the container's values that are literals, or calls of a project function returning one.
  const entry = e.kind === 'attr' ? e.name : e.index.length === 1 && e.index[0].kind === 'str' ? e.index[0].value : undefined;
  if (entry === undefined || hops >= MAX_HOPS) return [];
  const held: Held[] = [];
  for (const c of valuesOf(facts, e.object, scope, at, hops + 1)) {
    if (c.expr.kind === 'object') {
      const entries = c.expr.entries.filter((x) => x.name === entry);
      if (entries.length === 1) held.push({ expr: entries[0].value, scope: c.scope, at: c.at });
    } else if (c.expr.kind === 'call') {
      const target = resolveCall(facts.program, c.expr, c.scope, c.at);
      if (!target || target.built || target.constructs || target.fn.name === 'constructor' || target.fn.name === '__init__') continue;
      const value = returnedDictEntry(facts.program, target.fn, entry);
      if (value) held.push({ expr: value.value, scope: value.scope, at: value.at });
    }
  }
  return held;
}

function classScopeOf(scope: Scope): Scope | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.classScope) return s.classScope;
    if (s.kind === 'class') return s;
  }
  return undefined;
}

// ------------------------------------------------------------------ where 0 means something

/** The symbols of a poly's monomials with a positive coefficient, read to the first power. */
function factorSymbols(p: Poly, sign: 1 | -1): string[] {
  const out: string[] = [];
  for (const m of p) {
    if (m.fs.length === 0 || Math.sign(m.c) !== sign) continue;
    for (const f of m.fs) if (f.atom.k === 'sym' && f.n === 1) out.push(f.atom.key);
  }
  return out;
}

/**
 * The read in a body (a function's, or the module's) of an expression whose key is `key` that the use at
 * `use` sees: the last one that starts before the use ends (the first read when none does). Not the
 * first read of the body: in `reg = reg or 1e-3` that is the option read itself, before the rebinding.
 */
function readOf(body: Stmt[], key: string, memo: Map<Stmt[], Map<string, Expr[]>>, use: Span): Expr | undefined {
  let reads = memo.get(body);
  if (!reads) {
    const found = new Map<string, Expr[]>();
    walkAll(body, (x) => {
      if (x.kind !== 'name' && x.kind !== 'attr' && x.kind !== 'index') return;
      const k = exprKey(x);
      if (k === undefined) return;
      const list = found.get(k);
      if (list) list.push(x);
      else found.set(k, [x]);
    });
    memo.set(body, (reads = found));
  }
  const list = reads.get(key);
  if (!list) return undefined;
  let best: Expr | undefined;
  for (const x of list) if (x.span.start <= use.end && (!best || x.span.start > best.span.start)) best = x;
  return best ?? list[0];
}

/**
 * Optimizer steps: the one factor β on a state's old value (T ← β·T + …, a state whose self-coefficient
 * is a product of symbols), and the factor λ in a parameter's shrink (1 − η·λ) that its gradient's
 * term does not read.
 */
function stepSinks(facts: Facts): Sink[] {
  const out: Sink[] = [];
  const index = programIndex(facts);
  const memo = new Map<Stmt[], Map<string, Expr[]>>();
  const add = (body: Stmt[], key: string, meaning: ZeroMeaning, use: Span, target: string): void => {
    const read = readOf(body, key, memo, use);
    // A weight the model learns is no setting of the user's.
    if (read && !facts.analyzer.isParam(read)) out.push({ expr: read, scope: index.scopeAt(read.span.start), at: read.span.start, meaning, use, target });
  };
  for (const step of optimizerSteps(facts)) {
    for (const [key, st] of step.states) {
      // β·T only: 1 − α on the old value makes α = 0 a state that never moves; a rescale by a
      // quotient or a function of the data (`g * (clip / norm)`) is no carried fraction. A state the
      // step divides by (Adam's second moment, RMSprop's mean square) with β = 0 normalizes by the
      // last gradient alone, a sign step nobody asks for: only the numerator's β counts.
      if (howStepDivides(step, key) !== undefined) continue;
      // A state that only shrinks by its factor (`lr = lr * decay`, an ε-greedy schedule) carries nothing: 0 there zeroes it.
      if (st.adds.length === 0) continue;
      // One factor β alone: a product of two values on the old one (`gain * weight` on an eligibility trace) is no
      // coefficient a user sets.
      if (!st.self || st.self.length !== 1 || st.max || st.self[0].c <= 0 || st.self[0].fs.length !== 1 || st.self[0].fs[0].atom.k !== 'sym' || st.self[0].fs[0].n !== 1) continue;
      for (const beta of factorSymbols(st.self, 1)) add(step.fn.body, beta, 'momentum', st.eq.spans[0], facts.source(st.eq.target.span));
    }
    for (const p of step.params) {
      if (p.self.length < 2 || !p.self.some((m) => m.fs.length === 0 && m.c === 1)) continue;
      for (const key of factorSymbols(p.self, -1)) if (!mentions(p.step, key)) add(step.fn.body, key, 'decay', p.eq.spans[0], facts.source(p.eq.target.span));
    }
  }
  // The strength of a decay term in a parameter's update or gradient (`dW + wd * W`), the learning rate divided out.
  for (const t of regGradientTerms(facts)) {
    if ((t.kind !== 'linear' && t.kind !== 'sign') || t.foreign || !t.coef) continue;
    const body = index.enclosingFunction(t.site.scope)?.body ?? facts.module.body;
    for (const x of t.coef.syms) if (x.pow === 1) add(body, x.name, 'decay', t.site.span, facts.source(t.site.target.span));
  }
  // A factor λ of a term λ·W in W's own update or gradient (`W -= lr * (dW + wd * W)`, `dW += reg * W`,
  // `W = W * (1 - lr * wd) - lr * dW`) that no other term reads: not the learning rate the gradient's term shares.
  for (const site of facts.updates) {
    if (site.kind !== 'update' && site.kind !== 'gradient') continue;
    const body = index.enclosingFunction(site.scope)?.body ?? facts.module.body;
    const keyOf = (e: Expr): string | undefined => exprKey(e);
    const isOwn = (e: Expr): boolean => (site.kind === 'update' ? keyOf(e) === keyOf(site.target) : facts.analyzer.isParam(e));
    const factorKeys = (sm: (typeof site.increment)[number]): string[] => sm.num.flatMap((f) => (f.expr.kind === 'name' || f.expr.kind === 'attr' || f.expr.kind === 'index' ? [keyOf(f.expr) ?? []].flat() : []));
    const others = new Set<string>();
    const candidates: string[] = [];
    for (const sm of site.increment) {
      if (sm.num.some((f) => isOwn(f.expr))) {
        for (const f of sm.num) if (!isOwn(f.expr) && (f.expr.kind === 'name' || f.expr.kind === 'attr' || f.expr.kind === 'index')) candidates.push(keyOf(f.expr)!);
      } else for (const k of factorKeys(sm)) others.add(k);
    }
    const self = site.selfFactor;
    if (site.kind === 'update' && self && self.kind === 'binary' && self.op === '-' && self.left.kind === 'num' && self.left.value === 1)
      for (const f of productFactors(self.right)) if (f.kind === 'name' || f.kind === 'attr' || f.kind === 'index') candidates.push(keyOf(f)!);
    if (site.kind === 'update' && others.size === 0) continue;
    for (const k of candidates) if (k !== undefined && !others.has(k)) add(body, k, 'decay', site.span, facts.source(site.target.span));
  }
  // The strength of a penalty the loss adds.
  for (const p of lossFacts(facts).penalties) {
    const body = p.site.fn?.body ?? facts.module.body;
    for (const x of p.coef.syms) if (x.pow === 1) add(body, x.name, 'penalty', p.span, facts.source(p.param.expr.span));
  }
  return out;
}

const stripLazyZero = (e: Expr): Expr =>
  e.kind === 'other' && e.ops?.length === 1 && (e.ops[0] === '??' || e.ops[0] === 'or') && e.children.length === 2 && e.children[1].kind === 'num' && e.children[1].value === 0 ? e.children[0] : e;

/** The factors of a product as written. */
function productFactors(e: Expr, out: Expr[] = [], depth = 0): Expr[] {
  if (depth < 16 && e.kind === 'binary' && e.op === '*') {
    productFactors(e.left, out, depth + 1);
    productFactors(e.right, out, depth + 1);
  } else out.push(e);
  return out;
}

/** The summands of a sum or difference as written. */
function summands(e: Expr, out: Expr[] = [], depth = 0): Expr[] {
  if (depth < 16 && e.kind === 'binary' && (e.op === '+' || e.op === '-')) {
    summands(e.left, out, depth + 1);
    summands(e.right, out, depth + 1);
  } else out.push(e);
  return out;
}

/**
 * A field or entry stored with a value (written there, or in a local it copies) that adds β times its
 * own old value: `prev[i] = change` after `change = rate * g[i] + inertia * prev[i]`. The optimizer
 * steps read the written-out form; this reads the form through a local, whose evaluation order they
 * do not take for a step.
 */
function carriedSinks(facts: Facts): Sink[] {
  const out: Sink[] = [];
  const index = programIndex(facts);
  for (const fn of index.functions) {
    if (!definedInFile(facts, fn)) continue;
    let applied: Map<string, Set<string>> | undefined;
    for (const st of ownStatements(fn.body)) {
      // `prev[i] = change`, or through an accessor pair: `deltas.set(i, o, change)` read back as `deltas.get(i, o)`.
      let t: Expr | undefined;
      let stored: Expr | undefined;
      if (st.kind === 'assign' && !st.op && st.targets.length === 1 && (st.targets[0].kind === 'attr' || st.targets[0].kind === 'index')) [t, stored] = [st.targets[0], st.value];
      else if (st.kind === 'expr' && st.expr.kind === 'call' && st.expr.callee.kind === 'attr' && st.expr.callee.name === ENTRY_SETTER && st.expr.args.length >= 2 && st.expr.kwargs.length === 0)
        [t, stored] = [st.expr, st.expr.args[st.expr.args.length - 1]];
      if (!t || !stored || stored.kind !== 'name') continue;
      const key = placeKey(t);
      if (key === undefined || key.includes('[?]')) continue;
      const b = index.scopeAt(st.span.start).lookup(stored.name, st.span.start);
      if (!b || b.kind !== 'assign' || b.op || !b.value || index.enclosingFunction(b.scope) !== fn) continue;
      // The carried change is applied to something else in the same function (`w[i] += change`): a moving
      // average kept only to be read (a smoothed loss for a log) is no step, and 0 there is no setting of training.
      applied ??= appliedLocals(fn, index);
      if (![...(applied.get(stored.name) ?? [])].some((k) => k !== key)) continue;
      const value = b.value;
      // The old value read directly, or through a local of this function that copies it (`var change = this.changes[i]`).
      const readsOld = (x: Expr): boolean => {
        const e = stripLazyZero(x);
        if (placeKey(e) === key) return true;
        if (e.kind !== 'name') return false;
        const c = index.scopeAt(e.span.start).lookup(e.name, e.span.start);
        return c !== undefined && c.kind === 'assign' && !c.op && c.value !== undefined && index.enclosingFunction(c.scope) === fn && placeKey(stripLazyZero(c.value)) === key;
      };
      const terms = summands(value);
      // β·T alone is a rescale, not a carried fraction beside a new term.
      if (terms.length < 2) continue;
      const target = t.kind === 'call' && t.callee.kind === 'attr' ? facts.source(t.callee.object.span) : facts.source(t.span);
      for (const term of terms) {
        if (term.kind !== 'binary' || term.op !== '*') continue;
        const [own, factor] = readsOld(term.left) ? [term.left, term.right] : readsOld(term.right) ? [term.right, term.left] : [undefined, undefined];
        if (!own || !factor || (factor.kind !== 'name' && factor.kind !== 'attr' && factor.kind !== 'index') || facts.analyzer.isParam(factor)) continue;
        out.push({ expr: factor, scope: index.scopeAt(factor.span.start), at: factor.span.start, meaning: 'momentum', use: st.span, target });
      }
    }
  }
  return out;
}

/**
 * The locals a function's own statements add to a stored place's old value, with those places' keys:
 * `w[i] += change`, `w[i] = w[i] - change`, `weights.set(i, j, weights.get(i, j) + change)`, also through
 * a local of the function holding the new value (`next = weights.get(i, j) + change; weights.set(i, j, next)`).
 */
function appliedLocals(fn: FunctionDef, index: ReturnType<typeof programIndex>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const note = (place: string | undefined, terms: Expr[]): void => {
    if (place === undefined) return;
    for (const t of terms) if (t.kind === 'name') (out.get(t.name) ?? out.set(t.name, new Set()).get(t.name)!).add(place);
  };
  // The value stored, or the value of the local of this function it stores.
  const newValue = (v: Expr, at: number): Expr => {
    if (v.kind !== 'name') return v;
    const b = index.scopeAt(at).lookup(v.name, at);
    return b && b.kind === 'assign' && !b.op && b.value && index.enclosingFunction(b.scope) === fn ? b.value : v;
  };
  const addsToOld = (place: string | undefined, v: Expr): void => {
    const terms = summands(v);
    if (place !== undefined && terms.some((t) => placeKey(t) === place)) note(place, terms);
  };
  for (const st of ownStatements(fn.body)) {
    if (st.kind === 'assign' && st.targets.length === 1 && (st.targets[0].kind === 'attr' || st.targets[0].kind === 'index')) {
      const place = placeKey(st.targets[0]);
      if (st.op === '+' || st.op === '-') note(place, summands(st.value));
      else if (!st.op) addsToOld(place, newValue(st.value, st.span.start));
    } else if (st.kind === 'expr' && st.expr.kind === 'call' && st.expr.callee.kind === 'attr' && st.expr.callee.name === ENTRY_SETTER && st.expr.args.length >= 2 && st.expr.kwargs.length === 0)
      addsToOld(placeKey(st.expr), newValue(st.expr.args[st.expr.args.length - 1], st.span.start));
  }
  return out;
}


/** A stored place's key: a field or entry (`prev[i]`), or an accessor's entry (`deltas.set(i, o, v)` and `deltas.get(i, o)` alike). */
function placeKey(e: Expr): string | undefined {
  if (e.kind !== 'call') return exprKey(e);
  if (e.callee.kind !== 'attr' || e.kwargs.length > 0) return undefined;
  const indices = e.callee.name === ENTRY_SETTER ? e.args.slice(0, -1) : e.callee.name === ENTRY_GETTER ? e.args : undefined;
  if (!indices || indices.length === 0) return undefined;
  const object = exprKey(e.callee.object);
  const keys = indices.map((x) => (x.kind === 'num' ? String(x.value) : x.kind === 'str' ? JSON.stringify(x.value) : exprKey(x)));
  return object === undefined || keys.some((k) => k === undefined) ? undefined : `${object}.entry(${keys.join(', ')})`;
}

/** A framework dropout's drop rate; a framework optimizer's `momentum` and `weight_decay` keywords. */
function frameworkSinks(facts: Facts): Sink[] {
  const out: Sink[] = [];
  const language = facts.language === 'python' ? 'python' : 'script';
  for (const site of programIndex(facts).calls) {
    const { call } = site;
    if (call.callee.kind !== 'attr' && call.callee.kind !== 'name') continue;
    const last = call.callee.name;
    const dropout = mayNameDropoutApi(last);
    const keywords = call.kwargs.filter((k) => zeroMeaningfulKeyword(k.name) !== undefined);
    if (!dropout && keywords.length === 0) continue;
    const path = frameworkPath(call.callee, site.scope, site.at, facts.scopes.imports, language);
    if (!path) continue;
    const api = facts.source(call.callee.span);
    if (dropout) {
      const spec = dropoutRateParameter(path);
      if (spec) {
        let arg: Expr | undefined;
        if (spec.config) {
          const config = call.args[0];
          arg = config?.kind === 'object' ? config.entries.find((e) => e.name === spec.keyword)?.value : undefined;
        } else arg = call.kwargs.find((k) => k.name === spec.keyword)?.value ?? (spec.position !== undefined ? call.args[spec.position] : undefined);
        if (arg) out.push({ expr: arg, scope: site.scope, at: site.at, meaning: 'dropout', use: arg.span, target: api, keyword: spec.keyword });
      }
    }
    if (keywords.length > 0) {
      const meaningful = zeroMeaningfulOptimizerKeywords(path);
      for (const k of keywords)
        if (k.name && meaningful.includes(k.name)) out.push({ expr: k.value, scope: site.scope, at: site.at, meaning: zeroMeaningfulKeyword(k.name)!, use: k.value.span, target: api, keyword: k.name });
    }
  }
  return out;
}
