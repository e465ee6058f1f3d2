// Plain norms ‖W‖₂ in losses whose code says the squared norm was meant, for NB105, when no
// hand-written gradient sits next to them to say it: a cost-only function such as
// `l2_reg_cost(cost, lambtha, weights, L, m)` that adds `lambtha / (2 * m) * np.linalg.norm(W)`.
//
// What the code says the value is, read from the places the penalty goes through: the function
// that writes the norm and the function whose loss adds it (a helper's callers included, since the
// analyzer reads a call through its callee), their names and docstrings, and the variables that
// hold the value (`L2_regularization_cost = ...`, `l2_cost = l2_reg_cost(...)`). A name or a
// docstring that says L2 regularization (roles.ts) is intent; so is a regularization-named cost
// whose coefficient has the ½ of ½λΣW², which is there only to cancel the 2 of the square's
// gradient. Anything that calls the value a norm (`weight_norm`, "the L2 norm of the weights",
// group lasso, a spectral norm, a metric) makes the norm deliberate, and so does a gradient
// W/‖W‖ of the same parameter, the plain norm's own. NumPy's `np.linalg.norm(W, 2)` is left
// alone: of a matrix it is the spectral norm, not √ΣW² (catalogue.ts `normOrder`).
//
// Only losses whose gradient is derived by hand: a loss differentiated by autodiff, or a norm of
// an autodiff framework (`torch.norm`, `tf.norm`, `p.norm()`), trains exactly the plain norm it
// writes, and an `l2_reg += torch.norm(param)` there is a deliberate choice as far as the code
// shows (NB105's docs: a plain norm with no hand-written gradient).
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { lossFacts, type LossPenalty } from './losses';
import { regGradientTerms, sameParam } from './gradients';
import { programIndex, spanKey } from './program';
import { within } from './loops';
import { docstring } from './decayIntent';
import { canonicalCoef } from './symbols';
import { coef, coefRatio } from '../../math/coef';
import type { Coef } from '../../math/terms';
import type { FunctionDef, Scope } from './scope';
import { docSaysL2Regularization, docSaysNormOnPurpose, docSaysSquaredNorm, isSizeSymbol, namesL2Regularization, namesNorm, namesRegularization } from './roles';

/** Where the code says the squared norm was meant. */
export interface SquaredNormIntent {
  /** For a message: `l2_reg_cost()'s docstring says it computes L2 regularization`. */
  says: string;
  span: Span;
  /** What the related note at `span` says. */
  note: string;
}

/** A plain norm in a loss that the code calls an L2 regularization term. */
export interface PlainNormMeantSquared {
  /** The norm call, `np.linalg.norm(W)`. */
  norm: Span;
  /** For a norm written as a root of summed squares (`np.sqrt(total)`): the radicand, `total`. */
  root?: Span;
  /** The penalty the intent was read from. */
  penalty: LossPenalty;
  /** Every loss penalty the norm call reaches (a helper's norm, through each of its callers). */
  all: LossPenalty[];
  intent: SquaredNormIntent;
}

const cache = new WeakMap<Facts, PlainNormMeantSquared[]>();

export function plainNormsMeantSquared(facts: Facts): PlainNormMeantSquared[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): PlainNormMeantSquared[] {
  const penalties = lossFacts(facts).penalties;
  // Every penalty that reaches a loss through a given norm call: one verdict per call.
  const byNorm = new Map<string, { norm: Span; root?: Span; penalties: LossPenalty[] }>();
  for (const p of penalties) {
    if (p.kind !== 'norm2' || !p.norms) continue;
    // A root of summed squares (`np.sqrt(total)` after a loop over the layers) holds no weight in its span.
    const norm = p.norms.find((n) => within(p.param.expr.span, n.span)) ?? p.norms.find((n) => n.root);
    // A framework tensor's norm (`torch.norm`, `tf.norm`, `p.norm()`) is differentiated by autodiff;
    // an explicit order 2 of NumPy's is the spectral norm of a matrix.
    if (!norm || !norm.frobenius || norm.autodiff) continue;
    const key = spanKey(norm.span);
    const entry = byNorm.get(key) ?? { norm: norm.span, root: norm.root, penalties: [] };
    entry.penalties.push(p);
    byNorm.set(key, entry);
  }
  const out: PlainNormMeantSquared[] = [];
  for (const { norm, root, penalties: ps } of byNorm.values()) {
    if (ps.some((p) => deliberate(facts, p, norm))) continue;
    for (const p of ps) {
      const intent = squaredIntent(facts, p, norm);
      if (intent) {
        out.push({ norm, root, penalty: p, all: ps, intent });
        break;
      }
    }
  }
  return out;
}

/** The functions a penalty is written and added in: the one around the norm call first, then the loss's. */
function places(facts: Facts, p: LossPenalty, norm: Span): FunctionDef[] {
  return [writerOf(facts, norm), p.site.fn].filter((f, i, all): f is FunctionDef => f !== undefined && all.indexOf(f) === i);
}

function writerOf(facts: Facts, norm: Span): FunctionDef | undefined {
  const own = facts.program.factsAt(norm);
  const index = own && programIndex(own);
  return index?.enclosingFunction(index.scopeAt(norm.start));
}

/** The plain norm is what the code means: it is called a norm, or differentiated as one (W/‖W‖). */
function deliberate(facts: Facts, p: LossPenalty, norm: Span): boolean {
  // Autodiff differentiates the plain norm it is given: the training is consistent with the loss,
  // and no gradient derived by hand for ½λΣW² is waiting for the square.
  if (p.site.autodiff) return true;
  // The norm of a row or column `W[j]` (summed over j, group lasso), not of the whole tensor.
  if (tensorPart(facts, p.param.expr)) return true;
  const writer = writerOf(facts, norm);
  const callers = places(facts, p, norm).filter((fn) => fn !== writer);
  if (writer) {
    if (namesNorm(writer.name)) return true;
    const doc = docstring(writer.body);
    if (doc && docSaysNormOnPurpose(doc.value)) return true;
  }
  // A caller's docstring is about its own work (a training loop that monitors the cost), not the norm.
  if (callers.some((fn) => namesNorm(fn.name))) return true;
  // A variable named for what it sums (`norm += np.linalg.norm(W)`, `frobenius_norm`) says less than
  // the function it is summed in: in an `l2_reg_cost`, the total is the L2 penalty, whatever its name.
  const valueNamedNorm = [p.site.key, ...p.through].some((k) => k !== undefined && namesNorm(k.replace(/^.*\./, '')));
  if (valueNamedNorm && !places(facts, p, norm).some(saysL2Regularization)) return true;
  // The same loss also holds another penalty on the same weights (an elastic mix of ‖W‖ and ‖W‖²).
  if (lossFacts(facts).penalties.some((q) => q.site === p.site && q.kind !== 'norm2' && sameParam(q.ids, p.ids))) return true;
  return regGradientTerms(facts).some((t) => t.kind === 'normalized' && sameParam(t.ids, p.ids));
}

/** A function named or documented as computing L2 regularization (`l2_reg_cost`, "the cost … with L2 regularization"). */
function saysL2Regularization(fn: FunctionDef): boolean {
  if (namesL2Regularization(fn.name)) return true;
  const doc = docstring(fn.body);
  return doc !== undefined && docSaysL2Regularization(doc.value);
}

function squaredIntent(facts: Facts, p: LossPenalty, norm: Span): SquaredNormIntent | undefined {
  const fns = places(facts, p, norm);
  for (const fn of fns) {
    if (namesL2Regularization(fn.name)) return { says: `${fn.name}() is named for L2 regularization`, span: fn.nameSpan ?? fn.span, note: 'named for L2 regularization here' };
  }
  for (const key of [p.site.key, ...p.through]) {
    const name = key?.replace(/^.*\./, '');
    if (name !== undefined && namesL2Regularization(name)) return { says: `it is stored in ${name}, a name for L2 regularization`, span: p.site.span, note: 'stored under a name for L2 regularization here' };
  }
  for (const fn of fns) {
    const doc = docstring(fn.body);
    if (doc && docSaysL2Regularization(doc.value)) return { says: `the docstring of ${fn.name}() says it computes ${docSaysSquaredNorm(doc.value) ? 'the squared norm' : 'L2 regularization'}`, span: doc.span, note: 'documented here' };
  }
  // A gradient of the same weights elsewhere in the file, λ/m·W for the penalty λ/(2m)·‖W‖: the
  // gradient of λ/(2m)·ΣW², whose ½ it cancels. Functions that are called together are NB105's
  // other check; this one also pairs a cost function with a sibling it is never called beside.
  const b = canonicalCoef(facts, p.coef, p.site.scope, p.site.at);
  for (const t of regGradientTerms(facts)) {
    if (t.kind !== 'linear' || !t.param || t.foreign || !t.coef || t.preconditioned || !sameParam(t.ids, p.ids)) continue;
    const a = canonicalCoef(facts, t.coef, t.site.scope, t.site.at);
    const r = coefRatio(countsAlike(a), countsAlike(b));
    if (r === undefined || Math.abs(r - 2) > 1e-9 || !a.syms.some((x) => x.pow > 0)) continue;
    const fn = programIndex(facts).enclosingFunction(t.site.scope);
    const where = fn ? ` in ${fn.name}()` : '';
    if (t.selfScale) return { says: `the update${where} shrinks the weights by ${flat(facts.source(t.span))} of themselves, the step of the squared norm`, span: t.span, note: 'the squared norm is decayed here' };
    return { says: `the gradient ${flat(facts.source(t.span))}${where} is the gradient of the squared norm`, span: t.span, note: 'the gradient of the squared norm is used here' };
  }
  // `compute_cost_with_regularization`: λ/(2m)·‖W‖ has the ½ that only the square's gradient cancels.
  const half = Math.abs(b.num) === 0.5;
  if (half) {
    for (const fn of fns) {
      if (namesRegularization(fn.name)) return { says: `${fn.name}() is named for regularization and the coefficient has the ½ of ½·λ·ΣW²`, span: fn.nameSpan ?? fn.span, note: 'named for regularization here' };
    }
  }
  return undefined;
}

/**
 * `W[j]`, `W[:, k]`, `ws[i]`: a part of a tensor (or an element of a list), whose norm may be one
 * group of a group lasso. An entry of a container under a string key (`weights['W' + str(i)]`,
 * `params[f'W{l}']`, `weights['W{}'.format(i)]`) is a whole weight.
 */
function tensorPart(facts: Facts, e: Expr): boolean {
  if (e.kind !== 'index') return false;
  const own = facts.program.factsAt(e.span);
  const scope = own && programIndex(own).scopeAt(e.span.start);
  return !e.index.some((i) => stringValued(i, scope, e.span.start));
}

/** A string key, written or held by a variable (`key = 'W' + str(i)`; `weights[key]`). */
function stringValued(e: Expr, scope: Scope | undefined, at: number, depth = 0): boolean {
  if (e.kind === 'str') return true;
  if (e.kind === 'binary' && e.op === '+') return stringValued(e.left, scope, at, depth) || stringValued(e.right, scope, at, depth);
  if (e.kind === 'name' && scope && depth < 4) {
    const b = scope.lookup(e.name, at);
    return b?.kind === 'assign' && !b.op && b.value !== undefined && stringValued(b.value, b.scope, b.at, depth + 1);
  }
  return e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === 'format' && e.callee.object.kind === 'str';
}

/**
 * The coefficient with every count of examples (`m`, `Y.shape[1]`, `len(X)`) written as one symbol:
 * a cost function takes `m` as an argument where its sibling gradient reads `m = Y.shape[1]`.
 */
function countsAlike(c: Coef): Coef {
  return coef(c.num, c.syms.map((x) => (isSizeSymbol(x.name) ? { name: '#examples', pow: x.pow } : x)));
}

function flat(text: string): string {
  return text.replace(/\s+/g, ' ');
}
