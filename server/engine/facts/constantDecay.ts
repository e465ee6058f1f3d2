// Weight decay written as a constant: a step of a parameter W whose increment holds a bare
// coefficient c (a regularization strength) with no factor of W, sign(W) or |W|:
// `p.data.add_(weight_decay, alpha=-lr)`, `p -= lr * wd`, `w = w - lr * (grad + lam)`.
// The decay that was meant is c·W (L2, weight decay) or c·sign(W) (L1); c alone moves every
// weight by the same amount.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { baseExpr, exprKey } from './keys';
import { children, type Scope } from './scope';
import { regGradientTerms, sharedSymbols, type RegGradientTerm } from './gradients';
import { penaltiesFor, penaltyCoefficientNames } from './losses';
import { isStepScalarSymbol } from './roles';
import { isStrengthSymbol } from './strengths';
import { sumPenaltyPieces } from './reducedDecay';
import { programIndex, spanKey } from './program';
import { gradientReachesStep } from './steppedUses';
import { steppedEntryFactor, type EntryFactor } from './siblingEntries';

export interface ConstantDecay {
  term: RegGradientTerm;
  /** The parameter (or gradient) the constant is added to, as written. */
  target: Expr;
  /** The factor that is another parameter's value (`wg['b' + k].T` in the gradient of `W{k}`, siblingEntries.ts). */
  other?: EntryFactor;
}

const cache = new WeakMap<Facts, ConstantDecay[]>();

/** Every constant decay term of the file's steps (gradient accumulations included). */
export function constantDecayTerms(facts: Facts): ConstantDecay[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  for (const t of regGradientTerms(facts)) {
    if (t.kind !== 'const' || seen.has(spanKey(t.span))) continue;
    if (t.stepCoef.num === 0) continue;
    // Every symbol must be a known scalar: a learning rate, a strength, a count. `2 * reg * self.biases`
    // where the biases are not seen as a parameter is not a constant.
    const coefNames = penaltyCoefficientNames(facts);
    const known = (name: string): boolean => coefNames.has(name.replace(/^.*\./, ''));
    // A factor every term of the step shares is its learning rate, whatever its name.
    const shared = t.site.increment.length > 1 ? sharedSymbols(facts, t.site) : new Set<string>();
    const scalar = (name: string): boolean => isStepScalarSymbol(name) || known(name) || isStrengthSymbol(facts, name) || shared.has(name);
    // A stepped entry of the weights' container read as a factor: the gradient's own weight is its
    // decay (not a constant); another entry (the bias in the weight's gradient) is constant to it.
    const entry = t.stepCoef.syms.some((x) => !scalar(x.name)) ? steppedEntryFactor(facts, t.site, t.summand) : undefined;
    if (entry?.own) continue;
    const other = entry && t.stepCoef.syms.filter((x) => !scalar(x.name)).every((x) => x.name === entry.symbol) ? entry : undefined;
    if (!t.stepCoef.syms.every((x) => scalar(x.name) || x.name === other?.symbol)) continue;
    if (!t.stepCoef.syms.some((x) => x.pow > 0 && (isStrengthSymbol(facts, x.name) || known(x.name)))) continue;
    // A factor only ever bound to 0 (`reg_w, reg_b = 2 * w, 0`: the bias exempt on purpose) makes the term 0.
    if (t.stepCoef.syms.some((x) => x.pow > 0 && onlyZero(t.site.scope, x.name))) continue;
    // The loss puts an L1 penalty on W: the constant is the L1 gradient without sign(W), NB104's finding.
    if (t.ids.length > 0 && penaltiesFor(facts, t.ids, t.site.scope).some((p) => p.kind === 'l1' || p.kind === 'elemabs')) continue;
    const target = t.site.target;
    const param = baseExpr(target);
    // A step of something that is not a parameter (a schedule `lam -= lr * lam_decay`) decays nothing.
    if (t.site.kind === 'update' && !facts.analyzer.isParam(param)) continue;
    // A step taken only where W has one sign (`w[w > 0] -= lr * l1`, `if w[j] > 0: w[j] -= lam`) is L1 written by cases.
    if (target.kind === 'index' && target.index.some((i) => mentionsParam(i, param))) continue;
    if (guardedByParam(facts, t.site.span, param)) continue;
    if (strengthDistributedOverTensor(facts, t)) continue;
    // The constant of c·(ΣW − k) written out (`h * mu * theta.sum() - h * mu`): a penalty on the sum, not a decay.
    if (sumPenaltyPieces(facts, t.site, t.summand)) continue;
    // A gradient in a local that no step reads and that never leaves its function (a longitude
    // difference `dLambda = lambda - lambda0` in map-projection code) is no gradient of a weight.
    if (!gradientReachesStep(facts, t.site)) continue;
    seen.add(spanKey(t.span));
    found.push(other ? { term: t, target, other } : { term: t, target });
  }
  cache.set(facts, found);
  return found;
}

/** Is every binding of the name in its own scope the number 0 (no parameter, loop or accumulation)? */
function onlyZero(scope: Scope, name: string): boolean {
  const all = scope.allBindings(name);
  return all.length > 0 && all.every((b) => b.kind === 'assign' && !b.op && b.value?.kind === 'num' && b.value.value === 0);
}

/**
 * Is the constant one piece of a sum its strength is distributed over, beside a piece that is no
 * scalar? `lam * (np.sum(W) - 1)` (a sum-to-one constraint) and `lam * (W - 1)` (a pull toward 1)
 * give −lam, which is no decay of its own: the term is lam times something of W.
 */
function strengthDistributedOverTensor(facts: Facts, t: RegGradientTerm): boolean {
  const a = facts.analyzer;
  const coefNames = penaltyCoefficientNames(facts);
  const strength = (name: string): boolean => isStrengthSymbol(facts, name) || coefNames.has(name.replace(/^.*\./, ''));
  for (const f of t.summand.num) {
    if (!f.outer || !a.classify(f.expr, f.scope, f.at, f.env).coef.syms.some((x) => x.pow > 0 && strength(x.name))) continue;
    for (const other of t.site.increment) {
      if (other === t.summand || !other.num.some((g) => g.expr === f.expr)) continue;
      const p = a.classifySummand(other);
      if (p.tensor || p.penalty || p.params.length + p.abs.length + (p.signs?.length ?? 0) > 0) return true;
    }
  }
  return false;
}

/**
 * Does `e` read the parameter's values (`w`, `w[j]`, `self.W`)? Its attributes and methods
 * (`p.grad is None`, `p.dim() > 1`) say nothing about its sign and do not count.
 */
function mentionsParam(e: Expr, param: Expr): boolean {
  const key = exprKey(param);
  if (key === undefined) return false;
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    const k = exprKey(x);
    if (k === key) return true;
    if (x.kind === 'attr') continue;
    if (x.kind === 'index' && exprKey(baseExpr(x)) === key) return true;
    stack.push(...children(x));
  }
  return false;
}

/** Is the step inside an `if`/`while` whose condition reads the parameter (`if w[j] > 0:`, its `else` included)? */
function guardedByParam(facts: Facts, span: Span, param: Expr): boolean {
  for (const st of programIndex(facts).stmtBySpan.values()) {
    if (st.kind !== 'block' || (st.label !== 'if' && st.label !== 'while')) continue;
    if (st.span.start > span.start || span.end > st.span.end) continue;
    if (st.heads.some((h) => mentionsParam(h, param))) return true;
  }
  return false;
}
