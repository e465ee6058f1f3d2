// Which way a step moves along the loss gradient. Every term of a step is followed back to where
// its factors come from, keeping track of the sign: `p.grad` after `loss.backward()`, `dW` returned
// with the loss by `svm_loss(...)`, `tape.gradient(loss, w)`, `jax.grad(loss_fn)(params)` hold +∇loss;
// `delta = target - output` and `v = mu * v - lr * g` hold −∇loss. A term whose sign cannot be
// established (a gradient from an unknown function, a `delta` of unknown origin) is `unknown`, and a
// gradient of something to be maximized (a log-likelihood, a reward, an ELBO) marks the step as
// intended ascent.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { numberOf } from './analysis';
import { climbedByPenalty, lossPosition, minimizedByValue } from './tupleLosses';
import { exprKey, isKeyedByString, lastComponent } from './keys';
import { explicitParams, loopIterable, type Binding, type FunctionDef, type Scope } from './scope';
import {
  isAscentGradientName, isAscentWord, isBackpropName, isBackwardHelperName, isDataLike, isDerivativeName, isExampleCountName, isGradientLike, isHyperparameterKey,
  isHyperparameterName, isInputName, isLearningRateName, isLossFunctionName, isLossGradientName, isLossWord, isModelCallName, isNablaName, isPredictionName,
  isAmbiguousObjectiveName, isStateLike, isStrongGradientName, isTargetName, isUnpackedLossName, mentionsOptimizerSetting, startsLikeRegularization,
} from './roles';
import { programIndex, type Unpacked } from './program';
import { callArguments, derivesFrom, enclosingClass, isSelfName, methodOf, resolveName, returnsOf, type CallTarget } from './resolve';
import type { Env } from './analysis';
import { handedGradient, type HandedContext } from './handedGradients';
import { gradientValue, returnsGradients, returnsValueAndGradients, type AutodiffContext } from './autodiff';
import {
  MAGNITUDE_FUNCTIONS, PASS_THROUGH_FUNCTIONS, PRODUCT_FUNCTIONS, SIGN_FUNCTIONS, isActivationOrForward, isElementMapMethod, isParametersMethod, isShapeAttribute, isSignPreservingReduction,
  isSizeAttribute, isSizeFunction, isTreeMap, loopSource, zeroValue,
} from './catalogue';
import { trainingFacts } from './loops';
import { refilledGradient } from './scratchGradients';
import { derivativeFactors, productChain } from './derivativeFactors';
import { fieldWrites, isObjectField, isSteppedField, rootName, type FieldWrite } from './fieldWrites';

export type TermKind =
  /** ±∇loss (sign says which). */
  | 'grad'
  /** A positive-by-convention scalar: a learning rate, a count, 1 − β, √cache + ε. */
  | 'scalar'
  /** Inputs and activations: sign-neutral multipliers of a gradient (x in (ŷ − y)·x). */
  | 'data'
  /** Targets and labels, one side of a residual. */
  | 'target'
  /** Predictions: the other side of a residual. */
  | 'pred'
  /** A parameter itself (a regularization term). */
  | 'param'
  | 'unknown';

export interface DirTerm {
  kind: TermKind;
  sign: 1 | -1;
  /** Where the term's gradient comes from, for messages: `dW (returned with the loss by svm_loss)`. */
  source?: string;
  /** An expression a gradient's sign was read from (for related information). */
  origin?: Span;
  /** Unknown terms that involve something named like a gradient. */
  gradientish?: boolean;
  /** The sign comes from a convention only (a parameter named `grad`, `p.grad` without a backward() in sight). */
  weak?: boolean;
}

export interface StepDirection {
  terms: DirTerm[];
  /** Something in the step is a gradient of a quantity to maximize, or a sign of a gradient (FGSM). */
  ascent: boolean;
}

const MAX_DEPTH = 14;
/** What a gradient's source gains when a product carries it through an activation's derivative (throughDerivative). */
const DERIVATIVE = " times the activation's derivative (≥ 0, which keeps its sign)";
const BUDGET = 4000;

/** What a walk must not enter again: the step's own target (by key) and the bindings it is inside. */
type Guard = Set<string | Binding>;

export class DirectionAnalyzer {
  private ascent = false;
  /** Evaluations left for the current step: deeply shared definitions cannot blow up. */
  private budget = 0;
  /** What the backward() calls of a function (null: module level) say about `.grad`. */
  private readonly backwardVerdicts = new Map<FunctionDef | null, 'local' | 'file' | 'ascent' | 'negated'>();
  /** Arguments of the calls being followed, by the callee's scope: its parameters read them. */
  private readonly callEnvs = new Map<Scope, Env>();

  /** The place the current step moves, when the caller names it (inputOfWeight). */
  private target: Expr | undefined;

  constructor(private readonly facts: Facts) {
  }

  /** The terms of `expr` (added to the updated quantity with sign `sign`), dropping references to `self`. */
  step(expr: Expr, scope: Scope, at: number, sign: 1 | -1, self: string[], target?: Expr): StepDirection {
    this.ascent = false;
    this.budget = BUDGET;
    this.target = target;
    const terms = this.terms(expr, scope, at, 0, new Set<string | Binding>(self)).map((t) => (sign === 1 ? t : flip(t)));
    return { terms, ascent: this.ascent };
  }

  private terms(e: Expr, scope: Scope, at: number, depth: number, guard: Guard): DirTerm[] {
    if (depth > MAX_DEPTH || --this.budget < 0) return [{ kind: 'unknown', sign: 1, gradientish: true }];
    const d = depth + 1;
    switch (e.kind) {
      case 'num':
        return e.value === 0 ? [] : [{ kind: 'scalar', sign: e.value < 0 ? -1 : 1 }];
      case 'unary':
        if (e.op === '-') return this.terms(e.arg, scope, at, d, guard).map(flip);
        if (e.op === '+') return this.terms(e.arg, scope, at, d, guard);
        return [unknown(e, this)];
      case 'binary':
        switch (e.op) {
          case '+':
          case '-': {
            const l = this.terms(e.left, scope, at, d, guard);
            const r = this.terms(e.right, scope, at, d, guard);
            return residual([...l, ...(e.op === '-' ? r.map(flip) : r)]);
          }
          case '*':
          case '@':
            return (e.op === '*' ? this.throughDerivative(e, scope, at, d, guard) : undefined) ?? multiply(this.terms(e.left, scope, at, d, guard), this.terms(e.right, scope, at, d, guard));
          case '/':
            return divide(this.terms(e.left, scope, at, d, guard), this.terms(e.right, scope, at, d, guard));
          case '**': {
            const k = numberOf(e.right);
            const base = this.terms(e.left, scope, at, d, guard);
            if (k === undefined || k === 0.5 || (Number.isInteger(k) && k % 2 === 0)) return base.length === 0 ? [] : [{ kind: 'scalar', sign: 1 }];
            if (k === 1) return base;
            return base.length === 1 && base[0].kind === 'scalar' ? base : [unknown(e, this)];
          }
          default:
            return [unknown(e, this)];
        }
      case 'cond': {
        const a = this.terms(e.then, scope, at, d, guard);
        const b = this.terms(e.else, scope, at, d, guard);
        return sameTerms(a, b) ? a : [unknown(e, this)];
      }
      case 'name':
      case 'attr':
      case 'index':
        return this.reference(e, scope, at, d, guard);
      case 'call':
        return this.call(e, scope, at, d, guard);
      case 'comprehension':
        // `[nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]`: the element, with the loop variables.
        return this.terms(e.element, this.facts.scopes.lambdaScopes.get(e) ?? scope, Infinity, d, guard);
      default:
        return [unknown(e, this)];
    }
  }

  /**
   * A product with an activation's derivative among its factors (`err * out * (1 - out)`, `delta * (1 - h ** 2)`,
   * `d * (z > 0)`; derivativeFactors.ts): the derivative is ≥ 0 and keeps the sign of the rest. A
   * comparison mask keeps it only beside a gradient (`W * (W > 0)` stays unread). Undefined: none there.
   */
  private throughDerivative(e: Expr, scope: Scope, at: number, d: number, guard: Guard): DirTerm[] | undefined {
    const chain = productChain(e);
    const found = derivativeFactors(chain, (x) => this.facts.source(x.span).replace(/\s+/g, ''));
    if (!found) return undefined;
    const product = (skip: (i: number) => boolean): DirTerm[] | undefined => {
      let acc: DirTerm[] | undefined;
      chain.forEach((f, i) => {
        if (skip(i)) return;
        const t = this.terms(f, scope, at, d, guard);
        acc = acc === undefined ? t : multiply(acc, t);
      });
      return acc;
    };
    // A gradient carried through the derivative says so in messages (`… times the activation's derivative`).
    const through = (terms: DirTerm[] | undefined): DirTerm[] =>
      terms === undefined ? [{ kind: 'scalar', sign: 1 }] : terms.map((t) => (t.kind === 'grad' && t.source && !t.source.endsWith(DERIVATIVE) ? { ...t, source: `${t.source}${DERIVATIVE}` } : t));
    const rest = product((i) => found.positive.has(i) || found.masks.has(i));
    const masked = found.masks.size > 0 && rest !== undefined && rest.some((t) => t.kind === 'grad') && rest.every((t) => t.kind === 'grad' || t.kind === 'data' || t.kind === 'scalar');
    if (found.masks.size > 0 && !masked) {
      if (found.positive.size === 0) return undefined;
      return through(product((i) => found.positive.has(i)));
    }
    return through(rest);
  }

  // ---------------------------------------------------------------- references

  private reference(e: Expr, scope: Scope, at: number, d: number, guard: Guard): DirTerm[] {
    const key = exprKey(e);
    if (key !== undefined && guard.has(key)) return [];
    if (e.kind === 'attr') {
      if (e.name === 'grad') return this.torchGrad(e, scope);
      if (e.name === 'T' || e.name === 'data' || e.name === 'value' || e.name === 'mT') return this.terms(e.object, scope, at, d, guard);
      if (isSizeAttribute(e.name)) return [{ kind: 'scalar', sign: 1 }];
    }
    if (e.kind === 'index' && e.object.kind === 'attr' && e.object.name === 'shape') return [{ kind: 'scalar', sign: 1 }];
    if (e.kind === 'index' && isKeyedByString(e) && isHyperparameterKey(lastComponent(e) ?? '') && !(key !== undefined && scope.lookup(key, at))) return [{ kind: 'scalar', sign: 1 }];
    if (key === undefined) {
      if (e.kind === 'index') return this.terms(e.object, scope, at, d, guard);
      return [unknown(e, this)];
    }
    const binding = scope.lookup(key, at);
    // `unit.error` read on a unit of a list that no binding of `unit.error` reaches (another alias of
    // the units, a node fetched again): what every write of that field in the file stores.
    if (e.kind === 'attr' && isObjectField(e) && (!binding || this.staleAlias(binding, e, scope, at))) {
      const field = this.fieldRead(e);
      if (field) return field;
    }
    if (!binding) {
      if (e.kind === 'attr' && this.inputOfWeight(e, scope, at)) return [{ kind: 'data', sign: 1 }];
      const unpacked = e.kind === 'name' ? programIndex(this.facts).unpackedAt(e.name, scope, at) : undefined;
      if (unpacked) return this.unpacked(unpacked, d, guard);
      if (e.kind === 'index') return this.terms(e.object, scope, at, d, guard); // an element of a container
      return this.byName(e, key, undefined);
    }
    // Bindings being followed end a cycle (`x = f(x)`); the same name in another scope is another variable.
    if (guard.has(binding)) return [];
    return this.reaching(binding, e, key, at, d, guard);
  }

  /**
   * `src.out` with `const src = net.layers[l - 1][k]` (or `net.layers[l - 1][k].out` itself) in the step
   * of `unit.w[k]`: the output of the k-th unit of a list, which weight k multiplies: that weight's
   * input, whatever the field is called, not the prediction a residual subtracts a target from.
   */
  private inputOfWeight(e: Expr & { kind: 'attr' }, scope: Scope, at: number): boolean {
    const t = this.target;
    // The weight is a field of a unit record (`node.w[k]`), not a plain array a unit index picks a row of.
    if (t?.kind !== 'index' || !isObjectField(t.object)) return false;
    const k = t.index[t.index.length - 1];
    if (k?.kind !== 'name') return false;
    let holder = e.object;
    if (holder.kind === 'name') {
      const b = scope.lookup(holder.name, at);
      if (b?.kind !== 'assign' || b.op || !b.value) return false;
      holder = b.value;
    }
    if (holder.kind !== 'index' || isKeyedByString(holder)) return false;
    const j = holder.index[holder.index.length - 1];
    return j?.kind === 'name' && j.name === k.name;
  }

  /**
   * A binding of `X.f` made while X named another object than it does at the read: `unit.error = …`
   * in a loop over the last layer, read as `unit.error` in a later loop whose `const unit` is another
   * binding (another unit, or the same units through another list).
   */
  private staleAlias(b: Binding, e: Expr & { kind: 'attr' }, scope: Scope, at: number): boolean {
    const root = rootName(e.object);
    if (root === undefined || b.kind !== 'assign') return false;
    const now = scope.lookup(root, at);
    const then = b.scope.lookup(root, b.at);
    return now !== undefined && then !== undefined && now !== then;
  }

  /** What each field name holds by its writes (fieldRead), per analyzer: undefined when not a gradient. */
  private readonly fields = new Map<string, { terms?: DirTerm[]; ascent: boolean }>();

  /**
   * The terms of a read of field `f` on an object that is not self/this, from every write of that field
   * name in the file (fieldWrites.ts): the gradient's sign when every write that stores something
   * stores a gradient of one sign (a write that multiplies another read of the field by data that is
   * not a gradient, `prev.error = unit.error * unit.w[k]`, carries the field's own sign back and says
   * nothing new); unknown when writes store gradients of both signs, or a gradient beside something
   * else; undefined when no write stores a gradient (`unit.out`, `node.value`) or the file steps the
   * field as a weight (`unit.b -= …`).
   */
  private fieldRead(e: Expr & { kind: 'attr' }): DirTerm[] | undefined {
    const name = e.name;
    let known = this.fields.get(name);
    if (!known) {
      // Entered once per field: a read of the field inside its own writes finds the entry in progress.
      this.fields.set(name, { ascent: false });
      const before = this.ascent;
      this.ascent = false;
      const terms = this.fieldTerms(name, e);
      known = { terms, ascent: this.ascent };
      this.ascent = before;
      this.fields.set(name, known);
    }
    if (known.ascent) this.ascent = true;
    return known.terms;
  }

  private fieldTerms(name: string, read: Expr): DirTerm[] | undefined {
    const writes = fieldWrites(this.facts, name);
    if (writes.length === 0 || writes.length > 64 || isSteppedField(this.facts, name)) return undefined;
    const guard: Guard = new Set();
    const found: DirTerm[] = [];
    let mixed = false;
    for (const w of writes) {
      if (--this.budget < 0) return [{ kind: 'unknown', sign: 1, gradientish: true }];
      const stored = this.fieldWrite(w, name, guard);
      if (stored === 'neutral') continue;
      if (stored === undefined) {
        mixed = true;
        continue;
      }
      found.push(stored);
    }
    if (found.length === 0) return undefined;
    if (mixed || found.some((t) => t.sign !== found[0].sign)) return [{ kind: 'unknown', sign: 1, gradientish: true }];
    const first = found[0];
    return [{ ...first, weak: found.some((t) => t.weak) || undefined, source: `${first.source ?? 'a gradient'} kept in ${this.src(read)}` }];
  }

  /** What one write stores in the field: a gradient of one sign, nothing new ('neutral'), or something else (undefined). */
  private fieldWrite(w: FieldWrite, name: string, guard: Guard): DirTerm | 'neutral' | undefined {
    const d = 1;
    if (w.op === '*' || w.op === '/') return this.neutralFactor(w.value, name, w.scope, w.at, guard) ? 'neutral' : undefined;
    const terms: DirTerm[] = [];
    for (const s of signedSummands(w.value, w.op === '-' ? -1 : 1)) {
      // `unit.error * unit.w[k]`, `carried * f'(z)` with `carried += above.w[k] * above.delta`: the
      // field's own sign, carried on. Negated, or beside another gradient, it says nothing.
      const carried = this.carries(s.expr, s.sign, name, w.scope, w.at, guard, 0);
      if (carried === 'bad') return undefined;
      if (carried === 'yes') continue;
      if (zeroValue(s.expr)) continue;
      for (const t of this.terms(s.expr, w.scope, w.at, d, guard)) terms.push(s.sign === 1 ? t : flip(t));
    }
    const stored = residual(terms);
    if (stored.length === 0) return 'neutral';
    const grads = stored.filter((t) => t.kind === 'grad');
    if (grads.length !== stored.length || grads.some((t) => t.sign !== grads[0].sign)) return undefined;
    return { ...grads[0], origin: grads[0].origin ?? w.stmt.span };
  }

  /**
   * Whether `e` (entering a write with `sign`) is the field's own value scaled by factors with no sign
   * of their own ('yes'), does not involve it ('no'), or involves it some other way ('bad'). A local is
   * the field's own value when every binding of it up to `at` is a zero or a sum of such products.
   */
  private carries(e: Expr, sign: 1 | -1, name: string, scope: Scope, at: number, guard: Guard, depth: number): 'yes' | 'no' | 'bad' {
    const factors = productFactors(e, sign);
    const own = factors.filter((f) => isFieldOf(f.expr, name) || (f.expr.kind === 'name' && this.carryingLocal(f.expr.name, name, scope, at, guard, depth)));
    if (own.length === 0) return mentionsField(e, name) ? 'bad' : 'no';
    if (own.length > 1 || factors.reduce((acc, f) => acc * f.sign, 1) < 0) return 'bad';
    for (const f of factors) if (f !== own[0] && !this.neutralFactor(f.expr, name, scope, at, guard)) return 'bad';
    return 'yes';
  }

  private carryingLocal(local: string, name: string, scope: Scope, at: number, guard: Guard, depth: number): boolean {
    if (depth > 3) return false;
    let carried = false;
    for (let b = scope.lookup(local, at), hops = 0; b; b = b.op ? b.scope.lookup(local, b.at) : undefined, hops++) {
      if (b.kind !== 'assign' || !b.value || hops > 8 || (b.op && b.op !== '+')) return false;
      if (!b.op && zeroValue(b.value)) break;
      for (const s of signedSummands(b.value, 1)) {
        if (this.carries(s.expr, s.sign, name, b.scope, b.at, guard, depth + 1) !== 'yes') return false;
        carried = true;
      }
      if (!b.op) break;
    }
    return carried;
  }

  /** A factor that scales a carried gradient without a sign of its own: data, weights, a derivative, a positive number. */
  private neutralFactor(e: Expr, name: string, scope: Scope, at: number, guard: Guard): boolean {
    if (mentionsField(e, name)) return false;
    const n = numberOf(e);
    if (n !== undefined) return n > 0;
    if (e.kind === 'unary') return false;
    const terms = this.terms(e, scope, at, 1, guard);
    return !terms.some((t) => t.kind === 'grad' || (t.kind === 'unknown' && t.gradientish));
  }

  /**
   * The value a read at `at` gets through `b`. A binding made in a branch of an `if` chain that does
   * not enclose the read may not have run (`if self.maximize: g = -g`): the read then sees the value
   * from before the chain, or from another branch, so it holds the terms of each (a gradient that is
   * negated in one of them has no known sign, as in `g = -g if self.maximize else g`).
   */
  private reaching(b: Binding, e: Expr, key: string, at: number, d: number, guard: Guard): DirTerm[] {
    const own = this.binding(b, e, key, d, new Set([...guard, b]));
    const place = b.branches?.find((p) => !(p.chain.start <= at && at < p.chain.end));
    const list = b.scope.bindings.get(key);
    if (!place || !list?.includes(b)) return own;
    // The latest binding of each other branch of the chain, and the one the chain starts from.
    const latest = new Map<number, Binding>();
    for (const x of list) {
      const q = x.branches?.find((y) => y.chain.start === place.chain.start);
      if (x === b || !q || q.branch.start === place.branch.start || x.at >= at) continue;
      const known = latest.get(q.branch.start);
      if (!known || x.at > known.at) latest.set(q.branch.start, x);
    }
    const alternatives = [...latest.values()];
    const before = b.scope.lookup(key, place.chain.start);
    if (before && !alternatives.includes(before)) alternatives.push(before);
    const terms = [...own];
    for (const x of alternatives) {
      if (guard.has(x)) continue;
      const other = d > MAX_DEPTH || --this.budget < 0 ? [{ kind: 'unknown' as const, sign: 1 as const, gradientish: true }] : this.binding(x, e, key, d + 1, new Set([...guard, x]));
      for (const t of other) if (!terms.some((u) => u.kind === t.kind && u.sign === t.sign)) terms.push(t);
    }
    return terms;
  }

  private binding(b: Binding, e: Expr, key: string, d: number, guard: Guard): DirTerm[] {
    if (b.kind === 'param' && b.scope.kind === 'lambda' && e.kind === 'name') {
      const mapped = this.mappedArgument(b, e.name);
      if (mapped) return this.terms(mapped.expr, mapped.scope, mapped.at, d, guard);
    }
    if (b.kind === 'param') {
      const arg = this.callEnvs.get(b.scope)?.get(b.key);
      if (arg) return this.terms(arg.expr, arg.scope, arg.at, d, guard);
      return this.byName(e, key, b);
    }
    if (b.kind === 'loop') return this.loop(b, e, key, d, guard);
    // A parameter is itself, not the history of its updates (`self.w -= ...` read inside the step's helper).
    if (b.op && this.facts.analyzer.isParam(e) && !isGradientLike(e) && !isStateLike(e)) return [{ kind: 'param', sign: 1 }];
    if (!b.value) {
      // Bound by unpacking: `loss, dW = f(...)`.
      const name = e.kind === 'name' ? e.name : undefined;
      const unpacked = name ? programIndex(this.facts).unpackedAt(name, b.scope, b.at + 1) : undefined;
      return unpacked && unpacked.stmt.span.start === b.span.start ? this.unpacked(unpacked, d, guard) : [unknown(e, this)];
    }
    if (!b.op) {
      const name = lastComponent(e) ?? key;
      if (this.facts.analyzer.isParam(e) && !isGradientLike(e) && !isStateLike(e) && !isInputName(name) && !isTargetName(name) && !isPredictionName(name)) return [{ kind: 'param', sign: 1 }];
      // `beta = self.beta`: an alias of a parameter is the parameter, whatever it is called.
      if ((b.value.kind === 'name' || b.value.kind === 'attr') && this.facts.analyzer.isParam(b.value)) return [{ kind: 'param', sign: 1 }];
      if (zeroValue(b.value)) return [];
      const value = this.terms(b.value, b.scope, b.at, d, guard);
      // `p = 1 / (1 + np.exp(-X @ theta))`: what the value is called decides when the value says nothing.
      const last = lastComponent(e) ?? key;
      if (!value.some((t) => t.kind === 'grad' || t.gradientish) && (isTargetName(last) || isPredictionName(last) || isInputName(last))) return this.byName(e, key, undefined, false);
      return value;
    }
    const previous = b.scope.lookup(key, b.at);
    let before: DirTerm[];
    // The same bound as terms(): without it a chain of thousands of `W -= ...` is walked back from every step.
    if (previous && previous !== b) before = d > MAX_DEPTH || --this.budget < 0 ? [{ kind: 'unknown', sign: 1, gradientish: true }] : guard.has(previous) ? [] : this.reaching(previous, e, key, b.at, d + 1, guard);
    else if (e.kind === 'index') before = this.terms(e.object, b.scope, b.at, d, guard); // `grad[j] += ...` into `grad = zeros(...)`
    else before = [unknown(e, this)];
    const own = this.terms(b.value, b.scope, b.at, d, guard);
    if (b.op === '+') return residual([...before, ...own]);
    if (b.op === '-') return residual([...before, ...own.map(flip)]);
    if (b.op === '*') return multiply(before, own);
    return divide(before, own);
  }

  /** `jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)`: g walks grads. */
  private mappedArgument(b: Binding, name: string): { expr: Expr; scope: Scope; at: number } | undefined {
    const info = programIndex(this.facts).lambdas.get(b.scope);
    if (!info?.call) return undefined;
    const fn = calleeName(info.call);
    if (!fn || !isTreeMap(fn)) return undefined;
    if (info.call.args[0] !== info.lambda) return undefined;
    const position = info.lambda.params.findIndex((p) => p.name === name);
    const arg = position >= 0 ? info.call.args[position + 1] : undefined;
    return arg ? { expr: arg, scope: info.scope, at: info.at } : undefined;
  }

  /** A name with no assignment to read: a function parameter, a global, a setting. */
  private byName(e: Expr, key: string, b: Binding | undefined, allowParam = true): DirTerm[] {
    const last = lastComponent(e) ?? key;
    if (allowParam && this.facts.analyzer.isParam(e) && !isInputName(last)) return [{ kind: 'param', sign: 1 }];
    // Every call of the function hands this parameter a gradient by data flow, whatever it is called (handedGradients.ts).
    if (b?.kind === 'param' && e.kind === 'name' && !this.facts.params.has(key)) {
      const fn = programIndex(this.facts).functionOfScope(b.scope);
      if (fn && handedGradient(this.handedContext(), fn.body, e.name)) {
        const verdict = this.handedCalls(b, fn, e.name);
        if (verdict === 'ascent') {
          this.ascent = true;
          return [{ kind: 'unknown', sign: 1, gradientish: true }];
        }
        if (verdict === 'unsure') return [{ kind: 'unknown', sign: 1, gradientish: false }];
        return [{ kind: 'grad', sign: 1, source: `${last} (the gradient every call of ${fn.name}() hands in)`, origin: b.span, weak: true }];
      }
    }
    if (isLearningRateName(last) || isHyperparameterName(last) || startsLikeRegularization(last))
      return [{ kind: 'scalar', sign: numericSign(b?.value) }];
    if (e.kind === 'index' && isKeyedByString(e) && mentionsOptimizerSetting(last)) return [{ kind: 'scalar', sign: 1 }];
    if (isTargetName(last)) return [{ kind: 'target', sign: 1 }];
    if (isPredictionName(last)) return [{ kind: 'pred', sign: 1 }];
    if (isInputName(last) || (isDataLike(e) && !isGradientLike(e))) return [{ kind: 'data', sign: 1 }];
    if (b?.kind === 'param' && isStrongGradientName(last) && !isAscentWord(last) && !this.facts.params.has(key)) {
      // What the file's callers hand in outranks the name: a layer's `update_weights(dW, db)` that only
      // a finite-difference check calls, with random perturbations, adds a step the caller chose.
      if (e.kind === 'name' && this.callersHandNoGradient(b, e.name)) return [{ kind: 'unknown', sign: 1, gradientish: false }];
      return [{ kind: 'grad', sign: 1, source: `${last} (a gradient passed in as a parameter)`, origin: b.span, weak: true }];
    }
    if (isGradientLike(e) && isAscentWord(last)) this.ascent = true;
    return [unknown(e, this)];
  }

  /**
   * Whether the file calls the function that has parameter `name`, and every call hands it, there,
   * a value with no gradient added in it by data flow (no term of a gradient but negated ones,
   * nothing read as one), or one whose gradient-like terms come with both signs (no single
   * gradient's direction). A call's one spread argument `f(...steps)` hands each parameter what the
   * callback of `steps = xs.map(...)` returns.
   * Undefined calls (none in the file) leave the name to decide.
   */
  private callersHandNoGradient(b: Binding, name: string): boolean {
    const index = programIndex(this.facts);
    const fn = index.functionOfScope(b.scope);
    if (!fn) return false;
    const position = explicitParams(fn).findIndex((p) => p.name === name);
    if (position < 0) return false;
    // Calls by the method's name, each resolved to this function; one that may be another's (its
    // receiver unknown where several classes define the name) leaves the name to decide.
    const targets = index.callsNamed(fn.name).map((c) => ({ c, fn: this.facts.analyzer.callTarget(c.call, c.scope, c.at)?.fn }));
    const calls = targets.filter((t) => t.fn === fn).map((t) => t.c);
    // A call that hands the parameter on to its own function (recursion, or a chain of callers that
    // comes back here) is being judged already: the name decides.
    if (calls.length === 0 || targets.some((t) => t.fn === undefined) || --this.budget < 0 || this.judgingCallers.has(b)) return false;
    this.judgingCallers.add(b);
    try {
      return calls.every((c) => {
        // `update(...steps)` with `steps = partials.map((dk) => ...)`: each element is what the callback returns.
        const spread = spreadElements(this.facts, c.call, position, c.scope, c.at);
        const arg = spread ? undefined : c.call.args[position] ?? c.call.kwargs.find((k) => k.name === name)?.value;
        if (!spread && (!arg || c.call.args.some((a) => a.kind === 'other'))) return false;
        const terms = spread ? this.spreadTerms(spread) : this.terms(arg!, c.scope, c.at, 0, new Set());
        // Gradient-like terms with both signs (`(fit − complexity) · rate`, each built from ∂K): no one
        // gradient's direction is handed in, so the parameter's name does not make it one.
        if (mixedGradientSigns(terms)) return true;
        // Otherwise a spread's elements are read too loosely to outrank the name.
        if (spread) return false;
        // Nothing read (`self._grad_buffer`: references to self are dropped) says nothing, unless it is a zero.
        if (terms.length === 0) return arg !== undefined && isZero(arg, c.scope, c.at);
        // A gradient handed in negated (`layer.update(-lr * dW)`) is a descent step the method adds, also when the
        // value is only named like a gradient (`dW` from a function the project does not define): the name that
        // makes the parameter a gradient makes the argument one, and the caller negates it.
        return terms.every((t) => !(t.kind === 'grad' && t.sign > 0) && !(t.kind === 'unknown' && t.gradientish && t.sign > 0));
      });
    } finally {
      this.judgingCallers.delete(b);
    }
  }

  /** The terms of a spread's elements, the callback's parameter read as an element of the mapped array. */
  private spreadTerms(spread: SpreadElements): DirTerm[] {
    const own = !this.callEnvs.has(spread.callback);
    if (own && spread.item) this.callEnvs.set(spread.callback, new Map([[spread.item, spread.array]]));
    try {
      return spread.values.flatMap((x) => this.terms(x.expr, x.scope, x.at, 0, new Set()));
    } finally {
      if (own && spread.item) this.callEnvs.delete(spread.callback);
    }
  }

  /**
   * How the calls of `fn` hand its parameter `name` a gradient (handedGradients.ts says every one does):
   * 'ascent' when one hands the gradient of something to maximize (`objective.backward()` of a
   * log-likelihood, then `nudge(p, p.grad, lr)`): the helper climbs on purpose; 'unsure' when one hands
   * any argument negated (`move(p, p.grad, -lr)` steps down through a helper that adds) or a gradient
   * read with the opposite sign; 'descent' otherwise.
   */
  private handedCalls(b: Binding, fn: FunctionDef, name: string): 'descent' | 'ascent' | 'unsure' {
    const index = programIndex(this.facts);
    const position = explicitParams(fn).findIndex((p) => p.name === name);
    if (position < 0 || this.judgingCallers.has(b) || --this.budget < 0) return 'unsure';
    const calls = index.callsNamed(fn.name).flatMap((c) => {
      const target = this.facts.analyzer.callTarget(c.call, c.scope, c.at);
      return target?.fn === fn && !target.constructs ? [{ ...c, target }] : [];
    });
    this.judgingCallers.add(b);
    const before = this.ascent;
    try {
      for (const c of calls) {
        if ([...c.call.args, ...c.call.kwargs.map((k) => k.value)].some(negated)) return 'unsure';
        const arg = callArguments(c.call, c.target)[position] ?? c.call.kwargs.find((k) => k.name === name)?.value;
        if (!arg) return 'unsure';
        this.ascent = false;
        const terms = this.terms(arg, c.scope, c.at, 0, new Set());
        if (this.ascent) return 'ascent';
        if (terms.some((t) => t.kind === 'grad' && t.sign < 0)) return 'unsure';
      }
      return 'descent';
    } finally {
      this.ascent = this.ascent || before;
      this.judgingCallers.delete(b);
    }
  }

  private handedCtx?: HandedContext;
  private handedContext(): HandedContext {
    const analyzer = this.facts.analyzer;
    return (this.handedCtx ??= { program: analyzer.program, body: this.facts.module.body, scopes: this.facts.scopes, analyzer, isModule: (x) => analyzer.isModule(x) });
  }

  /** Parameters whose callers' arguments are being judged (callersHandNoGradient), against re-entry. */
  private readonly judgingCallers = new Set<Binding>();

  /** `for p, g in zip(params, grads)`: g is an element of grads. */
  private loop(b: Binding, e: Expr, key: string, d: number, guard: Guard): DirTerm[] {
    if (!b.loop) return this.byName(e, key, b);
    const source = loopSource(loopIterable(b.loop), b.loop.position, (x) => this.facts.analyzer.isModule(x));
    if (!source) return [unknown(e, this)];
    if (source.kind !== 'element') return [{ kind: 'scalar', sign: 1 }];
    if (source.collection === loopIterable(b.loop) && this.facts.analyzer.isParam(e)) return [{ kind: 'param', sign: 1 }];
    return this.element(source.collection, b, d, guard);
  }

  private element(collection: Expr, b: Binding, d: number, guard: Guard): DirTerm[] {
    if (collection.kind === 'call' && collection.callee.kind === 'attr' && isParametersMethod(collection.callee.name)) return [{ kind: 'param', sign: 1 }];
    if (this.facts.analyzer.isParam(collection)) return [{ kind: 'param', sign: 1 }];
    const outerScope = b.scope.parent && b.scope.kind === 'lambda' ? b.scope.parent : b.scope;
    return this.terms(collection, outerScope, b.at < 0 ? b.scope.span.start : b.at, d, guard);
  }

  /** A name bound by unpacking the result of a call. */
  private unpacked(u: Unpacked, d: number, guard: Guard): DirTerm[] {
    const value = u.stmt.value;
    const scope = u.scope;
    const at = u.stmt.span.start;
    const targetName = u.name;
    if (value.kind === 'seq' && typeof u.position === 'number') {
      const item = value.items[u.position];
      return item ? this.terms(item, scope, at, d, guard) : [unknown(value, this)];
    }
    // `N, M = X.shape`: sizes.
    if (value.kind === 'attr' && isShapeAttribute(value.name)) return [{ kind: 'scalar', sign: 1 }];
    if (value.kind !== 'call') return [unknown(value, this)];
    const fnName = calleeName(value);
    // tfjs: `const { value, grads } = tf.variableGrads(() => loss)`.
    // `dW, db = tape.gradient(loss, [W, b])`, `gW, gb = torch.autograd.grad(loss, [W, b])`.
    if (returnsGradients(value)) {
      return this.gradientOf(value.args[0], scope, at, d, `${targetName} (from ${this.src(value.callee)})`, value.span);
    }
    if (fnName && returnsValueAndGradients(fnName)) {
      if (u.position !== 'grads' && u.position !== 1) return [unknown(value, this)];
      return this.gradientOf(value.args[0], scope, at, d, `${targetName} (from ${fnName})`, value.span);
    }
    // `loss, grads = jax.value_and_grad(loss_fn)(params)`.
    if (value.callee.kind === 'call') {
      const inner = value.callee;
      const innerName = calleeName(inner);
      if (innerName === 'value_and_grad' || innerName === 'valueAndGrad') {
        if (u.position !== 1) return [unknown(value, this)];
        return this.gradientOf(inner.args[0], scope, at, d, `${targetName} (from ${innerName})`, value.span);
      }
      if (innerName === 'grad' && u.position === 0) return this.gradientOf(inner.args[0], scope, at, d, `${targetName} (from grad)`, value.span);
      return [unknown(value, this)];
    }
    if (!fnName) return [unknown(value, this)];
    if (isAscentWord(fnName)) {
      this.ascent = true;
      return [unknown(value, this)];
    }
    // A loss-and-gradient function of the program by data flow (tupleLosses.ts): what it returns beside its loss is a gradient, whatever either is called.
    const def = typeof u.position === 'number' ? this.functionNamed(fnName.replace(/^(self|this)\./, ''), scope) : undefined;
    const flowLoss = def ? lossPosition(this.facts, def) : undefined;
    if (def && flowLoss !== undefined && flowLoss !== u.position && !isBackwardHelperName(fnName) && !isBackpropName(fnName)) {
      // A "loss" that subtracts its penalty is a quantity to maximize (a log posterior): adding its gradient climbs it on purpose.
      if (climbedByPenalty(this.facts, def)) {
        this.ascent = true;
        return [unknown(value, this)];
      }
      // Only a value that says "minimized" (a square, a loss call, a negated log…) is a loss to descend: a log-likelihood returned with its gradient is climbed.
      if (minimizedByValue(this.facts, def)) return [{ kind: 'grad', sign: 1, source: `${targetName} (returned with the loss by ${fnName})`, origin: value.span }];
    }
    const gradientTarget = isGradientLike({ kind: 'name', name: targetName, span: value.span }) || isNablaName(targetName);
    // cs231n layers: `dx, dw, db = affine_backward(dout, cache)` carry the sign of dout.
    if (gradientTarget && isBackwardHelperName(fnName) && value.args[0]) {
      const upstream = this.terms(value.args[0], scope, at, d, guard);
      return upstream.length === 1 && upstream[0].kind === 'grad' ? [{ ...upstream[0], source: `${targetName} (from ${fnName})`, origin: value.span }] : [unknown(value, this)];
    }
    // A helper of the program that returns the unpacked item: its sign by data flow, the error the backward pass
    // starts from (`t − o` is −∇, `o − t` is +∇), whatever the helper
    // and the unpacked name are called (`residual, direction = self._direction(x, t)`).
    if (typeof u.position === 'number') {
      let flowed: DirTerm[] | undefined;
      backwardPass++;
      try {
        flowed = this.helper(value, scope, at, d, guard, u.position);
      } finally {
        backwardPass--;
      }
      if (flowed && flowed.length === 1 && flowed[0].kind === 'grad') return [{ ...flowed[0], source: `${targetName} (returned by ${fnName}: ${flowed[0].source})`, origin: flowed[0].origin ?? value.span }];
    }
    if (!gradientTarget) return [unknown(value, this)];
    // Only when the flow cannot say: `backprop`, `backpropagate` return the loss gradient by name.
    if (isBackpropName(fnName)) return [{ kind: 'grad', sign: 1, source: `${targetName} (from ${fnName})`, origin: value.span }];
    // `loss, dW = svm_loss(W, X, y, reg)`, `cost, grads = model.loss(X, y)`.
    const siblings = u.stmt.targets[0]?.kind === 'seq' ? u.stmt.targets[0].items : [];
    const lossSibling = siblings.some((s) => s.kind === 'name' && isUnpackedLossName(s.name));
    if (isLossWord(fnName) || lossSibling) return [{ kind: 'grad', sign: 1, source: `${targetName} (returned with the loss by ${fnName})`, origin: value.span }];
    return [unknown(value, this)];
  }

  // ---------------------------------------------------------------- calls

  private call(e: Expr & { kind: 'call' }, scope: Scope, at: number, d: number, guard: Guard): DirTerm[] {
    const callee = e.callee;
    const analyzer = this.facts.analyzer;
    const method = callee.kind === 'attr' && !analyzer.isModule(callee.object);
    const name = calleeName(e);
    if (!name) {
      // `jax.grad(loss_fn)(params)`, `torch.autograd.grad(loss, w)[0]` (the index is handled by reference).
      const value = gradientValue(e, this.autodiff());
      if (value) return this.gradientOf(value.objective, scope, at, d, `${this.src(e)}`, e.span);
      return [unknown(e, this)];
    }
    // `jax.grad(loss_fn)(params)`, `tf.grad(f)(x)`: the value is the gradient of what is differentiated.
    if (callee.kind === 'call') {
      const value = gradientValue(e, this.autodiff());
      if (value) return this.gradientOf(value.objective, scope, at, d, this.src(e), e.span);
    }
    const operands = method ? [(callee as { object: Expr }).object, ...e.args] : e.args;
    const alpha = e.kwargs.find((k) => k.name === 'alpha')?.value;
    const T = (x: Expr): DirTerm[] => this.terms(x, scope, at, d, guard);
    switch (name) {
      case 'add':
      case 'sub':
      case 'subtract': {
        if (operands.length !== 2) return [unknown(e, this)];
        let r = T(operands[1]);
        if (alpha) r = multiply(T(alpha), r);
        return residual([...T(operands[0]), ...(name === 'add' ? r : r.map(flip))]);
      }
      case 'neg':
      case 'negative':
        return operands.length === 1 ? T(operands[0]).map(flip) : [unknown(e, this)];
      case 'div':
      case 'divide':
      case 'true_divide':
        return operands.length === 2 ? divide(T(operands[0]), T(operands[1])) : [unknown(e, this)];
      case 'gradient':
        if (method && e.args[0]) return this.gradientOf(e.args[0], scope, at, d, this.src(e), e.span);
        break;
      case 'backward':
        break;
      default:
        break;
    }
    if (PRODUCT_FUNCTIONS.has(name) && operands.length === 2 && name !== 'einsum') return multiply(T(operands[0]), T(operands[1]));
    if (zeroValue(e)) return [];
    if (SIGN_FUNCTIONS.has(name)) {
      // FGSM and signSGD: which way a sign of a gradient points is not read here.
      if (operands.some((o) => this.terms(o, scope, at, d, guard).some((t) => t.kind === 'grad'))) this.ascent = true;
      return [unknown(e, this)];
    }
    if (MAGNITUDE_FUNCTIONS.has(name) || (isSizeFunction(name) && !method)) return [{ kind: 'scalar', sign: 1 }];
    if (PASS_THROUGH_FUNCTIONS.has(name) && operands[0]) return T(operands[0]);
    if (isDerivativeName(name)) return [{ kind: 'scalar', sign: 1 }];
    if (isLossGradientName(name) && !isAscentWord(name)) return [{ kind: 'grad', sign: 1, source: `${this.src(e)}`, origin: e.span }];
    if (isActivationOrForward(name) || isModelCallName(name)) return [{ kind: 'pred', sign: 1 }];
    if (isAscentGradientName(name)) this.ascent = true;
    return this.helper(e, scope, at, d, guard) ?? [unknown(e, this)];
  }

  /** A call of a function the program can see: the direction of what it returns, its parameters bound to the arguments. */
  private helper(e: Expr & { kind: 'call' }, scope: Scope, at: number, d: number, guard: Guard, position?: number): DirTerm[] | undefined {
    const analyzer = this.facts.analyzer;
    const target = analyzer.callTarget(e, scope, at);
    if (!target || target.constructs || this.callEnvs.has(target.fn.scope)) return undefined;
    // `self.m(...)` on an abstract stub runs whichever override the instance's class has: every one
    // of them must say the same. A method with a body is read as written.
    const stub = returnsOf(this.facts.program, target.fn).length === 0;
    const candidates = stub ? [target.fn, ...this.overrides(target, scope)] : [target.fn];
    let answer: DirTerm[] | undefined;
    for (const fn of candidates) {
      if (this.callEnvs.has(fn.scope)) return undefined;
      const returns = returnsOf(this.facts.program, fn);
      // An abstract stub (`raise NotImplementedError`) returns nothing: its overrides decide.
      if (returns.length === 0 && candidates.length > 1) continue;
      if (returns.length !== 1) return undefined;
      // `err, dw = self.helper(x, t)`: the item of the returned tuple the name unpacks.
      let returnedExpr = returns[0].expr;
      if (position !== undefined) {
        const item = returnedExpr.kind === 'seq' ? returnedExpr.items[position] : undefined;
        if (!item) return undefined;
        returnedExpr = item;
      }
      this.callEnvs.set(fn.scope, analyzer.argumentEnv(e, fn === target.fn ? target : { ...target, fn, cls: fn.cls }, scope, at, undefined));
      let terms: DirTerm[];
      try {
        terms = this.returned(fn, returnedExpr, returns[0].scope, returns[0].at, d, guard);
      } finally {
        this.callEnvs.delete(fn.scope);
      }
      if (answer && !sameTerms(answer, terms)) return [unknown(e, this)];
      answer ??= terms;
    }
    return answer;
  }

  /** The methods that override a `self.m(...)` call's target in subclasses (of the calling class) defined in the same file. */
  private overrides(target: CallTarget, scope: Scope): FunctionDef[] {
    const receiver = target.receiver;
    // `f.call(this, …)` runs f itself, whatever a subclass defines.
    if (!receiver || target.args || receiver.kind !== 'name' || !isSelfName(receiver.name)) return [];
    const caller = enclosingClass(scope);
    const parsed = this.facts.program.parsedOf(target.fn.span);
    if (!caller || !parsed) return [];
    const program = this.facts.program;
    return parsed.scopes
      .methodsNamed(target.fn.name)
      .filter((m) => m !== target.fn && m.cls && m.cls !== caller && derivesFrom(program, m.cls, caller) && methodOf(program, m.cls, m.name) === m);
  }

  /**
   * What a function returns. A returned object whose contents the function replaced
   * (`grads.values = step(grads.values); return grads`) holds what was stored in it.
   */
  private returned(fn: FunctionDef, expr: Expr, scope: Scope, at: number, d: number, guard: Guard): DirTerm[] {
    const key = expr.kind === 'name' ? expr.name : undefined;
    if (key !== undefined) {
      const stores: Binding[] = [];
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        for (const [k, list] of s.bindings) if (k.startsWith(`${key}.`) || k.startsWith(`${key}[`)) stores.push(...list.filter((b) => b.at < at));
        if (s === fn.scope) break;
      }
      if (stores.length > 0) {
        const only = stores.length === 1 ? stores[0] : undefined;
        if (!only || only.op || !only.value || only.loops.length > 0) return [unknown(expr, this)];
        return this.terms(only.value, only.scope, only.at, d, guard);
      }
    }
    return this.terms(expr, scope, at, d, guard);
  }

  /** The gradient of `objective` as autodiff computes it: +∇ of a loss, marks ascent for an objective to maximize. */
  private gradientOf(objective: Expr | undefined, scope: Scope, at: number, d: number, source: string, origin: Span): DirTerm[] {
    if (!objective) return [{ kind: 'unknown', sign: 1, gradientish: true }];
    const p = this.objective(objective, scope, at, d, 0);
    if (p === 'ascent') {
      this.ascent = true;
      return [{ kind: 'unknown', sign: 1, gradientish: true }];
    }
    if (p === undefined) return [{ kind: 'unknown', sign: 1, gradientish: true }];
    return [{ kind: 'grad', sign: p, source, origin }];
  }

  /** Is `e` a loss (+1), a negated loss (−1), something to maximize ('ascent'), or unknown? */
  objective(e: Expr, scope: Scope, at: number, d: number, hops: number): 1 | -1 | 'ascent' | undefined {
    if (d > MAX_DEPTH || hops > 4) return undefined;
    const d1 = d + 1;
    switch (e.kind) {
      case 'unary':
        if (e.op === '-') {
          const p = this.objective(e.arg, scope, at, d1, hops);
          return p === 1 ? -1 : p === -1 ? 1 : p;
        }
        return undefined;
      case 'binary': {
        if (e.op === '*' || e.op === '/') {
          const l = this.objective(e.left, scope, at, d1, hops);
          const r = e.op === '*' ? this.objective(e.right, scope, at, d1, hops) : undefined;
          if (l === 'ascent' || r === 'ascent') return 'ascent';
          const ln = numberOf(e.left);
          const rn = numberOf(e.right);
          if (l !== undefined && rn !== undefined) return rn < 0 ? (l === 1 ? -1 : 1) : l;
          if (r !== undefined && ln !== undefined) return ln < 0 ? (r === 1 ? -1 : 1) : r;
          if (l !== undefined && r === undefined && isSimpleScalar(e.right)) return l;
          if (r !== undefined && l === undefined && isSimpleScalar(e.left)) return r;
          return undefined;
        }
        if (e.op === '+' || e.op === '-') {
          const l = this.objective(e.left, scope, at, d1, hops);
          const r = this.objective(e.right, scope, at, d1, hops);
          if (l === 'ascent' || r === 'ascent') return 'ascent';
          return l;
        }
        return undefined;
      }
      case 'lambda': {
        const ls = this.facts.scopes.lambdaScopes.get(e) ?? scope;
        if (e.body) return this.objective(e.body, ls, Infinity, d1, hops);
        const returns = e.stmts.filter((s) => s.kind === 'return');
        if (returns.length === 1 && returns[0].kind === 'return' && returns[0].value) return this.objective(returns[0].value, ls, Infinity, d1, hops);
        return undefined;
      }
      case 'name':
      case 'attr':
      case 'index': {
        const last = lastComponent(e) ?? '';
        if (e.kind === 'index' && e.object.kind === 'call') return this.objective(e.object, scope, at, d1, hops);
        const fn = e.kind === 'name' ? this.functionNamed(e.name, scope) : undefined;
        const key = exprKey(e);
        const binding = key !== undefined ? scope.lookup(key, at) : undefined;
        if (isAscentWord(last)) {
          // `obj`, `objective`: a loss or a maximized objective; a value that is a loss decides (`obj = F.cross_entropy(...)`).
          if (isAmbiguousObjectiveName(last) && !fn && binding?.kind === 'assign' && binding.value && this.objective(binding.value, binding.scope, binding.at, d1, hops + 1) === 1) return 1;
          return 'ascent';
        }
        if (fn) {
          const body = fn.returns ?? singleReturn(fn);
          const inner = body ? this.objective(body, fn.scope, Infinity, d1, hops + 1) : undefined;
          if (inner === 'ascent') return 'ascent';
          if (isLossWord(fn.name)) return 1;
          return inner;
        }
        if (binding?.kind === 'assign' && binding.value) {
          const inner = this.objective(binding.value, binding.scope, binding.at, d1, hops + 1);
          if (inner === 'ascent') return 'ascent';
          if (isLossWord(last)) return 1;
          return inner;
        }
        if (isLossWord(last)) return 1;
        return undefined;
      }
      case 'call': {
        const name = calleeName(e) ?? '';
        if (isAscentWord(name)) return 'ascent';
        if (isSignPreservingReduction(name)) {
          const operand = e.callee.kind === 'attr' && !this.facts.analyzer.isModule(e.callee.object) ? e.callee.object : e.args[0];
          return operand ? this.objective(operand, scope, at, d1, hops) : undefined;
        }
        if (name === 'add' && e.callee.kind === 'attr') {
          const l = this.objective(e.callee.object, scope, at, d1, hops);
          const r = e.args[0] ? this.objective(e.args[0], scope, at, d1, hops) : undefined;
          return l === 'ascent' || r === 'ascent' ? 'ascent' : l;
        }
        if (isLossWord(name) || isLossFunctionName(name)) return 1;
        const key = exprKey(e.callee);
        const fn = key ? this.functionNamed(key.replace(/^(self|this)\./, ''), scope) : undefined;
        if (fn) {
          const body = fn.returns ?? singleReturn(fn);
          return body ? this.objective(body, fn.scope, Infinity, d1, hops + 1) : undefined;
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private functionNamed(name: string, scope: Scope): FunctionDef | undefined {
    const def = resolveName(this.facts.program, name, scope, Infinity);
    if (def?.kind === 'function') return def.fn;
    return scope.lookupFunction(name) ?? programIndex(this.facts).functionNamed(name);
  }

  /** `p.grad` holds ∂(what was backpropagated)/∂p. */
  private torchGrad(e: Expr & { kind: 'attr' }, scope: Scope): DirTerm[] {
    // Reset and refilled by a call since backward() (the buffer reused as scratch): not the gradient.
    if (refilledGradient(this.facts, e, scope)) return [{ kind: 'unknown', sign: 1, gradientish: false }];
    const index = programIndex(this.facts);
    const fn = index.enclosingFunction(scope);
    let verdict = this.backwardVerdicts.get(fn ?? null);
    if (verdict === undefined) {
      const all = index.callsNamed('backward').filter(({ call }) => call.callee.kind === 'attr' && !this.facts.analyzer.isModule(call.callee.object));
      // The backward() calls of the same function decide; without any, those of the whole file.
      const local = fn ? all.filter((c) => index.enclosingFunction(c.scope) === fn) : [];
      verdict = local.length > 0 ? 'local' : 'file';
      for (const { call, scope: s, at } of local.length > 0 ? local : all) {
        const p = this.objective((call.callee as { object: Expr }).object, s, at, 0, 0);
        if (p === 'ascent' || p === -1) {
          verdict = p === 'ascent' ? 'ascent' : 'negated';
          break;
        }
      }
      this.backwardVerdicts.set(fn ?? null, verdict);
    }
    if (verdict === 'ascent') this.ascent = true;
    if (verdict === 'ascent' || verdict === 'negated') return [{ kind: 'unknown', sign: 1, gradientish: true }];
    return [{ kind: 'grad', sign: 1, source: `${this.src(e)} (set by backward())`, origin: e.span, weak: verdict === 'file' }];
  }

  private autodiff(): AutodiffContext {
    return trainingFacts(this.facts).autodiffContext();
  }

  src(e: { span: Span }): string {
    return this.facts.source(e.span).replace(/\s+/g, ' ');
  }

  markAscent(): void {
    this.ascent = true;
  }
}

// ------------------------------------------------------------------ term algebra

/** An argument handed negated: `-lr`, `-p.grad`, `-1e-3`. */
function negated(e: Expr): boolean {
  return (e.kind === 'unary' && e.op === '-') || (numberOf(e) ?? 0) < 0;
}

/** A zero written there or bound once to the name (`db = np.zeros(shape)`). */
function isZero(e: Expr, scope: Scope, at: number): boolean {
  if (zeroValue(e) !== undefined) return true;
  if (e.kind !== 'name') return false;
  const b = scope.lookup(e.name, at);
  return b?.kind === 'assign' && !b.op && !b.unpacked && b.value !== undefined && zeroValue(b.value) !== undefined;
}

/**
 * The values a call's one spread argument (`f(...steps)`) hands the parameter at `position`: every
 * element of `steps = xs.map((x) => ...)` is what the callback returns, so the callback's return
 * values stand for each of them. Undefined when the call has no spread, or a spread not read so.
 */
interface SpreadElements {
  values: { expr: Expr; scope: Scope; at: number }[];
  /** The callback's scope, its first parameter's name, and the array it walks. */
  callback: Scope;
  item?: string;
  array: { expr: Expr; scope: Scope; at: number };
}

function spreadElements(facts: Facts, call: Expr & { kind: 'call' }, position: number, scope: Scope, at: number): SpreadElements | undefined {
  const first = call.args.findIndex((a) => a.kind === 'other' && a.spread !== undefined);
  if (first < 0 || first > position || call.args.length !== first + 1 || call.kwargs.length > 0) return undefined;
  const spread = call.args[first];
  const array = spread.kind === 'other' && spread.spread === 'positional' ? spread.children[0] : undefined;
  if (array?.kind !== 'name') return undefined;
  const b = scope.lookup(array.name, at);
  if (!b || b.op || b.kind !== 'assign' || b.value?.kind !== 'call') return undefined;
  const mapCall = b.value;
  const fn = mapCall.args[0];
  if (mapCall.callee.kind !== 'attr' || !isElementMapMethod(mapCall.callee.name) || mapCall.args.length !== 1 || fn?.kind !== 'lambda') return undefined;
  const ls = facts.scopes.lambdaScopes.get(fn);
  if (!ls) return undefined;
  const result = (values: { expr: Expr; scope: Scope; at: number }[]): SpreadElements | undefined =>
    values.length > 0 ? { values, callback: ls, item: fn.params[0]?.name, array: { expr: mapCall.callee.kind === 'attr' ? mapCall.callee.object : mapCall.callee, scope: b.scope, at: b.at } } : undefined;
  if (fn.body) return result([{ expr: fn.body, scope: ls, at: Infinity }]);
  const found: { expr: Expr; scope: Scope; at: number }[] = [];
  const visit = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'return' && s.value) found.push({ expr: s.value, scope: facts.scopes.stmtScopes.get(s) ?? ls, at: s.span.start });
      else if (s.kind === 'block' || s.kind === 'for') visit(s.body);
    }
  };
  visit(fn.stmts);
  return result(found);
}

/** Whether gradient-like terms (read as gradients, or unknown values named like them) come with both signs. */
function mixedGradientSigns(terms: DirTerm[]): boolean {
  const signs = new Set(terms.filter((t) => t.kind === 'grad' || (t.kind === 'unknown' && t.gradientish)).map((t) => t.sign));
  return signs.size > 1;
}

function unknown(e: Expr, a: DirectionAnalyzer): DirTerm {
  void a;
  return { kind: 'unknown', sign: 1, gradientish: mentionsGradient(e) };
}

function mentionsGradient(e: Expr): boolean {
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if ((x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && isGradientLike(x)) return true;
    if (x.kind === 'attr') stack.push(x.object);
    else if (x.kind === 'index') stack.push(x.object);
    else if (x.kind === 'call') stack.push(x.callee, ...x.args);
    else if (x.kind === 'binary') stack.push(x.left, x.right);
    else if (x.kind === 'unary') stack.push(x.arg);
  }
  return false;
}

function flip(t: DirTerm): DirTerm {
  return { ...t, sign: t.sign === 1 ? -1 : 1 };
}

function sameTerms(a: DirTerm[], b: DirTerm[]): boolean {
  return a.length === b.length && a.every((t, i) => t.kind === b[i].kind && t.sign === b[i].sign);
}

/** `pred − target` is +∇loss (w.r.t. the prediction); `target − pred` is −∇loss. */
function residual(terms: DirTerm[]): DirTerm[] {
  const targets = terms.filter((t) => t.kind === 'target' || (backwardPass > 0 && terms.length === 2 && t.kind === 'data'));
  const preds = terms.filter((t) => t.kind === 'pred');
  if (targets.length === 1 && preds.length === 1 && targets[0].sign !== preds[0].sign) {
    const rest = terms.filter((t) => t !== targets[0] && t !== preds[0]);
    return [...rest, { kind: 'grad', sign: preds[0].sign, source: 'a residual (prediction − target)' }];
  }
  return terms;
}

/**
 * Inside the value a helper of a hand-written backward pass returns (`err, dw = self._out_delta(x, t)`, read where
 * a name decided before): `(t − o)·f'(z)` whose `t` the caller hands in from its data loop (so it reads as data, not
 * a target) is the residual, one data term against one prediction of the opposite sign; and the activation it
 * is then multiplied by (`np.outer(err, a_prev)`, a layer's input) is a sign-neutral multiplier like data.
 */
let backwardPass = 0;

/** A sum of positive-by-convention scalars (`1 + mu`, `1 - beta1`, `sqrt(v) + eps`) as one positive scalar. */
function collapse(terms: DirTerm[]): DirTerm[] {
  if (terms.length > 1 && terms.every((t) => t.kind === 'scalar') && terms[0].sign === 1) return [{ kind: 'scalar', sign: 1 }];
  return terms;
}

function combine(a: DirTerm, b: DirTerm): DirTerm {
  const sign = (a.sign * b.sign) as 1 | -1;
  if (a.kind === 'unknown' || b.kind === 'unknown') return { kind: 'unknown', sign, gradientish: a.gradientish || b.gradientish || a.kind === 'grad' || b.kind === 'grad' };
  if (a.kind === 'scalar') return { ...b, sign };
  if (b.kind === 'scalar') return { ...a, sign };
  const pair = [a.kind, b.kind].sort().join('*');
  const gradOf = a.kind === 'grad' ? a : b;
  switch (pair) {
    case 'data*data':
      return { kind: 'data', sign };
    case 'data*target':
      return { kind: 'target', sign };
    case 'data*pred':
    case 'data*param':
      return { kind: 'pred', sign };
    case 'data*grad':
      return { ...gradOf, sign };
    case 'grad*pred':
      return backwardPass > 0 ? { ...gradOf, sign } : { kind: 'unknown', sign, gradientish: true };
    case 'grad*grad':
      return a.source === b.source ? { kind: 'scalar', sign: 1 } : { kind: 'unknown', sign, gradientish: true };
    default:
      return { kind: 'unknown', sign, gradientish: a.kind === 'grad' || b.kind === 'grad' };
  }
}

function multiply(l: DirTerm[], r: DirTerm[]): DirTerm[] {
  if (l.length === 0 || r.length === 0) return [];
  l = collapse(l);
  r = collapse(r);
  if (l.length === 1) return r.map((t) => combine(l[0], t));
  if (r.length === 1) return l.map((t) => combine(t, r[0]));
  return [{ kind: 'unknown', sign: 1, gradientish: [...l, ...r].some((t) => t.kind === 'grad' || t.gradientish) }];
}

function divide(l: DirTerm[], r: DirTerm[]): DirTerm[] {
  r = collapse(r);
  if (r.length === 1 && r[0].kind === 'scalar') return l.map((t) => (r[0].sign === 1 ? t : flip(t)));
  return [{ kind: 'unknown', sign: 1, gradientish: [...l, ...r].some((t) => t.kind === 'grad' || t.gradientish) }];
}

function numericSign(e: Expr | undefined): 1 | -1 {
  const n = e ? numberOf(e) : undefined;
  return n !== undefined && n < 0 ? -1 : 1;
}

function isSimpleScalar(e: Expr): boolean {
  if (numberOf(e) !== undefined) return numberOf(e)! > 0;
  const last = lastComponent(e);
  return last !== undefined && (isHyperparameterName(last) || isExampleCountName(last));
}

export function calleeName(e: Expr & { kind: 'call' }): string | undefined {
  if (e.callee.kind === 'name') return e.callee.name;
  if (e.callee.kind === 'attr') return e.callee.name;
  return undefined;
}

function singleReturn(fn: FunctionDef): Expr | undefined {
  const returns = fn.body.filter((s) => s.kind === 'return');
  return returns.length === 1 && returns[0].kind === 'return' ? returns[0].value : undefined;
}

// ------------------------------------------------------------------ field writes

/** The summands of a sum with their signs: `a - (b + c)` → +a, −b, −c; `-x` → −x. */
function signedSummands(e: Expr, sign: 1 | -1): { expr: Expr; sign: 1 | -1 }[] {
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) return [...signedSummands(e.left, sign), ...signedSummands(e.right, e.op === '-' ? (sign === 1 ? -1 : 1) : sign)];
  if (e.kind === 'unary' && e.op === '-') return signedSummands(e.arg, sign === 1 ? -1 : 1);
  if (e.kind === 'unary' && e.op === '+') return signedSummands(e.arg, sign);
  return [{ expr: e, sign }];
}

/** The factors of a product (`*`, and the divisor of `/`), a unary minus folded into the factor's sign. */
function productFactors(e: Expr, sign: 1 | -1 = 1): { expr: Expr; sign: 1 | -1 }[] {
  if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) return [...productFactors(e.left, sign), ...productFactors(e.right, 1)];
  if (e.kind === 'unary' && e.op === '-') return productFactors(e.arg, sign === 1 ? -1 : 1);
  return [{ expr: e, sign }];
}

function isFieldOf(e: Expr, name: string): boolean {
  return e.kind === 'attr' && e.name === name && isObjectField(e);
}

/** Whether a read of field `name` on an object that is not self/this occurs in `e`. */
function mentionsField(e: Expr, name: string): boolean {
  const stack = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (isFieldOf(x, name)) return true;
    if (x.kind === 'attr') stack.push(x.object);
    else if (x.kind === 'index') stack.push(x.object, ...x.index);
    else if (x.kind === 'call') stack.push(x.callee, ...x.args);
    else if (x.kind === 'binary') stack.push(x.left, x.right);
    else if (x.kind === 'unary') stack.push(x.arg);
    else if (x.kind === 'cond') stack.push(x.then, x.else);
  }
  return false;
}
