// Optimizer state whose new value is never stored (NB407). A hand-written step computes a moving
// average (momentum, Adam's moments, RMSprop's cache) from the state where it is kept, T_new =
// a·S + b·X, into a local or a loop variable, and never writes it back: every step then starts from
// S's first value. Each function is evaluated in order into the normal form of optimizerSteps.ts
// (server/math/poly.ts): a local holds a polynomial over the places it read, and the new value is an
// atom of its own, so where it flows (a store, a return, a call, a parameter's update) is read off
// the polynomials by data flow. No name decides anything here.
import type { Expr, Span, Stmt } from '../ir';
import { TEST_OPERATORS } from '../ir';
import type { Facts } from './index';
import { forEachChild, ifChainAt, someExpr, type FunctionDef } from './scope';
import { isSelfName, resolveCall } from './resolve';
import { programIndex, definedInFile, walkAll } from './program';
import { foundNothing, foundNothingBefore } from '../functionReuse';
import { exprKey } from './keys';
import { trimSpan } from './steps';
import { isHyperparameterKey, isHyperparameterName, isLearningRateName } from './roles';
import { CONSTRUCTOR_METHODS, DICT_GET_METHOD, SCALAR_FUNCTIONS, zeroTypedArray, isDictConstructor, isNoneLiteral, isSequenceCopy, LIST_APPEND_METHODS, loopSource, nestedIterable, stepCall, zeroValue, type StepMath } from './catalogue';
import { decoupledShrink, groupByTensor, proportional, splitSelf } from './optimizerSteps';
import { absenceTested, complementaryIfs } from './complementaryIfs';
import { PolyOverflow, add, applyBinary, atomPoly, atomsOf, constant, div, fn as fnPoly, mentions, mul, numeric, polyKey, scale, sqrt, sub, sym, type Poly, type PolyFactor } from '../../math/poly';

export interface UnstoredState {
  /** The statement that computes the new value. */
  span: Span;
  /** The local (or loop variable) that holds it. */
  local: string;
  /** The place the state is read from, as written (`self.v`, `state[name]["m"]`, or the list a loop walks). */
  place: string;
  /** The state is an element of the list a loop walks (`for m, g in zip(self.ms, grads)`). */
  element: boolean;
  /** The weight of the old value, as written where it is a name (`self.beta1`), or a number. */
  weight: string;
  /** Where another write of an instance's state would keep it up to date: the class, or the file when the class has bases. */
  within: Span;
  /**
   * The new value is written back, but the parameter's update in the same function steps by the
   * term the state adds (`w - g` beside `v = mu * v + lr * g`) and reads neither the state nor its
   * new value: the update the state was computed for. Absent when the new value is never stored.
   */
  unused?: { step: Span; term: string; fn: Span };
  /** A write of the place with its own old value, copied (`self.ms = [m for m in self.ms]`), which stores nothing new. */
  copied?: Span;
  /**
   * A momentum sum read straight from its place (`vb = mu * self.vb[i] - lr * gb[i]`), reported only
   * beside a sibling sum of the same weight in the same loop that the step does store (`self.vw[i] = vw`):
   * that store, and the sibling's place.
   */
  sibling?: { place: string; store: Span };
  /** A write that gives the place its zero start before the new value is computed (a lazy init), which stores nothing of it. */
  started?: Span;
  /** That write is the first step's value, in another branch of an `if` chain than the new value (`else: st['avg'] = g`). */
  startedElsewhere?: true;
  /** That write runs only while the place has no value (`if 'buf' not in st: st['buf'] = g`): the first step's value, whatever it is. */
  startedWhileAbsent?: true;
  /**
   * The new value is a running maximum of the place, max(a·S, X) (Adamax's u), not an average; when
   * the place is written with another update of its old value instead (an average of |g|), where.
   */
  max?: {
    other?: Span;
    /**
     * The maximum is taken between the place's old value and its own new average, which is what the
     * place stores (`v = b2 * prev + …; self.v[i] = v; v_hat = max(v, prev)`): two consecutive averages,
     * never a running maximum (AMSGrad's v̂ ← max(v̂, v) kept apart).
     */
    consecutive?: true;
  };
  /** The function the new value is computed in (its own writes were read by the walk). */
  fn?: Span;
  /** The place is a list local to the function that an enclosing loop keeps across its iterations (a training loop's buffers). */
  carried?: true;
  /**
   * The new average is written into a place nothing reads, while the parameter's update in the same
   * loop body reads a sibling place that nothing writes but its zero start (`self.cache_w[i] = rho *
   * self.cache[i] + …` beside `w -= lr * g / (np.sqrt(self.cache[i]) + eps)`): the step divides by the start.
   */
  misdirected?: { read: string; step: Span; start: Span };
}

const cache = new WeakMap<Facts, UnstoredState[]>();
/** A new value's own atom: never a key the code can write. */
const NEW = '\u0000new:';
/** A loop element of a list: `self.ms[*]`. */
const ELEMENT = '[*]';
/** Statements one function may hold before it is not read (a generated module, not a step). */
const MAX_STATEMENTS = 3000;

export function unstoredStates(facts: Facts): UnstoredState[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  for (const fn of index.functions) {
    if (!definedInFile(facts, fn) || fn.body.length === 0) continue;
    if (!assignsComputedLocal(fn.body)) continue;
    // A function whose walk found nothing in the document's previous version, with its code and cone unchanged (functionReuse.ts).
    if (foundNothingBefore(facts, 'unstoredStates', fn)) continue;
    let own: UnstoredState[] = [];
    try {
      own = new StepWalk(facts, fn).run();
    } catch (e) {
      if (!(e instanceof PolyOverflow)) throw e;
    }
    if (own.length === 0) foundNothing(facts, 'unstoredStates', fn);
    found.push(...own);
  }
  found = found.filter((f) => f.misdirected !== undefined || (f.unused ? !readElsewhere(facts, f, f.unused.fn) : !writtenElsewhere(facts, f)));
  cache.set(facts, found);
  return found;
}

/**
 * Cheap test first: a plain assignment of arithmetic or a call, which a step's new value needs (to a
 * local, or to the place itself when the state is written back), or an in-place call chain
 * (`buf.mul_(mu).add_(g)`).
 */
function assignsComputedLocal(body: Stmt[]): boolean {
  return body.some(
    (s) =>
      (s.kind === 'assign' && !s.op && s.targets.length === 1 && (s.targets[0].kind === 'name' || s.targets[0].kind === 'attr' || s.targets[0].kind === 'index') && (s.value.kind === 'binary' || s.value.kind === 'call')) ||
      // `self.cache[k] += rho * self.rms_cache + …`: an average added into a table (a misdirected one).
      (s.kind === 'assign' && s.op === '+' && s.targets.length === 1 && s.targets[0].kind === 'index' && s.value.kind === 'binary' && s.value.op === '+') ||
      (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && s.expr.callee.object.kind === 'call') ||
      ((s.kind === 'for' || s.kind === 'block') && assignsComputedLocal(s.body)),
  );
}

interface Candidate {
  id: string;
  span: Span;
  local: string;
  state: string;
  place: string;
  element: boolean;
  weight: string;
  stored: boolean;
  applied: boolean;
  /** Other new values this one is computed from (`buf = mu * buf + g / √vel` reads vel's): applying it applies them. */
  reads: string[];
  /** Written back into the place it was read from (`self.v[k] = v`). */
  storedBack: boolean;
  /** The tensors its new term adds, each once and linearly (`g` in `mu * v + lr * g`). */
  terms: string[];
  /** The new term is weighted by 1 − a: an average (a statistic may be one), not a momentum sum. */
  averaged: boolean;
  path: string[];
  loop: number;
  /** A running maximum max(a·S, X), not a sum: stored only by a write of S that holds it. */
  max?: true;
  /** That maximum's X is S's own new average (max(S, v) with v = β·S + …): see `UnstoredState.max.consecutive`. */
  consecutive?: true;
}

/** A persistent place rewritten from its own old value, S ← a·S + b·X, or a local's new value stored back into it. */
interface Rewrite {
  span: Span;
  state: string;
  place: string;
  element: boolean;
  weight: string;
  /** The new value's atom, when a local holds it. */
  id?: string;
  terms: string[];
  averaged: boolean;
  path: string[];
  /** The innermost loop the statement is in (0: none): a state and a step in different loops are different updates. */
  loop: number;
}

/** A parameter stepped in place or returned stepped: P ← P + rest. */
interface ParamStep {
  span: Span;
  key: string;
  rest: Poly;
  path: string[];
  loop: number;
}

class StepWalk {
  private env = new Map<string, Poly>();
  /** New values an `if` chain's branches give one local: storing the local after the chain stores each of them. */
  private readonly joined = new Map<string, string[]>();
  /** Names the function binds: a local read before it is given a value here is not a place that persists. */
  private readonly bound = new Set<string>();
  private readonly roots = new Set<string>();
  /**
   * Locals a loop nested in another loop walks, that nothing in the enclosing loop's body rebinds
   * (`velocity = [zeros…]` before `for epoch …: for p, v in zip(params, velocity)`): the list keeps
   * its elements across the enclosing loop's iterations, as an attribute keeps them across calls.
   */
  private readonly carried = new Set<string>();
  /** The bodies of the loops the walk is in, innermost last. */
  private readonly loopBodies: Stmt[][] = [];
  /** Where each persistent key was read, as written. */
  private readonly placeText = new Map<string, string>();
  /**
   * Keys the function writes (assignment, in-place update). `start`: the write gives the place its
   * zero start (`if self.v == []: self.v = [np.zeros_like(p) …]`), a value no new average is in;
   * `before`: how many new values the walk had computed when it ran.
   */
  private readonly written: { key: string; start: boolean; zero: boolean; before: number; span?: Span; path: string[]; absent?: true; value: Poly }[] = [];
  /** Places the `if` branches the walk is in say have no value yet (`if 'buf' not in st:`): a write of one is the first step's value. */
  private absent: string[] = [];
  /** The chain id and branch each single `if` was walked as: the one a later complementary `if` is the other branch of. */
  private readonly ifPaths = new Map<Stmt, { id: number; branch: number }>();
  private readonly candidates: Candidate[] = [];
  private readonly rewrites: Rewrite[] = [];
  private readonly steps: ParamStep[] = [];
  /** The `if` chain branches the walk is in: `chain:branch`. */
  private path: string[] = [];
  private chains = 0;
  private loopId = 0;
  private loops = 0;
  /** The statement being walked. */
  private current: Span | undefined;
  private opaque = 0;
  /** What an unknown value was computed from: an unknown call's arguments, the values branches gave one local. */
  private readonly hides = new Map<string, Set<string>>();
  /** Every write of a persistent place, with its value: what a place holds after it (`grad.copy_(mb)` makes `grad` read `mb`). */
  private readonly writes: { key: string; value: Poly }[] = [];
  /** Every write of a persistent place with where it runs (its statement, branch and loop). */
  private readonly stores: { key: string; value: Poly; span: Span; path: string[]; loop: number; start: boolean }[] = [];
  private statements = 0;

  constructor(
    private readonly facts: Facts,
    private readonly fn: FunctionDef,
  ) {
    for (const p of fn.params) this.roots.add(p.name);
    collectBound(fn.body, this.bound);
    for (const p of fn.params) this.bound.delete(p.name);
  }

  /** Writes of a place with its own old value, copied: by key, where. */
  private readonly copies: { key: string; span: Span }[] = [];
  /** Momentum sums read straight from a place (`v = mu * self.v[i] - lr * g`), which average() leaves out: see siblingSums(). */
  private readonly directSums: { span: Span; local: string; state: string; place: string; element: boolean; weight: string; path: string[]; loop: number; at: number }[] = [];

  run(): UnstoredState[] {
    this.block(this.fn.body);
    const out: UnstoredState[] = [];
    for (const [i, c] of this.candidates.entries()) {
      if (c.stored || !c.applied) continue;
      // A zero start written before the new value is computed (a lazy init) stores nothing of it; nor
      // does a write in another branch of an `if` chain than the new value's (`else: st['avg'] = g`).
      const storing = this.written.filter((w) => overlaps(w.key, c.state) && !(w.start && w.before <= i) && !exclusivePaths(w.path, c.path));
      // A running maximum is kept only by a write that holds it: another update of the place from its old value (an average) is not one.
      const other = c.max ? storing.find((w) => this.otherUpdate(w.value, c)) : undefined;
      if (c.max ? storing.some((w) => !this.otherUpdate(w.value, c)) : storing.length > 0) continue;
      // The maximum of two consecutive averages is a mistake where the place keeps the average (else the average's own finding says it).
      if (c.consecutive && !other) continue;
      const cls = this.fn.cls;
      const within = cls && cls.bases.length === 0 ? cls.span : { start: this.facts.file.base, end: this.facts.file.base + this.facts.text.length };
      const copied = this.copies.find((x) => overlaps(x.key, c.state))?.span;
      const first = this.written.find((w) => overlaps(w.key, c.state));
      const started = first?.span;
      const otherBranch = first !== undefined && exclusivePaths(first.path, c.path) && !first.zero;
      const whileAbsent = first !== undefined && !otherBranch && first.absent === true && !first.zero;
      out.push({
        span: c.span, local: c.local, place: c.place, element: c.element, weight: c.weight, within,
        ...(copied ? { copied } : {}), ...(started && (!other || first !== other) ? { started } : {}), ...(otherBranch ? { startedElsewhere: true } : {}), ...(whileAbsent ? { startedWhileAbsent: true } : {}),
        ...(c.max ? { max: { ...(other?.span ? { other: other.span } : {}), ...(c.consecutive ? { consecutive: true as const } : {}) } } : {}),
        ...(this.carried.has(/^[^.[]*/.exec(c.state)![0]) ? { carried: true as const } : {}),
        fn: this.fn.span,
      });
    }
    out.push(...this.unusedRewrites());
    out.push(...this.misdirected());
    out.push(...this.siblingSums());
    return out;
  }

  /**
   * Momentum sums read straight from their places, S ← μ·S + X (`vw = mu * self.vw[i] - lr * gw[i]`,
   * `vb = mu * self.vb[i] - lr * gb[i]`), in one function with the same weight: the step stores one
   * (`self.vw[i] = vw`) and never writes the other's place, while a parameter's update reads it
   * (`b[i] += vb`). The stored sibling says these are the step's velocities; the other one restarts
   * every step. Without such a sibling a sum read straight from a place is not read (average()).
   */
  private siblingSums(): UnstoredState[] {
    const out: UnstoredState[] = [];
    if (this.directSums.length < 2) return out;
    const storeOf = (d: { state: string; at: number }): Span | undefined => this.stores.find((w) => !w.start && overlaps(w.key, d.state) && w.span.start > d.at)?.span;
    const writtenAtAll = (d: { state: string }): boolean => this.written.some((w) => overlaps(w.key, d.state) && !w.start);
    const cls = this.fn.cls;
    const within = cls && cls.bases.length === 0 ? cls.span : { start: this.facts.file.base, end: this.facts.file.base + this.facts.text.length };
    for (const d of this.directSums) {
      if (writtenAtAll(d)) continue;
      // A parameter's update in the same loop body reads it.
      const applied = this.steps.some((p) => p.loop === d.loop && compatible(p.path, d.path) && [...this.placesRead(p.rest)].some((k) => overlaps(k, d.state)));
      if (!applied) continue;
      // The local goes nowhere but into parameter updates (no return, store, call or closure keeps it).
      if (!this.onlyStepsRead(d.local, d.span)) continue;
      const sibling = this.directSums.find((e) => e !== d && e.weight === d.weight && compatible(e.path, d.path) && !overlaps(e.state, d.state) && !overlaps(d.state, e.state) && storeOf(e) !== undefined);
      if (!sibling) continue;
      out.push({ span: d.span, local: d.local, place: d.place, element: d.element, weight: d.weight, within, sibling: { place: sibling.place, store: storeOf(sibling)! }, fn: this.fn.span });
    }
    return out;
  }

  /** Whether every statement of the function that reads `local` is its definition at `def` or a parameter's update. */
  private onlyStepsRead(local: string, def: Span): boolean {
    const reads = (st: Stmt): boolean => {
      let found = false;
      walkAll([st], (e) => {
        if (e.kind === 'name' && e.name === local) found = true;
      });
      return found;
    };
    const inside = (a: Span, b: Span): boolean => a.start >= b.start && a.end <= b.end;
    const visit = (body: Stmt[], depth: number): boolean =>
      depth < 60 &&
      body.every((st) => {
        if (st.kind === 'block' || st.kind === 'for') return visit(st.body, depth + 1);
        if (inside(def, st.span) || inside(st.span, def)) return true;
        if (!reads(st)) return true;
        return st.kind === 'assign' && this.steps.some((p) => inside(p.span, st.span) || inside(st.span, p.span));
      });
    return visit(this.fn.body, 0);
  }

  /** value = μ·S + rest with S a place read straight (an attribute's element or entry), μ one knob, rest a new term: a momentum sum average() leaves out. */
  private directSum(value: Poly, before: Poly | undefined): { state: string; place: string; element: boolean; weight: string } | undefined {
    if (before && plainSymbol(before) !== undefined) return undefined;
    const keys = [...new Set(atomsOf(value).filter((a) => a.k === 'sym').map((a) => (a as { key: string }).key))];
    for (const key of keys) {
      if (key.startsWith(NEW) || !/[.[]/.test(key) || this.knob(key) || !this.persistent(key) || !mentions(value, key)) continue;
      const split = splitSelf(value, key);
      if (!split || split.rest.length === 0 || !split.rest.some((m) => m.fs.some((f) => f.atom.k === 'sym' && !f.atom.key.startsWith(NEW)))) continue;
      const beta = plainSymbol(split.self);
      // The weight is one scalar (`self.mu`, `mu`), not an element of a table: S is the element.
      if (beta === undefined || beta === key || beta.includes('[') || !this.scalarLike(beta) || averages(split.self, split.rest, beta)) continue;
      if (this.placesRead(split.rest).has(key)) continue;
      const element = key.endsWith(ELEMENT);
      return { state: element ? key.slice(0, -ELEMENT.length) : key, place: this.placeText.get(key) ?? key, element, weight: this.placeText.get(beta) ?? beta };
    }
    return undefined;
  }

  /**
   * A moving average written into one place W, W ← a·Y + b·X with Y its own old value or a sibling's
   * (`self.cache_w[i] = rho * self.cache[i] + (1 - rho) * g * g`), beside a parameter's update in the
   * same loop body and branch that steps by X's tensor and reads a sibling place R instead of W: R
   * is Y, or, when W averages itself, the place of the same table shape (`self.sq[layer][k]` beside
   * `self.sq_avg[layer][k]`). Reported when nothing in the class (or the file) reads W but its own
   * update, and nothing writes R but its zero start: the step then reads that start on every call.
   */
  private misdirected(): UnstoredState[] {
    const out: UnstoredState[] = [];
    for (const w of this.stores) {
      if (w.start || w.key.startsWith(NEW) || w.key.endsWith(ELEMENT)) continue;
      const wBase = baseOf(w.key);
      const scope = this.keptBy(wBase);
      if (!scope) continue;
      // `+=` around an average (`self.cache[k] += rho * self.rms_cache + …`): the average is what it adds.
      const whole = splitSelf(w.value, w.key);
      const value = whole && numeric(whole.self) === 1 ? whole.rest : w.value;
      const avg = this.averageIn(value);
      if (!avg) continue;
      const ownY = overlaps(avg.y, w.key);
      // The update W was computed for: the same loop body and branch, stepping by the tensor W adds.
      const steps = this.steps.filter((p) => p.loop === w.loop && compatible(p.path, w.path) && !overlaps(p.key, w.key) && avg.tensors.some((x) => mentions(p.rest, x)));
      if (steps.length === 0 || this.steps.some((p) => [...this.placesRead(p.rest)].some((k) => overlaps(k, w.key)))) continue;
      for (const p of steps) {
        const reads = [...this.placesRead(p.rest)].filter(
          (r) =>
            this.persistent(r) &&
            !r.startsWith(NEW) &&
            !r.endsWith(ELEMENT) &&
            !overlaps(r, w.key) &&
            !overlaps(r, p.key) &&
            !avg.tensors.includes(r) &&
            !this.knob(r) &&
            (ownY ? r.slice(baseOf(r).length) === w.key.slice(wBase.length) : overlaps(r, avg.y)),
        );
        const r = reads.find((k) => this.keptBy(baseOf(k))?.start === scope.start && this.keptBy(baseOf(k))?.end === scope.end);
        if (r === undefined) continue;
        const start = onlyStarted(this.facts, baseOf(r), scope);
        if (!start || !unreadBesides(this.facts, wBase, scope, w.span)) continue;
        out.push({
          span: w.span,
          local: this.placeText.get(w.key) ?? w.key,
          place: this.placeText.get(w.key) ?? w.key,
          element: false,
          weight: avg.weight,
          within: scope,
          misdirected: { read: this.placeText.get(r) ?? r, step: p.span, start },
        });
        break;
      }
    }
    return out;
  }

  /** Where a place's every write and read must be found: the class for the instance's state (the file when it has bases), the file for a module's. */
  private keptBy(base: string): Span | undefined {
    const file = { start: this.facts.file.base, end: this.facts.file.base + this.facts.text.length };
    const root = /^[^.[]*/.exec(base)![0];
    if (isSelfName(root) && base !== root) {
      const cls = this.fn.cls;
      if (!cls) return undefined;
      if (cls.bases.length === 0) return cls.span;
      // A base class in another module may write the state: only bases this file defines are read.
      return cls.bases.every((b) => b.kind === 'name' && this.facts.scopes.root.classes.has(b.name)) ? file : undefined;
    }
    // A module's table: not the function's own name, nor one the caller hands in.
    if (root === base && base.length > 0 && !this.bound.has(root) && !this.roots.has(root) && this.facts.scopes.root.bindings.has(root)) return file;
    return undefined;
  }

  /** a·Y + b·X with Y a persistent place, a one knob or a number in (0, 1), b a multiple of 1 − a: Y, the weight as written, X's tensors. */
  private averageIn(value: Poly): { y: string; weight: string; tensors: string[] } | undefined {
    const ys = [...new Set(value.flatMap((m) => m.fs.filter((f) => f.n === 1 && f.atom.k === 'sym').map((f) => (f.atom as { key: string }).key)))];
    for (const y of ys) {
      if (!this.persistent(y) || y.startsWith(NEW) || y.endsWith(ELEMENT)) continue;
      const split = splitSelf(value, y);
      if (!split || split.rest.length === 0) continue;
      const n = numeric(split.self);
      const beta = plainSymbol(split.self);
      if (!(n !== undefined ? n > 0 && n < 1 : beta !== undefined && beta !== y && this.scalarLike(beta))) continue;
      if (!averages(split.self, split.rest, beta)) continue;
      const tensors = [...this.placesRead(split.rest)].filter((k) => k !== beta && !k.startsWith(NEW) && !this.knob(k));
      if (tensors.length === 0) continue;
      return { y, weight: beta !== undefined ? (this.placeText.get(beta) ?? beta) : String(n), tensors };
    }
    return undefined;
  }

  /**
   * State rewritten from its old value (or a local's new value stored back) beside a parameter's
   * update that steps by the same tensor the state adds and reads neither the state nor its new
   * value: the state was computed for that update and never reaches it.
   */
  private unusedRewrites(): UnstoredState[] {
    const all: Rewrite[] = [...this.rewrites];
    for (const c of this.candidates) if (c.storedBack && !c.applied) all.push({ span: c.span, state: c.state, place: c.place, element: c.element, weight: c.weight, id: c.id, terms: c.terms, averaged: c.averaged, path: c.path, loop: c.loop });
    const out: UnstoredState[] = [];
    const cls = this.fn.cls;
    const within = cls && cls.bases.length === 0 ? cls.span : { start: this.facts.file.base, end: this.facts.file.base + this.facts.text.length };
    for (const r of all) {
      if (r.terms.length === 0) continue;
      // A list local to the function (`carried`) is read nowhere else: only its never-stored new value is reported.
      if (this.carried.has(/^[^.[]*/.exec(r.state)![0])) continue;
      // An average kept in a place the caller hands in may be the caller's statistic; a momentum sum is only an optimizer's.
      if (r.averaged && !/^(self|this)\./.test(r.state)) continue;
      // New values computed from this one (`m_hat = m / (1 - b1 ** t)` is a multiple, kept in the same atom).
      const derived = new Set<string>(r.id ? [r.id] : []);
      for (let grew = true; grew; ) {
        grew = false;
        for (const c of this.candidates) if (!derived.has(c.id) && c.reads.some((x) => derived.has(x))) (derived.add(c.id), (grew = true));
      }
      const reads = (p: Poly): boolean => [...this.contents(this.placesRead(p))].some((k) => derived.has(k) || overlaps(k, r.state));
      const along = this.steps.filter((p) => p.loop === r.loop && compatible(p.path, r.path) && !overlaps(p.key, r.state) && !r.terms.includes(p.key) && !this.feeds(p.key));
      // A parameter stepped twice (NAdam's gradient and momentum terms) uses the state if either step does.
      const step = along.find((p) => r.terms.some((x) => linearIn(p.rest, x)) && !along.some((q) => q.key === p.key && reads(q.rest)));
      if (!step) continue;
      const term = r.terms.find((x) => linearIn(step.rest, x))!;
      out.push({ span: r.span, local: r.id ? (this.candidates.find((c) => c.id === r.id)?.local ?? r.place) : r.place, place: r.place, element: r.element, weight: r.weight, within, unused: { step: step.span, term: this.placeText.get(term) ?? term, fn: this.fn.span } });
    }
    return out;
  }

  /** Places, with every place written into them in the function: a read of `grad` after `grad.copy_(mb)` reads `mb`. */
  private contents(keys: Set<string>): Set<string> {
    const out = new Set(keys);
    for (let grew = true, rounds = 0; grew && rounds < 20; rounds++) {
      grew = false;
      for (const w of this.writes) {
        if (![...out].some((k) => overlaps(k, w.key))) continue;
        for (const k of this.placesRead(w.value)) if (!out.has(k)) (out.add(k), (grew = true));
      }
    }
    return out;
  }

  /** A place another write reads (Adan's previous gradient, added into a moment): optimizer state, not a parameter. */
  private feeds(key: string): boolean {
    // `p.grad` is not `p`: only the place itself, an entry or element of it, counts.
    const entryOf = (a: string, b: string): boolean => a.startsWith(`${b}[`) && !/\]\./.test(a.slice(b.length));
    const same = (a: string, b: string): boolean => a === b || entryOf(a, b) || entryOf(b, a) || ((a.endsWith(ELEMENT) || b.endsWith(ELEMENT)) && outerOf(a) === outerOf(b));
    return this.writes.some((w) => !same(w.key, key) && atomsOf(w.value).some((a) => a.k === 'sym' && same(a.key, key)));
  }

  /** Tensors a new term adds once and linearly, in every monomial: not a knob (a weight of the old value, a learning rate, a setting). */
  private termsOf(rest: Poly, beta: string | undefined): string[] {
    if (rest.length === 0) return [];
    const common = rest[0].fs.filter((f) => f.n === 1 && f.atom.k === 'sym').map((f) => (f.atom as { key: string }).key);
    return common.filter((k) => !k.startsWith(NEW) && k !== beta && rest.every((m) => m.fs.some((f) => f.n === 1 && f.atom.k === 'sym' && f.atom.key === k)) && !this.knob(k));
  }

  /** A setting read as a scalar: `self.lr`, `lr`, `group['lr']`, `config['beta1']`. */
  private knob(key: string): boolean {
    if (key.endsWith(ELEMENT)) return false;
    const str = /\["'](\w+)["']\]$/.exec(key);
    if (str) return isHyperparameterKey(str[1]) || isLearningRateName(str[1]) || isHyperparameterName(str[1]);
    if (key.endsWith(']')) return false;
    const last = key.slice(key.lastIndexOf('.') + 1);
    return isLearningRateName(last) || isHyperparameterName(last);
  }

  /** P ← P + rest for a persistent place P written in place or returned: a parameter's step. */
  private paramStep(key: string, value: Poly): void {
    // `params[name] = w - g` with w an element of `params`: the place read back as it is walked.
    const sibling = atomsOf(value).find((a) => a.k === 'sym' && a.key.endsWith(ELEMENT) && key.startsWith(`${a.key.slice(0, -ELEMENT.length)}[`));
    const own = mentions(value, key) ? key : sibling && (sibling as { key: string }).key;
    const split = own === undefined ? undefined : splitSelf(value, own);
    if (!split || numeric(split.self) !== 1 || split.rest.length === 0 || !this.current) return;
    this.steps.push({ span: this.current, key, rest: split.rest, path: this.path, loop: this.loopId });
  }

  /** S ← a·S + rest written into S itself: a momentum or a moving average kept in place. */
  private rewrite(key: string, value: Poly): void {
    if (!this.current || !mentions(value, key)) return;
    const split = splitSelf(value, key);
    if (!split || split.rest.length === 0) return;
    const n = numeric(split.self);
    const beta = plainSymbol(split.self);
    if (!(n !== undefined ? n > 0 && n < 1 : beta !== undefined && beta !== key && this.scalarLike(beta))) return;
    const terms = this.termsOf(split.rest, beta);
    if (terms.length === 0) return;
    const averaged = averages(split.self, split.rest, beta);
    const element = key.endsWith(ELEMENT);
    this.rewrites.push({ span: this.current, state: element ? key.slice(0, -ELEMENT.length) : key, place: this.placeText.get(key) ?? key, element, weight: beta !== undefined ? (this.placeText.get(beta) ?? beta) : String(n), terms, averaged, path: this.path, loop: this.loopId });
  }

  private fresh(hidden?: Set<string>): Poly {
    const id = `u${this.opaque++}`;
    if (hidden && hidden.size > 0) this.hides.set(id, hidden);
    return atomPoly({ k: 'opaque', id });
  }

  /** The places a value reads, at any depth, through the unknown values it holds. */
  private placesRead(p: Poly, out = new Set<string>()): Set<string> {
    for (const a of atomsOf(p)) {
      if (a.k === 'sym') out.add(a.key);
      else if (a.k === 'opaque') for (const k of this.hides.get(a.id) ?? []) out.add(k);
    }
    return out;
  }

  /** The places an expression reads, without evaluating it (no writes): what an unknown call's value may carry. */
  private touched(e: Expr, out = new Set<string>(), depth = 0): Set<string> {
    if (depth > 40) return out;
    if (e.kind === 'name' && this.env.has(e.name)) return this.placesRead(this.env.get(e.name)!, out);
    if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') {
      const key = this.keyOf(e);
      if (key !== undefined) out.add(key);
    }
    // Every own field of the node in Object.entries' order (IR nodes are plain objects), without the
    // entries' pairs and a one-item array per field: this runs for every unknown value's expression.
    for (const k in e) {
      const v = (e as unknown as Record<string, unknown>)[k];
      if (k === 'span' || v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          if (x && typeof x === 'object' && typeof (x as Expr).kind === 'string') this.touched(x as Expr, out, depth + 1);
        }
      } else if (typeof (v as Expr).kind === 'string') this.touched(v as Expr, out, depth + 1);
    }
    return out;
  }

  /** A place that persists across calls: rooted at the instance, a parameter or a name the function does not bind. */
  private persistent(key: string): boolean {
    if (key.startsWith(NEW)) return false;
    const root = /^[^.[]*/.exec(key)![0];
    if (root === key && !key.endsWith(ELEMENT)) return (this.roots.has(root) || this.carried.has(root)) && !isSelfName(root);
    return !this.bound.has(root) || this.roots.has(root) || this.carried.has(root);
  }

  /** The key of a place, through local aliases (`v = self.v` makes `v[0]` read `self.v[0]`). */
  private keyOf(e: Expr): string | undefined {
    if (e.kind === 'name') {
      const v = this.env.get(e.name);
      if (v === undefined) return this.bound.has(e.name) && !this.carried.has(e.name) ? undefined : e.name;
      return plainSymbol(v);
    }
    if (e.kind === 'attr') {
      const o = this.keyOf(e.object);
      return o === undefined ? undefined : `${o}.${e.name}`;
    }
    if (e.kind === 'index') {
      const o = this.keyOf(e.object);
      if (o === undefined) return undefined;
      const parts = e.index.map((x) => exprKey(x) ?? (x.kind === 'str' ? JSON.stringify(x.value) : x.kind === 'num' ? String(x.value) : '?'));
      return `${o}[${parts.join(', ')}]`;
    }
    return undefined;
  }

  private read(e: Expr): Poly {
    if (e.kind === 'name' && this.env.has(e.name)) return this.env.get(e.name)!;
    const key = this.keyOf(e);
    if (key === undefined) return this.fresh();
    if (!this.placeText.has(key)) this.placeText.set(key, this.facts.source(e.span));
    return sym(key);
  }

  private evalMath(m: StepMath): Poly {
    switch (m.op) {
      case 'expr':
        return this.eval(m.expr);
      case 'num':
        return constant(m.value);
      case 'neg':
        return scale(this.evalMath(m.arg), -1);
      case 'fn': {
        const args = m.args.map((a) => this.evalMath(a));
        return m.fn === 'sqrt' ? sqrt(args[0]) : fnPoly(m.fn, args);
      }
      default:
        return this.binary(m.op, this.evalMath(m.left), this.evalMath(m.right));
    }
  }

  private binary(op: string, l: Poly, r: Poly): Poly {
    return applyBinary(op, l, r) ?? this.fresh(this.placesRead(r, this.placesRead(l)));
  }

  private eval(e: Expr, depth = 0): Poly {
    if (depth > 40) return this.fresh();
    switch (e.kind) {
      case 'num':
        return constant(e.value);
      case 'name':
      case 'attr':
      case 'index':
        return this.read(e);
      case 'unary':
        return e.op === '-' ? scale(this.eval(e.arg, depth + 1), -1) : e.op === '+' ? this.eval(e.arg, depth + 1) : this.fresh();
      case 'binary':
        return this.binary(e.op, this.eval(e.left, depth + 1), this.eval(e.right, depth + 1));
      case 'seq':
        return e.items.length === 1 ? this.eval(e.items[0], depth + 1) : this.fresh();
      case 'call': {
        // `self.v.get(k, zeros)`: the entry `self.v[k]`, or its zero start.
        if (e.callee.kind === 'attr' && e.callee.name === DICT_GET_METHOD && e.args.length >= 1 && e.args.length <= 2) {
          const o = this.keyOf(e.callee.object);
          const k = exprKey(e.args[0]) ?? (e.args[0].kind === 'str' ? JSON.stringify(e.args[0].value) : undefined);
          if (o !== undefined && k !== undefined && this.persistent(o)) {
            const key = `${o}[${k}]`;
            if (!this.placeText.has(key)) this.placeText.set(key, `${this.facts.source(e.callee.object.span)}[${this.facts.source(e.args[0].span)}]`);
            return sym(key);
          }
        }
        const handed = this.handedOut(e);
        if (handed) return handed;
        const math = stepCall(e, (x) => this.facts.analyzer.isModule(x));
        if (!math) return (e.callee.kind === 'name' ? this.pureHelper(e) : undefined) ?? this.fresh(this.touched(e));
        const value = this.evalMath(math.value);
        if (math.writes) this.writeTo(this.chainRoot(math.writes), value, true);
        return value;
      }
      default:
        return this.fresh(this.touched(e));
    }
  }

  /**
   * `this.net.paramsAndGrads()` in JS/TS: a method without arguments of an object the instance keeps
   * hands out that object's own arrays (the parameter groups a trainer walks), so what it returns is
   * read as a place rooted at the instance, not an unknown value: `groups[i].w[j] -= step` steps it.
   */
  private handedOut(e: Expr & { kind: 'call' }): Poly | undefined {
    if (this.facts.language === 'python' || e.callee.kind !== 'attr' || e.args.length !== 0) return undefined;
    const o = this.keyOf(e.callee.object);
    if (o === undefined || !o.includes('.') || o.includes('[') || !isSelfName(/^[^.[]*/.exec(o)![0])) return undefined;
    const key = `${o}.${e.callee.name}()`;
    if (!this.placeText.has(key)) this.placeText.set(key, this.facts.source(e.span));
    return sym(key);
  }

  /**
   * `pgs = clone(this.net.getParamsAndGrads())` whose copy the function gives back to the same object
   * (`this.net.setParamsAndGrads(pgs)`): the copy is the groups the object keeps from then on, so its
   * arrays are read as the handed-out place itself.
   */
  private copiedBack(local: string, e: Expr): Poly | undefined {
    if (e.kind !== 'call' || e.args.length !== 1 || e.args[0].kind !== 'call' || e.args[0].callee.kind !== 'attr') return undefined;
    const handed = this.handedOut(e.args[0]);
    if (!handed) return undefined;
    const receiver = this.facts.source(e.args[0].callee.object.span);
    const givenBack = (stmts: Stmt[]): boolean =>
      stmts.some((st) =>
        st.kind === 'expr'
          ? st.expr.kind === 'call' && st.expr.callee.kind === 'attr' && st.expr.args.length === 1 && st.expr.args[0].kind === 'name' && st.expr.args[0].name === local && this.facts.source(st.expr.callee.object.span) === receiver
          : (st.kind === 'for' || st.kind === 'block') && givenBack(st.body),
      );
    return givenBack(this.fn.body) ? handed : undefined;
  }

  private helperDepth = 0;

  /**
   * A call of a plain function (no method) whose body only gives its locals values and returns one
   * (`def _second_moment(m, g, b2): g = np.square(g); m = np.multiply(m, b2); return np.add(m, …)`,
   * `def _maximum(x, y): return np.maximum(x, y)`): its returned value with the arguments for its
   * parameters. It writes nothing, so reading it creates no new value of its own.
   */
  private pureHelper(e: Expr & { kind: 'call' }): Poly | undefined {
    if (this.helperDepth > 2) return undefined;
    const found = this.pureHelperOf(e);
    if (!found) return undefined;
    const { fn, body, last } = found;
    const inner = new Map<string, Poly>();
    fn.params.forEach((p, i) => {
      const arg = e.args[i] ?? e.kwargs.find((k) => k.name === p.name)?.value ?? p.default;
      inner.set(p.name, arg ? this.eval(arg) : this.fresh());
    });
    const saved = this.env;
    this.env = inner;
    this.helperDepth++;
    try {
      for (const st of body.slice(0, -1)) {
        if (st.kind !== 'assign' || st.targets[0].kind !== 'name') return undefined;
        const name = st.targets[0].name;
        const value = this.eval(st.value);
        inner.set(name, st.op ? this.binary(st.op, inner.get(name) ?? this.fresh(), value) : value);
      }
      return this.eval(last.value);
    } finally {
      this.helperDepth--;
      this.env = saved;
    }
  }

  /** The function a call runs when it is such a helper (`pureHelper`), with its statements. */
  private pureHelperOf(e: Expr & { kind: 'call' }): { fn: FunctionDef; body: Stmt[]; last: Stmt & { kind: 'return'; value: Expr } } | undefined {
    if (e.callee.kind !== 'name' || e.args.some((a) => a.kind === 'other')) return undefined;
    const target = resolveCall(this.facts.program, e, programIndex(this.facts).scopeAt(e.span.start), e.span.start);
    const fn = target?.fn;
    if (!fn || fn.cls || target.constructs || target.receiver || target.args || fn === this.fn || fn.body.length > 12 || !definedInFile(this.facts, fn)) return undefined;
    const body = fn.body.filter((st) => !(st.kind === 'expr' && st.expr.kind === 'str'));
    const last = body[body.length - 1];
    if (!last || last.kind !== 'return' || !last.value) return undefined;
    // Arithmetic only: a helper that packs its arguments into a tuple, list or dict hands them on.
    const arithmetic = (x: Expr): boolean => !someExpr(x, (y) => y.kind === 'seq' || y.kind === 'object' || y.kind === 'comprehension' || y.kind === 'lambda');
    if (!arithmetic(last.value)) return undefined;
    if (!body.slice(0, -1).every((st) => st.kind === 'assign' && st.targets.length === 1 && st.targets[0].kind === 'name' && arithmetic(st.value))) return undefined;
    if (e.args.length > fn.params.length || e.kwargs.some((k) => !fn.params.some((p) => p.name === k.name))) return undefined;
    return { fn, body, last: last as Stmt & { kind: 'return'; value: Expr } };
  }

  /** The tensor an in-place chain writes: `buf` in `buf.mul_(mu).add_(g)`, whose `add_` writes what `mul_` returns. */
  private chainRoot(target: Expr, depth = 0): Expr {
    if (target.kind !== 'call' || depth > 20) return target;
    const inner = stepCall(target, (x) => this.facts.analyzer.isModule(x));
    return inner?.writes ? this.chainRoot(inner.writes, depth + 1) : target;
  }

  /** New values an expression's value is (`whole`), or reads (a local that holds a sum with it): a bare local, `m.copy()`, or one inside a literal. */
  private handedOn(e: Expr, whole = true, depth = 0): Set<string> {
    const out = new Set<string>();
    if (depth > 20) return out;
    const inner = (x: Expr): void => {
      for (const k of this.handedOn(x, whole, depth + 1)) out.add(k);
    };
    if (e.kind === 'name') {
      // The value itself, or a multiple of it (`m_hat`); not a sum that reads it (`w - lr * m`).
      const v = this.env.get(e.name);
      if (v && (v.length === 1 || !whole)) {
        for (const a of atomsOf(v)) if (a.k === 'sym' && a.key.startsWith(NEW)) out.add(a.key);
      } else if (v && !this.stepsPlace(v)) {
        // `def step(w, g, v): v = mu * v + g; v = v + wd * w; return w, v`: a state the caller handed in,
        // with a term added, is still what the caller keeps, unless the sum steps a place (`return w + v`).
        for (const m of v) {
          const atom = m.c === 1 && m.fs.length === 1 && m.fs[0].n === 1 ? m.fs[0].atom : undefined;
          if (atom?.k === 'sym' && atom.key.startsWith(NEW) && this.candidates.some((c) => c.id === atom.key && this.roots.has(c.state))) out.add(atom.key);
        }
      }
    } else if (e.kind === 'seq') e.items.forEach(inner);
    else if (e.kind === 'object') e.entries.forEach((k) => inner(k.value));
    else if (e.kind === 'call') {
      // `m.copy()`, `m.clone()`: the value itself.
      const math = stepCall(e, (x) => this.facts.analyzer.isModule(x));
      if (math && math.value.op === 'expr' && math.value.expr.kind === 'name') inner(math.value.expr);
    }
    return out;
  }

  /**
   * Marks new values that escape where the walk does not follow them: an argument of a call that is
   * not arithmetic (`list.append(m)`, `State(mu=m)`, `np.copyto(s, m)`, `self._apply(p, m)`), an item
   * of a literal, a closure or a comprehension that reads it.
   */
  private escape(e: Expr, depth = 0): void {
    if (depth > 40) return;
    // (Loops and direct calls rather than closures: this runs for every node of every statement walked.)
    const d = depth + 1;
    switch (e.kind) {
      case 'call': {
        // A helper that only computes and returns (`pureHelper`) keeps nothing it is given; its value, when one of them as it is, goes on.
        const math = stepCall(e, (x) => this.facts.analyzer.isModule(x)) !== undefined;
        const pure = !math && this.pureHelperOf(e) !== undefined;
        if (pure) {
          const v = this.eval(e);
          const held = plainSymbol(v);
          if (held !== undefined && held.startsWith(NEW)) this.mark(held, 'stored');
        } else if (!math) {
          for (const a of e.args) this.keep(a);
          for (const k of e.kwargs) this.keep(k.value);
          // `new_params.append(p - lr * m_hat)`: a parameter's new value, stepped by the average, collected in a list.
          if (e.callee.kind === 'attr' && LIST_APPEND_METHODS.has(e.callee.name)) for (const a of e.args) if (a.kind === 'binary') this.stepped(this.eval(a));
        }
        this.escape(e.callee, d);
        for (const a of e.args) this.escape(a, d);
        for (const k of e.kwargs) this.escape(k.value, d);
        return;
      }
      case 'seq':
        for (const x of e.items) this.hold(x);
        for (const x of e.items) this.escape(x, d);
        return;
      case 'object':
        for (const k of e.entries) this.hold(k.value);
        for (const k of e.entries) this.escape(k.value, d);
        return;
      case 'attr':
        return this.escape(e.object, d);
      case 'index':
        this.escape(e.object, d);
        for (const x of e.index) this.escape(x, d);
        return;
      case 'binary':
        this.escape(e.left, d);
        this.escape(e.right, d);
        return;
      case 'unary':
        return this.escape(e.arg, d);
      case 'cond':
        this.escape(e.test, d);
        this.escape(e.then, d);
        this.escape(e.else, d);
        return;
      case 'lambda':
      case 'comprehension':
      case 'other':
        this.closure(e);
        return;
      default:
        return;
    }
  }

  /** A call the walk does not see into may keep anything it is given (`escape`). */
  private keep(x: Expr): void {
    for (const k of this.handedOn(x, false)) this.mark(k, 'stored');
  }

  /** A literal holds its items: `[m, v]`, `{"m": m}` (`escape`). */
  private hold(x: Expr): void {
    for (const k of this.handedOn(x)) this.mark(k, 'stored');
  }

  /** A closure, comprehension or expression not read as arithmetic that reads a new value's local may keep it. */
  private closure(node: Expr | Stmt): void {
    let text: string | undefined;
    const json = (x: unknown): string => JSON.stringify(x, (k, y) => (k === 'span' || k === 'opSpan' || k === 'nameSpan' || k === 'headSpan' || k === 'parenSpan' ? undefined : y));
    // A comprehension's own variables (`[m for m in self.ms]`) shadow the step's locals: only its first iterable reads those.
    const bound = node.kind === 'comprehension' ? comprehensionNames(node) : undefined;
    let outer: string | undefined;
    for (const [name, v] of this.env) {
      const news = atomsOf(v).filter((a) => a.k === 'sym' && a.key.startsWith(NEW));
      if (news.length === 0) continue;
      let reads: string;
      if (bound?.has(name)) reads = outer ??= json((node as Expr & { kind: 'comprehension' }).generators[0]?.iter ?? null);
      else reads = text ??= json(node);
      if (reads.includes(`"name":${JSON.stringify(name)}`)) for (const a of news) this.mark((a as { key: string }).key, 'stored');
    }
  }

  private mark(key: string, what: 'stored' | 'applied', depth = 0): void {
    const keys = this.joined.get(key) ?? [key];
    for (const c of this.candidates) {
      if (!keys.includes(c.id) || c[what]) continue;
      c[what] = true;
      if (what === 'applied' && depth < 20) for (const r of c.reads) this.mark(r, 'applied', depth + 1);
    }
  }

  /** T ← value for a place T (or an alias of one); a local's new value otherwise. */
  private writeTo(target: Expr, value: Poly, inPlace: boolean, start = false): void {
    if (target.kind === 'name' && !inPlace) return;
    const key = this.keyOf(target);
    if (key === undefined || !this.persistent(key)) return;
    // A write under a test that the place has no value yet runs on the first step only: a start, whatever it writes.
    const absent = this.absent.some((a) => a === key || key.startsWith(`${a}[`) || key.startsWith(`${a}.`));
    this.written.push({ key, start: start || absent, zero: start, before: this.candidates.length, span: this.current, path: this.path, ...(absent ? { absent: true as const } : {}), value });
    this.writes.push({ key, value });
    if (this.current) this.stores.push({ key, value, span: this.current, path: this.path, loop: this.loopId, start });
    this.paramStep(key, value);
    this.rewrite(key, value);
    // A place updated from its old value and a new average: the average is applied (a parameter's step).
    for (const a of atomsOf(value)) if (a.k === 'sym' && a.key.startsWith(NEW) && (inPlace || mentions(value, key) || siblingRead(value, key)) && !scaledByPlace(value, a.key, key)) this.mark(a.key, 'applied');
  }

  private block(stmts: Stmt[]): void {
    let pairs: Map<Stmt, Stmt> | undefined;
    let singles = 0;
    for (let i = 0; i < stmts.length; i++) {
      if (++this.statements > MAX_STATEMENTS) return;
      const s = stmts[i];
      if (s.kind !== 'block' && s.kind !== 'for') this.current = trimSpan(this.facts, s.span);
      if (s.kind === 'block' && s.label === 'if') {
        const chain = ifChainAt(stmts, i);
        // `if 'm' in st: …` then `if 'm' not in st: …`: the other branch of the first one.
        if (chain.length === 1 && singles++ > 0) pairs ??= complementaryIfs(stmts);
        const partner = chain.length === 1 ? pairs?.get(s) : undefined;
        const of = partner && this.ifPaths.get(partner);
        this.branches(chain, of && { id: of.id, branch: 1 - of.branch });
        i += chain.length - 1;
      } else this.stmt(s);
    }
  }

  /**
   * `if …: v = b * v + … elif …: v = …`: each branch starts from the locals before the chain, and a
   * local the branches give different values holds one of them after it: a new value when a branch
   * gives one (each branch's, joined), unknown otherwise.
   */
  private branches(chain: (Stmt & { kind: 'block' })[], as?: { id: number; branch: number }): void {
    const before = this.env;
    const after: Map<string, Poly>[] = [];
    const outer = this.path;
    const outerAbsent = this.absent;
    const id = as ? as.id : this.chains++;
    if (chain.length === 1) this.ifPaths.set(chain[0], { id, branch: as ? as.branch : 0 });
    // The place the first test says has no value, and in which branch (the `if`'s, or the `else`'s).
    const tested = chain[0].heads.length === 1 ? absenceTested(chain[0].heads[0]) : undefined;
    const testedKey = tested && this.keyOf(tested.place);
    for (const [n, b] of chain.entries()) {
      this.path = [...outer, `${id}:${as && n === 0 ? as.branch : n}`];
      this.env = new Map(before);
      const absentHere = testedKey !== undefined && ((n === 0 && tested!.absentWhen) || (n === 1 && chain.length === 2 && b.heads.length === 0 && !tested!.absentWhen));
      this.absent = absentHere ? [...outerAbsent, testedKey!] : outerAbsent;
      for (const h of b.heads) this.escape(h);
      this.block(b.body);
      after.push(this.env);
    }
    this.path = outer;
    this.absent = outerAbsent;
    // Without an `else`, the chain may run no branch.
    if (chain[chain.length - 1].heads.length > 0) after.push(before);
    const merged = new Map<string, Poly>();
    for (const name of new Set(after.flatMap((m) => [...m.keys()]))) {
      const values = after.map((m) => m.get(name));
      const first = values[0];
      if (first !== undefined && values.every((v) => v !== undefined && polyKey(v) === polyKey(first))) {
        merged.set(name, first);
        continue;
      }
      const news = values.map((v) => (v ? plainSymbol(v) : undefined)).filter((k): k is string => k !== undefined && k.startsWith(NEW));
      if (news.length > 0) {
        // Another local merged from the same chain may hold one of these in one branch only (`m` is the
        // new value in every branch, `out` only in the first): join, never replace, what is known.
        for (const k of news) this.joined.set(k, [...new Set([...(this.joined.get(k) ?? []), ...news])]);
        merged.set(name, sym(news[0]));
      } else {
        const hidden = new Set<string>();
        for (const v of values) if (v) this.placesRead(v, hidden);
        merged.set(name, this.fresh(hidden));
      }
    }
    this.env = merged;
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'assign':
        return this.assign(s);
      case 'expr':
        this.escape(s.expr);
        this.eval(s.expr);
        return;
      case 'return':
        if (!s.value) return;
        // `return m`, `return w, m`: the caller keeps the new value.
        for (const k of this.handedOn(s.value)) this.mark(k, 'stored');
        this.escape(s.value);
        this.returned(s.value);
        return;
      case 'for': {
        this.escape(s.iter);
        this.loop(s.target, s.iter);
        const outer = this.loopId;
        this.loopId = ++this.loops;
        this.loopBodies.push(s.body);
        this.block(s.body);
        this.loopBodies.pop();
        this.loopId = outer;
        return;
      }
      case 'block': {
        for (const h of s.heads) this.escape(h);
        s.aliases?.forEach((a) => a && this.forget(a));
        if (s.label !== 'while') return this.block(s.body);
        const outer = this.loopId;
        this.loopId = ++this.loops;
        this.loopBodies.push(s.body);
        this.block(s.body);
        this.loopBodies.pop();
        this.loopId = outer;
        return;
      }
      case 'function':
      case 'class':
        // A nested definition that reads a new value may store it later.
        this.closure(s);
        return;
      default:
        return;
    }
  }

  /** `return w - lr * m`: the caller gets a parameter's new value stepped by the average. */
  private returned(value: Expr): void {
    const items = value.kind === 'seq' ? value.items : [value];
    for (const item of items) {
      const v = this.eval(item);
      this.stepped(v);
      // `return lr * m / (np.sqrt(v) + eps)` of a method its class calls as a step (`w -= self._update(g, i)`): the new values it reads are applied.
      if (value.kind !== 'seq' && item.kind !== 'name' && returnAppliedByClass(this.facts, this.fn)) for (const a of atomsOf(v)) if (a.k === 'sym' && a.key.startsWith(NEW)) this.mark(a.key, 'applied');
      // `return w - g`: the caller's parameter, stepped.
      for (const a of atomsOf(v)) if (a.k === 'sym' && this.persistent(a.key) && !a.key.startsWith(NEW)) this.paramStep(a.key, v);
    }
  }

  /** Whether `v` is a persistent place plus a step (`w - lr * m`, `w + v`, `(1 - lr * wd) * w - …`). */
  private stepsPlace(v: Poly): boolean {
    for (const key of bareSymbols(v)) {
      if (!this.persistent(key)) continue;
      const split = splitSelf(v, key);
      if (split && (numeric(split.self) === 1 || decoupledShrink(split.self, stepScalar))) return true;
    }
    return false;
  }

  /** `w - lr * m` for an argument or a place w: a parameter's new value stepped by the average (returned, or kept in a local that is). */
  private stepped(v: Poly): void {
    for (const key of bareSymbols(v)) {
      if (!this.persistent(key)) continue;
      const split = splitSelf(v, key);
      if (!split || (numeric(split.self) !== 1 && !decoupledShrink(split.self, stepScalar))) continue;
      // Stepped by a rate times the average (`w - lr * m`), not centred by it (`x - mean`).
      for (const m of split.rest) {
        if (m.fs.length < 2) continue;
        for (const b of atomsOf([m])) if (b.k === 'sym' && b.key.startsWith(NEW)) this.mark(b.key, 'applied');
      }
    }
  }

  private forget(target: Expr): void {
    if (target.kind === 'name') this.env.set(target.name, this.fresh());
    else if (target.kind === 'seq') target.items.forEach((t) => this.forget(t));
  }

  /** `for m, v in zip(self.ms, self.vs)`: each loop variable is an element of the list it walks. */
  private loop(target: Expr, iter: Expr): void {
    const names = target.kind === 'name' ? [target] : target.kind === 'seq' ? target.items : [];
    names.forEach((t, i) => {
      // `for i, (p, g) in enumerate(zip(params, grads))`: the inner tuple walks the zip.
      const inner = t.kind === 'seq' && target.kind === 'seq' ? nestedIterable(iter, i) : undefined;
      if (t.kind === 'seq' && inner) return this.loop(t, inner);
      if (t.kind !== 'name') return this.forget(t);
      const source = loopSource(iter, target.kind === 'name' ? 0 : i, (x) => this.facts.analyzer.isModule(x));
      if (source?.kind === 'element' && source.collection.kind === 'name') this.carry(source.collection.name);
      const collection = source?.kind === 'element' && (source.collection.kind === 'name' || source.collection.kind === 'attr' || source.collection.kind === 'index') ? this.keyOf(source.collection) : undefined;
      if (source?.kind === 'element' && collection === undefined && source.collection.kind === 'name' && (this.bound.has(source.collection.name) || this.env.has(source.collection.name)) && plainSymbol(this.env.get(source.collection.name) ?? []) === undefined) {
        // An element of a list the function builds (`grads = grad_fn(w)`): a tensor of its own, kept nowhere.
        this.env.set(t.name, sym(`${source.collection.name}${ELEMENT}`));
        return;
      }
      if (source?.kind !== 'element' || collection === undefined || !this.persistent(collection)) return this.forget(t);
      const key = collection + ELEMENT;
      if (!this.placeText.has(key)) this.placeText.set(key, this.facts.source((source as { collection: Expr }).collection.span));
      this.env.set(t.name, sym(key));
    });
  }

  /**
   * A local list walked inside another loop persists across that loop's iterations when the
   * enclosing loop's body (this loop included) never rebinds it: the next iteration reads its
   * elements again. Checked once per name.
   */
  private carry(name: string): void {
    const body = this.loopBodies[this.loopBodies.length - 1];
    if (body === undefined || this.carried.has(name) || !this.bound.has(name) || this.roots.has(name)) return;
    // A local that aliases a place (`v = self.v`) is that place already.
    const held = this.env.get(name);
    if (held !== undefined && plainSymbol(held) !== undefined) return;
    if (boundInLoop(body).has(name)) return;
    this.carried.add(name);
    this.env.delete(name);
  }

  private assign(s: Stmt & { kind: 'assign' }): void {
    this.escape(s.value);
    if (s.targets.length !== 1) {
      for (const t of s.targets) this.storeInto(t, s.value);
      return;
    }
    const target = s.targets[0];
    if (target.kind === 'seq') {
      if (s.value.kind === 'seq' && s.value.items.length === target.items.length) {
        // `self.m[i], self.v[i] = m, v`: item by item.
        const values = s.value.items.map((x) => this.eval(x));
        target.items.forEach((t, i) => (t.kind === 'name' ? this.env.set(t.name, values[i]) : this.storeInto(t, (s.value as { items: Expr[] }).items[i])));
      } else target.items.forEach((t) => (t.kind === 'name' ? this.forget(t) : this.storeInto(t, s.value)));
      return;
    }
    let value = (!s.op && target.kind === 'name' && this.copiedBack(target.name, s.value)) || this.eval(s.value);
    if (s.op) {
      const old = this.read(target);
      value = s.op === '+' ? add(old, value) : s.op === '-' ? sub(old, value) : s.op === '*' ? mul(old, value) : (div(old, value) ?? this.fresh());
      // `p -= lr * m_hat` with p an element or an alias of a place: an update in place.
      if (target.kind !== 'name' || this.keyOf(target) !== undefined) {
        this.writeTo(target, value, true);
        if (target.kind === 'name' && plainSymbol(this.env.get(target.name) ?? []) !== undefined) return;
      }
      if (target.kind === 'name') this.env.set(target.name, value);
      return;
    }
    if (target.kind !== 'name') return this.storeInto(target, s.value, value);
    // A parameter rebound from itself (`def step(w, dw, v): v = mu * v - lr * dw`) held the caller's state.
    const found = this.average(value, this.env.get(target.name) ?? (this.roots.has(target.name) ? sym(target.name) : undefined));
    if (found) {
      const id = `${NEW}${this.candidates.length}`;
      const reads = [...new Set(atomsOf(value).flatMap((a) => (a.k === 'sym' && a.key.startsWith(NEW) ? [a.key] : [])))];
      const split = splitSelf(value, found.element ? `${found.state}${ELEMENT}` : found.state);
      const terms = split ? this.termsOf(split.rest, plainSymbol(split.self)) : [];
      const averaged = split ? averages(split.self, split.rest, plainSymbol(split.self)) : false;
      this.candidates.push({ id, span: trimSpan(this.facts, s.span), local: target.name, ...found, stored: false, applied: false, reads, storedBack: false, terms, averaged, path: this.path, loop: this.loopId });
      this.env.set(target.name, sym(id));
      return;
    }
    const direct = this.directSum(value, this.env.get(target.name));
    if (direct) this.directSums.push({ span: trimSpan(this.facts, s.span), local: target.name, ...direct, path: this.path, loop: this.loopId, at: s.span.end });
    const max = this.runningMax(value);
    if (max) {
      const id = `${NEW}${this.candidates.length}`;
      const reads = [...new Set(atomsOf(value).flatMap((a) => (a.k === 'sym' && a.key.startsWith(NEW) ? [a.key] : [])))];
      this.candidates.push({ id, span: trimSpan(this.facts, s.span), local: target.name, ...max, stored: false, applied: false, reads, storedBack: false, terms: [], averaged: false, path: this.path, loop: this.loopId, max: true });
      this.env.set(target.name, sym(id));
      return;
    }
    this.stepped(value);
    this.env.set(target.name, value);
  }

  /** The place a value copies as it is: the place itself, `list(S)`, `S.copy()`, `[x for x in S]`. */
  private copiedKey(e: Expr, depth = 0): string | undefined {
    if (depth > 8) return undefined;
    if (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') {
      const key = this.keyOf(e);
      return key !== undefined && !key.startsWith(NEW) ? key : undefined;
    }
    if (e.kind === 'call') {
      if (e.callee.kind === 'name' && isSequenceCopy(e.callee.name) && e.args.length === 1 && e.kwargs.length === 0) return this.copiedKey(e.args[0], depth + 1);
      const math = stepCall(e, (x) => this.facts.analyzer.isModule(x));
      return math && !math.writes && math.value.op === 'expr' ? this.copiedKey(math.value.expr, depth + 1) : undefined;
    }
    if (e.kind === 'comprehension') {
      const g = e.generators;
      const identity = g.length === 1 && !e.filtered && g[0].target.kind === 'name' && e.element.kind === 'name' && e.element.name === g[0].target.name;
      return identity ? this.copiedKey(g[0].iter, depth + 1) : undefined;
    }
    return undefined;
  }

  /** A plain assignment to a place: a store of what it hands on, and a write of the place. */
  private storeInto(target: Expr, valueExpr: Expr, value: Poly = this.eval(valueExpr)): void {
    if (target.kind === 'name') return this.forget(target);
    if (target.kind === 'seq') return target.items.forEach((t) => this.storeInto(t, valueExpr, value));
    const handed = this.handedOn(valueExpr);
    for (const k of handed) this.mark(k, 'stored');
    const key = this.keyOf(target);
    // `self.ms = list(self.ms)`: the place's old value written back stores nothing new.
    const copied = handed.size === 0 ? this.copiedKey(valueExpr) : undefined;
    // `new_state["m"] = [m for m in state["m"]]`: the old value kept as the new state.
    if (copied !== undefined && this.current && this.persistent(copied)) this.copies.push({ key: copied, span: this.current });
    if (key !== undefined && copied !== undefined && overlaps(key, copied)) return;
    if (key !== undefined) for (const c of this.candidates) if (handed.has(c.id) && overlaps(key, c.state)) c.storedBack = true;
    this.writeTo(target, value, false, handed.size === 0 && startValue(valueExpr));
  }

  /**
   * value = a·S + rest with S a persistent place, a the weight of its old value (one symbol or a
   * number in (0, 1)), rest a new term that does not read S. Where the local held S before (a loop
   * element, `v = self.v`), S is that place; a place read directly must be averaged, its weight's
   * complement in the new term (`b * self.v + (1 - b) * g`), so that β and S are not confused.
   */
  private average(value: Poly, before: Poly | undefined): Omit<Candidate, 'id' | 'span' | 'local' | 'stored' | 'applied' | 'reads' | 'storedBack' | 'terms' | 'averaged' | 'path' | 'loop'> | undefined {
    const held = before && plainSymbol(before);
    const keys = held !== undefined && this.persistent(held) ? [held] : [...new Set(atomsOf(value).filter((a) => a.k === 'sym').map((a) => (a as { key: string }).key))];
    for (const key of keys) {
      if (!this.persistent(key) || !mentions(value, key)) continue;
      const split = splitSelf(value, key);
      if (!split || split.rest.length === 0 || !split.rest.some((m) => m.fs.some((f) => f.atom.k === 'sym' && !f.atom.key.startsWith(NEW)))) continue;
      const n = numeric(split.self);
      const beta = plainSymbol(split.self);
      if (!(n !== undefined ? n > 0 && n < 1 : beta !== undefined)) continue;
      if (beta !== undefined && (beta === key || !this.scalarLike(beta))) continue;
      if (key !== held && (!/[.[]/.test(key) || !averages(split.self, split.rest, beta))) continue;
      const element = key.endsWith(ELEMENT);
      const place = this.placeText.get(key) ?? key;
      return { state: element ? key.slice(0, -ELEMENT.length) : key, place, element, weight: beta !== undefined ? (this.placeText.get(beta) ?? beta) : String(n) };
    }
    return undefined;
  }

  /**
   * value = max(a·S, X) (either order) with S a persistent place, a one knob or a number in (0, 1]
   * (1: AMSGrad's max(v̂, v)), and X a tensor that reads neither S nor a new value computed from S:
   * Adamax's u = max(β₂·u, |g|), a running maximum of S. Also max(S, v) with v S's own new average
   * (`consecutive`): the maximum of two consecutive averages, which is a running maximum only if S
   * keeps it; run() reports it when S stores the average instead.
   */
  private runningMax(value: Poly): Omit<Candidate, 'id' | 'span' | 'local' | 'stored' | 'applied' | 'reads' | 'storedBack' | 'terms' | 'averaged' | 'path' | 'loop'> | undefined {
    if (value.length !== 1 || value[0].c !== 1 || value[0].fs.length !== 1) return undefined;
    const f = value[0].fs[0];
    if (f.n !== 1 || f.atom.k !== 'fn' || f.atom.fn !== 'max' || f.atom.args.length !== 2) return undefined;
    const [p, q] = f.atom.args;
    for (const [a, x] of [[p, q], [q, p]]) {
      const keys = a.length === 1 ? a[0].fs.flatMap((g) => (g.n === 1 && g.atom.k === 'sym' && !g.atom.key.startsWith(NEW) && this.persistent(g.atom.key) ? [g.atom.key] : [])) : [];
      for (const key of keys) {
        const split = splitSelf(a, key);
        if (!split || split.rest.length > 0) continue;
        const n = numeric(split.self);
        const beta = plainSymbol(split.self);
        // S is state: the step updates it (or averages it, or starts it), or the class (or file) gives it a
        // zero start; a setting (`max(self.eps, norm)`) is neither. With two symbols, β is the other one.
        const updated = (k: string): boolean => this.candidates.some((c) => overlaps(c.element ? `${c.state}${ELEMENT}` : c.state, k)) || this.written.some((w) => overlaps(w.key, k));
        if (!updated(key) && !this.zeroStarted(key)) continue;
        if (!(n !== undefined ? n > 0 && n <= 1 : beta !== undefined && beta !== key && this.scalarLike(beta) && !updated(beta))) continue;
        const element = key.endsWith(ELEMENT);
        // max(S, v) with v S's own new average (weight 1 on S: AMSGrad's form, not Adamax's β₂·u).
        const own = n === 1 ? plainSymbol(x) : undefined;
        const average = own !== undefined && own.startsWith(NEW) ? this.candidates.find((d) => d.id === own) : undefined;
        if (average && !average.max && average.averaged && average.element === element && overlaps(average.element ? `${average.state}${ELEMENT}` : average.state, key))
          return { state: element ? key.slice(0, -ELEMENT.length) : key, place: this.placeText.get(key) ?? key, element, weight: '1', consecutive: true };
        // X is a tensor (not a number, not a knob), and reads S by no path.
        if (mentions(x, key) || this.readsState(x, key)) continue;
        if (![...this.placesRead(x)].some((k) => !k.startsWith(NEW) && !this.knob(k))) continue;
        return { state: element ? key.slice(0, -ELEMENT.length) : key, place: this.placeText.get(key) ?? key, element, weight: beta !== undefined ? (this.placeText.get(beta) ?? beta) : String(n) };
      }
    }
    return undefined;
  }

  /** The place (its table, for an element or entry) is given a zero start in the class or the file: `self.u = [np.zeros_like(p) …]`. */
  private zeroStarted(key: string): boolean {
    const base = baseOf(key.endsWith(ELEMENT) ? key.slice(0, -ELEMENT.length) : key);
    const scope = this.keptBy(base);
    if (!scope) return false;
    return statementsNaming(this.facts, base).some((stmt) => stmt.span.start >= scope.start && stmt.span.end <= scope.end && placeUses(this.facts, stmt, base).includes('start'));
  }

  /** A value reads a new value computed from the place `key` (directly or through other new values). */
  private readsState(x: Poly, key: string): boolean {
    const seen = new Set<string>();
    const todo = atomsOf(x).flatMap((a) => (a.k === 'sym' && a.key.startsWith(NEW) ? [a.key] : []));
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const c = this.candidates.find((d) => d.id === id);
      if (!c) continue;
      if (overlaps(c.state, key) || overlaps(c.element ? `${c.state}${ELEMENT}` : c.state, key)) return true;
      todo.push(...c.reads);
    }
    return false;
  }

  /**
   * A write of a running maximum's place that holds another update of its old value: the place's own
   * new average (`state['v'] = v` with v = β·state['v'] + …), or S ← a·S + X written directly. It
   * does not keep the maximum. Anything else (a copy of the maximum, a value the walk cannot read)
   * may hold it.
   */
  private otherUpdate(value: Poly, c: Candidate): boolean {
    if (mentions(value, c.id)) return false;
    const held = plainSymbol(value);
    if (held !== undefined && held.startsWith(NEW)) {
      const d = this.candidates.find((x) => x.id === held);
      return d !== undefined && !d.max && overlaps(d.state, c.state);
    }
    const key = c.element ? `${c.state}${ELEMENT}` : c.state;
    for (const k of [key, c.state]) {
      if (!mentions(value, k)) continue;
      const split = splitSelf(value, k);
      if (!split || split.rest.length === 0 || atomsOf(split.rest).some((a) => a.k === 'opaque' || (a.k === 'sym' && a.key.startsWith(NEW)))) continue;
      const n = numeric(split.self);
      const beta = plainSymbol(split.self);
      if (n !== undefined ? n > 0 && n < 1 : beta !== undefined && this.scalarLike(beta)) return true;
    }
    return false;
  }

  /** A weight is a knob, not a tensor the step walks: no loop element, no new value. */
  private scalarLike(key: string): boolean {
    return !key.endsWith(ELEMENT) && !key.startsWith(NEW);
  }
}

const appliedReturns = new WeakMap<object, Set<string>>();
/**
 * A method whose returned value a method of its class subtracts from (or adds to) a place as a step:
 * `weight -= self._update(grad, idx)`, `w += lr * self.direction(g)`. One walk of the class per file.
 */
function returnAppliedByClass(facts: Facts, fn: FunctionDef): boolean {
  const cls = fn.cls;
  if (!cls) return false;
  let names = appliedReturns.get(cls);
  if (!names) {
    const found = new Set<string>();
    names = found;
    appliedReturns.set(cls, found);
    const selfCall = (e: Expr): string | undefined => (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.object.kind === 'name' && isSelfName(e.callee.object.name) ? e.callee.name : undefined);
    const visit = (stmts: readonly Stmt[], depth: number): void => {
      if (depth > 30) return;
      for (const st of stmts) {
        if (st.kind === 'assign' && (st.op === '-' || st.op === '+') && st.targets.length === 1) {
          const v = st.value;
          const name = selfCall(v) ?? (v.kind === 'binary' && v.op === '*' ? (selfCall(v.left) ?? selfCall(v.right)) : undefined);
          if (name !== undefined) found.add(name);
        }
        if (st.kind === 'block' || st.kind === 'for') visit(st.body, depth + 1);
      }
    };
    for (const f of programIndex(facts).functions) if (f.cls === cls) visit(f.body, 0);
  }
  return names.has(fn.name);
}

/**
 * The symbols that stand alone in a term of `v` (`w` in `w - lr * m`), each once: the only places `v`
 * can be a step of, since a step keeps 1 (or 1 − lr·wd) of its place, a term of the place alone.
 * Splitting `v` by every atom of it instead costs the square of a long expression's size.
 */
function bareSymbols(v: Poly): Set<string> {
  const out = new Set<string>();
  for (const m of v) if (m.fs.length === 1 && m.fs[0].n === 1 && m.fs[0].atom.k === 'sym') out.add(m.fs[0].atom.key);
  return out;
}

/** A scalar of the step in a decoupled decay's 1 − ηλ: a symbol raised to a positive power, not a new value nor an element of a list. */
const stepScalar = (f: PolyFactor): boolean => f.n > 0 && f.atom.k === 'sym' && !f.atom.key.startsWith(NEW) && !f.atom.key.endsWith(ELEMENT);

/** Two places in different branches of one `if` chain (`chain:branch` path entries): never both run in one call. */
function exclusivePaths(a: string[], b: string[]): boolean {
  for (const x of a) {
    const chain = x.slice(0, x.indexOf(':') + 1);
    if (b.some((y) => y !== x && y.startsWith(chain))) return true;
  }
  return false;
}

/** The names a comprehension's `for` clauses bind. */
function comprehensionNames(e: Expr & { kind: 'comprehension' }): Set<string> {
  const out = new Set<string>();
  const names = (t: Expr): void => {
    if (t.kind === 'name') out.add(t.name);
    else if (t.kind === 'seq') t.items.forEach(names);
  };
  for (const g of e.generators) names(g.target);
  return out;
}

/** Two points of the walk that one run can both reach: no `if` chain puts them in different branches. */
function compatible(a: string[], b: string[]): boolean {
  return a.every((x) => {
    const [chain, branch] = x.split(':');
    return b.every((y) => !y.startsWith(`${chain}:`) || y === `${chain}:${branch}`);
  });
}

/** Every monomial of the step that reads x reads it once, and at least one does. */
function linearIn(p: Poly, x: string): boolean {
  const with_ = p.filter((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === x));
  return with_.length > 0 && with_.every((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === x && f.n === 1));
}

/** Every term the new value adds is weighted by a multiple of 1 − a: an average (`b * S + (1 - b) * g`), not a sum. */
function averages(self: Poly, rest: Poly, beta: string | undefined): boolean {
  const adds = groupByTensor(rest, new Set(beta !== undefined ? [beta] : []));
  const oneMinus = sub(constant(1), self);
  return adds.length > 0 && adds.every((x) => proportional(x.b, oneMinus) !== undefined);
}

/**
 * The place's new value moves it by the average times the place itself (`x -= (x_other - x) / d *
 * shift`, two discs pushed apart along the line between them): a direction computed from the
 * place, not a parameter's step, which moves it by a rate times the average.
 */
function scaledByPlace(value: Poly, fresh: string, key: string): boolean {
  // The place itself as a factor: a rate read from its norm (`lr * norm(p) / norm(m) * m`, LARS) is still a rate.
  return value.some((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === fresh) && m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === key));
}

/** A key without its last index: `self.vs` for `self.vs[i]` (brackets balanced). */
function outerOf(key: string): string {
  if (!key.endsWith(']')) return key;
  let depth = 0;
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i] === ']') depth++;
    else if (key[i] === '[' && --depth === 0) return key.slice(0, i);
  }
  return key;
}

/** The one symbol a value is, when it is one. */
function plainSymbol(v: Poly): string | undefined {
  if (v.length !== 1 || v[0].c !== 1 || v[0].fs.length !== 1 || v[0].fs[0].n !== 1 || v[0].fs[0].atom.k !== 'sym') return undefined;
  return v[0].fs[0].atom.key;
}

/** Two places that hold or contain each other: writing one changes the other (`self.ms[i]` and `self.ms[*]`). */
function overlaps(written: string, state: string): boolean {
  const base = (k: string): string => (k.endsWith(ELEMENT) ? k.slice(0, -ELEMENT.length) : k);
  const a = base(written);
  const b = base(state);
  return a === b || a.startsWith(`${b}[`) || a.startsWith(`${b}.`) || b.startsWith(`${a}[`) || b.startsWith(`${a}.`);
}

/** `self.net.weights[key] = w - lr * v` with w an element of `self.net.weights`: the place read back. */
function siblingRead(value: Poly, key: string): boolean {
  return atomsOf(value).some((a) => a.k === 'sym' && a.key.endsWith(ELEMENT) && key.startsWith(`${a.key.slice(0, -ELEMENT.length)}[`));
}

/** The names a loop's body binds, collected once per body (every inner loop and every name asks again). */
const boundInLoops = new WeakMap<readonly Stmt[], Set<string>>();
function boundInLoop(body: Stmt[]): Set<string> {
  let names = boundInLoops.get(body);
  if (!names) {
    names = new Set<string>();
    collectBound(body, names);
    boundInLoops.set(body, names);
  }
  return names;
}

function collectBound(stmts: Stmt[], out: Set<string>): void {
  const names = (t: Expr): void => {
    if (t.kind === 'name') out.add(t.name);
    else if (t.kind === 'seq') t.items.forEach(names);
  };
  for (const s of stmts) {
    if (s.kind === 'assign') s.targets.forEach(names);
    else if (s.kind === 'for') {
      names(s.target);
      collectBound(s.body, out);
    } else if (s.kind === 'block') {
      s.aliases?.forEach((a) => a && names(a));
      collectBound(s.body, out);
    } else if (s.kind === 'import') for (const n of s.names) out.add(n.alias);
  }
}

/** The state is kept up to date in another method (or function) of the file: written there, outside the constructor, with a value that is not its zero start. */
function writtenElsewhere(facts: Facts, f: UnstoredState): boolean {
  const index = programIndex(facts);
  // `self.velocities[key]` is kept in `self.velocities`: a write of any of its entries counts.
  const state = exprKeyOfPlace(f.place.split('[')[0]);
  if (state === undefined || !/^(self|this)\./.test(state)) return false;
  for (const stmt of index.stmtBySpan.values()) {
    if ((stmt.span.start <= f.span.start && stmt.span.end >= f.span.end) || stmt.span.start < f.within.start || stmt.span.end > f.within.end) continue;
    // The function's own writes were read by its walk (one in another branch of an `if` chain stores nothing of the new value).
    if (f.fn && stmt.span.start >= f.fn.start && stmt.span.end <= f.fn.end) continue;
    // The constructor gives the state its first value, whatever it is (`params.map((p) => new Float64Array(p.length))`).
    const owner = index.enclosingFunction(index.scopeAt(stmt.span.start));
    if (owner?.isMethod && CONSTRUCTOR_METHODS.includes(owner.name)) continue;
    if (stmt.kind === 'assign') {
      for (const t of stmt.targets) {
        const key = exprKey(t);
        if (key === undefined || !overlaps(key, state)) continue;
        // `self.ms = list(self.ms)`, `[m for m in self.ms]`: the old value written back, not a new one stored.
        if (stmt.op || (!startValue(stmt.value) && !copyOfPlace(facts, stmt.value, state))) return true;
      }
    } else if (stmt.kind === 'expr' && stmt.expr.kind === 'call') {
      const math = stepCall(stmt.expr, (x) => facts.analyzer.isModule(x));
      const key = math?.writes && exprKey(math.writes);
      if (key !== undefined && overlaps(key, state)) return true;
    }
  }
  return false;
}

/**
 * The state is read in another function of the class (or file), the constructor aside: a method that
 * applies it (`step()` reading `self.v`), a report that logs it. Only a state no other code reads is
 * the update's own.
 */
function readElsewhere(facts: Facts, f: UnstoredState, fn: Span): boolean {
  const index = programIndex(facts);
  const state = exprKeyOfPlace(f.place.split('[')[0]);
  // A state handed in (an argument, a dict the caller keeps) is the caller's to read.
  if (state === undefined || !/^(self|this)\./.test(state)) return false;
  const seen = (e: unknown, depth: number): boolean => {
    if (depth > 60 || e === null || typeof e !== 'object') return false;
    if (Array.isArray(e)) return e.some((x) => seen(x, depth + 1));
    const node = e as { kind?: string };
    if (node.kind === 'attr' || node.kind === 'index') {
      const key = exprKey(node as Expr);
      if (key !== undefined && overlaps(key, state)) return true;
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'span' && typeof v === 'object' && seen(v, depth + 1)) return true;
    return false;
  };
  for (const stmt of index.stmtBySpan.values()) {
    if ((stmt.span.start >= fn.start && stmt.span.end <= fn.end) || stmt.span.start < f.within.start || stmt.span.end > f.within.end) continue;
    const owner = index.enclosingFunction(index.scopeAt(stmt.span.start));
    if (!owner || (owner.isMethod && CONSTRUCTOR_METHODS.includes(owner.name))) continue;
    if (stmt.kind === 'assign') {
      // A write of the state (a reset, a start) is not a read; what it writes may be.
      if (seen(stmt.value, 0) || (stmt.op && stmt.targets.some((t) => seen(t, 0)))) return true;
      if (!stmt.op && stmt.targets.some((t) => t.kind === 'index' && (seen(t.index, 0) || (exprKey(t.object) !== undefined && !overlaps(exprKey(t.object)!, state) && seen(t.object, 0))))) return true;
    } else if (stmt.kind === 'expr' || stmt.kind === 'return') {
      if (seen(stmt.kind === 'expr' ? stmt.expr : stmt.value, 0)) return true;
    } else if (stmt.kind === 'for') {
      if (seen(stmt.iter, 0)) return true;
    } else if (stmt.kind === 'block') {
      if (seen(stmt.heads, 0)) return true;
    }
  }
  return false;
}

/** The place's text as a key (`self.ms` → `self.ms`); undefined for anything not a plain place. */
function exprKeyOfPlace(text: string): string | undefined {
  return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(text) ? text : undefined;
}

/** The value is the place's old value, copied: the place itself, `list(S)`, `S.copy()`, `[x for x in S]`. */
function copyOfPlace(facts: Facts, e: Expr, state: string, depth = 0): boolean {
  if (depth > 8) return false;
  const key = e.kind === 'name' || e.kind === 'attr' || e.kind === 'index' ? exprKey(e) : undefined;
  if (key !== undefined) return overlaps(key, state);
  if (e.kind === 'call') {
    if (e.callee.kind === 'name' && isSequenceCopy(e.callee.name) && e.args.length === 1 && e.kwargs.length === 0) return copyOfPlace(facts, e.args[0], state, depth + 1);
    const math = stepCall(e, (x) => facts.analyzer.isModule(x));
    if (math === undefined || math.writes !== undefined || math.value.op !== 'expr') return false;
    return copyOfPlace(facts, math.value.expr, state, depth + 1);
  }
  if (e.kind === 'comprehension') {
    const g = e.generators;
    return g.length === 1 && !e.filtered && g[0].target.kind === 'name' && e.element.kind === 'name' && e.element.name === g[0].target.name && copyOfPlace(facts, g[0].iter, state, depth + 1);
  }
  return false;
}

/** A state's start: zeros, None, an empty container, a list or dict of those. */
export function startValue(e: Expr, depth = 0): boolean {
  if (depth > 8) return false;
  if (zeroValue(e) || isNoneLiteral(e)) return true;
  if (e.kind === 'seq') return e.items.every((x) => startValue(x, depth + 1));
  if (e.kind === 'object') return e.entries.every((x) => startValue(x.value, depth + 1));
  if (e.kind === 'comprehension') return startValue(e.element, depth + 1);
  // A dict comprehension lowers as other[other[key, value], other[target, iterable]].
  const pair = e.kind === 'other' ? e.children[0] : undefined;
  if (pair?.kind === 'other' && pair.children.length === 2 && startValue(pair.children[1], depth + 1)) return true;
  if (e.kind === 'binary' && e.op === '*') return startValue(e.left, depth + 1) || startValue(e.right, depth + 1);
  if (e.kind === 'call' && isDictConstructor(e.callee)) return e.args.every((x) => startValue(x, depth + 1)) && e.kwargs.every((k) => startValue(k.value, depth + 1));
  return false;
}

/** A key without its entries: `self.cache` for `self.cache[layer][k]`. */
function baseOf(key: string): string {
  const i = key.indexOf('[');
  return i < 0 ? key : key.slice(0, i);
}


/**
 * How a place is met in a statement: `start` (given its zero start), `write` (any other write, or a
 * use that may write it: handed to a call, aliased, walked, a method of it called), `read` (an
 * operand of arithmetic, a comparison, or a math function's argument).
 */
function placeUses(facts: Facts, stmt: Stmt, base: string): ('start' | 'write' | 'read')[] {
  const out: ('start' | 'write' | 'read')[] = [];
  const hit = (e: Expr): boolean => {
    if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return false;
    const k = exprKey(e);
    return k !== undefined && (k === base || k.startsWith(`${base}[`) || k.startsWith(`${base}.`));
  };
  const visit = (e: Expr, safe: boolean, depth: number): void => {
    if (depth > 60) return;
    if (hit(e)) {
      out.push(safe ? 'read' : 'write');
      // The entries' indices are reads of their own.
      let x: Expr = e;
      while (x.kind === 'index' || x.kind === 'attr') {
        if (x.kind === 'index') x.index.forEach((i) => visit(i, false, depth + 1));
        x = x.object;
      }
      return;
    }
    switch (e.kind) {
      case 'binary':
        visit(e.left, true, depth + 1);
        visit(e.right, true, depth + 1);
        return;
      case 'unary':
        visit(e.arg, true, depth + 1);
        return;
      case 'other': {
        const compares = e.ops !== undefined && e.ops.length > 0 && e.ops.every((o) => TEST_OPERATORS.has(o));
        e.children.forEach((c) => visit(c, compares, depth + 1));
        return;
      }
      case 'call': {
        const math = stepCall(e, (x) => facts.analyzer.isModule(x));
        const pure = (math !== undefined && !math.writes && e.callee.kind === 'attr' && facts.analyzer.isModule(e.callee.object)) || (e.callee.kind === 'name' && SCALAR_FUNCTIONS.has(e.callee.name));
        visit(e.callee, false, depth + 1);
        e.args.forEach((a) => visit(a, pure, depth + 1));
        e.kwargs.forEach((k) => visit(k.value, pure, depth + 1));
        return;
      }
      default:
        forEachChild(e, (c) => visit(c, false, depth + 1));
    }
  };
  switch (stmt.kind) {
    case 'assign':
      for (const t of stmt.targets) {
        if (hit(t)) {
          out.push(!stmt.op && (startValue(stmt.value) || zeroTypedArray(stmt.value)) ? 'start' : 'write');
          if (t.kind === 'index') t.index.forEach((i) => visit(i, false, 0));
        } else visit(t, false, 0);
      }
      visit(stmt.value, false, 0);
      break;
    case 'expr':
      visit(stmt.expr, false, 0);
      break;
    case 'return':
      if (stmt.value) visit(stmt.value, false, 0);
      break;
    case 'for':
      visit(stmt.target, false, 0);
      visit(stmt.iter, false, 0);
      break;
    case 'block':
      stmt.heads.forEach((h) => visit(h, true, 0));
      stmt.aliases?.forEach((a) => a && visit(a, false, 0));
      break;
    default:
      break;
  }
  return out;
}

const mentioning = new WeakMap<Facts, Map<string, Stmt[]>>();

/**
 * The file's statements by the places their own expressions name (each dotted prefix of a place's
 * key before its first index: `self`, `self.cache` for `self.cache[i]`), built once per file so
 * that the scans below read only the statements that can meet a place.
 */
function statementsNaming(facts: Facts, base: string): Stmt[] {
  let index = mentioning.get(facts);
  if (!index) {
    index = new Map();
    for (const stmt of programIndex(facts).stmtBySpan.values()) {
      const exprs = stmt.kind === 'assign' ? [...stmt.targets, stmt.value] : stmt.kind === 'expr' ? [stmt.expr] : stmt.kind === 'return' ? (stmt.value ? [stmt.value] : []) : stmt.kind === 'for' ? [stmt.target, stmt.iter] : stmt.kind === 'block' ? [...stmt.heads, ...(stmt.aliases ?? []).filter((a): a is Expr => a !== undefined)] : [];
      const bases = new Set<string>();
      for (const e of exprs)
        someExpr(e, (x) => {
          if (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') {
            const k = exprKey(x);
            if (k !== undefined) {
              const b = baseOf(k);
              for (let i = b.indexOf('.'); i >= 0; i = b.indexOf('.', i + 1)) bases.add(b.slice(0, i));
              bases.add(b);
            }
          }
          return false;
        });
      for (const b of bases) {
        const list = index.get(b);
        if (list) list.push(stmt);
        else index.set(b, [stmt]);
      }
    }
    mentioning.set(facts, index);
  }
  return index.get(base) ?? [];
}

/** The place's zero start, when nothing in `within` writes it otherwise (nor may, through a call, an alias or a loop). */
function onlyStarted(facts: Facts, base: string, within: Span): Span | undefined {
  let start: Span | undefined;
  for (const stmt of statementsNaming(facts, base)) {
    if (stmt.span.start < within.start || stmt.span.end > within.end) continue;
    for (const use of placeUses(facts, stmt, base)) {
      if (use === 'write') return undefined;
      // The last start: an entry's zeros (`cache[k] = np.zeros_like(w)`) after the empty table.
      if (use === 'start') start = trimSpan(facts, stmt.span);
    }
  }
  return start;
}

/** Nothing in `within` reads the place but the statement that updates it (`self.v = b * self.v + …`). */
function unreadBesides(facts: Facts, base: string, within: Span, own: Span): boolean {
  for (const stmt of statementsNaming(facts, base)) {
    if (stmt.span.start < within.start || stmt.span.end > within.end) continue;
    const mine = stmt.span.start <= own.start && stmt.span.end >= own.end && stmt.kind === 'assign';
    if (mine) continue;
    // Any use but a write of the place as an assignment's target: its value, a call, a loop, a test.
    const uses = placeUses(facts, stmt.kind === 'assign' ? { ...stmt, targets: [] } : stmt, base);
    if (uses.length > 0) return false;
  }
  return true;
}
