// Training-step structure, for the rules about where a penalty meets the loss (NB3xx).
//
// Per file, lazily and once (cached per Facts object):
// - units: the module, every function and class, and every lambda/arrow (tfjs closures);
// - differentiation events: `loss.backward()`, `scaler.scale(loss).backward()`,
//   `torch.autograd.grad(loss, ...)`, `tape.gradient(loss, ...)`, TF1 `opt.minimize(loss)` /
//   `tf.gradients(loss, ...)`, and closures whose result is differentiated: tfjs/Keras
//   `optimizer.minimize(() => ...)`, tfjs `tf.variableGrads(() => ...)`;
// - recording regions: `with tf.GradientTape() as tape:` blocks and minimized closures, outside
//   of which nothing is recorded; `with torch.no_grad():` / `tape.stop_recording()` blocks;
// - the data flow of a differentiated loss, split into the terms added into it;
// - penalties: the analyzer's canonical penalties, sums and accumulations of them, and
//   collected regularization losses (`sum(model.losses)`, `tf.losses.get_regularization_loss()`,
//   `model.calculateLosses()`), with the places where their value loses its gradient
//   (`p.data`, `.detach()`, `.item()`, `.numpy()`, `float()`, `tf.stop_gradient`, `dataSync()`);
// - layers and models built with regularizers (Keras, TF1 `tf.layers`/slim/`get_variable`, tfjs).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { penaltyOfProduct, type Env } from './analysis';
import { exprKey } from './keys';
import { children, forEachChild, type Binding, type ClassDef, type FunctionDef, type Scope } from './scope';
import type { Program } from '../program';
import { programIndex, type CallSite } from './program';
import { parameterReceiverMethod } from './parameterReceivers';
import { dispatchedFunctions } from './dispatchTables';
import { baseClasses, chosenEntry, construction, enclosingClass, isSelfName, methodOf, instanceClass, ownFieldClass, resolveExpr, returnsOf } from './resolve';
import { autodiffCall, type AutodiffContext, type AutodiffKind } from './autodiff';
import { isHandGradientCall } from './handGradientCalls';
import {
  DETACH_METHODS, PARAMETER_LISTS, REGULARIZER_ARGUMENT, TF1_REGULARIZER_ARGUMENT, isCollectedRegularization, frameworkPath, isFrameworkFunctionalModel, isFrameworkModule, isFunctionalModel, isGradientTape, isKerasLayerCall, isModelCopy, isModuleMoveMethod, isModuleWrapper,
  isModelRunMethod, isNoGradContext, isSequentialModel, isSumFunction, combinesLossList, COLLECTED_LOSSES_ATTRIBUTE, isCollectionGetter, listsCollectedRegularization, REGULARIZATION_LOSSES_KEY, isTf1LayerCall, isWeightListAttribute, isRegularizationCollectionKey, literalFlag, namesRegularizationCollection, readsCollectedRegularization,
  startsTrackedLeaf, zeroValue,
  TRACKING_ATTRIBUTE,
  TRACKING_METHOD,
} from './catalogue';
import { isModelName, mentionsRegularization } from './roles';

export type Call = Extract<Expr, { kind: 'call' }>;
export type Lambda = Extract<Expr, { kind: 'lambda' }>;
type Return = Extract<Stmt, { kind: 'return' }>;

export interface Unit {
  kind: 'module' | 'function' | 'class' | 'lambda';
  span: Span;
  scope: Scope;
  node?: Stmt | Lambda;
  parent?: Unit;
  name?: string;
  body: Stmt[];
}

export interface StmtInfo {
  stmt: Stmt;
  unit: Unit;
  scope: Scope;
  /** Enclosing `for`/block statements inside the unit, outermost first. */
  ancestors: Stmt[];
  list: Stmt[];
  index: number;
}

export interface Returned {
  expr: Expr;
  scope: Scope;
  at: number;
}

export interface DiffEvent {
  /** As facts/autodiff.ts names them; 'function' is `jax.grad(loss_fn)`, whose function's returns are the loss. */
  kind: AutodiffKind;
  call: Call;
  info: StmtInfo;
  /** The differentiated expression, when written at the call (`loss` in `loss.backward()`). */
  loss?: Expr;
  /** For closures (`optimizer.minimize(() => ...)`) and function transformations: what the function returns. */
  returns?: Returned[];
  /** The differentiated function, when it is a named one (`jax.grad(loss_fn)`). */
  fn?: FunctionDef;
  /** Where operations are recorded: the tape's `with` block, or the closure. */
  record?: Span;
  /** `tape.gradient(loss, sources)`: the sources. */
  sources?: Expr;
  tapeName?: string;
}

export interface Term {
  /** An expression added into the loss. */
  expr: Expr;
  scope: Scope;
  at: number;
  /** Where its value is computed, in the unit that differentiates (a helper's call site). */
  site: Span;
  /** Bindings passed through to reach it (outermost first). */
  via: Span[];
  /** The parameters of the helpers it was reached through, bound to the calls' arguments. */
  env?: Env;
}

export interface DetachSite {
  span: Span;
  what: string;
  /** A replacement that keeps the gradient, when one is obvious (`p.data` → `p`). */
  keep?: string;
}

export interface PenaltyInfo {
  kind: 'penalty' | 'collected';
  detached: DetachSite[];
  /** An assignment of the penalty made under `torch.no_grad()` (or a no-grad helper). */
  noGrad?: { span: Span; what: string };
}

export interface RegularizedLayer {
  call: Call;
  /** The regularizer argument (`kernel_regularizer=...`). */
  arg: { name: string; value: Expr };
  style: 'keras' | 'tf1' | 'tfjs';
  unit: Unit;
}

/** What a model is searched for: `found` with the first layer of interest, `plain` when it builds layers and none is one, `unknown`. */
export type ModelStatus<L = RegularizedLayer> = { kind: 'found'; layer: L } | { kind: 'plain' } | { kind: 'unknown' };

/**
 * What a model search looks for in the layers a model builds, so the one resolution of models
 * (variables, `self`, Sequential and Functional models, classes and builder functions in any file)
 * serves every question: layers with regularizers (NB301), layers with biases or normalization
 * weights (NB204).
 */
export interface LayerProbe<L> {
  /** Memo key. */
  readonly id: string;
  /** The first layer of interest built inside a span of a file (a layer call, a function's or class's body). */
  inSpan(t: TrainingFacts, span: Span): L | undefined;
  /** The first one a unit (a function with its lambdas) builds: the layers of a Functional model. */
  inUnit(t: TrainingFacts, unit: Unit): L | undefined;
  /** A layer constructor the probe knows beyond the Keras layers (a torch `nn.Linear(...)` given as the model). */
  isLayer?(t: TrainingFacts, c: Call): boolean;
}

/** Layers built with a regularizer (Keras and tfjs styles). */
export const REGULARIZED_PROBE: LayerProbe<RegularizedLayer> = {
  id: 'regularized',
  inSpan: (t, span) => t.regularizedIn(span),
  inUnit: (t, unit) => t.regularizedOfUnit(unit),
};

const cache = new WeakMap<Facts, TrainingFacts>();

/** The training-step facts of a file, computed once per Facts object. */
export function trainingFacts(facts: Facts): TrainingFacts {
  let t = cache.get(facts);
  if (!t) {
    t = new TrainingFacts(facts);
    cache.set(facts, t);
  }
  return t;
}

// ------------------------------------------------------------------ small helpers

export function pathOf(e: Expr): string[] | undefined {
  if (e.kind === 'name') return [e.name];
  if (e.kind === 'attr') {
    const p = pathOf(e.object);
    return p && [...p, e.name];
  }
  return undefined;
}

export function callName(c: Call): string | undefined {
  return c.callee.kind === 'attr' ? c.callee.name : c.callee.kind === 'name' ? c.callee.name : undefined;
}

export function within(inner: Span, outer: Span): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/**
 * The blocks and loops around the statement of `body` that holds `span`, outermost first ([] for one
 * of `body`'s own statements), nested functions and classes not entered. Undefined when no statement
 * of `body` holds the span, or one of its own functions or classes does; deeper down, the path stops
 * where the span leaves the blocks (a function nested in a loop, a loop's head: the blocks down to it).
 */
export function blocksAround(body: readonly Stmt[], span: Span, depth = 0): Stmt[] | undefined {
  if (depth > 60) return undefined;
  for (const st of body) {
    if (st.span.start > span.start || st.span.end < span.end) continue;
    if (st.kind === 'block' || st.kind === 'for') {
      const inner = blocksAround(st.body, span, depth + 1);
      return inner ? [st, ...inner] : [st];
    }
    return st.kind === 'function' || st.kind === 'class' ? undefined : [];
  }
  return undefined;
}

/** Sub-expressions, not entering lambdas (their bodies belong to their own unit). */
export function subExprs(root: Expr, intoLambdas = false): Expr[] {
  const out: Expr[] = [];
  // One stack for every walk, no closure per call (asked for every statement by many facts); the
  // walk calls nothing that walks again, so it is never re-entered. The same order as a stack per call.
  const base = subSize;
  subStack[subSize++] = root;
  while (subSize > base) {
    const e = subStack[--subSize]!;
    subStack[subSize] = undefined;
    out.push(e);
    if (e.kind === 'lambda' && e !== root && !intoLambdas) continue;
    forEachChild(e, pushSub);
  }
  return out;
}

/** The calls among `subExprs(root)`, in its order, pushed onto `out`. */
function callsIn(root: Expr, out: Call[]): void {
  const base = subSize;
  subStack[subSize++] = root;
  while (subSize > base) {
    const e = subStack[--subSize]!;
    subStack[subSize] = undefined;
    if (e.kind === 'call') out.push(e);
    if (e.kind === 'lambda' && e !== root) continue;
    forEachChild(e, pushSub);
  }
}

const subStack: (Expr | undefined)[] = [];
let subSize = 0;
const pushSub = (c: Expr): void => {
  subStack[subSize++] = c;
};

/** Keys of the names and attributes in an expression, lambdas left out (`loss`, `self.loss`, `self`). */
export function referencedKeys(e: Expr): string[] {
  return subExprs(e).flatMap((x) => (x.kind === 'name' || x.kind === 'attr' ? [exprKey(x) ?? ''] : []));
}

/** Whether `to` can run after `from`: not in the other branch of an `if` (`if ...: loss.backward()` / `else: loss = loss + pen`). */
export function mayFollow(from: StmtInfo, to: StmtInfo): boolean {
  return !from.ancestors.some((x) => x.kind === 'block' && x.label === 'if' && within(to.stmt.span, x.span) && !to.ancestors.includes(x));
}

/** The innermost `for` or `while` loop around a statement, inside its unit. */
export function innermostLoop(info: StmtInfo): Stmt | undefined {
  const loops = info.ancestors.filter((s) => s.kind === 'for' || (s.kind === 'block' && s.label === 'while'));
  return loops[loops.length - 1];
}

export function stmtExprs(s: Stmt): Expr[] {
  switch (s.kind) {
    case 'assign':
      return [...s.targets, s.value];
    case 'expr':
      return [s.expr];
    case 'return':
      return s.value ? [s.value] : [];
    case 'for':
      return [s.target, s.iter];
    case 'block':
      return s.heads;
    default:
      return [];
  }
}

function returnsIn(stmts: Stmt[]): Return[] {
  const out: Return[] = [];
  for (const s of stmts) {
    if (s.kind === 'return') out.push(s);
    else if (s.kind === 'block' || s.kind === 'for') out.push(...returnsIn(s.body));
  }
  return out;
}

export class TrainingFacts {
  readonly units: Unit[] = [];
  readonly infos: StmtInfo[] = [];
  readonly infoOf = new Map<Stmt, StmtInfo>();
  readonly lambdaUnits = new Map<Lambda, Unit>();
  readonly classUnits = new Map<string, Unit>();
  /** `with tf.GradientTape() as tape:` blocks. */
  readonly tapeBlocks: { names: string[]; info: StmtInfo }[] = [];
  /** `with torch.no_grad():`, `with torch.inference_mode():`, `with tape.stop_recording():`. */
  readonly noGradBlocks: Span[] = [];
  readonly diffs: DiffEvent[] = [];
  private readonly tapeVars = new Set<string>();
  private readonly penaltyMemo = new Map<string, PenaltyInfo | null>();
  private readonly termsMemo = new Map<DiffEvent, Term[]>();
  private readonly statusMemo = new Map<string, ModelStatus<unknown>>();
  private readonly fallbackMemo = new Map<string, ModelStatus>();
  private sortedInfos?: StmtInfo[];
  private layersMemo?: RegularizedLayer[];
  private layerUnitsMemo?: Map<Unit, { layers: number; regularized: RegularizedLayer[] }>;

  constructor(readonly facts: Facts) {
    const root: Unit = { kind: 'module', span: facts.scopes.root.span, scope: facts.scopes.root, body: facts.module.body };
    this.units.push(root);
    this.walk(root.body, root, []);
    this.findRegions();
    // The calls of every statement's expressions, in `subExprs`' order (collected before `diffEvent` walks again).
    const calls: Call[] = [];
    for (const info of this.infos)
      for (const e of stmtExprs(info.stmt)) {
        callsIn(e, calls);
        for (let i = 0; i < calls.length; i++) this.diffEvent(calls[i], info);
        calls.length = 0;
      }
  }

  // ---------------------------------------------------------------- structure

  private walk(stmts: Stmt[], unit: Unit, ancestors: Stmt[]): void {
    stmts.forEach((stmt, index) => {
      const scope = this.facts.scopes.stmtScopes.get(stmt) ?? unit.scope;
      const info: StmtInfo = { stmt, unit, scope, ancestors, list: stmts, index };
      this.infos.push(info);
      this.infoOf.set(stmt, info);
      for (const e of stmtExprs(stmt)) this.lambdasIn(e, unit, scope);
      if (stmt.kind === 'function') {
        const first = stmt.body[0];
        const fnScope = (first && this.facts.scopes.stmtScopes.get(first)) || scope;
        const u: Unit = { kind: 'function', span: stmt.span, scope: fnScope, node: stmt, parent: unit, name: stmt.name, body: stmt.body };
        this.units.push(u);
        this.walk(stmt.body, u, []);
      } else if (stmt.kind === 'class') {
        const first = stmt.body[0];
        const u: Unit = { kind: 'class', span: stmt.span, scope: (first && this.facts.scopes.stmtScopes.get(first)) || scope, node: stmt, parent: unit, name: stmt.name, body: stmt.body };
        this.units.push(u);
        if (!this.classUnits.has(stmt.name)) this.classUnits.set(stmt.name, u);
        this.walk(stmt.body, u, []);
      } else if (stmt.kind === 'for' || stmt.kind === 'block') this.walk(stmt.body, unit, [...ancestors, stmt]);
    });
  }

  private lambdasIn(root: Expr, unit: Unit, scope: Scope): void {
    // The outermost lambdas only: the ones nested in them belong to their units.
    // `subExprs`' shared stack (this walk calls nothing that walks again), in the same order as a stack of its own.
    const found: Lambda[] = [];
    const base = subSize;
    subStack[subSize++] = root;
    while (subSize > base) {
      const e = subStack[--subSize]!;
      subStack[subSize] = undefined;
      if (e.kind === 'lambda') found.push(e);
      else forEachChild(e, pushSub);
    }
    for (const x of found) {
      if (this.lambdaUnits.has(x)) continue;
      const u: Unit = { kind: 'lambda', span: x.span, scope: this.facts.program.lambdaScope(x) ?? scope, node: x, parent: unit, body: x.stmts };
      this.units.push(u);
      this.lambdaUnits.set(x, u);
      this.walk(x.stmts, u, []);
      if (x.body && x.stmts.length === 0) this.lambdasIn(x.body, u, u.scope);
    }
  }

  private findRegions(): void {
    for (const info of this.infos) {
      const s = info.stmt;
      if (s.kind === 'assign' && s.value.kind === 'call' && isGradientTape(callName(s.value)))
        for (const t of s.targets) if (t.kind === 'name') this.tapeVars.add(t.name);
    }
    for (const info of this.infos) {
      const s = info.stmt;
      if (s.kind !== 'block' || s.label !== 'with') continue;
      const names: string[] = [];
      let noGrad = false;
      for (const [i, h] of s.heads.entries()) {
        if (h.kind === 'call') {
          const name = callName(h);
          const alias = s.aliases?.[i];
          if (isGradientTape(name)) names.push(alias?.kind === 'name' ? alias.name : '');
          else if ((name && isNoGradContext(name)) || name === 'stop_recording') noGrad = true;
          else if (name === 'set_grad_enabled' && h.args[0]?.kind === 'name' && h.args[0].name === 'False') noGrad = true;
        } else if (h.kind === 'name' && this.tapeVars.has(h.name)) names.push(h.name);
      }
      if (names.length > 0) this.tapeBlocks.push({ names: names.filter((n) => n !== ''), info });
      if (noGrad) this.noGradBlocks.push(s.span);
    }
    for (const t of this.tapeBlocks) for (const n of t.names) this.tapeVars.add(n);
  }

  private diffEvent(c: Call, info: StmtInfo): void {
    const found = autodiffCall(c, this.autodiffContext());
    if (!found) return;
    // `Linear.backward(dout, cache)`: a hand-written layer's static backward called on its class is a
    // function of the project, not a differentiation (autodiff runs on a value, never on a class).
    if (found.kind === 'backward' && c.callee.kind === 'attr' && found.loss === c.callee.object && resolveExpr(this.facts.program, c.callee.object, info.scope, c.span.start)?.kind === 'class') return;
    // `g1, g2 = self.compute_gradients(X, Y, lam)`, `self.backward(X, Y)`: the project's own function, which
    // differentiates nothing, is hand-written backprop (handGradientCalls.ts).
    if ((found.kind === 'backward' || found.kind === 'tf1') && c.callee.kind === 'attr' && !this.facts.analyzer.isModule(c.callee.object) && isHandGradientCall(this.facts.program, c, info.scope, c.span.start)) return;
    const add = (d: Omit<DiffEvent, 'call' | 'info'>): void => void this.diffs.push({ call: c, info, ...d });
    switch (found.kind) {
      case 'tape': {
        const block = this.tapeBlockFor(found.tapeName!, c.span.start, info.unit);
        return add({ kind: 'tape', loss: found.loss, sources: found.sources, tapeName: found.tapeName, record: block?.info.stmt.span });
      }
      case 'closure':
      case 'tf1': {
        // `opt.minimize(loss_fn)`: a closure when the argument is a function; TF1's `minimize(loss)` otherwise.
        const closure = found.fn && this.closureOf(found.fn, info);
        if (closure) return add({ kind: 'closure', returns: closure.returns, record: closure.span, sources: found.sources, fn: closure.fn });
        return found.kind === 'tf1' ? add({ kind: 'tf1', loss: found.loss }) : undefined;
      }
      case 'function': {
        const closure = found.fn && this.closureOf(found.fn, info);
        return closure ? add({ kind: 'function', returns: closure.returns, record: closure.span, fn: closure.fn }) : undefined;
      }
      default:
        return add({ kind: found.kind, loss: found.loss });
    }
  }

  /** The context the autodiff recognizer reads: modules, tapes, imports. */
  autodiffContext(): AutodiffContext {
    return (this.adContext ??= {
      isModule: (e) => this.facts.analyzer.isModule(e),
      isTape: (name) => this.tapeVars.has(name),
      language: this.facts.language === 'python' ? 'python' : 'script',
      importOf: (root) => this.facts.imports.get(root),
      importsMember: (root) => this.facts.scopes.imports.get(root)?.name !== undefined,
    });
  }

  private adContext?: AutodiffContext;

  /** The tape block a `tape.gradient` call belongs to: the latest block binding that name before it. */
  private tapeBlockFor(name: string, at: number, unit: Unit): { names: string[]; info: StmtInfo } | undefined {
    let best: { names: string[]; info: StmtInfo } | undefined;
    for (const t of this.tapeBlocks) {
      if (!t.names.includes(name) || t.info.stmt.span.start > at) continue;
      if (t.info.unit !== unit && !within(unit.span, t.info.stmt.span)) continue;
      if (!best || t.info.stmt.span.start > best.info.stmt.span.start) best = t;
    }
    return best;
  }

  /** A closure passed to `minimize` or `jax.grad`: a lambda, or a name bound to a lambda or a function (any file). */
  private closureOf(e: Expr, info: StmtInfo): { returns: Returned[]; span: Span; fn?: FunctionDef } | undefined {
    if (e.kind === 'lambda') return { returns: this.lambdaReturns(e, info.scope), span: e.span };
    if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
    const key = exprKey(e);
    const b = key !== undefined ? info.scope.lookup(key, info.stmt.span.start) : undefined;
    if (b?.kind === 'assign' && b.value?.kind === 'lambda' && !b.op) return { returns: this.lambdaReturns(b.value, b.scope), span: b.value.span };
    const def = resolveExpr(this.facts.program, e, info.scope, info.stmt.span.start);
    if (def?.kind === 'function') return { returns: this.functionReturns(def.fn), span: def.fn.span, fn: def.fn };
    return undefined;
  }

  lambdaReturns(l: Lambda, outer: Scope): Returned[] {
    const scope = this.facts.program.lambdaScope(l) ?? outer;
    if (l.stmts.length === 0) return l.body ? [{ expr: l.body, scope, at: Infinity }] : [];
    return returnsIn(l.stmts).flatMap((r) => (r.value ? [{ expr: r.value, scope: this.facts.scopes.stmtScopes.get(r) ?? scope, at: r.span.start }] : []));
  }

  functionReturns(fn: FunctionDef): Returned[] {
    return returnsOf(this.facts.program, fn);
  }

  /** The function a call invokes, wherever the program finds it (a helper, a method of a known class, an import). */
  helperOf(c: Call, scope: Scope): FunctionDef | undefined {
    const target = this.facts.analyzer.callTarget(c, scope, c.span.start);
    return target && !target.constructs ? target.fn : undefined;
  }

  /** Statements inside a region, in source order (binary search over the statements sorted by start). */
  infosIn(region: Span): StmtInfo[] {
    if (!this.sortedInfos) this.sortedInfos = [...this.infos].sort((a, b) => a.stmt.span.start - b.stmt.span.start);
    const list = this.sortedInfos;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].stmt.span.start < region.start) lo = mid + 1;
      else hi = mid;
    }
    const out: StmtInfo[] = [];
    for (let i = lo; i < list.length && list[i].stmt.span.start < region.end; i++) if (list[i].stmt.span.end <= region.end) out.push(list[i]);
    return out;
  }

  /** The unit a statement or a position belongs to, innermost. */
  unitAt(span: Span): Unit {
    let best = this.units[0];
    for (const u of this.units) if (within(span, u.span) && u.span.end - u.span.start <= best.span.end - best.span.start) best = u;
    return best;
  }

  /** The nearest enclosing function (or the module) of a unit, skipping lambdas. */
  functionOf(unit: Unit): Unit {
    let u: Unit | undefined = unit;
    while (u && u.kind === 'lambda') u = u.parent;
    return u ?? this.units[0];
  }

  /** A call of a function imported from outside the ML frameworks (a project helper whose body is unknown). */
  isOpaqueHelper(e: Expr, scope: Scope): boolean {
    if (e.kind !== 'call') return false;
    // A helper the program can read is not opaque: its returns were followed into the loss terms.
    if (this.helperOf(e, scope)) return false;
    const root = pathOf(e.callee)?.[0];
    const module = root !== undefined ? this.facts.imports.get(root) : undefined;
    return module !== undefined && !isFrameworkModule(module);
  }

  /** Keys of the names and attributes a differentiation event's loss mentions (`loss`, `self.loss`). */
  lossKeys(d: DiffEvent): string[] {
    let keys = this.lossKeysMemo.get(d);
    if (!keys) this.lossKeysMemo.set(d, (keys = d.loss ? referencedKeys(d.loss) : []));
    return keys;
  }

  /** Rules ask for a differentiation's loss keys once per statement that adds to a loss. */
  private readonly lossKeysMemo = new Map<DiffEvent, string[]>();

  /** `K += P`, `K = K + P`, `K = P + K`, `K = K.add(P)` with P a penalty: what is added to which variable. */
  penaltyAddition(info: StmtInfo): { key: string; penalty: Expr } | undefined {
    const s = info.stmt;
    if (s.kind !== 'assign' || s.targets.length !== 1 || (s.op && s.op !== '+')) return undefined;
    const key = exprKey(s.targets[0]);
    if (key === undefined || s.targets[0].kind === 'index') return undefined;
    let parts = this.addends(s.value);
    if (!s.op) {
      const self = parts.findIndex((p) => exprKey(p) === key);
      if (self < 0) return undefined;
      parts = parts.filter((_, i) => i !== self);
    }
    const penalty = parts.find((p) => this.penalty(p, info.scope, s.span.start));
    return penalty && { key, penalty };
  }

  /** A plain assignment to `key` (not an accumulation) between two offsets, in the unit of `info`. */
  freshAssignmentBetween(key: string, from: number, to: number, info: StmtInfo): boolean {
    return this.infosIn(info.unit.span).some((i) => {
      const s = i.stmt;
      if (i.unit !== info.unit || s.kind !== 'assign' || s.op || s.span.start < from || s.span.start >= to) return false;
      if (!s.targets.some((x) => exprKey(x) === key)) return false;
      return !subExprs(s.value).some((x) => exprKey(x) === key);
    });
  }

  /** Whether a statement inside a region assigns to `key`. */
  assignsIn(key: string, region: Span): boolean {
    return this.infosIn(region).some((i) => i.stmt.kind === 'assign' && i.stmt.targets.some((x) => exprKey(x) === key));
  }

  /**
   * The value of the last plain assignment to `key` made directly in a block (`loss = ...` in a
   * tape's `with` body); undefined when the last one is inside a branch of it.
   */
  lastAssignmentIn(key: string, block: Span): Expr | undefined {
    let last: Expr | undefined;
    for (const info of this.infosIn(block)) {
      const s = info.stmt;
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || exprKey(s.targets[0]) !== key) continue;
      const parent = info.ancestors[info.ancestors.length - 1];
      last = parent && parent.span.start === block.start && parent.span.end === block.end ? s.value : undefined;
    }
    return last;
  }

  inNoGrad(span: Span): boolean {
    return this.noGradBlocks.some((b) => within(span, b));
  }

  // ---------------------------------------------------------------- loss data flow

  /** What a differentiation event differentiates, split into the terms added together. */
  lossTerms(d: DiffEvent): Term[] {
    const hit = this.termsMemo.get(d);
    if (hit) return hit;
    const out: Term[] = [];
    this.termsMemo.set(d, out);
    const visited = new Set<Binding>();
    if (d.loss) this.terms(d.loss, d.info.scope, d.info.stmt.span.start, undefined, [], visited, 0, out);
    for (const r of d.returns ?? []) this.terms(r.expr, r.scope, r.at, undefined, [], visited, 0, out);
    return out;
  }

  private terms(e: Expr, scope: Scope, at: number, callSite: Span | undefined, via: Span[], visited: Set<Binding>, depth: number, out: Term[], env?: Env): void {
    const leaf = (): void => void out.push({ expr: e, scope, at, site: callSite ?? e.span, via, ...(env ? { env } : {}) });
    if (depth > 25) return leaf();
    const d = depth + 1;
    // A binding in the same scope still sees the helper's parameters bound; one elsewhere does not.
    const go = (x: Expr, s = scope, a = at, v = via, site = callSite): void => this.terms(x, s, a, site, v, visited, d, out, s === scope ? env : undefined);
    if ((e.kind === 'binary' || e.kind === 'call') && this.penalty(e, scope, at, env)) return leaf();
    switch (e.kind) {
      case 'binary':
        if (e.op === '+') return go(e.left), go(e.right);
        if (e.op === '-') return go(e.left), go(e.right);
        if (e.op === '*' || e.op === '/') {
          if (this.isScalar(e.right, scope, at)) return go(e.left);
          if (e.op === '*' && this.isScalar(e.left, scope, at)) return go(e.right);
        }
        return leaf();
      case 'call': {
        const arith = this.facts.analyzer.arithmeticCall(e);
        if (arith && (arith.op === '+' || arith.op === '-') && arith.operands[1]) return go(arith.operands[0]!), go(arith.operands[1]);
        if (arith && (arith.op === '*' || arith.op === '/') && arith.operands[1]) {
          if (this.isScalar(arith.operands[1], scope, at)) return go(arith.operands[0]!);
          if (arith.op === '*' && this.isScalar(arith.operands[0]!, scope, at)) return go(arith.operands[1]);
          return leaf();
        }
        const name = callName(e);
        if (name && isSumFunction(name) && e.args.length === 1 && e.args[0].kind === 'seq' && !this.penalty(e, scope, at)) {
          for (const item of e.args[0].items) go(item);
          return;
        }
        if (name === 'tidy' && e.args.length >= 1) {
          const fn = e.args[e.args.length - 1];
          if (fn.kind === 'lambda') {
            for (const r of this.lambdaReturns(fn, scope)) go(r.expr, r.scope, r.at);
            return;
          }
        }
        if (this.penalty(e, scope, at, env)) return leaf();
        const target = this.facts.analyzer.callTarget(e, scope, e.span.start);
        if (target && !target.constructs && depth < 8) {
          const returns = this.functionReturns(target.fn);
          if (returns.length > 0) {
            const inner = this.facts.analyzer.argumentEnv(e, target, scope, at, env);
            for (const r of returns) this.terms(r.expr, r.scope, r.at, callSite ?? e.span, via, visited, d, out, inner);
            return;
          }
        }
        return leaf();
      }
      case 'name':
      case 'attr':
      case 'index': {
        const key = exprKey(e);
        const b = key !== undefined ? scope.lookup(key, at) : undefined;
        if (!b || b.kind !== 'assign' || !b.value || visited.has(b)) return leaf();
        visited.add(b);
        if (!b.op) return go(b.value, b.scope, b.at, [...via, b.span]);
        if (b.op === '+' || b.op === '-') {
          if (this.penalty(e, scope, at, env)) return void out.push({ expr: e, scope, at, site: callSite ?? b.span, via, ...(env ? { env } : {}) });
          go(b.value, b.scope, b.at, [...via, b.span]);
          return go(e, b.scope, b.at, via);
        }
        return go(e, b.scope, b.at, via);
      }
      default:
        return leaf();
    }
  }

  isScalar(e: Expr, scope: Scope, at: number): boolean {
    const p = this.facts.analyzer.classify(e, scope, at);
    return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0;
  }

  // ---------------------------------------------------------------- penalties

  /**
   * Whether `e` is a penalty R(W) (or the collected regularization losses), and how it was built.
   * `env`: the parameters of the helper `e` is in, bound to the arguments of the call that reached it.
   */
  penalty(e: Expr, scope: Scope, at: number, env?: Env): PenaltyInfo | undefined {
    if (env && env.size > 0) {
      // Depends on the call: not memoized.
      if (this.isCollected(e, scope, at, 0)) return { kind: 'collected', detached: this.collectedCuts(e, scope, at) };
      return this.isPenalty(e, scope, at, 0, env) ? { kind: 'penalty', ...this.provenance(e, scope, at, env) } : undefined;
    }
    const key = `${e.span.start}:${e.span.end}:${e.kind}:${at}`;
    const hit = this.penaltyMemo.get(key);
    if (hit !== undefined) return hit ?? undefined;
    this.penaltyMemo.set(key, null);
    let result: PenaltyInfo | undefined;
    if (this.isCollected(e, scope, at, 0)) result = { kind: 'collected', detached: this.collectedCuts(e, scope, at) };
    else if (this.isPenalty(e, scope, at, 0)) result = { kind: 'penalty', ...this.provenance(e, scope, at) };
    if (result?.kind === 'penalty' && result.detached.length > 0 && this.keepsGradient(e, scope, at, 0)) result = { ...result, detached: [] };
    this.penaltyMemo.set(key, result ?? null);
    return result;
  }

  /**
   * A product or quotient of penalties one of which keeps its gradient: the term has one, whatever
   * number the others were made (`lam * pen / pen.item()`, `lam * pen / float(sum(...))`, a penalty
   * normalized by its detached size). Names bound once are followed.
   */
  private keepsGradient(e: Expr, scope: Scope, at: number, depth: number): boolean {
    if (depth > 6) return false;
    if (e.kind === 'name') {
      const b = scope.lookup(e.name, at);
      const single = b?.kind === 'assign' && b.value && !b.op && b.scope.allBindings(b.key).filter((x) => x.kind === 'assign').length === 1;
      return single ? this.keepsGradient(b.value!, b.scope, b.at, depth + 1) : false;
    }
    const arith = e.kind === 'call' ? this.facts.analyzer.arithmeticCall(e) : undefined;
    const operands = e.kind === 'binary' && (e.op === '*' || e.op === '/') ? [e.left, e.right] : arith && (arith.op === '*' || arith.op === '/') && arith.operands[1] ? [arith.operands[0]!, arith.operands[1]] : undefined;
    if (!operands) return false;
    return operands.some((x) => {
      if (this.keepsGradient(x, scope, at, depth + 1)) return true;
      if (!this.isPenalty(x, scope, at, 0)) return false;
      const p = this.provenance(x, scope, at);
      return p.detached.length === 0 && !p.noGrad;
    });
  }

  /** `sum(model.losses)`, `tf.add_n(model.losses)`, `tf.losses.get_regularization_loss()`, `model.calculateLosses()`. */
  private isCollected(e: Expr, scope: Scope, at: number, depth: number): boolean {
    if (depth > 8) return false;
    if (e.kind === 'binary' && (e.op === '*' || e.op === '/')) {
      if (this.isScalar(e.right, scope, at)) return this.isCollected(e.left, scope, at, depth + 1);
      return e.op === '*' && this.isScalar(e.left, scope, at) && this.isCollected(e.right, scope, at, depth + 1);
    }
    if (e.kind === 'name') {
      const b = scope.lookup(e.name, at);
      return !!(b?.kind === 'assign' && b.value && !b.op && this.isCollected(b.value, b.scope, b.at, depth + 1));
    }
    if (e.kind !== 'call') return false;
    const name = callName(e);
    if (name && isCollectedRegularization(name)) {
      // A method of the project's own under the framework's name whose body is a penalty of its own
      // (`self.get_regularization_loss()` summing its registered weights) is read as that penalty;
      // any other body (a wrapper of `model.losses`, something unread) keeps the name's meaning.
      const target = this.facts.analyzer.callTarget(e, scope, e.span.start);
      return !target || !!target.constructs || !this.isPenalty(e, scope, at, depth + 1);
    }
    const arg = e.args[0];
    if (!name || !arg) return false;
    // `tf.add_n(losses, 'regu')`: a second positional string is the op's name.
    const named = e.args.length === 2 && e.args[1].kind === 'str';
    if (combinesLossList(name) && (e.args.length === 1 || named)) return this.isLossesList(arg);
    return false;
  }

  /**
   * Where collected losses lose their gradient: `[tf.stop_gradient(t) for t in model.losses]`, a
   * detaching wrapper around the element of a comprehension over the collected list.
   */
  private collectedCuts(e: Expr, scope: Scope, at: number): DetachSite[] {
    const cuts: DetachSite[] = [];
    const seen = new Set<Expr>();
    const visit = (x: Expr, sc: Scope, a: number, depth: number): void => {
      if (depth > 8 || seen.has(x)) return;
      seen.add(x);
      if (x.kind === 'name') {
        const b = sc.lookup(x.name, a);
        if (b?.kind === 'assign' && b.value && !b.op) visit(b.value, b.scope, b.at, depth + 1);
        return;
      }
      if (x.kind === 'comprehension' && x.generators.length === 1 && this.isLossesList(x.generators[0].iter)) {
        const element = exprKey(x.generators[0].target);
        for (const y of subExprs(x.element)) {
          const operand = this.detachOperand(y);
          if (operand && element !== undefined && subExprs(operand).some((z) => z.kind === 'name' && z.name === element)) cuts.push(this.detachSite(y, operand));
        }
        return;
      }
      for (const c of children(x)) visit(c, sc, a, depth + 1);
    };
    visit(e, scope, at, 0);
    return cuts;
  }

  /**
   * `model.losses`, `tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)`, `model.calculateLosses()`,
   * and a comprehension over one of them, element by element (`[w * t for t in model.losses]`).
   */
  private isLossesList(e: Expr): boolean {
    if (e.kind === 'comprehension') {
      if (e.generators.length !== 1) return false;
      const g = e.generators[0];
      const element = exprKey(g.target);
      return element !== undefined && this.isLossesList(g.iter) && subExprs(e.element).some((z) => z.kind === 'name' && z.name === element);
    }
    if (e.kind === 'attr' && e.name === COLLECTED_LOSSES_ATTRIBUTE) return !this.facts.analyzer.isModule(e.object);
    if (e.kind === 'call') {
      const name = callName(e);
      if (name && listsCollectedRegularization(name)) return true;
      if (name && isCollectionGetter(name)) return subExprs(e).some((x) => (x.kind === 'attr' && isRegularizationCollectionKey(x.name)) || (x.kind === 'str' && x.value === REGULARIZATION_LOSSES_KEY));
    }
    return false;
  }

  private classifiesAsPenalty(e: Expr, scope: Scope, at: number, env?: Env): boolean {
    const stripped = this.strip(e);
    const product = this.facts.analyzer.classify(stripped, scope, at, env ?? (stripped === e ? undefined : new Map()));
    return penaltyOfProduct(product) !== undefined;
  }

  private isPenalty(e: Expr, scope: Scope, at: number, depth: number, env?: Env): boolean {
    if (depth > 12) return false;
    if (this.classifiesAsPenalty(e, scope, at, env)) return true;
    const d = depth + 1;
    const s = this.strip(e);
    if (s !== e && s.kind !== e.kind) return this.isPenalty(s, scope, at, d, env);
    switch (s.kind) {
      case 'binary':
        if (s.op === '*' || s.op === '/') {
          // Both sides may read as scalars: a penalty made a number (`0.1 * pen`, `pen = sum(…).item()`).
          if (this.isScalar(s.right, scope, at) && this.isPenalty(s.left, scope, at, d, env)) return true;
          return s.op === '*' && this.isScalar(s.left, scope, at) && this.isPenalty(s.right, scope, at, d, env);
        }
        if (s.op === '+') return this.isPenalty(s.left, scope, at, d, env) && this.isPenalty(s.right, scope, at, d, env);
        return false;
      case 'call': {
        const arith = this.facts.analyzer.arithmeticCall(s);
        if (arith && arith.operands[1]) {
          const [a, b] = [arith.operands[0]!, arith.operands[1]];
          if (arith.op === '+') return this.isPenalty(a, scope, at, d, env) && this.isPenalty(b, scope, at, d, env);
          if (arith.op === '*' || arith.op === '/') {
            if (this.isScalar(b, scope, at) && this.isPenalty(a, scope, at, d, env)) return true;
            return arith.op === '*' && this.isScalar(a, scope, at) && this.isPenalty(b, scope, at, d, env);
          }
          return false;
        }
        const name = callName(s);
        // sum([...]), tf.add_n([...]), tf.addN([...]), sum(... for p in ...), torch.stack([...]).sum()
        let list: Expr | undefined = name && isSumFunction(name) && s.args.length === 1 ? s.args[0] : undefined;
        if (!list && name === 'sum' && s.args.length === 0 && s.callee.kind === 'attr' && s.callee.object.kind === 'call' && callName(s.callee.object) === 'stack')
          list = s.callee.object.args[0];
        // A list bound to a name once before it is summed (`norms = [p.norm(1) for p in …]`, then `sum(norms)`).
        if (list?.kind === 'name') {
          const b = scope.lookup(list.name, at);
          const bound = b?.kind === 'assign' && !b.op && b.value && (b.value.kind === 'seq' || b.value.kind === 'comprehension') ? b : undefined;
          if (bound && bound.scope === scope && scope.allBindings(bound.key).filter((x) => x.kind === 'assign').length === 1) list = bound.value;
        }
        if (list?.kind === 'seq') return list.items.length > 0 && list.items.every((x) => this.isPenalty(x, scope, at, d, env));
        if (list?.kind === 'comprehension') {
          const inner = this.facts.program.lambdaScope(list) ?? scope;
          return this.isPenalty(list.element, inner, Infinity, d, env);
        }
        const target = this.facts.analyzer.callTarget(s, scope, s.span.start);
        if (target && !target.constructs) {
          const returns = this.functionReturns(target.fn);
          const inner = this.facts.analyzer.argumentEnv(s, target, scope, at, env);
          return returns.length > 0 && returns.every((r) => this.isPenalty(r.expr, r.scope, r.at, d, inner));
        }
        return false;
      }
      case 'name':
      case 'attr': {
        const key = exprKey(s);
        const b = key !== undefined ? scope.lookup(key, at) : undefined;
        if (!b || b.kind !== 'assign' || !b.value) return false;
        const own = env && b.scope === scope ? env : undefined;
        if (!b.op && !this.accumulationStep(b)) return this.isPenalty(b.value, b.scope, b.at, d, own);
        return this.isAccumulation(b, d, own);
      }
      default:
        return false;
    }
  }

  /** What `K = K + x` / `K += x` adds; undefined for other bindings. */
  private accumulationStep(b: Binding): Expr[] | undefined {
    if (!b.value) return undefined;
    if (b.op === '+') return [b.value];
    if (b.op) return undefined;
    const parts = this.addends(b.value);
    const self = parts.findIndex((p) => exprKey(p) === b.key);
    return self >= 0 && parts.length > 1 ? parts.filter((_, i) => i !== self) : undefined;
  }

  /** `reg = 0` then `reg += penalty` (or `reg = reg + penalty`), as in a loop over parameters. */
  private isAccumulation(b: Binding, depth: number, env?: Env): boolean {
    const all = b.scope.allBindings(b.key).filter((x) => x.at <= b.at || b.loops.length > 0).sort((x, y) => x.at - y.at);
    let start = -1;
    for (let i = all.length - 1; i >= 0; i--) {
      if (all[i].at > b.at) continue;
      if (!this.accumulationStep(all[i])) {
        start = i;
        break;
      }
    }
    if (start < 0 || !all[start].value || zeroValue(all[start].value!) === undefined) return false;
    const steps = all.slice(start + 1).filter((x) => x.at <= b.at || x.loops.length > 0);
    if (steps.length === 0) return false;
    return steps.every((x) => (this.accumulationStep(x) ?? []).every((v) => this.isPenalty(v, x.scope, x.at, depth + 1, env && x.scope === b.scope ? env : undefined)));
  }

  /** `a + b`, `a.add(b)`, `tf.add(a, b)` → [a, b], flattened. */
  addends(e: Expr): Expr[] {
    if (e.kind === 'binary' && e.op === '+') return [...this.addends(e.left), ...this.addends(e.right)];
    if (e.kind === 'call') {
      const arith = this.facts.analyzer.arithmeticCall(e);
      if (arith?.op === '+' && arith.operands[1] && !arith.operands[2]) return [...this.addends(arith.operands[0]!), ...this.addends(arith.operands[1])];
    }
    return [e];
  }

  private readonly stripChild = (c: Expr): Expr => this.strip(c);
  /** Each expression stripped once: the penalty tests strip a sum, then each of its parts again, level by level. */
  private readonly stripped = new WeakMap<Expr, Expr>();

  /** The expression with gradient-cutting wrappers removed (`p.detach()` → `p`), or `e` itself. */
  strip(e: Expr): Expr {
    let s = this.stripped.get(e);
    if (!s) this.stripped.set(e, (s = this.stripUncached(e)));
    return s;
  }

  private stripUncached(e: Expr): Expr {
    // `w.dataSync()[0]`, `t.tolist()[0]`: an element read back from a detached copy.
    if (e.kind === 'index' && e.object.kind === 'call' && this.detachOperand(e.object)) return this.strip(e.object);
    const operand = this.detachOperand(e);
    if (operand) return this.strip(operand);
    const rebuilt = mapChildren(e, this.stripChild);
    if (rebuilt !== e && (e.kind === 'comprehension' || e.kind === 'lambda')) {
      const s = this.facts.program.lambdaScope(e);
      if (s) this.facts.scopes.lambdaScopes.set(rebuilt, s);
    }
    return rebuilt;
  }

  /** The operand of a wrapper that cuts the gradient, or of a re-wrap (`tf.scalar(x)`). */
  private detachOperand(e: Expr): Expr | undefined {
    if (e.kind === 'attr' && e.name === 'data' && this.facts.language === 'python') return e.object;
    if (e.kind !== 'call') return undefined;
    const name = callName(e);
    if (!name) return undefined;
    if (e.callee.kind === 'attr' && !this.facts.analyzer.isModule(e.callee.object)) {
      if (e.args.length === 0 && (DETACH_METHODS.has(name) || (name === 'data' && this.facts.language !== 'python'))) return e.callee.object;
      return undefined;
    }
    if (name === 'stop_gradient' && e.args.length === 1) return e.args[0];
    if ((name === 'float' || name === 'Number') && e.callee.kind === 'name' && e.args.length === 1) return e.args[0];
    if ((name === 'tensor' || name === 'scalar') && e.callee.kind === 'attr' && e.args.length >= 1 && e.args[0].kind !== 'num' && e.args[0].kind !== 'seq') return e.args[0];
    return undefined;
  }

  /** Where the penalty's value loses its gradient, following the names and helpers it is built from. */
  private provenance(e: Expr, scope: Scope, at: number, env?: Env): Omit<PenaltyInfo, 'kind'> {
    const detached: (DetachSite & { depth: number })[] = [];
    let noGrad: PenaltyInfo['noGrad'];
    const seen = new Set<Expr>();
    // `env`: the parameters of the helper `x` is in, bound to the call's arguments (a loop over a handed parameter list).
    const visit = (x: Expr, s: Scope, a: number, depth: number, env?: Env): void => {
      if (depth > 10 || seen.has(x)) return;
      seen.add(x);
      const stack: { e: Expr; s: Scope; a: number }[] = [{ e: x, s, a }];
      while (stack.length > 0) {
        const cur = stack.pop()!;
        // A new leaf that autograd tracks (`w.detach().clone().requires_grad_(True)`, `nn.Parameter(w.detach())`):
        // the penalty's gradient reaches it, whatever value it copied.
        if (cur.e.kind === 'call' && startsTrackedLeaf(cur.e)) continue;
        const operand = this.detachOperand(cur.e);
        if (operand && this.cutsGradient(cur.e, operand, cur.s, cur.a, env)) detached.push({ ...this.detachSite(cur.e, operand), depth });
        if (cur.e.kind === 'call' && callName(cur.e) === 'get_weights' && this.facts.language === 'python')
          detached.push({ span: cur.e.span, what: `${this.text(cur.e)} returns NumPy copies of the weights`, depth });
        if (cur.e.kind === 'name' || cur.e.kind === 'attr') {
          const key = exprKey(cur.e);
          const b = key !== undefined ? cur.s.lookup(key, cur.a) : undefined;
          if (b?.kind === 'assign' && b.value && !this.trackedAgain(key!, b, cur.s, cur.a)) {
            const bindings = b.op || this.accumulationStep(b) ? b.scope.allBindings(b.key).filter((y) => y.kind === 'assign' && (y.at <= b.at || b.loops.length > 0)) : [b];
            for (const y of bindings) {
              // A tracked leaf made under no_grad (`with torch.no_grad(): ref = w.clone().requires_grad_()`) still records
              // later operations; so does a list of them (`params = [(w - lr * g).requires_grad_() for w, g in …]`).
              if (y.value && tracksLeaves(y.value)) continue;
              const stmtSpan = y.span;
              if (!noGrad && this.inNoGrad(stmtSpan)) noGrad = { span: stmtSpan, what: 'it is computed under a no-grad context' };
              if (y.value) visit(y.value, y.scope, y.at, depth + 1, env && y.scope === cur.s ? env : undefined);
            }
          }
        }
        if (cur.e.kind === 'call') {
          const target = this.facts.analyzer.callTarget(cur.e, cur.s, cur.e.span.start);
          if (target && !target.constructs) {
            const helper = target.fn;
            if (!noGrad && helper.decorators.some(isNoGradDecorator)) noGrad = { span: cur.e.span, what: `${helper.name} runs under @torch.no_grad()` };
            const inner = this.facts.analyzer.argumentEnv(cur.e, target, cur.s, cur.a, env);
            for (const r of this.functionReturns(helper)) visit(r.expr, r.scope, r.at, depth + 1, inner);
          }
        }
        for (const c of children(cur.e)) {
          const inner = cur.e.kind === 'comprehension' || cur.e.kind === 'lambda' ? this.facts.program.lambdaScope(cur.e) : undefined;
          stack.push({ e: c, s: inner ?? cur.s, a: inner ? Infinity : cur.a });
        }
      }
    };
    visit(e, scope, at, 0, env);
    if (!noGrad && this.inNoGrad(e.span)) noGrad = { span: e.span, what: 'it is computed under a no-grad context' };
    detached.sort((a, b) => a.depth - b.depth || a.span.start - b.span.start);
    return { detached: detached.map(({ depth: _, ...site }) => site), noGrad };
  }

  /**
   * Whether the value bound by `b` was made a tracked leaf again before the use at `at`:
   * `ref = w.detach().clone()` then `ref.requires_grad_()` or `ref.requires_grad = True`.
   */
  private trackedAgain(key: string, b: Binding, scope: Scope, at: number): boolean {
    const flag = scope.lookup(`${key}.${TRACKING_ATTRIBUTE}`, at);
    if (flag?.kind === 'assign' && flag.value && !flag.op && literalFlag(flag.value) === true && flag.scope.lookup(key, flag.at) === b) return true;
    return programIndex(this.facts)
      .callsNamed(TRACKING_METHOD)
      .some((c) => c.at > b.at && c.at < at && c.call.callee.kind === 'attr' && exprKey(c.call.callee.object) === key && startsTrackedLeaf(c.call) && c.scope.lookup(key, c.at) === b);
  }

  /** A wrapper cuts a penalty's gradient when what it wraps carries a parameter. */
  private cutsGradient(wrapper: Expr, operand: Expr, scope: Scope, at: number, env?: Env): boolean {
    if (wrapper.kind === 'call' && (callName(wrapper) === 'tensor' || callName(wrapper) === 'scalar')) {
      // `torch.tensor(t)` copies a tensor without its graph; `tf.scalar(x)` only wraps a number.
      if (!(wrapper.callee.kind === 'attr' && pathOf(wrapper.callee)?.[0] === 'torch')) return false;
    }
    // `self.data` in a from-scratch autodiff class that stores `data` itself is that class's own field (whose
    // methods carry the gradient by hand), not torch's history-less `.data`.
    if (wrapper.kind === 'attr' && ownFieldClass(this.facts.program, operand, wrapper.name, scope, at)) return false;
    const stripped = this.strip(operand);
    const p = this.facts.analyzer.classify(stripped, scope, at, env ?? (stripped === operand ? undefined : new Map()));
    if (p.penalty || p.params.length > 0 || p.abs.length > 0) return true;
    // A whole penalty made a number (`sum(p.abs().sum() for p in net.parameters()).item()`, `float(sum(norms))`).
    if (this.isPenalty(operand, scope, at, 0, env)) return true;
    return subExprs(operand).some((x) => (x.kind === 'name' || x.kind === 'attr') && this.facts.analyzer.isParam(x) && !this.isScalar(x, scope, at));
  }

  private detachSite(wrapper: Expr, operand: Expr): DetachSite {
    const text = this.text(wrapper);
    const inner = this.text(operand);
    if (wrapper.kind === 'attr') return { span: wrapper.span, what: `${text} is the tensor without its autograd history`, keep: inner };
    const name = wrapper.kind === 'call' ? callName(wrapper) : undefined;
    if (name === 'detach') return { span: wrapper.span, what: `${text} is cut from the autograd graph`, keep: inner };
    if (name === 'stop_gradient') return { span: wrapper.span, what: `${text} blocks the gradient`, keep: inner };
    if (name === 'item' || name === 'float' || name === 'Number') return { span: wrapper.span, what: `${text} is a Python number, not a tensor` };
    if (name === 'tensor') return { span: wrapper.span, what: `${text} copies the value into a new tensor without its graph` };
    return { span: wrapper.span, what: `${text} leaves the autograd graph` };
  }

  text(e: { span: Span }): string {
    return this.facts.source(e.span);
  }

  // ---------------------------------------------------------------- regularized models

  /** Every layer built with a regularizer (Keras, TF1 layers/slim/get_variable, tfjs). */
  regularizedLayers(): RegularizedLayer[] {
    if (this.layersMemo) return this.layersMemo;
    const out: RegularizedLayer[] = [];
    for (const info of this.infos) {
      for (const e of stmtExprs(info.stmt)) {
        for (const x of subExprs(e)) {
          if (x.kind !== 'call') continue;
          const layer = this.regularizedLayer(x, info);
          if (layer) out.push(layer);
        }
      }
    }
    this.layersMemo = out;
    return out;
  }

  private regularizedLayer(c: Call, info: StmtInfo): RegularizedLayer | undefined {
    const path = pathOf(c.callee) ?? [];
    if (this.facts.language === 'python') {
      const tf1 = isTf1LayerCall(path);
      for (const k of c.kwargs) {
        if (!(tf1 ? TF1_REGULARIZER_ARGUMENT : REGULARIZER_ARGUMENT).test(k.name)) continue;
        if (this.realRegularizer(k.value, info.scope, info.stmt.span.start)) return { call: c, arg: k, style: tf1 ? 'tf1' : 'keras', unit: info.unit };
      }
      return undefined;
    }
    const config = c.args.find((a) => a.kind === 'object');
    if (!config || config.kind !== 'object') return undefined;
    for (const k of config.entries) {
      if (REGULARIZER_ARGUMENT.test(k.name) && this.realRegularizer(k.value, info.scope, info.stmt.span.start)) return { call: c, arg: k, style: 'tfjs', unit: info.unit };
    }
    return undefined;
  }

  /** A regularizer that adds a penalty: a call such as `l2(1e-4)` or a string such as `'l2'`, not `None` or `l2(0)`. */
  private realRegularizer(e: Expr, scope: Scope, at: number, depth = 0): boolean {
    if (e.kind === 'str') return e.value !== '';
    if (e.kind === 'call') {
      const numbers = [...e.args, ...e.kwargs.map((k) => k.value)].filter((a) => a.kind === 'num');
      return !(numbers.length > 0 && numbers.length === e.args.length + e.kwargs.length && numbers.every((a) => a.kind === 'num' && a.value === 0));
    }
    if ((e.kind === 'name' || e.kind === 'attr') && depth < 4) {
      const key = exprKey(e);
      const b = key !== undefined ? scope.lookup(key, at) : undefined;
      if (b) return !!(b.kind === 'assign' && b.value && !b.op && this.realRegularizer(b.value, b.scope, b.at, depth + 1));
      // A regularizer another module builds and this one imports (`import { weightPenalty } from './regs.js'`).
      const def = resolveExpr(this.facts.program, e, scope, at);
      return def?.kind === 'value' && this.realRegularizer(def.expr, def.scope, def.at, depth + 1);
    }
    return false;
  }

  private isLayerCall(c: Call): boolean {
    const path = pathOf(c.callee) ?? [];
    if (this.facts.language !== 'python') return path.length >= 2 && path[path.length - 2] === 'layers';
    return isKerasLayerCall(path);
  }

  /** Per unit (function, class, module; lambdas count for their function): layer calls and regularized layers directly in it. */
  private layerUnits(): Map<Unit, { layers: number; regularized: RegularizedLayer[] }> {
    if (this.layerUnitsMemo) return this.layerUnitsMemo;
    const map = new Map<Unit, { layers: number; regularized: RegularizedLayer[] }>();
    const entry = (u: Unit): { layers: number; regularized: RegularizedLayer[] } => {
      const owner = this.functionOf(u);
      let v = map.get(owner);
      if (!v) map.set(owner, (v = { layers: 0, regularized: [] }));
      return v;
    };
    const regs = new Map(this.regularizedLayers().filter((l) => l.style !== 'tf1').map((l) => [l.call, l]));
    for (const info of this.infos) {
      for (const e of stmtExprs(info.stmt)) {
        for (const x of subExprs(e)) {
          if (x.kind !== 'call' || !this.isLayerCall(x)) continue;
          const v = entry(info.unit);
          v.layers++;
          const r = regs.get(x);
          if (r) v.regularized.push(r);
        }
      }
    }
    for (const r of regs.values()) if (!entry(r.unit).regularized.includes(r)) entry(r.unit).regularized.push(r);
    this.layerUnitsMemo = map;
    return map;
  }

  /** Whether a unit (with its methods and nested functions) builds any layer. */
  buildsLayers(span: Span): boolean {
    for (const [u, v] of this.layerUnits()) if (v.layers > 0 && within(u.span, span)) return true;
    return false;
  }

  /** The first regularized layer a unit (a function with its lambdas) builds directly, Keras and tfjs styles. */
  regularizedOfUnit(unit: Unit): RegularizedLayer | undefined {
    return this.layerUnits().get(unit)?.regularized[0];
  }

  /** Regularized layers built directly inside a span (a function's or class's body), Keras and tfjs styles. */
  regularizedIn(span: Span): RegularizedLayer | undefined {
    return this.regularizedLayers().find((l) => l.style !== 'tf1' && within(l.call.span, span));
  }

  /** Calls inside a span, in source order (binary search over the calls sorted by start). */
  callsIn(span: Span): CallSite[] {
    const calls = (this.sortedCalls ??= [...programIndex(this.facts).calls].sort((a, b) => a.call.span.start - b.call.span.start));
    let lo = 0;
    let hi = calls.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (calls[mid].call.span.start < span.start) lo = mid + 1;
      else hi = mid;
    }
    const out: CallSite[] = [];
    for (let i = lo; i < calls.length && calls[i].call.span.start < span.end; i++) if (calls[i].call.span.end <= span.end) out.push(calls[i]);
    return out;
  }

  private sortedCalls?: CallSite[];

  /** Whether the model an expression refers to was built with regularizers, in this file or the files it imports. */
  modelStatus(m: Expr, scope: Scope, at: number, depth = 0): ModelStatus {
    return this.modelProbe(REGULARIZED_PROBE, m, scope, at, depth);
  }

  /** Whether the model an expression refers to builds a layer the probe looks for, in this file or the files it imports. */
  modelProbe<L>(probe: LayerProbe<L>, m: Expr, scope: Scope, at: number, depth = 0): ModelStatus<L> {
    if (depth > 8) return { kind: 'unknown' };
    const memoKey = `${probe.id}:${m.span.start}:${m.span.end}:${at}`;
    const hit = this.statusMemo.get(memoKey) as ModelStatus<L> | undefined;
    if (hit) return hit;
    this.statusMemo.set(memoKey, { kind: 'unknown' });
    const status = this.modelStatusUncached(probe, m, scope, at, depth);
    this.statusMemo.set(memoKey, status);
    return status;
  }

  private modelStatusUncached<L>(probe: LayerProbe<L>, m: Expr, scope: Scope, at: number, depth: number): ModelStatus<L> {
    const key = exprKey(m);
    if (key === 'self' || key === 'this') {
      const cls = enclosingClass(scope);
      return cls ? classStatus(this.facts.program, cls, probe) : { kind: 'unknown' };
    }
    if (m.kind === 'call') return this.callStatus(probe, m, scope, at, depth);
    const b = key !== undefined ? scope.lookup(key, at) : undefined;
    // `def __init__(self, model=make_unet(...))`: a parameter's default is where the model comes from.
    if (b?.kind === 'param' && b.value) return this.modelProbe(probe, b.value, b.scope, b.at, depth + 1);
    if (!b || b.kind !== 'assign' || !b.value || b.op) return { kind: 'unknown' };
    const own = this.bindingStatus(probe, b, b.value, key!, depth);
    if (own.kind === 'found') return own;
    // `if small: model = Tiny() else: model = Full()`: a model either branch builds with the layers asked for is the one to report.
    for (const other of branchAlternatives(b, scope, at)) {
      if (other.value!.kind !== 'call') continue;
      const status = this.callStatus(probe, other.value!, other.scope, other.at, depth);
      if (status.kind === 'found') return status;
    }
    return own;
  }

  /** What the model a binding assigns is built with. */
  private bindingStatus<L>(probe: LayerProbe<L>, b: Binding, value: Expr, key: string, depth: number): ModelStatus<L> {
    if (value.kind === 'name' || value.kind === 'attr') return this.modelProbe(probe, value, b.scope, b.at, depth + 1);
    if (value.kind !== 'call') return { kind: 'unknown' };
    const status = this.callStatus(probe, value, b.scope, b.at, depth);
    if (status.kind !== 'plain' || !isSequentialModel(callName(value) ?? '')) return status;
    // `model = Sequential()` then `model.add(Dense(..., kernel_regularizer=...))`.
    for (const info of this.infos) {
      const s = info.stmt;
      if (s.kind !== 'expr' || s.expr.kind !== 'call' || callName(s.expr) !== 'add' || s.expr.callee.kind !== 'attr' || exprKey(s.expr.callee.object) !== key) continue;
      const arg = s.expr.args[0];
      const layer = probe.inSpan(this, s.span) ?? (arg ? this.builtWith(probe, arg, info.scope, s.span.start, depth + 1) : undefined);
      if (layer) return { kind: 'found', layer };
    }
    return status;
  }

  private callStatus<L>(probe: LayerProbe<L>, c: Call, scope: Scope, at: number, depth: number): ModelStatus<L> {
    const name = callName(c) ?? '';
    if (this.isLayerCall(c) || isSequentialModel(name) || probe.isLayer?.(this, c)) {
      const own = probe.inSpan(this, c.span);
      return own ? { kind: 'found', layer: own } : { kind: 'plain' };
    }
    const program = this.facts.program;
    // A project class or builder named `Model` is read as such below, whatever its name says.
    const projectDef = isFunctionalModel(name) ? resolveExpr(program, c.callee, scope, at) : undefined;
    if (isFunctionalModel(name) && projectDef?.kind !== 'class' && projectDef?.kind !== 'function') {
      const path = frameworkPath(c.callee, scope, at, this.facts.scopes.imports, this.facts.language === 'python' ? 'python' : 'script');
      // Functional API: the layers are applied in the unit that builds the model, or in the helpers
      // whose tensors become its outputs (`Model(inputs, YOLOv3(inputs))`, a `conv_bn` in another module).
      // A `Model(...)` from a package Nabla cannot read (`from pkg import *`) may be any class: only
      // the layers its arguments were computed with are its own, never the other layers of the unit.
      const framework = isFrameworkFunctionalModel(path, name, c.callee.kind === 'name' ? this.facts.scopes.starImports : []);
      const own = framework ? probe.inUnit(this, this.functionOf(this.unitAt(c.span))) : undefined;
      if (own) return { kind: 'found', layer: own };
      for (const arg of [...c.args, ...c.kwargs.map((k) => k.value)]) {
        const found = this.builtWith(probe, arg, scope, at, depth + 1);
        if (found) return { kind: 'found', layer: found };
      }
      if (framework) return { kind: 'plain' };
    }
    if (isModelCopy(name) && c.args[0]) return this.modelProbe(probe, c.args[0], scope, at, depth + 1);
    // `Net().to(device)`, `nn.DataParallel(net)`: the same module's parameters.
    if (c.callee.kind === 'attr' && isModuleMoveMethod(name) && !this.facts.analyzer.isModule(c.callee.object)) return this.modelProbe(probe, c.callee.object, scope, at, depth + 1);
    if (isModuleWrapper(name) && c.args[0]) return this.modelProbe(probe, c.args[0], scope, at, depth + 1);
    const def = projectDef ?? resolveExpr(program, c.callee, scope, at);
    if (def?.kind === 'class') return classStatus(program, def.cls, probe);
    const target = def?.kind === 'function' ? def.fn : this.facts.analyzer.callTarget(c, scope, at)?.fn;
    if (target) {
      const found = functionBuilds(program, target, probe);
      if (found) return { kind: 'found', layer: found };
      return trainingFactsOf(program, target.span, this).buildsLayers(target.span) ? { kind: 'plain' } : { kind: 'unknown' };
    }
    // A builder chosen at run time from a table (`{tiny: tinyNet, wide: wideNet}[kind](shape)`): the
    // model any of them builds with the layers asked for, as for a model either branch of an `if` builds.
    const chosen = c.callee.kind === 'name' || c.callee.kind === 'attr' || c.callee.kind === 'index' ? chosenEntry(program, c.callee, scope, at, 0) : undefined;
    for (const fn of chosen ?? []) {
      const found = functionBuilds(program, fn, probe);
      if (found) return { kind: 'found', layer: found };
    }
    return { kind: 'unknown' };
  }

  /**
   * Whether a value (a tensor, a list of tensors) was computed by layers with regularizers: a layer
   * applied here, a helper that builds one (any file), following variables, list appends and the
   * inputs of each call (the tensors a network threads through its layers).
   */
  private builtWith<L>(probe: LayerProbe<L>, e: Expr, scope: Scope, at: number, depth: number, seen = new Set<Expr>()): L | undefined {
    if (depth > 24 || seen.has(e)) return undefined;
    seen.add(e);
    const d = depth + 1;
    switch (e.kind) {
      case 'call': {
        const own = probe.inSpan(this, e.span);
        if (own) return own;
        const target = this.facts.analyzer.callTarget(e, scope, at);
        const found = target && !target.constructs ? functionBuilds(this.facts.program, target.fn, probe) : target?.constructs ? classBuilds(this.facts.program, target.constructs, probe) : undefined;
        if (found) return found;
        for (const arg of [...e.args, ...e.kwargs.map((k) => k.value)]) {
          const inner = this.builtWith(probe, arg, scope, at, d, seen);
          if (inner) return inner;
        }
        return e.callee.kind === 'call' ? this.builtWith(probe, e.callee, scope, at, d, seen) : undefined;
      }
      case 'seq':
        for (const item of e.items) {
          const found = this.builtWith(probe, item, scope, at, d, seen);
          if (found) return found;
        }
        return undefined;
      case 'index':
      case 'attr':
      case 'name': {
        // `feature_maps[0]` is an element of the list `feature_maps`; `x.output` comes from x.
        if (e.kind === 'attr' || (e.kind === 'index' && e.object.kind !== 'name')) return this.builtWith(probe, e.object, scope, at, d, seen);
        const target = e.kind === 'index' ? e.object : e;
        const key = exprKey(target);
        const b = key !== undefined ? scope.lookup(key, at) : undefined;
        if (!b) return undefined;
        if (b.kind === 'loop' && b.loop) return this.builtWith(probe, b.loop.iter, b.scope, b.at, d, seen);
        if (b.unpacked) return this.builtWith(probe, b.unpacked.value, b.scope, b.at, d, seen);
        if (b.kind !== 'assign' || !b.value) return undefined;
        const found = this.builtWith(probe, b.value, b.scope, b.at, d, seen);
        if (found) return found;
        // `if small: model = Tiny() else: model = Full()`: a read after the chain may see either branch's model.
        for (const other of branchAlternatives(b, scope, at)) {
          const alternative = this.builtWith(probe, other.value!, other.scope, other.at, d, seen);
          if (alternative) return alternative;
        }
        // A list filled later: `outputs = []` then `outputs.append(head(x))`.
        if (b.value.kind === 'seq' && key !== undefined) {
          for (const c of programIndex(this.facts).callsNamed('append').concat(programIndex(this.facts).callsNamed('extend'))) {
            if (c.call.callee.kind !== 'attr' || exprKey(c.call.callee.object) !== key || !c.call.args[0]) continue;
            const inner = this.builtWith(probe, c.call.args[0], c.scope, c.at, d, seen);
            if (inner) return inner;
          }
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * For a model that cannot be resolved (a parameter, an attribute set elsewhere): regularized when
   * a regularized model is assigned in this file to a variable of the same name (`model`, `self.model`).
   */
  fallbackStatus(m: Expr): ModelStatus {
    const name = (exprKey(m) ?? '').split('.').pop();
    if (!name) return { kind: 'plain' };
    const hit = this.fallbackMemo.get(name);
    if (hit) return hit;
    const status = this.fallbackUncached(name);
    this.fallbackMemo.set(name, status);
    return status;
  }

  private fallbackUncached(name: string): ModelStatus {
    for (const info of this.infos) {
      const s = info.stmt;
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.value.kind !== 'call') continue;
      if ((exprKey(s.targets[0]) ?? '').split('.').pop() !== name) continue;
      const status = this.callStatus(REGULARIZED_PROBE, s.value, info.scope, s.span.start, 1);
      if (status.kind === 'found') return status;
    }
    return { kind: 'plain' };
  }

  /** Models whose weights a source list names: `model.trainable_variables`, `self.trainable_weights`. */
  sourceModels(e: Expr, scope: Scope, at: number, depth = 0): Expr[] {
    const out: Expr[] = [];
    for (const x of subExprs(e)) {
      if (x.kind === 'attr' && isWeightListAttribute(x.name)) out.push(x.object);
      else if (x.kind === 'call' && PARAMETER_LISTS.has(callName(x) ?? '') && x.callee.kind === 'attr') out.push(x.callee.object);
      else if (x.kind === 'name' && depth < 3) {
        const b = scope.lookup(x.name, at);
        if (b?.kind === 'assign' && b.value && !b.op) out.push(...this.sourceModels(b.value, b.scope, b.at, depth + 1));
      }
    }
    return out;
  }

  /**
   * Models a closure runs: `model.predict(x)`, `model.apply(x)`, `layer.apply(x)`, `net(x)` (with
   * helpers it calls). `path` names a model a method reached through a receiver runs as the closure
   * reaches it: `this.backbone` of the method `this.net.embed(x)` calls is `this.net.backbone`.
   */
  closureModels(returns: Returned[], record: Span): { expr: Expr; scope: Scope; at: number; path?: string }[] {
    const out: { expr: Expr; scope: Scope; at: number; path?: string }[] = [];
    const seen = new Set<FunctionDef>();
    const program = this.facts.program;
    // `self`: what `this` stands for in the closure's terms, inside a method reached through a receiver.
    const pathOf = (e: Expr, self: string | undefined): string | undefined => {
      if (self === undefined) return undefined;
      let root = e;
      while (root.kind === 'attr' || root.kind === 'index') root = root.object;
      if (root.kind !== 'name' || !isSelfName(root.name)) return undefined;
      const key = exprKey(e);
      return key === undefined ? undefined : self + key.slice(root.name.length);
    };
    const model = (expr: Expr, scope: Scope, at: number, self: string | undefined) => {
      const path = pathOf(expr, self);
      return path ? { expr, scope, at, path } : { expr, scope, at };
    };
    const scan = (root: Expr, scope: Scope, at: number, depth: number, self: string | undefined): void => {
      for (const x of subExprs(root, true)) {
        if (x.kind !== 'call') continue;
        const name = callName(x);
        if (x.callee.kind === 'attr' && name && isModelRunMethod(name)) {
          const obj = x.callee.object;
          // A helper's model is read in the helper's file (a class of another module or page script).
          if ((obj.kind === 'name' || obj.kind === 'attr') && trainingFactsOf(program, obj.span, this).looksLikeModel(obj, scope, at)) out.push(model(obj, scope, at, self));
        } else if (x.callee.kind === 'name' || x.callee.kind === 'attr') {
          // A method of an object handed in as a parameter (`this.net.features(x)`): parameterReceivers.ts.
          const helper = this.helperOf(x, scope) ?? parameterReceiverMethod(program, trainingFactsOf(program, x.span, this).facts, x, scope, at);
          if (helper && !seen.has(helper) && depth < 3) {
            seen.add(helper);
            const receiver = x.callee.kind === 'attr' && helper.cls ? x.callee.object : undefined;
            const inner = receiver ? (pathOf(receiver, self) ?? (depth === 0 ? exprKey(receiver) : undefined)) : undefined;
            // The helper's statements, in its own file; and the same method of a class another branch
            // of an `if` builds the receiver from (`connector = Hub` / `connector = Custom`, then `new connector(…)`).
            for (const fn of [helper, ...branchMethods(program, x, scope, at).filter((f) => !seen.has(f))]) {
              seen.add(fn);
              for (const s of trainingFactsOf(program, fn.span, this).infosIn(fn.span)) for (const e of stmtExprs(s.stmt)) scan(e, s.scope, s.stmt.span.start, depth + 1, inner);
            }
          } else if (!helper && trainingFactsOf(program, x.callee.span, this).looksLikeModel(x.callee, scope, at)) out.push(model(x.callee, scope, at, self));
        }
      }
    };
    for (const r of returns) scan(r.expr, r.scope, r.at, 0, undefined);
    for (const info of this.infosIn(record)) for (const e of stmtExprs(info.stmt)) scan(e, info.scope, info.stmt.span.start, 0, undefined);
    return out;
  }

  private looksLikeModel(e: Expr, scope: Scope, at: number): boolean {
    const status = this.modelStatus(e, scope, at);
    if (status.kind !== 'unknown') return true;
    const key = exprKey(e) ?? '';
    return isModelName(key.split('.').pop() ?? '');
  }

  /**
   * Whether the code around a differentiation event reads the collected regularization losses
   * (`model.losses`, `get_regularization_loss()`, `compute_loss(...)`, `calculateLosses()`) or
   * mentions regularization in a call, looking into the helpers it calls. `ignore` leaves out
   * statements whose read the caller knows goes nowhere (lossFlow.ts).
   */
  readsRegularization(root: Unit, extra: Expr[] = [], ignore?: (t: TrainingFacts, info: StmtInfo) => boolean): boolean {
    // Whether each helper reads them; a helper being scanned counts as not reading (recursion).
    const seen = new Map<FunctionDef, boolean>();
    const seenClasses = new Map<ClassDef, boolean>();
    const check = (t: TrainingFacts, e: Expr, scope: Scope, depth: number): boolean => {
      for (const x of subExprs(e, true)) {
        // Not a list the code fills itself (`this.losses = []`, then `this.losses.push(loss.dataSync()[0])`): a log of loss values.
        if (x.kind === 'attr' && x.name === COLLECTED_LOSSES_ATTRIBUTE && !t.facts.analyzer.isModule(x.object) && !ownListField(x, scope)) return true;
        // `tf.GraphKeys.REGULARIZATION_LOSSES` is read off the framework's module itself.
        if (x.kind === 'attr' && isRegularizationCollectionKey(x.name)) return true;
        if (x.kind === 'str' && namesRegularizationCollection(x.value)) return true;
        if (x.kind !== 'call') continue;
        if (x.kwargs.some((k) => k.name === REGULARIZATION_LOSSES_KEY)) return true;
        // A project function is read, whatever it is called (a YOLO repo's own `compute_loss` is not Keras's).
        const target = t.helperOf(x, scope);
        if (target) {
          if (depth < 3 && !seen.has(target)) {
            seen.set(target, false);
            seen.set(target, scan(trainingFactsOf(t.facts.program, target.span, t), target.span, depth + 1));
          }
          if (seen.get(target)) return true;
          continue;
        }
        // A callable instance of a project class (`reg_loss = losses.SmoothL1Loss()`, a regression
        // loss) is read through its class and bases, not judged by the name it is bound to.
        const cls = x.callee.kind === 'name' || x.callee.kind === 'attr' ? instanceClass(t.facts.program, x.callee, scope, x.span.start) : undefined;
        if (cls) {
          for (const c of [cls, ...baseClasses(t.facts.program, cls)]) {
            if (depth < 3 && !seenClasses.has(c)) {
              seenClasses.set(c, false);
              seenClasses.set(c, scan(trainingFactsOf(t.facts.program, c.span, t), c.span, depth + 1));
            }
            if (seenClasses.get(c)) return true;
          }
          continue;
        }
        const name = callName(x) ?? '';
        if (readsCollectedRegularization(name) || mentionsRegularization(name)) return true;
      }
      return false;
    };
    const scan = (t: TrainingFacts, span: Span, depth: number): boolean => {
      for (const info of t.infosIn(span)) {
        if (stmtExprs(info.stmt).some((e) => check(t, e, info.scope, depth)) && !ignore?.(t, info)) return true;
      }
      return false;
    };
    if (extra.some((e) => check(this, e, root.scope, 0))) return true;
    return scan(this, root.span, 0);
  }
}

/** Whether `obj.losses` is a list the code binds itself (`this.losses = []` in the class): never a model's collected penalties. */
function ownListField(x: Expr & { kind: 'attr' }, scope: Scope): boolean {
  const key = exprKey(x);
  if (key === undefined) return false;
  const cls = x.object.kind === 'name' && isSelfName(x.object.name) ? enclosingClass(scope) : undefined;
  const bindings = cls ? cls.scope.members.get(key) ?? [] : [scope.lookup(key, Infinity)];
  return bindings.some((b) => b?.kind === 'assign' && !b.op && b.value?.kind === 'seq' && b.value.items.length === 0);
}

/** The training facts of the file a span is in (a helper in another module), or `fallback`'s. */
export function trainingFactsOf(program: Program, span: Span, fallback: TrainingFacts): TrainingFacts {
  const facts = program.factsAt(span);
  return facts ? trainingFacts(facts) : fallback;
}

const buildsMemo = new WeakMap<Program, Map<string, Map<FunctionDef | ClassDef, unknown>>>();

function memoFor<L>(program: Program, probe: LayerProbe<L>): Map<FunctionDef | ClassDef, L | null> {
  let byProbe = buildsMemo.get(program);
  if (!byProbe) buildsMemo.set(program, (byProbe = new Map()));
  let memo = byProbe.get(probe.id);
  if (!memo) byProbe.set(probe.id, (memo = new Map()));
  return memo as Map<FunctionDef | ClassDef, L | null>;
}

/**
 * A function's summary for model building: a layer with a regularizer that calling it builds,
 * directly or through the functions and classes it calls, in any file of the program (a YOLO
 * `convolutional` helper in `core/common.py` reached from `YOLOv3()` in `core/yolov3.py`).
 * Memoized per program; recursion is cut.
 */
export function functionRegularized(program: Program, fn: FunctionDef, depth = 0): RegularizedLayer | undefined {
  return functionBuilds(program, fn, REGULARIZED_PROBE, depth);
}

/** A function's summary for model building: the first layer the probe looks for that calling it builds (see functionRegularized). */
export function functionBuilds<L>(program: Program, fn: FunctionDef, probe: LayerProbe<L>, depth = 0): L | undefined {
  const memo = memoFor(program, probe);
  const known = memo.get(fn);
  if (known !== undefined) return known ?? undefined;
  if (depth > 8) return undefined;
  memo.set(fn, null); // a cycle reads "not (yet) known"
  const found = spanBuilds(program, fn.span, fn, probe, depth);
  memo.set(fn, found ?? null);
  return found;
}

/** A class's summary: a regularized layer built by its methods (constructor, `build`, `call`) or its bases'. */
export function classRegularized(program: Program, cls: ClassDef, depth = 0): RegularizedLayer | undefined {
  return classBuilds(program, cls, REGULARIZED_PROBE, depth);
}

/** A class's summary: the first layer the probe looks for that its methods (`__init__`, `build`, `call`) or its bases' build. */
export function classBuilds<L>(program: Program, cls: ClassDef, probe: LayerProbe<L>, depth = 0): L | undefined {
  const memo = memoFor(program, probe);
  const known = memo.get(cls);
  if (known !== undefined) return known ?? undefined;
  if (depth > 8) return undefined;
  memo.set(cls, null);
  let found = spanBuilds(program, cls.span, undefined, probe, depth);
  for (const base of baseClasses(program, cls)) found ??= classBuilds(program, base, probe, depth + 1);
  memo.set(cls, found ?? null);
  return found;
}

function spanBuilds<L>(program: Program, span: Span, self: FunctionDef | undefined, probe: LayerProbe<L>, depth: number): L | undefined {
  const facts = program.factsAt(span);
  if (!facts) return undefined;
  const t = trainingFacts(facts);
  const own = probe.inSpan(t, span);
  if (own) return own;
  for (const c of t.callsIn(span)) {
    const target = facts.analyzer.callTarget(c.call, c.scope, c.at);
    let found: L | undefined;
    if (target?.constructs) found = classBuilds(program, target.constructs, probe, depth + 1);
    else if (target && target.fn !== self) found = functionBuilds(program, target.fn, probe, depth + 1);
    else {
      const def = resolveExpr(program, c.call.callee, c.scope, c.at);
      if (def?.kind === 'class') found = classBuilds(program, def.cls, probe, depth + 1);
      // `self.handlers[kind](block)`: any entry of the table may run (dispatchTables.ts).
      else for (const fn of dispatchedFunctions(program, c.call, c.scope, c.at) ?? []) if (fn !== self) found ??= functionBuilds(program, fn, probe, depth + 1);
    }
    if (found) return found;
  }
  return undefined;
}

/** Whether instances of a class build the layers a probe looks for (`plain` when it builds layers without any). */
export function classStatus<L = RegularizedLayer>(program: Program, cls: ClassDef, probe: LayerProbe<L> = REGULARIZED_PROBE as unknown as LayerProbe<L>): ModelStatus<L> {
  const found = classBuilds(program, cls, probe);
  if (found) return { kind: 'found', layer: found };
  const facts = program.factsAt(cls.span);
  return facts && trainingFacts(facts).buildsLayers(cls.span) ? { kind: 'plain' } : { kind: 'unknown' };
}

/** `@torch.no_grad()`, `@torch.inference_mode()`, `@no_grad`: a decorator that turns autograd off. */
function isNoGradDecorator(decorator: Expr): boolean {
  const callee = decorator.kind === 'call' ? decorator.callee : decorator;
  const path = pathOf(callee);
  return path !== undefined && isNoGradContext(path[path.length - 1]);
}

/** Rebuilds an expression with mapped children; returns `e` itself when nothing changed. */
const NO_EXPRS: Expr[] = [];

/** `xs.map(f)`, or `xs` itself when no element changed (a new list only then: most calls change nothing). */
function mapList(xs: Expr[], f: (c: Expr) => Expr): Expr[] {
  let ys: Expr[] | undefined;
  for (let i = 0; i < xs.length; i++) {
    const y = f(xs[i]);
    if (ys) ys.push(y);
    else if (y !== xs[i]) (ys = xs.slice(0, i)).push(y);
  }
  return ys ?? xs;
}

function mapChildren(e: Expr, f: (c: Expr) => Expr): Expr {
  switch (e.kind) {
    case 'attr': {
      const object = f(e.object);
      return object === e.object ? e : { ...e, object };
    }
    case 'index': {
      const object = f(e.object);
      const index = mapList(e.index, f);
      return object === e.object && index === e.index ? e : { ...e, object, index };
    }
    case 'call': {
      const callee = f(e.callee);
      const args = mapList(e.args, f);
      const values = e.kwargs.length === 0 ? NO_EXPRS : mapList(e.kwargs.map((k) => k.value), f);
      const same = callee === e.callee && args === e.args && values.every((v, i) => v === e.kwargs[i].value);
      return same ? e : { ...e, callee, args, kwargs: e.kwargs.map((k, i) => ({ name: k.name, value: values[i] })) };
    }
    case 'binary': {
      const left = f(e.left);
      const right = f(e.right);
      return left === e.left && right === e.right ? e : { ...e, left, right };
    }
    case 'unary': {
      const arg = f(e.arg);
      return arg === e.arg ? e : { ...e, arg };
    }
    case 'lambda': {
      if (!e.body) return e;
      const body = f(e.body);
      return body === e.body ? e : { ...e, body };
    }
    case 'comprehension': {
      const element = f(e.element);
      const iters = mapList(e.generators.map((g) => g.iter), f);
      const same = element === e.element && e.generators.every((g, i) => g.iter === iters[i]);
      return same ? e : { ...e, element, generators: e.generators.map((g, i) => ({ target: g.target, iter: iters[i] })) };
    }
    case 'seq': {
      const items = mapList(e.items, f);
      return items === e.items ? e : { ...e, items };
    }
    default:
      return e;
  }
}

/**
 * The method `m` of `recv.m(…)` on the classes other branches of an `if` choose for the receiver's
 * construction (`if (hub) { C = HubNet; } else { C = LocalNet; }`, then `this.model = new C(…)`),
 * besides the one resolution reads (the last branch's).
 */
function branchMethods(program: Program, call: Call, scope: Scope, at: number): FunctionDef[] {
  if (call.callee.kind !== 'attr') return [];
  const built = construction(program, call.callee.object, scope, at);
  const callee = built?.call.callee;
  if (!built || callee?.kind !== 'name') return [];
  const b = built.scope.lookup(callee.name, built.at);
  if (b?.kind !== 'assign' || !b.value || b.op) return [];
  const out: FunctionDef[] = [];
  for (const other of branchAlternatives(b, built.scope, built.at)) {
    const def = resolveExpr(program, other.value!, other.scope, other.at);
    const fn = def?.kind === 'class' ? methodOf(program, def.cls, call.callee.name) : undefined;
    if (fn) out.push(fn);
  }
  return out;
}

/**
 * The bindings of `b`'s name in the other branches of the innermost `if` chain `b` is made in, when
 * the read at `at` comes after that chain (or from a function, which runs later): each is what the
 * read may see.
 */
function branchAlternatives(b: Binding, scope: Scope, at: number): Binding[] {
  const place = b.branches?.[b.branches.length - 1];
  if (!place || (scope === b.scope && at < place.chain.end)) return [];
  return b.scope
    .allBindings(b.key)
    .filter((o) => o !== b && o.kind === 'assign' && o.value !== undefined && !o.op && o.branches?.some((p) => p.chain.start === place.chain.start && p.chain.end === place.chain.end && p.branch.start !== place.branch.start));
}

/** A tracked leaf (`startsTrackedLeaf`), or a list, tuple or comprehension whose every element is one. */
function tracksLeaves(e: Expr): boolean {
  if (e.kind === 'call') return startsTrackedLeaf(e);
  if (e.kind === 'comprehension') return tracksLeaves(e.element);
  return e.kind === 'seq' && e.items.length > 0 && e.items.every((x) => x.kind === 'call' && startsTrackedLeaf(x));
}
