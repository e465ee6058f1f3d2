// Weight decay written as a full reduction of the weight: a step or gradient term c·ΣW or c·mean(W)
// (`W -= lr * (dW + 2 * wd * np.sum(W))`, `return self.lam * np.sum(w)` in a regularizer's gradient
// method) where c·W belongs. ΣW is one number, so every weight moves by the same amount: the term is
// a constant drift, as NB106's bare c is (it is the gradient of c/2·(ΣW)², not of c/2·ΣW²).
// Decided by data flow: the reduction is of the very parameter the step updates (or the gradient,
// or the regularizer's weight, belongs to), over every axis, and the rest of the term is a scalar
// with a decay strength written beside the reduction, not distributed over a sum such as
// `lam * (np.sum(W) - 1)` (a sum-to-one constraint, whose gradient is a scalar indeed).
import type { Expr, Span } from '../ir';
import type { Coef } from '../../math/terms';
import type { Facts } from './index';
import type { Env, Factor, ParamOccurrence, Summand } from './analysis';
import type { Scope } from './scope';
import type { UpdateSite } from './updates';
import { baseExpr, exprKey, lastComponent } from './keys';
import { MEAN_FUNCTIONS, REDUCTION_KEYWORDS, SUM_FUNCTIONS, zeroValue } from './catalogue';
import { penaltyCoefficientNames } from './losses';
import { isStepScalarSymbol, parameterOfGradient } from './roles';
import { isStrengthSymbol } from './strengths';
import { sharedSymbols } from './gradients';
import { regularizerObjects, regularizerGradientSites } from './regularizerObjects';
import { spanKey } from './program';
import { returnsOf } from './resolve';

export interface ReducedDecay {
  site: UpdateSite;
  summand: Summand;
  /** The term as written. */
  span: Span;
  /** The reduction call (`np.sum(W)`, `W.mean()`), as written. */
  reduction: Expr;
  how: 'sum' | 'mean';
  /** The term's scalar coefficient as it enters the step (the reduction divided out). */
  stepCoef: Coef;
  /** The parameter reduced, as written (or the join it is a piece of). */
  weight: Expr;
  /** A reduction of sign(W) where c·sign(W) belongs. */
  sign: boolean;
}

export interface FullReduction {
  call: Expr & { kind: 'call' };
  how: 'sum' | 'mean';
  param: ParamOccurrence;
  /** Every parameter reduced: the pieces of a join (`np.concatenate((W, b))`), or the one. */
  params: ParamOccurrence[];
  /** A reduction of sign(W), the L1 term, rather than of W. */
  sign: boolean;
  /** What is reduced, as written: the parameter, or the join of the pieces. */
  shown: Expr;
}

const cache = new WeakMap<Facts, ReducedDecay[]>();

/** Every decay term written as a full reduction of its own parameter, in the file's steps, gradients and regularizer objects. */
export function reducedDecayTerms(facts: Facts): ReducedDecay[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  const sites = [...facts.updates, ...regularizerGradientSites(facts), ...reducedGradientSites(facts)];
  for (const site of sites) {
    for (const s of site.increment) {
      if (seen.has(spanKey(s.site))) continue;
      const term = reducedTerm(facts, site, s);
      if (!term) continue;
      seen.add(spanKey(s.site));
      found.push(term);
    }
  }
  cache.set(facts, found);
  return found;
}

/** A regularizer object's gradient method that returns reductions of its weight (regularizerObjects.ts `reducedGradient`), as a gradient site. */
function reducedGradientSites(facts: Facts): UpdateSite[] {
  const sites: UpdateSite[] = [];
  for (const o of regularizerObjects(facts)) {
    const g = o.reducedGradient;
    if (!g) continue;
    const increment = facts.analyzer.summands(g.ret.expr, g.ret.scope, g.ret.at, g.env).filter((x) => !isZeroSummand(x));
    const target: Expr = { kind: 'name', name: g.fn.name, span: g.fn.nameSpan ?? g.fn.span };
    sites.push({ kind: 'gradient', target, increment, span: g.ret.expr.span, scope: g.ret.scope, at: g.ret.at, penaltyGradientOf: o.value.fn });
  }
  return sites;
}

function reducedTerm(facts: Facts, site: UpdateSite, written: Summand): ReducedDecay | undefined {
  const a = facts.analyzer;
  const s = throughHelpers(facts, written);
  if (!s) return undefined;
  let reduced: { factor: Factor; r: FullReduction } | undefined;
  for (const f of s.num) {
    const r = fullReduction(facts, f.expr, f.scope, f.at, f.env);
    if (!r) continue;
    if (reduced) return undefined; // two reductions: a product of scalars of W, not a decay term
    reduced = { factor: f, r };
  }
  if (!reduced) return undefined;
  if (!reduced.r.params.some((p) => ownParameter(facts, site, p))) return undefined;
  // Everything else is a scalar: no other tensor, no parameter, no preconditioner.
  const rest = a.classifySummand({ ...s, num: s.num.filter((f) => f !== reduced!.factor) });
  if (rest.tensor || rest.penalty || rest.params.length + rest.abs.length + (rest.signs?.length ?? 0) > 0) return undefined;
  const known = penaltyCoefficientNames(facts);
  const isKnown = (name: string): boolean => known.has(name.replace(/^.*\./, ''));
  const isStrength = (name: string): boolean => isStrengthSymbol(facts, name) || isKnown(name);
  // A factor every term of the step shares is its learning rate, whatever its name.
  const shared = site.increment.length > 1 ? sharedSymbols(facts, site) : new Set<string>();
  // The strength is written at the term, beside the reduction: distributed from outside it
  // (`lam * (np.sum(W) - 1)`), it scales a sum the reduction is only one piece of.
  // A factor distributed over a running sum from zero (`total = 0`, `total += w.mean()`, then
  // `self.lam * total`) scales this term alone: the start adds nothing.
  const alone = (f: Factor): boolean => !f.outer || site.increment.every((o) => o === written || isZeroSummand(o) || !o.num.some((g) => g.expr === f.expr));
  const local = s.num.filter((f) => f !== reduced!.factor && alone(f));
  const localSyms = local.flatMap((f) => a.classify(f.expr, f.scope, f.at, f.env).coef.syms);
  // A scalar written at this term alone, and no strength by name or by the file's math, says nothing:
  // c·ΣW is also the gradient of c/2·(ΣW)², a sum-to-zero penalty that pins down parameters known only
  // up to a shift (item difficulties, factor offsets), which moves every entry alike on purpose.
  if (!rest.coef.syms.every((x) => isStepScalarSymbol(x.name) || isStrength(x.name) || shared.has(x.name))) return undefined;
  if (!localSyms.some((x) => x.pow > 0 && isStrength(x.name))) return undefined;
  if (sharesDistributedFactor(site, written)) return undefined;
  if (sumPenaltyPieces(facts, site, written)) return undefined;
  return { site, summand: written, span: written.site, reduction: reduced.r.call, how: reduced.r.how, stepCoef: rest.coef, weight: reduced.r.shown, sign: reduced.r.sign };
}

const MAX_HELPERS = 3;

/**
 * The summand with each factor that is one product by another name, replaced by that product's
 * factors: a call of a project helper of one return (`decay_term(W, wd)` returning
 * `wd * np.sum(W)`, its parameters bound to the call's arguments), or a local assigned once
 * (`shift = w.mean().mul(wd)`). Undefined when one of them is a sum.
 */
function throughHelpers(facts: Facts, s: Summand, depth = 0): Summand | undefined {
  const num: Factor[] = [];
  const den: Factor[] = [];
  let expanded = false;
  for (const [list, out] of [[s.num, num], [s.den, den]] as const) {
    for (const f of list) {
      const inner = depth < MAX_HELPERS ? productOf(facts, f) : undefined;
      if (!inner) {
        out.push(f);
        continue;
      }
      if (inner.length !== 1 || inner[0].sign !== 1) return undefined;
      expanded = true;
      const outer = f.outer;
      out.push(...inner[0].num.map((g) => ({ ...g, outer })));
      (out === num ? den : num).push(...inner[0].den.map((g) => ({ ...g, outer })));
    }
  }
  if (!expanded) return s;
  return throughHelpers(facts, { ...s, num, den }, depth + 1);
}

/** The summands a factor stands for when it is a helper's call or a local assigned once, else undefined. */
function productOf(facts: Facts, f: Factor): Summand[] | undefined {
  const a = facts.analyzer;
  if (f.expr.kind === 'name' && !f.env?.has(f.expr.name)) {
    const b = f.scope.lookup(f.expr.name, f.at);
    if (b?.kind !== 'assign' || b.op || !b.value || b.scope.allBindings(b.key).length !== 1) return undefined;
    if (fullReduction(facts, b.value, b.scope, b.at, f.env)) return undefined; // the reduction itself
    return a.summands(b.value, b.scope, b.at, f.env);
  }
  if (f.expr.kind !== 'call') return undefined;
  const call = f.expr;
  const target = a.callTarget(call, f.scope, f.at);
  if (!target || target.constructs) return undefined;
  const returns = returnsOf(facts.program, target.fn);
  if (returns.length !== 1) return undefined;
  const env = a.argumentEnv(call, target, f.scope, f.at, f.env);
  return a.summands(returns[0].expr, returns[0].scope, returns[0].at, env);
}

/** A term with a zero factor (`self.lam * 0`, the start of a running sum read through its adds): it adds nothing. */
export function isZeroSummand(s: Summand): boolean {
  return s.num.some((f) => zeroValue(f.expr) !== undefined);
}

/**
 * Is the term one piece of a sum a factor is distributed over, with other pieces beside it
 * (`lam * (np.sum(W) - 1)` gives lam·ΣW and −lam)? A factor every summand of the step shares
 * (its learning rate) says nothing.
 */
export function sharesDistributedFactor(site: UpdateSite, s: Summand): boolean {
  for (const f of s.num) {
    if (!f.outer) continue;
    const holders = site.increment.filter((o) => o.num.some((g) => g.expr === f.expr));
    if (holders.length > 1 && holders.length < site.increment.length) return true;
  }
  return false;
}

/**
 * Is the term one of the pieces of a penalty on the sum or the mean written out? c·(ΣW − k) gives a full
 * reduction of the step's own weight and a bare constant (`h * mu * theta.sum() - h * mu`, the gradient
 * of mu/2·(ΣW − k)²: a sum-to-one constraint); c·(W − mean W) gives the weight itself and its reduction
 * with opposite signs (`kappa * theta - kappa * theta.mean()`, the gradient of kappa/2·Σ(W − W̄)²: a
 * shrink toward the mean, whose decay term is already there). Both have the same scalars apart from
 * those every term shares, as `mu * (theta.sum() - 1)` has (`sharesDistributedFactor`); neither is a decay
 * written as a reduction.
 */
export function sumPenaltyPieces(facts: Facts, site: UpdateSite, s: Summand): boolean {
  if (site.increment.length < 2) return false;
  const mine = sumPiece(facts, site, s);
  if (!mine) return false;
  const shared = sharedSymbols(facts, site);
  const key = (syms: string[]): string => syms.filter((n) => !shared.has(n)).sort().join(',');
  const own = key(mine.syms);
  if (own === '') return false;
  return site.increment.some((o) => {
    if (o === s) return false;
    const p = sumPiece(facts, site, o);
    if (!p || key(p.syms) !== own) return false;
    const kinds = new Set([mine.kind, p.kind]);
    if (!kinds.has('reduced')) return false;
    return kinds.has('const') || (kinds.has('weight') && p.sign !== mine.sign);
  });
}

/**
 * A summand that is scalars times at most one full reduction of the step's own weight, or times that
 * weight itself: which of the three, its scalars' symbols, and its sign.
 */
function sumPiece(facts: Facts, site: UpdateSite, written: Summand): { kind: 'reduced' | 'weight' | 'const'; syms: string[]; sign: number } | undefined {
  const a = facts.analyzer;
  const s = throughHelpers(facts, written);
  if (!s) return undefined;
  let kind: 'reduced' | 'weight' | 'const' = 'const';
  let sign: number = s.sign;
  const syms: string[] = [];
  for (const f of s.num) {
    const r = fullReduction(facts, f.expr, f.scope, f.at, f.env);
    if (r) {
      if (kind !== 'const' || !r.params.some((p) => ownParameter(facts, site, p))) return undefined;
      kind = 'reduced';
      continue;
    }
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    if (p.tensor || p.penalty || p.abs.length > 0 || p.signs?.length || p.params.length > 1) return undefined;
    if (p.params.length === 1) {
      if (kind !== 'const' || !ownParameter(facts, site, p.params[0])) return undefined;
      kind = 'weight';
    }
    if (p.coef.num < 0) sign = -sign;
    for (const x of p.coef.syms) if (x.pow > 0) syms.push(x.name);
  }
  for (const f of s.den) {
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) return undefined;
  }
  return { kind, syms, sign };
}

/** The reduced parameter is the one the step updates, the gradient belongs to, or the regularizer's weight. */
function ownParameter(facts: Facts, site: UpdateSite, param: ParamOccurrence): boolean {
  const a = facts.analyzer;
  if (site.kind === 'update') {
    const target = baseExpr(site.target);
    if (!a.isParam(target)) return false;
    const key = exprKey(site.target);
    return key !== undefined && exprKey(param.expr) === key;
  }
  // A regularizer's weight, or a weight of the item it stands for (`layer.weights` in a loop over the layers).
  if (site.penaltyGradientOf) return a.isPlaceholder(param.base) || (param.base.kind === 'attr' && a.isPlaceholder(param.base.object));
  const owner = parameterOfGradient(site.target);
  return owner !== undefined && (owner === exprKey(param.base) || owner === lastComponent(param.base));
}

/**
 * `np.sum(W)`, `W.sum()`, `torch.mean(p)`, `tf.reduce_sum(w)`: a reduction of one parameter over
 * all its entries (no axis), through local variables and a helper's arguments. The builtin
 * `sum(W)` is left out: over an array of rows it sums the rows, and keeps a shape.
 */
export function fullReduction(facts: Facts, e: Expr, scope: Scope, at: number, env: Env | undefined, hops = 0): FullReduction | undefined {
  if (hops > 4) return undefined;
  const a = facts.analyzer;
  if (e.kind === 'name') {
    const bound = env?.get(e.name);
    if (bound) return fullReduction(facts, bound.expr, bound.scope, bound.at, bound.env, hops + 1);
    const b = scope.lookup(e.name, at);
    if (b?.kind !== 'assign' || b.op || !b.value) return undefined;
    // One value: a name assigned again (a running sum) is not this reduction.
    if (b.scope.allBindings(b.key).length !== 1) return undefined;
    return fullReduction(facts, b.value, b.scope, b.at, env, hops + 1);
  }
  if (e.kind !== 'call') return undefined;
  const fn = e.callee.kind === 'attr' ? e.callee.name : undefined;
  if (!fn) return undefined;
  const how = SUM_FUNCTIONS.has(fn) ? 'sum' : MEAN_FUNCTIONS.has(fn) ? 'mean' : undefined;
  if (!how) return undefined;
  if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name) && !(k.value.kind === 'name' && k.value.name === 'None'))) return undefined;
  const methodForm = !a.isModule((e.callee as Expr & { kind: 'attr' }).object);
  const operand = methodForm ? (e.callee as Expr & { kind: 'attr' }).object : e.args[0];
  if (!operand || e.args.length !== (methodForm ? 0 : 1)) return undefined; // a positional axis
  // Over a join (`np.concatenate((W, b)).mean()`), each piece is reduced: the reduction holds ΣW.
  const joined = a.joinedPieces(operand, scope, at, env);
  const readings = joined ? joined.envs.map((pieceEnv) => a.classify(joined.operand, scope, at, pieceEnv)) : [a.classify(operand, scope, at, env)];
  const params: ParamOccurrence[] = [];
  let sign: boolean | undefined;
  for (const inner of readings) {
    if (inner.tensor || inner.penalty || inner.abs.length > 0 || inner.coef.syms.length > 0) return undefined;
    // W itself, or sign(W): Σsign(W) is one number where the L1 term sign(W) belongs.
    const signs = inner.signs ?? [];
    const mine = inner.params.length === 1 && signs.length === 0 ? false : signs.length === 1 && inner.params.length === 0 ? true : undefined;
    if (mine === undefined || (sign !== undefined && mine !== sign)) return undefined;
    sign = mine;
    params.push(mine ? signs[0] : inner.params[0]);
  }
  // Shown as written: the join, or a regularizer's argument where the placeholder stands for it.
  const written = sign ? signOperand(operand) : operand;
  const shown = joined ? joined.joined : a.isPlaceholder(params[0].base) && written && (written.kind === 'name' || written.kind === 'attr') ? written : params[0].expr;
  return { call: e, how, param: params[0], params, sign: !!sign, shown };
}

/** `np.sign(x)`, `x.sign()`: x, as written. */
function signOperand(e: Expr): Expr | undefined {
  if (e.kind !== 'call') return undefined;
  return e.args.length === 1 ? e.args[0] : e.args.length === 0 && e.callee.kind === 'attr' ? e.callee.object : undefined;
}
