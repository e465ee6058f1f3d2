// Decay applied outside the gradient step: a parameter that an optimizer (or a hand-written
// gradient step elsewhere) updates also gets a statement of its own that subtracts a penalty
// gradient with no step size, `self.W -= self.reg.grad(self.W)`, `w -= l2 * w`,
// `p.mul_(1 - wd)` after `optimizer.step()`. The penalty's gradient then moves the weights with
// step size 1 whatever the learning rate is (and whatever its schedule does), instead of
// W ← W − η(∇L + ∇R).
import type { Expr, Span, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import { neg } from '../../math/coef';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import type { UpdateSite } from './updates';
import { baseExpr, exprKey } from './keys';
import { explicitParams, someExpr, type ClassDef, type FunctionDef, type Scope } from './scope';
import { loopCollectionKey, regGradientTerms, splitProduct, type RegGradientTerm } from './gradients';
import { penaltiesFor, penaltyCoefficientNames, type LossPenalty } from './losses';
import { regularizerObjects } from './regularizerObjects';
import { movesModelParameter, stepOf } from './steps';
import { DirectionAnalyzer } from './direction';
import { trainingFacts } from './loops';
import { resolveCall, enclosingClass, returnsOf } from './resolve';
import { isTorchOptimizer } from './decayKnobs';
import { CONSTRUCTOR_METHODS, HANDWRITTEN_OPTIMIZER_METHODS, NO_INSTANCE_DECORATORS, OPTIMIZER_UPDATE_METHODS, optimizerApplyCall } from './catalogue';
import { kerasOptimizerClass } from './optimizerSteps';
import { holdsNumber, isStrengthSymbol } from './strengths';
import { isGradientLike, isLearningRateName, isSizeSymbol } from './roles';
import { programIndex, spanKey } from './program';

export interface DecayOutsideStep {
  site: UpdateSite;
  /** The decay as a gradient term (`lam·W`, `lam·sign(W)`), or, for a regularizer whose class is not known, the call. */
  decay: { kind: 'linear' | 'sign'; coef: Coef; written: Span; throughCall: boolean } | { kind: 'call'; call: Expr; written: Span; throughCall: true };
  /** The gradient step the decay bypasses: an optimizer call, or the parameter's own gradient update. */
  step: Span;
  stepKind: 'optimizer' | 'update';
  /**
   * The decay shares the gradient step's statement, outside its learning rate (`W -= lr * dW + reg * W`),
   * and the loss's penalty on W whose strength it carries (`reg / 2 * np.sum(W ** 2)`).
   */
  shared?: { penalty: LossPenalty };
}

const cache = new WeakMap<Facts, DecayOutsideStep[]>();

export function decaysOutsideStep(facts: Facts): DecayOutsideStep[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  for (const t of regGradientTerms(facts)) {
    if (seen.has(spanKey(t.site.span))) continue;
    if (!candidateTerm(facts, t)) {
      const shared = sharedStatementDecay(facts, t);
      if (shared) {
        seen.add(spanKey(t.site.span));
        found.push(shared);
      }
      continue;
    }
    const hit = confirm(facts, t.site, t.stepCoef.syms);
    if (!hit) continue;
    // A shrink by a plain number that runs once, outside the loop that steps the weight (a rescale
    // before training, `p.mul_(1 - p_drop)` for inference after it), is no decay of the steps.
    if (byNumberOnly(facts, t) && !inStepLoop(facts, t.site, hit.step)) continue;
    seen.add(spanKey(t.site.span));
    const throughCall = t.summand.via.length > 0 || t.summand.num.some((f) => f.expr.kind === 'call' && !f.env);
    found.push({ ...hit, decay: { kind: t.kind as 'linear' | 'sign', coef: neg(t.stepCoef), written: t.span, throughCall } });
  }
  const parsed = facts.program.parsedOf(facts.scopes.root.span);
  const files = parsed ? facts.program.reachable(parsed, MAX_FILES) : [];
  for (const site of facts.updates) {
    if (seen.has(spanKey(site.span))) continue;
    const hit = throughRegularizerCall(facts, site, files);
    if (!hit) continue;
    seen.add(spanKey(site.span));
    found.push(hit);
  }
  // A layer module that does not import its regularizers (they are handed to it): the files a
  // training script or a test reaches hold both, and its run reports in the layer's module.
  for (const file of files.slice(1)) {
    if (!fileMayApplyMethodToItsArgument(file)) continue;
    const other = facts.program.facts(file);
    for (const site of other.updates) {
      const hit = throughRegularizerCall(other, site, files);
      if (hit) found.push(hit);
    }
  }
  cache.set(facts, found);
  return found;
}

const MAX_FILES = 50;

function throughRegularizerCall(facts: Facts, site: UpdateSite, files: ParsedFile[]): DecayOutsideStep | undefined {
  const call = regularizerGradientCall(facts, site, files);
  const hit = call && confirm(facts, site, call.scalars);
  return hit && call ? { ...hit, decay: { kind: 'call', call: call.call, written: site.increment[0].site, throughCall: true } } : undefined;
}

/** Per file: every entry that reaches a file asks the same question of it (the walk was 0.8 % of a run on real code). */
const appliesMethodMemo = new WeakMap<ParsedFile, boolean>();

function fileMayApplyMethodToItsArgument(file: ParsedFile): boolean {
  let known = appliesMethodMemo.get(file);
  if (known === undefined) appliesMethodMemo.set(file, (known = mayApplyMethodToItsArgument(file.module.body, 0)));
  return known;
}

/** `X -= obj.m(X, ...)` somewhere in the statements, by syntax alone (no facts are built for a file without one). */
function mayApplyMethodToItsArgument(stmts: Stmt[], depth: number): boolean {
  if (depth > 12) return false;
  return stmts.some((st) => {
    if (st.kind === 'assign') {
      const v = st.value;
      return st.op === '-' && st.targets.length === 1 && v.kind === 'call' && v.callee.kind === 'attr' && v.args.length > 0 && exprKey(v.args[0]) !== undefined && exprKey(v.args[0]) === exprKey(st.targets[0]);
    }
    return (st.kind === 'function' || st.kind === 'class' || st.kind === 'block' || st.kind === 'for') && mayApplyMethodToItsArgument(st.body, depth + 1);
  });
}

/** `W -= c·W` (or c·sign(W)) alone, with a regularization strength c and no learning rate. */
function candidateTerm(facts: Facts, t: RegGradientTerm): boolean {
  const site = t.site;
  if (site.kind !== 'update' || (t.kind !== 'linear' && t.kind !== 'sign') || !t.param || t.foreign || t.preconditioned) return false;
  // A learning rate read out of the step: it is scaled.
  if (t.coef !== undefined) return false;
  // The step pulls W toward zero: W ← W − c·W.
  if (t.stepCoef.num >= 0) return false;
  const key = exprKey(baseExpr(site.target));
  if (key === undefined || exprKey(t.param.base) !== key) return false;
  // The statement only decays: every summand is a c·W (or c·sign(W)) of the parameter itself.
  if (!decayOnly(facts, site, key)) return false;
  return strengthOnly(facts, t, programIndex(facts).enclosingFunction(site.scope));
}

/**
 * `W -= lr * dW + reg * W`: the decay shares the gradient step's statement but not its learning rate,
 * beside a loss that adds a penalty on W with the decay's strength (`reg / 2 * np.sum(W ** 2)`), whose
 * gradient the decay is. Without such a penalty the same statement is decoupled weight decay
 * (`W -= lr * dW + wd * W`, a per-step shrink rate by definition), and it stays silent.
 */
function sharedStatementDecay(facts: Facts, t: RegGradientTerm): DecayOutsideStep | undefined {
  const site = t.site;
  if (site.kind !== 'update' || (t.kind !== 'linear' && t.kind !== 'sign') || !t.param || t.foreign || t.preconditioned) return undefined;
  if (t.coef !== undefined || t.stepCoef.num >= 0 || site.increment.length < 2) return undefined;
  const key = exprKey(baseExpr(site.target));
  if (key === undefined || exprKey(t.param.base) !== key) return undefined;
  const decaySyms = t.stepCoef.syms.filter((x) => x.pow > 0).map((x) => x.name);
  if (decaySyms.length === 0) return undefined;
  // Every other summand is a gradient term with a step size of its own that the decay does not carry.
  const a = facts.analyzer;
  const others = site.increment.filter((s) => s !== t.summand);
  for (const s of others) {
    const p = a.classifySummand(s);
    if (!p.tensor || p.params.length > 0 || p.penalty || p.abs.length > 0 || p.signs?.length || s.via.length > 0) return undefined;
    // The step size: the scalar factors of the gradient's product (a tensor product keeps no coefficient of its own).
    const stepSyms = s.num.flatMap((f) => {
      const q = a.classify(f.expr, f.scope, f.at, f.env);
      return q.tensor || q.params.length > 0 ? [] : q.coef.syms.filter((x) => x.pow > 0).map((x) => x.name);
    });
    if (stepSyms.length === 0 || stepSyms.some((x) => decaySyms.includes(x))) return undefined;
  }
  if (!addsGradient(facts, site)) return undefined;
  if (!strengthOnly(facts, t, programIndex(facts).enclosingFunction(site.scope))) return undefined;
  const penalty = penaltyWithStrength(facts, site, t, decaySyms, false);
  if (!penalty) return undefined;
  if (!movesModelParameter(facts, site)) return undefined;
  if (decaySyms.some((x) => carriesLearningRate(facts, x, site.scope, site.at, 0))) return undefined;
  const cls = enclosingClass(site.scope);
  if (cls && isTorchOptimizer(facts, cls)) return undefined;
  return { site, step: site.span, stepKind: 'update', shared: { penalty }, decay: { kind: t.kind, coef: neg(t.stepCoef), written: t.span, throughCall: false } };
}

/**
 * A loss's penalty on the weight of the decay's kind (ΣW² for c·W, Σ|W| for c·sign(W)) whose strength
 * is the decay's: every symbol of the decay's coefficient multiplies the penalty. In the nearest loss
 * (penaltiesFor), or, with `sameFunction`, only in the decay's own function.
 */
function penaltyWithStrength(facts: Facts, site: UpdateSite, t: RegGradientTerm, decaySyms: string[], sameFunction: boolean): LossPenalty | undefined {
  const kind = t.kind === 'linear' ? 'sumsq' : 'l1';
  const fn = programIndex(facts).enclosingFunction(site.scope);
  const last = (x: string): string => x.replace(/^.*\./, '');
  return penaltiesFor(facts, t.ids, site.scope).find((p) => {
    // A penalty the minimized objective adds (a positive coefficient): one it subtracts is no decay's.
    if (p.kind !== kind || p.coef.num <= 0 || p.site.autodiff || (sameFunction && p.site.fn !== fn)) return false;
    const names = new Set(p.coef.syms.filter((x) => x.pow > 0).map((x) => last(x.name)));
    return decaySyms.every((x) => names.has(last(x)));
  });
}

/**
 * `self.W -= self.regularizer.grad(self.W)` where the regularizer's class is not known here (it is
 * handed to the layer): the method is a penalty's gradient method in every class of the program's
 * files that defines one of that name (regularizerObjects.ts pairs them by structure), and no
 * other class of those files has a method of that name.
 */
function regularizerGradientCall(facts: Facts, site: UpdateSite, files: ParsedFile[]): { call: Expr; scalars: { name: string; pow: number }[] } | undefined {
  if (site.kind !== 'update' || site.increment.length !== 1) return undefined;
  const s = site.increment[0];
  if (s.sign !== -1 || s.den.length > 0) return undefined;
  const key = exprKey(baseExpr(site.target));
  if (key === undefined) return undefined;
  const a = facts.analyzer;
  const calls = s.num.filter((f) => f.expr.kind === 'call');
  if (calls.length !== 1) return undefined;
  const f = calls[0];
  const call = f.expr as Expr & { kind: 'call' };
  if (call.callee.kind !== 'attr' || call.args.length < 1 || exprKey(call.args[0]) !== key) return undefined;
  if (a.callTarget(call, f.scope, f.at)) return undefined; // resolved: the term analysis has read it
  const rest = a.classifySummand({ ...s, sign: 1, num: s.num.filter((x) => x !== f) });
  if (rest.tensor || rest.penalty || rest.params.length > 0 || rest.abs.length > 0 || rest.signs?.length) return undefined;
  // The other arguments (`grad(self.W, batch_size)`) are scalars the method is given, and their
  // symbols count as the decay's: a learning rate handed to the method scales it.
  const others = [...call.args.slice(1), ...call.kwargs.map((k) => k.value)].map((x) => a.classify(x, f.scope, f.at));
  if (others.some((p) => p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length)) return undefined;
  const scalars = [...rest.coef.syms, ...others.flatMap((p) => p.coef.syms)];
  const name = call.callee.name;
  let found = false;
  for (const file of files) {
    const methods = file.scopes.methodsNamed(name);
    if (methods.length === 0) continue;
    const other = facts.program.factsAt(file.scopes.root.span);
    if (!other) return undefined;
    const gradients = new Set(regularizerObjects(other).flatMap((o) => o.gradients.map((g) => g.fn)));
    // An abstract base's stub (`raise NotImplementedError`) returns nothing and says nothing.
    if (!methods.every((m) => gradients.has(m) || returnsOf(facts.program, m).length === 0)) return undefined;
    if (!methods.some((m) => gradients.has(m))) continue;
    // The call's arguments bind to each gradient method's parameters: the first to its weight.
    if (!methods.every((m) => !gradients.has(m) || bindsWeightFirst(call, m))) return undefined;
    found = true;
  }
  return found ? { call, scalars } : undefined;
}

/** `grad(self.W, n)` binds to `def grad(self, w, batch_size)`: as many positional arguments as parameters, keywords naming the others. */
function bindsWeightFirst(call: Expr & { kind: 'call' }, m: FunctionDef): boolean {
  const params = explicitParams(m);
  if (params.length === 0 || call.args.length > params.length) return false;
  const free = params.slice(call.args.length);
  return call.kwargs.every((k) => free.some((p) => p.name === k.name));
}

/** The decay at `site` bypasses a gradient step of the same parameter. */
function confirm(facts: Facts, site: UpdateSite, scalars: { name: string; pow: number }[]): { site: UpdateSite; step: Span; stepKind: 'optimizer' | 'update' } | undefined {
  const key = exprKey(baseExpr(site.target));
  if (key === undefined || !movesModelParameter(facts, site)) return undefined;
  if (scalars.some((x) => x.pow > 0 && carriesLearningRate(facts, x.name, site.scope, site.at, 0))) return undefined;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  // An optimizer's own step (a framework Optimizer subclass) defines how its decay is applied.
  const cls = enclosingClass(site.scope);
  if (cls && isTorchOptimizer(facts, cls)) return undefined;
  if (cls && inKerasOptimizerUpdate(facts, site.scope, cls)) return undefined;
  // Half of a moving average (`ema.mul_(1 - d)` then `ema.add_(d * p)`): not a decay.
  if (averagedToward(facts, site, key, fn)) return undefined;
  const step = gradientStepOf(facts, site, key, fn);
  if (!step) return undefined;
  // Step sizes the decay shares with that step (`w -= step * g; w -= step * wd * w`): it is scaled.
  if (step.stepSymbols && scalars.some((x) => x.pow > 0 && carriesSymbol(facts, x.name, site.scope, site.at, step.stepSymbols!, 0))) return undefined;
  return { site, step: step.span, stepKind: step.kind };
}

/**
 * Inside a Keras optimizer's own update: the site is in a method the framework calls to update the
 * variables (catalogue OPTIMIZER_UPDATE_METHODS, `update_step`), or in a function nested in one
 * (`def update_fn(): …` called by it), of a class derived from a Keras optimizer base.
 */
function inKerasOptimizerUpdate(facts: Facts, scope: Scope, cls: ClassDef): boolean {
  let method: Scope | undefined;
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (s.parent?.kind === 'class') {
      method = s;
      break;
    }
  }
  if (!method || method.kind !== 'function' || method.parent?.classDef !== cls) return false;
  const name = [...cls.scope.functions.values()].find((f) => f.scope === method)?.name;
  if (name === undefined || !OPTIMIZER_UPDATE_METHODS.keras.has(name)) return false;
  return kerasOptimizerClass(facts, cls);
}

/** A learning rate, or a value computed from one (`decay = lr * lam`, `self.shrink = 1e-2 * self.lr`). */
function carriesLearningRate(facts: Facts, name: string, scope: Scope, at: number, depth: number): boolean {
  if (isLearningRateName(name.replace(/^.*\./, ''))) return true;
  return definedFrom(facts, name, scope, at, depth, (x, s, a, d) => carriesLearningRate(facts, x, s, a, d));
}

/** The symbol is one of `symbols`, or is computed from one. */
function carriesSymbol(facts: Facts, name: string, scope: Scope, at: number, symbols: Set<string>, depth: number): boolean {
  if (symbols.has(name)) return true;
  return definedFrom(facts, name, scope, at, depth, (x, s, a, d) => carriesSymbol(facts, x, s, a, symbols, d));
}

/** Whether some assignment of the name (or attribute) has a value with a symbol passing `test`, a few definitions deep. */
function definedFrom(facts: Facts, name: string, scope: Scope, at: number, depth: number, test: (name: string, scope: Scope, at: number, depth: number) => boolean): boolean {
  if (depth > 4) return false;
  const bindings = [scope.lookup(name, at), ...scope.allBindings(name)].filter((b): b is NonNullable<typeof b> => b !== undefined);
  return bindings.some((b) => {
    if (b.kind !== 'assign' || !b.value) return false;
    // `decay = (lr / lr0) if lr0 else 1.0`: either branch may carry it (the other is a guard's fallback).
    return branches(b.value).some((v) => {
      const p = facts.analyzer.classify(v, b.scope, b.at);
      return p.coef.syms.some((x) => x.name !== name && test(x.name, b.scope, b.at, depth + 1));
    });
  });
}

/** The values a conditional expression may take (`a if c else b`, `c ? a : b`), or the expression itself. */
function branches(e: Expr, depth = 0): Expr[] {
  if (e.kind !== 'cond' || depth > 4) return [e];
  return [...branches(e.then, depth + 1), ...branches(e.else, depth + 1)];
}

function decayOnly(facts: Facts, site: UpdateSite, key: string): boolean {
  const a = facts.analyzer;
  return site.increment.length > 0 && site.increment.every((s) => {
    const p = a.classifySummand(s);
    const occ = [...p.params, ...(p.signs ?? [])];
    return !p.tensor && !p.penalty && p.abs.length === 0 && occ.length === 1 && exprKey(occ[0].base) === key;
  });
}

/**
 * The coefficient is a regularization strength and nothing that could carry a step size: every
 * symbol is a strength (by data flow: it multiplies a penalty in a loss, or it is a regularizer
 * object's own coefficient; by name last), a count or a number. A symbol that is a parameter of the
 * function is a strength only if no caller passes it a learning rate (`decay(w, lr * wd)`).
 */
function strengthOnly(facts: Facts, t: RegGradientTerm, fn: FunctionDef | undefined): boolean {
  const syms = t.stepCoef.syms.filter((x) => x.pow !== 0);
  if (syms.length === 0) return false;
  const coefNames = penaltyCoefficientNames(facts);
  const objectCoefs = regularizerCoefficientNames(facts, t);
  const strength = (name: string): boolean => coefNames.has(name.replace(/^.*\./, '')) || objectCoefs.has(name) || isStrengthSymbol(facts, name);
  // A count divides (`lam * w / n`, a regularizer's gradient per example): it carries no step size.
  const count = (x: { name: string; pow: number }): boolean => x.pow < 0 && isSizeSymbol(x.name);
  if (!syms.some((x) => x.pow > 0)) return false;
  // Or by data flow: a number (a parameter's numeric default, a constructor's stored one) that shrinks
  // the weight by itself beside the gradient step `confirm` finds: a decay of strength c/lr, whatever its name.
  const site = t.site;
  const scalar = (name: string): boolean => strength(name) || holdsNumber(name, site.scope, site.at);
  if (!syms.every((x) => count(x) || (x.pow > 0 && scalar(x.name) && !isLearningRateName(x.name.replace(/^.*\./, ''))))) return false;
  if (fn) {
    for (const x of syms) {
      const param = fn.params.find((p) => p.name === x.name);
      if (param && callersPassStepSize(facts, fn, fn.params.indexOf(param), param.name)) return false;
      // A plain number by its default only: a caller that passes a product instead (`h * sw`) computes
      // the factor, a step size among its terms perhaps.
      if (param && !strength(x.name) && callersPassProduct(facts, fn, fn.params.indexOf(param), param.name)) return false;
    }
  }
  return true;
}

function callersPassProduct(facts: Facts, fn: FunctionDef, position: number, name: string): boolean {
  const offset = fn.isMethod ? 1 : 0;
  return programIndex(facts).callsTo(fn).some(({ call, scope, at }) => {
    const arg = call.args[position - offset] ?? call.kwargs.find((k) => k.name === name)?.value;
    if (!arg) return false;
    const p = facts.analyzer.classify(arg, scope, at);
    return p.tensor || p.coef.syms.filter((x) => x.pow !== 0).length > 1;
  });
}

/** Some symbol of the decay's coefficient is a strength only as a plain number (`holdsNumber`), not by math or name. */
function byNumberOnly(facts: Facts, t: RegGradientTerm): boolean {
  const coefNames = penaltyCoefficientNames(facts);
  const objectCoefs = regularizerCoefficientNames(facts, t);
  return t.stepCoef.syms.some((x) => x.pow > 0 && !coefNames.has(x.name.replace(/^.*\./, '')) && !objectCoefs.has(x.name) && !isStrengthSymbol(facts, x.name));
}

/** The decay runs in every loop of its function that holds the step (each step, each epoch); true when the step is in none. */
function inStepLoop(facts: Facts, site: UpdateSite, step: Span): boolean {
  const index = programIndex(facts);
  const fn = index.enclosingFunction(site.scope);
  if (!fn || step.start < fn.span.start || step.end > fn.span.end) return true;
  const loops = index.loopsAround(step).filter((l) => fn.span.start <= l.span.start && l.span.end <= fn.span.end);
  return loops.length === 0 || loops.some((l) => l.span.start <= site.span.start && site.span.end <= l.span.end);
}

/** Coefficients of the regularizer objects whose gradient method the term's summand calls (`self.lam` of `L2.grad`). */
function regularizerCoefficientNames(facts: Facts, t: RegGradientTerm): Set<string> {
  const names = new Set<string>();
  for (const f of t.summand.num) {
    someExpr(f.expr, (e) => {
      if (e.kind !== 'call') return false;
      const target = resolveCall(facts.program, e, f.scope, f.at);
      const other = target && facts.program.factsAt(target.fn.span);
      if (!target || !other) return false;
      for (const o of regularizerObjects(other)) {
        if (!o.gradients.some((g) => g.fn === target.fn)) continue;
        for (const x of facts.analyzer.classify(o.value.ret.expr, o.value.ret.scope, o.value.ret.at, o.value.env).coef.syms) names.add(x.name);
      }
      return false;
    });
  }
  return names;
}

function callersPassStepSize(facts: Facts, fn: FunctionDef, position: number, name: string): boolean {
  const index = programIndex(facts);
  const offset = fn.isMethod ? 1 : 0;
  return index.callsTo(fn).some(({ call, scope, at }) => {
    const arg = call.args[position - offset] ?? call.kwargs.find((k) => k.name === name)?.value;
    if (!arg) return false;
    const p = facts.analyzer.classify(arg, scope, at);
    return p.coef.syms.some((x) => isLearningRateName(x.name.replace(/^.*\./, '')));
  });
}

/** Another update of the same target in the function adds another parameter to it: an average, not a decay. */
function averagedToward(facts: Facts, site: UpdateSite, key: string, fn: FunctionDef | undefined): boolean {
  const index = programIndex(facts);
  return facts.updates.some((u) => {
    if (u === site || u.kind !== 'update' || exprKey(baseExpr(u.target)) !== key || index.enclosingFunction(u.scope) !== fn) return false;
    return u.increment.some((s) => facts.analyzer.classifySummand(s).params.some((p) => exprKey(p.base) !== key));
  });
}

interface FoundStep {
  span: Span;
  kind: 'optimizer' | 'update';
  /** The scalar symbols of a hand-written step's gradient term (its step size). */
  stepSymbols?: Set<string>;
}

/**
 * The gradient step the same parameter gets: in the decay's function, a hand-written gradient update
 * of it (unless the parameter was handed to that function: then the function is an optimizer's step,
 * and its decay is its own definition), an assignment of an update call's result (`self.W =
 * opt.update(self.W, self.dW)`), a call of its owner's method that does either (`layer.update(opt)`),
 * or a framework optimizer's step after a differentiation; in another method of the same class, a
 * gradient update or update call of the same attribute.
 */
function gradientStepOf(facts: Facts, site: UpdateSite, key: string, fn: FunctionDef | undefined): FoundStep | undefined {
  const index = programIndex(facts);
  const sameFn = (scope: Scope): boolean => index.enclosingFunction(scope) === fn;
  // A hand-written gradient step in the same function.
  const own = handWrittenSteps(facts, key).filter((u) => u !== site && sameFn(u.scope));
  if (own.length > 0) {
    // A function handed the weight is an optimizer's step, unless its own loss adds the penalty whose gradient the decay is.
    if (handedIn(facts, site, fn) && !ownLossPenalizes(facts, site)) return undefined;
    return { span: own[0].span, kind: 'update', stepSymbols: stepSymbols(facts, own) };
  }
  if (fn) {
    const call = updateCallAssignment(facts, key, fn);
    if (call) return { span: call, kind: 'optimizer' };
    const owner = ownerMethodStep(facts, site, fn) ?? handedToOptimizer(facts, site, fn);
    if (owner) return { span: owner, kind: 'optimizer' };
    const framework = frameworkStep(facts, fn);
    if (framework) return { span: framework, kind: 'optimizer' };
  }
  // Another method of the class steps the same attribute.
  const cls = enclosingClass(site.scope);
  if (cls && /^(self|this)\./.test(key)) {
    for (const m of cls.scope.functions.values()) {
      if (m === fn) continue;
      const other = handWrittenSteps(facts, key).filter((u) => index.enclosingFunction(u.scope) === m);
      if (other.length > 0) return { span: other[0].span, kind: 'update', stepSymbols: stepSymbols(facts, other) };
      const call = updateCallAssignment(facts, key, m);
      if (call) return { span: call, kind: 'optimizer' };
    }
  }
  return undefined;
}

/** The decay's own function computes a loss with a penalty on the weight whose strength is the decay's. */
function ownLossPenalizes(facts: Facts, site: UpdateSite): boolean {
  const t = regGradientTerms(facts).find((x) => x.site === site && (x.kind === 'linear' || x.kind === 'sign'));
  const syms = t?.stepCoef.syms.filter((x) => x.pow > 0).map((x) => x.name) ?? [];
  return t !== undefined && syms.length > 0 && penaltyWithStrength(facts, site, t, syms, true) !== undefined;
}

/**
 * Updates of the key that add a gradient: a tensor summand that is not the parameter itself, and
 * that the direction analysis reads as a gradient of the loss (`h += dt * x` integrates an input).
 */
function handWrittenSteps(facts: Facts, key: string): UpdateSite[] {
  return facts.updates.filter((u) => {
    if (u.kind !== 'update' || exprKey(baseExpr(u.target)) !== key) return false;
    const tensor = u.increment.some((s) => {
      const p = facts.analyzer.classifySummand(s);
      return p.tensor && p.params.length === 0 && !p.penalty;
    });
    return tensor && addsGradient(facts, u);
  });
}

const gradientSteps = new WeakMap<UpdateSite, boolean>();

function addsGradient(facts: Facts, site: UpdateSite): boolean {
  const known = gradientSteps.get(site);
  if (known !== undefined) return known;
  const step = stepOf(facts, site);
  const read = step !== undefined && new DirectionAnalyzer(facts).step(step.expr, site.scope, site.at, step.sign, step.self).terms.some((x) => x.kind === 'grad' || (x.kind === 'unknown' && x.gradientish === true));
  // What the direction analysis leaves unread (`this.dW[i]`): a factor that holds a gradient by its name, the last resort.
  const answer = read || site.increment.some((x) => x.num.some((f) => isGradientLike(f.expr) && facts.analyzer.classify(f.expr, f.scope, f.at, f.env).tensor));
  gradientSteps.set(site, answer);
  return answer;
}

function stepSymbols(facts: Facts, steps: UpdateSite[]): Set<string> {
  const out = new Set<string>();
  for (const u of steps) {
    for (const s of u.increment) {
      const { whole } = splitProduct(facts, s);
      if (whole.tensor) for (const x of whole.coef.syms) out.add(x.name);
    }
  }
  return out;
}

/**
 * Is the updated parameter one handed to the function (`def sgd(w, g, lr, wd)`, `for p in params`
 * where params is an argument, a torch group's `params`)? Such a function is an optimizer's step.
 */
function handedIn(facts: Facts, site: UpdateSite, fn: FunctionDef | undefined): boolean {
  if (!fn) return false;
  // A Python method's first parameter is its instance, unless it is a static method (`@staticmethod
  // def sgdw(params, grads, ...)`, the functional update of an optimizer subclass); a TS method's are all given.
  const instance = fn.isMethod && facts.program.parsedOf(fn.span)?.language === 'python' && !fn.decorators.some((d) => d.kind === 'name' && NO_INSTANCE_DECORATORS.has(d.name)) ? 1 : 0;
  const own = (name: string): boolean => fn.params.some((p, i) => p.name === name && i >= instance);
  const target = baseExpr(site.target);
  const root = rootName(target);
  if (root && own(root)) return true;
  if (target.kind === 'name' || root) {
    const collection = loopCollectionKey(facts, root ?? '', site.scope, site.at);
    const first = collection?.split(/[.[(]/)[0];
    if (first && own(first)) return true;
    // `for p in self.params: p.value -= ...` where the constructor stored the parameters it was given
    // (a model's `for layer in self.layers: layer.W -= ...` updates its layers' weights, not what it was given).
    if (first && target.kind === 'name' && storedFromConstructor(site.scope, first)) return true;
    // `for group in self.param_groups: for p in group["params"]`: the optimizer's groups.
    if (collection && first && site.scope.lookup(first, site.at)?.kind === 'loop') return true;
  }
  return false;
}

/** `self.params = params` in the class's constructor: the attribute holds what the object was given. */
function storedFromConstructor(scope: Scope, attr: string): boolean {
  const cls = enclosingClass(scope);
  if (!cls) return false;
  const bindings = cls.scope.members.get(`self.${attr}`) ?? cls.scope.members.get(`this.${attr}`) ?? [];
  return bindings.some((b) => {
    if (b.kind !== 'assign' || b.op || b.value?.kind !== 'name') return false;
    const fn = CONSTRUCTOR_METHODS.map((m) => cls.scope.functions.get(m)).find((f) => f !== undefined);
    return fn !== undefined && fn.span.start <= b.at && b.at < fn.span.end && fn.params.some((p) => p.name === (b.value as { name: string }).name);
  });
}

function rootName(e: Expr): string | undefined {
  let x = e;
  while (x.kind === 'attr' || x.kind === 'index') x = x.object;
  return x.kind === 'name' ? x.name : undefined;
}

/** `self.W = optimizer.update(self.W, self.dW)` in `fn`: the key assigned the result of a call given it and a tensor. */
function updateCallAssignment(facts: Facts, key: string, fn: FunctionDef): Span | undefined {
  let found: Span | undefined;
  walk(fn.body, (st) => {
    if (found || st.kind !== 'assign' || st.op || st.targets.length !== 1 || exprKey(st.targets[0]) !== key) return;
    const v = st.value;
    if (v.kind !== 'call' || !v.args.some((x) => exprKey(x) === key)) return;
    const scope = facts.scopes.stmtScopes.get(st) ?? fn.scope;
    const others = [...v.args, ...v.kwargs.map((k) => k.value)].filter((x) => exprKey(x) !== key);
    if (others.some((x) => {
      const p = facts.analyzer.classify(x, scope, st.span.start);
      return p.tensor && p.params.length === 0 && !p.penalty;
    })) found = st.span;
  });
  return found;
}

/** `layer.update(optimizer)` before `layer.W -= ...`: a method of the parameter's owner that steps that attribute. */
function ownerMethodStep(facts: Facts, site: UpdateSite, fn: FunctionDef): Span | undefined {
  const target = baseExpr(site.target);
  if (target.kind !== 'attr') return undefined;
  const ownerKey = exprKey(target.object);
  if (ownerKey === undefined) return undefined;
  let found: Span | undefined;
  walk(fn.body, (st) => {
    if (found || st.kind !== 'expr' || st.expr.kind !== 'call' || st.expr.callee.kind !== 'attr' || exprKey(st.expr.callee.object) !== ownerKey) return;
    const scope = facts.scopes.stmtScopes.get(st) ?? fn.scope;
    const resolved = resolveCall(facts.program, st.expr, scope, st.span.start);
    const other = resolved && facts.program.factsAt(resolved.fn.span);
    if (!resolved || !other || !resolved.fn.isMethod) return;
    const attr = `${resolved.fn.params[0]?.name ?? 'self'}.${target.name}`;
    const index = programIndex(other);
    const steps = handWrittenSteps(other, attr).filter((u) => index.enclosingFunction(u.scope) === resolved.fn);
    if (steps.length > 0 || updateCallAssignment(other, attr, resolved.fn)) found = st.span;
  });
  return found;
}

/**
 * `self.optimizer.update(self.layers)` before `for layer in self.layers: layer.W -= ...`: the
 * parameter, its owner, or the collection its loop walks is handed to an optimizer's update method.
 */
function handedToOptimizer(facts: Facts, site: UpdateSite, fn: FunctionDef): Span | undefined {
  const target = baseExpr(site.target);
  const keys = new Set<string>();
  for (let x: Expr = target; ; x = x.object) {
    const k = exprKey(x);
    if (k !== undefined && k !== 'self' && k !== 'this') keys.add(k);
    if (x.kind === 'name') {
      const collection = loopCollectionKey(facts, x.name, site.scope, site.at);
      if (collection) {
        keys.add(collection);
        keys.add(`self.${collection}`);
      }
    }
    if (x.kind !== 'attr' && x.kind !== 'index') break;
  }
  let found: Span | undefined;
  walk(fn.body, (st) => {
    if (found || st.span.start > site.span.start || st.kind !== 'expr' || st.expr.kind !== 'call' || st.expr.callee.kind !== 'attr') return;
    if (!HANDWRITTEN_OPTIMIZER_METHODS.has(st.expr.callee.name)) return;
    if ([...st.expr.args, ...st.expr.kwargs.map((k) => k.value)].some((a) => keys.has(exprKey(a) ?? ''))) found = st.span;
  });
  return found;
}

/** A framework optimizer's step in the function: `apply_gradients`, `minimize`, or `step()` after a differentiation. */
function frameworkStep(facts: Facts, fn: FunctionDef): Span | undefined {
  const diffs = trainingFacts(facts).diffs.filter((d) => fn.span.start <= d.call.span.start && d.call.span.end <= fn.span.end);
  let found: Span | undefined;
  walk(fn.body, (st) => {
    if (found || st.kind !== 'expr' || st.expr.kind !== 'call') return;
    const kind = optimizerApplyCall(st.expr);
    if (kind === 'apply' || (kind === 'step' && diffs.some((d) => d.call.span.start < st.span.start))) found = st.span;
  });
  return found;
}

function walk(stmts: Stmt[], f: (st: Stmt) => void): void {
  for (const st of stmts) {
    f(st);
    if (st.kind === 'block' || st.kind === 'for') walk(st.body, f);
  }
}
