// Hand-written optimizer steps, normalized symbolically (issue 14). Each function's statements are
// evaluated in order into sums of monomials (server/math/poly.ts): locals are substituted, torch's
// in-place chains (`m.mul_(b1).add_(g, alpha=1 - b1)`), `_foreach_` lists, NumPy/TF/tfjs/`Math`
// calls and one-return helpers read as arithmetic (catalogue.ts `stepCall`). A value that persists
// across calls (an attribute, a subscript, a loop element, a name updated from itself) and is
// rewritten from its own old value gets an equation T ← a·T + Σ bₓ·X. Equations read by another
// equation are optimizer state; an equation that reads state and that nothing reads is a parameter
// update; T ← T + 1 is a step count. The state's update (moving average, sum, max), its bias
// corrections 1 − βᵗ and where the √ and ε sit are then read off the normal form, by data flow; the
// only names consulted (roles.ts) are a learning rate's, and only after the data flow has spoken.
import type { Expr, Span, Stmt } from '../ir';
import { COMPARISON_OPERATORS } from '../ir';
import type { Facts } from './index';
import { explicitParams, ifChainAt, someExpr, type Binding, type ClassDef, type FunctionDef, type Scope } from './scope';
import { exprKey } from './keys';
import { callArguments, derivesFrom, lambdaFunction, resolveCall, resolveExpr } from './resolve';
import { programIndex, walkAll, definedInFile, spanKey, ownStatements } from './program';
import { subExprs } from './loops';
import { foundNothing, foundNothingBefore } from '../functionReuse';
import { trimSpan } from './steps';
import { complementaryIfs } from './complementaryIfs';
import { formatNumber } from '../../math/print/format';
import { APPLY_UPDATES, ARITHMETIC_CALLS, appliedUpdates, LIST_APPEND_METHODS, arithmeticPlacement, copiedArray, frameworkEpsilon, inPlaceReceiver, boundCall, DICT_DEFAULT_METHOD, entryReadByGet, entryWriteBySet, gradientTransformationParts, GRADIENT_TRANSFORMATION_NAMES, isDictConstructor, isNoneLiteral, KERAS_STEP_COUNTER, frameworkPath, isKerasOptimizerBasePath, nestedIterable, optaxTreeCall, stepCall, treeMapCall, zeroValue, type StepCall, type StepMath, VALUE_ATTRIBUTES, isStorageAttribute } from './catalogue';
import {
  PolyOverflow, add, applyBinary, atomKey, atomPoly, atomsOf, constant, div, fn as fnPoly, mentions, mul, near, numeric, polyEquals, polyKey, pow, scale, sqrt, sub, substitute, sym,
  type Atom, type Mono, type Poly, type PolyFactor,
} from '../../math/poly';

/** A value that persists across steps, rewritten from its old value: T ← a·T + Σ bₓ·X. */
export interface Equation {
  key: string;
  /** The new value in terms of the old ones (T's own atom stands for its old value). */
  value: Poly;
  /** Statements that write it, in order. */
  spans: Span[];
  /** The first write's place in the function's order of evaluation. */
  order: number;
  /** The last write's place. */
  last: number;
  /** The target as written at the first write. */
  target: Expr;
  /** Written in two `if` blocks that may exclude each other: its composed value is not trusted. */
  branched?: true;
  /** Each write's own value, in terms of the value before it (`value` composes them). */
  writes?: Poly[];
}

/** One tensor added to itself under two names: `g + update` after `update = g` (and `update.add_(p, alpha=wd)`). */
export interface DoubleRead {
  key: string;
  /** The sum. */
  span: Span;
  /** The local that aliases the tensor, and where it was given it. */
  alias: string;
  aliasSpan: Span;
  /** The other side of the sum, as written. */
  other: string;
  /** The last in-place write of the tensor before the sum (through the alias or not). */
  inPlace?: Span;
}

/**
 * `X ** 1/2` (or `X ** -1/2`) as written: (X ** 1) / 2 by precedence, half of X where its square root
 * was meant; `lr * X ** 1/2` is (lr * X) / 2 too. `value` is X's value in the step; `power` is how X
 * enters the product, 1 or −1 (`X ** -1/2`, `a / X ** 1/2`); `exponent` spans `1/2` (what `0.5` replaces).
 */
export interface HalfPower {
  span: Span;
  base: Expr;
  value: Poly;
  power: 1 | -1;
  /** The exponent as written: 1 or −1. */
  written: 1 | -1;
  exponent: Span;
}

/** 1 for the literal 1 (or 1.0), −1 for −1: an exponent that leaves its base as it is, or inverts it. */
function unitExponent(e: Expr): 1 | -1 | undefined {
  if (e.kind === 'num' && e.value === 1) return 1;
  if (e.kind === 'unary' && e.op === '-' && e.arg.kind === 'num' && e.arg.value === 1) return -1;
  return undefined;
}

/** A β-weighted update of a state: self coefficient `a`, and what it adds, grouped by tensor part X. */
export interface StateUpdate {
  eq: Equation;
  /** The coefficient on the old value (undefined when the old value enters otherwise: `max(b2*u, |g|)`). */
  self?: Poly;
  adds: { x: Poly; b: Poly }[];
  /** a = c₀ + c₁·β: the one symbol β the old value is weighted by. */
  beta?: string;
  /** Every bₓ is a multiple of 1 − a: a moving average. */
  average: boolean;
  /** The old value enters through max(·,·) (AMSGrad, Adamax). */
  max: boolean;
}

/** A persistent value written with a value that does not read its old one (`self.prev = -lr * g`). */
export interface Overwrite {
  value: Poly;
  target: Expr;
  span: Span;
  /** The whole statement (its key in the program index). */
  statement: Span;
  /** How many equations were written before it (an equation's `order` below this one came first). */
  after: number;
  /** Written under an `if` (a start value set on the first call). */
  conditional: boolean;
}

/** `1 − β` or `1 − βᵗ`, where it is written. */
export interface Correction {
  beta: string;
  /** The exponent (`t`), absent for a bare `1 − β`. */
  exp?: Poly;
  /** `1 − β²`: a number written for the exponent (no `exp`: a constant, as 1 − β is). */
  fixedPower?: number;
  /** ε added to it (`1 - b1 ** t + eps`): its key or number. Such a correction is ε at t = 0, not 0. */
  eps?: string;
  span: Span;
  order: number;
  key: string;
  /**
   * Loop variables that start at 0 (`for t in range(n)`) and are bound where the correction is
   * computed: the innermost loop over each name that is running then. A helper's own loop over the
   * same name, already finished (or not yet entered), is not the caller's counter.
   */
  zeroLoops?: string[];
  /** The simple statement (an assignment, an expression, a `return`) being run where it is computed. */
  statement?: Stmt;
  /**
   * Computed inside a helper the step calls (`unbias(v, b1, t)`): the argument of the step's own call
   * that hands the helper this correction's β. The helper is generic; the argument is what was chosen.
   */
  betaArgument?: Span;
}

export interface ParamUpdate {
  eq: Equation;
  /** The terms the step adds to the parameter (its old value's own terms removed). */
  step: Poly;
  /** The coefficient on the old value (1, or 1 − ηλ for decoupled decay). */
  self: Poly;
  /**
   * States the update reads from where they are kept after their new value was computed into a
   * local and before it is stored there (`m_hat = self.m[k] / …` between `m = b1 * self.m[k] + …`
   * and `self.m[k] = m`): the previous step's value. `local` is the local that holds the new one.
   */
  previous?: { key: string; read: Span; local: string; computed: Span }[];
  /** The function returns this step for its caller to apply, with a sign and a learning rate not seen here. */
  returned?: true;
  /** The function returns this parameter's new value for its caller to keep: which item of the returned tuple (−1: the whole value). */
  handedBack?: number;
}

export interface OptimizerStep {
  fn: FunctionDef;
  states: Map<string, StateUpdate>;
  params: ParamUpdate[];
  /** Step counts (T ← T + 1) by key, with the order of their increment. */
  counters: Map<string, number>;
  /** Where each step count of `counters` is incremented (the statement). */
  counterSpans?: Map<string, Span>;
  corrections: Correction[];
  /** Numbers the file assigns to each key anywhere (a step count's initial value). */
  initial: (key: string) => number[];
  /** Whether a symbol is a stabilizing ε (epsilonTest), for corrections written 1 − βᵗ + ε. */
  epsilon?: EpsilonTest;
  family?: string;
  /** The step reads some of its math through helpers of the project. */
  inlined: boolean;
  /** Step counts the framework keeps and increments after the step (a Keras optimizer's `self.iterations`). */
  frameworkCounters?: Set<string>;
  /** Sums that add one tensor under two names (`DoubleRead`). */
  doubleReads?: DoubleRead[];
  /** Running powers T ← T·β read as βᵉ (their exponent `powerExponent(T)` is a step count), with where T is multiplied. */
  powers?: Map<string, { beta: string; span: Span }>;
  /**
   * Writes of persistent values that do not read their old value, in the whole function (every
   * branch, before it is split into paths): a state's start value set on the first call (`if 'm' not
   * in state: state['m'] = g.clone()`) is one.
   */
  overwrites?: Map<string, Overwrite[]>;
  /**
   * Local β powers started before a parameter loop on every call and multiplied by β in it, by their
   * exponent's key (`loopPowerExponent`): the corrections read them as βᵉ.
   */
  localPowers?: Map<string, { name: string; beta: string; loop: Stmt; start?: Span; startsAtOne: boolean; advance: Span }>;
  /** Tensors squared in place where the square is used (`v.add_(grad.square_())`) and read again after (SquaredInPlace). */
  squaredInPlace?: SquaredInPlace[];
  /** `X ** 1/2` written in the step (`HalfPower`). */
  halfPowers?: HalfPower[];
  /** Locals that copied a step count before its increment, read after it as T − 1, with where they copied it. */
  countCopies?: Map<string, { local: string; copied?: Span }>;
  /**
   * Values a parameter's update reads that the step then rewrites from their old value (AdaDelta's
   * E[Δθ²], updated after θ): they carry to the next step as states do, but feed nothing of this one
   * after their update, so they are not among `states` (which the NB40x checks read in order).
   */
  laterStates?: Map<string, StateUpdate>;
}

/**
 * `v.add_(grad.square_())`: the square feeds another value, and the receiver itself now holds it;
 * `read` is the first later read of the receiver in the step's own function (it sees g², not g).
 */
export interface SquaredInPlace {
  key: string;
  call: Span;
  /** The receiver's value before the square (the gradient it held). */
  old: Poly;
  read?: Span;
}

/** `m || 0`, `m ?? 0`, `m or 0`: the operators whose zero right side is a lazy zero start. */
const ZERO_DEFAULTS = new Set(['??', 'or']);

const isZeroLiteral = (e: Expr): boolean => e.kind === 'num' && e.value === 0;

/** `k in m` tests the entry `m[k]` reads. */
function readsTestedEntry(test: Expr, read: Expr): boolean {
  if (test.kind !== 'other' || test.ops?.length !== 1 || test.ops[0] !== 'in' || test.children.length !== 2 || read.kind !== 'index' || read.index.length !== 1) return false;
  const [key, dict] = test.children;
  const k = exprKey(key);
  return k !== undefined && k === exprKey(read.index[0]) && exprKey(dict) !== undefined && exprKey(dict) === exprKey(read.object);
}

const cache = new WeakMap<Facts, OptimizerStep[]>();
/**
 * How many statements of helpers one function's evaluation may run. An optimizer step's helpers
 * are a few dozen statements; a function that fans out into a whole module's helpers is not a step.
 */
const INLINE_BUDGET = 2000;

/** The file's hand-written optimizer steps: functions that update a parameter from state they also update. */
export function optimizerSteps(facts: Facts): OptimizerStep[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const inits = initialValues(facts);
  const helperNames = new Set(index.functions.map((f) => f.name));
  const candidate: CandidateTest = {
    arithmetic: (e) => e.kind === 'binary' || (e.kind === 'call' && stepCall(e, (x) => facts.analyzer.isModule(x)) !== undefined),
    helper: (name) => helperNames.has(name),
  };
  const transforms = transformUpdates(facts);
  for (const fn of [...index.functions, ...objectMethods(facts)]) {
    if (!definedInFile(facts, fn)) continue;
    const transform = transforms.get(fn);
    if (fn.body.length === 0 || (!transform && !mayHoldStep(fn.body, candidate) && !returnsNamedState(fn) && !returnsArgumentVersions(fn))) continue;
    // A function that found no step in the document's previous version, whose cone is unchanged and whose file-wide
    // lookups (the numbers and plain values the file assigns to the keys it asked for) give the same answers now, finds
    // none now (functionReuse.ts). An optax update function is not reused: what makes it one is its callers'.
    if (!transform && foundNothingBefore(facts, STEPS_QUERY, fn, (reads: FileReads) => new FileLookups(facts, fn, inits).answerAlike(reads))) continue;
    try {
      // Every lookup of the file beyond the function's cone goes through its FileLookups, which logs it.
      const lookups = new FileLookups(facts, fn, inits);
      if (transform) {
        // An optax update function is read whole: its one update is what it returns.
        const step = analyzeFunction(facts, fn, lookups, fn.body, undefined, transform);
        if (step) found.push(step);
      } else {
        const steps = analyzePaths(facts, fn, lookups);
        if (steps.length === 0) foundNothing(facts, STEPS_QUERY, fn, lookups.reads);
        found.push(...steps);
      }
    } catch (e) {
      if (!(e instanceof PolyOverflow)) throw e;
    }
  }
  cache.set(facts, found);
  return found;
}

/**
 * Methods written as an object literal's entries (`Trainer.prototype = { train: function (x, y) { … } }`,
 * `module.exports = { step(params) { … } }`): functions the scope index does not list.
 */
function objectMethods(facts: Facts): FunctionDef[] {
  const index = programIndex(facts);
  const out: FunctionDef[] = [];
  // A prototype's methods (`C.prototype = { … }`) are functions of the index already.
  const listed = new Set(index.functions.map((f) => f.body));
  for (const stmt of index.stmtBySpan.values()) {
    if (stmt.kind !== 'assign' || stmt.value.kind !== 'object') continue;
    for (const entry of stmt.value.entries)
      if (entry.value.kind === 'lambda' && entry.value.stmts.length > 0 && !listed.has(entry.value.stmts)) out.push(lambdaFunction(facts.program, entry.value, entry.name, index.scopeAt(entry.value.span.start)));
  }
  return out;
}

// ------------------------------------------------------------------ evaluation

/** What makes a statement a candidate update: arithmetic the normal form reads, a helper of the program. */
interface CandidateTest {
  arithmetic: (e: Expr) => boolean;
  helper: (name: string) => boolean;
}

/**
 * Two values rewritten from themselves (a state and a parameter), or one and a returned value (a
 * step that returns the new parameter: `v = mu * v - lr * dw; return w + v, config`).
 */
function mayHoldStep(body: Stmt[], test: CandidateTest): boolean {
  const n = updateCandidates(body, 2, test);
  return n >= 2 || (n === 1 && returnsValue(body));
}

/** A `return` with a value in the function's own statements (not in nested definitions). */
function returnsValue(stmts: Stmt[]): boolean {
  return stmts.some((s) => (s.kind === 'return' && s.value !== undefined) || ((s.kind === 'block' || s.kind === 'for') && returnsValue(s.body)));
}

/** Too few rewritten values for a step: fewer than two, unless the one there is read by a returned value. */
function tooFewEquations(ev: Evaluator): boolean {
  return ev.equations.size < 2 && !(ev.equations.size === 1 && ev.returned.length > 0);
}

/**
 * Statements that may rewrite a value from itself by arithmetic (`x += …`, `x = a * x + …`, an
 * in-place call, `t++`) or call a helper of the program that may: a function with fewer than two
 * cannot hold an optimizer step, and is not evaluated. `x = self.layer(x)` and `print(…)` are not
 * candidates: the first is not arithmetic the step's normal form could read, the second no
 * function of the program. Counts up to `enough`.
 */
function updateCandidates(body: Stmt[], enough: number, test: CandidateTest): number {
  let n = 0;
  const visitExpr = (e: Expr): void => {
    if (n >= enough) return;
    if (e.kind === 'lambda') visit(e.stmts);
    else if (e.kind === 'call') {
      for (const a of e.args) visitExpr(a);
      if (e.callee.kind === 'attr') visitExpr(e.callee.object);
    }
  };
  const isCandidateCall = (e: Expr): boolean => {
    if (e.kind !== 'call') return false;
    if (e.kwargs.some((k) => k.name === 'out')) return true;
    if (e.callee.kind === 'name') return test.helper(e.callee.name);
    if (e.callee.kind !== 'attr') return false;
    const name = e.callee.name;
    if (name.endsWith('_') || name.startsWith('assign') || name.startsWith('_foreach_')) return true;
    // `this.v.set(p, beta * v + …)`: a JS Map's entry given a value computed by arithmetic.
    const stored = entryWriteBySet(e);
    if (stored && someExpr(stored.value, (x) => test.arithmetic(x))) return true;
    // `self._update(...)`: a helper that may do the writing.
    return e.callee.object.kind === 'name' && (e.callee.object.name === 'self' || e.callee.object.name === 'this') && test.helper(name);
  };
  const calledHelper = (e: Expr & { kind: 'call' }): boolean => (e.callee.kind === 'name' || e.callee.kind === 'attr') && test.helper(e.callee.name);
  // `new_params.append(p - lr * v)`, `out.append(new_param)` in a loop: a list of new weights (Evaluator.appendsNewValue).
  let inLoop = 0;
  const appendsInLoop = (e: Expr): boolean =>
    inLoop > 0 && e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name !== 'extend' && LIST_APPEND_METHODS.has(e.callee.name) && e.callee.object.kind === 'name' && e.args.length === 1 && (e.args[0].kind === 'binary' || e.args[0].kind === 'name');
  const visit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      if (n >= enough) return;
      switch (st.kind) {
        case 'assign': {
          const t = st.targets[0];
          if (st.op) {
            n++;
            // `w -= lr * g * self.opt.ratio(g, t)`: a helper called in the update may update state of its own.
            if (someExpr(st.value, (x) => x.kind === 'call' && calledHelper(x))) n++;
          } else if (t && t.kind !== 'seq') {
            let base: Expr = t;
            while (base.kind === 'index' || base.kind === 'attr') base = base.object;
            // A key starts with its root name: a value that never names the target's root cannot read it back.
            const root = base.kind === 'name' ? base.name : undefined;
            const key = root !== undefined && someExpr(st.value, (x) => x.kind === 'name' && x.name === root) ? exprKey(t) : undefined;
            const baseKey = key !== undefined ? root : undefined;
            const rewrites = key !== undefined && someExpr(st.value, (x) => { const k = exprKey(x); return k !== undefined && (k === key || k === baseKey); });
            // `m = b1 * m + …`, `m = tf.add(…)`, or `m = self._ema(m, g)` through a helper.
            if (rewrites && someExpr(st.value, (x) => test.arithmetic(x) || (x.kind === 'call' && calledHelper(x)))) n++;
            // `d = buf.mul_(m).add_(g)`: an in-place chain whose value a local takes rewrites buf all the same.
            else if (someExpr(st.value, (x) => x.kind === 'call' && x.callee.kind === 'attr' && x.callee.name.endsWith('_') && test.arithmetic(x))) n++;
            // `rms = self._running_rms(grads)`: a method of the object that may compute the state's new value from what it keeps.
            else if (st.value.kind === 'call' && st.value.callee.kind === 'attr' && st.value.callee.object.kind === 'name' && (st.value.callee.object.name === 'self' || st.value.callee.object.name === 'this') && test.helper(st.value.callee.name)) n++;
          }
          visitExpr(st.value);
          break;
        }
        case 'expr':
          if ((st.expr.kind === 'other' && st.expr.ops && (st.expr.ops[0] === '++' || st.expr.ops[0] === '--')) || isCandidateCall(st.expr) || appendsInLoop(st.expr)) n++;
          visitExpr(st.expr);
          break;
        case 'for':
          inLoop++;
          visit(st.body);
          inLoop--;
          break;
        case 'block':
          visit(st.body);
          break;
        case 'return':
          if (st.value) visitExpr(st.value);
          break;
        default:
          break;
      }
    }
  };
  visit(body);
  return n;
}

interface Env {
  values: Map<string, Poly>;
}

class Evaluator {
  readonly equations = new Map<string, Equation>();
  readonly corrections: Correction[] = [];
  readonly counters = new Map<string, number>();
  readonly counterSpans = new Map<string, Span>();
  /** The `for` loops being run, outermost first, each with its variables and whether they start at 0. */
  private readonly loops: { names: string[]; zero: boolean }[] = [];
  order = 0;
  private opaque = 0;
  private depth = 0;

  constructor(
    readonly facts: Facts,
    readonly fn: FunctionDef,
    /** From a first pass: each stored state's new value, by its normal form, and the state's key. */
    readonly versions: Map<string, string> = new Map(),
    /** The function is the update of an optax `GradientTransformation`. */
    readonly transform?: TransformUpdate,
    /** Only where values are written: a rewrite replaces the value instead of composing with it. */
    readonly probe = false,
    /** The only way the evaluation reads the file beyond the function's cone (logged for functionReuse.ts). */
    readonly lookups: FileLookups = new FileLookups(facts, fn),
  ) {}

  private scopeAt(at: number): Scope {
    return programIndex(this.facts).scopeAt(at);
  }

  /** Locals last given a value the evaluation does not see into (`params = layer.get_params()`). */
  private readonly opaqueLocals = new Set<string>();

  fresh(): Poly {
    return atomPoly({ k: 'opaque', id: `${this.opaque++}` });
  }

  /**
   * A key for a persistent value: `p.data` is p; `m[i]` with a loop index is m. Where the function
   * also walks m's rows with a loop, an index held in an assigned name (`const biasIdx =
   * layer.inputSize; m[biasIdx][j]`) is a fixed row: m[biasIdx] is a value of its own beside them.
   */
  keyOf(e: Expr): string | undefined {
    if (e.kind === 'attr' && isStorageAttribute(e)) return this.keyOf(e.object);
    if (e.kind === 'index' && e.index.length === 1 && (e.index[0].kind === 'name' || e.index[0].kind === 'other')) {
      const index = e.index[0];
      const object = this.keyOf(e.object);
      const named = index.kind === 'name' && object !== undefined ? this.stringBoundTo(index.name, e.span.start) : undefined;
      if (named !== undefined) return `${object}[${named}]`;
      if (index.kind === 'name' && object !== undefined && this.indexedByLoop(object) && this.bindingOf(index.name, e.span.start)?.kind === 'assign') return `${object}[${index.name}]`;
      return object;
    }
    return computedIndexKey(this.facts, e, (x) => this.keyOf(x)) ?? exprKey(e);
  }

  /**
   * The key a name holds where it indexes (`dw_key = f"dW{l}"; v[dw_key]`), written as the same
   * subscript with the string in place would be keyed: `"dW{l}"`, or a built key's text
   * (`"dW"+str(l)`, as `computedIndexKey` writes it). Two names bound to different strings are two
   * entries; undefined for a name not bound to a string here.
   */
  private stringBoundTo(name: string, at: number): string | undefined {
    const b = this.bindingOf(name, at);
    const value = b?.kind === 'assign' && !b.unpacked ? b.value : undefined;
    return value && stringKey(this.facts, value);
  }

  /**
   * A local dictionary the function builds (`v_corrected = {}`) and fills with values it computes
   * (`v_corrected["dW" + str(l)] = v["dW" + str(l)] / (1 - beta1 ** t)`): its entries are locals.
   */
  private localContainer(target: Expr): boolean {
    if (target.kind !== 'index') return false;
    let root: Expr = target.object;
    while (root.kind === 'index') root = root.object;
    if (root.kind !== 'name') return false;
    const b = this.bindingOf(root.name, target.span.start);
    const fnSpan = this.fn.span;
    if (!b || b.kind !== 'assign' || !b.value || b.span.start < fnSpan.start || b.span.end > fnSpan.end) return false;
    const v = b.value;
    return (v.kind === 'object' && v.entries.length === 0) || (v.kind === 'call' && isDictConstructor(v.callee) && v.args.length === 0 && v.kwargs.length === 0);
  }

  private bindingOf(name: string, at: number): Binding | undefined {
    const b = this.scopeAt(at).lookup(name, at);
    return b && !b.op ? b : undefined;
  }

  private loopIndexed?: Set<string>;

  /** Whether the function indexes this value by a loop variable somewhere (`m[i][j]` in `for i …`). */
  private indexedByLoop(key: string): boolean {
    if (!this.loopIndexed) {
      const found = new Set<string>();
      walkAll(this.fn.body, (x) => {
        if (x.kind !== 'index' || x.index.length !== 1 || x.index[0].kind !== 'name' || this.bindingOf(x.index[0].name, x.span.start)?.kind !== 'loop') return;
        let object: Expr = x.object;
        while (object.kind === 'index' || (object.kind === 'attr' && VALUE_ATTRIBUTES.has(object.name))) object = object.object;
        const k = exprKey(object);
        if (k !== undefined) found.add(k);
      });
      this.loopIndexed = found;
    }
    let base = key;
    for (let i = base.indexOf('['); i > 0; i = base.indexOf('[')) base = base.slice(0, i);
    return this.loopIndexed.has(base);
  }

  /**
   * Running powers (a value kept as T ← T·β, started at 1 or β), by key, with their β: read as βᵉ, e the
   * number of times the step has multiplied T (`powerExponent`), which the write of T increments.
   */
  powers = new Map<string, string>();

  read(e: Expr, env: Env): Poly {
    const key = this.keyOf(e);
    if (key === undefined) return this.fresh();
    const squared = this.inlining.size === 0 ? this.squares.get(key) : undefined;
    if (squared && !squared.read && e.span.start >= squared.call.end && !this.exclusiveOf(squared)) squared.read = e.span;
    if (!this.firstRead.has(key) && !env.values.has(key)) this.firstRead.set(key, e);
    const beta = env.values.has(key) ? undefined : this.powers.get(key);
    if (beta !== undefined) return pow(sym(beta), sym(powerExponent(key)));
    const derived = env.values.has(key) ? undefined : this.derived.get(key);
    if (derived) return derived;
    const pending = env.values.has(key) ? undefined : this.pending.get(key);
    if (pending) {
      // The old value, read while the new one waits in a local: a variable of its own until the step is classified.
      if (!this.staleReads.has(key)) this.staleReads.set(key, { read: e.span, ...pending });
      return sym(previousKey(key));
    }
    const value = env.values.get(key);
    // A local alias of a kept state (`const ms = this.ms[i]`) read while that state's new value waits in
    // a local: the alias still holds the old value, as the state read where it is kept would.
    const aliased = value && value.length === 1 && value[0].c === 1 && value[0].fs.length === 1 && value[0].fs[0].n === 1 && value[0].fs[0].atom.k === 'sym' ? value[0].fs[0].atom.key : undefined;
    const pendingAlias = aliased !== undefined && aliased !== key && !env.values.has(aliased) ? this.pending.get(aliased) : undefined;
    // Only a local bound before the new value was computed: the local that holds the new value (or a copy of it) is bound after.
    const boundAt = this.defSpans.get(key);
    if (pendingAlias && boundAt !== undefined && boundAt.end <= pendingAlias.computed.start) {
      if (!this.staleReads.has(aliased!)) this.staleReads.set(aliased!, { read: e.span, ...pendingAlias });
      return sym(previousKey(aliased!));
    }
    return value ?? sym(key);
  }

  /** States whose new value a local holds (a version, second pass) and that are not stored yet, with that local. */
  private readonly pending = new Map<string, { local: string; computed: Span }>();

  /** `T += …` rewrites T where it is kept: its old value there is what it updates, not a stale read. */
  private unpend(target: Expr): void {
    const key = this.keyOf(target);
    if (key !== undefined) this.pending.delete(key);
  }
  /** Reads of a pending state's old value, the first one per state. */
  readonly staleReads = new Map<string, { read: Span; local: string; computed: Span }>();

  evalMath(m: StepMath, env: Env): Poly {
    switch (m.op) {
      case 'expr':
        return this.eval(m.expr, env);
      case 'num':
        return constant(m.value);
      case 'neg':
        return scale(this.evalMath(m.arg, env), -1);
      case 'fn': {
        const args = m.args.map((a) => this.evalMath(a, env));
        if (m.fn === 'sqrt') return sqrt(args[0]);
        return fnPoly(m.fn, args);
      }
      default: {
        const [l, r] = [this.evalMath(m.left, env), this.evalMath(m.right, env)];
        // `m.divide(1 - Math.pow(b1, 2))`: a correction divided by a method, as by `/`.
        if (m.op === '/' && m.right.op === 'expr') this.noteCorrection(r, m.right.expr.span, false);
        return this.binary(m.op, l, r);
      }
    }
  }

  binary(op: string, l: Poly, r: Poly): Poly {
    return applyBinary(op, l, r) ?? this.fresh();
  }

  eval(e: Expr, env: Env): Poly {
    if (this.depth > 30) return this.fresh();
    this.depth++;
    try {
      return this.evalInner(e, env);
    } finally {
      this.depth--;
    }
  }

  private evalInner(e: Expr, env: Env): Poly {
    switch (e.kind) {
      case 'num':
        return constant(e.value);
      case 'name':
      case 'attr':
      case 'index':
        // `p.add(step).data`: the value of the new tensor an arithmetic call computed.
        if (e.kind === 'attr' && isStorageAttribute(e) && e.object.kind === 'call' && arithmeticPlacement(e.object) === 'out-of-place') return this.eval(e.object, env);
        return this.read(e, env);
      case 'unary':
        if (e.op === '-') return scale(this.eval(e.arg, env), -1);
        if (e.op === '+') return this.eval(e.arg, env);
        return this.fresh();
      case 'binary': {
        const l = this.eval(e.left, env);
        const r = e.op === '/' ? this.writtenCorrection(e.right) ?? this.eval(e.right, env) : this.eval(e.right, env);
        const value = this.binary(e.op, l, r);
        if (e.op === '+') this.noteDoubleRead(e, l, r);
        if (e.op === '**' || e.op === '/') this.noteHalfPower(e, l);
        // Where a bias correction is written: `1 - b1 ** t` anywhere, a bare `1 - b1` where it divides.
        // `1 - b1 ** t + eps`: ε added to the correction makes it one sum more.
        if (e.op === '-' || e.op === '+') this.noteCorrection(value, e.span, true);
        if (e.op === '/') this.noteCorrection(r, e.right.span, false);
        return value;
      }
      case 'call':
        return this.call(e, env);
      case 'seq':
        return e.items.length === 1 ? this.eval(e.items[0], env) : this.fresh();
      case 'comprehension':
        return this.comprehension(e, env);
      case 'lambda':
        this.lambda(e, env);
        return this.fresh();
      case 'other':
        // `acc = count % k != 0`: a truth value, not a knob (a β) the step could be weighted by.
        if (e.ops?.some((op) => COMPARISON_OPERATORS.has(op))) return fnPoly('compare', e.children.map((c) => this.eval(c, env)));
        // `m || 0`, `m ?? 0`, `m or 0`: m, started at zero on the first step (a lazy zero start).
        if (e.ops?.length === 1 && ZERO_DEFAULTS.has(e.ops[0]) && e.children.length === 2 && isZeroLiteral(e.children[1])) return this.eval(e.children[0], env);
        return this.fresh();
      case 'cond':
        // `None if g is None else f(g)`: the leaves a tree map skips have no value.
        if (isNoneLiteral(e.then)) return this.eval(e.else, env);
        if (isNoneLiteral(e.else)) return this.eval(e.then, env);
        // `m[k] if k in m else 0`: the entry, started at zero (a lazy zero start).
        if (isZeroLiteral(e.else) && readsTestedEntry(e.test, e.then)) return this.eval(e.then, env);
        return this.fresh();
      default:
        return this.fresh();
    }
  }

  private call(e: Expr & { kind: 'call' }, env: Env): Poly {
    // `self.m.get(k, 0)`: the entry, started at zero on the first step (a lazy zero start).
    const entry = e.args.length === 2 ? entryReadByGet(e) : undefined;
    if (entry && isZeroLiteral(e.args[1])) return this.eval(entry, env);
    // `this.m.get(p)!` (a JS Map keyed by the parameter, written back with `set(p, m)`): the entry.
    const read = e.args.length === 1 && e.callee.kind === 'attr' && !this.facts.analyzer.isModule(e.callee.object) ? entryReadByGet(e) : undefined;
    if (read) return this.eval(read, env);
    // `this.m.set(p, m)` in JS/TS: a write of the Map's entry for p.
    const stored = mapEntryWrite(this.facts, e);
    if (stored) {
      ENTRIES_WRITTEN_BY_SET.add(stored.entry);
      this.write(stored.entry, this.eval(stored.value, env), env, e.span);
      return this.fresh();
    }
    const math = stepCall(e, (x) => this.facts.analyzer.isModule(x), (x) => this.importedPath(x));
    if (math) {
      // `m.mul_(b1).add_(g, alpha=1 - b1)`: one write of the whole chain's value to m, not one per call.
      if (math.writes?.kind === 'call') this.chained.add(math.writes);
      const value = this.evalMath(math.value, env);
      const root = math.writes && this.chainRoot(math.writes);
      if (root && !this.chained.has(e)) {
        this.noteSquaredInPlace(e, math, root, env);
        this.write(root, value, env, e.span, true);
        // `d = buf.mul_(m).add_(g)`: the chain's value is buf itself, now holding its new value.
        // `acc.add_(g.square_())`: a map of the receiver alone is its value, g², where it is used.
        if (this.keyOf(root) !== undefined && !math.selfMap) return this.read(root, env);
      }
      return value;
    }
    // `np.clip(update, -c, c)`: clip(update, …), an atom that keeps what it bounds for the checks that read inside it.
    const bound = boundCall(e, (x) => this.facts.analyzer.isModule(x));
    if (bound) return fnPoly('clip', [this.eval(bound.value, env), this.eval(bound.lower, env), this.eval(bound.upper, env)]);
    // `jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, grads)`: f on one leaf.
    const mapped = treeMapCall(e, (x) => this.facts.analyzer.isModule(x));
    if (mapped) return this.treeMap(mapped.fn, mapped.trees, env, e.span);
    // A helper whose body is one `return`: its value with the arguments bound.
    const inlined = this.inline(e, env);
    if (inlined && !isOpaque(inlined)) return inlined;
    // optax's own helpers (`optax.tree.update_moment`, `tree_bias_correction`, `safe_increment`).
    const tree = optaxTreeCall(e);
    if (tree) {
      const value = this.evalMath(tree.value, env);
      if (tree.correction) this.noteCorrection(this.evalMath(tree.correction, env), e.span, true);
      return value;
    }
    if (inlined) return inlined;
    // `torch._foreach_clamp_max_(updates, c)` on a local: an in-place change the step cannot read leaves
    // the local unknown, not the value it held (a copy's `reciprocal_` must not leave sqrt(v) in the update).
    const changed = inPlaceReceiver(e, (x) => this.facts.analyzer.isModule(x));
    if (changed?.kind === 'name' && env.values.has(changed.name)) env.values.set(changed.name, this.fresh());
    // `weights.forEach((w, i) => { ... })`, `tf.tidy(() => { ... })`: the callback's statements run here.
    for (const arg of e.args) if (arg.kind === 'lambda') this.lambda(arg, env);
    this.writesInArguments(e, env);
    return this.fresh();
  }

  /** The framework path of a bare callee imported by name (`from math import sqrt`: math.sqrt), in its own file. */
  private importedPath(callee: Expr): string[] | undefined {
    if (callee.kind !== 'name') return undefined;
    const parsed = this.facts.analyzer.program.parsedOf(callee.span);
    if (!parsed?.scopes.imports.has(callee.name)) return undefined;
    return frameworkPath(callee, this.scopeAt(callee.span.start), callee.span.start, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script');
  }

  /** `tree_map(f, a, b)`: f applied to one leaf of each tree (a lambda, a local def, `jnp.maximum`). */
  private treeMap(f: Expr, trees: Expr[], env: Env, span: Span): Poly {
    if (this.depth > 12) return this.fresh();
    if (f.kind === 'lambda') {
      const inner: Env = { values: new Map(env.values) };
      f.params.forEach((p, i) => {
        if (trees[i]) inner.values.set(p.name, this.eval(trees[i], env));
        else inner.values.delete(p.name);
      });
      if (f.body) return this.eval(f.body, inner);
      return this.block(f.stmts, inner) ?? this.fresh();
    }
    return this.call({ kind: 'call', callee: f, args: trees, kwargs: [], span }, env);
  }

  /**
   * A step that returns its new state with named fields: `return updates, ScaleByAdamState(count=count_inc,
   * mu=mu, nu=nu)`, `return params, {"m": m, "v": v}`. A field `f` holds the new value of `P.f` (or
   * `P["f"]`) for the function's parameter P whose old value it reads. In an optax update function
   * the second item is the new value of its `state` argument whatever its form (fields, a tuple, the
   * tree itself), and the first is the update it returns.
   */
  private returnedState(value: Expr, env: Env, span: Span): void {
    const items = value.kind === 'seq' ? value.items : [value];
    const names = (this.fn.isMethod ? this.fn.params.slice(1) : this.fn.params).map((p) => p.name);
    items.forEach((item, i) => {
      const state = i === 1 ? this.transform?.state : undefined;
      const fields = namedFields(item);
      if (fields.length > 0) {
        for (const f of fields) for (const p of state ? [state] : names) this.storeField(f.object ? `${p}[${JSON.stringify(f.name)}]` : `${p}.${f.name}`, f.value, env, span);
      } else if (state && item.kind === 'seq') item.items.forEach((x, j) => this.storeField(`${state}[${j}]`, x, env, span));
      else if (state) this.storeField(state, item, env, span);
      if (this.transform && i === 0 && items.length === 2) this.transformReturns.push({ value: this.eval(item, env), span: item.kind === 'name' ? (this.defSpans.get(item.name) ?? span) : span, expr: item });
    });
  }

  /** `return { params: p2, m: m2, v: v2 }`: each entry a value handed back, as a tuple's items are (by name, not position). */
  private returnedEntries(value: Expr & { kind: 'object' }, env: Env, span: Span): void {
    for (const entry of value.entries) {
      const where = entry.value.kind === 'name' ? (this.defSpans.get(entry.value.name) ?? span) : span;
      this.returned.push({ value: this.eval(entry.value, env), span: where, field: entry.name });
    }
  }

  /** `key` ← the value of `e`, when that value reads key's old value. */
  private storeField(key: string, e: Expr, env: Env, span: Span): void {
    const value = this.eval(e, env);
    if (!mentions(value, key) || polyEquals(value, sym(key))) return;
    this.returnedKeys.add(key);
    this.equation(key, value, this.firstRead.get(key) ?? e, e.kind === 'name' ? (this.defSpans.get(e.name) ?? span) : span);
  }

  /** The updates an optax update function returns (the first item of each `return updates, state`). */
  readonly transformReturns: { value: Poly; span: Span; expr: Expr }[] = [];
  /** Each persistent key's first read, as written (`state.mu`): what a finding calls the state. */
  readonly firstRead = new Map<string, Expr>();

  /**
   * A list built element by element, `[b2 * v + (1 - b2) * g ** 2 for v, g in zip(self.v, grads)]`:
   * its value is its element's, with each loop variable standing for the list it runs over (an
   * element of `self.v` is keyed as `self.v`, as `self.v[i]` is). Undefined loop sources leave it opaque.
   */
  private comprehension(e: Expr & { kind: 'comprehension' }, env: Env): Poly {
    if (e.filtered || e.generators.length !== 1) return this.fresh();
    const inner: Env = { values: new Map(env.values) };
    const { target, iter } = e.generators[0];
    // `[… self.v[i] … for i in range(len(grads))]`: the index stays a variable, as in a `for` loop over
    // `range` (`self.v[i]` is keyed as `self.v`).
    if (target.kind === 'name' && iter.kind === 'call' && iter.callee.kind === 'name' && iter.callee.name === 'range') {
      inner.values.delete(target.name);
      return this.eval(e.element, inner);
    }
    const pairs = loopPairs(target, iter);
    if (!pairs) return this.fresh();
    for (const [name, source] of pairs) inner.values.set(name, this.eval(source, env));
    return this.eval(e.element, inner);
  }

  /**
   * `for p, m, v in zip(params, m_hat, v_hat)` with `m_hat = [m / (1 - b1 ** t) for m in self.m]`:
   * a loop variable over a list the step computed is that list's element. Loop variables over
   * anything else stay variables of their own (`p` is the parameter the loop updates).
   */
  private bindComputedElements(target: Expr, iter: Expr, env: Env): void {
    const pairs = loopPairs(target, iter);
    if (!pairs) return;
    for (const [name, source] of pairs) {
      if (source.kind !== 'name') continue;
      const value = env.values.get(source.name);
      const plain = !value || (value.length === 1 && value[0].c === 1 && value[0].fs.length === 1 && value[0].fs[0].n === 1 && (value[0].fs[0].atom.k === 'sym' || value[0].fs[0].atom.k === 'opaque'));
      if (!plain) env.values.set(name, value);
    }
  }

  /** `self.updates.append(K.update(m, m_t))`: a write passed to a call the step does not see into still happens. */
  private writesInArguments(e: Expr & { kind: 'call' }, env: Env): void {
    for (const arg of e.args) if (arg.kind === 'call' && stepCall(arg, (x) => this.facts.analyzer.isModule(x))?.writes) this.eval(arg, env);
  }

  /** A callback's or closure's statements, run with its parameters unbound; what it assigns is carried between calls. */
  private lambda(e: Expr & { kind: 'lambda' }, env: Env): void {
    if (e.stmts.length === 0 || this.depth > 12) return;
    const inner: Env = { values: new Map(env.values) };
    for (const p of e.params) inner.values.delete(p.name);
    this.loopCarried(e.stmts, inner);
    this.block(e.stmts, inner);
  }

  private readonly chained = new WeakSet<Expr>();

  /** The tensor an in-place chain writes: `m` of `m.mul_(b1).add_(g)`. */
  /**
   * `moms = [m.assign(b1 * m + (1 - b1) * g) for m, g in zip(moms, grads)]`: a list rebound to the
   * variables its element writes in place, each of them a loop element of that same list. The write
   * is the update; the rebinding holds the same variables and writes nothing again.
   */
  private rebindsWrittenElements(target: Expr, value: Expr): boolean {
    if (value.kind !== 'comprehension' || value.filtered || value.generators.length !== 1 || value.element.kind !== 'call') return false;
    const math = stepCall(value.element, (x) => this.facts.analyzer.isModule(x));
    const root = math?.writes && this.chainRoot(math.writes);
    if (!root || root.kind !== 'name') return false;
    const { target: loopTarget, iter } = value.generators[0];
    const source = loopPairs(loopTarget, iter)?.find(([name]) => name === root.name)?.[1];
    const key = this.keyOf(target);
    return source !== undefined && key !== undefined && this.keyOf(source) === key;
  }

  private chainRoot(target: Expr): Expr | undefined {
    for (let i = 0; i < 8 && target.kind === 'call'; i++) {
      const inner = stepCall(target, (x) => this.facts.analyzer.isModule(x));
      if (!inner?.writes) return undefined;
      target = inner.writes;
    }
    return target.kind === 'call' ? undefined : target;
  }

  /** Receivers squared in place where the square is used, by key (SquaredInPlace). */
  readonly squares = new Map<string, SquaredInPlace>();

  /**
   * `v.add_(grad.square_())`, `v.mul_(b2).addcmul_(g, g.mul_(g))`: an in-place square whose value another
   * call or an operator takes, not a statement of its own (`g.square_()`) or a local's whole value.
   */
  private noteSquaredInPlace(e: Expr & { kind: 'call' }, math: StepCall, root: Expr, env: Env): void {
    if (!math.selfMap || this.inlining.size > 0 || root.kind === 'call') return;
    const v = math.value;
    // A self map that multiplies is `square_()` or `mul_` by the receiver itself (catalogue.ts `stepCall`).
    const square = v.op === '*' || (v.op === '**' && v.right.op === 'num' && v.right.value === 2);
    const st = this.statement;
    const whole = st?.kind === 'expr' ? st.expr === e : st?.kind === 'assign' || st?.kind === 'return' ? st.value === e : true;
    const key = this.keyOf(root);
    if (!square || whole || key === undefined || this.squares.has(key)) return;
    const old = env.values.get(key) ?? sym(key);
    this.squares.set(key, { key, call: e.span, old });
    this.squareBranches.set(key, [...this.branches]);
  }

  private readonly squareBranches = new Map<string, Stmt[]>();

  /** A read inside an `if` block the square was not in, while the square sat in one the read is not in (maybe the other arm). */
  private exclusiveOf(x: SquaredInPlace): boolean {
    const at = this.squareBranches.get(x.key) ?? [];
    return this.branches.some((b) => !at.includes(b)) && at.some((b) => !this.branches.includes(b));
  }

  /** Runs a helper with its parameters bound to the arguments; its return value, when it has one. */
  private inline(e: Expr & { kind: 'call' }, env: Env): Poly | undefined {
    if (this.depth > 12 || this.inlinedStatements > INLINE_BUDGET) return undefined;
    const target = resolveCall(this.facts.program, e, this.scopeAt(e.span.start), e.span.start);
    if (!target || target.constructs || target.fn === this.fn) return undefined;
    const fn = target.fn;
    // A helper already being inlined recurses (`_grow` building a tree calls itself per child): each
    // level would run its body again, 2ᵈ times for a binary tree of depth d.
    if (this.inlining.has(fn) || !this.facts.program.parsedOf(fn.span)) return undefined;
    this.inlinedAny = true;
    // `f.call(t, a, b)`: a and b fill f's parameters from the first. A method run on a receiver skips
    // its instance parameter, as the Analyzer binds them: a `@staticmethod` (`self.apply_ams_bound(flag, v, …)`)
    // or a JS method has none.
    const params = target.args ? fn.params : target.receiver ? explicitParams(fn) : fn.params;
    const args = callArguments(e, target);
    // A def nested in the step reads the step's locals as they are when it is called (a closure).
    const nested = fn.span.start > this.fn.span.start && fn.span.end <= this.fn.span.end;
    const inner: Env = { values: new Map(nested ? [...env.values].filter(([k]) => !params.some((p) => p.name === k)) : []) };
    params.forEach((p, i) => {
      const arg = args[i] ?? e.kwargs.find((k) => k.name === p.name)?.value ?? p.default;
      if (arg) inner.values.set(p.name, this.aliasOrValue(arg, env));
    });
    const outermost = this.inlining.size === 0;
    if (outermost) this.outerCall = e;
    this.inlining.add(fn);
    try {
      if (fn.returns) return this.eval(fn.returns, inner);
      return this.block(fn.body, inner);
    } finally {
      this.inlining.delete(fn);
      if (outermost) this.outerCall = undefined;
    }
  }

  /** The call in the step's own function whose helper is being inlined. */
  private outerCall?: Expr & { kind: 'call' };

  /** The helpers being inlined, outermost first. */
  private readonly inlining = new Set<FunctionDef>();
  /** Statements evaluated inside inlined helpers so far: past INLINE_BUDGET, calls are not seen into. */
  private inlinedStatements = 0;

  /** An argument that names a persistent value is passed as that value (so writes through the parameter reach it). */
  private aliasOrValue(arg: Expr, env: Env): Poly {
    return this.eval(arg, env);
  }

  /** T ← value for a persistent T; a local's new value otherwise. */
  write(target: Expr, value: Poly, env: Env, span: Span, inPlace = false): void {
    const key = this.keyOf(target);
    if (key === undefined) return;
    // `grad = grads[i]` again: the name holds another tensor from here.
    if (!inPlace && this.squares.get(key)?.read === undefined) this.squares.delete(key);
    if (target.kind === 'name' && this.advancesLocalPower(key, value, span)) return;
    this.derived.delete(key);
    // A local given a value in two branches that exclude each other (`if rho > 4: u = … else: u = …`) splits the step into paths as a state written there does.
    if (target.kind === 'name' && this.branches.length > 0) this.noteWriteBranches(`${key}\u0000local`);
    if (target.kind === 'name' && !inPlace) this.noteLocalBlock(key);
    // T ← T·β for a running power: its exponent counts one more step.
    const beta = this.powers.get(key);
    if (beta !== undefined && !(target.kind === 'name' && env.values.has(key))) {
      const e = powerExponent(key);
      if (polyEquals(value, mul(pow(sym(beta), sym(e)), sym(beta)))) this.equation(e, add(sym(e), constant(1)), target, span);
      return;
    }
    // T ← T: a store of what T already holds (`config['m'] = m` after m became its new value).
    if (polyEquals(value, sym(key))) {
      this.pending.delete(key);
      return;
    }
    const local = target.kind === 'name' ? env.values.get(key) : undefined;
    // A local alias of a persistent value (`m = state['m']`, a helper's parameter): in-place writes reach it.
    const alias = local && local.length === 1 && local[0].c === 1 && local[0].fs.length === 1 && local[0].fs[0].n === 1 && local[0].fs[0].atom.k === 'sym' ? local[0].fs[0].atom.key : undefined;
    if (inPlace && alias !== undefined && !this.newTensors.has(key)) {
      if (!polyEquals(value, sym(alias))) this.equation(alias, value, target, span);
      return;
    }
    // `gsumi[j] = …` with `gsumi = this.gsum[i]`: an element of a local alias is the persistent value's.
    const base = target.kind !== 'name' ? env.values.get(key) : undefined;
    const aliased = base && base.length === 1 && base[0].c === 1 && base[0].fs.length === 1 && base[0].fs[0].n === 1 && base[0].fs[0].atom.k === 'sym' ? base[0].fs[0].atom.key : undefined;
    if (aliased !== undefined && aliased !== key) {
      if (!polyEquals(value, sym(aliased))) this.equation(aliased, value, target, span);
      return;
    }
    // `m = b1 * m + (1 - b1) * g` before `config['m'] = m`: the local is the state's new value.
    const version = target.kind === 'name' && this.versions.size > 0 ? this.versions.get(polyKey(value)) : undefined;
    // Once the state holds its new value, a later local of the same form is a look-ahead, not the state (`g + mu * v` after `v = g + mu * v`).
    if (version !== undefined && version !== key && !this.equations.has(version)) {
      this.equation(version, value, target, span);
      this.pending.set(version, { local: key, computed: trimSpan(this.facts, span) });
      env.values.set(key, sym(version));
      this.defSpans.set(key, span);
      return;
    }
    if (target.kind === 'name' && local !== undefined && !mentions(value, key)) {
      env.values.set(key, value);
      this.defSpans.set(key, span);
      if (value.length > 1) this.noteLocal(value);
      else this.noteReturnable(value);
      return;
    }
    if (target.kind === 'index' && !mentions(value, key) && this.localContainer(target)) {
      env.values.set(key, value);
      this.defSpans.set(key, span);
      return;
    }
    if (mentions(value, key) && (target.kind !== 'name' || !env.values.has(key))) {
      const before = this.equations.get(key)?.value;
      this.equation(key, value, target, span);
      this.keepComputedLocals(key, before, env);
      if (target.kind === 'name') env.values.delete(key);
      if (this.counters.has(key) && polyEquals(value, add(sym(key), constant(1)))) this.staleCopies(key, env);
      return;
    }
    if (target.kind !== 'name') {
      this.noteOverwrite(key, value, target, span);
      this.noteDerived(key, value);
    }
    if (target.kind === 'name') {
      // `const beta1 = 0.9` in the step: a named hyperparameter stays its name, so `1 - beta1` reads as
      // a bias correction, not the number 0.1. Whole numbers stay numbers: counts and flags start at 0 or 1.
      const n = numeric(value);
      if (n !== undefined && !Number.isInteger(n)) {
        env.values.delete(key);
        this.defSpans.set(key, span);
        return;
      }
      // `if t == 0: t = 1` on a parameter: the paths that skip the `if` keep the argument, so after it
      // the parameter is still a variable, not the number.
      if (n !== undefined && this.branches.length > 0 && [this.fn, ...this.inlining].some((f) => f.params.some((p) => p.name === key))) {
        env.values.delete(key);
        this.defSpans.set(key, span);
        return;
      }
      const branch = this.branches[this.branches.length - 1];
      const before = this.localBranch.get(key);
      this.localBranch.set(key, branch);
      // `if …: step_size = a` / `else: step_size = b`: which one holds is not known.
      const conflict = before !== undefined && branch !== undefined && before !== branch && !this.branches.includes(before) && (env.values.has(key) || this.unknownLocals.has(key));
      if (conflict) value = this.fresh();
      // `buf = state.setdefault('momentum_buffer', …)`: a value not seen into is the variable itself, which in-place calls then update.
      if (!conflict) this.unknownLocals.delete(key);
      if (conflict) this.unknownLocals.add(key);
      else if (value.length === 1 && value[0].c === 1 && value[0].fs.length === 1 && value[0].fs[0].atom.k === 'opaque') {
        env.values.delete(key);
        this.defSpans.set(key, span);
        this.opaqueLocals.add(key);
        return;
      }
      this.opaqueLocals.delete(key);
      env.values.set(key, value);
      this.defSpans.set(key, span);
      if (value.length > 1) this.noteLocal(value);
      else this.noteReturnable(value);
    }
  }

  /** Keys whose values computed into locals before a write were marked as the value before it (`heldKey`). */
  readonly held = new Set<string>();

  /**
   * T rewritten where it is kept, with a local computed from T's value before the write (`grad = p.grad
   * + wd * p.data` before `p.data -= v`): the local is a new tensor, so it still holds that value where a
   * later write of T reads it (`p.data -= lr * grad`), not T's value there. Its T is marked as the value T
   * held before this write (`before`, the writes composed so far, in terms of T's first value: `heldKey`),
   * which the composition of T's writes leaves alone and `resolveHeld` puts back as T. A plain alias
   * (`buf = state['m']`) is the same tensor, which in-place writes reach: it is left as it is.
   */
  private keepComputedLocals(key: string, before: Poly | undefined, env: Env): void {
    for (const [name, v] of env.values) {
      if (name === key || !mentions(v, key)) continue;
      if (v.length === 1 && v[0].c === 1 && v[0].fs.length === 1 && v[0].fs[0].n === 1 && v[0].fs[0].atom.k === 'sym') continue;
      env.values.set(name, substitute(v, key, before ? substitute(before, key, sym(heldKey(key))) : sym(heldKey(key))));
      this.held.add(key);
    }
  }

  /** Locals that copied a step count before its increment (`t = self.t` then `self.t += 1`), by count. */
  readonly countCopies = new Map<string, { local: string; copied?: Span }>();

  /**
   * T ← T + 1 with a local still holding T's old value (`t = self.t` before `self.t += 1`): a read of
   * T stands for its value where it is read, so from here on the local is T − 1.
   */
  private staleCopies(key: string, env: Env): void {
    for (const [name, v] of env.values) {
      if (name === key || !polyEquals(v, sym(key))) continue;
      env.values.set(name, sub(sym(key), constant(1)));
      if (!this.countCopies.has(key)) this.countCopies.set(key, { local: name, ...(this.defSpans.has(name) ? { copied: this.defSpans.get(name) } : {}) });
    }
  }

  /** Writes of a persistent value with a value that does not read its own (`self.prev = g`), by key, in order. */
  readonly overwrites = new Map<string, Overwrite[]>();

  /**
   * Attributes given a value computed from states the step has updated (`self.v_hat = [v / (1 - b2 ** t)
   * for v in self.v]`), by key: read later in the same step (by the update, in this method or another
   * one it calls), the attribute holds that value, as a local would. Any other write ends it.
   */
  private readonly derived = new Map<string, Poly>();

  private noteDerived(key: string, value: Poly): void {
    // A write under an `if` (`if self.first: self.v = g ** 2` else an average) holds only on some paths.
    if (this.branches.length > 0 || this.equations.has(key)) return;
    const fromState = [...this.equations.keys()].some((k) => k !== key && mentions(value, k));
    if (fromState) this.derived.set(key, value);
  }

  /** The `if` blocks around each overwrite of a persistent key, as `writeBranches` holds them for equations. */
  readonly overwriteBranches = new Map<string, Stmt[][]>();
  /** Keys overwritten with a value computed from the step's states (the step written into a gradient slot). */
  readonly stateDerivedOverwrites = new Set<string>();

  private noteOverwrite(key: string, value: Poly, target: Expr, statement: Span): void {
    this.notePersistentWrite();
    const stacks = this.overwriteBranches.get(key);
    if (stacks) stacks.push([...this.branches]);
    else this.overwriteBranches.set(key, [[...this.branches]]);
    if ([...this.equations.keys()].some((k) => k !== key && mentions(value, k))) this.stateDerivedOverwrites.add(key);
    const list = this.overwrites.get(key) ?? [];
    list.push({ value, target, span: trimSpan(this.facts, statement), statement, after: this.order, conditional: this.branches.length > 0 });
    this.overwrites.set(key, list);
  }

  private readonly localBranch = new Map<string, Stmt | undefined>();
  /** Locals set in two `if` blocks that may exclude each other, with the block of each one's last write. */
  private readonly branchedNames = new Set<string>();
  private readonly nameBlock = new Map<string, Stmt>();
  /**
   * A persistent value was written by a statement that reads such a local (`state['m'] = m` after
   * `if …: m = … else: m = …`): the whole function's value is one branch's, and each path may hold a step.
   */
  branchedLocalStored = false;

  private noteLocalBlock(key: string): void {
    const branch = this.branches[this.branches.length - 1];
    if (branch === undefined) {
      this.branchedNames.delete(key);
      this.nameBlock.delete(key);
      return;
    }
    const before = this.nameBlock.get(key);
    if (before !== undefined && before !== branch && !this.branches.includes(before)) this.branchedNames.add(key);
    this.nameBlock.set(key, branch);
  }

  private notePersistentWrite(): void {
    const st = this.statement;
    if (this.branchedNames.size === 0 || this.branchedLocalStored || !st) return;
    const read = st.kind === 'assign' ? st.value : st.kind === 'expr' ? st.expr : st.kind === 'return' ? st.value : undefined;
    if (read && someExpr(read, (x) => x.kind === 'name' && this.branchedNames.has(x.name))) this.branchedLocalStored = true;
  }

  /** Locals whose value is not known because branches that may exclude each other set it. */
  private readonly unknownLocals = new Set<string>();

  /** The normal forms of the values locals were given (a state's new value computed before it is stored). */
  readonly localValues = new Set<string>();
  /** When each of those values was first given to a local, by its normal form. */
  readonly localOrder = new Map<string, number>();

  private noteLocal(value: Poly): void {
    const key = polyKey(value);
    this.localValues.add(key);
    if (!this.localOrder.has(key)) this.localOrder.set(key, this.order);
  }

  /** A one-term value (`max(v̂, v)`) given to a local: a version only of a state a `return` stores in a named field. */
  private noteReturnable(value: Poly): void {
    if (value.length !== 1) return;
    // `rms = np.sqrt(rho * self.rms + (1 - rho) * g * g)` before `self.rms = rms`: the root of a sum is a state's new value as the sum is.
    const f = value[0].fs;
    if (value[0].c === 1 && f.length === 1 && f[0].n === 1 && f[0].atom.k === 'fn' && f[0].atom.fn === 'sqrt' && f[0].atom.args.length === 1 && f[0].atom.args[0].length > 1) {
      this.noteLocal(value);
      return;
    }
    const plain = value[0].fs.length === 1 && value[0].fs[0].n === 1 && (value[0].fs[0].atom.k === 'sym' || value[0].fs[0].atom.k === 'opaque');
    if (plain) return;
    const key = polyKey(value);
    if (!this.localOrder.has(key)) this.localOrder.set(key, this.order);
  }

  /** Keys whose new value a `return` hands back in a named field (`State(nu_max=nu_max)`). */
  readonly returnedKeys = new Set<string>();

  /** Where each local was last given its value. */
  readonly defSpans = new Map<string, Span>();
  /** Values the function returns (each item of a returned tuple), with where they were computed. */
  readonly returned: { value: Poly; span: Span; previous?: NonNullable<ParamUpdate['previous']>; item?: number; field?: string }[] = [];
  /** Names the function's own `return`s read (a list of new weights it hands back). */
  readonly returnedNames = new Set<string>();
  /**
   * `new.append(w - lr * v)` in a loop over the weights: a new value of the weight `key` the loop picks
   * appended to the local list `list` (an update when the function returns that list).
   */
  readonly appended: { key: string; target: Expr; list: string; value: Poly; span: Span; order: number }[] = [];

  /** The `if` blocks being evaluated, innermost last (`elif`/`else` are blocks of their own). */
  private readonly branches: Stmt[] = [];
  private readonly branchOf = new Map<string, Stmt | undefined>();
  /** Set when a call was read through a helper of the project. */
  inlinedAny = false;

  /** The framework's step count, which the step reads before the framework increments it (catalogue.ts `KERAS_STEP_COUNTER`). */
  private frameworkCounterMemo?: { key: string | undefined };
  private get frameworkCounter(): string | undefined {
    return (this.frameworkCounterMemo ??= { key: frameworkCounterKey(this.facts, this.fn) }).key;
  }

  private equation(key: string, value: Poly, target: Expr, statement: Span): void {
    // `K.update_add(self.iterations, 1)` runs with the step's other updates: the step reads the count before it.
    if (key === this.frameworkCounter) return;
    // A finding underlines the statement without its `;`, as the other rules' do.
    const span = trimSpan(this.facts, statement);
    this.derived.delete(key);
    const known = this.equations.get(key);
    const branch = this.branches[this.branches.length - 1];
    this.noteWriteBranches(key);
    this.notePersistentWrite();
    this.noteReadBranches(key, value);
    this.pending.delete(key);
    if (known) {
      // Writes in two different `if` blocks may exclude each other (`if amsgrad: … else: …`): not composed.
      const before = this.branchOf.get(key);
      if (before !== undefined && branch !== undefined && before !== branch && !this.branches.includes(before)) known.branched = true;
      known.value = this.probe ? value : substitute(value, key, known.value);
      known.writes?.push(value);
      known.spans.push(span);
      known.last = this.order++;
      return;
    }
    this.branchOf.set(key, branch);
    const order = this.order++;
    this.equations.set(key, { key, value, spans: [span], order, last: order, target, writes: [value] });
    // T ← T + 1: a step count.
    if (polyEquals(value, add(sym(key), constant(1)))) {
      this.counters.set(key, order);
      this.counterSpans.set(key, span);
    }
  }

  /** For each persistent key, the `if` blocks around each of its writes (outermost first). */
  readonly writeBranches = new Map<string, Stmt[][]>();
  /** For each persistent key written before, the `if` blocks around each write of another one that reads it. */
  readonly readBranches = new Map<string, Stmt[][]>();

  private noteReadBranches(key: string, value: Poly): void {
    if (this.branches.length === 0) return;
    for (const a of atomsOf(value)) {
      if (a.k !== 'sym' || a.key === key || !this.writeBranches.has(a.key)) continue;
      const list = this.readBranches.get(a.key);
      if (list) list.push([...this.branches]);
      else this.readBranches.set(a.key, [[...this.branches]]);
    }
  }

  private noteWriteBranches(key: string): void {
    const list = this.writeBranches.get(key);
    if (list) list.push([...this.branches]);
    else this.writeBranches.set(key, [[...this.branches]]);
  }

  /** Sums of one tensor read under two names (`g + update` after `update = g`). */
  readonly doubleReads: DoubleRead[] = [];

  /** Bases of `X ** 1` and `X ** -1` by node, while the division around them is evaluated. */
  private readonly unitPowers = new Map<Expr, Poly>();
  /** `X ** 1/2` and `X ** -1/2` as written (`HalfPower`). */
  readonly halfPowers: HalfPower[] = [];

  /**
   * `X ** 1/2`: `**` binds tighter than `/`, so it is (X ** 1) / 2. The `**` node keeps its base's
   * value; the division by 2 around it records the slip with that value.
   */
  private noteHalfPower(e: Expr & { kind: 'binary' }, l: Poly): void {
    if (e.op === '**') {
      if (unitExponent(e.right) !== undefined) this.unitPowers.set(e, l);
      return;
    }
    if (e.right.kind !== 'num' || e.right.value !== 2) return;
    // `lr * x ** 1/2` is ((lr * x ** 1) / 2): the power is the rightmost factor of the division's left side.
    let power: Expr = e.left;
    let divided = false;
    for (let i = 0; i < 8 && power.kind === 'binary' && (power.op === '*' || power.op === '/'); i++) {
      divided = power.op === '/' ? !divided : divided;
      power = power.right;
    }
    if (power.kind !== 'binary' || power.op !== '**') return;
    const base = this.unitPowers.get(power);
    const exponent = unitExponent(power.right);
    const span = { start: power.span.start, end: e.span.end };
    if (base === undefined || exponent === undefined || this.halfPowers.some((h) => h.span.start === span.start && h.span.end === span.end)) return;
    this.halfPowers.push({ span, base: power.left, value: base, power: divided ? (-exponent as 1 | -1) : exponent, written: exponent, exponent: { start: power.right.span.start, end: e.right.span.end } });
  }

  /**
   * `a + b` where b is a local alias of the value a reads (`update = g`): one persistent tensor added
   * twice. Only plain reads (names, attributes, subscripts) count, never one expression twice (`g + g`).
   */
  private noteDoubleRead(e: Expr & { kind: 'binary' }, l: Poly, r: Poly): void {
    if (!polyEquals(l, r) || l.length !== 1 || l[0].c !== 1 || l[0].fs.length !== 1 || l[0].fs[0].n !== 1 || l[0].fs[0].atom.k !== 'sym') return;
    const plain = (x: Expr): boolean => x.kind === 'name' || x.kind === 'attr' || x.kind === 'index';
    if (!plain(e.left) || !plain(e.right)) return;
    const [left, right] = [this.facts.source(e.left.span), this.facts.source(e.right.span)];
    if (left === right) return;
    const key = l[0].fs[0].atom.key;
    // The side that is a local given the other's value (`update = g`): the alias.
    const alias = [e.right, e.left].find((x) => x.kind === 'name' && this.defSpans.has(x.name) && this.keyOf(x) !== key);
    if (!alias || alias.kind !== 'name') return;
    const inPlace = this.equations.get(key);
    this.doubleReads.push({ key, span: trimSpan(this.facts, e.span), alias: alias.name, aliasSpan: this.defSpans.get(alias.name)!, other: alias === e.right ? left : right, ...(inPlace ? { inPlace: inPlace.spans[inPlace.spans.length - 1] } : {}) });
  }

  /**
   * A divisor written `1 - 0.9` keeps its number as a β (1 − β with β the number's key), so the
   * division reads as the bias correction it was written as: folded, it is a bare 0.1, which stays
   * a number (`m / 0.1` is not a correction).
   */
  private writtenCorrection(e: Expr): Poly | undefined {
    if (e.kind !== 'binary' || e.op !== '-' || e.left.kind !== 'num' || e.left.value !== 1 || e.right.kind !== 'num') return undefined;
    const beta = numericBetaKey(e.right.value);
    return beta === undefined ? undefined : sub(constant(1), sym(beta));
  }

  /** Which symbols of the function are a stabilizing ε, asked only of a sum that is 1 − βᵗ and one more monomial. */
  private epsilonOf?: EpsilonTest;
  get epsilon(): EpsilonTest {
    return (this.epsilonOf ??= epsilonTest(this.fn, this.lookups.fileValues));
  }

  /** `span`: the correction's expression as the IR spans it, without the parentheses written around it (those are its `parenSpan`). */
  private noteCorrection(value: Poly, span: Span, withCount: boolean): void {
    const c = correctionShape(value, this.epsilon);
    if (!c || (c.exp !== undefined) !== withCount) return;
    const betaArgument = this.outerCall?.args.find((a) => this.keyOf(a) === c.beta)?.span;
    // The key a reciprocal of it holds (poly.ts `inverse` divides a sum by its first number: 1 + 1e-8 − βᵗ).
    const key = polyKey(c.eps !== undefined && value[0].c !== 1 ? scale(value, 1 / value[0].c) : value);
    this.corrections.push({ ...c, span, order: this.order++, key, zeroLoops: this.zeroLoopsBound(), ...(this.statement ? { statement: this.statement } : {}), ...(betaArgument ? { betaArgument } : {}) });
  }

  /** The names whose innermost running loop starts at 0 (an inner loop over the same name hides an outer one). */
  private zeroLoopsBound(): string[] {
    const zero = new Map<string, boolean>();
    for (const loop of this.loops) for (const n of loop.names) zero.set(n, loop.zero);
    return [...zero].filter(([, z]) => z).map(([n]) => n);
  }

  /** Statements in order; returns the value of the first `return`, if any. */
  block(stmts: Stmt[], env: Env): Poly | undefined {
    let returned: Poly | undefined;
    for (let i = 0; i < stmts.length; i++) {
      let s = stmts[i];
      // An `if` chain of a helper being inlined: kept by its first block, and run as the path chose.
      if (s.kind === 'block' && s.label === 'if' && this.inlining.size > 0) {
        let chain = this.helperChains.get(s);
        if (!chain) this.helperChains.set(s, (chain = ifChainAt(stmts, i)));
        const choice = this.choices?.get(s);
        if (choice === undefined) {
          // Its `elif`/`else` blocks are not chains of their own.
          for (let k = 0; k < chain.length; k++) {
            const r = this.stmt(chain[k], env);
            if (r && !returned) returned = r;
          }
          i += chain.length - 1;
          continue;
        }
        i += chain.length - 1;
        if (choice < 0) continue;
        s = chosenBranch(chain[choice]);
      }
      const r = this.stmt(s, env);
      if (r && !returned) returned = r;
    }
    return returned;
  }

  /** The `if` chains of inlined helpers, by their first block: a path may choose one branch of each (`choices`). */
  readonly helperChains = new Map<Stmt, (Stmt & { kind: 'block' })[]>();
  /** For a path through helpers' chains: the branch run of each chosen chain, by its first block (−1: none). */
  choices?: Map<Stmt, number>;

  /** The simple statement being run (none while a loop's or a block's head is). */
  private statement?: Stmt;

  private stmt(s: Stmt, env: Env): Poly | undefined {
    const outer = this.statement;
    this.statement = s.kind === 'assign' || s.kind === 'expr' || s.kind === 'return' ? s : undefined;
    try {
      return this.stmtInner(s, env);
    } finally {
      // A helper's statements run inside the caller's: the caller's is the one running again.
      this.statement = outer;
    }
  }

  private stmtInner(s: Stmt, env: Env): Poly | undefined {
    if (this.inlining.size > 0) this.inlinedStatements++;
    switch (s.kind) {
      case 'assign': {
        // `hat = state['max_sq'] if amsgrad else state['sq']`: an `if`/`else` that assigns in each branch.
        const chain = conditionalChain(s);
        if (chain) return this.block(chain, env);
        this.assign(s, env);
        return undefined;
      }
      case 'expr': {
        const e = s.expr;
        if (e.kind === 'other' && e.ops && (e.ops[0] === '++' || e.ops[0] === '--') && e.children[0]) {
          this.unpend(e.children[0]);
          const old = this.read(e.children[0], env);
          this.write(e.children[0], add(old, constant(e.ops[0] === '++' ? 1 : -1)), env, s.span, true);
          this.order++;
          return undefined;
        }
        if (this.appendsNewValue(e, env, s.span)) return undefined;
        this.eval(e, env);
        this.order++;
        return undefined;
      }
      case 'for': {
        for (const name of targetNames(s.target)) env.values.delete(name);
        const restarted = this.restartedPowers(s, env);
        this.loopCarried(s.body, env);
        for (const [name, value] of restarted) env.values.set(name, value);
        this.eval(s.iter, env);
        this.bindComputedElements(s.target, s.iter, env);
        this.loops.push({ names: targetNames(s.target), zero: s.target.kind === 'name' && startsAtZero(s.iter) });
        try {
          return this.block(s.body, env);
        } finally {
          this.loops.pop();
          for (const name of restarted.keys()) this.activePowers.delete(name);
        }
      }
      case 'block': {
        for (const h of s.heads) this.eval(h, env);
        if (s.label === 'while') this.loopCarried(s.body, env);
        if (s.label !== 'if') return this.block(s.body, env);
        this.branches.push(s);
        try {
          return this.block(s.body, env);
        } finally {
          this.branches.pop();
        }
      }
      case 'return': {
        if (!s.value) return undefined;
        if (this.depth === 0)
          someExpr(s.value, (x) => {
            if (x.kind === 'name') this.returnedNames.add(x.name);
            return false;
          });
        if (this.depth === 0) this.returnedState(s.value, env, s.span);
        if (this.depth === 0 && s.value.kind === 'seq') {
          for (const [i, item] of s.value.items.entries()) {
            const span = item.kind === 'name' ? (this.defSpans.get(item.name) ?? s.span) : s.span;
            this.returned.push({ value: this.eval(item, env), span, item: i });
            // `return new_p, {"m": new_m, "v": new_v}`: the new moments in the entries of an item.
            if (item.kind === 'object') this.returnedEntries(item, env, s.span);
          }
          return this.fresh();
        }
        if (this.depth === 0 && s.value.kind === 'object' && s.value.entries.length > 0) {
          this.returnedEntries(s.value, env, s.span);
          return this.fresh();
        }
        const value = this.eval(s.value, env);
        if (this.depth === 0) this.returned.push({ value, span: s.value.kind === 'name' ? (this.defSpans.get(s.value.name) ?? s.span) : s.span });
        return value;
      }
      default:
        return undefined;
    }
  }

  /**
   * `new.append(w - lr * v)` (`push` in JS) in the step's own loop: arithmetic on a variable of the
   * innermost loop appended to a local list, recorded in `appended` (analyzeFunction reads it as that
   * variable's update when the list is returned). The argument is evaluated once.
   */
  private appendsNewValue(e: Expr, env: Env, span: Span): boolean {
    if (this.depth > 0 || this.loops.length === 0 || e.kind !== 'call' || e.args.length !== 1 || (e.args[0].kind !== 'binary' && e.args[0].kind !== 'name')) return false;
    const callee = e.callee;
    if (callee.kind !== 'attr' || callee.name === 'extend' || !LIST_APPEND_METHODS.has(callee.name) || callee.object.kind !== 'name') return false;
    const list = callee.object.name;
    const value = this.eval(e.args[0], env);
    const order = this.order++;
    // The weight as written in the new value (the update's target): the loop's variable (`w`), or a
    // place it picks (`params[i]`, `layer.W`), that the value holds once.
    const vars = this.loops[this.loops.length - 1].names;
    const arg = e.args[0];
    // `new_param = p - update; out.append(new_param)`: the loop's own variable, read through the local.
    if (arg.kind === 'name') {
      for (const name of vars) if (mentions(value, name)) this.appended.push({ key: name, target: { kind: 'name', name, span: arg.span }, list, value, span: trimSpan(this.facts, span), order });
      return true;
    }
    const seen = new Set<string>();
    someExpr(e.args[0], (x) => {
      if (x.kind !== 'name' && x.kind !== 'attr' && x.kind !== 'index') return false;
      const key = this.keyOf(x);
      if (key === undefined || seen.has(key) || !someExpr(x, (n) => n.kind === 'name' && vars.includes(n.name))) return false;
      seen.add(key);
      if (mentions(value, key)) this.appended.push({ key, target: x, list, value, span: trimSpan(this.facts, span), order });
      return false;
    });
    return true;
  }

  /**
   * Locals started at β (or 1) before a loop and multiplied by β in its body (`p1 = b1` before
   * `for p, g in zip(params, grads): p1 = p1 * b1`): read in the loop as βᵉ, e the number of
   * iterations so far (`loopPowerExponent`), as a running power of the object is read as βᵗ. Each
   * call of the function starts them again. Only while the loop is evaluated (`activePowers`).
   */
  private readonly activePowers = new Map<string, { beta: string; loop: Stmt; startsAtOne: boolean }>();
  /** The locals read so, with where each was started and where it is multiplied: kept for the findings. */
  readonly localPowers = new Map<string, { name: string; beta: string; loop: Stmt; start?: Span; startsAtOne: boolean; advance: Span }>();

  private restartedPowers(loop: Stmt & { kind: 'for' }, env: Env): Map<string, Poly> {
    const out = new Map<string, Poly>();
    if (this.probe) return out;
    for (const name of carriedNames(loop.body)) {
      const start = env.values.get(name);
      if (!start || out.has(name) || this.activePowers.has(name)) continue;
      // Started at a symbol (β) or at 1: anything else is no power, and its body is not searched.
      const plainStart = start.length === 1 && start[0].c === 1 && (start[0].fs.length === 0 || (start[0].fs.length === 1 && start[0].fs[0].n === 1 && start[0].fs[0].atom.k === 'sym'));
      if (!plainStart) continue;
      const factor = advancingFactor(loop.body, name);
      if (!factor) continue;
      const fk = this.keyOf(factor);
      const fv = fk === undefined ? undefined : (env.values.get(fk) ?? sym(fk));
      const beta = fv && fv.length === 1 && fv[0].c === 1 && fv[0].fs.length === 1 && fv[0].fs[0].n === 1 && fv[0].fs[0].atom.k === 'sym' ? fv[0].fs[0].atom.key : undefined;
      if (beta === undefined || beta === name || !(polyEquals(start, sym(beta)) || polyEquals(start, constant(1)))) continue;
      this.activePowers.set(name, { beta, loop, startsAtOne: !polyEquals(start, sym(beta)) });
      const e = loopPowerExponent(name);
      // Started at β, the power is β¹⁺ᵉ before its first advance, βᵉ after it; both read as βᵉ (e counts from its start).
      out.set(name, pow(sym(beta), sym(e)));
    }
    return out;
  }

  /** A write of an active local power that multiplies it by its β: noted, and its value (βᵉ) kept. */
  private advancesLocalPower(name: string, value: Poly, span: Span): boolean {
    const p = this.activePowers.get(name);
    if (!p) return false;
    const e = loopPowerExponent(name);
    if (!polyEquals(value, mul(pow(sym(p.beta), sym(e)), sym(p.beta)))) {
      this.activePowers.delete(name);
      return false;
    }
    if (!this.localPowers.has(e)) this.localPowers.set(e, { name, beta: p.beta, loop: p.loop, ...(this.defSpans.has(name) ? { start: this.defSpans.get(name) } : {}), startsAtOne: p.startsAtOne, advance: trimSpan(this.facts, span) });
    return true;
  }

  /** Names a loop body assigns carry their value from one iteration to the next: inside, they are variables. */
  private loopCarried(body: Stmt[], env: Env): void {
    for (const n of carriedNames(body)) env.values.delete(n);
  }

  /** Locals last given a new tensor (`makesNewTensor`): not aliases of what their value reads. */
  private readonly newTensors = new Set<string>();

  /** An out-of-place arithmetic call (catalogue.ts `arithmeticPlacement`), a copy, or an operator's result: a tensor of its own. */
  private makesNewTensor(e: Expr): boolean {
    if (e.kind === 'binary') return ['+', '-', '*', '/', '**', '@'].includes(e.op);
    if (e.kind !== 'call') return false;
    return arithmeticPlacement(e) === 'out-of-place' || copiedArray(e, (x) => this.facts.analyzer.isModule(x)) !== undefined;
  }

  private assign(s: Stmt & { kind: 'assign' }, env: Env): void {
    const order = this.order++;
    void order;
    if (s.targets.length !== 1) {
      for (const t of s.targets) for (const n of targetNames(t)) env.values.delete(n);
      this.eval(s.value, env);
      return;
    }
    const target = s.targets[0];
    if (target.kind === 'seq') {
      // `b1, b2 = group['betas']`: each name is that element; `a, b = x, y` item by item, every value
      // read before any is written (`self.m[i], self.v[i] = m, v` writes both places).
      // A local holding what an unknown call handed out (`params = layer.get_params()`, then `w, b = params`)
      // is unpacked as that call would be: each name its own value.
      const handedOut = s.value.kind === 'name' && !env.values.has(s.value.name) && this.opaqueLocals.has(s.value.name);
      const base = handedOut ? undefined : this.keyOf(s.value);
      const items = s.value.kind === 'seq' && s.value.items.length === target.items.length ? s.value.items.map((x) => this.eval(x, env)) : undefined;
      target.items.forEach((t, i) => {
        if (t.kind !== 'name') {
          if (items && (t.kind === 'attr' || t.kind === 'index')) this.write(t, items[i], env, s.span);
          return;
        }
        if (items && this.advancesLocalPower(t.name, items[i], s.span)) return;
        if (items) env.values.set(t.name, items[i]);
        else if (base !== undefined) env.values.set(t.name, sym(`${base}[${i}]`));
        else env.values.delete(t.name);
      });
      return;
    }
    if (!s.op && this.rebindsWrittenElements(target, s.value)) {
      this.eval(s.value, env);
      return;
    }
    // `de_nom = exp_avg_sq.add(eps)`, `d = v + 1e-15`, `u = v.clone()`: a new tensor, whatever value it holds;
    // an in-place call on it (`de_nom.sqrt_()`) changes the copy, never the state it was computed from.
    if (target.kind === 'name' && !s.op) {
      if (this.makesNewTensor(s.value)) this.newTensors.add(target.name);
      else this.newTensors.delete(target.name);
    }
    let value = this.eval(s.value, env);
    if (s.op) {
      this.unpend(target);
      const old = this.read(target, env);
      value = s.op === '+' ? add(old, value) : s.op === '-' ? sub(old, value) : s.op === '*' ? mul(old, value) : (div(old, value) ?? this.fresh());
    }
    this.write(target, value, env, s.span);
  }
}

/**
 * `v["dW" + str(l)]`, `grads['db%d' % l]`: an entry chosen by a key the code builds,
 * keyed by that key's expression, so the W and b entries of one layer are values of their own.
 */
export function computedIndexKey(facts: Facts, e: Expr, keyOf: (x: Expr) => string | undefined): string | undefined {
  if (e.kind !== 'index' || e.index.length !== 1) return undefined;
  const index = e.index[0];
  if (index.kind !== 'binary' && index.kind !== 'call') return undefined;
  if (!someExpr(index, (x) => x.kind === 'str')) return undefined;
  const object = keyOf(e.object);
  if (object === undefined) return undefined;
  return `${object}[${facts.source(index.span).replace(/\s+/g, '').replace(/'/g, '"')}]`;
}

/** A string a subscript is keyed by, as its key text: `"dW1"`, `"dW{l}"` (an f-string), `"dW"+str(l)`; undefined for any other value. */
export function stringKey(facts: Facts, value: Expr): string | undefined {
  if (value.kind === 'str') return JSON.stringify(value.value);
  if ((value.kind === 'binary' || value.kind === 'call') && someExpr(value, (x) => x.kind === 'str')) return facts.source(value.span).replace(/\s+/g, '').replace(/'/g, '"');
  return undefined;
}

function targetNames(t: Expr): string[] {
  if (t.kind === 'name') return [t.name];
  if (t.kind === 'seq') return t.items.flatMap(targetNames);
  return [];
}

/** `v, g in zip(vs, gs)` → [[v, vs], [g, gs]]; `i, m in enumerate(ms)` → [[m, ms]]; `m in ms` → [[m, ms]]; undefined for other loops (`range`, `items`). */
function loopPairs(target: Expr, iter: Expr): [string, Expr][] | undefined {
  if (target.kind === 'name') return iter.kind === 'call' ? undefined : [[target.name, iter]];
  if (target.kind !== 'seq') return undefined;
  const out: [string, Expr][] = [];
  target.items.forEach((t, i) => {
    const source = nestedIterable(iter, i);
    if (t.kind === 'name' && source) out.push([t.name, source]);
  });
  return out.length > 0 ? out : undefined;
}

/** `range(n)`, `range(0, n)`, `enumerate(xs)`: the loop variable's first value is 0. */
function startsAtZero(iter: Expr): boolean {
  if (iter.kind !== 'call' || iter.callee.kind !== 'name') return false;
  if (iter.callee.name === 'range') return iter.args.length === 1 || (iter.args.length >= 2 && iter.args[0].kind === 'num' && iter.args[0].value === 0);
  return false;
}

/**
 * 1 − β (exp undefined; 1 − βⁿ with n a number too, as `fixedPower`) or 1 − β^t, β a variable; or a number between 0 and 1 (`1 - 0.9 ** t`, and
 * `1 - 0.9` as the evaluator keeps it where it divides), its β then the number's text (numericBetaKey).
 * Given `epsilon`, 1 − βᵗ + ε is one too (`1 - b1 ** t + eps`, ε added to keep the division finite):
 * ε a number up to EPSILON_BOUND folded into the 1, or a symbol `epsilon` says is one, and only with the
 * step count (1 − β + ε is left alone). `eps` is then ε as written (its key, or its number): at t = 0
 * such a correction is ε, not 0, so it does not divide by zero.
 */
export function correctionShape(p: Poly, epsilon?: EpsilonTest): CorrectionShape | undefined {
  const bare = bareCorrectionShape(p);
  if (bare || !epsilon) return bare;
  let shape: CorrectionShape | undefined;
  let eps: string | undefined;
  if (p.length === 2) {
    // 1 + 1e-8 − βᵗ: the number is folded into the 1 (and a reciprocal scales the sum by its first number).
    const one = p.find((m) => m.fs.length === 0);
    const other = p.find((m) => m !== one);
    if (!one || !other || other.c >= 0) return undefined;
    const c = one.c / -other.c;
    if (!(c > 1 && c - 1 <= EPSILON_BOUND)) return undefined;
    shape = bareCorrectionShape([{ c: 1, fs: [] }, { c: -1, fs: other.fs }]);
    eps = formatNumber(Number((c - 1).toPrecision(6)));
  } else if (p.length === 3) {
    // The rest a 1 − βᵗ first (cheap), then the symbol an ε (data flow).
    for (const m of p) {
      const a = m.c === 1 && m.fs.length === 1 && m.fs[0].n === 1 ? m.fs[0].atom : undefined;
      if (a?.k !== 'sym') continue;
      const rest = bareCorrectionShape(p.filter((x) => x !== m));
      if (rest?.exp === undefined || !epsilon(a.key)) continue;
      shape = rest;
      eps = a.key;
      break;
    }
  }
  return shape && shape.exp !== undefined ? { ...shape, eps } : undefined;
}

export interface CorrectionShape {
  beta: string;
  exp?: Poly;
  fixedPower?: number;
  /** ε added to the correction (1 − βᵗ + ε): its key or its number. */
  eps?: string;
}

function bareCorrectionShape(p: Poly): CorrectionShape | undefined {
  if (p.length !== 2) return undefined;
  const one = p.find((m) => m.fs.length === 0 && near(m.c, 1));
  const other = p.find((m) => m !== one);
  if (!one || !other || !near(other.c, -1) || other.fs.length !== 1) return undefined;
  const f = other.fs[0];
  // `1 - beta1 ** 2`: a power with a number for its exponent, a constant as 1 − β is (the step count left out).
  if (f.atom.k === 'sym' && Number.isInteger(f.n) && f.n >= 2 && f.n <= 16) return { beta: f.atom.key, fixedPower: f.n };
  if (f.n !== 1) return undefined;
  if (f.atom.k === 'sym') return { beta: f.atom.key };
  if (f.atom.k === 'pow' && f.atom.base.length === 1 && f.atom.base[0].c === 1 && f.atom.base[0].fs.length === 1) {
    const b = f.atom.base[0].fs[0];
    if (b.atom.k === 'sym' && b.n === 1) return { beta: b.atom.key, exp: f.atom.exp };
  }
  if (f.atom.k === 'pow' && numeric(f.atom.exp) === undefined) {
    const b = numericBetaKey(numeric(f.atom.base));
    if (b !== undefined) return { beta: b, exp: f.atom.exp };
  }
  return undefined;
}

/** Largest value read as a stabilizing ε (1e-8, 1e-7, 1e-6 in practice). */
export const EPSILON_BOUND = 1e-3;

/** Whether a symbol of a step is a stabilizing ε. */
export type EpsilonTest = (key: string) => boolean;

/** The ε test of a function: a symbol every number given to which (epsilonValues) is positive and at most EPSILON_BOUND. */
export function epsilonTest(fn: FunctionDef, initial: (key: string) => number[]): EpsilonTest {
  const known = new Map<string, boolean>();
  return (key) => {
    let small = known.get(key);
    if (small === undefined) {
      const values = epsilonValues(fn, initial, key);
      small = values.length > 0 && values.every((x) => x > 0 && x <= EPSILON_BOUND);
      known.set(key, small);
    }
    return small;
  };
}

/** The ε test of a function of the file, over the numbers the file assigns. */
export function fileEpsilonTest(facts: Facts, fn: FunctionDef): EpsilonTest {
  return epsilonTest(fn, initialValues(facts));
}

/**
 * The numbers a symbol holds: those the file assigns to it, else the default of the function's own
 * parameter of that name, or of the constructor's parameter an attribute is set from (`self.eps = eps`).
 */
export function epsilonValues(fn: FunctionDef, initial: (key: string) => number[], key: string): number[] {
  const assigned = initial(key);
  if (assigned.length > 0) return assigned;
  // A number, or a framework's own ε (`K.epsilon()`), whose largest value is known.
  const numberOf = (e: Expr | undefined): number | undefined => (e?.kind === 'num' ? e.value : e && frameworkEpsilon(e));
  const own = fn.params.find((x) => x.name === key);
  if (own) return numberOf(own.default) !== undefined ? [numberOf(own.default)!] : [];
  // `self.eps = eps` in a method of the class (the constructor): the number written, or that method's parameter's default.
  const cls = fn.cls;
  if (!cls || !/^(?:self|this)\./.test(key)) return [];
  const b = fn.scope.lookup(key, fn.span.start);
  const value = b?.kind === 'assign' && !b.op ? b.value : undefined;
  const written = numberOf(value);
  if (written !== undefined) return [written];
  if (value?.kind !== 'name') return [];
  const setter = [...cls.scope.functions.values()].find((f) => f.scope === b!.scope);
  const fallback = numberOf(setter?.params.find((x) => x.name === value.name)?.default);
  return fallback !== undefined ? [fallback] : [];
}

/** A β written as a number, strictly between 0 and 1, as a key: its text (no name can be one). */
export function numericBetaKey(value: number | undefined): string | undefined {
  return value !== undefined && value > 0 && value < 1 ? formatNumber(Number(value.toPrecision(12))) : undefined;
}

/**
 * β of a moving average written with numbers: its old value's weight, strictly between 0 and 1,
 * and each addition weighted by 1 − β itself (`0.9 * v + g` is a momentum buffer, not an average).
 */
export function numericBeta(s: StateUpdate): number | undefined {
  if (!s.average || s.beta !== undefined || !s.self) return undefined;
  const a = numeric(s.self);
  if (a === undefined || a <= 0 || a >= 1) return undefined;
  return s.adds.every((x) => { const b = numeric(x.b); return b !== undefined && near(b, 1 - a); }) ? a : undefined;
}

/** The β a moving average is weighted by: its variable, or the key of the number it is written as. */
export function betaKeyOf(s: StateUpdate): string | undefined {
  return s.beta ?? numericBetaKey(numericBeta(s));
}

/** The exponent e of a local power restarted every call and advanced in a loop (never a key the code can write). */
export function loopPowerExponent(name: string): string {
  return `${name}\u0000loop`;
}

/**
 * The factor a loop body multiplies a local by, at its own level or under an `if`: `p = p * b`,
 * `p = b * p`, `p *= b`, an item of `p, q = p * b, q * c`; a plain read (a name, attribute or subscript).
 */
function advancingFactor(body: Stmt[], name: string, depth = 0): Expr | undefined {
  if (depth > 8) return undefined;
  const plain = (e: Expr): boolean => e.kind === 'name' || e.kind === 'attr' || e.kind === 'index';
  const isName = (e: Expr): boolean => e.kind === 'name' && e.name === name;
  const product = (e: Expr): Expr | undefined => {
    if (e.kind !== 'binary' || e.op !== '*') return undefined;
    if (isName(e.left) && plain(e.right) && !isName(e.right)) return e.right;
    if (isName(e.right) && plain(e.left) && !isName(e.left)) return e.left;
    return undefined;
  };
  for (const st of body) {
    if (st.kind === 'block' && st.label === 'if') {
      const inner = advancingFactor(st.body, name, depth + 1);
      if (inner) return inner;
      continue;
    }
    if (st.kind !== 'assign' || st.targets.length !== 1) continue;
    const t = st.targets[0];
    if (isName(t)) {
      if (st.op === '*' && plain(st.value)) return st.value;
      if (!st.op) {
        const f = product(st.value);
        if (f) return f;
      }
    } else if (t.kind === 'seq' && !st.op && st.value.kind === 'seq' && st.value.items.length === t.items.length) {
      const at = t.items.findIndex(isName);
      const f = at >= 0 ? product(st.value.items[at]) : undefined;
      if (f) return f;
    }
  }
  return undefined;
}

const carried = new WeakMap<Stmt[], string[]>();

/** The names a loop body assigns, at any depth (each loop a function runs asks once, however often it is entered). */
function carriedNames(body: Stmt[]): string[] {
  let names = carried.get(body);
  if (names) return names;
  names = [];
  for (const st of body) {
    if (st.kind === 'assign')
      for (const t of st.targets) {
        names.push(...targetNames(t));
        // `m[i] = b1 * m[i] + …`: the array m carries its elements between iterations.
        let base: Expr = t;
        while (base.kind === 'index') base = base.object;
        if (base !== t && base.kind === 'name') names.push(base.name);
      }
    else if (st.kind === 'block' || st.kind === 'for') names.push(...carriedNames(st.body));
    // `step++` in the loop: a count carried between iterations, not the number it started at.
    else if (st.kind === 'expr' && st.expr.kind === 'other' && (st.expr.ops?.[0] === '++' || st.expr.ops?.[0] === '--') && st.expr.children[0]) names.push(...targetNames(st.expr.children[0]));
  }
  carried.set(body, names);
  return names;
}

/**
 * Every number the file assigns to a key (`self.t = 0`, `state['step'] = 0`, `{'step': 0}`, `t = 0;` as a class field),
 * gathered when a step first asks (most files hold none).
 */
function initialValues(facts: Facts): (key: string) => number[] {
  let found = initials.get(facts);
  if (!found) {
    const assigned = assignedNumbers(facts);
    found = (key) => assigned().get(key)?.map((x) => x.value) ?? [];
    initials.set(facts, found);
  }
  return found;
}

const initials = new WeakMap<Facts, (key: string) => number[]>();

/**
 * The numbers a method's instance members start at, from its own class, the classes it derives from and the classes
 * derived from it (a base class's `step` reading the `self.t` its subclass's constructor sets): another
 * class's `self.t = 0` in the same file says nothing about where this one's count starts. A number assigned outside
 * every method and class body (a plain function, a JS constructor function) counts for every class.
 */
function initialValuesFor(facts: Facts, fn: FunctionDef, inits: (key: string) => number[]): (key: string) => number[] {
  const cls = fn.cls;
  if (!cls) return inits;
  const assigned = assignedNumbers(facts);
  const mine = new Map<ClassDef, boolean>();
  const counts = (owner: ClassDef): boolean => {
    let yes = mine.get(owner);
    // Its own class and its bases, and a subclass whose constructor sets a count a base's method reads.
    if (yes === undefined) mine.set(owner, (yes = derivesFrom(facts.program, cls, owner) || derivesFrom(facts.program, owner, cls)));
    return yes;
  };
  return (key) => {
    const list = assigned().get(key);
    if (!list) return [];
    return list.flatMap((x) => (x.owner === undefined || counts(x.owner) ? [x.value] : []));
  };
}

interface AssignedNumber {
  value: number;
  /** The class whose method or body assigns it (`self.t = 0` in `__init__`, a class field). */
  owner?: ClassDef;
}

const assignedByFacts = new WeakMap<Facts, () => Map<string, AssignedNumber[]>>();

function assignedNumbers(facts: Facts): () => Map<string, AssignedNumber[]> {
  let found = assignedByFacts.get(facts);
  if (!found) {
    let map: Map<string, AssignedNumber[]> | undefined;
    found = () => (map ??= collectAssignedNumbers(facts));
    assignedByFacts.set(facts, found);
  }
  return found;
}

function collectAssignedNumbers(facts: Facts): Map<string, AssignedNumber[]> {
  const map = new Map<string, AssignedNumber[]>();
  const index = programIndex(facts);
  const classOfScope = new Map<Scope, ClassDef>();
  for (const scope of index.scopes) for (const c of scope.classes.values()) classOfScope.set(c.scope, c);
  let owner: ClassDef | undefined;
  const put = (key: string, v: number): void => {
    const list = map.get(key);
    const entry: AssignedNumber = owner ? { value: v, owner } : { value: v };
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  for (const stmt of index.stmtBySpan.values()) {
    const scope = index.scopeAt(stmt.span.start);
    owner = classOfScope.get(scope) ?? index.enclosingFunction(scope)?.cls;
    // `config.setdefault('t', 0)`
    const call = stmt.kind === 'expr' ? stmt.expr : stmt.kind === 'assign' ? stmt.value : undefined;
    if (call?.kind === 'call' && call.callee.kind === 'attr' && call.callee.name === DICT_DEFAULT_METHOD && call.args[0]?.kind === 'str' && call.args[1]?.kind === 'num') {
      const owner = exprKey(call.callee.object);
      if (owner !== undefined) put(`${owner}[${JSON.stringify(call.args[0].value)}]`, call.args[1].value);
    }
    if (stmt.kind !== 'assign' || stmt.op) continue;
    // `self.m, self.v, self.t = {}, {}, 0`
    if (stmt.targets.length === 1 && stmt.targets[0].kind === 'seq' && stmt.value.kind === 'seq' && stmt.value.items.length === stmt.targets[0].items.length) {
      const items = stmt.value.items;
      stmt.targets[0].items.forEach((t, i) => {
        const key = exprKey(t);
        if (key !== undefined && items[i].kind === 'num') put(key, (items[i] as { value: number }).value);
      });
    }
    for (const t of stmt.targets) {
      const key = exprKey(t);
      if (key === undefined) continue;
      const v = stmt.value;
      if (v.kind === 'num') put(key, v.value);
      if (v.kind === 'object') for (const entry of v.entries) if (entry.value.kind === 'num') put(`${key}[${JSON.stringify(entry.name)}]`, entry.value.value);
      // A class field `t = 0` is `this.t` / `self.t`.
      if (v.kind === 'num' && t.kind === 'name' && scope.kind === 'class') {
        put(`this.${key}`, v.value);
        put(`self.${key}`, v.value);
      }
    }
  }
  return map;
}

// ------------------------------------------------------------------ classification

/** A function's parameters, the instance of a method aside. */
function argumentNames(fn: FunctionDef): string[] {
  return (fn.isMethod ? fn.params.slice(1) : fn.params).map((p) => p.name);
}

/**
 * A function that returns an argument's new value under another name, for its caller to store back
 * (`Vd = beta1 * v + (1 - beta1) * grad; … return var_updated, Vd, Sd`): the local is a version of
 * that argument, a state the caller keeps, when it weighs the argument's old value by a symbol.
 * By the normal form of each returned local's value, the argument it is a version of.
 */
function argumentVersions(ev: Evaluator, args: readonly string[]): Map<string, string> {
  const versions = new Map<string, string>();
  for (const r of ev.returned) {
    const k = polyKey(r.value);
    if (!ev.localValues.has(k) || versions.has(k)) continue;
    const name = args.find((n) => {
      const split = mentions(r.value, n) ? splitSelf(r.value, n) : undefined;
      // The old value weighed by one symbol, β·v (not (1 − β)·g: the term a moving average adds).
      const self = split?.self;
      return self !== undefined && self.length === 1 && self[0].c === 1 && self[0].fs.length === 1 && self[0].fs[0].n === 1 && self[0].fs[0].atom.k === 'sym' && split!.rest.length > 0 && !mentions(split!.rest, n);
    });
    if (name !== undefined && !ev.equations.has(name)) versions.set(k, name);
  }
  return versions;
}

function analyzeFunction(facts: Facts, fn: FunctionDef, lookups: FileLookups, body: Stmt[] = fn.body, evaluated?: Evaluator, transform?: TransformUpdate, choices?: Map<Stmt, number>): OptimizerStep | undefined {
  const inits = lookups.values;
  // In an optax update function, the incoming `updates` is the gradient: a local the function rebinds, not state.
  const entry = (): Env => ({ values: new Map(transform?.updates ? [[transform.updates, sym(transform.updates)]] : []) });
  const evaluator = (versions: Map<string, string>): Evaluator => {
    const ev = new Evaluator(facts, fn, versions, transform, false, lookups);
    if (choices) ev.choices = choices;
    return ev;
  };
  let first = evaluated;
  if (!first) {
    first = evaluator(new Map());
    first.block(body, entry());
  }
  const fnParams = argumentNames(fn);
  // Second pass: a local that holds a state's new value before it is stored stands for that state.
  const versions = transform ? new Map<string, string>() : argumentVersions(first, fnParams);
  // A transformation's only equation may be its one state (a momentum trace); the step is the update it returns.
  if (transform ? first.equations.size < 1 : tooFewEquations(first) && versions.size === 0) return undefined;
  const addVersions = (from: Evaluator): void => {
    // Only a local computed before the state is written (a look-ahead computed after it, `g + mu * v`, is not its version).
    for (const e of from.equations.values()) {
      const k = polyKey(e.value);
      const local = from.localValues.has(k) || from.returnedKeys.has(e.key);
      if (e.spans.length === 1 && local && (from.localOrder.get(k) ?? Infinity) <= e.order && !versions.has(k)) versions.set(k, e.key);
    }
  };
  addVersions(first);
  let ev = first;
  if (versions.size > 0) {
    ev = evaluator(versions);
    ev.block(body, entry());
    // A returned state computed from another one (`nu_max = max(nu_max, nu)` after `nu`) is known by its form only once that one is.
    const before = versions.size;
    if (transform || ev.returnedKeys.size > 0) addVersions(ev);
    if (versions.size > before) {
      ev = evaluator(versions);
      ev.block(body, entry());
    }
  }
  // A β power kept as a running product (`self.b1_t *= self.beta1`) is βᵗ: a third pass reads it as one.
  const powers = runningPowers(ev, inits, lookups.startsAt);
  if (powers.size > 0) {
    ev = evaluator(versions);
    ev.powers = powers;
    ev.block(body, entry());
  }
  resolveHeld(ev);
  const stale = resolvePrevious(ev);
  const eqs = [...ev.equations.values()];
  const counterKeys = new Set(ev.counters.keys());
  const real = eqs.filter((e) => !counterKeys.has(e.key));
  const reads = new Map<string, Set<string>>();
  for (const e of real) {
    const keys = new Set<string>();
    // A value read by a later write of another one feeds it (a buffer); one updated only after the read is not its state.
    for (const a of atomsOf(e.value)) if (a.k === 'sym' && a.key !== e.key && ev.equations.has(a.key) && !counterKeys.has(a.key) && ev.equations.get(a.key)!.order < e.last) keys.add(a.key);
    reads.set(e.key, keys);
  }
  const readByOthers = new Set<string>();
  for (const [, keys] of reads) for (const k of keys) readByOthers.add(k);
  // An optax update function's returned updates read its states as a parameter step does.
  if (transform) for (const r of ev.transformReturns) for (const a of atomsOf(r.value)) if (a.k === 'sym' && ev.equations.has(a.key) && !counterKeys.has(a.key)) readByOthers.add(a.key);
  // Every β some equation weights its old value by: scalars wherever they appear.
  const betas = new Set<string>();
  for (const e of real) {
    const split = splitSelf(e.value, e.key);
    const beta = split && linearSymbol(split.self);
    if (beta) betas.add(beta);
  }
  // A β the step bias-corrects by (1 − β₂ᵗ) is a scalar too, also where no state keeps it of its old value (v = β₁·v + (1 − β₂)·g²).
  for (const c of ev.corrections) if (c.exp !== undefined) betas.add(c.beta);
  const stateUpdate = (e: Equation): StateUpdate => stateUpdateOf(e, betas, ev.epsilon);
  const states = new Map<string, StateUpdate>();
  for (const e of real) if (readByOthers.has(e.key)) states.set(e.key, stateUpdate(e));
  // In a step that returns its parameter, the state it updates is read by the returned value.
  const readByOthersOrState = (key: string): boolean => {
    if (states.has(key)) return true;
    const e = ev.equations.get(key);
    if (!e || counterKeys.has(key)) return false;
    states.set(key, stateUpdate(e));
    return true;
  };
  const params: ParamUpdate[] = [];
  for (const e of real) {
    if (readByOthers.has(e.key) || (reads.get(e.key)?.size ?? 0) === 0) continue;
    const split = splitSelf(e.value, e.key);
    if (!split || split.rest.length === 0) continue;
    params.push({ eq: e, step: split.rest, self: split.self, ...(stale.has(e.key) ? { previous: stale.get(e.key) } : {}) });
  }
  // A step that returns the new parameter: `next_w = w - lr * m / (np.sqrt(v) + eps); return next_w, config`.
  for (const r of ev.returned) {
    for (const name of fnParams) {
      if (!mentions(r.value, name)) continue;
      const split = splitSelf(r.value, name);
      if (!split || split.rest.length === 0 || !polyEquals(split.self, constant(1))) continue;
      if (!atomsOf(split.rest).map((a) => a.k === 'sym' && readByOthersOrState(a.key)).some((x) => x)) continue;
      params.push({ eq: { key: name, value: r.value, spans: [r.span], order: ev.order, last: ev.order, target: { kind: 'name', name, span: r.span } }, step: split.rest, self: split.self, ...(r.field === undefined ? { handedBack: r.item ?? -1 } : {}), ...(r.previous ? { previous: r.previous } : {}) });
    }
  }
  // A list of new weights the function returns: `new.append(w - lr * v)` in the loop over `w`.
  for (const a of ev.appended) {
    if (!ev.returnedNames.has(a.list) || params.some((p) => p.eq.key === a.key)) continue;
    const split = splitSelf(a.value, a.key);
    // The weight kept as it is, or shrunk by a decoupled decay 1 − η·λ of scalars that are no state (`p * (1 - lr * wd) - update`).
    if (!split || split.rest.length === 0 || !(polyEquals(split.self, constant(1)) || decoupledShrink(split.self, readsNoEquation(ev.equations)))) continue;
    // A state taken away bare (`advantages.append(r - baseline)`, a residual from a running mean) is no step: a step scales what it applies.
    const bare = (m: Mono): boolean => Math.abs(Math.abs(m.c) - 1) < 1e-12 && m.fs.every((f) => f.atom.k === 'sym' && ev.equations.has(f.atom.key));
    if (split.rest.some((m) => m.fs.length > 0 && bare(m))) continue;
    if (!atomsOf(split.rest).map((x) => x.k === 'sym' && readByOthersOrState(x.key)).some((x) => x)) continue;
    params.push({ eq: { key: a.key, value: a.value, spans: [a.span], order: a.order, last: a.order, target: a.target }, step: split.rest, self: split.self });
  }
  if (transform) params.push(...transformStep(ev, transform, readByOthersOrState));
  else if (params.length === 0) params.push(...returnedUpdate(ev, counterKeys, stateUpdate, readByOthersOrState));
  if (params.length === 0 || states.size === 0) return undefined;
  // States read only by other states that no parameter reads are not part of this step.
  const initial = powerInitials(transform ? transformInitials(transform, inits) : inits, powers);
  const step: OptimizerStep = { fn, states, params, counters: ev.counters, counterSpans: ev.counterSpans, corrections: ev.corrections, initial, epsilon: ev.epsilon, inlined: ev.inlinedAny, doubleReads: ev.doubleReads };
  const squared = [...ev.squares.values()].filter((x) => x.read !== undefined);
  if (squared.length > 0) step.squaredInPlace = squared;
  if (ev.halfPowers.length > 0) step.halfPowers = ev.halfPowers;
  if (ev.countCopies.size > 0) step.countCopies = ev.countCopies;
  if (powers.size > 0) {
    step.powers = new Map();
    for (const [key, beta] of powers) {
      const span = ev.equations.get(powerExponent(key))?.spans[0];
      if (span) step.powers.set(key, { beta, span });
    }
  }
  if (ev.localPowers.size > 0) step.localPowers = ev.localPowers;
  for (const e of real) {
    if (states.has(e.key) || params.some((p) => p.eq.key === e.key) || !params.some((p) => mentions(p.step, e.key))) continue;
    (step.laterStates ??= new Map()).set(e.key, stateUpdate(e));
  }
  frameworkCounter(facts, step, ev.order);
  step.family = familyOf(step);
  return step;
}

/** The exponent e of a running power T = βᵉ: how many times the step has multiplied T by β (never a key the code can write). */
export function powerExponent(key: string): string {
  return `${key}\u0000power`;
}

/** The running power whose exponent this key is, or undefined. */
export function powerOfExponent(key: string): string | undefined {
  return key.endsWith('\u0000power') ? key.slice(0, -'\u0000power'.length) : undefined;
}

/**
 * Values the step rewrites once as T ← T·β, β a symbol the step does not update, and that the file
 * starts at 1 (or at a value it does not write as a number, such as β itself): T is βᵉ. A T the file
 * starts at another number is some other product, and stays a variable.
 */
function runningPowers(ev: Evaluator, inits: (key: string) => number[], startsAt: (key: string, beta: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of ev.equations.values()) {
    if (e.spans.length !== 1 || e.branched || ev.counters.has(e.key) || e.value.length !== 1) continue;
    const [m] = e.value;
    if (m.c !== 1 || m.fs.length !== 2 || m.fs.some((f) => f.n !== 1 || f.atom.k !== 'sym')) continue;
    const own = m.fs.find((f) => f.atom.k === 'sym' && f.atom.key === e.key);
    const other = m.fs.find((f) => f !== own);
    if (!own || !other || other.atom.k !== 'sym' || ev.equations.has(other.atom.key)) continue;
    const start = inits(e.key);
    if (!start.every((v) => v === 1) || (start.length === 0 && !startsAt(e.key, other.atom.key))) continue;
    out.set(e.key, other.atom.key);
  }
  return out;
}

/**
 * Whether the file starts `key` at what it gives `beta` (`self.b1_t = beta1` beside
 * `self.beta1 = beta1`, or `self.b1_t = self.beta1`): the same expression assigned to both, outside the step.
 */
function startsAt(facts: Facts, key: string, beta: string): boolean {
  const sources = (k: string): Set<string> => assignedFrom(facts, k);
  const starts = sources(key);
  if (starts.size === 0) return false;
  if (starts.has(beta)) return [...starts].every((s) => s === beta);
  const given = sources(beta);
  return [...starts].every((s) => given.has(s));
}

/** functionReuse.ts's name for a function's hand-written optimizer steps. */
const STEPS_QUERY = 'optimizerSteps';

/**
 * What one function's evaluation read of the whole file beyond its cone, in order: the numbers the file assigns to a
 * key (`values`, locals of other functions too; `file`: every class's too, as the ε test reads them, `epsilonValues`)
 * and whether it starts a key at a β's value (`startsAt`).
 */
type FileReads = ({ key: string; values: number[]; file?: true } | { key: string; beta: string; starts: boolean })[];

/**
 * The one way a function's evaluation reads the file beyond its cone (functionReuse.ts): the Evaluator and the passes
 * of `analyzeFunction` ask it, never `initialValues` or `startsAt` themselves, so every such lookup is logged in
 * `reads`, in order, as plain data. A "no step" answer is kept with its log, and reused in a new version only when a
 * fresh accessor answers every logged lookup alike there (`answerAlike`): salsa's recorded reads. A new file-wide
 * lookup of the evaluation must be a method here, logged and replayed alike.
 */
class FileLookups {
  readonly reads: FileReads = [];
  private readonly own: (key: string) => number[];
  private readonly inits: (key: string) => number[];

  constructor(
    private readonly facts: Facts,
    fn: FunctionDef,
    inits: (key: string) => number[] = initialValues(facts),
  ) {
    this.inits = inits;
    this.own = initialValuesFor(facts, fn, inits);
  }

  /** The numbers the file assigns to `key` that count for the function (`initialValuesFor`). */
  readonly values = (key: string): number[] => {
    const values = this.own(key);
    this.reads.push({ key, values });
    return values;
  };

  /** Every number the file assigns to `key`, every class's too (the ε test's, `epsilonValues`). */
  readonly fileValues = (key: string): number[] => {
    const values = this.inits(key);
    this.reads.push({ key, values, file: true });
    return values;
  };

  /** Whether the file starts `key` at what it gives `beta` (`startsAt`). */
  readonly startsAt = (key: string, beta: string): boolean => {
    const starts = startsAt(this.facts, key, beta);
    this.reads.push({ key, beta, starts });
    return starts;
  };

  /** Whether every lookup of `reads` (logged in a previous version) answers alike here. */
  answerAlike(reads: FileReads): boolean {
    for (const read of reads) {
      if ('beta' in read) {
        if (startsAt(this.facts, read.key, read.beta) !== read.starts) return false;
      } else {
        const values = read.file ? this.inits(read.key) : this.own(read.key);
        if (values.length !== read.values.length || values.some((v, i) => !Object.is(v, read.values[i]))) return false;
      }
    }
    return true;
  }
}

/** The keys of the plain values the file assigns to `key` (`self.rate = lr` gives lr), anywhere. */
export function assignedFrom(facts: Facts, key: string): Set<string> {
  const out = new Set<string>();
  for (const stmt of programIndex(facts).stmtBySpan.values()) {
    if (stmt.kind !== 'assign' || stmt.op || stmt.targets.length !== 1) continue;
    const t = stmt.targets[0];
    const v = stmt.value;
    if (t.kind === 'seq' && v.kind === 'seq' && v.items.length === t.items.length) {
      t.items.forEach((x, i) => {
        const s = exprKey(v.items[i]);
        if (exprKey(x) === key && s !== undefined) out.add(s);
      });
    } else if (t.kind === 'seq') {
      // `self.b1, self.b2 = betas`: each item is an element of the value, as the step reads it.
      const whole = exprKey(v);
      if (whole !== undefined) t.items.forEach((x, i) => exprKey(x) === key && out.add(`${whole}[${i}]`));
    } else if (exprKey(t) === key) {
      const s = exprKey(v);
      if (s !== undefined) out.add(s);
    }
  }
  return out;
}

/** The initial values with each running power's exponent: 0 where the power starts at 1, unknown otherwise. */
function powerInitials(inits: (key: string) => number[], powers: ReadonlyMap<string, string>): (key: string) => number[] {
  return (key) => {
    const power = powerOfExponent(key);
    if (power === undefined) return inits(key);
    const start = inits(power);
    if (start.length > 0 && start.every((v) => v === 1)) return [0];
    // A running power the file starts at its β (`self.b1_t = beta1`, runningPowers): β¹ before the first multiplication.
    return start.length === 0 && powers.has(power) ? [1] : [];
  };
}

/**
 * A method that returns the update for its caller to apply (`return lr * self.m / np.sqrt(self.v)`,
 * `w = w + opt.update(g)`): the one returned value, when it reads a moving average the function keeps
 * and a bias correction, is the step. Only Adam's shape is read so: which way the caller applies it
 * is not known here, so nothing about its sign or its learning rate is judged (`returned`).
 */
function returnedUpdate(ev: Evaluator, counterKeys: Set<string>, stateUpdate: (e: Equation) => StateUpdate, asState: (key: string) => boolean): ParamUpdate[] {
  if (ev.returned.length !== 1) return [];
  const r = ev.returned[0];
  const atoms = atomsOf(r.value);
  const read = [...new Set(atoms.flatMap((a) => (a.k === 'sym' && ev.equations.has(a.key) && !counterKeys.has(a.key) ? [a.key] : [])))];
  // A helper that returns its velocity for the caller to apply (`delta(key, g)`: `v[key] = lr * g - beta * v[key]; return v[key]`),
  // whose old value is kept with a negative weight: the velocity is the step (NB403 reads its sign).
  // Only the object's own state (`self.buf[name]`, `this.vel[key]`), which outlives the call: not a parameter the function rewrites.
  if (read.length === 1 && /^(?:self|this)[.[]/.test(read[0]) && polyEquals(r.value, sym(read[0]))) {
    const s = stateUpdate(ev.equations.get(read[0])!);
    const n = s.self && numeric(s.self);
    const flipsAndAdds = (w: Poly): boolean => subtractsOldAndAdds(w, read[0]);
    const eq = ev.equations.get(read[0])!;
    const negative = writtenAsArithmetic(ev.facts, eq) && oldValueReadOnce(ev.facts, eq) && s.self !== undefined && !s.max && s.adds.length > 0 && s.adds.every((a) => !atomsOf(a.x).some((x) => x.k === 'sym' && ev.equations.has(x.key))) && (n !== undefined ? n < 0 && n > -1 : s.self.length === 1 && s.self[0].c < 0 && s.self[0].fs.length === 1) && (eq.writes ?? [eq.value]).some(flipsAndAdds);
    if (negative) {
      asState(read[0]);
      const name = `${ev.fn.name}()`;
      return [{ eq: { key: name, value: r.value, spans: [r.span], order: ev.order, last: ev.order, target: { kind: 'name', name, span: r.span } }, step: r.value, self: constant(1), returned: true }];
    }
  }
  if (!read.some((k) => stateUpdate(ev.equations.get(k)!).average)) return [];
  if (!atoms.some((a) => correctionOf(a, ev.epsilon) !== undefined)) return [];
  for (const k of read) asState(k);
  const name = `${ev.fn.name}()`;
  return [{ eq: { key: name, value: r.value, spans: [r.span], order: ev.order, last: ev.order, target: { kind: 'name', name, span: r.span } }, step: r.value, self: constant(1), returned: true }];
}

/**
 * Every write of the equation is an assignment whose value is written with arithmetic operators at its top
 * (`v = lr * g - beta * v`), not a call the evaluation read as arithmetic (`text = re.sub(regex, repl, text)`).
 */
export function writtenAsArithmetic(facts: Facts, eq: Equation): boolean {
  const index = programIndex(facts);
  return eq.spans.every((span) => {
    const st = index.stmtBySpan.get(spanKey(span));
    return st !== undefined && st.kind === 'assign' && (st.value.kind === 'binary' || st.value.kind === 'unary');
  });
}

/** One write both subtracts the old value of `key` and adds a new term (`v = lr * g - beta * v`). */
export function subtractsOldAndAdds(w: Poly, key: string): boolean {
  const split = splitSelf(w, key);
  const k = split && numeric(split.self);
  return split !== undefined && split.rest.length > 0 && (k !== undefined ? k < 0 : split.self.length === 1 && split.self[0].c < 0);
}

/**
 * Every write of the equation reads its old value once, in one term (`v = lr * g - beta * v`, or through a
 * local holding it: `const old = this.vel[key]; this.vel[key] = g - k * old`): a coefficient of the old value
 * that the write states, not one composed of several terms (`z = z + 1.5 * (target - z)`, an over-relaxation
 * whose −0.5 no one wrote).
 */
export function oldValueReadOnce(facts: Facts, eq: Equation): boolean {
  const index = programIndex(facts);
  return eq.spans.every((span) => {
    const st = index.stmtBySpan.get(spanKey(span));
    if (st === undefined || st.kind !== 'assign' || st.targets.length !== 1 || st.op) return false;
    const key = exprKey(st.targets[0]);
    if (key === undefined) return false;
    const fn = index.enclosingFunction(index.scopeAt(st.span.start));
    const holders = new Set<string>();
    if (fn)
      for (const other of ownStatements(fn.body))
        if (other !== st && other.kind === 'assign' && other.targets.length === 1 && other.targets[0].kind === 'name' && subExprs(other.value).some((x) => (x.kind === 'attr' || x.kind === 'index' || x.kind === 'name') && exprKey(x) === key)) holders.add(other.targets[0].name);
    let count = 0;
    for (const x of subExprs(st.value)) if (((x.kind === 'attr' || x.kind === 'index') && exprKey(x) === key) || (x.kind === 'name' && (x.name === key || holders.has(x.name)))) count++;
    return count <= 1;
  });
}

/** T's value at the step's start, as a local computed before T's first write holds it (`keepComputedLocals`). */
function heldKey(key: string): string {
  return `${key}\u0000held`;
}

/** Puts each value a local held from before a write (`heldKey`) back as T, once the writes are composed. */
function resolveHeld(ev: Evaluator): void {
  if (ev.held.size === 0) return;
  const back = (v: Poly): Poly => {
    for (const key of ev.held) if (mentions(v, heldKey(key))) v = substitute(v, heldKey(key), sym(key));
    return v;
  };
  for (const e of ev.equations.values()) {
    e.value = back(e.value);
    if (e.writes) e.writes = e.writes.map(back);
  }
  for (const r of ev.returned) r.value = back(r.value);
  for (const r of ev.transformReturns) r.value = back(r.value);
  for (const list of ev.overwrites.values()) for (const o of list) o.value = back(o.value);
}

/** The key an old value read while its new one waits in a local stands under (never a key the code can write). */
function previousKey(key: string): string {
  return `${key}\u0000previous`;
}

/**
 * Puts each old value read (`previousKey`) back as its state, and says which equations read one:
 * the classification reads every value as the state it is, and the findings know which read the previous step's.
 */
function resolvePrevious(ev: Evaluator): Map<string, NonNullable<ParamUpdate['previous']>> {
  const out = new Map<string, NonNullable<ParamUpdate['previous']>>();
  if (ev.staleReads.size === 0) return out;
  for (const e of ev.equations.values()) {
    for (const [key, at] of ev.staleReads) {
      const old = previousKey(key);
      if (!mentions(e.value, old)) continue;
      e.value = substitute(e.value, old, sym(key));
      const list = out.get(e.key) ?? [];
      list.push({ key, ...at });
      out.set(e.key, list);
    }
  }
  for (const r of ev.returned)
    for (const [key, at] of ev.staleReads) {
      if (!mentions(r.value, previousKey(key))) continue;
      r.value = substitute(r.value, previousKey(key), sym(key));
      (r.previous ??= []).push({ key, ...at });
    }
  for (const r of ev.transformReturns) for (const key of ev.staleReads.keys()) r.value = substitute(r.value, previousKey(key), sym(key));
  return out;
}

// ------------------------------------------------------------------ optax transformations

/**
 * An optax update function `update_fn(updates, state, params=None)` and the init function beside it;
 * or a hand-written function whose returned updates a caller hands to `optax.apply_updates` (no
 * `updates` or `state` argument known: its state is what it returns with named fields).
 */
export interface TransformUpdate {
  updates?: string;
  state?: string;
  params: string;
  /** Where the parameters are named (update_fn's `params` argument, `apply_updates`' first): what a finding calls them. */
  paramsExpr?: Expr;
  init?: FunctionDef;
}

const transformCache = new WeakMap<Facts, Map<FunctionDef, TransformUpdate>>();

/** The file's functions passed as the update of a `GradientTransformation(init_fn, update_fn)`. */
function transformUpdates(facts: Facts): Map<FunctionDef, TransformUpdate> {
  let found = transformCache.get(facts);
  if (found) return found;
  found = new Map();
  const index = programIndex(facts);
  for (const name of GRADIENT_TRANSFORMATION_NAMES)
    for (const site of index.callsNamed(name)) {
      const parts = gradientTransformationParts(site.call);
      const update = parts?.update && localFunction(parts.update, site.scope);
      if (!update || update.params.length < 2) continue;
      const init = parts.init && localFunction(parts.init, site.scope);
      const p = update.params[2];
      found.set(update, { updates: update.params[0].name, state: update.params[1].name, params: p?.name ?? 'params', ...(p ? { paramsExpr: { kind: 'name', name: p.name, span: p.span } } : {}), ...(init ? { init } : {}) });
    }
  // `updates, opt_state = my_adam_update(grads, opt_state)` … `optax.apply_updates(params, updates)`.
  for (const site of index.callsNamed(APPLY_UPDATES)) {
    const applied = appliedUpdates(site.call);
    if (!applied || applied.updates.kind !== 'name') continue;
    const bound = index.unpackedAt(applied.updates.name, site.scope, site.at);
    const source = bound?.position === 0 ? bound.stmt.value : undefined;
    if (source?.kind !== 'call') continue;
    const target = resolveCall(facts.program, source, bound!.scope, source.span.start);
    if (!target || target.constructs || found.has(target.fn) || target.fn.params.length === 0) continue;
    const params = exprKey(applied.params);
    found.set(target.fn, { params: params ?? 'params', paramsExpr: applied.params });
  }
  transformCache.set(facts, found);
  return found;
}

/** The function a name refers to in `scope` or a scope around it (`update_fn` beside the call). */
function localFunction(e: Expr, scope: Scope): FunctionDef | undefined {
  if (e.kind !== 'name') return undefined;
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const fn = s.functions.get(e.name);
    if (fn) return fn;
  }
  return undefined;
}

/** The updates an update function returns, read as the step `apply_updates` takes: params ← params + u. */
function transformStep(ev: Evaluator, t: TransformUpdate, isState: (key: string) => boolean): ParamUpdate[] {
  const out: ParamUpdate[] = [];
  for (const r of ev.transformReturns) {
    if (!atomsOf(r.value).map((a) => a.k === 'sym' && isState(a.key)).some((x) => x)) continue;
    const target: Expr = t.paramsExpr ?? (r.expr.kind === 'name' ? r.expr : { kind: 'name', name: t.params, span: r.span });
    // u = −η·(… + λ·w): the terms in w itself are a decoupled decay, w ← (1 − ηλ)·w + ….
    const split = splitSelf(r.value, t.params);
    const self = split ? add(constant(1), split.self) : constant(1);
    const step = split ? split.rest : r.value;
    out.push({ eq: { key: t.params, value: add(sym(t.params), r.value), spans: [r.span], order: ev.order, last: ev.order, target }, step, self });
  }
  return out;
}

/** A transformation's state as its init function builds it: `ScaleByAdamState(count=jnp.zeros([], jnp.int32), …)` starts `state.count` at 0. */
function transformInitials(t: TransformUpdate, inits: (key: string) => number[]): (key: string) => number[] {
  const zeros = new Set<string>();
  const init = t.init;
  if (init && t.state) {
    const returned = init.returns ? [init.returns] : init.body.flatMap((st) => (st.kind === 'return' && st.value ? [st.value] : []));
    for (const r of returned) {
      for (const f of namedFields(r)) if (zeroValue(f.value) !== undefined) zeros.add(f.object ? `${t.state}[${JSON.stringify(f.name)}]` : `${t.state}.${f.name}`);
      if (r.kind === 'seq') r.items.forEach((x, j) => { if (zeroValue(x) !== undefined) zeros.add(`${t.state}[${j}]`); });
    }
  }
  return (key) => (zeros.has(key) ? [...inits(key), 0] : inits(key));
}

/**
 * A function that returns a field named after one its parameter has and reads (`state.m` read,
 * `return params, AdamState(m=m, …)` or `{"m": m}` returned): it may return its new state, and is
 * evaluated even without a self-update statement.
 */
/**
 * Whether the function returns, under other names, two or more values computed by arithmetic from
 * its arguments (`Vd = beta1 * v + …; Sd = …; var_updated = var - …; return var_updated, Vd, Sd`):
 * new values of arguments its caller stores back, a step `analyzeFunction` may read.
 */
function returnsArgumentVersions(fn: FunctionDef): boolean {
  const args = new Set(fn.params.map((p) => p.name));
  const returned = new Set<string>();
  const defined = new Map<string, Expr>();
  const visit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      // A tuple's items, or an object's entries (`return { params: p2, m: m2, v: v2 }`).
      if (st.kind === 'return' && st.value) {
        const items = st.value.kind === 'seq' ? st.value.items : [st.value];
        for (const item of items.flatMap((x) => (x.kind === 'object' ? x.entries.map((e) => e.value) : [x]))) if (item.kind === 'name') returned.add(item.name);
      }
      if (st.kind === 'assign' && !st.op && st.targets.length === 1 && st.targets[0].kind === 'name') defined.set(st.targets[0].name, st.value);
      if (st.kind === 'for' || st.kind === 'block') visit(st.body);
    }
  };
  visit(fn.body);
  let n = 0;
  for (const name of returned) {
    const value = defined.get(name);
    // Arithmetic, written with operators or as a tensor-method chain (`m.mul(b1).add(g.mul(1 - b1))`).
    const chain = value?.kind === 'call' && value.callee.kind === 'attr' && Object.hasOwn(ARITHMETIC_CALLS, value.callee.name);
    if (value && !args.has(name) && (value.kind === 'binary' || chain) && someExpr(value, (x) => x.kind === 'name' && args.has(x.name))) n++;
  }
  return n >= 2;
}

function returnsNamedState(fn: FunctionDef): boolean {
  const fields: { name: string; object: boolean }[] = [];
  const exprs: Expr[] = [];
  const visit = (stmts: Stmt[]): void => {
    for (const st of stmts) {
      if (st.kind === 'return' && st.value) {
        fields.push(...namedFields(st.value));
        exprs.push(st.value);
      } else if (st.kind === 'assign') exprs.push(st.value);
      else if (st.kind === 'expr') exprs.push(st.expr);
      else if (st.kind === 'for' || st.kind === 'block') visit(st.body);
    }
  };
  visit(fn.body);
  if (fields.length === 0) return false;
  const wanted = new Set<string>();
  for (const p of fn.params) for (const f of fields) wanted.add(f.object ? `${p.name}[${JSON.stringify(f.name)}]` : `${p.name}.${f.name}`);
  return exprs.some((e) => someExpr(e, (x) => (x.kind === 'attr' || x.kind === 'index') && wanted.has(exprKey(x) ?? '')));
}

/** The named fields of a returned value: a constructor's keyword arguments (`State(mu=mu)`, `dict(m=m)`) or a dict literal's entries. */
function namedFields(e: Expr): { name: string; value: Expr; object: boolean }[] {
  if (e.kind === 'seq') return e.items.flatMap(namedFields);
  if (e.kind === 'call' && e.args.length === 0 && e.kwargs.length > 0) {
    // `dict(m=m, v=v)` builds a dict: its fields are keys.
    const object = isDictConstructor(e.callee);
    return e.kwargs.map((k) => ({ name: k.name, value: k.value, object }));
  }
  if (e.kind === 'object') return e.entries.map((k) => ({ name: k.name, value: k.value, object: true }));
  return [];
}

function isOpaque(p: Poly): boolean {
  return p.length === 1 && p[0].c === 1 && p[0].fs.length === 1 && p[0].fs[0].atom.k === 'opaque';
}

// ------------------------------------------------------------------ framework step counters

/**
 * A Keras optimizer's step reads the framework's count, `self.iterations` (catalogue.ts
 * `KERAS_STEP_COUNTER`): 0 on the first step and incremented after it, wherever the code appends
 * its increment. The count is recorded as incremented after the step's last statement and starting
 * at 0, so `1 - beta_1 ** (self.iterations + 1)` is a correction from t = 1, and one of
 * `self.iterations` alone divides by zero on the first step.
 */
function frameworkCounter(facts: Facts, step: OptimizerStep, end: number): void {
  const key = frameworkCounterKey(facts, step.fn);
  if (key === undefined) return;
  step.counters.set(key, end + 1);
  step.frameworkCounters = new Set([key]);
  const initial = step.initial;
  step.initial = (k) => (k === key ? [0] : initial(k));
}

/** `self.iterations` in a method of a Keras optimizer class. */
function frameworkCounterKey(facts: Facts, fn: FunctionDef): string | undefined {
  const self = fn.isMethod ? fn.params[0]?.name : undefined;
  if (!fn.cls || !self || !kerasOptimizerClass(facts, fn.cls, 0)) return undefined;
  return `${self}.${KERAS_STEP_COUNTER}`;
}

/** A class derived from a Keras optimizer, directly or through classes of the project. */
export function kerasOptimizerClass(facts: Facts, cls: ClassDef, depth = 0): boolean {
  if (depth > 4) return false;
  const program = facts.program;
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start);
    if (def?.kind === 'class') {
      if (def.cls !== cls && kerasOptimizerClass(facts, def.cls, depth + 1)) return true;
      continue;
    }
    const parsed = program.parsedOf(b.span);
    if (!parsed) continue;
    const path = frameworkPath(b, cls.outer, cls.span.start, parsed.scopes.imports, parsed.language === 'python' ? 'python' : 'script');
    if (isKerasOptimizerBasePath(path)) return true;
  }
  return false;
}

// ------------------------------------------------------------------ exclusive branches

/** At most this many paths through a function's exclusive branches are evaluated as steps of their own. */
const MAX_PATHS = 16;
/** At most this many evaluation steps (statements and writes, `Evaluator.order`) over all paths of one function. */
const PATH_BUDGET = 4000;
/** A function whose composed evaluation overflowed is split only if it overflowed within this many evaluation steps. */
const PROBE_LIMIT = 400;

/**
 * One function evaluated whole, with the persistent values it overwrites: for the checks that look
 * at values the step carries from one call to the next without rewriting them from themselves
 * (rawStepMomentum.ts). Undefined when the normal form grows past its bound.
 */
export function evaluateWithOverwrites(facts: Facts, fn: FunctionDef): { equations: Map<string, Equation>; overwrites: Map<string, Overwrite[]> } | undefined {
  const ev = new Evaluator(facts, fn);
  try {
    ev.block(fn.body, { values: new Map() });
  } catch (e) {
    if (!(e instanceof PolyOverflow)) throw e;
    return undefined;
  }
  return { equations: ev.equations, overwrites: ev.overwrites };
}

/**
 * A function whose `if … elif … else` branches each write the same persistent value (a trainer with
 * one update per method: `if method == 'adam': … elif method == 'adagrad': … else: …`) holds one
 * step per branch, not their composition. Each path through those branches (the statements before
 * and after them shared) is evaluated on its own, and each path that is an optimizer step yields
 * one. Branches that write different values (`if amsgrad: max(…)`) stay as they are, evaluated together.
 */
function analyzePaths(facts: Facts, fn: FunctionDef, lookups: FileLookups): OptimizerStep[] {
  const handled = handlerPaths(fn.body);
  if (!handled) return analyzeBody(facts, fn, lookups, fn.body);
  // A `try` whose body returns, and its `except`: each is a path of its own (the handler runs from before the body).
  const steps: OptimizerStep[] = [];
  const seen = new Set<string>();
  for (const body of handled)
    for (const step of analyzeBody(facts, fn, lookups, body)) {
      const key = stepKey(step);
      if (seen.has(key)) continue;
      seen.add(key);
      steps.push(step);
    }
  return steps;
}

/** Paths that differ only where the step does not look give the same step: its states' and updates' values and writes. */
function stepKey(step: OptimizerStep): string {
  return [...[...step.states.values()].map((s) => `${s.eq.key}:${polyKey(s.eq.value)}:${s.eq.spans.map((x) => x.start).join(',')}`), ...step.params.map((p) => `${p.eq.key}:${polyKey(p.eq.value)}:${p.eq.spans.map((x) => x.start).join(',')}`)].join('|');
}

/**
 * `try: …; return var, v` then `except TypeError: for …`: the handler runs only when the body raised,
 * so not after the body's return. Read as two paths: the body without its handlers, and the handlers
 * run from the state before the body (which raised before writing anything the step reads: the usual
 * fallback for another type of input). Only for a body that ends in a `return`; undefined when the
 * function has no such `try` (one walk of its statements, nested definitions left out), or more than two.
 */
function handlerPaths(body: Stmt[]): Stmt[][] | undefined {
  let found: { list: Stmt[]; at: number; handlers: number } | undefined;
  let many = false;
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > 30 || many) return;
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i];
      if (s.kind !== 'block' && s.kind !== 'for') continue;
      if (s.kind === 'block' && s.label === 'try' && !s.handler && s.body[s.body.length - 1]?.kind === 'return') {
        let n = 0;
        while (stmts[i + 1 + n]?.kind === 'block' && (stmts[i + 1 + n] as Stmt & { kind: 'block' }).handler) n++;
        if (n > 0) {
          if (found) many = true;
          found = { list: stmts, at: i, handlers: n };
        }
      }
      visit(s.body, depth + 1);
    }
  };
  visit(body, 0);
  if (!found || many) return undefined;
  const { list, at, handlers } = found;
  const replaced = (stmts: Stmt[], by: Stmt[]): Stmt[] => {
    if (stmts === list) return by;
    return stmts.map((s) => (s.kind === 'block' || s.kind === 'for' ? withBody(s, replaced(s.body, by)) : s));
  };
  const withBody = (s: Stmt & { kind: 'block' | 'for' }, b: Stmt[]): Stmt => (b === s.body ? s : { ...s, body: b });
  const bodyPath = [...list.slice(0, at + 1), ...list.slice(at + 1 + handlers)];
  const handlerPath = [...list.slice(0, at), ...list.slice(at + 1, at + 1 + handlers).map((h): Stmt => ({ ...h, label: 'other' } as Stmt)), ...list.slice(at + 1 + handlers)];
  return [replaced(body, bodyPath), replaced(body, handlerPath)];
}

function analyzeBody(facts: Facts, fn: FunctionDef, lookups: FileLookups, fnBody: Stmt[]): OptimizerStep[] {
  let whole = new Evaluator(facts, fn, new Map(), undefined, false, lookups);
  let overflow: PolyOverflow | undefined;
  try {
    whole.block(fnBody, { values: new Map() });
  } catch (e) {
    if (!(e instanceof PolyOverflow)) throw e;
    // Every branch's writes composed into one value can grow past the bound: find where each value is written without composing.
    overflow = e;
    // Only a short function is evaluated again: a long one that overflowed is given up.
    if (whole.order > PROBE_LIMIT) throw e;
    whole = new Evaluator(facts, fn, new Map(), undefined, true, lookups);
    whole.block(fnBody, { values: new Map() });
  }
  // Too few equations to be a step, unless a value stored was set in branches that exclude each other: each path may hold one.
  if (tooFewEquations(whole) && !whole.branchedLocalStored && argumentVersions(whole, argumentNames(fn)).size === 0) return [];
  // A place given the step's value in one branch (`self.grads[i] = lr_t * m / …` under `if optimizer == "adam"`) and
  // another value in another (`self.grads[i] = lr * g`), then applied after the chain, is one step per branch too.
  const writeBranches = new Map(whole.writeBranches);
  for (const key of whole.stateDerivedOverwrites) writeBranches.set(key, [...(writeBranches.get(key) ?? []), ...(whole.overwriteBranches.get(key) ?? [])]);
  // Two single `if`s whose tests negate each other (`if 'buf' in state:` … `if 'buf' not in state:`) are one `if`/`else`.
  const pairs = [...writeBranches.values()].some((stacks) => stacks.length > 1) ? pairedIfs(facts, fnBody) : new Map<Stmt, Stmt>();
  const split = exclusiveChains(writeBranches, pairs, whole.readBranches);
  // Chains of inlined helpers are not statements of the body: a path chooses a branch of each as the helper runs.
  const helperHeads = [...split].filter((s) => whole.helperChains.has(s));
  for (const s of helperHeads) split.delete(s);
  let paths = split.size > 0 ? exclusivePaths(fnBody, split, pairs) : undefined;
  // Each path is evaluated again: a long function with many paths is read as one step instead.
  // After an overflow each path may overflow again: only a short function is split then.
  const budget = overflow ? PATH_BUDGET / 4 : PATH_BUDGET;
  // Conditional expressions split the step only when the statement chains' paths leave room for them.
  if ((!paths || paths.length * whole.order > budget) && [...split].some((s) => conditionalHeads.has(s))) {
    for (const s of [...split]) if (conditionalHeads.has(s)) split.delete(s);
    paths = split.size > 0 ? exclusivePaths(fnBody, split, pairs) : undefined;
  }
  if (paths && paths.length * whole.order > budget) paths = undefined;
  const choiceSets = helperChoices(whole.helperChains, helperHeads, paths?.length ?? 1, whole.order, budget);
  if ((!paths || paths.length < 2) && choiceSets.length < 2) {
    if (overflow) throw overflow;
    const step = analyzeFunction(facts, fn, lookups, fnBody, whole);
    if (step) step.overwrites = whole.overwrites;
    return step ? [step] : [];
  }
  const steps: OptimizerStep[] = [];
  const seen = new Set<string>();
  for (const [body, choices] of (paths ?? [fnBody]).flatMap((b) => choiceSets.map((c) => [b, c] as const))) {
    let step: OptimizerStep | undefined;
    try {
      step = analyzeFunction(facts, fn, lookups, body, undefined, undefined, choices.size > 0 ? choices : undefined);
    } catch (e) {
      if (!(e instanceof PolyOverflow)) throw e;
      // A path that overflows costs the bound's work: the other paths of the function are given up.
      break;
    }
    if (!step) continue;
    // Paths that differ only where the step does not look give the same step once.
    const key = stepKey(step);
    if (seen.has(key)) continue;
    seen.add(key);
    step.overwrites = whole.overwrites;
    steps.push(step);
  }
  return steps;
}

const conditionalChains = new WeakMap<Stmt, (Stmt & { kind: 'block' })[] | null>();
/** The first block of each chain `conditionalChain` made. */
const conditionalHeads = new WeakSet<Stmt>();

/** A tensor's place as written: a name, an attribute or a subscript (`state['exp_avg_sq']`). */
const isPlace = (e: Expr): boolean => e.kind === 'name' || e.kind === 'attr' || e.kind === 'index';

/**
 * `x = a if c else b` (Python), `x = c ? a : b` (JS), choosing between two places, as the `if`/`else` chain it is, `if c: x = a` /
 * `else: x = b`, so a local aliasing one of two persistent tensors (`exp_avg_sq_hat = state['max_exp_avg_sq']
 * if amsgrad else state['exp_avg_sq']`) splits the step into paths as the statement form does. The same
 * blocks every time (the paths are keyed by them). Undefined for any other statement, and for a
 * conditional that computes a value on either side (`mul if flag else 1.0`: a setting, not an alias,
 * which would multiply the paths of a trainer's `if method == …` chain past their bound).
 */
function conditionalChain(s: Stmt): (Stmt & { kind: 'block' })[] | undefined {
  if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name' || s.value.kind !== 'cond') return undefined;
  let chain = conditionalChains.get(s);
  if (chain === undefined) {
    const v = s.value;
    chain = !isPlace(v.then) || !isPlace(v.else) || isNoneLiteral(v.else) || isNoneLiteral(v.then) ? null : [
      { kind: 'block', label: 'if', heads: [v.test], body: [{ ...s, value: v.then }], span: s.span },
      { kind: 'block', label: 'if', heads: [], body: [{ ...s, value: v.else }], span: { start: s.span.start + 1, end: s.span.end } },
    ];
    if (chain) conditionalHeads.add(chain[0]);
    conditionalChains.set(s, chain);
  }
  return chain ?? undefined;
}

/**
 * The single `if`s of a function's statement lists (its own, not nested definitions') that complement
 * another one of the same list (complementaryIfs.ts), both ways: a later `if` → the earlier one, and the
 * earlier one → the later. Exactly one of the two bodies runs, as the two branches of an `if`/`else`.
 */
function pairedIfs(facts: Facts, body: Stmt[]): Map<Stmt, Stmt> {
  const pairs = new Map<Stmt, Stmt>();
  const visit = (stmts: readonly Stmt[], depth: number): void => {
    if (depth > 30) return;
    let singles = 0;
    for (const s of stmts) {
      if (s.kind === 'block' && s.label === 'if' && s.heads.length === 1) singles++;
      if (s.kind === 'block' || s.kind === 'for') visit(s.body, depth + 1);
    }
    if (singles < 2) return;
    for (const [later, first] of complementaryIfs(stmts)) {
      pairs.set(later, first);
      pairs.set(first, later);
    }
  };
  visit(body, 0);
  return pairs;
}

/**
 * The `if` block that starts each chain in which two branches write the same persistent value; also
 * the first of two paired single `if`s (`pairs`) whose bodies both write it.
 */
function exclusiveChains(writeBranches: Map<string, Stmt[][]>, pairs: Map<Stmt, Stmt>, readBranches?: Map<string, Stmt[][]>): Set<Stmt> {
  // Each `if` block seen around a write, and the chains they belong to, found from their spans:
  // an `elif`/`else` block lies inside the span of the `if` that starts its chain.
  const split = new Set<Stmt>();
  const exclusive = (a: Stmt[], b: Stmt[]): void => {
    // The first level where the two writes sit in different blocks: exclusive when one chain holds both.
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    if (k >= a.length || k >= b.length) return;
    const x = a[k];
    const y = b[k];
    const [first, later] = x.span.start <= y.span.start ? [x, y] : [y, x];
    if ((later.span.start > first.span.start && later.span.end <= first.span.end) || pairs.get(later) === first) split.add(first);
  };
  for (const stacks of writeBranches.values()) {
    if (stacks.length < 2) continue;
    for (let i = 0; i < stacks.length; i++) for (let j = i + 1; j < stacks.length; j++) exclusive(stacks[i], stacks[j]);
  }
  // A value written in one branch and read by a write in another (`if decouple: p.mul_(…)` /
  // `elif wd > 0: grad.add_(p, alpha=wd)`): run in sequence, the read would see a write that never precedes it.
  for (const [key, reads] of readBranches ?? []) {
    const writes = writeBranches.get(key) ?? [];
    for (const w of writes) for (const r of reads) exclusive(w, r);
  }
  return split;
}

/**
 * The branch choices of the helper chains in `heads`, one map per path (the branch's index), when
 * all of them with the body's `bodyPaths` stay within MAX_PATHS and the evaluation budget; else the
 * one empty choice (each helper runs every branch, as before). The path through none of a chain's
 * branches (no `else`) is left out: each branch's path runs the rest of the step too, and a decay
 * helper's two branches already double the step's paths. `Evaluator.block` reads −1 as that path.
 */
function helperChoices(chains: Map<Stmt, (Stmt & { kind: 'block' })[]>, heads: Stmt[], bodyPaths: number, order: number, budget: number): Map<Stmt, number>[] {
  let sets: Map<Stmt, number>[] = [new Map()];
  for (const head of heads) {
    const chain = chains.get(head)!;
    const alts = chain.map((_, k) => k);
    sets = sets.flatMap((c) => alts.map((a) => new Map([...c, [head, a]])));
    if (sets.length * bodyPaths > MAX_PATHS || sets.length * bodyPaths * order > budget) return [new Map()];
  }
  return sets;
}

const chosenBranches = new WeakMap<Stmt, Stmt>();
/** One branch of a chain run on its own: a plain block with its condition kept for evaluation (the same block every time). */
function chosenBranch(b: Stmt & { kind: 'block' }): Stmt {
  let chosen = chosenBranches.get(b);
  if (!chosen) chosenBranches.set(b, (chosen = { kind: 'block', label: 'other', heads: b.heads, body: b.body, span: b.span }));
  return chosen;
}

/**
 * The statement lists of each path through the chains in `split`: each chain replaced by one of its
 * branches (a plain block, its condition kept for evaluation) or, without an `else`, by nothing; a
 * paired single `if` (`pairs`) and its partner later in the list by the first's body and no partner,
 * or by no first and the partner's body, with the statements between them kept on both paths.
 * Undefined past MAX_PATHS.
 */
function exclusivePaths(body: Stmt[], split: Set<Stmt>, pairs: Map<Stmt, Stmt>): Stmt[][] | undefined {
  let overflow = false;
  const product = (acc: Stmt[][], alts: Stmt[][]): Stmt[][] => {
    if (acc.length * alts.length > MAX_PATHS) {
      overflow = true;
      return acc;
    }
    return acc.flatMap((a) => alts.map((b) => [...a, ...b]));
  };
  const variants = (stmts: Stmt[]): Stmt[][] => {
    let acc: Stmt[][] = [[]];
    for (let i = 0; i < stmts.length && !overflow; i++) {
      const s = stmts[i];
      const later = s.kind === 'block' && s.label === 'if' && split.has(s) ? pairs.get(s) : undefined;
      const at = later !== undefined && later.kind === 'block' ? stmts.indexOf(later, i + 1) : -1;
      if (at > i && s.kind === 'block' && later!.kind === 'block') {
        const rest = stmts.slice(i + 1);
        const other = (b: Stmt & { kind: 'block' }, v: Stmt[]): Stmt => ({ kind: 'block', label: 'other', heads: b.heads, body: v, span: b.span });
        // The first body runs and the partner does not; or the partner runs (a plain block) and the first does not.
        const firstRuns = product(variants(s.body).map((v) => [other(s, v)]), variants(rest.filter((x) => x !== later)));
        const laterRuns = variants(rest.map((x) => (x === later ? { ...later, label: 'other' } : x)));
        acc = product(acc, [...firstRuns, ...laterRuns]);
        break;
      }
      if (s.kind === 'block' && s.label === 'if' && split.has(s)) {
        const chain = ifChainAt(stmts, i);
        i += chain.length - 1;
        const alts: Stmt[][] = [];
        for (const b of chain) for (const v of variants(b.body)) alts.push([{ kind: 'block', label: 'other', heads: b.heads, body: v, span: b.span }]);
        if (chain[chain.length - 1].heads.length > 0) alts.push([]);
        acc = product(acc, alts);
        continue;
      }
      const conditional = conditionalChain(s);
      if (conditional && split.has(conditional[0])) {
        acc = product(acc, conditional.map((b) => [{ kind: 'block', label: 'other', heads: b.heads, body: b.body, span: b.span }]));
        continue;
      }
      if (s.kind === 'for' || s.kind === 'block') {
        const vs = variants(s.body);
        acc = vs.length === 1 ? acc.map((a) => [...a, vs[0] === s.body ? s : { ...s, body: vs[0] }]) : product(acc, vs.map((v) => [{ ...s, body: v }]));
        continue;
      }
      // `layers.forEach((layer) => { if … else … })`: the callback's branches.
      if (s.kind === 'expr' && s.expr.kind === 'call') {
        const call = s.expr;
        const at = call.args.findIndex((a) => a.kind === 'lambda' && a.stmts.length > 0);
        const lambda = at >= 0 ? (call.args[at] as Expr & { kind: 'lambda' }) : undefined;
        const vs = lambda ? variants(lambda.stmts) : [];
        if (lambda && vs.length > 1) {
          const alts = vs.map((v) => [{ ...s, expr: { ...call, args: call.args.map((a, k) => (k === at ? { ...lambda, stmts: v } : a)) } }]);
          acc = product(acc, alts);
          continue;
        }
      }
      acc = acc.map((a) => [...a, s]);
    }
    // Variants of a list with no split chain are the list itself.
    return acc.length === 1 && acc[0].length === stmts.length && acc[0].every((x, k) => x === stmts[k]) ? [stmts] : acc;
  };
  const paths = variants(body);
  return overflow ? undefined : paths;
}

/**
 * `this.m.set(p, v)` in JS/TS code, on a container and not a module: the Map's entry it writes and the
 * value (catalogue.ts `entryWriteBySet`); undefined for anything else (Python's `d.set`, `api.set`).
 */
export function mapEntryWrite(facts: Facts, e: Expr & { kind: 'call' }): ReturnType<typeof entryWriteBySet> {
  return e.callee.kind === 'attr' && !facts.analyzer.isModule(e.callee.object) && facts.analyzer.program.parsedOf(e.span)?.language !== 'python' ? entryWriteBySet(e) : undefined;
}

/** The entry nodes of `map.set(k, v)` calls the steps read as writes: a state whose target is one is a JS Map's entry. */
const ENTRIES_WRITTEN_BY_SET = new WeakSet<Expr>();

/** A state's target that is a JS Map's entry written by `map.set(k, …)`: the map and the key; undefined for any other target. */
export function entryOfMapSet(target: Expr): { map: Expr; key: Expr } | undefined {
  return target.kind === 'index' && target.index.length === 1 && ENTRIES_WRITTEN_BY_SET.has(target) ? { map: target.object, key: target.index[0] } : undefined;
}

/** Splits v into a·T + rest, when T's old value enters only as a plain factor. */
export function splitSelf(v: Poly, key: string): { self: Poly; rest: Poly } | undefined {
  const self: Mono[] = [];
  const rest: Mono[] = [];
  for (const m of v) {
    const own = m.fs.find((f) => f.atom.k === 'sym' && f.atom.key === key);
    if (own) {
      if (own.n !== 1) return undefined;
      self.push({ c: m.c, fs: m.fs.filter((f) => f !== own) });
    } else {
      if (m.fs.some((f) => mentions([{ c: 1, fs: [f] }], key))) return undefined;
      rest.push(m);
    }
  }
  return { self: add([], self), rest: add([], rest) };
}

function stateUpdateOf(eq: Equation, betas: Set<string>, epsilon?: EpsilonTest): StateUpdate {
  const split = splitSelf(eq.value, eq.key);
  const max = !split && eq.value.length >= 1 && eq.value.some((m) => m.fs.some((f) => f.atom.k === 'fn' && f.atom.fn === 'max' && f.atom.args.some((a) => mentions(a, eq.key))));
  if (!split) return { eq, adds: [], average: false, max };
  const beta = linearSymbol(split.self);
  const scalars = new Set(betas);
  const adds = groupByTensor(split.rest, scalars);
  const oneMinusA = sub(constant(1), split.self);
  const average = adds.length > 0 && adds.every((x) => proportional(x.b, oneMinusA) !== undefined);
  if (!average && beta !== undefined && epsilon) {
    // `(1 - beta1 + eps) * g`: ε added to the weight as to a correction, a moving average still (its weight read without ε).
    const epsKeys = atomsOf(split.rest).flatMap((a) => (a.k === 'sym' && !scalars.has(a.key) && epsilon(a.key) ? [a.key] : []));
    const grouped = groupByTensor(split.rest, new Set([...scalars, ...epsKeys])).map((x) => ({ x: x.x, b: withoutEpsilon(x.b, oneMinusA, epsilon) }));
    if (grouped.length > 0 && grouped.every((x) => proportional(x.b, oneMinusA) !== undefined)) return { eq, self: split.self, adds: grouped, beta, average: true, max: false };
  }
  return { eq, self: split.self, adds, beta, average, max: false };
}

/**
 * k·(1 − a) for a weight k·(1 − a) + ε, ε a number up to EPSILON_BOUND·k or a symbol `epsilon` says
 * is one (`1 - beta1 + eps`); the weight as it is otherwise.
 */
function withoutEpsilon(b: Poly, oneMinusA: Poly, epsilon: EpsilonTest): Poly {
  const lead = oneMinusA.find((m) => m.fs.length > 0);
  const mine = lead && b.find((m) => monoKeyOf(m) === monoKeyOf(lead));
  if (!lead || !mine) return b;
  const k = mine.c / lead.c;
  if (!(k > 0)) return b;
  const weight = scale(oneMinusA, k);
  const rest = sub(b, weight);
  if (rest.length !== 1 || rest[0].c <= 0) return b;
  const [r] = rest;
  const small = r.fs.length === 0 ? r.c <= EPSILON_BOUND * k : r.fs.length === 1 && r.fs[0].n === 1 && r.fs[0].atom.k === 'sym' && epsilon(r.fs[0].atom.key);
  return small ? weight : b;
}

/** a = c₀ + c₁·β with one variable β: its key. */
export function linearSymbol(a: Poly): string | undefined {
  let beta: string | undefined;
  for (const m of a) {
    if (m.fs.length === 0) continue;
    if (m.fs.length !== 1 || m.fs[0].n !== 1 || m.fs[0].atom.k !== 'sym' || beta !== undefined) return undefined;
    beta = m.fs[0].atom.key;
  }
  return beta;
}

/** The terms of p grouped by their tensor part X (the factors that are not among `scalars`), each with its scalar coefficient. */
export function groupByTensor(p: Poly, scalars: Set<string>): { x: Poly; b: Poly }[] {
  const groups = new Map<string, { x: Poly; b: Mono[] }>();
  for (const m of p) {
    const sc: PolyFactor[] = [];
    const tf: PolyFactor[] = [];
    for (const f of m.fs) (f.atom.k === 'sym' && scalars.has(f.atom.key) ? sc : tf).push(f);
    const x: Poly = [{ c: 1, fs: tf }];
    const k = polyKey(x);
    const g = groups.get(k);
    const b: Mono = { c: m.c, fs: sc };
    if (g) g.b.push(b);
    else groups.set(k, { x, b: [b] });
  }
  return [...groups.values()].map((g) => ({ x: g.x, b: add([], g.b) }));
}

/** k with a = k·b, for sums of monomials; undefined when a is not a constant multiple of b. */
export function proportional(a: Poly, b: Poly): number | undefined {
  if (a.length === 0 || b.length === 0 || a.length !== b.length) return undefined;
  const k = a[0].c / (b.find((m) => monoKeyOf(m) === monoKeyOf(a[0]))?.c ?? NaN);
  if (!Number.isFinite(k)) return undefined;
  return polyEquals(a, scale(b, k)) ? k : undefined;
}

function monoKeyOf(m: Mono): string {
  return polyKey([{ c: 1, fs: m.fs }]);
}

// ------------------------------------------------------------------ what a parameter step reads

/** A monomial of a parameter's step: its numerator states, its denominators, its corrections. */
export interface StepTerm {
  mono: Mono;
  /** States multiplied in (m in `lr·m/(√v + ε)`), with their power. */
  numerator: { key: string; n: number }[];
  /** States in a denominator: under a √ or not. */
  denominator: { key: string; sqrt: boolean; factor: PolyFactor; inner?: Mono }[];
  /** Bias corrections in the term: power −1 (÷(1−βᵗ)), ½ (×√(1−βᵗ)), −½; and whether they sit with a denominator state. */
  corrections: { beta: string; exp?: Poly; eps?: string; power: number; inDenominator: boolean; key: string }[];
}

export function stepTerms(step: OptimizerStep, p: ParamUpdate): StepTerm[] {
  return termsOf(step, p.step);
}

/**
 * The terms of a value a term bounds as a whole: c·clip(X, lo, hi) with no state outside the clip
 * (`np.clip(update, -10, 10)`) is read as X's terms, each with the term's own corrections beside it.
 * A clip of part of the step (AdaBound's clipped step size times m̂) is not.
 */
export function boundedTerms(step: OptimizerStep, term: StepTerm): StepTerm[] {
  if (term.numerator.length > 0 || term.denominator.length > 0) return [];
  const clips = term.mono.fs.filter((f) => f.n === 1 && f.atom.k === 'fn' && f.atom.fn === 'clip' && f.atom.args.length > 0);
  if (clips.length !== 1) return [];
  const clip = clips[0].atom as Atom & { k: 'fn' };
  return termsOf(step, clip.args[0]).map((t) => ({ ...t, corrections: [...term.corrections, ...t.corrections] }));
}

function termsOf(step: OptimizerStep, poly: Poly): StepTerm[] {
  const isState = (k: string): boolean => step.states.has(k);
  const eps = step.epsilon;
  return poly.map((mono) => {
    const t: StepTerm = { mono, numerator: [], denominator: [], corrections: [] };
    for (const f of mono.fs) {
      const a = f.atom;
      if (a.k === 'sym' && isState(a.key)) {
        if (f.n > 0) t.numerator.push({ key: a.key, n: f.n });
        else t.denominator.push({ key: a.key, sqrt: false, factor: f });
        continue;
      }
      const c = correctionOf(a, eps);
      if (c) {
        t.corrections.push({ ...c.shape, power: c.power * f.n, inDenominator: false, key: c.key });
        continue;
      }
      if (a.k === 'fn' && a.fn === 'sqrt' && f.n < 0) {
        // 1/√v, 1/√(v̂ + ε): ε inside the root.
        for (const inner of a.args[0])
          for (const g of inner.fs) {
            if (g.atom.k === 'sym' && isState(g.atom.key) && g.n > 0) t.denominator.push({ key: g.atom.key, sqrt: true, factor: f, ...(a.args[0].length > 1 ? { inner } : {}) });
            const gc = correctionOf(g.atom, eps);
            if (gc) t.corrections.push({ ...gc.shape, power: -gc.power * g.n * 0.5, inDenominator: true, key: gc.key });
          }
        continue;
      }
      if (a.k === 'inv' && f.n > 0) {
        // 1 / (√v̂ + ε), 1 / (v + ε), 1 / (√v·c + ε): the states inside, and the corrections beside them.
        // A correction every monomial of the sum holds is one factor of the sum, counted once:
        // lr / (c1 / √c2) expands to 1 / (1/√c2 − β₁ᵗ/√c2), which is √c2 / (1 − β₁ᵗ).
        const common = a.arg.length > 1 ? commonFactors(a.arg).filter((g) => correctionOf(g.atom, eps)) : [];
        const shared = new Set(common.map((g) => g.key));
        for (const inner of a.arg) {
          for (const g of inner.fs) {
            const b = g.atom;
            if (b.k === 'sym' && isState(b.key) && g.n > 0) t.denominator.push({ key: b.key, sqrt: false, factor: f, inner });
            if (b.k === 'fn' && b.fn === 'sqrt' && g.n > 0)
              for (const arg of b.args[0])
                for (const h of arg.fs) {
                  if (h.atom.k === 'sym' && isState(h.atom.key) && h.n > 0) t.denominator.push({ key: h.atom.key, sqrt: true, factor: f, inner });
                  const hc = correctionOf(h.atom, eps);
                  if (hc) t.corrections.push({ ...hc.shape, power: -hc.power * h.n * 0.5, inDenominator: true, key: hc.key });
                }
            const c2 = shared.has(g.key) ? undefined : correctionOf(b, eps);
            if (c2) t.corrections.push({ ...c2.shape, power: -c2.power * g.n, inDenominator: true, key: c2.key });
          }
        }
        for (const g of common) {
          const c2 = correctionOf(g.atom, eps)!;
          t.corrections.push({ ...c2.shape, power: -c2.power * g.n * f.n, inDenominator: false, key: c2.key });
        }
        // What is left once they are divided out may itself be a correction: 1 / (1 − β₁ᵗ).
        const rest = common.length > 0 ? a.arg.map((m) => ({ c: m.c, fs: m.fs.filter((g) => !shared.has(g.key)) })) : undefined;
        const restShape = rest && correctionShape(rest, eps);
        if (rest && restShape) t.corrections.push({ ...restShape, power: -f.n, inDenominator: false, key: polyKey(rest) });
      }
    }
    return t;
  });
}

/** The factors every monomial of a sum holds, with the same power. */
function commonFactors(p: Poly): PolyFactor[] {
  const [first, ...others] = p;
  if (!first) return [];
  return first.fs.filter((g) => others.every((m) => m.fs.some((h) => h.key === g.key && h.n === g.n)));
}

/**
 * (1 − βᵗ) as an atom: inv(1 − βᵗ) is power −1, √(1 − βᵗ) is ½; a root of a root, √√(1 − βᵗ), is ¼
 * (a correction taken under the square root twice), and (1 − βᵗ) ** 0.25 is ¼ too.
 */
export function correctionOf(a: Atom, epsilon?: EpsilonTest, depth = 0): { shape: CorrectionShape; power: number; key: string } | undefined {
  if (depth > 4) return undefined;
  if (a.k === 'inv') {
    const s = correctionShape(a.arg, epsilon);
    return s && { shape: s, power: -1, key: polyKey(a.arg) };
  }
  if (a.k === 'pow') {
    // A numeric power that is neither whole nor a half stays an atom (poly.ts `pow`).
    const e = numeric(a.exp);
    const s = e === undefined ? undefined : correctionShape(a.base, epsilon);
    return s && { shape: s, power: e!, key: polyKey(a.base) };
  }
  if (a.k === 'fn' && a.fn === 'sqrt' && a.args.length === 1) {
    const s = correctionShape(a.args[0], epsilon);
    if (s) return { shape: s, power: 0.5, key: polyKey(a.args[0]) };
    const inner = a.args[0].length === 1 && a.args[0][0].fs.length === 1 ? a.args[0][0].fs[0] : undefined;
    if (inner && inner.atom.k === 'inv') {
      const s2 = correctionShape(inner.atom.arg, epsilon);
      return s2 && { shape: s2, power: -0.5 * inner.n, key: polyKey(inner.atom.arg) };
    }
    if (inner && inner.atom.k !== 'sym') {
      const nested = correctionOf(inner.atom, epsilon, depth + 1);
      return nested && { shape: nested.shape, power: 0.5 * nested.power * inner.n, key: nested.key };
    }
  }
  return undefined;
}

/** Where a correction is written: its first occurrence in the function. */
/** Where a correction is written: the first place, or the last one before `before` (an order of evaluation). */
export function correctionSite(step: OptimizerStep, key: string, before?: number): Correction | undefined {
  const all = step.corrections.filter((c) => c.key === key);
  if (before === undefined) return all[0];
  return all.filter((c) => c.order < before).pop() ?? all[0];
}

/** The tensor parts a state adds, with their factors (g, g², |g|). */
export function squaredBase(x: Poly): string | undefined {
  if (x.length !== 1) return undefined;
  const sq = x[0].fs.filter((f) => f.n === 2);
  return sq.length === 1 && x[0].fs.length === 1 ? sq[0].key : undefined;
}

// ------------------------------------------------------------------ families

/** The algorithm a step's structure matches, up to algebraic equivalence. */
function familyOf(step: OptimizerStep): string | undefined {
  const states = [...step.states.values()];
  const terms = step.params.flatMap((p) => stepTerms(step, p));
  const sqrtDen = terms.some((t) => t.denominator.some((d) => d.sqrt));
  const sign = step.params.some((p) => p.step.some((m) => m.fs.some((f) => f.atom.k === 'fn' && f.atom.fn === 'sign')));
  const averages = states.filter((s) => s.average);
  const corrected = step.corrections.some((c) => c.exp !== undefined);
  const decoupled = step.params.some((p) => p.self.length > 1 || (p.self.length === 1 && !polyEquals(p.self, constant(1))));
  if (sign && averages.length > 0) return 'Lion';
  if (states.some((s) => s.max)) return runningMaxFamily(step, states);
  // AdaDelta: the step multiplies by √(D + ε), D a value the step keeps (the RMS of past updates), over a √ of state.
  const kept = [...step.states.keys(), ...(step.laterStates?.keys() ?? [])];
  if (sqrtDen && terms.some((t) => t.mono.fs.some((f) => f.n > 0 && f.atom.k === 'fn' && f.atom.fn === 'sqrt' && f.atom.args.some((x) => kept.some((k) => mentions(x, k)))))) return 'AdaDelta';
  if (sqrtDen && averages.length >= 2 && corrected) return decoupled ? 'AdamW' : 'Adam';
  if (sqrtDen && averages.length >= 3) return 'RMSprop (centred)';
  if (sqrtDen && averages.length >= 1) return states.length >= 2 ? 'RMSprop with momentum' : 'RMSprop';
  if (sqrtDen) return 'AdaGrad';
  if (states.length >= 1) return 'SGD with momentum';
  return undefined;
}

/**
 * A step that keeps a running maximum, named by its whole update and not by the maximum alone:
 * AMSGrad keeps max(v̂, v), the old maximum itself against an average of g², and divides by its
 * root; Adamax keeps max(β₂·u, |g|), the old value weighted against the gradient's magnitude, and
 * divides by it directly. Any other mix is neither, and gets no name.
 */
function runningMaxFamily(step: OptimizerStep, states: StateUpdate[]): string | undefined {
  for (const s of states) {
    if (!s.max) continue;
    const kept = runningMaxShape(step, s);
    const read = howStepDivides(step, s.eq.key);
    if (kept === 'second' && read === 'root') return 'AMSGrad';
    if (kept === 'infinity' && read === 'direct') return 'Adamax';
  }
  return undefined;
}

/** `second`: S ← max(S, v) with v an average of g² (its state, or its value inlined); `infinity`: S ← max(a·S, |g|). */
function runningMaxShape(step: OptimizerStep, s: StateUpdate): 'second' | 'infinity' | undefined {
  const v = s.eq.value;
  const key = s.eq.key;
  // One max(·,·), times scalars that read no state (a correction stored with it is NB401's mistake, still this family's).
  const maxes = v.length === 1 && v[0].c > 0 ? v[0].fs.filter((f) => f.n === 1 && f.atom.k === 'fn' && f.atom.fn === 'max') : [];
  if (maxes.length !== 1 || v[0].fs.some((f) => f !== maxes[0] && [...step.states.keys()].some((k) => mentions([{ c: 1, fs: [f] }], k)))) return undefined;
  const atom = maxes[0].atom;
  if (atom.k !== 'fn' || atom.args.length !== 2) return undefined;
  const own = atom.args.filter((x) => x.length === 1 && x[0].fs.some((f) => f.atom.k === 'sym' && f.atom.key === key && f.n === 1));
  if (own.length === 0) return undefined;
  const mine = own[0];
  const other = atom.args[0] === mine ? atom.args[1] : atom.args[0];
  const bare = mine[0].c === 1 && mine[0].fs.length === 1;
  const squares = (x: Poly): boolean => x.some((m) => m.fs.some((f) => f.n === 2 && !(f.atom.k === 'sym' && step.states.has(f.atom.key))));
  const averagesSquares = (x: Poly): boolean => {
    if (squares(x)) return true;
    // Another state that averages g², read as it is or bias-corrected (v / (1 − β₂ᵗ)).
    return [...step.states.values()].some((st) => st.eq.key !== key && st.adds.some((a) => squaredBase(a.x) !== undefined || squares(a.x)) && mentions(x, st.eq.key));
  };
  if (bare && averagesSquares(other)) return 'second';
  const weighted = !bare && mine[0].fs.every((f) => f.atom.k === 'sym' && (f.atom.key === key || !step.states.has(f.atom.key)));
  const magnitude = other.some((m) => m.fs.some((f) => f.n === 1 && f.atom.k === 'fn' && f.atom.fn === 'abs'));
  return weighted && magnitude ? 'infinity' : undefined;
}

/** How the parameter's step divides by the value of `key`: under a square root, or directly. */
export function howStepDivides(step: OptimizerStep, key: string): 'root' | 'direct' | undefined {
  let root = false;
  let direct = false;
  const divisor = (f: { atom: Atom; n: number }): void => {
    const a = f.atom;
    if (a.k === 'sym') direct ||= a.key === key;
    else if (a.k === 'fn' && a.fn === 'sqrt') root ||= a.args.some((x) => mentions(x, key));
    else if (a.k === 'fn') direct ||= a.args.some((x) => mentions(x, key));
  };
  for (const p of step.params)
    for (const m of p.step)
      for (const f of m.fs) {
        if (f.n < 0) divisor(f);
        else if (f.atom.k === 'inv') for (const inner of f.atom.arg) for (const g of inner.fs) if (g.n > 0) divisor(g);
      }
  return root ? 'root' : direct ? 'direct' : undefined;
}

export { numeric, atomKey };

/**
 * 1 − Σ (products of scalars), the old value's weight under a decoupled decay (1 − η·λ in
 * `p - lr * (m_hat / … + wd * p)`): one, less terms whose every factor the caller calls a scalar.
 */
export function decoupledShrink(self: Poly, scalar: (f: PolyFactor) => boolean): boolean {
  const one = self.find((m) => m.fs.length === 0);
  if (!one || !near(one.c, 1) || self.length < 2) return false;
  return self.every((m) => m.fs.length === 0 || (m.c < 0 && m.fs.every(scalar)));
}

/** Scalars of any form (a schedule's `lr * decay ** t`, an opaque call) that read no equation of the step. */
function readsNoEquation(equations: ReadonlyMap<string, unknown>): (f: PolyFactor) => boolean {
  const keys = [...equations.keys()];
  return (f) => f.n === 1 && (f.atom.k === 'sym' ? !equations.has(f.atom.key) : !keys.some((k) => mentions([{ c: 1, fs: [f] }], k)));
}
