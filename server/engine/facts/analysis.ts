// Term analysis: splits an update's step into summands, and recognises which summands are a
// penalty R(W) (a scalar multiple of a canonical form) rather than a gradient.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef, PenaltyKind } from '../../math/terms';
import { ONE, div, equalCoef, mul, neg, num, pow, sym } from '../../math/coef';
import { baseExpr, calleePath, calleeRoot, exprKey, isKeyedByString } from './keys';
import { explicitParams, forEachChild, loopIterable, type Binding, type ClassDef, type FunctionDef, type Scope } from './scope';
import { callArguments, enclosingClass, methodOf, resolveCall, resolveExpr, resolveImport, returnsOf, type CallTarget, type Construction } from './resolve';
import type { StateTargets } from './updates';
import { returnsUnder, switchOf, type Assumption } from './switchedHelpers';
import { constantKey, returnedDictEntry } from './returnedDicts';
import { ownStatements, programIndex, walkAll } from './program';
import { elementwiseArithmetic } from './elementwiseHelpers';
import { comprehensionStep, loopStep } from './collectionSteps';
import { carriedFromLastIteration } from './carriedState';
import {
  ABS_FUNCTIONS, ARITHMETIC_CALLS, arithmeticPlacement, isStorageAttribute, DOT_FUNCTIONS, KEEP_DIMS_KEYWORDS, MEAN_FUNCTIONS, MODULE_ROOTS, NORM_FUNCTIONS, PARAMETER_LISTS, REDUCTION_KEYWORDS, SCALAR_FUNCTIONS, SIGN_FUNCTIONS, SQUARE_FUNCTIONS, SUM_FUNCTIONS, VIEW_FUNCTIONS,
  CLAMP_METHODS, POWER_FUNCTIONS, ROOT_FUNCTIONS, inPlaceMathName,
  attributeReadByName, concatenatedPieces, isMetadataAttribute, listArrayComprehension, listArrayOperand, iteratingSum, frameworkPath, importedModulePath, isAutodiffNorm, lookupLayer, scalarCastOperand, isSequenceCopy, isShapeAttribute, normOrder, loopSource, regularizerByName, regularizerFramework, regularizerSemantics, zeroValue, foldCall, numberSettingRead, entryReadByGet, type RegularizerFactor as CatalogueFactor } from './catalogue';
import type { Program } from '../program';
import type { ParsedFile } from '../document';
import { fileIdOf, type SourceFile } from '../source';
import { catalogueGradientNames, dictRoot } from './gradientDicts';
import { isCountName, isDataLike, isExampleCountName, isGradientLike, isHyperparameterKey, isLearningRateName, isStateLike, isWeightLike, saysPenalty } from './roles';

const NO_PARAMS: ReadonlySet<string> = new Set();

/** Substitutions for a helper's parameters while analysing its body. */
export type Env = Map<string, { expr: Expr; scope: Scope; at: number; env?: Env }>;

export interface Factor {
  expr: Expr;
  scope: Scope;
  at: number;
  env?: Env;
  /** Distributed from outside the summand's site (`lr` in `lr * (dW + R)`): not part of what is written there. */
  outer?: boolean;
}

/** A reduction's operand over a join of tensors: the operand with the join as a name, one environment per piece (`Analyzer.joinedPieces`). */
export interface JoinedPieces {
  operand: Expr;
  /** The join as written: the call, or the local holding it. */
  joined: Expr;
  envs: Env[];
}

/** One additive term of a step: sign · Π num / Π den. `site` is where it is written. */
export interface Summand {
  sign: 1 | -1;
  num: Factor[];
  den: Factor[];
  site: Span;
  /** Uses of step-direction variables passed through to reach this summand (outermost first). */
  via: Span[];
}

export interface ParamOccurrence {
  key: string;
  /** The parameter itself (an element's array, a view's tensor): `p[j]` → `p`. */
  base: Expr;
  /** The expression as written, after helper substitution. */
  expr: Expr;
}

export interface PenaltyTerm {
  kind: PenaltyKind;
  coef: Coef;
  params: ParamOccurrence[];
  via?: string;
  /** Definitions passed through (variables, helpers, accumulations), for related information. */
  defs: { span: Span; what: string }[];
  /**
   * For a plain norm ‖W‖₂: the norm calls as written, whether the order is the Frobenius one
   * (√ΣW² of the flattened tensor; catalogue.ts `normOrder`), and whether the norm is an autodiff
   * framework's (`torch.norm`, `tf.norm`, a tensor's `.norm()`). A norm written as a root of summed
   * squares (`np.sqrt(total)`) has `root`, the radicand (`total`).
   */
  norms?: { span: Span; frobenius: boolean; autodiff: boolean; root?: Span }[];
}

/** A product classified: scalar coefficient × at most one penalty × raw parameter occurrences. */
export interface Product {
  coef: Coef;
  penalty?: PenaltyTerm;
  params: ParamOccurrence[];
  abs: ParamOccurrence[];
  /** `np.sign(W)`, `torch.sign(p)`, `W.sign()`, `Math.sign(w[j])`: the subgradient of |W| (absent when none). */
  signs?: ParamOccurrence[];
  /** Holds something that is neither a scalar, a parameter nor a penalty (a gradient, data, an unknown call). */
  tensor: boolean;
}

const MAX_DEPTH = 40;
/** Calls followed one inside another (helpers calling helpers); deeper ones are opaque. */
const MAX_CALLS = 6;
/** Most additive terms one step is split into (real steps have a handful). */
const MAX_SUMMANDS = 64;
/** Items of a tuple a loop walks that are read one by one (`for t in (eu, ei, ej)`); longer ones are opaque. */
const MAX_ITEMS = 16;
/**
 * Classification and expansion steps one outermost question may take. Memo answers stop most
 * repetition, but a helper's body analysed for a call (its parameters substituted) is not memoized,
 * and a variable fed back through both branches of a conditional can then branch at every level up
 * to MAX_DEPTH: seconds per line on real batch-norm code. Over 54 real repositories 99.9% of
 * questions take under 4,000 steps, and this budget changes none of their findings.
 */
const WORK_BUDGET = 20_000;
const scalar = (coef: Coef): Product => ({ coef, params: [], abs: [], tensor: false });
const TENSOR: Product = { coef: ONE, params: [], abs: [], tensor: true };

/** Re-exported for the printer, which reads module roots as the analyzer does. */
export { MODULE_ROOTS };


export function numberOf(e: Expr): number | undefined {
  if (e.kind === 'num') return e.value;
  if (e.kind === 'unary' && e.op === '-' && e.arg.kind === 'num') return -e.arg.value;
  return undefined;
}

export class Analyzer {
  /**
   * Classifications by the expression's span and kind, then by `at`. Expressions with one span and
   * kind share answers (synthetic nodes included); each node finds its slot by identity, so the
   * slot is searched for once per node rather than once per call.
   */
  private memo = new Map<number, MemoSlot[]>();
  private memoSlots = new Map<Expr, MemoSlot>();
  private bindingMemo = new Map<Binding, Summand[] | undefined>();
  /** A value assumed for a field that helpers switch on (switchedHelpers.ts), with memos of its own. */
  private assumed: Assumption | undefined;
  /** Keys isParam answered "no" for, by file id: adding one to that file's parameter set could change an answer. */
  private readonly deniedKeys = new Map<number, Set<string>>();

  /** Each file's parameter set, by file id (facts/index.ts fills it while finding the file's updates). */
  private readonly paramKeys = new Map<number, Set<string>>();

  /**
   * `hints`: for a method called on an instance whose class neither the file nor its imports show,
   * the method an entry that builds the instance from a run-time-chosen class says runs (a program
   * of its own, `Program.hinted`; chosenClassMethods.ts).
   */
  constructor(
    readonly program: Program,
    private readonly hints?: ReadonlyMap<string, FunctionDef>,
  ) {}

  /** Nesting of classify/summands calls now running, and the steps the outermost one has taken. */
  private active = 0;
  private spent = 0;

  /** Enters a step; true when the outermost question has run out of budget. */
  private enter(): boolean {
    if (this.active++ === 0) this.spent = 0;
    return ++this.spent > WORK_BUDGET;
  }

  /** Each file's parameters that are variables of functions: key → those functions' spans (facts/index.ts). */
  private readonly localParamKeys = new Map<number, ReadonlyMap<string, readonly Span[]>>();

  registerParams(file: SourceFile, params: Set<string>, locals?: ReadonlyMap<string, readonly Span[]>): void {
    this.paramKeys.set(file.id, params);
    if (locals) this.localParamKeys.set(file.id, locals);
  }

  /** Per file: the fields of loop items that a step moves along a gradient (`loopItemField` keys; facts/index.ts). */
  private readonly steppedItemFields = new Map<number, ReadonlySet<string>>();

  registerSteppedItemFields(file: SourceFile, fields: ReadonlySet<string>): void {
    this.steppedItemFields.set(file.id, fields);
  }

  /** A key stepped only as a function's own variable is that variable: read in another function, it is another value. */
  private outsideItsFunctions(file: number, key: string, at: number): boolean {
    const spans = this.localParamKeys.get(file)?.get(key);
    return spans !== undefined && !spans.some((s) => s.start <= at && at < s.end);
  }

  private readonly placeholders = new WeakSet<Expr>();

  /**
   * A stand-in for "the weight" a method takes (regularizerObjects.ts): bound to the method's
   * parameter, it is a model parameter to the analyzer, whatever the parameter is called.
   */
  placeholder(name: string, span: Span): Expr {
    const e: Expr = { kind: 'name', name, span };
    this.placeholders.add(e);
    this.unmemoized.add(e);
    return e;
  }

  /** An item of a collection of weights a fold walks (`functools.reduce(lambda acc, w: …, ws, 0)`): a weight. */
  private readonly foldItems = new WeakSet<Expr>();

  private readonly scalarPlaceholders = new WeakSet<Expr>();

  /**
   * A stand-in for a scalar a regularizer method is given beside the weight (`batch_size`): bound to
   * the method's parameter, it is the symbol of that name, whatever data name it resembles.
   */
  scalarPlaceholder(name: string, span: Span): Expr {
    const e: Expr = { kind: 'name', name, span };
    this.scalarPlaceholders.add(e);
    this.unmemoized.add(e);
    return e;
  }

  /** Nodes whose classification depends on a substitution (placeholders, nodes rebuilt around them): never memoized. */
  private readonly unmemoized = new WeakSet<Expr>();
  private readonly attributeReads = new WeakMap<Expr, Expr | null>();

  /** `getattr(self, "weight_decay", 0.0)` as the attribute it reads, `self.weight_decay` (one node per call). */
  private attributeRead(e: Expr & { kind: 'call' }): Expr | undefined {
    let read = this.attributeReads.get(e);
    if (read === undefined) {
      const named = attributeReadByName(e);
      read = named ? { kind: 'attr', object: named.object, name: named.name, span: e.span } : null;
      if (read) this.unmemoized.add(read); // it shares the call's span: keep it out of the memo keyed by span
      this.attributeReads.set(e, read);
    }
    return read ?? undefined;
  }

  private readonly entryReads = new WeakMap<Expr, Expr | null>();
  /** `weights.get('W' + str(i))` read as `weights['W' + str(i)]` (a node of the call's span, kept out of the memo). */
  private entryRead(e: Expr & { kind: 'call' }): Expr | undefined {
    let read = this.entryReads.get(e);
    if (read === undefined) {
      read = (e.callee.kind === 'attr' && !this.isModule(e.callee.object) ? entryReadByGet(e) : undefined) ?? null;
      if (read) this.unmemoized.add(read);
      this.entryReads.set(e, read);
    }
    return read ?? undefined;
  }

  private readonly lookups = new WeakMap<Expr, Expr | null>();
  /** The weights of lookup layers (`self.user_emb.weight` built for `self.user_emb(ids)`): parameters by what they are. */
  private readonly lookupWeights = new WeakSet<Expr>();

  /**
   * A call of a layer that looks rows up in its weight (`self.user_emb(ids)` with
   * `self.user_emb = nn.Embedding(n, d)`): the rows it reads, `self.user_emb.weight[ids]`, whose
   * weight is a parameter whatever it is called (one node per call).
   */
  private lookupRows(e: Expr & { kind: 'call' }, scope: Scope, at: number): Expr | undefined {
    let rows = this.lookups.get(e);
    if (rows === undefined) {
      rows = null;
      const layer = e.callee;
      const key = (layer.kind === 'name' || layer.kind === 'attr') && e.kwargs.length === 0 ? exprKey(layer) : undefined;
      const b = key !== undefined ? scope.lookup(key, at) : undefined;
      const file = this.program.parsedOf(e.span);
      if (b?.kind === 'assign' && !b.op && b.value?.kind === 'call' && file) {
        const path = frameworkPath(b.value.callee, b.scope, b.at, file.scopes.imports, file.language === 'python' ? 'python' : 'script');
        const spec = path ? lookupLayer(path) : undefined;
        const indices = spec ? e.args[spec.indices] : undefined;
        if (spec && indices && e.args.length === spec.indices + 1) {
          const weight: Expr = { kind: 'attr', object: layer, name: spec.weight, span: layer.span };
          this.lookupWeights.add(weight);
          this.unmemoized.add(weight);
          rows = { kind: 'index', object: weight, index: [indices], span: e.span };
          this.unmemoized.add(rows); // it shares the call's span: keep it out of the memo keyed by span
        }
      }
      this.lookups.set(e, rows);
    }
    return rows ?? undefined;
  }

  isPlaceholder(e: Expr): boolean {
    return this.placeholders.has(e);
  }

  /** Each file's optimizer state (moving averages, buffers), found by data flow: never parameters. */
  private readonly stateKeys = new Map<number, StateTargets>();

  registerState(file: SourceFile, state: StateTargets): void {
    this.stateKeys.set(file.id, state);
  }

  /** What facts/index.ts registered for a file: the sets every isParam and state question of it reads (functionReuse.ts compares versions by them). */
  registrationsOf(file: SourceFile): { params?: ReadonlySet<string>; locals?: ReadonlyMap<string, readonly Span[]>; state?: StateTargets; stepped?: ReadonlySet<string> } {
    return { params: this.paramKeys.get(file.id), locals: this.localParamKeys.get(file.id), state: this.stateKeys.get(file.id), stepped: this.steppedItemFields.get(file.id) };
  }

  /** Drops memoized classifications (they depend on the parameter sets, which grow while facts are built). */
  forgetCache(): void {
    this.memo.clear();
    this.memoSlots.clear();
    this.bindingMemo.clear();
    this.deniedKeys.clear();
  }

  /** Would adding these keys to the file's parameter set change any isParam answer given so far? */
  dependsOnAny(file: SourceFile, keys: Iterable<string>): boolean {
    const denied = this.deniedKeys.get(file.id);
    if (denied) for (const key of keys) if (denied.has(key)) return true;
    return false;
  }

  /** Whether an imported name or module member is bound, in the project file that defines it, to a number. */
  private importedNumber(e: Expr, scope: Scope, at: number): boolean {
    const def = resolveExpr(this.program, e, scope, at);
    return def?.kind === 'value' && numberOf(def.expr) !== undefined;
  }

  /** `delta['w']` of `const { grads: delta } = tf.variableGrads(f)`: a gradient by the catalogue, whatever its key says (gradientDicts.ts). */
  private frameworkGradientEntry(e: Expr): boolean {
    if (e.kind !== 'index' && e.kind !== 'attr') return false;
    const root = dictRoot(e.kind === 'attr' ? e.object : e);
    const body = root === undefined ? undefined : this.program.parsedOf(e.span)?.module.body;
    return body !== undefined && catalogueGradientNames(body).has(root!);
  }

  /** Is this a module (`np`, `torch.linalg`) rather than a value with methods? */
  isModule(e: Expr): boolean {
    const root = calleeRoot(e);
    if (root === undefined) return false;
    return MODULE_ROOTS.has(root) || (this.program.parsedOf(e.span)?.scopes.imports.has(root) ?? false);
  }

  /** The canonical path of a module expression through its file's imports (`K` → keras.backend), for `inPlaceUpdate`'s module writes. */
  modulePath(e: Expr): string[] | undefined {
    const path = calleePath(e);
    const parsed = path && this.program.parsedOf(e.span);
    const imports = parsed?.scopes.imports;
    if (!path || !parsed || !imports) return undefined;
    // A framework module a project module re-exports (`from utils import K`, where utils.py has
    // `from keras import backend as K`): the path through that module's own import, one hop.
    const imported = imports.get(path[0]);
    if (imported?.name !== undefined) {
      const mod = this.program.resolveModule(parsed.file, imported.module);
      if (mod && mod.file.id !== parsed.file.id && mod.scopes.imports.has(imported.name)) {
        const through = importedModulePath([imported.name, ...path.slice(1)], mod.scopes.imports);
        if (through) return through;
      }
    }
    return importedModulePath(path, imports);
  }

  /**
   * Is `e` a model parameter, judged by its file's updates, then by what it holds, then by its name?
   * `scope` and `at` say where `e` is read (the innermost scope of its position otherwise).
   */
  isParam(e: Expr, scope?: Scope, at?: number, env?: Env): boolean {
    if (this.foldItems.has(e)) return true;
    const base = baseExpr(e);
    if (this.placeholders.has(base) || this.lookupWeights.has(base)) return true;
    // A tensor of the item a placeholder stands for (`layer.bias` with `layer` read as the weight), not its size or gradient.
    if (base.kind === 'attr' && this.placeholders.has(base.object) && !isMetadataAttribute(base.name) && !isGradientLike(base) && !isStateLike(base)) return true;
    // How the file uses a name (looping over model parameters, stepping it) outranks what it is called.
    const key = exprKey(base);
    const file = fileIdOf(base.span.start);
    const params = this.paramsOfFile(file);
    if (key !== undefined && this.stateKeys.get(file)?.has(key, base.span.start)) return false;
    // A name made a parameter by a gradient's name (`loss_penalty` for `loss_penalty_grad`) that holds
    // a penalty summed from zero is that sum: what it holds outranks the name it was paired by.
    if (key !== undefined && params.has(key) && !this.outsideItsFunctions(file, key, base.span.start) && !this.holdsPenalty(base, key, scope, at, env)) return true;
    // An element of `model.parameters()` (mapped over or reduced) is a parameter.
    if (base.kind === 'call' && base.callee.kind === 'attr' && PARAMETER_LISTS.has(base.callee.name) && base.args.length === 0) return true;
    // A loop or generator variable over a collection that holds weights by data flow, whatever either is called.
    if (this.walksWeights(base, scope, at, file)) return true;
    // `np.sum(u.w ** 2) for u in units` where a loop over `units` steps each item's `w` by a gradient: a weight, whatever the item is called.
    const stepped = this.steppedItemFields.get(file);
    if (stepped && stepped.size > 0) {
      const field = loopItemField(base, scope ?? this.scopeOf(base), at ?? base.span.start, (x) => this.isModule(x));
      if (field !== undefined && stepped.has(field)) return true;
    }
    const answer = !(isGradientLike(base) || isStateLike(base) || isDataLike(base)) && isWeightLike(base) && !this.frameworkGradientEntry(base) && !this.holdsPenalty(base, key, scope, at);
    if (!answer && key !== undefined) {
      let denied = this.deniedKeys.get(file);
      if (!denied) this.deniedKeys.set(file, (denied = new Set()));
      denied.add(key);
    }
    return answer;
  }

  /** Loop variables whose collection is being judged: `for a in xs` with xs built from a's must not ask about itself forever. */
  private readonly walking = new Set<Binding>();
  /** Per file: the loop variables and appended items of each collection key (`collectionUses`). */
  private readonly collectionUses = new Map<number, CollectionUses>();

  /**
   * `sum(np.sum(M ** 2) for M in mats)`, `for t in self.layers: pen += np.sum(t * t)`: the variable
   * walks a collection that holds weights by data flow (`holdsWeights`), so it is a weight however
   * it is called. Decided before the name, which stays the last resort where the collection says
   * nothing: a batch, a list of features or gradients no step moves, is not such a collection.
   */
  private walksWeights(base: Expr, scope: Scope | undefined, at: number | undefined, file: number): boolean {
    if (base.kind !== 'name') return false;
    const b = (scope ?? this.scopeOf(base)).lookup(base.name, at ?? base.span.start);
    if (b?.kind !== 'loop' || !b.loop || this.walking.has(b) || this.walking.size > 8) return false;
    const source = loopSource(loopIterable(b.loop), b.loop.position, (e) => this.isModule(e));
    if (source?.kind !== 'element') return false;
    this.walking.add(b);
    try {
      return this.holdsWeights(source.collection, b.scope, b.at, file, 0);
    } finally {
      this.walking.delete(b);
    }
  }

  /**
   * Does a collection hold weights by data flow? A list, tuple or dict of parameters written out
   * (`[self.W1, self.W2]`, `{"A": A}.values()`, directly or through the name bound to it), a model's
   * parameter list (`model.parameters()`, catalogue.ts), a collection another loop steps the items of
   * (`for p, g in zip(ps, grads): p -= lr * g`), or one built by appending parameters.
   */
  private holdsWeights(c: Expr, scope: Scope, at: number, file: number, hops: number): boolean {
    if (hops > 6) return false;
    const item = (x: Expr, s: Scope, a: number): boolean => (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && this.isParam(x, s, a);
    switch (c.kind) {
      case 'seq':
        return c.items.length > 0 && c.items.every((x) => item(x, scope, at));
      case 'object':
        return c.entries.length > 0 && c.entries.every((x) => item(x.value, scope, at));
      case 'call':
        if (this.isParameterCollection(c, scope, at, undefined, 0)) return true;
        return c.callee.kind === 'name' && isSequenceCopy(c.callee.name) && c.args.length === 1 && c.kwargs.length === 0 && this.holdsWeights(c.args[0], scope, at, file, hops + 1);
      case 'comprehension': {
        // `[p for p in ps]`: the same items, unfiltered.
        const g = c.generators[0];
        if (c.generators.length !== 1 || c.filtered || g.target.kind !== 'name' || c.element.kind !== 'name' || c.element.name !== g.target.name) return false;
        return this.holdsWeights(g.iter, this.program.lambdaScope(c) ?? scope, at, file, hops + 1);
      }
      case 'name':
      case 'attr': {
        const key = exprKey(c);
        if (key === undefined) return false;
        const b = scope.lookup(key, at);
        if (b?.kind === 'assign' && !b.op && b.value && this.holdsWeights(b.value, b.scope, b.at, file, hops + 1)) return true;
        // Rebound to its own items each moved along another collection's (`ws = [w - lr * g for w, g in zip(ws, grads)]`).
        if (b && b.scope.kind !== 'class' && b.scope.allBindings(key).some((x) => x.kind === 'assign' && !x.op && x.value && this.stepsOwnItems(x.value, key, file, x.at))) return true;
        // Or stepped in place by a loop over it and the gradients (`for w, g in zip(ws, grads): w -= lr * g`).
        if (b && c.kind === 'name' && (b.scope.kind === 'function' || b.scope.kind === 'module') && this.loopStepped(b.scope, file).has(key)) return true;
        const uses = this.usesOf(file);
        // A helper's argument: every call of the helper in the file hands it a collection of weights.
        if (b?.kind === 'param' && c.kind === 'name' && this.handedWeights(uses, b, file, hops)) return true;
        const params = this.paramsOfFile(file); // built first: it fills the file's localParamKeys
        for (const loop of uses.loops.get(key) ?? []) {
          if (!sameCollection(key, loop.scope, loop.at, scope, at)) continue;
          if (params.has(loop.name) && this.steppedAsOwnVariable(file, loop.name, loop.at)) return true;
          // Not stepped yet: a later pass that finds it stepped must ask again (see isParam's denials).
          let denied = this.deniedKeys.get(file);
          if (!denied) this.deniedKeys.set(file, (denied = new Set()));
          denied.add(loop.name);
        }
        const appended = (uses.appends.get(key) ?? []).filter((x) => sameCollection(key, x.scope, x.at, scope, at));
        return appended.length > 0 && appended.every((x) => item(x.item, x.scope, x.at));
      }
      default:
        return false;
    }
  }

  /**
   * Is a loop variable stepped as its own function's variable (facts/index.ts `localParams`)? A key
   * that is a parameter across the file because a name elsewhere is stepped says nothing of this loop.
   */
  private steppedAsOwnVariable(file: number, key: string, at: number): boolean {
    const spans = this.localParamKeys.get(file)?.get(key);
    return spans !== undefined && spans.some((s) => s.start <= at && at < s.end);
  }

  /** `def cost(mats, ...)` called only as `cost(self.mats, ...)` or `cost(ps, ...)` with collections of weights. */
  private handedWeights(uses: CollectionUses, param: Binding, file: number, hops: number): boolean {
    const fn = uses.functions.get(param.scope);
    if (!fn || (uses.functionNames.get(fn.name) ?? 0) !== 1) return false;
    const index = explicitParams(fn).findIndex((p) => p.name === param.key && !p.rest);
    if (index < 0) return false;
    let handed = 0;
    for (const site of uses.calls.get(fn.name) ?? []) {
      const callee = site.call.callee;
      const direct = callee.kind === 'name' && !fn.isMethod;
      const own = callee.kind === 'attr' && fn.isMethod && callee.object.kind === 'name' && /^(self|this)$/.test(callee.object.name) && enclosingClass(site.scope) === fn.cls;
      if (!direct && !own) continue;
      if (site.call.args.some((a) => a.kind === 'other')) return false; // a starred argument: positions unknown
      const arg = site.call.args[index] ?? site.call.kwargs.find((k) => k.name === param.key)?.value;
      if (!arg || !this.holdsWeights(arg, site.scope, site.at, file, hops + 1)) return false;
      handed++;
    }
    return handed > 0;
  }

  /** `[w - lr * g for w, g in zip(ws, grads)]` as the new value of `key`, its item not optimizer state by data flow. */
  private stepsOwnItems(value: Expr, key: string, file: number, at: number): boolean {
    const step = comprehensionStep(value, key);
    return !!step && !(step.item.kind === 'name' && this.stateKeys.get(file)?.has(step.item.name, at));
  }

  private readonly loopSteppedKeys = new WeakMap<Scope, Set<string>>();

  /**
   * The collections a loop of this function (or module) steps item by item along another collection
   * (collectionSteps.ts `loopStep`), an item that is optimizer state by data flow aside. One walk per scope.
   */
  private loopStepped(scope: Scope, file: number): Set<string> {
    let keys = this.loopSteppedKeys.get(scope);
    if (keys) return keys;
    keys = new Set();
    this.loopSteppedKeys.set(scope, keys);
    const body = scope.kind === 'module' ? this.program.parsedById(file)?.module.body : this.usesOf(file).functions.get(scope)?.body;
    for (const s of ownStatements(body ?? [])) {
      const step = loopStep(s);
      if (!step || (step.item.kind === 'name' && this.stateKeys.get(file)?.has(step.item.name, s.span.start))) continue;
      keys.add(step.key);
    }
    return keys;
  }

  private usesOf(file: number): CollectionUses {
    let uses = this.collectionUses.get(file);
    if (!uses) {
      const parsed = this.program.parsedById(file);
      uses = parsed ? collectionUsesOf(parsed, (e) => this.isModule(e)) : { loops: new Map(), appends: new Map(), calls: new Map(), functions: new Map(), functionNames: new Map() };
      this.collectionUses.set(file, uses);
    }
    return uses;
  }

  /** Accumulations whose penalty is being read now: `w += w * c` must not ask about itself forever. */
  private readonly penaltyReads = new Set<Binding>();

  /**
   * Does a name that reads as a weight hold a penalty accumulated from zero (`w = 0` then
   * `w += np.linalg.norm(weights[k])` in a loop)? What the variable holds outranks its name; a scalar
   * weight trained from zero (`w = 0.0`, `w -= lr * dw`) is no such sum.
   */
  private holdsPenalty(base: Expr, key: string | undefined, scope: Scope | undefined, at: number | undefined, env?: Env): boolean {
    if (key === undefined || (base.kind !== 'name' && base.kind !== 'attr')) return false;
    const where = scope ?? this.scopeOf(base);
    let position = at ?? base.span.start;
    let binding = where.lookup(key, position);
    // `emb_loss = emb_loss / 2` after the loop: the sum rescaled still holds what the loop added.
    for (let hops = 0; hops < 8 && binding?.kind === 'assign' && !binding.op && binding.value && rescalesItself(binding.value, key); hops++) {
      position = binding.at;
      binding = binding.scope.lookup(key, position);
    }
    if (!binding || binding.kind !== 'assign' || !binding.value || this.penaltyReads.has(binding)) return false;
    this.penaltyReads.add(binding);
    try {
      // `weight = np.linalg.norm(weight)`: the name now holds the weight's norm, a number.
      if (!binding.op && binding.value.kind === 'call') {
        const fn = binding.value.callee.kind === 'attr' ? binding.value.callee.name : binding.value.callee.kind === 'name' ? binding.value.callee.name : undefined;
        if (fn !== undefined && NORM_FUNCTIONS.has(fn)) {
          const held = penaltyOfProduct(this.classify(binding.value, binding.scope, binding.at, env && binding.scope === where ? env : undefined, 0), true);
          return held?.kind === 'norm2' || held?.kind === 'l1';
        }
      }
      return this.accumulatedPenalty(binding, key, where, position, 0, env && binding.scope === where ? env : undefined) !== undefined;
    } finally {
      this.penaltyReads.delete(binding);
    }
  }

  /** The parameter set of a file, building its facts when it is another file reached through a call. */
  private paramsOfFile(id: number): ReadonlySet<string> {
    const known = this.paramKeys.get(id);
    if (known) return known;
    const parsed = this.program.parsedById(id);
    if (parsed) this.program.facts(parsed);
    return this.paramKeys.get(id) ?? NO_PARAMS;
  }

  // ---------------------------------------------------------------- summands

  summands(e: Expr, scope: Scope, at: number, env?: Env, depth = 0): Summand[] {
    let result: Summand[];
    try {
      result = this.enter() ? singleSummand(e, scope, at, env) : this.summandsUnbounded(e, scope, at, env, depth);
    } finally {
      this.active--;
    }
    // Variables that re-use each other (`a = g + g + g; b = a + a + a; ...`) would expand
    // exponentially; past a budget the expression is one opaque term.
    return result.length > MAX_SUMMANDS ? singleSummand(e, scope, at, env) : result;
  }

  private summandsUnbounded(e: Expr, scope: Scope, at: number, env: Env | undefined, depth: number): Summand[] {
    if (depth > MAX_DEPTH) return singleSummand(e, scope, at, env);
    const d = depth + 1;
    switch (e.kind) {
      case 'binary':
        if (e.op === '+' || e.op === '-') {
          const right = this.summands(e.right, scope, at, env, d);
          return concat(this.summands(e.left, scope, at, env, d), e.op === '-' ? right.map(negate) : right);
        }
        if (e.op === '*') return this.product(e, e.left, e.right, this.summands(e.left, scope, at, env, d), this.summands(e.right, scope, at, env, d));
        if (e.op === '/') return this.quotient(e, this.summands(e.left, scope, at, env, d), { expr: e.right, scope, at, env });
        return singleSummand(e, scope, at, env);
      case 'unary':
        if (e.op === '-') return this.summands(e.arg, scope, at, env, d).map(negate);
        if (e.op === '+') return this.summands(e.arg, scope, at, env, d);
        return singleSummand(e, scope, at, env);
      case 'call': {
        const op = this.valueArithmetic(e) ?? this.elementwiseHelper(e, scope, at);
        if (!op) return this.callSummands(e, scope, at, env, d) ?? singleSummand(e, scope, at, env);
        const [a, b, alpha] = op.operands;
        const left = this.summands(a!, scope, at, env, d);
        if (op.op === 'neg') return left.map(negate);
        let right = b ? this.summands(b, scope, at, env, d) : [];
        // `d_p.add(X, alpha=wd)` adds wd·X; what is written at the argument is X.
        if (alpha) right = right.map((r) => joinSummands(outer(this.summands(alpha, scope, at, env, d)[0]), r, r.site));
        if (op.op === '+') return concat(left, right);
        if (op.op === '-') return concat(left, right.map(negate));
        if (op.op === '*' && b) return this.product(e, a!, b, left, right);
        if (op.op === '/' && b) return this.quotient(e, left, { expr: b, scope, at, env });
        return singleSummand(e, scope, at, env);
      }
      case 'cond': {
        // `gamma * w if p == "l2" else gamma * np.sign(w)`: branches of one shape (the same signs
        // term by term) read as the first; others are one opaque term.
        const then = this.summands(e.then, scope, at, env, d);
        const otherwise = this.summands(e.else, scope, at, env, d);
        return then.length === otherwise.length && then.every((t, i) => t.sign === otherwise[i].sign) ? then : singleSummand(e, scope, at, env);
      }
      case 'name':
      case 'attr':
      case 'index': {
        // `p.add(step).data`: the value of a new tensor an arithmetic call computed (the catalogue's
        // value attribute of an out-of-place call), as `p + step` is.
        if (e.kind === 'attr' && isStorageAttribute(e) && e.object.kind === 'call' && arithmeticPlacement(e.object) === 'out-of-place') return this.summands(e.object, scope, at, env, d);
        const sub = env && e.kind !== 'index' ? env.get(e.kind === 'name' ? e.name : (exprKey(e) ?? '')) : undefined;
        if (sub) return this.summands(sub.expr, sub.scope, sub.at, sub.env, d);
        if (this.isParam(e, scope, at, env)) return singleSummand(e, scope, at, env);
        const key = exprKey(e);
        const binding = key !== undefined ? scope.lookup(key, at) : undefined;
        if (binding?.kind === 'assign' && !binding.value && binding.unpacked) {
          // `loss, dW = loss_and_grad(W, X, y, reg)`: dW is the helper's returned gradient.
          const expanded = this.unpackedSummands(binding, binding.unpacked, env && binding.scope === scope ? env : undefined, d);
          return expanded ? expanded.map((s) => ({ ...s, via: [e.span, ...s.via] })) : singleSummand(e, scope, at, env);
        }
        if (!binding || binding.kind !== 'assign' || !binding.value) return singleSummand(e, scope, at, env);
        // A variable holding a penalty or a scalar is one factor; only a vector step direction is expanded.
        const asFactor = this.classify(e, scope, at, env, d);
        if (asFactor.penalty || (!asFactor.tensor && asFactor.params.length === 0)) return singleSummand(e, scope, at, env);
        // Inside a helper analysed for a call, its own variables see the substituted parameters.
        const expanded = env && binding.scope === scope ? this.bindingSummandsIn(binding, env, d) : this.bindingSummands(binding, d);
        // A single term stays a factor (classification resolves it); a sum is a step direction.
        if (!expanded || expanded.length <= 1) return singleSummand(e, scope, at, env);
        return expanded.map((s) => ({ ...s, via: [e.span, ...s.via] }));
      }
      default:
        return singleSummand(e, scope, at, env);
    }
  }

  /** Summands of a variable's value at a binding, following `+=` chains back to the first assignment. */
  private bindingSummands(binding: Binding, depth: number): Summand[] | undefined {
    if (!binding.value || depth > MAX_DEPTH) return undefined;
    if (this.bindingMemo.has(binding)) return this.bindingMemo.get(binding);
    this.bindingMemo.set(binding, undefined); // cycle guard
    const result = this.bindingSummandsUncached(binding, depth);
    this.bindingMemo.set(binding, result);
    return result;
  }

  /** `bindingSummands` with a helper's parameters substituted (not memoized: it depends on the call). */
  private bindingSummandsIn(binding: Binding, env: Env, depth: number): Summand[] | undefined {
    if (!binding.value || depth > MAX_DEPTH) return this.bindingSummands(binding, depth);
    if (binding.op === '+' || binding.op === '-') {
      // `total += w.mean()` in the helper: its adds see the substituted parameters too.
      const own = this.summands(binding.value, binding.scope, binding.at, env, depth + 1);
      const previous = binding.scope.lookup(binding.key, binding.at);
      const before = previous && previous !== binding && previous.at < binding.at ? this.bindingSummandsIn(previous, env, depth + 1) : undefined;
      const added = binding.op === '-' ? own.map(negate) : own;
      return before ? [...before, ...added] : added;
    }
    if (binding.op) return this.bindingSummands(binding, depth);
    return this.summands(binding.value, binding.scope, binding.at, env, depth + 1);
  }

  private bindingSummandsUncached(binding: Binding, depth: number): Summand[] | undefined {
    const own = this.summands(binding.value!, binding.scope, binding.at, undefined, depth + 1);
    if (binding.op === '+' || binding.op === '-') {
      const previous = binding.scope.lookup(binding.key, binding.at);
      const before = previous && previous !== binding ? this.bindingSummands(previous, depth + 1) : undefined;
      const added = binding.op === '-' ? own.map(negate) : own;
      return before ? [...before, ...added] : added;
    }
    if (binding.op) return undefined;
    return own;
  }

  private product(e: Expr, leftExpr: Expr, rightExpr: Expr, left: Summand[], right: Summand[]): Summand[] {
    if (left.length === 1 && right.length === 1) return [joinSummands(left[0], right[0], e.span)];
    // A product of scalars (`lr * wd * (1 - dampening)`) is one coefficient, judged whole: expanded,
    // `−dampening·lr·wd` would be read as a term of its own with its own sign.
    const scalarLeft = left.every((s) => this.isScalarSummand(s));
    const scalarRight = right.every((s) => this.isScalarSummand(s));
    if (scalarLeft && scalarRight) return [{ sign: 1, num: [{ expr: e, scope: left[0].num[0]?.scope ?? right[0].num[0].scope, at: left[0].num[0]?.at ?? right[0].num[0].at, env: left[0].num[0]?.env }], den: [], site: e.span, via: [] }];
    if (left.length === 1) return right.map((r) => joinSummands(outer(left[0]), r, r.site));
    if (right.length === 1) return left.map((l) => joinSummands(l, outer(right[0]), l.site));
    // `(1 - beta1) * (g + wd * p)`: a scalar written as a sum is, whole, one coefficient of each term
    // of a sum written there (a sum read through a variable stays one term, as before).
    const written = (terms: Summand[]): boolean => terms.every((t) => t.via.length === 0);
    if (scalarLeft && left[0].num[0] && written(right)) return right.map((r) => joinSummands(outer(opaque(leftExpr, left[0])), r, r.site));
    if (scalarRight && right[0].num[0] && written(left)) return left.map((l) => joinSummands(l, outer(opaque(rightExpr, right[0])), l.site));
    return [opaque(e, left[0])];
  }

  private quotient(e: Expr, left: Summand[], den: Factor): Summand[] {
    if (left.length === 1) return [{ ...left[0], den: [...left[0].den, den], site: e.span }];
    return left.map((l) => ({ ...l, den: [...l.den, { ...den, outer: true }] }));
  }

  /** `a.add(b)`, `tf.sub(a, b)`, `torch.add(a, b, alpha=c)`, `a.neg()` as arithmetic. */
  arithmeticCall(e: Expr & { kind: 'call' }): { op: '+' | '-' | '*' | '/' | 'neg'; operands: (Expr | undefined)[] } | undefined {
    if (e.callee.kind !== 'attr') return undefined;
    const op = ARITHMETIC_CALLS[e.callee.name];
    if (!op) return undefined;
    const alpha = e.kwargs.find((k) => k.name === 'alpha')?.value;
    if (this.isModule(e.callee.object)) {
      if (op === 'neg') return e.args.length === 1 ? { op, operands: [e.args[0]] } : undefined;
      return e.args.length === 2 ? { op, operands: [e.args[0], e.args[1], alpha] } : undefined;
    }
    if (op === 'neg') return e.args.length === 0 ? { op, operands: [e.callee.object] } : undefined;
    // The old torch signature `grad.add(weight_decay, p)` is grad + weight_decay·p: the scalar comes first.
    if ((op === '+' || op === '-') && e.args.length === 2 && !alpha && this.isScalar(e.args[0])) return { op, operands: [e.callee.object, e.args[1], e.args[0]] };
    return e.args.length === 1 ? { op, operands: [e.callee.object, e.args[0], alpha] } : undefined;
  }

  /**
   * A call's value as arithmetic where that value is used: `arithmeticCall`, and also torch's
   * in-place forms, whose value is the receiver changed (`d = buf.add_(w, alpha=-wd)` holds buf − wd·w;
   * `buf.mul_(m).add_(g)` is m·buf + g). Not for a statement (its value is not read): the update it
   * makes is `inPlaceUpdate`'s.
   */
  valueArithmetic(e: Expr & { kind: 'call' }): ReturnType<Analyzer['arithmeticCall']> {
    const op = this.arithmeticCall(e);
    if (op || e.callee.kind !== 'attr' || arithmeticPlacement(e) !== 'in-place' || e.kwargs.some((k) => k.name === 'out') || this.isModule(e.callee.object)) return op;
    const name = e.callee.name.slice(0, -1);
    return this.arithmeticCall({ ...e, callee: { ...e.callee, name } });
  }

  /**
   * A call of the project's own function that adds or subtracts two of its parameters entry by entry
   * (`m.addMat(W, deltaW)` with nested loops or maps: elementwiseHelpers.ts), as that arithmetic on
   * the arguments.
   */
  private elementwiseHelper(e: Expr & { kind: 'call' }, scope: Scope, at: number): ReturnType<Analyzer['arithmeticCall']> {
    const target = this.callTarget(e, scope, at);
    if (!target || target.constructs || target.candidates) return undefined;
    const found = elementwiseArithmetic(target.fn, returnsOf(this.program, target.fn).map((r) => r.expr));
    if (!found) return undefined;
    const args = callArguments(e, target);
    const left = args[found.left];
    const right = args[found.right];
    if (!left || !right || e.kwargs.length > 0 || args.length !== explicitParams(target.fn).length) return undefined;
    return { op: found.op, operands: [left, right] };
  }

  private isScalarSummand(s: Summand): boolean {
    return s.num.length > 0 && s.via.length === 0 && [...s.num, ...s.den].every((f) => f.env === undefined && (numberOf(f.expr) !== undefined || isPureScalar(this.classify(f.expr, f.scope, f.at))));
  }

  /** A scalar by its classification (a number, a hyperparameter, a setting read by key). */
  isScalar(e: Expr): boolean {
    const scope = this.program.parsedOf(e.span)?.scopes;
    if (numberOf(e) !== undefined) return true;
    if (!scope) return false;
    return isPureScalar(this.classify(e, this.scopeOf(e), e.span.start));
  }

  /** The innermost scope of an expression's position, in its file. */
  private scopeOf(e: Expr): Scope {
    const facts = this.program.factsAt(e.span);
    return facts ? programIndex(facts).scopeAt(e.span.start) : this.program.parsedOf(e.span)!.scopes.root;
  }

  // ---------------------------------------------------------------- classification

  /** Classifies a summand's product of factors. */
  classifySummand(s: Summand, depth = 0): Product {
    let p = scalar(s.sign === 1 ? ONE : num(-1));
    for (const f of s.num) p = multiply(p, this.classify(f.expr, f.scope, f.at, f.env, depth));
    for (const f of s.den) p = multiply(p, invert(this.classify(f.expr, f.scope, f.at, f.env, depth)));
    return p;
  }

  /**
   * The penalty a summand adds, if it is exactly a scalar multiple of one. Its coefficient is the
   * one written at the summand's site (without a learning rate distributed from outside).
   */
  penaltyOfSummand(s: Summand, siblings?: readonly Summand[]): PenaltyTerm | undefined {
    // An adaptive step divides the whole direction (`/ np.sqrt(cache)`): that does not hide a penalty.
    const whole = penaltyOfProduct(this.classifySummand({ ...s, den: s.den.filter((f) => !f.outer) }));
    if (!whole) return undefined;
    // A factor distributed over penalties only (`lam` in `lam * (ΣW1² + ΣW2²)`, given the step's other
    // summands) is the penalty's own coefficient, not a step size from outside.
    const own = (f: Factor): boolean => !f.outer || (siblings !== undefined && siblings.every((o) => !o.num.some((g) => g.expr === f.expr) || (o === s ? true : this.penaltyOfSummand(o) !== undefined)));
    const local = penaltyOfProduct(this.classifySummand({ ...s, sign: 1, num: s.num.filter(own), den: s.den.filter((f) => !f.outer) }));
    return local ?? whole;
  }

  classify(e: Expr, scope: Scope, at: number, env?: Env, depth = 0): Product {
    if (depth > MAX_DEPTH) return TENSOR;
    const slot = env || this.unmemoized.has(e) ? undefined : this.memoSlot(e);
    if (slot) {
      const hit = slot.get(at);
      if (hit) return hit;
      slot.set(at, TENSOR); // cycle guard
    }
    let result: Product;
    try {
      result = this.enter() ? TENSOR : this.classifyUncached(e, scope, at, env, depth + 1);
    } finally {
      this.active--;
    }
    if (slot) slot.set(at, result);
    return result;
  }

  private memoSlot(e: Expr): MemoSlot {
    let slot = this.memoSlots.get(e);
    if (!slot) {
      // By span start, then end and kind: no key string per node (these maps live as long as the facts).
      const { start, end } = e.span;
      let atStart = this.memo.get(start);
      if (!atStart) this.memo.set(start, (atStart = []));
      slot = atStart.find((m) => m.end === end && m.kind === e.kind);
      if (!slot) atStart.push((slot = new MemoSlot(end, e.kind)));
      this.memoSlots.set(e, slot);
    }
    return slot;
  }

  private classifyUncached(e: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product {
    switch (e.kind) {
      case 'num':
        return scalar(num(e.value));
      case 'unary':
        if (e.op === '-') return negProduct(this.classify(e.arg, scope, at, env, d));
        if (e.op === '+') return this.classify(e.arg, scope, at, env, d);
        return TENSOR;
      case 'binary':
        return this.classifyBinary(e, scope, at, env, d);
      case 'name':
      case 'attr':
      case 'index':
        return this.classifyReference(e, scope, at, env, d);
      case 'call':
        return this.classifyCall(e, scope, at, env, d);
      case 'cond': {
        // Branches that act on the same parameters (an L2 or an L1 gradient of one weight) read as the first.
        const then = this.classify(e.then, scope, at, env, d);
        const otherwise = this.classify(e.else, scope, at, env, d);
        const keys = (p: Product): string => [...p.params, ...p.abs, ...(p.signs ?? []), ...(p.penalty?.params ?? [])].map((x) => x.key).sort().join(',');
        if (then.tensor || otherwise.tensor) return TENSOR;
        if (isPureScalar(then) && isPureScalar(otherwise)) return scalar(sym(this.source(e)));
        return keys(then) === keys(otherwise) ? then : TENSOR;
      }
      default:
        return TENSOR;
    }
  }

  private classifyBinary(e: Expr & { kind: 'binary' }, scope: Scope, at: number, env: Env | undefined, d: number): Product {
    switch (e.op) {
      case '*':
        return multiply(this.classify(e.left, scope, at, env, d), this.classify(e.right, scope, at, env, d));
      case '/':
        // `w.norm() / d.norm()` (LAMB's and LARS's trust ratio): a ratio of two magnitudes is a positive number, not a tensor.
        if (this.isMagnitude(e.left, scope, at, 0) && this.isMagnitude(e.right, scope, at, 0)) return scalar(sym(this.source(e)));
        return multiply(this.classify(e.left, scope, at, env, d), invert(this.classify(e.right, scope, at, env, d)));
      case '**': {
        const k = this.exponent(e.right, scope, at, env, d);
        const base = this.classify(e.left, scope, at, env, d);
        if (k === undefined) return isPureScalar(base) ? scalar(sym(this.source(e))) : TENSOR;
        return (k === 0.5 ? rootedNorm(power(base, k), e.span, e.left.span, false) : undefined) ?? power(base, k);
      }
      case '@': {
        const l = this.classify(e.left, scope, at, env, d);
        const r = this.classify(e.right, scope, at, env, d);
        // `w @ w` of a vector is Σw².
        if (isSingleParam(l) && isSingleParam(r) && sameWeight(l.params[0], r.params[0])) return penaltyProduct('sumsq', mul(l.coef, r.coef), l.params);
        return TENSOR;
      }
      case '+':
      case '-':
        return this.classifySum(e, scope, at, env, d);
      default:
        return TENSOR;
    }
  }

  /** A sum inside a product: `(np.sum(W1**2) + np.sum(W2**2))` is one penalty; `(1 - lr*reg)` a scalar. */
  private classifySum(e: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product {
    // The depth goes on through the summands: a variable that feeds its own value back (`x = a * x +
    // b if c else b` where b was read from x) would otherwise start over at every turn.
    const parts = this.summands(e, scope, at, env, d).map((s) => this.classifySummand(s, d));
    if (parts.every(isPureScalar)) return scalar(sym(this.source(e)));
    const penalties = parts.map((p) => penaltyOfProduct(p));
    const first = penalties[0];
    if (first && penalties.every((p) => p && p.kind === first.kind)) {
      // Same coefficient on each part: factor it out; otherwise keep the first part's.
      const params = penalties.flatMap((p) => p!.params);
      const defs = penalties.flatMap((p) => p!.defs);
      const norms = penalties.flatMap((p) => p!.norms ?? []);
      return { ...scalar(first.coef), penalty: { ...first, coef: ONE, params, defs, norms } };
    }
    return TENSOR;
  }

  private classifyReference(e: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product {
    if (this.scalarPlaceholders.has(e)) return scalar(sym((e as Expr & { kind: 'name' }).name));
    if (env && (e.kind === 'name' || e.kind === 'attr')) {
      // A helper's parameter, or an instance's setting its constructor was given (`self.strength`).
      const sub = env.get(e.kind === 'name' ? e.name : (exprKey(e) ?? ''));
      if (sub) {
        const inner = this.classify(sub.expr, sub.scope, sub.at, sub.env, d);
        return inner;
      }
    }
    if (env && e.kind !== 'name') {
      // `w[i]` / `w.data` where w is a helper parameter: substitute the base.
      const substituted = substitute(e, env);
      if (substituted !== e) {
        // A node built for one substitution must not share the memo of the node it was built from.
        this.unmemoized.add(substituted);
        return this.classify(substituted, scope, at, undefined, d);
      }
    }
    if (this.isParam(e, scope, at, env)) return { coef: ONE, params: [{ key: exprKey(e) ?? this.source(e), base: baseExpr(e), expr: e }], abs: [], tensor: false };
    const handed = env ? this.handedParameter(e, scope, at, env, d) : undefined;
    if (handed) return handed;
    const loopVar = e.kind === 'name' ? scope.lookup(e.name, at) : undefined; // a loop variable or an alias
    if (loopVar?.kind === 'loop') {
      // An element of a parameter (`for v in row` over `for row in W`) is part of that parameter.
      const collection = this.loopCollection(loopVar, d);
      if (collection && this.isParam(collection)) return { coef: ONE, params: [{ key: loopVar.key, base: baseExpr(collection), expr: e }], abs: [], tensor: false };
    }
    if (loopVar?.kind === 'assign' && loopVar.value && !loopVar.op && (loopVar.value.kind === 'index' || loopVar.value.kind === 'attr' || loopVar.value.kind === 'name')) {
      // `vel = Y` before the loop, `vel = mom * vel - lr * dY` in it: the old velocity is state, not Y (carriedState.ts).
      if (carriedFromLastIteration(e, at, loopVar)) return TENSOR;
      // `const v = params[name]` makes v the parameter, whatever v is called.
      const aliased = this.classify(loopVar.value, loopVar.scope, loopVar.at, undefined, d);
      if (isSingleParam(aliased)) return aliased;
    }
    if (e.kind === 'attr' && (e.name === 'shape' || e.name === 'size' || e.name === 'length' || e.name === 'ndim')) return scalar(sym(this.source(e)));
    if (e.kind === 'index' && e.object.kind === 'attr' && e.object.name === 'shape') return scalar(sym(this.source(e)));
    const entry = e.kind === 'index' ? this.returnedEntry(e, scope, at, env, d) : undefined;
    if (entry) return entry;
    const key = exprKey(e);
    if (key === undefined) return TENSOR;
    const binding = scope.lookup(key, at);
    // Names only decide when there is no assignment to read: `m = len(y)` is a count, not Adam's m.
    // `m` is a count of examples when it is a parameter nothing reassigns (course code's `lam / (2 * m)`);
    // Adam's first moment is assigned where it is read.
    if (binding?.kind === 'param' && e.kind === 'name' && isCountName(e.name)) return scalar(sym(key));
    // A parameter its function never rebinds, whose default is a nonzero number (`momentum=0.9`), is a
    // setting, though its name also names a buffer; a state handed in defaults to zero (`v=0`).
    if (binding?.kind === 'param' && e.kind === 'name' && binding.value && (numberOf(binding.value) ?? 0) !== 0 && binding.scope.allBindings(key).length === 1) return scalar(sym(key));
    // What an unpacked call returns at the name's place outranks what the name says.
    const unpacked = binding?.kind === 'assign' && binding.unpacked && !binding.value ? this.unpackedFactor(binding, binding.unpacked, env && binding.scope === scope ? env : undefined, d) : undefined;
    if (unpacked) return unpacked;
    // A setting restored from a saved dict (`self.weight_decay = state["weight_decay"]`) is a setting whatever holds it;
    // so is a count of examples read from a config (`config["batch_size"]`), though `batch` names data.
    const setting = e.kind === 'index' && isKeyedByString(e) && e.index[0].kind === 'str' && (isHyperparameterKey(e.index[0].value) || isExampleCountName(e.index[0].value));
    const named = !setting && (isGradientLike(e) || isStateLike(e) || isDataLike(e));
    if (named && (!binding || binding.kind !== 'assign' || !binding.value || binding.op)) {
      // What it holds outranks its name: `s = 0.0` then `s += w[i] * w[i]` is a penalty summed from zero,
      // though `s` also names RMSprop's state (which never adds only squares of weights).
      const accumulated = binding?.kind === 'assign' && binding.value && binding.op ? this.accumulatedPenalty(binding, key, scope, at, d, env && binding.scope === scope ? env : undefined) : undefined;
      return accumulated ?? TENSOR;
    }
    if (!binding) {
      // `group['weight_decay']`, `self.reg`, `config.lam`: a setting read by key is a scalar.
      if (e.kind === 'index') return isKeyedByString(e) ? scalar(sym(key)) : (this.entryOfMapped(e, scope, at, env, d) ?? TENSOR);
      if (!this.isModule(e)) return scalar(sym(key));
      // An imported name or a module's member (`from config import L2`, `cfg.WEIGHT_DECAY`) is a
      // setting when the project binds it to a number; a library's name stays opaque.
      return this.importedNumber(e, scope, at) ? scalar(sym(key)) : TENSOR;
    }
    if (binding.kind === 'param') return scalar(sym(key));
    if (binding.kind === 'loop') return e.kind === 'name' && !this.loopCollection(binding, d) ? scalar(sym(key)) : TENSOR;
    const accumulated = this.accumulatedPenalty(binding, key, scope, at, d, env && binding.scope === scope ? env : undefined);
    if (accumulated) return accumulated;
    // `N, M = X.shape`: sizes are scalars.
    if (binding.unpacked?.value.kind === 'attr' && isShapeAttribute(binding.unpacked.value.name)) return scalar(sym(key));
    if (binding.op && binding.value) {
      // `wd *= scale`, `lr += warmup`: a number scaled or shifted by a number is a number.
      const before = this.classify(e, binding.scope, binding.at, undefined, d);
      const by = this.classify(binding.value, binding.scope, binding.at, env && binding.scope === scope ? env : undefined, d);
      return isPureScalar(before) && isPureScalar(by) ? scalar(sym(key)) : TENSOR;
    }
    if (!binding.value || binding.op) return TENSOR;
    if (numberSettingRead(binding.value)) return scalar(sym(key));
    // Inside a helper analysed for a call, its own variables still see the substituted parameters.
    const value = this.classify(binding.value, binding.scope, binding.at, env && binding.scope === scope ? env : undefined, d);
    if (value.penalty) {
      const what = `${penaltyName(key)} is defined here`;
      return { ...value, penalty: { ...value.penalty, defs: [{ span: binding.span, what }, ...value.penalty.defs] } };
    }
    if (isPureScalar(value)) return scalar(sym(key));
    // A variable holding c·sign(W) or c·|W| is that term (`l1_grad = lam * np.sign(w)`).
    if (!value.tensor && value.params.length === 0 && (value.signs?.length ?? 0) + value.abs.length === 1) return value;
    if (value.params.length > 0 && !value.tensor) {
      if (value.signs?.length) return TENSOR;
      if (value.params.length === 1 && value.abs.length === 0) return value; // an alias of a parameter
      return { ...value, penalty: undefined };
    }
    return TENSOR;
  }

  /**
   * `out["l2"]` where `out = model(batch)` and the function the call runs returns a dict that holds a
   * penalty under that key (returnedDicts.ts): that penalty, with the call's arguments bound. Any
   * other entry reads as before (a setting read by key stays a symbol).
   */
  private returnedEntry(e: Expr & { kind: 'index' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    if (e.index.length !== 1 || e.object.kind !== 'name') return undefined;
    // The caller's own write of the entry (`out["l2"] = 0`) is what it reads.
    const own = exprKey(e);
    if (own !== undefined && scope.lookup(own, at)) return undefined;
    const b = scope.lookup(e.object.name, at);
    if (!b || b.kind !== 'assign' || b.op || b.value?.kind !== 'call') return undefined;
    const call = b.value;
    const target = this.callTarget(call, b.scope, b.at);
    if (!target || target.constructs || this.activeCalls.has(target.fn) || this.activeCalls.size >= MAX_CALLS) return undefined;
    const key = constantKey(this.program, e.index[0], scope, at);
    const entry = key !== undefined ? returnedDictEntry(this.program, target.fn, key) : undefined;
    if (!entry) return undefined;
    const inner = this.argumentEnv(call, target, b.scope, b.at, env && b.scope === scope ? env : undefined);
    this.activeCalls.add(target.fn);
    let product: Product;
    try {
      product = this.classify(entry.value, entry.scope, entry.at, inner, d);
    } finally {
      this.activeCalls.delete(target.fn);
    }
    if (!product.penalty) return undefined;
    const what = `${target.fn.name}() returns the penalty in its dict under ${JSON.stringify(key)} here`;
    return { ...product, penalty: { ...product.penalty, defs: [{ span: entry.value.span, what }, ...product.penalty.defs] } };
  }

  /**
   * An entry of an array mapped elementwise from a parameter (`this.penalty = this.weights.map((x) =>
   * this.l1 * Math.abs(x))`, then `this.penalty[i]`): the mapped term at that entry, c·|W|, c·sign(W)
   * or c·W, as the whole array reads. Only one such term, with nothing else in it.
   */
  private entryOfMapped(e: Expr & { kind: 'index' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    const key = exprKey(e.object);
    if (key === undefined || e.index.length !== 1) return undefined;
    const b = scope.lookup(key, at);
    const v = b?.kind === 'assign' && !b.op ? b.value : undefined;
    if (v?.kind !== 'call' || v.callee.kind !== 'attr' || v.callee.name !== 'map' || v.args.length !== 1 || v.args[0].kind !== 'lambda') return undefined;
    const whole = this.classify(e.object, scope, at, env, d);
    if (whole.tensor || whole.penalty) return undefined;
    const terms = whole.params.length + whole.abs.length + (whole.signs?.length ?? 0);
    return terms === 1 ? whole : undefined;
  }

  /**
   * What a loop variable walks over: `for v in row` with `for row in W` → `W`; `for g, v in zip(gs, vs)` → `vs`.
   * Undefined for counters (`range(n)`, C-style loops).
   */
  private loopCollection(binding: Binding, d: number): Expr | undefined {
    if (!binding.loop || d > MAX_DEPTH) return undefined;
    const source = loopSource(loopIterable(binding.loop), binding.loop.position, (e) => this.isModule(e));
    if (source?.kind !== 'element') return undefined;
    const iter = source.collection;
    if (iter.kind === 'name') {
      const outer = binding.scope.lookup(iter.name, binding.at);
      if (outer?.kind === 'loop') return this.loopCollection(outer, d + 1);
    }
    return iter.kind === 'name' || iter.kind === 'attr' || iter.kind === 'index' ? iter : undefined;
  }

  /**
   * An element of a helper's argument that the call hands a parameter collection: `for t in tensors`
   * (or `t.data`, `t[i]`) in `squared_size(tensors)` called with `model.parameters()`, a list of it, or
   * a name bound to one, through every call on the way. Data flow decides, not the argument's name.
   */
  private handedParameter(e: Expr, scope: Scope, at: number, env: Env, d: number): Product | undefined {
    const base = baseExpr(e);
    if (base.kind !== 'name' || env.has(base.name)) return undefined;
    const element = scope.lookup(base.name, at);
    if (element?.kind !== 'loop') return undefined;
    const collection = this.loopCollection(element, d);
    if (collection?.kind !== 'name' || element.scope.lookup(collection.name, element.at)?.kind !== 'param') return undefined;
    const handed = env.get(collection.name);
    if (!handed || !this.isParameterCollection(handed.expr, handed.scope, handed.at, handed.env, 0)) return undefined;
    return { coef: ONE, params: [{ key: base.name, base, expr: e }], abs: [], tensor: false };
  }

  /** `model.parameters()`, `list(model.parameters())`, `[p for p in model.parameters()]`, or a name or argument holding one. */
  private isParameterCollection(e: Expr, scope: Scope, at: number, env: Env | undefined, hops: number): boolean {
    if (hops > 8) return false;
    if (e.kind === 'call') {
      if (e.callee.kind === 'attr' && PARAMETER_LISTS.has(e.callee.name) && e.args.length === 0 && !this.isModule(e.callee.object)) return true;
      if (e.callee.kind === 'name' && isSequenceCopy(e.callee.name) && e.args.length === 1 && e.kwargs.length === 0) return this.isParameterCollection(e.args[0], scope, at, env, hops + 1);
      return false;
    }
    if (e.kind === 'comprehension') {
      // `[p for p in model.parameters()]`: the same items, unfiltered.
      const g = e.generators[0];
      if (e.generators.length !== 1 || e.filtered || g.target.kind !== 'name' || e.element.kind !== 'name' || e.element.name !== g.target.name) return false;
      return this.isParameterCollection(g.iter, scope, at, env, hops + 1);
    }
    if (e.kind !== 'name') return false;
    const sub = env?.get(e.name);
    if (sub) return this.isParameterCollection(sub.expr, sub.scope, sub.at, sub.env, hops + 1);
    const b = scope.lookup(e.name, at);
    return !!(b?.kind === 'assign' && b.value && !b.op && this.isParameterCollection(b.value, b.scope, b.at, undefined, hops + 1));
  }

  /** By scope and name, whether some binding assigns a zero scalar: what an accumulated penalty starts from. */
  private readonly zeroStarts = new WeakMap<Scope, Map<string, boolean>>();

  /**
   * `pen = 0` followed by `pen += c * p[j] * p[j]` (in a loop) is Σ over the loop: a penalty.
   * `env`: a helper's parameters substituted, when the accumulation is that helper's own variable.
   */
  private accumulatedPenalty(binding: Binding, key: string, scope: Scope, at: number, d: number, env?: Env): Product | undefined {
    // Known once per name, so a name rebound thousands of times (`w = w.sub(…)` on every line) costs no scan per read.
    let starts = this.zeroStarts.get(binding.scope);
    if (!starts) this.zeroStarts.set(binding.scope, (starts = new Map()));
    let zero = starts.get(key);
    if (zero === undefined) starts.set(key, (zero = binding.scope.allBindings(key).some((b) => b.kind === 'assign' && !b.op && b.value !== undefined && zeroValue(b.value) === 'scalar')));
    if (!zero) return undefined;
    // A read inside the loop also sees the loop's later adds (the next turn); one after the loop
    // does not see what is done to the sum afterwards (`total = total / 2` is read through its own value).
    const all = binding.scope.allBindings(key).filter((b) => b.at < at || b.loops.some((l) => binding.loops.includes(l)));
    const start = all.find((b) => b.kind === 'assign' && !b.op && b.value && zeroValue(b.value) === 'scalar');
    if (!start) return undefined;
    // `pen += term`, or `pen = pen + term` written out.
    const increment = (b: Binding): Expr | undefined => {
      if (b.op === '+') return b.value;
      if (b.op || b.value?.kind !== 'binary' || b.value.op !== '+') return undefined;
      return exprKey(b.value.left) === key ? b.value.right : undefined;
    };
    const later = all.filter((b) => b.at > start.at);
    const adds = later.flatMap((b) => {
      const value = increment(b);
      return value ? [{ ...b, value }] : [];
    });
    if (adds.length === 0 || adds.length !== later.length) return undefined;
    const terms: PenaltyTerm[] = [];
    for (const add of adds) {
      const addEnv = env && add.scope === binding.scope ? env : undefined;
      const overItems = this.penaltyOverLoopItems(add, addEnv, d);
      if (overItems) {
        terms.push(overItems);
        continue;
      }
      const p = penaltyOfProduct(this.classify(add.value, add.scope, add.at, addEnv, d), true);
      if (!p) return undefined;
      // An elementwise square summed over a loop is the sum of squares of the whole parameter.
      if (p.kind === 'elemsq' && add.loops.length > 0) terms.push({ ...p, kind: 'sumsq', params: p.params.map(wholeParam) });
      else if (p.kind === 'elemabs' && add.loops.length > 0) terms.push({ ...p, kind: 'l1', params: p.params.map(wholeParam) });
      else if (p.kind === 'elemsq' || p.kind === 'elemabs') return undefined;
      else terms.push(p);
    }
    const first = terms[0];
    if (!terms.every((t) => t.kind === first.kind)) return undefined;
    const defs = [{ span: start.span, what: `${penaltyName(key)} is accumulated from here` }];
    return { ...scalar(ONE), penalty: { ...first, params: terms.flatMap((t) => t.params), defs: [...defs, ...terms.flatMap((t) => t.defs)], norms: terms.flatMap((t) => t.norms ?? []) } };
  }

  /**
   * An add in a loop over a tuple written out, or over `*tensors` holding the call's arguments
   * (`for t in (eu, ei): acc += torch.norm(t) ** 2`): the add read once per item, the loop variable
   * bound to it, is one penalty of the items together when every item gives the same penalty of a
   * whole tensor with the same coefficient. Undefined otherwise (the loop variable is then read as before).
   */
  private penaltyOverLoopItems(add: Binding & { value: Expr }, env: Env | undefined, d: number): PenaltyTerm | undefined {
    const loop = add.loops[add.loops.length - 1];
    if (!loop) return undefined;
    let variable: Binding | undefined;
    let unusable = false;
    const visit = (x: Expr): void => {
      if (x.kind === 'name') {
        const b = add.scope.lookup(x.name, add.at);
        if (b?.kind === 'loop' && b.loop?.iter === loop) {
          if (b.loop.position !== 0 || b.loop.walks || (variable && variable !== b)) unusable = true;
          variable = b;
        }
      }
      forEachChild(x, visit);
    };
    visit(add.value);
    if (!variable || unusable) return undefined;
    const items = writtenOutItems(loop, variable.scope, variable.at, env);
    if (!items || items.length === 0 || items.length > MAX_ITEMS || items.some((item) => item.expr.kind === 'other')) return undefined;
    const terms: PenaltyTerm[] = [];
    for (const item of items) {
      const inner: Env = new Map(env ?? []);
      inner.set(variable.key, item);
      const p = penaltyOfProduct(this.classify(add.value, add.scope, add.at, inner, d));
      if (!p || p.kind === 'elemsq' || p.kind === 'elemabs') return undefined;
      if (terms.length > 0 && (p.kind !== terms[0].kind || !equalCoef(p.coef, terms[0].coef))) return undefined;
      terms.push(p);
    }
    return { ...terms[0], params: terms.flatMap((p) => p.params), defs: terms.flatMap((p) => p.defs), norms: terms.flatMap((p) => p.norms ?? []) };
  }

  private classifyCall(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Product {
    const named = this.attributeRead(e);
    if (named) return this.classify(named, scope, at, env, d);
    // `weights.get(key)` is the weight `weights[key]`; any other entry read stays what it was.
    const entry = this.entryRead(e);
    if (entry) {
      const read = this.classify(entry, scope, at, env, d);
      if (isSingleParam(read)) return read;
    }
    const rows = this.lookupRows(e, scope, at);
    if (rows) return this.classify(rows, scope, at, env, d);
    const arith = this.valueArithmetic(e) ?? this.elementwiseHelper(e, scope, at);
    if (arith) {
      const [a, b, alpha] = arith.operands;
      const left = this.classify(a!, scope, at, env, d);
      if (arith.op === 'neg') return negProduct(left);
      let right = b ? this.classify(b, scope, at, env, d) : TENSOR;
      if (alpha) right = multiply(right, this.classify(alpha, scope, at, env, d));
      if (arith.op === '*') return multiply(left, right);
      if (arith.op === '/') return multiply(left, invert(right));
      return this.classifySum(e, scope, at, env, d);
    }
    // `xp.array(weight_decay, dtype=DTYPE)`: a number cast to an array of one value is that number.
    const cast = scalarCastOperand(e, (x) => this.modulePath(x));
    if (cast) {
      const value = this.classify(cast, scope, at, env, d);
      if (isPureScalar(value)) return value;
    }
    // The project's own function of a framework's name (`def l2_loss(params): return Σ p²`, without
    // tf.nn.l2_loss's ½) is the penalty its body computes; the name decides only when the body does not read as one.
    const own = this.ownFunction(e, scope, at) ? this.helperCall(e, scope, at, env, d) : undefined;
    if (own?.penalty) return own;
    const penalty = this.recognizePenalty(e, scope, at, env, d);
    if (penalty) return penalty;
    const helper = own ?? this.helperCall(e, scope, at, env, d);
    if (helper) return helper;
    const path = calleePath(e.callee);
    // `g.square_()`, `v.sqrt_()`: torch's in-place form is valued as the out-of-place one.
    const inPlace = e.callee.kind === 'attr' && !this.isModule(e.callee.object) ? inPlaceMathName(e) : undefined;
    const fn = inPlace ?? path?.[path.length - 1] ?? (e.callee.kind === 'attr' ? e.callee.name : undefined);
    if (fn && (SQUARE_FUNCTIONS.has(fn) || fn === 'pow' || fn === 'power')) {
      const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
      const operand = this.unaryOperand(e);
      const exponentArg = methodForm ? e.args[0] : e.args[1];
      const k = fn === 'square' ? 2 : exponentArg && this.exponent(exponentArg, scope, at, env, d);
      if (operand && k !== undefined) return power(this.classify(operand, scope, at, env, d), k);
    }
    if (fn && ABS_FUNCTIONS.has(fn)) {
      const operand = this.unaryOperand(e);
      if (operand) {
        const inner = this.classify(operand, scope, at, env, d);
        if (isSingleParam(inner)) return { ...scalar(inner.coef), abs: inner.params };
        if (isPureScalar(inner)) return scalar(sym(this.source(e)));
      }
      return TENSOR;
    }
    if (fn && SIGN_FUNCTIONS.has(fn)) {
      const operand = this.unaryOperand(e);
      if (operand && (e.args.length + (e.callee.kind === 'attr' && !this.isModule(e.callee.object) ? 1 : 0)) === 1) {
        const inner = this.classify(operand, scope, at, env, d);
        if (isSingleParam(inner)) return { ...scalar(ONE), signs: inner.params };
      }
      return TENSOR;
    }
    if (fn && (fn === 'size' || fn === 'numel' || fn === 'item' || SCALAR_FUNCTIONS.has(fn))) {
      if (fn === 'item' || fn === 'size' || fn === 'numel' || fn === 'len' || fn === 'float' || fn === 'int' || fn === 'Number') return scalar(sym(this.source(e)));
      const args = e.args.map((a) => this.classify(a, scope, at, env, d));
      if (args.every(isPureScalar)) return scalar(sym(this.source(e)));
    }
    if (fn && ROOT_FUNCTIONS.has(fn)) {
      // `np.sqrt(np.sum(W ** 2))`, `sq.sqrt()` of a sum of squared norms: the plain norm, however it is spelled.
      const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
      const operand = this.unaryOperand(e);
      if (operand && e.args.length === (methodForm ? 0 : 1) && e.kwargs.length === 0) {
        const file = this.program.parsedOf(e.span);
        const frameworkCallee = !methodForm && file ? frameworkPath(e.callee, scope, at, file.scopes.imports, file.language === 'python' ? 'python' : 'script') : undefined;
        const rooted = rootedNorm(power(this.classify(operand, scope, at, env, d), 0.5), e.span, operand.span, isAutodiffNorm(frameworkCallee, methodForm));
        if (rooted) return rooted;
      }
    }
    if (fn && VIEW_FUNCTIONS.has(fn)) {
      if (e.callee.kind === 'attr' && !this.isModule(e.callee.object)) return this.classify(e.callee.object, scope, at, env, d);
      if (e.args[0]) return this.classify(e.args[0], scope, at, env, d);
    }
    return this.importedPenaltyCall(e, scope, at, env, d) ?? TENSOR;
  }

  /**
   * A method called on an instance whose class the code does not show, which no class of this file
   * defines (`sum(b.regularization() for b in blocks)` with `from blocks import Affine`): the penalty
   * the one method of that name among the imported classes returns. Only a penalty: any other value
   * of the call stays opaque, so a framework's own classes (a tensor's `square`, `assign`) never stand
   * in for what the catalogue knows of those names.
   */
  private importedPenaltyCall(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    const target = this.importedTarget(e, scope, at);
    const product = target ? this.helperCall(e, scope, at, env, d, target) : undefined;
    return product?.penalty ? product : undefined;
  }

  /**
   * A norm of a whole tensor: `x.norm()`, `torch.norm(x)`, `x.pow(2).sum().sqrt()`, `np.sqrt(np.sum(x ** 2))`,
   * optionally clamped or plus a constant, or a local holding one. Only the shape of the computation decides.
   */
  private isMagnitude(e: Expr, scope: Scope, at: number, hops: number): boolean {
    if (hops > 4) return false;
    if (e.kind === 'binary' && e.op === '+') return (this.isMagnitude(e.left, scope, at, hops + 1) && numberOf(e.right) !== undefined) || (numberOf(e.left) !== undefined && this.isMagnitude(e.right, scope, at, hops + 1));
    if (e.kind === 'name') {
      const b = scope.lookup(e.name, at);
      return !!b && b.kind === 'assign' && !b.op && !!b.value && this.isMagnitude(b.value, b.scope, b.at, hops + 1);
    }
    if (e.kind !== 'call') return false;
    const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
    const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
    if (!fn) return false;
    const operand = methodForm ? (e.callee as { object: Expr }).object : e.args[0];
    const extra = methodForm ? e.args.length : e.args.length - 1;
    if (NORM_FUNCTIONS.has(fn)) return !!operand && e.kwargs.every((k) => !REDUCTION_KEYWORDS.has(k.name));
    if (CLAMP_METHODS.has(fn) && methodForm) return this.isMagnitude(operand, scope, at, hops + 1);
    if (ROOT_FUNCTIONS.has(fn) && operand && extra === 0) {
      // √(Σx²): the square root of a whole reduction of squares.
      if (operand.kind !== 'call') return false;
      const sumForm = operand.callee.kind === 'attr' && !this.isModule(operand.callee.object);
      const sumName = operand.callee.kind === 'attr' ? operand.callee.name : operand.callee.kind === 'name' ? operand.callee.name : undefined;
      const reduced = sumForm ? (operand.callee as { object: Expr }).object : operand.args[0];
      if (!sumName || !SUM_FUNCTIONS.has(sumName) || !reduced || operand.args.length !== (sumForm ? 0 : 1) || operand.kwargs.length > 0) return false;
      return (reduced.kind === 'binary' && reduced.op === '**' && numberOf(reduced.right) === 2) || (reduced.kind === 'call' && reduced.callee.kind === 'attr' && (SQUARE_FUNCTIONS.has(reduced.callee.name) || (POWER_FUNCTIONS.has(reduced.callee.name) && reduced.args[0] !== undefined && numberOf(reduced.args[0]) === 2)));
    }
    return false;
  }

  /**
   * A literal exponent, or inside a helper analysed for a call a number the call hands it
   * (`p.pow(k)` with `k=2`, `t.pow(1 / k)`).
   */
  private exponent(e: Expr, scope: Scope, at: number, env: Env | undefined, d: number): number | undefined {
    const literal = numberOf(e);
    if (literal !== undefined || !env) return literal;
    const value = this.classify(e, scope, at, env, d);
    return isPureScalar(value) && value.coef.syms.length === 0 ? value.coef.num : undefined;
  }

  /** The operand of `np.square(x)`, `x.square()`, `Math.abs(x)`, `x.pow(2)`, `torch.pow(x, 2)`. */
  private unaryOperand(e: Expr & { kind: 'call' }): Expr | undefined {
    if (e.callee.kind === 'attr' && !this.isModule(e.callee.object)) return e.callee.object;
    return e.args[0];
  }

  /** Calls that compute a canonical penalty directly. */
  private recognizePenalty(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    const regularizer = this.regularizerApplied(e, scope, at, env, d);
    if (regularizer) return regularizer;
    const path = calleePath(e.callee);
    const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
    const fn = e.callee.kind === 'attr' ? e.callee.name : path?.[0];
    if (!fn) return undefined;
    const operand = methodForm ? (e.callee as { object: Expr }).object : e.args[0];
    const rest = methodForm ? e.args : e.args.slice(1);
    if (!operand) return undefined;
    if (fn === 'l2_loss') {
      const inner = this.classify(operand, scope, at, env, d);
      return isSingleParam(inner) ? penaltyProduct('sumsq', mul(num(0.5), pow(inner.coef, 2)), inner.params, 'tf.nn.l2_loss') : undefined;
    }
    if (fn === 'add_n' && !methodForm && e.args.length === 1) {
      // `tf.add_n([pen(v) for v in vs])` sums the list like `sum(...)`.
      return this.reducedOperand(e.args[0].kind === 'seq' && e.args[0].items.length === 1 && e.args[0].items[0].kind === 'comprehension' ? e.args[0].items[0] : e.args[0], scope, at, env, d);
    }
    if (SUM_FUNCTIONS.has(fn) || MEAN_FUNCTIONS.has(fn)) {
      // `keepdims=True` alone keeps a total sum (in an array of one entry); an axis makes it partial.
      if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name) && !KEEP_DIMS_KEYWORDS.has(k.name) && !(k.value.kind === 'name' && k.value.name === 'None'))) return undefined;
      // builtin sum(xs, start) takes a start value; np.sum(x, axis) an axis.
      if (rest.length > (fn === 'sum' && !methodForm && !this.isModule(e.callee) && path?.length === 1 ? 1 : 0)) return undefined;
      // `np.sum(np.array([np.sum(w ** 2) for w in ws]))`: a total sum of the items' array is the sum of the items
      // (not a mean, which divides by their count).
      const listed = SUM_FUNCTIONS.has(fn) ? listArrayComprehension(operand, (m) => this.isModule(m)) : undefined;
      const joined = listed ? undefined : this.joinedPieces(operand, scope, at, env);
      let product = joined ? this.penaltyOverPieces(joined, scope, at, d) : this.reducedOperand(listed ?? operand, scope, at, env, d);
      // A framework's total sum (not builtin `sum`, which iterates) of sums is their total.
      if (!product && !joined && SUM_FUNCTIONS.has(fn) && !iteratingSum(fn, !methodForm && (path?.length ?? 0) < 2)) product = this.totalOfSums(operand, scope, at, env, d);
      if (!product && !joined && !listed && SUM_FUNCTIONS.has(fn) && !methodForm) product = this.appendedPenalty(operand, scope, at, env, d);
      if (!product) return undefined;
      if (MEAN_FUNCTIONS.has(fn) && product.penalty) {
        // A mean over a join is over all its entries: its size is the join's.
        const n = sym(`size(${this.source(joined?.joined ?? product.penalty.params[0].expr)})`, -1);
        product = { ...product, coef: mul(product.coef, n) };
      }
      return product;
    }
    if (NORM_FUNCTIONS.has(fn)) {
      if (e.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name))) return undefined;
      const ordArg = rest[0] ?? e.kwargs.find((k) => k.name === 'ord' || k.name === 'p')?.value;
      if (rest.length > 1) return undefined;
      const file = this.program.parsedOf(e.span);
      const frameworkCallee = !methodForm && file ? frameworkPath(e.callee, scope, at, file.scopes.imports, file.language === 'python' ? 'python' : 'script') : undefined;
      const { ord, frobenius } = normOrder(ordArg, frameworkCallee, methodForm);
      const inner = this.classify(operand, scope, at, env, d);
      if (!isSingleParam(inner) || (ord !== 1 && ord !== 2)) return undefined;
      const product = penaltyProduct(ord === 2 ? 'norm2' : 'l1', inner.coef, inner.params);
      return ord === 2 ? { ...product, penalty: { ...product.penalty!, norms: [{ span: e.span, frobenius, autodiff: isAutodiffNorm(frameworkCallee, methodForm) }] } } : product;
    }
    if (DOT_FUNCTIONS.has(fn)) {
      const other = methodForm ? e.args[0] : e.args[1];
      if (!other || (methodForm ? e.args.length !== 1 : e.args.length !== 2)) return undefined;
      const a = this.classify(operand, scope, at, env, d);
      const b = this.classify(other, scope, at, env, d);
      if (isSingleParam(a) && isSingleParam(b) && sameWeight(a.params[0], b.params[0])) return penaltyProduct('sumsq', mul(a.coef, b.coef), a.params);
      return undefined;
    }
    if (fn === 'einsum' && !methodForm && e.args.length === 3 && e.args[0].kind === 'str') {
      // `np.einsum('ij,ij->', W, W)`: a full contraction of W with itself is ΣW².
      const m = /^\s*(\w+)\s*,\s*(\w+)\s*->\s*$/.exec(e.args[0].value);
      const a = this.classify(e.args[1], scope, at, env, d);
      const b = this.classify(e.args[2], scope, at, env, d);
      if (m && m[1] === m[2] && isSingleParam(a) && isSingleParam(b) && sameWeight(a.params[0], b.params[0])) return penaltyProduct('sumsq', mul(a.coef, b.coef), a.params);
      return undefined;
    }
    if (fn === 'trace' && operand.kind === 'binary' && operand.op === '@') {
      // tr(WᵀW) = tr(WWᵀ) = ΣW².
      const transposed = (x: Expr): Expr | undefined => (x.kind === 'attr' && (x.name === 'T' || x.name === 'mT') ? x.object : undefined);
      const [l, r] = [operand.left, operand.right];
      const pair = transposed(l) ? [transposed(l)!, r] : transposed(r) ? [l, transposed(r)!] : undefined;
      if (!pair) return undefined;
      const a = this.classify(pair[0], scope, at, env, d);
      const b = this.classify(pair[1], scope, at, env, d);
      if (isSingleParam(a) && isSingleParam(b) && sameWeight(a.params[0], b.params[0])) return penaltyProduct('sumsq', mul(a.coef, b.coef), a.params);
      return undefined;
    }
    if (fn === 'hypot' && !methodForm && e.args.length === 1 && e.args[0].kind === 'other' && e.args[0].children.length === 1) {
      // `Math.hypot(...w)` is ‖w‖₂.
      const inner = this.classify(e.args[0].children[0], scope, at, env, d);
      if (!isSingleParam(inner)) return undefined;
      const product = penaltyProduct('norm2', inner.coef, inner.params);
      return { ...product, penalty: { ...product.penalty!, norms: [{ span: e.span, frobenius: true, autodiff: false }] } };
    }
    if (fn === 'map' && methodForm && e.args.length === 1 && e.args[0]?.kind === 'lambda' && e.args[0].body && e.args[0].params[0]) {
      // `w.map((v) => lam * v)`: elementwise, so the term of each element is the term of w.
      const callback = e.args[0];
      const first = callback.params[0];
      const inner: Env = new Map(env ?? []);
      inner.set(first.name, { expr: { kind: 'index', object: operand, index: [{ kind: 'name', name: first.name, span: first.span }], span: first.span }, scope, at, env });
      const element = this.classify(callback.body!, this.program.lambdaScope(callback) ?? scope, Infinity, inner, d);
      if (element.tensor || element.penalty) return undefined;
      return element;
    }
    if (fn === 'reduce' && methodForm && e.args[0]?.kind === 'lambda') {
      // `w.reduce((s, v) => s + v * v, 0)`: the callback adds f(v) to the accumulator.
      const callback = e.args[0];
      if (callback.params.length < 2 || !callback.body) return undefined;
      const lambdaScope = this.program.lambdaScope(callback) ?? scope;
      const inner: Env = new Map(env ?? []);
      const mapped = operand.kind === 'call' && operand.callee.kind === 'attr' && operand.callee.name === 'map' && operand.args[0]?.kind === 'lambda' ? operand.args[0] : undefined;
      if (mapped && mapped.body && mapped.params[0]) {
        // `w.map(v => v * v).reduce((a, b) => a + b, 0)`: each b is f(element of w).
        const source = (operand as { callee: { object: Expr } }).callee.object;
        const mapEnv: Env = new Map(env ?? []);
        mapEnv.set(mapped.params[0].name, { expr: { kind: 'index', object: source, index: [{ kind: 'name', name: mapped.params[0].name, span: mapped.params[0].span }], span: mapped.params[0].span }, scope, at, env });
        inner.set(callback.params[1].name, { expr: mapped.body, scope: this.program.lambdaScope(mapped) ?? scope, at: Infinity, env: mapEnv });
      } else {
        const element: Expr = { kind: 'index', object: operand, index: [{ kind: 'name', name: callback.params[1].name, span: callback.params[1].span }], span: callback.params[1].span };
        inner.set(callback.params[1].name, { expr: element, scope, at, env });
      }
      const parts = this.summands(callback.body, lambdaScope, Infinity, inner, d).filter(
        (s) => !(s.num.length === 1 && s.den.length === 0 && s.num[0].expr.kind === 'name' && s.num[0].expr.name === callback.params[0].name),
      );
      if (parts.length !== 1) return undefined;
      const p = penaltyOfProduct(this.classifySummand(parts[0]), true);
      if (!p) return undefined;
      const kind = p.kind === 'elemsq' ? 'sumsq' : p.kind === 'elemabs' ? 'l1' : undefined;
      if (!kind) return undefined;
      return { ...scalar(ONE), penalty: { ...p, kind, params: p.params.map(wholeParam) } };
    }
    if (fn === 'reduce' && !methodForm) return this.foldedPenalty(e, scope, at, env, d);
    return undefined;
  }

  /** By scope and list name, whether the list is only appended to and read whole (`onlyAppended`). */
  private readonly appendOnly = new WeakMap<Scope, Map<string, boolean>>();

  /**
   * `norms = []`, `norms.append(np.linalg.norm(W))` in a loop, then `np.sum(norms)`, `np.sum(np.asarray(norms))`
   * or `norms = np.array(norms)` before the sum: the total of a list built by appending is the sum of
   * its items, one penalty when every item is the same kind of penalty of whole tensors. The list must
   * be made empty, only appended to, and otherwise only read whole by library calls (an `extend`, an
   * index written, or a project function handed the list may change what it holds).
   */
  private appendedPenalty(operand: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    const isModule = (m: Expr): boolean => this.isModule(m);
    const list = listArrayOperand(operand, isModule) ?? operand;
    if (list.kind !== 'name' || env?.has(list.name)) return undefined;
    let b = scope.lookup(list.name, at);
    // `norms = np.asarray(norms)`: the array of the list as it was before.
    if (b?.kind === 'assign' && !b.op && b.value) {
      const of = listArrayOperand(b.value, isModule);
      if (of?.kind === 'name' && of.name === list.name) b = b.scope.lookup(list.name, b.at);
    }
    if (b?.kind !== 'assign' || b.op || b.value?.kind !== 'seq' || b.value.items.length !== 0 || b.loops.length > 0) return undefined;
    const start = b;
    const uses = this.usesOf(fileIdOf(start.span.start));
    const appends = (uses.appends.get(list.name) ?? []).filter((x) => x.scope === start.scope);
    if (appends.length === 0 || appends.length > MAX_ITEMS || appends.some((x) => x.at <= start.at || x.at >= at)) return undefined;
    if (!this.onlyAppended(start, list.name, appends.length, isModule)) return undefined;
    const terms: PenaltyTerm[] = [];
    for (const add of appends) {
      const addEnv = env && add.scope === scope ? env : undefined;
      const p = penaltyOfProduct(this.classify(add.item, add.scope, add.at, addEnv, d), true);
      // Each item a number: an elementwise square appended is an array, which `np.array` stacks.
      if (!p || p.kind === 'elemsq' || p.kind === 'elemabs' || (terms.length > 0 && p.kind !== terms[0].kind)) return undefined;
      terms.push(p);
    }
    const first = terms[0];
    const defs = [{ span: start.span, what: `${penaltyName(list.name)} is collected from here` }];
    return { ...scalar(ONE), penalty: { ...first, params: terms.flatMap((t) => t.params), defs: [...defs, ...terms.flatMap((t) => t.defs)], norms: terms.flatMap((t) => t.norms ?? []) } };
  }

  /**
   * Is the list `start` binds only made, appended to (`appends` times, in its own scope), turned into an
   * array of itself and read whole by a library call or builtin `sum`/`len`? One walk of its function, once per list.
   */
  private onlyAppended(start: Binding, name: string, appends: number, isModule: (m: Expr) => boolean): boolean {
    let known = this.appendOnly.get(start.scope);
    if (!known) this.appendOnly.set(start.scope, (known = new Map()));
    const cached = known.get(name);
    if (cached !== undefined) return cached;
    let answer = false;
    const bindings = start.scope.allBindings(name);
    const rebound = bindings.filter((x) => x !== start);
    const asArray = (x: Binding): boolean => {
      const of = x.kind === 'assign' && !x.op && x.value ? listArrayOperand(x.value, isModule) : undefined;
      return of?.kind === 'name' && of.name === name;
    };
    const parsed = this.program.parsedOf(start.span);
    const fn = this.usesOf(fileIdOf(start.span.start)).functions.get(start.scope);
    const body = fn?.body ?? (parsed && start.scope === parsed.scopes.root ? parsed.module.body : undefined);
    if (body && rebound.every(asArray)) {
      let total = 0;
      let allowed = bindings.length; // each binding's target
      let appended = 0;
      const isList = (x: Expr): boolean => x.kind === 'name' && x.name === name;
      walkAll(body, (x) => {
        if (x.kind === 'name' && x.name === name) total++;
        if (x.kind !== 'call') return;
        if (x.callee.kind === 'attr' && x.callee.name === 'append' && isList(x.callee.object) && x.args.length === 1) {
          allowed++;
          appended++;
          return;
        }
        const reader = (x.callee.kind === 'attr' && isModule(x.callee.object)) || (x.callee.kind === 'name' && (x.callee.name === 'sum' || x.callee.name === 'len'));
        if (reader) allowed += x.args.filter(isList).length;
      });
      answer = total === allowed && appended === appends;
    }
    known.set(name, answer);
    return answer;
  }

  /**
   * Python's fold `functools.reduce(lambda acc, w: acc + c * np.sum(w ** 2), ws, 0)` (the lambda written
   * inline or bound once to a local): Σ over ws's items of the term, as `sum(... for w in ws)` reads, when
   * ws holds weights by data flow (a helper's argument followed to what its call hands it). The lambda
   * must add one term of its item to its accumulator, and the fold start from zero.
   */
  private foldedPenalty(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    const file = this.program.parsedOf(e.span);
    if (!file || file.language !== 'python') return undefined;
    const fold = foldCall(e, scope, at, file.scopes.imports);
    if (!fold || (fold.start && zeroValue(fold.start) !== 'scalar')) return undefined;
    let callback = fold.fn;
    if (callback.kind === 'name' && !env?.has(callback.name)) {
      const b = scope.lookup(callback.name, at);
      if (b?.kind === 'assign' && !b.op && b.value?.kind === 'lambda' && b.scope.allBindings(b.key).length === 1) callback = b.value;
    }
    if (callback.kind !== 'lambda' || callback.params.length !== 2 || !callback.body) return undefined;
    let items: { expr: Expr; scope: Scope; at: number; env: Env | undefined } = { expr: fold.items, scope, at, env };
    for (let hops = 0; hops < 8 && items.expr.kind === 'name' && items.env?.has(items.expr.name); hops++) {
      const sub = items.env.get(items.expr.name)!;
      items = { expr: sub.expr, scope: sub.scope, at: sub.at, env: sub.env };
    }
    const collection = items.expr;
    if (collection.kind !== 'name' && collection.kind !== 'attr') return undefined;
    const holds =
      this.holdsWeights(collection, items.scope, items.at, fileIdOf(collection.span.start), 0) ||
      this.isParameterCollection(collection, items.scope, items.at, items.env, 0) ||
      this.isParam(collection, items.scope, items.at);
    if (!holds) return undefined;
    const [acc, item] = callback.params;
    const element: Expr = { kind: 'index', object: collection, index: [{ kind: 'name', name: item.name, span: item.span }], span: collection.span };
    this.foldItems.add(element);
    this.unmemoized.add(element);
    const inner: Env = new Map(env ?? []);
    inner.delete(acc.name);
    inner.set(item.name, { expr: element, scope: items.scope, at: items.at, env: items.env });
    const all = this.summands(callback.body, this.program.lambdaScope(callback) ?? scope, Infinity, inner, d);
    const isAcc = (x: Summand): boolean => x.sign === 1 && x.num.length === 1 && x.den.length === 0 && x.num[0].expr.kind === 'name' && x.num[0].expr.name === acc.name;
    const parts = all.filter((x) => !isAcc(x));
    if (parts.length !== 1 || all.length !== 2) return undefined;
    const p = penaltyOfProduct(this.classifySummand(parts[0]));
    if (!p || (p.kind !== 'sumsq' && p.kind !== 'l1' && p.kind !== 'norm2')) return undefined;
    return { ...scalar(ONE), penalty: { ...p, params: p.params.map(wholeParam) } };
  }

  /**
   * The operand of a total sum that is itself a sum: `np.sum(np.sum(W * W))` (the sum of a scalar
   * penalty is that penalty) or `np.sum(np.sum(W * W, axis=0))`, `(w * w).sum(dim=1).sum()` (a total
   * of partial sums adds every entry once). A partial mean in the chain divides by a count that is
   * not W's size and is not read; nor is a partial sum of a partial sum, whose total depends on W's rank.
   */
  private totalOfSums(operand: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    let inner = operand;
    let partial = false;
    for (let hops = 0; hops < 4; hops++) {
      const reduction = this.sumReduction(inner);
      if (!reduction?.partial) break;
      partial = true;
      inner = reduction.operand;
    }
    if (partial) return this.reducedOperand(inner, scope, at, env, d);
    // A scalar already (`np.sum(W * W)`, or a local holding it): summing it again changes nothing.
    const total = this.classify(inner, scope, at, env, d);
    const scalarPenalty = !!total.penalty && !total.tensor && total.params.length === 0 && total.abs.length === 0 && !total.signs?.length;
    return scalarPenalty && total.penalty!.kind !== 'elemsq' && total.penalty!.kind !== 'elemabs' ? total : undefined;
  }

  /**
   * A framework's sum written as a call (`np.sum(x)`, `x.sum(0)`, `tf.reduce_sum(x, axis=1)`,
   * `torch.sum(x, dim=1, keepdim=True)`): its operand, and whether it keeps an axis. Any other
   * argument (a dtype, an `out`) and builtin `sum` are not read.
   */
  private sumReduction(e: Expr): { operand: Expr; partial: boolean } | undefined {
    if (e.kind !== 'call') return undefined;
    const methodForm = e.callee.kind === 'attr' && !this.isModule(e.callee.object);
    const path = calleePath(e.callee);
    const fn = e.callee.kind === 'attr' ? e.callee.name : undefined;
    if (!fn || !SUM_FUNCTIONS.has(fn) || iteratingSum(fn, !methodForm && (path?.length ?? 0) < 2)) return undefined;
    const operand = methodForm ? (e.callee as { object: Expr }).object : e.args[0];
    const rest = methodForm ? e.args : e.args.slice(1);
    if (!operand || rest.length > 1 || e.kwargs.some((k) => !REDUCTION_KEYWORDS.has(k.name))) return undefined;
    const isNone = (x: Expr): boolean => x.kind === 'name' && x.name === 'None';
    const axis = [...rest, ...e.kwargs.filter((k) => !KEEP_DIMS_KEYWORDS.has(k.name)).map((k) => k.value)];
    return { operand, partial: axis.some((x) => !isNone(x)) };
  }

  /** The operand of a sum: squares and absolute values of a parameter, or penalties per parameter in a generator. */
  private reducedOperand(operand: Expr, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    if (operand.kind === 'comprehension') {
      const inner = this.program.lambdaScope(operand) ?? scope;
      const listed = listedItems(operand, scope, at, env);
      const overItems = listed && this.penaltyOverItems(operand.element, inner, listed.envs, d, listed.inline);
      if (overItems || listed?.inline) return overItems;
      const element = this.classify(operand.element, inner, Infinity, env, d);
      const p = penaltyOfProduct(element, true);
      if (!p) return undefined;
      const kind = p.kind === 'elemsq' ? 'sumsq' : p.kind === 'elemabs' ? 'l1' : p.kind;
      return { ...scalar(ONE), penalty: { ...p, kind, params: p.params.map(wholeParam) } };
    }
    const inner = this.classify(operand, scope, at, env, d);
    if (inner.tensor || inner.penalty || inner.signs?.length) return undefined;
    if (inner.params.length === 2 && inner.abs.length === 0 && inner.params[0].key === inner.params[1].key)
      return penaltyProduct('sumsq', inner.coef, [inner.params[0]]);
    if (inner.abs.length === 1 && inner.params.length === 0) return penaltyProduct('l1', inner.coef, inner.abs);
    return undefined;
  }

  /**
   * A reduction's operand that reads one join of tensors (`np.square(np.concatenate((W, b)))`, or a
   * local assigned the join once, `concat = np.concatenate((layer.weights, layer.bias))`): the operand
   * with the join as a name, and for each piece an environment binding that name to it. Elementwise
   * functions and full reductions see the same entries either way (catalogue.ts `concatenatedPieces`).
   */
  joinedPieces(operand: Expr, scope: Scope, at: number, env: Env | undefined): JoinedPieces | undefined {
    const found: Expr[] = [];
    const visit = (x: Expr): void => {
      if (found.length > 2 || x.kind === 'lambda' || x.kind === 'comprehension') return;
      if (x.kind === 'call' && concatenatedPieces(x, (m) => this.isModule(m))) {
        found.push(x);
        return;
      }
      if (x.kind === 'name' && !env?.has(x.name)) {
        const b = scope.lookup(x.name, at);
        if (b?.kind === 'assign' && !b.op && b.value && b.scope.allBindings(b.key).length === 1 && concatenatedPieces(b.value, (m) => this.isModule(m))) found.push(x);
        return;
      }
      forEachChild(x, visit);
    };
    visit(operand);
    if (found.length === 0) return undefined;
    const first = found[0];
    // One join: every occurrence the same local (`concat * concat`), or one call written inline.
    if (first.kind === 'name' ? !found.every((x) => x.kind === 'name' && x.name === first.name) : found.length !== 1) return undefined;
    if (first.kind === 'name') {
      const b = scope.lookup(first.name, at)!;
      const pieces = concatenatedPieces(b.value!, (m) => this.isModule(m))!;
      const pieceEnv = env && b.scope === scope ? env : undefined;
      return { operand, joined: first, envs: pieces.map((piece) => new Map([...(env ?? []), [first.name, { expr: piece, scope: b.scope, at: b.at, env: pieceEnv }]])) };
    }
    const name = '\u0000joined';
    const hole: Expr = { kind: 'name', name, span: first.span };
    const rewritten = replaceNode(operand, first, hole, (x) => this.unmemoized.add(x));
    const pieces = concatenatedPieces(first, (m) => this.isModule(m))!;
    return { operand: rewritten, joined: first, envs: pieces.map((piece) => new Map([...(env ?? []), [name, { expr: piece, scope, at, env }]])) };
  }

  /** Σ f(join) as one penalty over the pieces, when every piece gives the same kind with the same coefficient. */
  private penaltyOverPieces(joined: JoinedPieces, scope: Scope, at: number, d: number): Product | undefined {
    const penalties: PenaltyTerm[] = [];
    for (const env of joined.envs) {
      const product = this.reducedOperand(joined.operand, scope, at, env, d);
      const p = product && penaltyOfProduct(product, true);
      if (!p || (penalties.length > 0 && (p.kind !== penalties[0].kind || !equalCoef(p.coef, penalties[0].coef)))) return undefined;
      penalties.push(p);
    }
    const first = penalties[0];
    if (!first) return undefined;
    return { ...scalar(ONE), penalty: { ...first, params: penalties.flatMap((p) => p.params), defs: penalties.flatMap((p) => p.defs), norms: penalties.flatMap((p) => p.norms ?? []) } };
  }

  /**
   * `sum(np.sum(W * W) for W in [W_in, W_out])`: the element's penalty for each listed weight, one
   * penalty over all of them when each item gives the same kind with the same coefficient.
   */
  private penaltyOverItems(element: Expr, scope: Scope, items: Env[], d: number, inline: boolean): Product | undefined {
    const penalties: PenaltyTerm[] = [];
    for (const item of items) {
      const p = penaltyOfProduct(this.classify(element, scope, Infinity, item, d), true);
      if (!p || (penalties.length > 0 && (p.kind !== penalties[0].kind || !equalCoef(p.coef, penalties[0].coef)))) return undefined;
      // Items written elsewhere (`mats = [A, B]`) with an unreduced element (`M ** 2`): the generator
      // stays one penalty of its own variable, where NB105's unreducedPenalties.ts finds the sum.
      if (!inline && (p.kind === 'elemsq' || p.kind === 'elemabs')) return undefined;
      penalties.push(p);
    }
    const first = penalties[0];
    if (!first) return undefined;
    const kind = first.kind === 'elemsq' ? 'sumsq' : first.kind === 'elemabs' ? 'l1' : first.kind;
    return { ...scalar(ONE), penalty: { ...first, kind, params: penalties.flatMap((p) => p.params.map(wholeParam)), defs: penalties.flatMap((p) => p.defs), norms: penalties.flatMap((p) => p.norms ?? []) } };
  }

  /** Keras `regularizers.l2(c)(W)`, tfjs `tf.regularizers.l2({l2: c}).apply(w)`, and a regularizer held in a variable. */
  private regularizerApplied(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Product | undefined {
    let regularizer: Expr | undefined;
    let target: Expr | undefined;
    if (e.callee.kind === 'attr' && (e.callee.name === 'apply' || e.callee.name === '__call__') && e.args.length === 1) {
      regularizer = e.callee.object;
      target = e.args[0];
    } else if (e.args.length === 1) {
      regularizer = e.callee;
      target = e.args[0];
    }
    if (!regularizer || !target) return undefined;
    if (regularizer.kind === 'name' || regularizer.kind === 'attr') {
      const key = exprKey(regularizer);
      const binding = key !== undefined ? scope.lookup(key, at) : undefined;
      if (binding?.kind === 'assign' && binding.value && !binding.op) regularizer = binding.value;
    }
    if (regularizer.kind !== 'call') return undefined;
    const spec = this.regularizerSpec(regularizer, scope, at);
    if (!spec) return undefined;
    const inner = this.classify(target, scope, at, env, d);
    if (!isSingleParam(inner)) return undefined;
    return penaltyProduct(spec.kind, mul(spec.coef, spec.kind === 'sumsq' ? pow(inner.coef, 2) : inner.coef), inner.params, spec.via);
  }

  /** What a regularizer call computes (facts/catalogue.ts), when it is a single L1 or L2 penalty. */
  private regularizerSpec(call: Expr & { kind: 'call' }, scope: Scope, at: number): { kind: PenaltyKind; coef: Coef; via: string } | undefined {
    const file = this.program.parsedOf(call.span);
    if (!file) return undefined;
    const language = file.language === 'python' ? 'python' : 'script';
    const path = frameworkPath(call.callee, scope, at, file.scopes.imports, language);
    const raw = calleePath(call.callee);
    // A bare `l2(c)` with no import in sight (a notebook fragment) reads as the framework's.
    const framework = path ? regularizerFramework(path) : raw?.length === 1 && !scope.lookupFunction(raw[0]) ? regularizerByName(raw[0], language) : undefined;
    const fn = (path ?? raw)?.at(-1);
    if (!framework || !fn) return undefined;
    // A keyword, an entry of a config object (tfjs `l2({l2: c})`), or the positional argument the catalogue names.
    const arg = (name: string, position?: number): Expr | undefined =>
      call.kwargs.find((k) => k.name === name)?.value ??
      (call.args[0]?.kind === 'object' ? call.args[0].entries.find((k) => k.name === name)?.value : undefined) ??
      (position !== undefined && call.args[position]?.kind !== 'object' ? call.args[position] : undefined);
    const semantics = regularizerSemantics(framework, fn, arg);
    const coef = (f: CatalogueFactor): Coef => (f.expr ? mul(num(f.scale), numberOf(f.expr) !== undefined ? num(numberOf(f.expr)!) : sym(this.source(f.expr))) : num(f.value ?? 0));
    const present = (f: CatalogueFactor): boolean => f.given || (f.value !== undefined && f.value !== 0 && !Number.isNaN(f.value));
    const l1 = present(semantics.l1);
    const l2 = present(semantics.l2);
    const via = framework === 'tf1' ? fn : (path ?? raw)!.slice(-2).join('.');
    if (l2 && !l1) return { kind: 'sumsq', coef: coef(semantics.l2), via };
    if (l1 && !l2) return { kind: 'l1', coef: coef(semantics.l1), via };
    return undefined;
  }

  /** Functions whose calls are being analysed now: a recursive call is cut there (opaque), and so is a chain past MAX_CALLS. */
  private readonly activeCalls = new Set<FunctionDef>();

  /**
   * Runs `build` (another file's facts, asked for in the middle of a call's analysis) with no call in
   * progress: otherwise a helper both files call reads as recursive in the other file, and what that
   * file's facts hold would depend on which file was linted first. The program's `building` set still
   * cuts a cycle between files.
   */
  apart<T>(build: () => T): T {
    if (this.assumed) return this.withMemos(undefined, this.kept!, () => this.apart(build));
    if (this.activeCalls.size === 0) return build();
    const saved = [...this.activeCalls];
    this.activeCalls.clear();
    try {
      return build();
    } finally {
      this.activeCalls.clear();
      for (const fn of saved) this.activeCalls.add(fn);
    }
  }

  /** The memos of the run without an assumption, while one is made. */
  private kept: { memo: Map<number, MemoSlot[]>; memoSlots: Map<Expr, MemoSlot>; bindingMemo: Map<Binding, Summand[] | undefined> } | undefined;

  /**
   * Answers `build` as if the field `key` held `value`: a helper that switches on that field gives
   * only that branch's returns (switchedHelpers.ts). The answers are memoized apart from the
   * others, for this run only. Another file's facts asked for meanwhile are built with no assumption.
   */
  underAssumption<T>(assumed: Assumption, build: () => T): T {
    if (this.assumed) return build();
    const kept = { memo: this.memo, memoSlots: this.memoSlots, bindingMemo: this.bindingMemo };
    const fresh = { memo: new Map<number, MemoSlot[]>(), memoSlots: new Map<Expr, MemoSlot>(), bindingMemo: new Map<Binding, Summand[] | undefined>() };
    this.kept = kept;
    try {
      return this.withMemos(assumed, fresh, build);
    } finally {
      this.kept = undefined;
    }
  }

  private withMemos<T>(assumed: Assumption | undefined, memos: NonNullable<Analyzer['kept']>, build: () => T): T {
    const before = { assumed: this.assumed, memo: this.memo, memoSlots: this.memoSlots, bindingMemo: this.bindingMemo };
    this.assumed = assumed;
    ({ memo: this.memo, memoSlots: this.memoSlots, bindingMemo: this.bindingMemo } = memos);
    try {
      return build();
    } finally {
      ({ assumed: this.assumed, memo: this.memo, memoSlots: this.memoSlots, bindingMemo: this.bindingMemo } = before);
    }
  }

  /**
   * A call to a function the program can see (a helper, a method of a known class, one imported from
   * another file): what it returns, analysed with its arguments substituted for its parameters.
   */
  private helperCall(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number, target = this.callTarget(e, scope, at)): Product | undefined {
    if (!target || target.constructs) return undefined;
    const fn = target.fn;
    if (this.activeCalls.has(fn) || this.activeCalls.size >= MAX_CALLS) return TENSOR;
    const sw = this.assumed ? switchOf(this.program, fn) : undefined;
    const all = (sw && returnsUnder(sw, this.assumed)) ?? returnsOf(this.program, fn);
    if (all.length === 0) return undefined;
    // `if self.kind == "l2": return w * self.lam; return 0`: a term the helper gives when its switch
    // is on, and zero when off, is that term where it counts (zero adds nothing either way).
    const nonZero = all.filter((r) => zeroValue(r.expr) === undefined);
    const returns = nonZero.length > 0 ? nonZero : all;
    const inner = this.argumentEnv(e, target, scope, at, env);
    this.activeCalls.add(fn);
    let product: Product | undefined;
    try {
      for (const r of returns) {
        const p = this.classify(r.expr, r.scope, r.at, inner, d);
        // Several returns must agree to say what the call gives.
        if (product && !sameProduct(product, p)) return isPureScalar(product) && isPureScalar(p) ? scalar(sym(this.source(e))) : TENSOR;
        product ??= p;
      }
    } finally {
      this.activeCalls.delete(fn);
    }
    if (!product) return undefined;
    if (!product.penalty) return isPureScalar(product) ? scalar(sym(this.source(e))) : product.tensor ? TENSOR : product;
    const what = `the helper ${fn.name} computes the penalty here`;
    return { ...product, penalty: { ...product.penalty, defs: [{ span: fn.span, what }, ...product.penalty.defs] } };
  }

  private readonly targets = new Map<Expr, CallTarget | null>();

  private readonly importedMethods = new Map<ParsedFile, { classes: ClassDef[]; byName: Map<string, FunctionDef | undefined> }>();

  /**
   * The one method of that name that the classes a file imports from the project have (their own
   * or inherited) and that returns a value, or undefined.
   */
  private importedMethod(parsed: ParsedFile, name: string): FunctionDef | undefined {
    let known = this.importedMethods.get(parsed);
    if (!known) {
      const classes: ClassDef[] = [];
      for (const imported of parsed.scopes.imports.values()) {
        const def = resolveImport(this.program, parsed, imported);
        if (def?.kind === 'class') classes.push(def.cls);
      }
      known = { classes, byName: new Map() };
      this.importedMethods.set(parsed, known);
    }
    if (known.byName.has(name)) return known.byName.get(name);
    const found = new Set<FunctionDef>();
    for (const cls of known.classes) {
      const fn = methodOf(this.program, cls, name);
      // The caller reads the call's value: an abstract method that only raises returns none, so it is not what runs.
      if (fn && returnsOf(this.program, fn).length > 0) found.add(fn);
    }
    const unique = found.size === 1 ? [...found][0] : undefined;
    known.byName.set(name, unique);
    return unique;
  }

  /** Whether a call by name or module path (not a method of a value) runs a function the project defines. */
  private ownFunction(e: Expr & { kind: 'call' }, scope: Scope, at: number): boolean {
    if (e.callee.kind !== 'name' && !(e.callee.kind === 'attr' && this.isModule(e.callee.object))) return false;
    const target = this.callTarget(e, scope, at);
    return target !== undefined && !target.constructs;
  }

  /** What a call runs: resolved through scopes, classes and imports; as a last resort the file's one method of that name. */
  callTarget(e: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
    const known = this.targets.get(e);
    if (known !== undefined) return known ?? undefined;
    let target = resolveCall(this.program, e, scope, at);
    // Not through a receiver the IR does not read: JS `super.m()` (lowered as `other`) runs the base
    // class's `m`, never the file's own `m` that this would find (the method calling `super.m`).
    if (!target && e.callee.kind === 'attr' && e.callee.object.kind !== 'other' && !this.isModule(e.callee.object)) {
      const unique = this.program.parsedOf(e.span)?.scopes.uniqueMethod(e.callee.name);
      if (unique) target = { fn: unique, receiver: e.callee.object, cls: unique.cls };
    }
    this.targets.set(e, target ?? null);
    return target;
  }

  /**
   * A call whose function returns a step direction (a sum of a gradient and other terms, as a
   * `_grad(X, y, p)` helper of a model class does) is expanded into the returned summands, with
   * its arguments substituted, like a variable holding one; the call is where they came through.
   * A call returning a penalty, a scalar or a single term stays one factor.
   */
  private callSummands(e: Expr & { kind: 'call' }, scope: Scope, at: number, env: Env | undefined, d: number): Summand[] | undefined {
    const target = this.callTarget(e, scope, at);
    if (!target || target.constructs) return undefined;
    const fn = target.fn;
    if (this.activeCalls.has(fn) || this.activeCalls.size >= MAX_CALLS) return undefined;
    const returns = returnsOf(this.program, fn);
    if (returns.length !== 1) return undefined;
    const asFactor = this.classify(e, scope, at, env, d);
    if (asFactor.penalty || (!asFactor.tensor && asFactor.params.length === 0 && asFactor.abs.length === 0)) return undefined;
    const r = returns[0];
    const inner = this.argumentEnv(e, target, scope, at, env);
    this.activeCalls.add(fn);
    try {
      const expanded = this.summands(r.expr, r.scope, r.at, inner, d);
      if (expanded.length <= 1) return undefined;
      return expanded.map((s) => ({ ...s, via: [e.span, ...s.via] }));
    } finally {
      this.activeCalls.delete(fn);
    }
  }

  /**
   * The element at `position` of the one literal tuple `target`'s function returns, with the call's
   * arguments bound to its parameters; undefined for a recursive call, several returns, or a starred
   * item (`return loss, *grads` moves every later position).
   */
  private unpackedElement(
    binding: Binding,
    call: Expr & { kind: 'call' },
    position: number,
    target: CallTarget | undefined,
    env: Env | undefined,
  ): { fn: FunctionDef; element: Expr; r: { scope: Scope; at: number }; inner: Env } | undefined {
    if (!target || target.constructs) return undefined;
    const fn = target.fn;
    if (this.activeCalls.has(fn) || this.activeCalls.size >= MAX_CALLS) return undefined;
    const returns = returnsOf(this.program, fn);
    if (returns.length !== 1) return undefined;
    const r = returns[0];
    if (r.expr.kind !== 'seq' || r.expr.items.some((item) => item.kind === 'other')) return undefined;
    const element = r.expr.items[position];
    if (!element) return undefined;
    return { fn, element, r, inner: this.argumentEnv(call, target, binding.scope, binding.at, env) };
  }

  /**
   * A name unpacked from a call (`loss, dW = f(W, X, reg)`) whose function returns one literal
   * tuple: the summands of the tuple's element at the name's place, with the arguments substituted,
   * when that element is a step direction (a sum), as `callSummands` reads a call returning one.
   */
  private unpackedSummands(binding: Binding, unpacked: { value: Expr; position: number }, env: Env | undefined, d: number): Summand[] | undefined {
    const call = unpacked.value;
    if (call.kind !== 'call') return undefined;
    const found = this.unpackedElement(binding, call, unpacked.position, this.callTarget(call, binding.scope, binding.at), env);
    if (!found) return undefined;
    const { fn, element, r, inner } = found;
    this.activeCalls.add(fn);
    try {
      const asFactor = this.classify(element, r.scope, r.at, inner, d);
      if (asFactor.penalty || (!asFactor.tensor && asFactor.params.length === 0 && asFactor.abs.length === 0)) return undefined;
      const expanded = this.summands(element, r.scope, r.at, inner, d);
      return expanded.length > 1 ? expanded.map((s) => ({ ...s, via: [call.span, ...s.via] })) : undefined;
    } finally {
      this.activeCalls.delete(fn);
    }
  }

  /**
   * A name unpacked from a call whose function returns one literal tuple (`data, reg = model.pair_loss(u, i, j)`):
   * the tuple's element at the name's place, with the arguments substituted, when it is a penalty or
   * one parameter; anything else the element holds stays opaque. A method called on an instance of a
   * class the code does not show is read through the one method of that name the imported classes
   * have, as `importedPenaltyCall` reads a call used directly.
   */
  private unpackedFactor(binding: Binding, unpacked: { value: Expr; position: number }, env: Env | undefined, d: number): Product | undefined {
    const call = unpacked.value;
    if (call.kind !== 'call') return undefined;
    const known = this.callTarget(call, binding.scope, binding.at);
    const found = this.unpackedElement(binding, call, unpacked.position, known ?? this.importedTarget(call, binding.scope, binding.at), env);
    if (!found) return undefined;
    const { fn, element, r, inner } = found;
    this.activeCalls.add(fn);
    let product: Product;
    try {
      product = this.classify(element, r.scope, r.at, inner, d);
    } finally {
      this.activeCalls.delete(fn);
    }
    if (product.penalty) {
      const what = `the penalty ${binding.key} is returned by ${fn.name} here`;
      return { ...product, penalty: { ...product.penalty, defs: [{ span: element.span, what }, ...product.penalty.defs] } };
    }
    // Through the imported-method resort only a penalty counts, as for a call used directly.
    return known && isSingleParam(product) ? product : undefined;
  }

  /**
   * For a method called on an instance whose class the code does not show, which no class of this
   * file defines: the one method of that name among the imported classes (`importedMethod`).
   */
  private importedTarget(e: Expr & { kind: 'call' }, scope: Scope, at: number): CallTarget | undefined {
    if (e.callee.kind !== 'attr' || this.isModule(e.callee.object) || this.callTarget(e, scope, at)) return undefined;
    const parsed = this.program.parsedOf(e.span);
    if (!parsed || parsed.scopes.methodsNamed(e.callee.name).length > 0) return undefined;
    const fn = this.importedMethod(parsed, e.callee.name) ?? this.hinted(e.callee.object, e.callee.name, scope, at);
    return fn ? { fn, receiver: e.callee.object, cls: fn.cls } : undefined;
  }

  /** The hinted method (`hints`) for a call on a parameter of the enclosing function, whose class its callers say. */
  private hinted(receiver: Expr, name: string, scope: Scope, at: number): FunctionDef | undefined {
    const fn = this.hints?.get(name);
    return fn && receiver.kind === 'name' && scope.lookup(receiver.name, at)?.kind === 'param' ? fn : undefined;
  }

  /** The callee's parameters bound to the call's arguments (a method's instance parameter skipped when called on one). */
  argumentEnv(e: Expr & { kind: 'call' }, target: CallTarget, scope: Scope, at: number, env: Env | undefined): Env {
    const fn = target.fn;
    // `f.call(t, a, b)`: t is `this`, a and b fill f's parameters from the first.
    const params = target.args ? fn.params : target.receiver || target.constructs ? explicitParams(fn) : fn.params;
    const args = callArguments(e, target);
    const inner: Env = new Map();
    let afterRest = false;
    params.forEach((p, i) => {
      if (p.rest === 'keyword') return;
      if (p.rest === 'positional') {
        // `*tensors` holds the remaining positional arguments, as a tuple written out; a starred
        // argument (`f(*xs)`) leaves it unknown. The parameters after it take keywords only.
        afterRest = true;
        const items = args.slice(i);
        if (items.length > 0 && items.every((a) => a.kind !== 'other')) {
          const tuple: Expr = { kind: 'seq', items, span: e.span };
          this.unmemoized.add(tuple); // it shares the call's span: keep it out of the memo keyed by span
          inner.set(p.name, { expr: tuple, scope, at, env });
        }
        return;
      }
      const arg = (afterRest ? undefined : args[i]) ?? e.kwargs.find((k) => k.name === p.name)?.value;
      if (arg && arg.kind !== 'other') inner.set(p.name, { expr: arg, scope, at, env });
    });
    if (target.built && fn.isMethod && fn.params[0]) this.constructedMembers(target.built, fn.params[0].name, inner);
    return inner;
  }

  /**
   * An instance's settings as its method reads them: `self.x`, where the constructor stores its
   * parameter into `self.x` and nothing else assigns it, is the value the instance was built with
   * (`L2Term(reg)` → `self.strength` is `reg`). `self` is the method's own name for the instance.
   */
  private constructedMembers(built: Construction, self: string, into: Env): void {
    const init = methodOf(this.program, built.cls, '__init__');
    if (!init?.cls) return;
    const args = this.argumentEnv(built.call, { fn: init, cls: built.cls, constructs: built.cls }, built.scope, built.at, undefined);
    const owners = new Set([built.cls.scope, init.cls.scope]);
    const keys = new Set([...owners].flatMap((o) => [...o.members.keys()]));
    for (const key of keys) {
      const bindings = [...owners].flatMap((o) => o.members.get(key) ?? []);
      if (bindings.length !== 1) continue;
      const b = bindings[0];
      if (b.kind !== 'assign' || b.op || b.value?.kind !== 'name' || b.scope !== init.scope) continue;
      if (b.scope.lookup(b.value.name, b.at)?.kind !== 'param') continue;
      const value = args.get(b.value.name);
      const dot = key.indexOf('.');
      if (value && dot > 0) into.set(`${self}${key.slice(dot)}`, this.storedAs(value) ?? value);
    }
  }

  /**
   * A constructor's parameter handed on (`L2Term(reg)` in `__init__(self, reg)`) that the same
   * constructor also stores, once, in `self.reg`: read as `self.reg`, the one value the class's
   * other methods read under that name.
   */
  private storedAs(value: { expr: Expr; scope: Scope; at: number }): { expr: Expr; scope: Scope; at: number } | undefined {
    const e = value.expr;
    const members = value.scope.classScope?.members;
    if (e.kind !== 'name' || !members || value.scope.lookup(e.name, value.at)?.kind !== 'param') return undefined;
    const holders: string[] = [];
    for (const [key, bindings] of members) {
      if (bindings.length !== 1) continue;
      const b = bindings[0];
      if (b.kind === 'assign' && !b.op && b.scope === value.scope && b.value?.kind === 'name' && b.value.name === e.name) holders.push(key);
    }
    if (holders.length !== 1) return undefined;
    const [object, name] = holders[0].split('.');
    if (!object || !name) return undefined;
    const read: Expr = { kind: 'attr', object: { kind: 'name', name: object, span: e.span }, name, span: e.span };
    this.unmemoized.add(read);
    return { expr: read, scope: value.scope, at: Infinity };
  }

  source(e: { span: Span }): string {
    return this.program.source(e.span).replace(/\s+/g, '');
  }
}

/** Loop variables (name, where bound) and appended items of each collection key in one file, and the calls that hand collections on. */
interface CollectionUses {
  loops: Map<string, { name: string; scope: Scope; at: number }[]>;
  appends: Map<string, { item: Expr; scope: Scope; at: number }[]>;
  /** Calls by the callee's last name. */
  calls: Map<string, { call: Expr & { kind: 'call' }; scope: Scope; at: number }[]>;
  /** Functions by their body's scope, and how many functions of the file bear each name. */
  functions: Map<Scope, FunctionDef>;
  functionNames: Map<string, number>;
}

function collectionUsesOf(parsed: ParsedFile, isModule: (e: Expr) => boolean): CollectionUses {
  const uses: CollectionUses = { loops: new Map(), appends: new Map(), calls: new Map(), functions: new Map(), functionNames: new Map() };
  const push = <T>(map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const { scopes } = parsed;
  const all = new Set<Scope>([scopes.root, ...scopes.stmtScopes.values(), ...scopes.lambdaScopes.values(), ...scopes.prototypeScopes]);
  const functions: FunctionDef[] = [];
  // Functions in functions and methods: a Set iterates what is added while it is walked.
  for (const s of all) {
    for (const f of s.functions.values()) {
      if (uses.functions.has(f.scope)) continue;
      all.add(f.scope);
      functions.push(f);
      uses.functions.set(f.scope, f);
      uses.functionNames.set(f.name, (uses.functionNames.get(f.name) ?? 0) + 1);
    }
  }
  for (const s of all) {
    for (const [name, list] of s.bindings) {
      for (const b of list) {
        if (b.kind !== 'loop' || !b.loop) continue;
        const source = loopSource(loopIterable(b.loop), b.loop.position, isModule);
        const key = source?.kind === 'element' ? exprKey(source.collection) : undefined;
        if (key !== undefined) push(uses.loops, key, { name, scope: b.scope, at: b.at });
      }
    }
  }
  // `ps.append(self.W1)` as a statement of a function's own body (or the module's), in any block;
  // the calls its statements make (lambdas and comprehensions aside).
  const calls = (root: Expr, scope: Scope, at: number): void => {
    const stack = [root];
    for (let n = 0; stack.length > 0 && n < 10_000; n++) {
      const x = stack.pop()!;
      if (x.kind === 'lambda' || x.kind === 'comprehension') continue;
      if (x.kind === 'call') {
        const name = x.callee.kind === 'name' ? x.callee.name : x.callee.kind === 'attr' ? x.callee.name : undefined;
        if (name !== undefined) push(uses.calls, name, { call: x, scope, at });
      }
      forEachChild(x, (c) => void stack.push(c));
    }
  };
  const visit = (stmts: readonly Stmt[], scope: Scope, depth: number): void => {
    if (depth > 32) return;
    for (const st of stmts) {
      if (st.kind === 'expr' && st.expr.kind === 'call' && st.expr.callee.kind === 'attr' && st.expr.callee.name === 'append' && st.expr.args.length === 1) {
        const key = exprKey(st.expr.callee.object);
        if (key !== undefined) push(uses.appends, key, { item: st.expr.args[0], scope, at: st.span.start });
      }
      if (st.kind === 'assign') calls(st.value, scope, st.span.start);
      else if (st.kind === 'expr') calls(st.expr, scope, st.span.start);
      else if (st.kind === 'return' && st.value) calls(st.value, scope, st.span.start);
      else if (st.kind === 'for') calls(st.iter, scope, st.span.start);
      else if (st.kind === 'block') for (const h of st.heads) calls(h, scope, st.span.start);
      if (st.kind === 'for' || st.kind === 'block') visit(st.body, scope, depth + 1);
    }
  };
  visit(parsed.module.body, scopes.root, 0);
  for (const f of functions) visit(f.body, f.scope, 0);
  return uses;
}

/** Do two reads of a collection key read one collection: `self.x` in one class, a name through the same binding. */
function sameCollection(key: string, a: Scope, atA: number, b: Scope, atB: number): boolean {
  if (/^(self|this)\./.test(key)) {
    const ca = enclosingClass(a);
    return ca !== undefined && ca === enclosingClass(b);
  }
  const root = key.split(/[.[]/)[0];
  const ba = a.lookup(root, atA);
  return ba !== undefined && ba === b.lookup(root, atB);
}

/** `x / 2`, `x * c`, `c * x` for the variable `key`: its own value rescaled. */
function rescalesItself(value: Expr, key: string): boolean {
  if (value.kind !== 'binary' || (value.op !== '*' && value.op !== '/')) return false;
  return exprKey(value.left) === key || (value.op === '*' && exprKey(value.right) === key);
}

/**
 * A generator over a list written out (`for W in [W_in, W_out]`, one plain name as its target, no
 * condition): one binding of the name per item, as `argumentEnv` binds a helper's parameters.
 */
function listedItems(c: Expr & { kind: 'comprehension' }, scope: Scope, at: number, env: Env | undefined): { envs: Env[]; inline: boolean } | undefined {
  const g = c.generators[0];
  if (c.generators.length !== 1 || c.filtered || g.target.kind !== 'name') return undefined;
  const items = writtenOutItems(g.iter, scope, at, env);
  if (!items || items.length === 0 || !items.every((item) => item.expr.kind === 'name' || item.expr.kind === 'attr' || item.expr.kind === 'index')) return undefined;
  const name = g.target.name;
  return { envs: items.map((item) => new Map([...(env ?? []), [name, item]])), inline: g.iter.kind === 'seq' };
}

/**
 * The items of a collection written out, each where it is written: a list or tuple (`[W_in, W_out]`),
 * a helper's argument holding one, a name bound to one once (`mats = [self.W1, self.W2]`), or the
 * values of a dict written out (`{"A": A, "B": B}.values()`, `.items()` is the loop's business).
 */
function writtenOutItems(iter: Expr, scope: Scope, at: number, env: Env | undefined): { expr: Expr; scope: Scope; at: number; env?: Env }[] | undefined {
  let values = false;
  let held = iter;
  if (iter.kind === 'call' && iter.callee.kind === 'attr' && iter.callee.name === 'values' && iter.args.length === 0 && iter.kwargs.length === 0) {
    values = true;
    held = iter.callee.object;
  }
  let where: { scope: Scope; at: number; env?: Env } = { scope, at, env };
  if (held.kind === 'name') {
    const sub = env?.get(held.name);
    const b = sub ? undefined : scope.lookup(held.name, at);
    if (sub) {
      held = sub.expr;
      where = { scope: sub.scope, at: sub.at, env: sub.env };
    } else if (b?.kind === 'assign' && !b.op && b.value && b.scope.allBindings(b.key).length === 1) {
      held = b.value;
      where = { scope: b.scope, at: b.at, env: env && b.scope === scope ? env : undefined };
    }
  }
  const exprs = values ? (held.kind === 'object' ? held.entries.map((e) => e.value) : undefined) : held.kind === 'seq' ? held.items : undefined;
  return exprs?.map((expr) => ({ expr, ...where }));
}

/** Two occurrences of one weight, a transpose counting as the weight (`w.T.dot(w)`, `w.T @ w`). */
function sameWeight(a: ParamOccurrence, b: ParamOccurrence): boolean {
  const strip = (key: string): string => key.replace(/\.m?T$/, '');
  return strip(a.key) === strip(b.key);
}

/** Do two classifications say the same thing (for a function's several returns)? */
function sameProduct(a: Product, b: Product): boolean {
  if (a.tensor || b.tensor) return a.tensor && b.tensor;
  const pa = penaltyOfProduct(a);
  const pb = penaltyOfProduct(b);
  if (pa || pb) return !!pa && !!pb && pa.kind === pb.kind && equalCoef(pa.coef, pb.coef);
  return isPureScalar(a) && isPureScalar(b);
}

function substitute(e: Expr, env: Env): Expr {
  if (e.kind === 'name') return env.get(e.name)?.expr ?? e;
  if (e.kind === 'attr') {
    const object = substitute(e.object, env);
    return object === e.object ? e : { ...e, object };
  }
  if (e.kind === 'index') {
    const object = substitute(e.object, env);
    return object === e.object ? e : { ...e, object };
  }
  return e;
}

/** `e` with the node `target` replaced by `by`; each node rebuilt is handed to `fresh` (it shares a span with the one it replaces). */
function replaceNode(e: Expr, target: Expr, by: Expr, fresh: (x: Expr) => void): Expr {
  if (e === target) return by;
  let out: Expr = e;
  if (e.kind === 'binary') {
    const left = replaceNode(e.left, target, by, fresh);
    const right = replaceNode(e.right, target, by, fresh);
    if (left !== e.left || right !== e.right) out = { ...e, left, right };
  } else if (e.kind === 'unary') {
    const arg = replaceNode(e.arg, target, by, fresh);
    if (arg !== e.arg) out = { ...e, arg };
  } else if (e.kind === 'call') {
    const callee = replaceNode(e.callee, target, by, fresh);
    const args = e.args.map((x) => replaceNode(x, target, by, fresh));
    if (callee !== e.callee || args.some((x, i) => x !== e.args[i])) out = { ...e, callee, args };
  } else if (e.kind === 'attr' || e.kind === 'index') {
    const object = replaceNode(e.object, target, by, fresh);
    if (object !== e.object) out = { ...e, object };
  }
  if (out !== e) fresh(out);
  return out;
}

/** One empty list shared by every term made here (never mutated: frozen, so a write would throw, not spread). */
const NONE = Object.freeze([]) as unknown as never[];

/** The expression as one term. */
function singleSummand(e: Expr, scope: Scope, at: number, env: Env | undefined): Summand[] {
  return [{ sign: 1, num: [{ expr: e, scope, at, env }], den: NONE, site: e.span, via: NONE }];
}

/** a followed by b; one of them itself when the other is empty (lists here are never mutated). */
function concat<T>(a: T[], b: T[]): T[] {
  return b.length === 0 ? a : a.length === 0 ? b : [...a, ...b];
}

function negate(s: Summand): Summand {
  return { ...s, sign: s.sign === 1 ? -1 : 1 };
}

function joinSummands(a: Summand, b: Summand, site: Span): Summand {
  return { sign: a.sign === b.sign ? 1 : -1, num: concat(a.num, b.num), den: concat(a.den, b.den), site, via: concat(a.via, b.via) };
}

function outer(s: Summand): Summand {
  return { ...s, num: s.num.map((f) => ({ ...f, outer: true })), den: s.den.map((f) => ({ ...f, outer: true })) };
}

function opaque(e: Expr, like: Summand): Summand {
  return { sign: 1, num: [{ ...like.num[0], expr: e }], den: [], site: e.span, via: [] };
}

function wholeParam(p: ParamOccurrence): ParamOccurrence {
  return { key: exprKey(p.base) ?? p.key, base: p.base, expr: p.base };
}

function isPureScalar(p: Product): boolean {
  return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
}

/**
 * The classifications of the expressions with one span and kind, by `at`. Nearly all are asked at
 * one position, so the first answer is kept inline and a map is made only for a second position.
 */
class MemoSlot {
  private firstAt = NaN;
  private first: Product | undefined;
  private more: Map<number, Product> | undefined;
  constructor(
    readonly end: number,
    readonly kind: Expr['kind'],
  ) {}

  get(at: number): Product | undefined {
    return this.isFirst(at) ? this.first : this.more?.get(at);
  }

  set(at: number, p: Product): void {
    if (this.first === undefined || this.isFirst(at)) {
      this.firstAt = at;
      this.first = p;
    } else (this.more ??= new Map()).set(at, p);
  }

  /** `at` is the inline answer's position (compared as a Map compares keys: NaN is NaN). */
  private isFirst(at: number): boolean {
    return at === this.firstAt || (at !== at && this.firstAt !== this.firstAt);
  }
}

function isSingleParam(p: Product): boolean {
  return !p.tensor && !p.penalty && p.params.length === 1 && p.abs.length === 0 && !p.signs?.length;
}

/** Two plain norms of the same parameters, nothing else in either product. */
function sameNorm(a: Product, b: Product): boolean {
  const bare = (p: Product): boolean => p.penalty?.kind === 'norm2' && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
  if (!bare(a) || !bare(b)) return false;
  const keys = (p: Product): string => p.penalty!.params.map((q) => q.key).sort().join('|');
  // The order is not asked, as `power` does not ask it of ‖W‖₂² (`norm(w, 2) ** 2`).
  return keys(a) !== '' && keys(a) === keys(b);
}

function negProduct(p: Product): Product {
  return { ...p, coef: neg(p.coef) };
}

function multiply(a: Product, b: Product): Product {
  if (a.tensor || b.tensor) return TENSOR;
  // ‖W‖₂·‖W‖₂ (`np.linalg.norm(w, 2) * np.linalg.norm(w, 2)`): ΣW², as ‖W‖₂² is.
  if (a.penalty && b.penalty && sameNorm(a, b)) {
    const coef = mul(a.coef, b.coef);
    return { ...a, coef, penalty: { ...a.penalty, kind: 'sumsq', coef: mul(a.penalty.coef, b.penalty.coef), defs: [...a.penalty.defs, ...b.penalty.defs], norms: undefined } };
  }
  if (a.penalty && b.penalty) return TENSOR;
  const coef = mul(a.coef, b.coef);
  const penalty = a.penalty ?? b.penalty;
  const params = concat(a.params, b.params);
  const abs = concat(a.abs, b.abs);
  const signs = concat(a.signs ?? [], b.signs ?? []);
  return signs.length ? { coef, penalty, params, abs, signs, tensor: false } : { coef, penalty, params, abs, tensor: false };
}

function invert(p: Product): Product {
  if (!isPureScalar(p)) return TENSOR; // dividing by a tensor or a penalty is not "adding a penalty"
  if (p.coef.num === 0) return TENSOR; // `/ (2 * 0)` in half-typed code: no coefficient
  return scalar(div(ONE, p.coef));
}

function power(base: Product, k: number): Product {
  if (isPureScalar(base)) return k < 0 && base.coef.num === 0 ? TENSOR : scalar(pow(base.coef, k));
  if (k === 2 && base.penalty && base.penalty.kind === 'norm2' && base.params.length === 0 && base.abs.length === 0 && !base.signs?.length)
    return { ...base, coef: pow(base.coef, 2), penalty: { ...base.penalty, kind: 'sumsq', coef: pow(base.penalty.coef, 2), norms: undefined } };
  if (k === 2 && isSingleParam(base)) return { coef: pow(base.coef, 2), params: [base.params[0], base.params[0]], abs: [], tensor: false };
  // √(ΣW²), `total.pow(0.5)`: the plain L2 norm.
  if (k === 0.5 && base.penalty && base.penalty.kind === 'sumsq' && base.params.length === 0 && base.abs.length === 0 && !base.signs?.length)
    return { ...base, coef: pow(base.coef, 0.5), penalty: { ...base.penalty, kind: 'norm2', coef: pow(base.penalty.coef, 0.5), norms: undefined } };
  if (k === 1) return base;
  return TENSOR;
}

/**
 * √(ΣW²) made a plain norm by a root written at `span` (`np.sqrt(total)`, `total ** 0.5`): the root is
 * where the norm is written, since the squares may be summed elsewhere (a loop over the layers).
 */
function rootedNorm(p: Product, span: Span, radicand: Span, autodiff: boolean): Product | undefined {
  if (!p.penalty || p.penalty.kind !== 'norm2' || p.penalty.norms) return undefined;
  return { ...p, penalty: { ...p.penalty, norms: [{ span, frobenius: true, autodiff, root: radicand }] } };
}

function penaltyProduct(kind: PenaltyKind, coef: Coef, params: ParamOccurrence[], via?: string): Product {
  return { ...scalar(ONE), penalty: { kind, coef, params, via, defs: [] } };
}

/**
 * The penalty a product is, if it is exactly scalar × penalty, or (with `elementwise`) scalar × W² / |W|.
 * Elementwise squares count only with a symbolic non-learning-rate coefficient: `3 * x**2` is the
 * gradient of x³, but `c * p[j] * p[j] / 2` is a penalty's value.
 */
export function penaltyOfProduct(p: Product, elementwise = false): PenaltyTerm | undefined {
  if (p.tensor || p.signs?.length) return undefined;
  if (p.penalty && p.params.length === 0 && p.abs.length === 0) return { ...p.penalty, coef: mul(p.coef, p.penalty.coef) };
  if (p.penalty) return undefined;
  const regularizing = elementwise || p.coef.syms.some((s) => s.pow > 0 && !isLearningRateName(s.name));
  if (p.params.length === 2 && p.abs.length === 0 && p.params[0].key === p.params[1].key && regularizing)
    return { kind: 'elemsq', coef: p.coef, params: [p.params[0]], defs: [] };
  if (p.abs.length === 1 && p.params.length === 0 && regularizing) return { kind: 'elemabs', coef: p.coef, params: p.abs, defs: [] };
  return undefined;
}

export { isKeyedByString };

/** How a note names a variable holding a penalty: `the penalty reg_loss`, but `l2_penalty`, not `the penalty l2_penalty` (wording only). */
function penaltyName(key: string): string {
  return saysPenalty(key) ? key : `the penalty ${key}`;
}

/**
 * `u.w` read or written in `for j, u in enumerate(units)`: the key of the field of a loop's item,
 * `units\u0000w` (the collection walked, then the field's path), when the root of `base` is a loop
 * variable bound to an element of a collection (not a counter or a key) and `base` is a field of it.
 */
export function loopItemField(base: Expr, scope: Scope, at: number, isModule: (e: Expr) => boolean): string | undefined {
  if (base.kind !== 'attr' && !(base.kind === 'index' && isKeyedByString(base))) return undefined;
  let root: Expr = base;
  while (root.kind === 'attr' || root.kind === 'index') root = root.object;
  if (root.kind !== 'name') return undefined;
  const b = scope.lookup(root.name, at);
  if (b?.kind !== 'loop' || !b.loop) return undefined;
  const source = loopSource(loopIterable(b.loop), b.loop.position, isModule);
  const collection = source?.kind === 'element' ? exprKey(source.collection) : undefined;
  const key = exprKey(base);
  if (collection === undefined || key === undefined) return undefined;
  return `${collection}\u0000${key.slice(root.name.length)}`;
}
