// Regularization-gradient terms: the summands of a step or a gradient that are c·W, c·sign(W),
// c·|W|, c·W/‖W‖ or a bare c, with the parameter W they act on. For an update of W the learning
// rate is divided out, so `W -= lr * (dW + reg * W)`, `dW += reg * W` and
// `W = (1 - lr * reg) * W - lr * dW` all give the gradient term reg·W.
import type { Expr, Span } from '../ir';
import { COMPARISON_OPERATORS } from '../ir';
import type { Coef } from '../../math/terms';
import { coef as makeCoef, div, equalCoef, mul, neg } from '../../math/coef';
import type { Facts } from './index';
import type { ParamOccurrence, Product, Summand } from './analysis';
import type { UpdateSite } from './updates';
import { baseExpr, computedKeyText, exprKey, isKeyedByString, lastComponent } from './keys';
import { ExprWalk, forEachChild, loopIterable, type Binding, type Scope } from './scope';
import { strengthNames } from './strengths';
import { isBiasName, isGradientLike, isLearningRateName, isRegularizationStrengthName, isSizeSymbol, isWeightName, parameterOfGradient } from './roles';
import { penaltyCoefficientNames } from './losses';
import { regularizerGradientSites, regularizerObjects } from './regularizerObjects';
import { ABS_FUNCTIONS, isTensorListMethod, loopSource } from './catalogue';
import { programIndex, spanKey } from './program';
import { withoutStepMasks } from './stepMasks';
import { readsOtherEntry } from './entries';

export type RegGradientKind = 'linear' | 'sign' | 'abs' | 'normalized' | 'const';

export interface RegGradientTerm {
  kind: RegGradientKind;
  /**
   * The term's coefficient as part of a gradient (the learning rate divided out of an update, the
   * update's sign undone): positive when the term pulls W toward zero. Undefined for an update with
   * no recognizable learning rate (`W -= reg * W`), where the factor cannot be read.
   */
  coef?: Coef;
  /** The coefficient as it enters the new value of the updated quantity (target + Σ increment). */
  stepCoef: Coef;
  /** The parameter (for `const`, the one the gradient belongs to, when known). */
  param?: ParamOccurrence;
  /** Identity keys of the parameter, for matching with penalties (see paramIds). */
  ids: string[];
  site: UpdateSite;
  summand: Summand;
  /** Where the term is written. */
  span: Span;
  /** An adaptive denominator (`/ np.sqrt(cache)`) divides the whole step. */
  preconditioned: boolean;
  /** From a scaled self term: `(1 - lr * reg) * W` (the factor's source span). */
  selfScale?: Span;
  /**
   * The term acts on another parameter than the one being updated (or whose gradient this is):
   * `dW += lam * (W - W0)` gives −lam·W0 in W's gradient, which is no penalty gradient of W0.
   */
  foreign: boolean;
}

interface Collected {
  terms: RegGradientTerm[];
  extraSites: UpdateSite[];
  masked: RegGradientTerm[];
}

const cache = new WeakMap<Facts, Collected>();

/** Every regularization-gradient term of the file's updates and gradients. */
export function regGradientTerms(facts: Facts): RegGradientTerm[] {
  return collect(facts).terms;
}

/**
 * Terms that are one only with a comparison factor set aside, `lam * W * ((i + 1) == n)`: the
 * comparison is 0 or 1, so the term's sign is still known, though not whether it applies. Kept
 * apart from `regGradientTerms` for the rules that read a sign only (NB102).
 */
export function maskedRegGradientTerms(facts: Facts): RegGradientTerm[] {
  return collect(facts).masked;
}

/** Update sites the engine does not list: comprehensions and lambdas whose self term is scaled. */
export function scaledSelfSites(facts: Facts): UpdateSite[] {
  return collect(facts).extraSites;
}

function collect(facts: Facts): Collected {
  let found = cache.get(facts);
  if (found) return found;
  const extraSites = [...findScaledSelfSites(facts), ...regularizerGradientSites(facts)];
  const terms: RegGradientTerm[] = [];
  const masked: RegGradientTerm[] = [];
  for (const site of [...facts.updates, ...extraSites]) {
    for (const s of site.increment) {
      const t = classifyTerm(facts, site, s) ?? maskedStepTerm(facts, site, s);
      if (t) terms.push(t);
      const unmasked = t ? undefined : withoutScalarComparisons(facts, s);
      const m = unmasked ? classifyTerm(facts, site, unmasked) : undefined;
      if (m && m.kind !== 'const') masked.push(m);
    }
  }
  found = { terms, extraSites, masked };
  cache.set(facts, found);
  return found;
}


/**
 * The summand without its factors that compare scalars (`((i + 1) == n)`, `(epoch > warmup)`), a
 * 0/1 that leaves the sign of the rest as it is; undefined when it has none. A comparison of a
 * tensor (`(W > 0)`, a ReLU mask) is elementwise, not a scalar, and stays.
 */
function withoutScalarComparisons(facts: Facts, s: Summand): Summand | undefined {
  const a = facts.analyzer;
  const isScalarComparison = (f: Summand['num'][number]): boolean => {
    const e = f.expr;
    if (e.kind !== 'other' || !e.ops || e.ops.length === 0 || !e.ops.every((op) => COMPARISON_OPERATORS.has(op)) || e.children.length !== e.ops.length + 1) return false;
    return e.children.every((c) => {
      const p = a.classify(c, f.scope, f.at, f.env);
      return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
    });
  };
  const num = s.num.filter((f) => !isScalarComparison(f));
  return num.length === s.num.length || num.length === 0 ? undefined : { ...s, num };
}

/** The terms of gradient sites the file does not list itself (regularizerObjects.ts `overrideGradientSites`). */
export function termsOfSites(facts: Facts, sites: UpdateSite[]): RegGradientTerm[] {
  return sites.flatMap((site) => site.increment.flatMap((s) => classifyTerm(facts, site, s) ?? []));
}

/** The product of a summand, and of its parts written at the site versus distributed from outside. */
export function splitProduct(facts: Facts, s: Summand): { whole: Product; outer: Product; preconditioned: boolean } {
  const a = facts.analyzer;
  const outerDen = s.den.filter((f) => f.outer);
  const preconditioned = outerDen.some((f) => {
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    return p.tensor || p.params.length > 0 || !!p.penalty;
  });
  const whole = a.classifySummand({ ...s, den: preconditioned ? s.den.filter((f) => !f.outer) : s.den });
  const outer = a.classifySummand({ ...s, sign: 1, num: s.num.filter((f) => f.outer), den: preconditioned ? [] : outerDen });
  return { whole, outer, preconditioned };
}

/** The term of a summand whose step a 0/1 mask multiplies as a whole, read without the mask (stepMasks.ts). */
export function maskedStepTerm(facts: Facts, site: UpdateSite, s: Summand): RegGradientTerm | undefined {
  const bare = withoutStepMasks(facts, s);
  return bare ? classifyTerm(facts, site, bare) : undefined;
}

/** One summand of a step read as a regularization gradient term, when it is one. */
export function classifyTerm(facts: Facts, site: UpdateSite, s: Summand): RegGradientTerm | undefined {
  const { whole, outer, preconditioned } = splitProduct(facts, s);
  let kind: RegGradientKind | undefined;
  let param: ParamOccurrence | undefined;
  let stepCoef: Coef = whole.coef;
  if (!whole.tensor && !whole.penalty) {
    const signs = whole.signs ?? [];
    if (whole.params.length === 1 && whole.abs.length === 0 && signs.length === 0) [kind, param] = ['linear', whole.params[0]];
    else if (signs.length === 1 && whole.params.length === 0 && whole.abs.length === 0) [kind, param] = ['sign', signs[0]];
    else if (whole.abs.length === 1 && whole.params.length === 0 && signs.length === 0) [kind, param] = ['abs', whole.abs[0]];
    else if (whole.params.length === 0 && whole.abs.length === 0 && signs.length === 0) {
      // A bare coefficient only counts when it names a regularization strength: `dW += l1`.
      if (!whole.coef.syms.some((x) => x.pow > 0 && (isRegularizationStrengthName(x.name) || strengthNames(facts).has(lastName(x.name))))) return undefined;
      kind = 'const';
    }
  } else {
    const normalized = normalizedTerm(facts, s);
    if (normalized) [kind, param, stepCoef] = ['normalized', normalized.param, normalized.coef];
  }
  if (!kind) return undefined;
  if (param && !facts.analyzer.isParam(param.base)) return undefined;
  if (param && !selfContained(facts, site, s, param)) return undefined;
  const scope = site.scope;
  let ids: string[] = [];
  if (param) ids = paramIds(facts, param, programIndex(facts).scopeAt(param.expr.span.start) ?? scope);
  else if (site.penaltyGradientOf) {
    // A regularizer object's gradient method returning a bare constant: it is the gradient of the object's weight.
    const weight = regularizerObjects(facts).find((o) => o.value.fn === site.penaltyGradientOf)?.weight;
    if (weight && facts.analyzer.isPlaceholder(weight)) ids = paramIds(facts, { key: weight.kind === 'name' ? weight.name : '', base: weight, expr: weight }, scope);
  } else {
    const owner = site.kind === 'update' ? lastComponent(baseExpr(site.target)) : parameterOfGradient(site.target);
    if (owner) ids = [owner];
  }
  let gcoef: Coef | undefined;
  if (site.kind !== 'update') gcoef = stepCoef;
  else gcoef = divideLearningRate(stepCoef, outer);
  const foreign = param !== undefined && isForeign(facts, site, param);
  return { kind, coef: gcoef, stepCoef, param, ids, site, summand: s, span: s.site, preconditioned, selfScale: selfScaleSpan(site, s), foreign };
}

/** Does the term's parameter differ from the one the updated quantity belongs to (when that is known)? */
function isForeign(facts: Facts, site: UpdateSite, param: ParamOccurrence): boolean {
  const paramName = lastComponent(param.base);
  const paramKey = exprKey(param.base);
  if (site.kind === 'update') {
    const target = baseExpr(site.target);
    if (facts.analyzer.isParam(target)) {
      if (exprKey(target) !== paramKey && lastComponent(target) !== paramName) return true;
      // `V[s] = ... + gamma * V[nxt]`: another entry of the same array is not the target's own value (entries.ts).
      return exprKey(target) === paramKey && readsOtherEntry(site.target, param.expr, (name) => {
        const b = site.scope.lookup(name, site.at);
        return b?.kind === 'assign' && !b.op && !b.unpacked ? b.value : undefined;
      });
    }
    return false; // a velocity or a step direction: it may carry any parameter's terms
  }
  let owner = parameterOfGradient(site.target);
  if (!owner && site.target.kind === 'name') {
    // `g = p.grad`: g belongs to p.
    const b = site.scope.lookup(site.target.name, site.at);
    const value = b?.kind === 'assign' && !b.op ? b.value : undefined;
    if (value?.kind === 'attr' && value.name === 'grad') owner = lastComponent(value.object);
  }
  if (!owner || !paramName) return false;
  if (owner === paramName) return false;
  // `grads['W%d' % i]` and `self.params['W%d' % i]`, `nabla_w` and `w`: the name does not say.
  if (!/^[A-Za-z_]\w*$/.test(owner) || owner.toLowerCase() === paramName.toLowerCase()) return false;
  return /^[A-Za-z_]\w*$/.test(paramName) && (isWeightName(owner) || isBiasName(owner));
}

/**
 * A piece of a sum distributed over the parameter is a term of its own only when the sum is a
 * scalar factor: `(1 - lr * wd) * W` yes, `4 * lam * (np.sum(W ** 2) - 1) * W` no.
 */
function selfContained(facts: Facts, site: UpdateSite, s: Summand, param: ParamOccurrence): boolean {
  const outerParam = s.num.find((f) => f.outer && f.expr === param.expr);
  if (!outerParam) return true;
  // In a gradient, `(1 - r) * w` is one term (1 − r)·w, not w and −r·w: its pieces are not terms of their own.
  if (site.kind !== 'update') return false;
  const a = facts.analyzer;
  for (const other of site.increment) {
    if (other === s || !other.num.includes(outerParam) && !other.num.some((f) => f.outer && f.expr === outerParam.expr)) continue;
    const local = a.classifySummand({ ...other, sign: 1, num: other.num.filter((f) => !f.outer), den: other.den.filter((f) => !f.outer) });
    if (local.tensor || local.penalty || local.params.length > 0 || local.abs.length > 0 || local.signs?.length) return false;
  }
  return true;
}

/** −(step coefficient)/lr: the learning rate is a symbol named like one, or the factor distributed from outside. */
function divideLearningRate(step: Coef, outer: Product): Coef | undefined {
  const lrSyms = step.syms.filter((x) => x.pow === 1 && isLearningRateName(x.name));
  if (lrSyms.length === 1) return neg(makeCoef(step.num, step.syms.filter((x) => x !== lrSyms[0])));
  if (lrSyms.length === 0 && !outer.tensor && outer.params.length === 0 && !outer.penalty && outer.abs.length === 0 && !outer.signs?.length) {
    if (outer.coef.num === 1 && outer.coef.syms.length === 0) return undefined; // nothing distributed: no learning rate in sight
    if (outer.coef.syms.length > 0 || outer.coef.num <= 0) return undefined;
    return neg(div(step, outer.coef));
  }
  return undefined;
}

/** `c * W / np.linalg.norm(W)`, `lam * p / (p.norm() + 1e-12)`: the gradient of c·‖W‖₂. */
function normalizedTerm(facts: Facts, s: Summand): { param: ParamOccurrence; coef: Coef } | undefined {
  const a = facts.analyzer;
  if (s.den.length !== 1) return undefined;
  const num = a.classifySummand({ ...s, den: [] });
  if (num.tensor || num.penalty || num.params.length !== 1 || num.abs.length > 0 || num.signs?.length) return undefined;
  const f = s.den[0];
  const den = a.summands(f.expr, f.scope, f.at, f.env).map((x) => a.classifySummand(x));
  const norms = den.filter((p) => p.penalty && p.penalty.kind === 'norm2' && p.params.length === 0);
  if (norms.length !== 1) return undefined;
  const rest = den.filter((p) => p !== norms[0]);
  if (rest.some((p) => p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length)) return undefined;
  const norm = norms[0].penalty!;
  if (norm.params.length !== 1 || exprKey(norm.params[0].base) !== exprKey(num.params[0].base)) return undefined;
  const normCoef = mul(norms[0].coef, norm.coef);
  if (normCoef.num === 0) return undefined;
  return { param: num.params[0], coef: div(num.coef, normCoef) };
}

function selfScaleSpan(site: UpdateSite, s: Summand): Span | undefined {
  if (site.kind !== 'update') return undefined;
  const outerFactor = s.num.find((f) => f.outer && exprKey(f.expr) !== undefined && exprKey(baseExpr(f.expr)) === exprKey(baseExpr(site.target)));
  if (!outerFactor) return undefined;
  const local = s.num.filter((f) => !f.outer);
  if (local.length === 0) return undefined;
  return { start: Math.min(...local.map((f) => f.expr.span.start)), end: Math.max(...local.map((f) => f.expr.span.end)) };
}

/**
 * Whether a term c·W (c·sign(W), c·W/‖W‖) carries a regularization strength, decided by data flow
 * first: c is written at the term and is not a factor the whole step shares (a learning rate), as
 * `gamma` in `W -= lr * (dW + gamma * W)`; or one of its symbols multiplies a penalty in a loss
 * (`self.gamma` in `loss + gamma / 2 * ‖β‖²`). Names are the last resort (roles.ts).
 */
export function isRegularizationTerm(facts: Facts, t: RegGradientTerm): boolean {
  const { whole, outer } = splitProduct(facts, t.summand);
  if (outer.coef.num === 0) return false; // a step scaled by 0 (`W -= 0.0 * (dW + lam * W)`) applies no term at all
  const local = div(whole.coef, outer.coef).syms.filter((x) => x.pow > 0).map((x) => x.name);
  const shared = sharedSymbols(facts, t.site);
  if (local.some((name) => !shared.has(name))) return true;
  const multipliesPenalty = penaltyCoefficientNames(facts);
  if (t.stepCoef.syms.some((x) => x.pow > 0 && multipliesPenalty.has(lastName(x.name)))) return true;
  return t.stepCoef.syms.some((x) => x.pow > 0 && isRegularizationStrengthName(x.name));
}

const sharedMemo = new WeakMap<UpdateSite, Set<string>>();

/** Symbols that scale every summand of a step (its learning rate, a common 1/N): read from the scalar factors of each. */
export function sharedSymbols(facts: Facts, site: UpdateSite): Set<string> {
  const known = sharedMemo.get(site);
  if (known) return known;
  let shared: Set<string> | undefined;
  const a = facts.analyzer;
  for (const s of site.increment) {
    const names = new Set<string>();
    for (const f of [...s.num, ...s.den]) {
      const p = a.classify(f.expr, f.scope, f.at, f.env);
      if (p.tensor) continue;
      for (const x of p.coef.syms) names.add(x.name);
    }
    const before: Set<string> | undefined = shared;
    shared = before ? new Set([...before].filter((n) => names.has(n))) : names;
  }
  // A step of one term: all of its coefficient is shared (`W -= lr * lam * W` says nothing by itself).
  const result = new Set<string>(shared ?? []);
  if (site.increment.length < 2) for (const s of site.increment) for (const x of a.classifySummand(s).coef.syms) result.add(x.name);
  sharedMemo.set(site, result);
  return result;
}

function lastName(name: string): string {
  return name.replace(/^.*\./, '');
}

// ------------------------------------------------------------------ parameter identity

/**
 * Keys under which a parameter occurrence can meet a penalty: its own key without `self.`/`this.`,
 * the name of a string-keyed entry (`params['W1']` → `W1`), an attribute's last name (`self.W` → `W`),
 * and for a loop variable the collection it walks (`each:self.weights`, `each:model.parameters()`).
 */
export function paramIds(facts: Facts, occ: ParamOccurrence, scope: Scope): string[] {
  const ids = new Set<string>();
  const base = occ.base;
  // A regularizer object's weight: its value and gradient methods meet through it only.
  if (facts.analyzer.isPlaceholder(base)) return [`object:${base.span.start}`];
  const key = exprKey(base);
  if (key !== undefined) ids.add(key.replace(/^(self|this)\./, ''));
  if (base.kind === 'attr' || (base.kind === 'index' && isKeyedByString(base))) {
    const last = lastComponent(base);
    if (last) ids.add(last);
  }
  // `params['W%d' % (i + 1)]` (its base is the dict): also the entry by its key, as `params[f'W{i+1}']` is met.
  const entry = occ.expr.kind === 'index' && occ.expr.object === base ? computedKeyText(occ.expr) : undefined;
  if (entry !== undefined) {
    const whole = exprKey(occ.expr);
    if (whole !== undefined) ids.add(whole.replace(/^(self|this)\./, ''));
    ids.add(entry);
  }
  if (base.kind === 'name') {
    const collection = loopCollectionKey(facts, base.name, scope, occ.expr.span.start);
    if (collection) ids.add(`each:${collection}`);
  }
  return [...ids];
}

/** The collection a loop variable walks, as a key: `for w, nw in zip(self.weights, nabla_w)` → `weights` for w. */
export function loopCollectionKey(facts: Facts, name: string, scope: Scope, at: number): string | undefined {
  const b = scope.lookup(name, at) ?? scope.lookup(name, Infinity);
  if (!b || b.kind !== 'loop' || !b.loop) return undefined;
  const source = loopSource(loopIterable(b.loop), b.loop.position, (e) => facts.analyzer.isModule(e));
  return source?.kind === 'element' ? collectionKey(source.collection) : undefined;
}

function collectionKey(iter: Expr): string | undefined {
  if (iter.kind === 'call' && iter.callee.kind === 'attr') {
    const object = exprKey(iter.callee.object);
    if (object === undefined) return undefined;
    const name = iter.callee.name === 'named_parameters' ? 'parameters' : iter.callee.name;
    if (isTensorListMethod(name)) return `${object.replace(/^(self|this)\./, '')}.${name}()`;
    return undefined;
  }
  const key = exprKey(iter);
  return key?.replace(/^(self|this)\./, '');
}

/** Do two parameter identities meet? */
export function sameParam(a: string[], b: string[]): boolean {
  return a.some((x) => b.includes(x));
}

// ------------------------------------------------------------------ scaled self terms

/**
 * `[(1 - eta * (lmbda / n)) * w - (eta / m) * nw for w, nw in zip(self.weights, nabla_w)]` and
 * `lambda p, g: (1 - lr * wd) * p - lr * g`: the engine only recognizes a bare `w` as the self
 * term of an element update, so these are listed here.
 */
function findScaledSelfSites(facts: Facts): UpdateSite[] {
  const sites: UpdateSite[] = [];
  const known = new Set(facts.updates.map((u) => spanKey(u.span)));
  const a = facts.analyzer;
  const consider = (name: string, body: Expr, scope: Scope, span: Span): void => {
    if (known.has(spanKey(span)) || known.has(spanKey(body.span))) return;
    if (body.kind !== 'binary' && body.kind !== 'call') return;
    const all = a.summands(body, scope, Infinity);
    if (all.length < 2) return;
    const self = all.findIndex((s) => {
      if (s.sign !== 1 || s.den.length > 0 || !s.num.some((f) => f.expr.kind === 'name' && f.expr.name === name)) return false;
      const p = a.classifySummand(s);
      return !p.tensor && !p.penalty && p.params.length === 1 && p.abs.length === 0 && p.coef.num === 1 && p.coef.syms.length === 0;
    });
    if (self < 0) return;
    const target: Expr = { kind: 'name', name, span: all[self].site };
    if (!a.isParam(target)) return;
    const increment = all.filter((_, i) => i !== self);
    if (!increment.some((s) => s.num.some((f) => f.expr.kind === 'name' && f.expr.name === name))) return; // not scaled after all
    sites.push({ kind: 'update', target, increment, span, scope, at: Infinity });
  };
  const walk = new ExprWalk<Scope>();
  const visit = (root: Expr, scope: Scope): void => {
    const base = walk.start(root, scope);
    while (walk.depth() > base) {
      const e = walk.pop();
      const s = walk.ctx;
      if (e.kind === 'comprehension') {
        const cs = facts.scopes.lambdaScopes.get(e) ?? s;
        const elements = e.element.kind === 'seq' ? e.element.items : [e.element];
        for (const g of e.generators) for (const n of names(g.target)) for (const el of elements) consider(n, el, cs, el.span);
      }
      if (e.kind === 'lambda' && e.body && e.params[0]) consider(e.params[0].name, e.body, facts.scopes.lambdaScopes.get(e) ?? s, e.span);
      walk.pushChildren(e, e.kind === 'lambda' || e.kind === 'comprehension' ? facts.scopes.lambdaScopes.get(e) ?? s : s);
    }
  };
  const index = programIndex(facts);
  for (const st of index.stmtBySpan.values()) {
    const scope = facts.scopes.stmtScopes.get(st) ?? facts.scopes.root;
    if (st.kind === 'assign') visit(st.value, scope);
    else if (st.kind === 'expr') visit(st.expr, scope);
    else if (st.kind === 'return' && st.value) visit(st.value, scope);
  }
  return sites;
}

function names(t: Expr): string[] {
  if (t.kind === 'name') return [t.name];
  if (t.kind === 'seq') return t.items.flatMap(names);
  return [];
}

// ------------------------------------------------------------------ term details

/**
 * `dW = zeros; for i in range(N): ...; dW += reg * W` adds the term once per example: its factor
 * then depends on N. Only accumulations inside a loop the gradient was not initialized in, whose
 * loop variable the term's parameter does not use (`W[i]` uses i), are affected.
 */
export function repeatedPerExample(facts: Facts, t: RegGradientTerm): boolean {
  if (t.site.kind === 'update' || !t.param) return false;
  const own = bindingsBySpan(t.site.scope).get(spanKey(t.site.span));
  if (!own || own.loops.length === 0) return false;
  const init = t.site.scope.allBindings(own.key).filter((b) => !b.op && b.at < own.at).pop();
  if (!init || own.op !== '+' && own.op !== '-') return false;
  const outer = init.loops;
  // The parameter as written, after helper substitution: its text names the loop variables it indexes with.
  const paramText = facts.source(t.param.expr.span);
  for (const loop of own.loops) {
    if (outer.includes(loop)) continue;
    const vars = loopVariables(t.site.scope, loop);
    if (!vars.some((v) => new RegExp(`\\b${v}\\b`).test(paramText))) return true;
  }
  return false;
}

const spanIndexes = new WeakMap<Scope, Map<string, Binding>>();
/**
 * A scope's bindings (and its class's members) by span, the first of each span: looked up once per
 * gradient term, so a long function's thousands of terms do not each walk all its bindings.
 */
function bindingsBySpan(scope: Scope): Map<string, Binding> {
  let index = spanIndexes.get(scope);
  if (!index) {
    index = new Map();
    for (const b of [...scope.bindings.values(), ...(scope.classScope?.members.values() ?? [])].flat()) {
      const key = spanKey(b.span);
      if (!index.has(key)) index.set(key, b);
    }
    spanIndexes.set(scope, index);
  }
  return index;
}

const loopVariableIndexes = new WeakMap<Scope, Map<Expr, string[]>>();
/** The names a scope binds as variables of one loop (all loops of the scope indexed at once). */
function loopVariables(scope: Scope, iter: Expr): string[] {
  let index = loopVariableIndexes.get(scope);
  if (!index) {
    index = new Map();
    for (const [key, list] of scope.bindings) {
      const iters = new Set<Expr>();
      for (const b of list) if (b.kind === 'loop' && b.loop?.iter) iters.add(b.loop.iter);
      for (const it of iters) index.set(it, [...(index.get(it) ?? []), key]);
    }
    loopVariableIndexes.set(scope, index);
  }
  return index.get(iter) ?? [];
}

/**
 * Coefficients that agree except for a count of examples present on one side only (`lmbda` against
 * `lmbda/len(data)`, Nielsen's λ/n): the factor `actual / implied`. Undefined when anything else
 * differs, when both (or neither) have a count, or when the strength is not a symbol they share.
 */
export function countFactor(actual: Coef, implied: Coef): Coef | undefined {
  const strip = (c: Coef): Coef => makeCoef(c.num, c.syms.filter((s) => !isSizeSymbol(s.name)));
  if (!equalCoef(strip(actual), strip(implied))) return undefined;
  const aSizes = actual.syms.filter((s) => isSizeSymbol(s.name));
  const iSizes = implied.syms.filter((s) => isSizeSymbol(s.name));
  if ((aSizes.length === 0) === (iSizes.length === 0)) return undefined; // both (or neither) divide by a count
  if (strip(actual).syms.length === 0) return undefined; // the strength itself must be a symbol shared by both
  return div(actual, implied);
}

/**
 * The `abs` call that makes a term c·|W| (`np.abs(W)`, `W.abs()`, `Math.abs(w[j])`), found among
 * the factors of its summand: the call whose operand holds the parameter.
 */
export function absCallOf(t: RegGradientTerm): (Expr & { kind: 'call' }) | undefined {
  if (!t.param) return undefined;
  const operand = t.param.expr;
  const stack = t.summand.num.map((f) => f.expr);
  const push = (c: Expr): void => void stack.push(c);
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'call') {
      const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : '';
      const target = e.callee.kind === 'attr' && e.args.length === 0 ? e.callee.object : e.args[0];
      if (ABS_FUNCTIONS.has(name) && target && target.span.start <= operand.span.start && operand.span.end <= target.span.end) return e;
    }
    forEachChild(e, push);
  }
  return undefined;
}

/**
 * Is `g`, read at (scope, at), the gradient of the parameter `param`, by where its value comes from?
 * `param.grad` and a gradient named for it (`dW` beside `W`, `grads['W1']` beside `params['W1']`),
 * through `.data` and local copies (`grad = p.grad`); an element taken beside `param` in one loop
 * (`for p, grad in zip(params, grads)`) or an argument beside it (`def update(self, param, grad)`),
 * when its name, or its collection's, says it is a gradient. Anything else is not known to be.
 */
export function isGradientOf(facts: Facts, g: Expr, scope: Scope, at: number, param: Expr, depth = 0): boolean {
  if (depth > 4) return false;
  const p = baseExpr(param);
  if (entryBeside(facts, g, scope, at, p)) return true;
  const e = baseExpr(g);
  const owned = parameterOfGradient(e);
  if (owned !== undefined && (owned === exprKey(p) || owned === lastComponent(p))) return true;
  if (e.kind !== 'name') return false;
  const b = scope.lookup(e.name, at);
  if (!b) return false;
  if (b.kind === 'assign') return !b.op && b.value !== undefined && isGradientOf(facts, b.value, b.scope, b.at, param, depth + 1);
  if (p.kind !== 'name') return false;
  const pb = scope.lookup(p.name, at);
  if (!pb || pb.kind !== b.kind || pb.scope !== b.scope || pb === b) return false;
  if (b.kind === 'param') return isGradientLike(e);
  // Two places of one loop target: `for p, g in zip(ps, gs)`, `for i, (p, g) in enumerate(zip(ps, gs))`.
  if (!b.loop || !pb.loop || b.loop.iter !== pb.loop.iter || loopIterable(b.loop) !== loopIterable(pb.loop)) return false;
  if (isGradientLike(e)) return true;
  const source = loopSource(loopIterable(b.loop), b.loop.position, (x) => facts.analyzer.isModule(x));
  return source?.kind === 'element' && isGradientLike(source.collection);
}

/**
 * `grads[name]` in `for name, param in params.items()`, `grads[i]` in `for i, p in enumerate(params)`:
 * the entry of a gradient collection under the key or index the loop takes the parameter with.
 */
function entryBeside(facts: Facts, g: Expr, scope: Scope, at: number, p: Expr): boolean {
  if (g.kind !== 'index' || g.index.length !== 1 || g.index[0].kind !== 'name' || p.kind !== 'name' || !isGradientLike(g.object)) return false;
  const k = scope.lookup(g.index[0].name, at);
  const pb = scope.lookup(p.name, at);
  if (k?.kind !== 'loop' || pb?.kind !== 'loop' || !k.loop || !pb.loop || k.loop.iter !== pb.loop.iter || k === pb) return false;
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  const key = loopSource(loopIterable(k.loop), k.loop.position, isModule);
  const own = loopSource(loopIterable(pb.loop), pb.loop.position, isModule);
  return (key?.kind === 'key' || key?.kind === 'counter') && own?.kind === 'element';
}
