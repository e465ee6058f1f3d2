// Penalties added to losses: `loss += reg * np.sum(W * W)`,
// `loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))`, `reg_loss = ...; loss = data + reg_loss`,
// `loss = criterion(out, y) + lam * sum(p.pow(2).sum() for p in model.parameters())`, Nielsen's
// `cost += 0.5*(lmbda/len(data))*sum(np.linalg.norm(w)**2 for w in self.weights)`. Keyed by parameter,
// so a rule can ask "what penalty does this function's (class's, file's) loss put on W?". Also keeps
// every summand of every loss, for rules about the penalty's shape.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef, PenaltyKind } from '../../math/terms';
import { ONE, mul, neg } from '../../math/coef';
import type { Facts } from './index';
import type { Env, ParamOccurrence, PenaltyTerm, Product, Summand } from './analysis';
import { returnsOf } from './resolve';
import { regularizerValueSites } from './regularizerObjects';
import { numberOf, penaltyOfProduct } from './analysis';
import { exprKey, lastComponent } from './keys';
import type { FunctionDef, Scope } from './scope';
import {
  isAmbiguousObjectiveName, isGradientLike, isMaximizedObjectiveName, isObjectiveName, isObjectiveRecordName, isPenaltyVariableName, isRegularizationStrengthName, isWeightCollectionKey, isWeightName,
  mentionsNonnegativity, namesL2Regularization,
} from './roles';
import { loopCollectionKey, paramIds } from './gradients';
import { programIndex, spanKey } from './program';
import { trainingFacts } from './loops';
import { lossesBesideGradients, penalizedObjective, unpackedLosses } from './tupleLosses';
import { ABS_FUNCTIONS, REDUCTION_KEYWORDS, SUM_FUNCTIONS, listArrayComprehension } from './catalogue';

export interface LossSite {
  /** The value that is, or is added to, the objective. */
  expr: Expr;
  scope: Scope;
  at: number;
  span: Span;
  /** The variable assigned (`loss`, `self.loss`, `reg_loss`), when there is one. */
  key?: string;
  /** −1 for `loss -= ...` and for maximized objectives (`ll = ... - 0.5 * lam * Σθ²`). */
  sign: 1 | -1;
  /** The loss is differentiated by autodiff (`backward()`, `tape.gradient`, `jax.grad`, `minimize`). */
  autodiff: boolean;
  /** The variable is rescaled afterwards (`loss /= N`), so the written coefficient is not the final one. */
  scaledLater: boolean;
  fn?: FunctionDef;
  /** Parameters bound for the analysis (a regularizer object's value method: its weight). */
  env?: Env;
  /** A regularizer object's value method (regularizerObjects.ts): the penalty is what it returns, not a loss. */
  penaltyMethod?: FunctionDef;
}

export interface LossPenalty {
  kind: PenaltyKind;
  /** The coefficient on the objective to be minimized (a maximized objective's sign undone). */
  coef: Coef;
  param: ParamOccurrence;
  ids: string[];
  /** The summand of the loss that holds the penalty, as written. */
  span: Span;
  site: LossSite;
  via?: string;
  defs: { span: Span; what: string }[];
  /** Variables passed through to reach the penalty (`reg_loss` in `loss = data + reg_loss`). */
  through: string[];
  /** For a plain norm: the norm calls as written (analysis.ts `PenaltyTerm.norms`). */
  norms?: { span: Span; frobenius: boolean; autodiff: boolean; root?: Span }[];
}

/** A variable a loss's summand is read through: where the loss reads it, and the one assignment it was given (`reg_loss = ...`). */
export interface Through {
  key: string;
  span: Span;
  defined?: Span;
}

/** One summand of a loss with its classification, for shape rules. */
export interface LossSummand {
  summand: Summand;
  product: Product;
  site: LossSite;
  /** Variables passed through to reach this summand (`reg_loss` in `loss = data + reg_loss`), with the assignment that gave the value when there is one. */
  through: Through[];
  /** The summand's coefficient from outside the variables passed through. */
  outerCoef: Coef;
  /** The summand of the loss as written that this one was expanded from (`reg * reg_loss` for each term of `reg_loss`). */
  written: Span;
}

export interface LossFacts {
  sites: LossSite[];
  penalties: LossPenalty[];
  summands: LossSummand[];
}

const cache = new WeakMap<Facts, LossFacts>();

export function lossFacts(facts: Facts): LossFacts {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

/** How a message names where a penalty is: `the loss adds` it, or a regularizer's `cost returns` it. */
export function penaltyVerb(p: LossPenalty): string {
  return p.site.penaltyMethod ? `${p.site.penaltyMethod.name}() returns` : 'the loss adds';
}

/** How a message names where a penalty is, as a noun phrase: `the loss`, or `cost()`. */
export function penaltyPlace(p: LossPenalty): string {
  return p.site.penaltyMethod ? `${p.site.penaltyMethod.name}()` : 'the loss';
}

const coefficientNames = new WeakMap<Facts, Set<string>>();

/**
 * The symbols that multiply a penalty in the file's losses, by their last name (`gamma` for
 * `self.gamma * ‖β‖²`): whatever multiplies a penalty is a regularization strength, however it is called.
 */
export function penaltyCoefficientNames(facts: Facts): Set<string> {
  let names = coefficientNames.get(facts);
  if (!names) {
    names = new Set();
    for (const p of lossFacts(facts).penalties) for (const x of p.coef.syms) if (x.pow > 0) names.add(x.name.replace(/^.*\./, ''));
    coefficientNames.set(facts, names);
  }
  return names;
}

/**
 * Penalties on the parameter with identities `ids` in the losses nearest to `scope`: the same
 * function first, then the same class, then the file (outside other classes).
 */
export function penaltiesFor(facts: Facts, ids: string[], scope: Scope, from?: readonly LossPenalty[]): LossPenalty[] {
  const own = nearestPenalties(facts, ids, scope, from);
  if (own.length > 0) return own;
  // None on the weight itself: a penalty summed over the items of the collection it is.
  const items = withItems(ids);
  return items.length > ids.length ? nearestPenalties(facts, items, scope, from) : own;
}

/**
 * The loss facts collected afresh, not cached: for a question asked under an assumption
 * (analysis.ts `underAssumption`), whose answers must not be kept as the file's.
 */
export function freshLossFacts(facts: Facts): LossFacts {
  return collect(facts);
}

function nearestPenalties(facts: Facts, ids: string[], scope: Scope, from?: readonly LossPenalty[]): LossPenalty[] {
  const all = from ? from.filter((p) => p.ids.some((id) => ids.includes(id))) : penaltiesOfIds(facts, ids);
  // A regularizer object's weight meets only its own value method's penalty.
  if (ids.some((id) => id.startsWith('object:'))) return all;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(scope);
  const cls = fn?.scope.classScope ?? classOf(scope);
  const sameFn = all.filter((p) => p.site.fn === fn);
  if (sameFn.length > 0) return sameFn;
  if (cls) {
    const sameClass = all.filter((p) => (p.site.fn?.scope.classScope ?? classOf(p.site.scope)) === cls);
    if (sameClass.length > 0) return sameClass;
  }
  // Elsewhere in the file only when the two places are part of one computation.
  return all.filter((p) => {
    const other = p.site.fn?.scope.classScope ?? classOf(p.site.scope);
    if (other && cls && other !== cls) return false;
    return linked(facts, fn, p.site.fn);
  });
}

/**
 * A weight's identities with the identity of the items of the collection it is (gradients.ts
 * `paramIds`: its key comes first): `self.weights[i]` (read as `weights`, an item's index dropped)
 * meets a penalty summed over the items, `sum(np.sum(w ** 2) for w in self.weights)` (`each:weights`).
 * d/dWᵢ of λ·Σⱼ‖Wⱼ‖² is 2λ·Wᵢ; for one array walked by rows, Σ over the rows is the whole array's sum.
 */
function withItems(ids: string[]): string[] {
  const key = ids[0];
  if (key === undefined || key.startsWith('each:') || key.startsWith('object:') || ids.includes(`each:${key}`)) return ids;
  return [...ids, `each:${key}`];
}

const penaltiesById = new WeakMap<Facts, Map<string, number[]>>();

/**
 * The file's loss penalties that share an identity with `ids` (gradients.ts `sameParam`), in file
 * order: gathered from an index by identity rather than by testing every penalty, which every
 * gradient term of a long file would otherwise do.
 */
function penaltiesOfIds(facts: Facts, ids: string[]): LossPenalty[] {
  const { penalties } = lossFacts(facts);
  let byId = penaltiesById.get(facts);
  if (!byId) {
    byId = new Map();
    penalties.forEach((p, i) => {
      for (const id of p.ids) {
        const list = byId!.get(id);
        if (!list) byId!.set(id, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
    penaltiesById.set(facts, byId);
  }
  if (ids.length === 1) return (byId.get(ids[0]) ?? []).map((i) => penalties[i]);
  const positions = new Set<number>();
  for (const id of ids) for (const i of byId.get(id) ?? []) positions.add(i);
  return [...positions].sort((a, b) => a - b).map((i) => penalties[i]);
}

/** Does one function call the other, or does one function call both? Module-level code counts as a caller. */
function linked(facts: Facts, a: FunctionDef | undefined, b: FunctionDef | undefined): boolean {
  const index = programIndex(facts);
  const callers = (f: FunctionDef): Set<FunctionDef | undefined> => {
    const out = new Set<FunctionDef | undefined>();
    for (const c of index.callsTo(f)) out.add(index.enclosingFunction(c.scope));
    return out;
  };
  if (!a && !b) return true;
  if (!a || !b) {
    // Module-level code and a function it calls.
    const f = (a ?? b)!;
    return callers(f).has(undefined);
  }
  const ca = callers(a);
  const cb = callers(b);
  if (ca.has(b) || cb.has(a)) return true;
  for (const c of ca) if (cb.has(c)) return true;
  return false;
}

function classOf(scope: Scope): Scope | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.kind === 'class') return s;
  return undefined;
}

// ------------------------------------------------------------------ collection

/**
 * `obj`, `objective`: a name both a loss and a maximized objective go by. The penalty decides which:
 * a squared or absolute norm of weights added with a positive sign (`obj += 0.5 * reg * np.sum(W ** 2)`,
 * `obj = data + lam * l2`) is a loss's penalty, as one subtracted is a maximized objective's. Without a
 * penalty in the statement the name decides, as before.
 */
function minimizedByPenalty(facts: Facts, st: Stmt & { kind: 'assign' | 'return' }, scope: Scope, name: string, value: Expr): boolean {
  if (!isAmbiguousObjectiveName(name)) return false;
  const opSign = st.kind === 'assign' && st.op === '-' ? -1 : 1;
  let added = false;
  for (const x of facts.analyzer.summands(value, scope, st.span.start)) {
    const pen = facts.analyzer.classifySummand(x).penalty;
    if (!pen) continue;
    if (x.sign * opSign < 0) return false;
    added = true;
  }
  return added;
}

function collect(facts: Facts): LossFacts {
  const index = programIndex(facts);
  const sites: LossSite[] = [];
  const autodiffKeys = new Set<string>();
  const autodiffFns = new Set<FunctionDef>();
  const inlineAutodiff: { expr: Expr; scope: Scope; at: number }[] = [];
  const fnKey = (fn: FunctionDef | undefined, key: string): string => `${fn ? spanKey(fn.span) : 'module'}|${key}`;

  // What autodiff differentiates (facts/autodiff.ts, through the training facts), and what Keras's
  // add_loss registers as a loss.
  const markExpr = (e: Expr | undefined, s: Scope, a: number): void => {
    if (!e) return;
    const key = exprKey(e);
    if (key !== undefined) autodiffKeys.add(fnKey(index.enclosingFunction(s), key));
    else inlineAutodiff.push({ expr: e, scope: s, at: a });
    for (const k of mentionedKeys(e)) autodiffKeys.add(fnKey(index.enclosingFunction(s), k));
  };
  for (const d of trainingFacts(facts).diffs) {
    if (d.loss) markExpr(d.loss, d.info.scope, d.info.stmt.span.start);
    if (d.fn) autodiffFns.add(d.fn);
    else for (const r of d.returns ?? []) markExpr(r.expr, r.scope, r.at);
  }
  for (const { call, scope, at } of [...index.callsNamed('add_loss'), ...index.callsNamed('addLoss')]) {
    const arg = call.args[0];
    if (arg?.kind === 'lambda') markFunctionLike(arg);
    else markExpr(arg, scope, at);
  }
  function markFunctionLike(lambda: Expr & { kind: 'lambda' }): void {
    const ls = facts.scopes.lambdaScopes.get(lambda);
    if (!ls) return;
    if (lambda.body) {
      const key = exprKey(lambda.body);
      if (key !== undefined) autodiffKeys.add(fnKey(index.enclosingFunction(ls), key));
      else inlineAutodiff.push({ expr: lambda.body, scope: ls, at: Infinity });
    }
    for (const st of lambda.stmts) collectReturns(st, (value, s, at) => {
      const key = exprKey(value);
      if (key !== undefined) autodiffKeys.add(fnKey(index.enclosingFunction(s), key));
      else inlineAutodiff.push({ expr: value, scope: s, at });
    });
  }
  function collectReturns(st: Stmt, f: (value: Expr, scope: Scope, at: number) => void): void {
    if (st.kind === 'return' && st.value) f(st.value, facts.scopes.stmtScopes.get(st) ?? facts.scopes.root, st.span.start);
    if (st.kind === 'block' || st.kind === 'for') for (const inner of st.body) collectReturns(inner, f);
  }

  const isAutodiff = (fn: FunctionDef | undefined, key: string | undefined): boolean =>
    (fn !== undefined && autodiffFns.has(fn)) || (key !== undefined && autodiffKeys.has(fnKey(fn, key)));

  // Assignments to objectives and returns of loss functions.
  for (const st of index.stmtBySpan.values()) {
    const scope = facts.scopes.stmtScopes.get(st) ?? facts.scopes.root;
    const fn = index.enclosingFunction(scope);
    if (st.kind === 'assign' && st.targets.length === 1 && (st.op === undefined || st.op === '+' || st.op === '-')) {
      const target = st.targets[0];
      if (target.kind !== 'name' && target.kind !== 'attr' && target.kind !== 'index') continue;
      const last = lastComponent(target) ?? '';
      // Named for an objective, or, whatever its name, returned as the loss beside its gradients (tupleLosses.ts).
      const named = isObjectiveName(last) || isMaximizedObjectiveName(last);
      // The cheap tests by name first: a gradient or a record is never a loss, and penalizedObjective asks the Analyzer.
      if (isObjectiveRecordName(last) || isGradientLike(target)) continue;
      if (!named && !(target.kind === 'name' && fn && (lossesBesideGradients(facts, fn).has(last) || unpackedLosses(facts, fn).has(last))) && !(target.kind === 'name' && penalizedObjective(facts, st, scope))) continue;
      const key = exprKey(target);
      const maximized = named && isMaximizedObjectiveName(last) && !minimizedByPenalty(facts, st, scope, last, st.value);
      const sign = ((st.op === '-' ? -1 : 1) * (maximized ? -1 : 1)) as 1 | -1;
      sites.push({
        expr: st.value, scope, at: st.span.start, span: st.span, key, sign, fn,
        autodiff: isAutodiff(fn, key) || (fn !== undefined && autodiffFns.has(fn)),
        scaledLater: key !== undefined && scaledAfter(scope, key, st.span.start),
      });
    } else if (st.kind === 'return' && st.value && fn && (isObjectiveName(fn.name) || isMaximizedObjectiveName(fn.name)) && !isGradientLike({ kind: 'name', name: fn.name, span: fn.span })) {
      const value = st.value.kind === 'seq' && st.value.items.length > 0 ? st.value.items[0] : st.value;
      if (exprKey(value) !== undefined) continue; // `return loss`: the assignments are sites already
      const maximized = isMaximizedObjectiveName(fn.name) && !minimizedByPenalty(facts, st, scope, fn.name, value);
      sites.push({ expr: value, scope, at: st.span.start, span: st.span, sign: maximized ? -1 : 1, fn, autodiff: autodiffFns.has(fn), scaledLater: false });
    }
  }
  for (const { expr, scope, at } of inlineAutodiff) {
    sites.push({ expr, scope, at, span: expr.span, sign: 1, fn: index.enclosingFunction(scope), autodiff: true, scaledLater: false });
  }
  // A regularizer object's value method returns its penalty: a loss for its gradient method to match.
  for (const v of regularizerValueSites(facts)) sites.push({ expr: v.expr, scope: v.scope, at: v.at, span: v.span, sign: 1, fn: v.fn, autodiff: false, scaledLater: false, env: v.env, penaltyMethod: v.fn });

  const penalties: LossPenalty[] = [];
  const summands: LossSummand[] = [];
  const seen = new Set<string>();
  for (const site of sites) {
    expand(facts, site, site.expr, site.scope, site.at, site.sign === 1 ? ONE : neg(ONE), [], 0, site.env, undefined, (s, product, through, outerCoef, written) => {
      summands.push({ summand: s, product, site, through, outerCoef, written });
      const pen = penaltyOfProduct(product);
      if (!pen) return;
      for (const occ of pen.params) {
        const dedupe = `${spanKey(s.site)}|${spanKey(site.span)}|${spanKey(occ.expr.span)}`;
        if (seen.has(dedupe)) continue;
        seen.add(dedupe);
        const scope = programIndex(facts).scopeAt(occ.expr.span.start);
        penalties.push({
          kind: pen.kind, coef: mul(outerCoef, pen.coef), param: occ, ids: paramIds(facts, occ, scope), span: s.site, site, via: pen.via, defs: pen.defs,
          through: through.map((t) => t.key), norms: pen.norms,
        });
      }
    });
  }
  return { sites, penalties, summands };
}

/** Keys of names and attributes mentioned in an expression (`loss` in `(loss + aux).backward()`). */
function mentionedKeys(e: Expr): string[] {
  const out: string[] = [];
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.kind === 'name' || x.kind === 'attr') {
      const k = exprKey(x);
      if (k !== undefined) out.push(k);
    }
    if (x.kind === 'binary') stack.push(x.left, x.right);
    if (x.kind === 'unary') stack.push(x.arg);
    if (x.kind === 'call' && x.callee.kind === 'attr') stack.push(x.callee.object, ...x.args);
  }
  return out;
}

/** Is `key` multiplied or divided in `scope` after `at` (`loss /= num_train`)? */
function scaledAfter(scope: Scope, key: string, at: number): boolean {
  return scope.allBindings(key).some((b) => b.at > at && (b.op === '*' || b.op === '/' || (b.kind === 'assign' && !b.op && b.value && isSelfScaled(b.value, key))));
}

function isSelfScaled(value: Expr, key: string): boolean {
  return value.kind === 'binary' && (value.op === '/' || value.op === '*') && (exprKey(value.left) === key || exprKey(value.right) === key);
}

/**
 * Walks the summands of a loss, expanding variables that hold a sum of penalties (`reg_loss`) so
 * each parameter gets its own coefficient.
 */
function expand(
  facts: Facts,
  site: LossSite,
  expr: Expr,
  scope: Scope,
  at: number,
  factor: Coef,
  through: Through[],
  depth: number,
  env: Env | undefined,
  written: Span | undefined,
  emit: (s: Summand, p: Product, through: Through[], outerCoef: Coef, written: Span) => void,
): void {
  const a = facts.analyzer;
  for (const s of a.summands(expr, scope, at, env)) {
    const top = written ?? s.site;
    const product = a.classifySummand(s);
    const pen: PenaltyTerm | undefined = penaltyOfProduct(product);
    const variable = depth < 3 ? expandableFactor(facts, s) : undefined;
    if (variable && (!pen || pen.params.length > 1 || product.tensor)) {
      const rest = a.classifySummand({ ...s, num: s.num.filter((f) => f !== variable.factor) });
      if (!rest.tensor && !rest.penalty && rest.params.length === 0 && rest.abs.length === 0 && !rest.signs?.length) {
        const next = [...through, { key: variable.key, span: variable.factor.expr.span, defined: variable.values.length === 1 ? variable.values[0].span : undefined }];
        for (const b of variable.values) expand(facts, site, b.value, b.scope, b.at, mul(factor, mul(rest.coef, b.sign === 1 ? ONE : neg(ONE))), next, depth + 1, undefined, top, emit);
        continue;
      }
    }
    emit(s, product, through, factor, top);
  }
}

/** A factor that is a variable holding a sum (`reg_loss = a + b`, or `pen = 0` with `pen += ...` adds). */
function expandableFactor(
  facts: Facts,
  s: Summand,
): { factor: Summand['num'][number]; key: string; values: { value: Expr; scope: Scope; at: number; sign: 1 | -1; span: Span }[] } | undefined {
  for (const f of s.num) {
    if (f.env || (f.expr.kind !== 'name' && f.expr.kind !== 'attr')) continue;
    const key = exprKey(f.expr);
    if (key === undefined || facts.analyzer.isParam(f.expr)) continue;
    const binding = f.scope.lookup(key, f.at);
    if (!binding || binding.kind !== 'assign') continue;
    if (binding.value && !binding.op) {
      if (binding.value.kind !== 'binary' && binding.value.kind !== 'call') continue;
      if (facts.analyzer.summands(binding.value, binding.scope, binding.at).length < 2) continue;
      return { factor: f, key, values: [{ value: binding.value, scope: binding.scope, at: binding.at, sign: 1, span: binding.span }] };
    }
    // `pen = 0.0` then `pen += ...` (possibly in a loop).
    const all = binding.scope.allBindings(key).filter((b) => b.at < f.at || b.loops.length > 0);
    const start = all.find((b) => b.kind === 'assign' && !b.op && b.value && b.value.kind === 'num' && b.value.value === 0);
    if (!start) continue;
    const adds = all.filter((b) => b.at > start.at);
    if (adds.length === 0 || adds.some((b) => (b.op !== '+' && b.op !== '-') || !b.value)) continue;
    return { factor: f, key, values: adds.map((b) => ({ value: b.value!, scope: b.scope, at: b.at, sign: b.op === '-' ? -1 : 1, span: b.span })) };
  }
  return undefined;
}

// ------------------------------------------------------------------ shapes

/** Penalty shapes that are not norms: ΣW, (ΣW)², |ΣW|. */
export type Shape = 'plain-sum' | 'square-of-sum' | 'abs-of-sum';


/**
 * Is W kept nonnegative by the code: `np.maximum(W, 0)`, `W.clamp_(min=0)`, `W[W < 0] = 0`,
 * `W = np.exp(...)`, or is the file about nonnegative weights (NMF), where ΣW is the L1 norm?
 * Read from the file's text: the clamps are spread over statements of every form (masked
 * assignments, in-place methods, reparametrizations), and any one of them is enough.
 */
function keptNonnegative(facts: Facts, param: ParamOccurrence): boolean {
  const text = facts.text;
  if (mentionsNonnegativity(text)) return true;
  const n = escapeRegExp(facts.source(param.base.span));
  const patterns = [
    `maximum\\(\\s*(0(\\.0*)?\\s*,\\s*)?${n}\\b`,
    `\\b${n}\\b[\\w.()]*\\.clamp_?\\(\\s*(min\\s*=\\s*)?0`,
    `clip\\(\\s*${n}\\b\\s*,\\s*0`,
    `\\b${n}\\s*\\[\\s*${n}\\s*<=?\\s*0\\s*\\]\\s*=\\s*0`,
    `\\b${n}\\s*=\\s*(np\\.|torch\\.|jnp\\.)?(abs|exp|square|softplus|relu)\\(`,
    `(softplus|relu)\\(\\s*${n}\\b`,
  ];
  return patterns.some((p) => new RegExp(p).test(text));
}

/**
 * Whether a strength that appears squared in a penalty (`lam * lam * ΣW²`) is written as a power
 * on purpose (`lam ** 2`, `pow(lam, 2)`, `np.square(lam)`) at one of the places it is built from.
 */
export function writtenAsPower(facts: Facts, name: string, places: Span[]): boolean {
  const escaped = escapeRegExp(name);
  const power = new RegExp(`${escaped}\\s*\\*\\*|(pow|square)\\(\\s*${escaped}\\b`);
  return places.some((span) => power.test(facts.source(span)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The factors of a loss summand that are a penalty shaped like no norm (ΣW, (ΣW)², |ΣW|), written
 * there, bound to a variable used there (`l1_penalty = np.sum(W)`; `loss += lam * l1_penalty`), or
 * returned by the project's function the summand calls (`loss = data + self.penalty()` with
 * `def penalty(self): return self.lam * np.sum(self.W)`; one hop, each return read on its own, so a
 * method that returns 0 when the penalty is off still shows its other branch).
 * The summand must be a penalty: its coefficient a regularization strength, or its variable (or the
 * function returning it) named like a penalty (roles.ts); a plain sum of weights kept nonnegative is their L1 norm.
 */
export function notNormPenalties(facts: Facts, s: LossSummand): { shape: Shape; param: ParamOccurrence; expr: Expr }[] {
  const out: { shape: Shape; param: ParamOccurrence; expr: Expr }[] = [];
  const a = facts.analyzer;
  const names = [s.site.key, ...s.through.map((t) => t.key)].filter((k): k is string => k !== undefined);
  const visit = (summand: Summand, outer: Coef, named: string[], hops: number): void => {
    for (const f of summand.num) {
      const others = (): Product => a.classifySummand({ ...summand, sign: 1, num: summand.num.filter((x) => x !== f) });
      const candidates: { expr: Expr; scope: Scope; at: number; named?: string }[] = [{ expr: f.expr, scope: f.scope, at: f.at }];
      // `l1_penalty = np.sum(W)` then `loss += lam * l1_penalty`.
      if (f.expr.kind === 'name' || f.expr.kind === 'attr') {
        const key = exprKey(f.expr);
        const b = key !== undefined && !f.env?.has(key) ? f.scope.lookup(key, f.at) : undefined;
        if (b?.kind === 'assign' && b.value && !b.op && b.scope.allBindings(b.key).length === 1) candidates.push({ expr: b.value, scope: b.scope, at: b.at, named: key });
      }
      for (const c of candidates) {
        const found = shapeOf(facts, c.expr, c.scope, c.at, f.env);
        if (!found) continue;
        const rest = others();
        if (!onlyCoefficient(rest)) continue;
        const coefNames = [...rest.coef.syms, ...outer.syms].filter((x) => x.pow > 0).map((x) => x.name);
        const all = [c.named, ...named].filter((k): k is string => k !== undefined).map((k) => k.replace(/^.*\./, ''));
        // A cost function named for L2 regularization (`l2_reg_cost`) says its penalty is one, whatever its strength is called.
        const regLike = coefNames.some(isRegularizationStrengthName) || all.some(isPenaltyVariableName) || (s.site.fn !== undefined && namesL2Regularization(s.site.fn.name));
        if (!regLike) continue;
        if (found.shape === 'plain-sum' && keptNonnegative(facts, found.param)) continue;
        out.push(found);
      }
      if (hops > 0 || f.expr.kind !== 'call') continue;
      const target = a.callTarget(f.expr, f.scope, f.at);
      if (!target || target.constructs) continue;
      const returns = returnsOf(facts.program, target.fn);
      if (returns.length === 0 || returns.length > 4) continue;
      const rest = others();
      if (!onlyCoefficient(rest)) continue;
      const inner = a.argumentEnv(f.expr, target, f.scope, f.at, f.env);
      const outerHere = { ...outer, syms: [...rest.coef.syms, ...outer.syms] };
      for (const r of returns) for (const t of a.summands(r.expr, r.scope, r.at, inner)) visit(t, outerHere, [...named, target.fn.name], hops + 1);
    }
  };
  visit(s.summand, s.outerCoef, names, 0);
  return out;
}

/** A product that is only a coefficient: no tensor, penalty, parameter, absolute value or sign. */
function onlyCoefficient(p: Product): boolean {
  return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
}

/** `np.sum(W)`, `W.sum()`, `tf.reduce_sum(W)`, `w.reduce((s, v) => s + v, 0)`; its square; its absolute value. */
export function shapeOf(facts: Facts, e: Expr, scope: Scope, at: number, env?: Env): { shape: Shape; param: ParamOccurrence; expr: Expr } | undefined {
  if (e.kind === 'binary' && e.op === '**' && numberOf(e.right) === 2) {
    const p = plainSum(facts, e.left, scope, at, env);
    return p ? { shape: 'square-of-sum', param: p, expr: e } : undefined;
  }
  if (e.kind === 'call') {
    const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : '';
    const method = e.callee.kind === 'attr' && !facts.analyzer.isModule(e.callee.object);
    const operand = method ? (e.callee as { object: Expr }).object : e.args[0];
    if (!operand) return plainSumShape(facts, e, scope, at, env);
    // The exponent may be missing while it is being typed (`w.pow()`).
    const exponent = method ? e.args[0] : e.args[1];
    if (name === 'square' || ((name === 'pow' || name === 'power') && exponent !== undefined && numberOf(exponent) === 2)) {
      const p = plainSum(facts, operand, scope, at, env);
      return p ? { shape: 'square-of-sum', param: p, expr: e } : undefined;
    }
    if (ABS_FUNCTIONS.has(name)) {
      const p = plainSum(facts, operand, scope, at, env);
      return p ? { shape: 'abs-of-sum', param: p, expr: e } : undefined;
    }
  }
  return plainSumShape(facts, e, scope, at, env);
}

function plainSumShape(facts: Facts, e: Expr, scope: Scope, at: number, env?: Env): { shape: Shape; param: ParamOccurrence; expr: Expr } | undefined {
  const p = plainSum(facts, e, scope, at, env);
  return p ? { shape: 'plain-sum', param: p, expr: e } : undefined;
}

function plainSum(facts: Facts, e: Expr, scope: Scope, at: number, env?: Env): ParamOccurrence | undefined {
  if (e.kind !== 'call') return undefined;
  const a = facts.analyzer;
  const name = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : '';
  const method = e.callee.kind === 'attr' && !a.isModule(e.callee.object);
  let operand: Expr | undefined;
  if (name === 'sum' && e.callee.kind === 'name' && e.args.length === 1 && e.args[0].kind === 'comprehension') {
    // `sum(p.sum() for p in model.parameters())`: a plain sum per parameter.
    const gen = e.args[0];
    return plainSum(facts, gen.element, facts.scopes.lambdaScopes.get(gen) ?? scope, Infinity, env);
  }
  if (SUM_FUNCTIONS.has(name) && name !== 'fsum') {
    if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name))) return undefined;
    if (method ? e.args.length > 0 : e.args.length !== 1) return undefined;
    operand = method ? (e.callee as { object: Expr }).object : e.args[0];
  } else if (name === 'reduce' && method && e.args[0]?.kind === 'lambda') {
    const fn = e.args[0];
    if (fn.params.length < 2 || !fn.body || fn.body.kind !== 'binary' || fn.body.op !== '+') return undefined;
    const names = [fn.body.left, fn.body.right].map((x) => (x.kind === 'name' ? x.name : ''));
    if (!(names.includes(fn.params[0].name) && names.includes(fn.params[1].name))) return undefined;
    operand = (e.callee as { object: Expr }).object;
  } else return undefined;
  if (!operand) return undefined;
  // `np.sum([np.sum(w) for w in ws])`, `np.sum(np.array([...]))`: a total sum of the items' sums, as builtin `sum` of a generator.
  const items = operand.kind === 'comprehension' ? operand : listArrayComprehension(operand, (m) => a.isModule(m));
  if (items && !method && name !== 'reduce') {
    if (items.generators.length !== 1 || items.filtered) return undefined;
    return plainSum(facts, items.element, facts.scopes.lambdaScopes.get(items) ?? scope, Infinity, env);
  }
  const p = a.classify(operand, scope, at, env);
  if (p.tensor || p.penalty || p.params.length !== 1 || p.abs.length > 0 || p.signs?.length) return undefined;
  const base = p.params[0].base;
  if (!a.isParam(base)) return undefined;
  // Weights only: a sum of variances or of mixture weights can be a deliberate penalty.
  const last = lastComponent(base) ?? '';
  const walksParams = base.kind === 'name' && isWeightCollectionKey(loopCollectionKey(facts, base.name, scope, at) ?? '');
  if (!isWeightName(last) && !walksParams) return undefined;
  return p.params[0];
}

