// Framework facts: optimizer constructions (torch, Keras, tfa, optax, tfjs), optax chains,
// Keras/tfjs regularizers and the layer arguments they are attached to, L2 penalties added to a
// loss, weight decay written into an update by hand, and where each optimizer is used. Plain data
// read from the IR. Computed lazily, once per Facts object (a WeakMap), so files and rule sets
// that never ask pay nothing. The tables of optimizers and regularizers are the catalogue's
// (facts/catalogue.ts); the math of every knob is in docs/rules/NB201..NB205.md and
// ../shared/reference/framework-semantics.md.
import type { Expr, KeywordArg, Span, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import type { Facts } from './index';
import type { ParamOccurrence, Summand } from './analysis';
import { numberOf } from './analysis';
import { ExprWalk, children, forEachChild, type Binding, type Scope } from './scope';
import { baseExpr, components, exprKey, lastComponent } from './keys';
import { isLearningRateName, isNormWeightFragment, isParamGroupsHelperName, isParsedArgsName, isStateLike, isWholeLossName, parameterOfGradient } from './roles';
import { InnermostSpan } from './spans';
import { spanKey } from './program';
import { isGradientOf } from './gradients';
import { isSelfName, resolveCall, resolveExpr } from './resolve';
import { classFieldValue } from './classFields';
import { zeroAtEveryCall } from './callerValues';
import { optimizerSteps } from './optimizerSteps';
import { subExprs as subExprsOf, trainingFacts, within as inside } from './loops';
import {
  kerasOptimizerClass,
  OPTAX_ADAPTIVE_ALIAS,
  OPTAX_ADAPTIVE_TRANSFORM,
  OPTAX_DECAYED,
  OPTAX_OTHER_ALIAS,
  TFA_OPTIMIZERS as TFA,
  TFJS_OPTIMIZER_CLASSES as TFJS_CLASSES,
  TFJS_OPTIMIZERS as TFJS,
  TORCH_OPTIMIZERS as TORCH,
  OPTIMIZER_USE_METHODS,
  PARAMETER_LISTS,
  REGULARIZER_ARGUMENT,
  isLayerConstructorPath,
  VARIABLE_NAME_ATTRIBUTE,
  TRAINABLE_WEIGHT_LISTS,
  frameworkPath,
  kerasLegacyTest,
  isActivityRegularizerArgument,
  isArgumentParse,
  isOptionDefinition,
  isParametersMethod,
  inPlaceUpdate, regularizerByIdentifier, regularizerFramework, regularizerSemantics, type RegularizerFactor as CatalogueFactor } from './catalogue';

export type Framework = 'torch' | 'keras' | 'tfa' | 'optax' | 'tfjs';

/** A function (or a lambda bound to a name) that owns statements; `id` 0 is the module. */
export interface Owner {
  id: number;
  name?: string;
  /** The enclosing class of a method. */
  cls?: Span;
  span: Span;
}

export interface Ctx {
  scope: Scope;
  at: number;
  owner: Owner;
}

/** One argument as written: `weight_decay=1e-4`, `{'weight_decay': wd}` in a group, a positional value. */
export interface Arg {
  name: string;
  expr: Expr;
  /** `name=value` / `name: value` for keywords and entries; the value for positional arguments. */
  span: Span;
  /** The value when it is a number, or a name / attribute / config entry that resolves to one. */
  value?: number;
  ctx: Ctx;
}

/** One weight-decay setting of an optimizer: a keyword, a param group's entry, or the class default. */
export interface DecaySetting {
  source: 'argument' | 'group' | 'default';
  arg?: Arg;
  /** For a param group's setting: the group's `params`, where they are read. */
  group?: { params: Expr; ctx: Ctx };
  /** Undefined when the value is written but cannot be resolved to a number. */
  value?: number;
}

export interface OptimizerFact {
  framework: Framework;
  /** Class or function name as the framework spells it: `Adam`, `adamw`, `rmsprop`. */
  name: string;
  /** Canonical path: `torch.optim.Adam`, `keras.optimizers.AdamW`, `optax.adamw`, `tfjs.train.rmsprop`. */
  path: string;
  call: Expr & { kind: 'call' };
  ctx: Ctx;
  /** The class name inside the callee (`Adam` in `torch.optim.Adam(...)`), for renaming fixes. */
  nameSpan?: Span;
  /** True when the callee is a bare name imported with `from ... import`. */
  bareName: boolean;
  /** Key of the variable the construction is assigned to (`optimizer`, `self.opt`). */
  binding?: string;
  /** Settings that decay weights (known nonzero or unresolved), with the class default when none is written. */
  decay: DecaySetting[];
  /** Every decay setting, zeros included: a helper's `wd=0.0` default that a call overrides (helperOptimizers.ts). */
  decaySettings?: DecaySetting[];
  /** True when every written decay resolves to 0 (or none is written and the default is 0). */
  decayOff: boolean;
  /** Decoupled (AdamW-style) rather than coupled (added to the gradient). */
  decoupled: boolean;
  /** Keras `optimizers.legacy.*`. */
  legacy: boolean;
  params?: Expr;
  /** Param groups: a list of dicts (or a name bound to one, or a helper that builds them). */
  groups: boolean;
  /** The parameters are a whole module's: `model.parameters()`, `filter(..., model.parameters())`. */
  wholeModel?: string;
  mask?: Arg;
  /** Argument lookup: keyword, object-literal entry, or the given positional index. */
  arg(name: string, position?: number): Arg | undefined;
}

export type ChainElementKind = 'decay' | 'adaptive' | 'adaptive-optimizer' | 'optimizer' | 'flip' | 'other';

export interface ChainElement {
  kind: ChainElementKind;
  name: string;
  call?: Expr & { kind: 'call' };
  /** For `add_decayed_weights`: its rate. */
  decay?: Arg;
  masked: boolean;
}

export interface ChainFact {
  call: Expr & { kind: 'call' };
  ctx: Ctx;
  binding?: string;
  /** Flattened: nested chains and `optax.masked(inner, mask)` unwrapped. */
  elements: ChainElement[];
}

/** A regularizer's factor (facts/catalogue.ts), its value resolved through names and configs where possible. */
export interface RegularizerFactor extends CatalogueFactor {
  /** Written as a literal 0 / 0.0. */
  literalZero: boolean;
}

export interface RegularizerFact {
  framework: 'keras' | 'tfjs' | 'tf1';
  /** `l2`, `L1L2`, `l1_l2`, `l1l2`, `l2_regularizer`, or the string identifier for strings. */
  fn: string;
  /** The call, or the string literal for `kernel_regularizer='l1l2'`. */
  expr: Expr;
  isString: boolean;
  ctx: Ctx;
  /** Factors under Keras 3 / tfjs semantics (defaults applied). */
  l1: RegularizerFactor;
  l2: RegularizerFactor;
  /** `l1_l2` is a function with defaults 0.01/0.01 in tf-keras and Keras 2, an alias of `L1L2` (0/0) in Keras 3. */
  versionDependent: boolean;
  /** Layer arguments it is passed to. */
  attachments: { kwarg: string; ctx: Ctx; weight: boolean; span: Span }[];
  /**
   * Where the regularizer object itself is used: called on a tensor (`l1(0.0)(x)`, `reg(w)`), or a
   * method called on it (`reg.apply(x)`, `reg.get_config()`); `inLoss` when that value is part of a
   * loss (written in it, or assigned to a variable the loss reads, or passed to `add_loss`).
   */
  evaluations: { span: Span; inLoss: boolean }[];
}

/** A framework layer given to a regularizer argument (`kernel_regularizer=tf.layers.Dropout(rate)`). */
export interface LayerRegularizerFact {
  /** The layer's construction. */
  layer: Expr & { kind: 'call' };
  /** Its class or factory name (`Dropout`, `dropout`). */
  name: string;
  /** The argument (`kernel_regularizer`) and where it is written. */
  kwarg: string;
  span: Span;
  ctx: Ctx;
}

export interface LossPenaltyFact {
  /** The summand with the penalty, as written in the loss. */
  span: Span;
  /** c of c·Σw² (a ½ from `tf.nn.l2_loss` included). */
  coef: Coef;
  params: ParamOccurrence[];
  via?: string;
  defs: { span: Span; what: string }[];
  ctx: Ctx;
  /** `model` when the penalty sums over `model.parameters()` / `model.trainable_variables`. */
  root?: string;
  /**
   * The collection the penalty's one comprehension walks with no `if` clause, through variables and
   * identity comprehensions (`[v for v in tf.trainable_variables()]`): `model.parameters()`,
   * `tf.trainable_variables()`. Absent when a filter keeps only some of it, or when unknown; a
   * filter that leaves out normalization weights by name and nothing else (`'bn' not in n`,
   * `'batch_normalization' not in v.name`) keeps the collection, with `normsExcluded` its condition.
   */
  over?: {
    collection: Expr;
    scope: Scope;
    at: number;
    normsExcluded?: Span;
    /** For a model method's own `self.parameters()` (`model.l2_penalty()`): the call's receiver, where the loss reads it. */
    receiver?: { expr: Expr; scope: Scope; at: number };
  };
}

export interface HandDecayFact {
  /** `coupled`: λw added into the gradient; `decoupled`: the weight shrunk directly. */
  kind: 'coupled' | 'decoupled';
  /** The decay term as written (`wd * p`); for `p.grad.add_(p, alpha=wd)` the whole statement. */
  span: Span;
  coef?: Coef;
  /** The gradient (coupled) or the parameter (decoupled) it is written into. */
  target: Expr;
  ctx: Ctx;
  /** For coupled decay: the later writes of optimizer state that use the decayed gradient (a hand-written Adam/RMSprop). */
  adaptive?: { secondMoment: Span; firstMoment?: Span };
  /** The factors of the decay term other than the parameter, as written (`group['weight_decay']`, `wd`). */
  coefFactors: { expr: Expr; scope: Scope; at: number }[];
}

export interface FrameworkFacts {
  optimizers: OptimizerFact[];
  chains: ChainFact[];
  regularizers: RegularizerFact[];
  /** Framework layers given to regularizer arguments. */
  layerRegularizers: LayerRegularizerFact[];
  lossPenalties: LossPenaltyFact[];
  handDecays: HandDecayFact[];
  /** Receivers of `exclude_from_weight_decay(...)`, resolved to optimizer constructions when possible. */
  excludeCalls: { optimizer?: Expr; ctx: Ctx }[];
  /** Is the optimizer (or chain) built by `construction` stepped, updated or compiled inside some owner? */
  used(construction: Expr): boolean;
  /** Does `owner`'s own body mention `name` (a call, a reference, `jax.grad(name)`, `self.name`)? */
  references(owner: Owner, name: string): boolean;
  /** Ids of the owners whose bodies mention `name` (see references). */
  referrers(name: string): readonly number[];
  /** The names `owner`'s body mentions (see references). */
  namesIn(owner: Owner): ReadonlySet<string>;
  /** Ids of the owners called `name`. */
  ownersNamed(name: string): readonly number[];
  /** Does `owner` differentiate a loss by autodiff (`backward()`, `tape.gradient`, `jax.grad`, `minimize`)? */
  autodiff(owner: Owner): boolean;
  /** Do code in `a` and an optimizer built by `construction` in `b` belong to one training setup? */
  linked(a: Owner, construction: Expr, b: Owner): boolean;
  /** Resolve a numeric expression (literals, arithmetic, bindings, defaults, dict/argparse config). */
  evaluate(e: Expr, ctx: Ctx): number | undefined;
  /** The `add_argument(...)` call that defines a parsed argument (`args.l2` → `add_argument('--l2', ...)`). */
  argparseOption(field: string): (Expr & { kind: 'call' }) | undefined;
  /** Resolve a coefficient's symbols to numbers when all resolve. */
  evaluateCoef(c: Coef, ctx: Ctx): number | undefined;
  /** Does `owner` return the optimizer built by `construction` (`return torch.optim.SGD(...)`, or builds and returns it)? */
  returnsConstruction(owner: Owner, construction: Expr): boolean;
  owners: Owner[];
}

const cache = new WeakMap<Facts, FrameworkFacts>();

export function frameworkFacts(facts: Facts): FrameworkFacts {
  let fw = cache.get(facts);
  if (!fw) {
    fw = new Collector(facts).run();
    cache.set(facts, fw);
  }
  return fw;
}

// ------------------------------------------------------------------ collector

/** An assignment or in-place method call, with the variable written. */
interface Write {
  owner: Owner;
  target: Expr;
  value: Expr;
  span: Span;
  /** The statement list the write is in (straight-line code: a write earlier in it runs before). */
  block: Stmt[];
  /** A plain assignment (`g = …`), which replaces the target's value. */
  fresh?: true;
  /** Where a plain assignment's value is read. */
  ctx?: Ctx;
}

class Collector {
  private readonly argparse = new Map<string, { expr: Expr; ctx: Ctx }>();
  private readonly argparseCalls = new Map<string, Expr & { kind: 'call' }>();
  private readonly owners: Owner[] = [];
  private readonly refs = new Map<number, Set<string>>();
  private readonly useSites = new Map<number, Set<Expr>>();
  private readonly calls: { call: Expr & { kind: 'call' }; ctx: Ctx; binding?: string }[] = [];
  /** Branches that run only where Keras lacks `optimizers.legacy` (kerasLegacyTest): its optimizers there are Keras 2's. */
  private readonly legacyBranches: Span[] = [];
  /** Expressions that form a loss; `named` ones only because of a loss-like variable name. */
  private readonly lossExprs: { expr: Expr; ctx: Ctx; named?: boolean }[] = [];
  private readonly returns: { owner: Owner; value: Expr; ctx: Ctx }[] = [];
  private readonly gradFnNames = new Set<string>();
  private readonly autodiffOwners = new Set<number>();
  /** `p.mul_(f)` and `W *= f`: the weight scaled in place, and the factor. */
  private readonly scalings: { target: Expr; factor: Expr; span: Span; ctx: Ctx }[] = [];
  /** Assignments and in-place method calls, with the variable written. */
  private readonly writes: Write[] = [];
  private readonly fw: FrameworkFacts;

  constructor(private readonly facts: Facts) {
    const self = this;
    this.fw = {
      optimizers: [],
      chains: [],
      regularizers: [],
      layerRegularizers: [],
      lossPenalties: [],
      handDecays: [],
      excludeCalls: [],
      owners: this.owners,
      used: (construction) => this.ownerIndex().usersOf.has(construction),
      references: (owner, name) => this.refs.get(owner.id)?.has(name) ?? false,
      referrers: (name) => this.ownerIndex().referrersOf.get(name) ?? [],
      namesIn: (owner) => this.refs.get(owner.id) ?? new Set(),
      ownersNamed: (name) => this.ownerIndex().named.get(name) ?? [],
      autodiff: (owner) => this.autodiffOwners.has(owner.id),
      linked(a, construction, b) {
        return self.linked(a, construction, b);
      },
      evaluate: (e, ctx) => this.evaluate(e, ctx.scope, ctx.at, 0),
      argparseOption: (field) => this.argparseCalls.get(field),
      evaluateCoef: (c, ctx) => this.evaluateCoef(c, ctx),
      returnsConstruction: (owner, construction) => this.returnsConstruction(owner, construction),
    };
  }

  run(): FrameworkFacts {
    const module: Owner = { id: 0, span: this.facts.scopes.root.span };
    this.owners.push(module);
    this.stmts(this.facts.module.body, module, undefined);
    this.differentiated();
    this.calls.sort((a, b) => a.call.span.start - b.call.span.start || b.call.span.end - a.call.span.end);
    for (const c of this.calls) this.classifyCall(c.call, c.ctx, c.binding);
    this.fw.regularizers.sort((a, b) => a.expr.span.start - b.expr.span.start);
    for (const r of this.returns) {
      if (r.owner.name && (this.gradFnNames.has(r.owner.name) || isWholeLossName(r.owner.name))) {
        this.lossExprs.push({ expr: r.value.kind === 'seq' && r.value.items.length > 0 ? r.value.items[0] : r.value, ctx: r.ctx });
      }
    }
    this.regularizerEvaluations();
    this.collectLossPenalties();
    this.collectHandDecays();
    return this.fw;
  }

  /** Where regularizer objects are used directly (facts `evaluations`): by data flow from their construction. */
  private regularizerEvaluations(): void {
    if (this.fw.regularizers.length === 0) return;
    const byExpr = new Map(this.fw.regularizers.map((r) => [r.expr, r] as const));
    const regularizerOf = (e: Expr, scope: Scope, at: number, depth = 0): RegularizerFact | undefined => {
      const direct = byExpr.get(e);
      if (direct || depth > 3 || (e.kind !== 'name' && e.kind !== 'attr')) return direct;
      const key = exprKey(e);
      const b = key !== undefined ? scope.lookup(key, at) : undefined;
      return b?.kind === 'assign' && b.value && !b.op ? regularizerOf(b.value, b.scope, b.at, depth + 1) : undefined;
    };
    for (const { call, ctx } of this.calls) {
      const r = regularizerOf(call.callee, ctx.scope, ctx.at) ?? (call.callee.kind === 'attr' ? regularizerOf(call.callee.object, ctx.scope, ctx.at) : undefined);
      if (r) r.evaluations.push({ span: call.span, inLoss: this.flowsIntoLoss(call.span) });
    }
  }

  /** Whether a value is part of a loss: written inside one, or assigned to a variable a loss reads. */
  private flowsIntoLoss(span: Span): boolean {
    for (const l of this.lossExprs) {
      if (inside(span, l.expr.span)) return true;
      for (const x of subExprsOf(l.expr)) {
        if (x.kind !== 'name' && x.kind !== 'attr') continue;
        const key = exprKey(x);
        const b = key !== undefined ? l.ctx.scope.lookup(key, l.ctx.at) : undefined;
        if (b?.kind === 'assign' && b.value && inside(span, b.value.span)) return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- walking

  private newOwner(name: string | undefined, span: Span, cls: Span | undefined): Owner {
    const owner: Owner = { id: this.owners.length, name, span, cls };
    this.owners.push(owner);
    return owner;
  }

  private stmts(stmts: Stmt[], owner: Owner, cls: Span | undefined): void {
    // The `if` chain whose first test asks whether Keras has `optimizers.legacy`, and whether that test holds there.
    let chain: { span: Span; holds: boolean } | undefined;
    for (const s of stmts) {
      if (s.kind === 'block' && s.label === 'if') {
        // A chain (`elif`, `else`) is one statement per branch, each inside the first one's span.
        if (chain && s.span.start > chain.span.start && s.span.end <= chain.span.end) {
          if (chain.holds) this.legacyBranches.push(s.span);
        } else {
          const scope = this.facts.scopes.stmtScopes.get(s) ?? this.facts.scopes.root;
          const holds = s.heads.length === 1 ? kerasLegacyTest(s.heads[0], (e) => this.path(e, scope, s.span.start)) : undefined;
          chain = holds === undefined ? undefined : { span: s.span, holds };
          if (holds === false) this.legacyBranches.push({ start: s.span.start, end: s.body.length ? s.body[s.body.length - 1].span.end : s.span.start });
        }
      }
      this.stmt(s, owner, cls, stmts);
    }
  }

  private stmt(s: Stmt, owner: Owner, cls: Span | undefined, block: Stmt[]): void {
    const scope = this.facts.scopes.stmtScopes.get(s) ?? this.facts.scopes.root;
    const ctx: Ctx = { scope, at: s.span.start, owner };
    switch (s.kind) {
      case 'function':
        this.stmts(s.body, this.newOwner(s.name, s.span, cls), undefined);
        return;
      case 'class':
        this.stmts(s.body, owner, s.span);
        return;
      case 'for':
        this.exprs(s.iter, ctx, undefined);
        this.stmts(s.body, owner, cls);
        return;
      case 'block':
        for (const h of s.heads) this.exprs(h, ctx, undefined);
        this.stmts(s.body, owner, cls);
        return;
      case 'assign': {
        const target = s.targets.length === 1 && s.targets[0].kind !== 'seq' ? s.targets[0] : undefined;
        const key = target && exprKey(target);
        if (s.value.kind === 'lambda' && target?.kind === 'name') {
          this.lambda(s.value, ctx, this.newOwner(target.name, s.span, cls));
          return;
        }
        if (key !== undefined && !s.op && isWholeLossName(lastComponent(target!) ?? '')) this.lossExprs.push({ expr: s.value, ctx, named: true });
        if (key !== undefined && s.op === '+' && isWholeLossName(lastComponent(target!) ?? '')) this.lossExprs.push({ expr: s.value, ctx, named: true });
        const fresh = s.op ? {} : { fresh: true as const, ctx };
        if (target) this.writes.push({ owner, target, value: s.value, span: s.span, block, ...fresh });
        else if (s.targets.length === 1 && s.targets[0].kind === 'seq' && s.value.kind === 'seq' && s.value.items.length === s.targets[0].items.length) {
          const items = s.value.items;
          s.targets[0].items.forEach((t, i) => this.writes.push({ owner, target: t, value: items[i], span: s.span, block, ...fresh }));
        }
        if (target && s.op === '*' && s.value) this.scalings.push({ target, factor: s.value, span: s.span, ctx });
        this.exprs(s.value, ctx, s.value.kind === 'call' && !s.op ? key : undefined);
        return;
      }
      case 'expr':
        if (s.expr.kind === 'call' && s.expr.callee.kind === 'attr') {
          let target: Expr = s.expr.callee.object;
          while (target.kind === 'call' && target.callee.kind === 'attr') target = target.callee.object;
          this.writes.push({ owner, target, value: s.expr, span: s.span, block });
        }
        this.exprs(s.expr, ctx, undefined);
        return;
      case 'return':
        if (s.value) {
          this.returns.push({ owner, value: s.value, ctx });
          this.exprs(s.value, ctx, undefined);
        }
        return;
      case 'import':
        return;
    }
  }

  private lambda(e: Expr & { kind: 'lambda' }, ctx: Ctx, owner: Owner): void {
    const scope = this.facts.scopes.lambdaScopes.get(e) ?? ctx.scope;
    const inner: Ctx = { scope, at: Infinity, owner };
    if (e.body) {
      this.returns.push({ owner, value: e.body, ctx: inner });
      this.exprs(e.body, inner, undefined);
    }
    this.stmts(e.stmts, owner, owner.cls);
  }

  /** Visits every expression under `root`, recording calls, references and loss expressions. */
  private exprs(root: Expr, ctx: Ctx, rootBinding: string | undefined): void {
    const walk = this.walk;
    const base = walk.start(root, ctx);
    try {
      while (walk.depth() > base) this.expr(walk.pop(), walk.ctx, root, rootBinding);
    } finally {
      walk.end(base);
    }
  }

  private readonly walk = new ExprWalk<Ctx>();

  /** One node of `exprs`' walk. */
  private expr(e: Expr, c: Ctx, root: Expr, rootBinding: string | undefined): void {
    if (e.kind === 'name') this.ref(c.owner, e.name);
    else if (e.kind === 'attr') this.ref(c.owner, e.name);
    if (e.kind === 'lambda') {
      const scope = this.facts.scopes.lambdaScopes.get(e) ?? c.scope;
      const inner: Ctx = { scope, at: Infinity, owner: c.owner };
      if (e.body) this.walk.push(e.body, inner, undefined);
      this.stmts(e.stmts, c.owner, c.owner.cls);
      return;
    }
    if (e.kind === 'comprehension') {
      const scope = this.facts.scopes.lambdaScopes.get(e) ?? c.scope;
      for (const g of e.generators) this.walk.push(g.iter, c, undefined);
      this.walk.push(e.element, { ...c, scope }, undefined);
      return;
    }
    if (e.kind === 'call') this.call(e, c, e === root ? rootBinding : undefined);
    this.walk.pushChildren(e, c);
  }

  private ref(owner: Owner, name: string): void {
    let set = this.refs.get(owner.id);
    if (!set) this.refs.set(owner.id, (set = new Set()));
    set.add(name);
  }

  private use(owner: Owner, construction: Expr | undefined): void {
    if (!construction) return;
    let set = this.useSites.get(owner.id);
    if (!set) this.useSites.set(owner.id, (set = new Set()));
    set.add(construction);
  }

  private call(e: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined): void {
    this.calls.push({ call: e, ctx, binding });
    const method = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined;
    if (!method) return;
    if (e.callee.kind === 'attr' && OPTIMIZER_USE_METHODS.has(method)) {
      const construction = this.construction(e.callee.object, ctx);
      this.use(ctx.owner, construction);
      if (method === 'exclude_from_weight_decay') this.fw.excludeCalls.push({ optimizer: construction, ctx });
    }
    if (method === 'compile' || method === 'create') {
      const opt = kwarg(e, 'optimizer') ?? kwarg(e, 'tx') ?? (method === 'compile' ? e.args[0] : undefined);
      if (opt && opt.kind !== 'object' && opt.kind !== 'str') this.use(ctx.owner, this.construction(opt, ctx));
    }
    if (method === 'add_loss' && e.args[0]) {
      const a = e.args[0];
      if (a.kind === 'lambda' && a.body) this.lossExprs.push({ expr: a.body, ctx: { scope: this.facts.scopes.lambdaScopes.get(a) ?? ctx.scope, at: Infinity, owner: ctx.owner } });
      else if (a.kind !== 'lambda') this.lossExprs.push({ expr: a, ctx });
    }
    if (isOptionDefinition(method)) this.argparseOption(e, ctx);
    const update = inPlaceUpdate(e, (x) => this.facts.analyzer.isModule(x), (x) => this.facts.analyzer.modulePath(x));
    if (update?.op === '*') this.scalings.push({ target: update.target, factor: update.operand, span: e.span, ctx });
  }

  /** What the file differentiates (facts/autodiff.ts): owners that differentiate, and the losses they do. */
  private differentiated(): void {
    for (const d of trainingFacts(this.facts).diffs) {
      const owner = this.ownerAt(d.call.span.start);
      this.autodiffOwners.add(owner.id);
      const ctx: Ctx = { scope: d.info.scope, at: d.info.stmt.span.start, owner };
      if (d.loss && (d.kind === 'backward' || d.kind === 'tape' || d.kind === 'autograd' || (d.kind === 'tf1' && !d.fn))) this.lossReceiver(d.loss, ctx);
      if (d.fn?.name) this.gradFnNames.add(d.fn.name);
      else for (const r of d.returns ?? []) this.lossExprs.push({ expr: r.expr, ctx: { scope: r.scope, at: r.at, owner } });
    }
  }

  /** `loss.backward()` / `tape.gradient(loss, ...)`: the loss expression, or the value bound to the name. */
  private lossReceiver(x: Expr, ctx: Ctx): void {
    if (x.kind === 'name' || x.kind === 'attr') {
      const key = exprKey(x);
      const b = key !== undefined ? ctx.scope.lookup(key, ctx.at) : undefined;
      // The differentiated value, following `loss += ...` back to its first assignment.
      for (let b = key !== undefined ? ctx.scope.lookup(key, ctx.at) : undefined, n = 0; b && b.kind === 'assign' && b.value && n < 20; n++) {
        if (b.op && b.op !== '+') break;
        this.lossExprs.push({ expr: b.value, ctx: { scope: b.scope, at: b.at, owner: ctx.owner } });
        if (!b.op) break;
        const previous: Binding | undefined = b.scope.lookup(b.key, b.at);
        b = previous === b ? undefined : previous;
      }
      return;
    }
    if (x.kind === 'binary' || x.kind === 'call') this.lossExprs.push({ expr: x, ctx });
  }

  private argparseOption(e: Expr & { kind: 'call' }, ctx: Ctx): void {
    const name = e.callee.kind === 'attr' ? e.callee.name : '';
    if (name === 'add_argument') {
      const dest = kwarg(e, 'dest');
      const long = e.args.find((a) => a.kind === 'str' && a.value.startsWith('--'));
      const key = dest?.kind === 'str' ? dest.value : long?.kind === 'str' ? long.value.slice(2).replace(/-/g, '_') : undefined;
      const def = kwarg(e, 'default');
      if (key && def) this.argparse.set(key, { expr: def, ctx });
      if (key) this.argparseCalls.set(key, e);
    } else {
      const first = e.args[0];
      const def = kwarg(e, 'default') ?? e.args[1];
      if (first?.kind === 'str' && def) this.argparse.set(first.value, { expr: def, ctx });
    }
  }

  /** The optimizer construction an expression stands for: the call itself, or a variable bound to it. */
  private construction(x: Expr, ctx: Ctx, depth = 0): Expr | undefined {
    if (depth > 4) return undefined;
    if (x.kind === 'call') return x;
    const key = exprKey(x);
    if (key === undefined) return undefined;
    const b = ctx.scope.lookup(key, ctx.at);
    if (!b || b.kind !== 'assign' || !b.value || b.op) return undefined;
    if (b.value.kind === 'call') return b.value;
    return this.construction(b.value, { scope: b.scope, at: b.at, owner: ctx.owner }, depth + 1);
  }

  // ---------------------------------------------------------------- paths

  /** The canonical dotted path of a callee (facts/catalogue.ts): `optim.Adam` → torch.optim.Adam. */
  path(e: Expr, scope: Scope, at: number): string[] | undefined {
    return frameworkPath(e, scope, at, this.facts.scopes.imports, this.facts.language === 'python' ? 'python' : 'script');
  }

  // ---------------------------------------------------------------- classification

  private classifyCall(call: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined): void {
    const path = this.path(call.callee, ctx.scope, ctx.at);
    if (!path || path.length < 2) return this.attachments(call, ctx);
    const name = path[path.length - 1];
    const root = path[0];
    const bareName = call.callee.kind === 'name';
    if (root === 'torch' && path[1] === 'optim' && TORCH[name] && path.length <= 4) this.torchOptimizer(call, ctx, binding, name, path, bareName);
    else if (root === 'keras' && path.includes('optimizers') && !path.includes('schedules') && kerasOptimizerClass(name)) this.optimizer(call, ctx, binding, 'keras', kerasOptimizerClass(name)!, path, bareName);
    else if (root === 'tfa' && path.includes('optimizers') && TFA.has(name)) this.optimizer(call, ctx, binding, 'tfa', name, path, bareName);
    else if (root === 'optax' && path.length === 2 && (OPTAX_ADAPTIVE_ALIAS.has(name) || OPTAX_OTHER_ALIAS.has(name))) this.optimizer(call, ctx, binding, 'optax', name, path, bareName);
    else if (root === 'optax' && path.length === 2 && name === 'chain') this.chain(call, ctx, binding);
    else if (root === 'tfjs' && ((path[1] === 'train' && TFJS.has(name) && path.length === 3) || (TFJS_CLASSES[name] && path.length === 2)))
      this.optimizer(call, ctx, binding, 'tfjs', TFJS_CLASSES[name] ?? name, path, bareName);
    else if (regularizerFramework(path)) this.regularizer(call, ctx, regularizerFramework(path)!, name);
    this.attachments(call, ctx);
  }

  /** An argument; `written` is the keyword or entry as written (`name=value`), for a keyword. */
  private makeArg(name: string, expr: Expr, ctx: Ctx, written?: Span): Arg {
    return { name, expr, span: written ?? expr.span, value: this.evaluate(expr, ctx.scope, ctx.at, 0), ctx };
  }

  private argLookup(call: Expr & { kind: 'call' }, ctx: Ctx): (name: string, position?: number) => Arg | undefined {
    return (name, position) => {
      const kw = call.kwargs.find((k) => k.name === name);
      if (kw) return this.makeArg(name, kw.value, ctx, kw.span);
      const obj = call.args.find((a) => a.kind === 'object');
      const entry = obj?.kind === 'object' ? obj.entries.find((k) => k.name === name) : undefined;
      if (entry) return this.makeArg(name, entry.value, ctx, entry.span);
      if (position === undefined) return undefined;
      // Positional arguments count only before any spread (`*args`) or object literal.
      for (let i = 0; i <= position && i < call.args.length; i++) if (call.args[i].kind === 'other' || call.args[i].kind === 'object') return undefined;
      const a = call.args[position];
      return a ? this.makeArg(name, a, ctx) : undefined;
    };
  }

  private base(call: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined, framework: Framework, name: string, path: string[], bareName: boolean): OptimizerFact {
    return {
      framework,
      name,
      path: path.join('.'),
      call,
      ctx,
      nameSpan: this.nameSpan(call.callee, name),
      bareName,
      binding,
      decay: [],
      decayOff: true,
      decoupled: false,
      legacy: path.includes('legacy') || (framework === 'keras' && this.legacyBranches.some((b) => inside(call.span, b))),
      groups: false,
      arg: this.argLookup(call, ctx),
    };
  }

  private nameSpan(callee: Expr, name: string): Span | undefined {
    const end = callee.span.end;
    return this.facts.source({ start: end - name.length, end }) === name ? { start: end - name.length, end } : undefined;
  }

  private torchOptimizer(call: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined, name: string, path: string[], bareName: boolean): void {
    const spec = TORCH[name];
    const opt = this.base(call, ctx, binding, 'torch', name, path, bareName);
    const flag = opt.arg('decoupled_weight_decay');
    opt.decoupled = !!spec.decoupled || (flag !== undefined && isTrue(flag.expr));
    const top = opt.arg('weight_decay', spec.wd);
    const params = call.args[0] ?? call.kwargs.find((k) => k.name === 'params')?.value;
    opt.params = params;
    const groups = params ? this.paramGroups(params, ctx) : undefined;
    opt.groups = groups !== undefined;
    opt.wholeModel = params && !opt.groups ? wholeModelRoot(params) : undefined;
    const settings: DecaySetting[] = [];
    let anyUnset = !groups || groups === 'unknown';
    if (groups && groups !== 'unknown') {
      for (const g of groups) {
        const entry = g.entries.find((k) => k.name === 'weight_decay');
        if (entry) {
          const arg = this.makeArg('weight_decay', entry.value, g.ctx, entry.span);
          const groupParams = g.entries.find((k) => k.name === 'params')?.value;
          settings.push({ source: 'group', arg, value: arg.value, ...(groupParams ? { group: { params: groupParams, ctx: g.ctx } } : {}) });
        } else anyUnset = true;
      }
    }
    if (anyUnset) settings.push(top ? { source: 'argument', arg: top, value: top.value } : { source: 'default', value: spec.default });
    this.finishDecay(opt, settings);
    this.fw.optimizers.push(opt);
  }

  /** Dict groups of a torch optimizer: a literal list of dicts, a name bound to one, or 'unknown' for a helper's result. */
  private paramGroups(params: Expr, ctx: Ctx, depth = 0): { entries: KeywordArg[]; ctx: Ctx }[] | 'unknown' | undefined {
    if (depth > 3) return undefined;
    if (params.kind === 'seq') {
      const dicts = params.items.filter((i) => i.kind === 'object' || (i.kind === 'call' && i.callee.kind === 'name' && i.callee.name === 'dict'));
      if (dicts.length === 0) return undefined;
      return dicts.map((d) => ({ entries: d.kind === 'object' ? d.entries : (d as Expr & { kind: 'call' }).kwargs, ctx }));
    }
    if (params.kind === 'comprehension' && params.element.kind === 'object') return 'unknown';
    if (params.kind === 'name' || params.kind === 'attr') {
      const key = exprKey(params);
      const b = key !== undefined ? ctx.scope.lookup(key, ctx.at) : undefined;
      // A list filled later (`groups.append({...})`): its groups are not known here.
      if (b?.kind === 'assign' && b.value?.kind === 'seq' && b.value.items.length === 0) return 'unknown';
      if (b?.kind === 'assign' && b.value && !b.op) return this.paramGroups(b.value, { scope: b.scope, at: b.at, owner: ctx.owner }, depth + 1);
      return undefined;
    }
    if (params.kind === 'call' && !wholeModelRoot(params)) {
      const fn = params.callee.kind === 'attr' ? params.callee.name : params.callee.kind === 'name' ? params.callee.name : '';
      if (isParamGroupsHelperName(fn) && !PARAMETER_LISTS.has(fn)) return 'unknown';
    }
    return undefined;
  }

  private finishDecay(opt: OptimizerFact, settings: DecaySetting[]): void {
    opt.decaySettings = settings;
    opt.decay = settings.filter((s) => s.value === undefined || s.value !== 0);
    opt.decayOff = settings.every((s) => s.value === 0);
  }

  private optimizer(call: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined, framework: Framework, name: string, path: string[], bareName: boolean): void {
    const opt = this.base(call, ctx, binding, framework, name, path, bareName);
    const settings: DecaySetting[] = [];
    if (framework === 'keras') {
      opt.decoupled = true;
      const wd = opt.arg('weight_decay');
      if (wd && !isNone(wd.expr)) settings.push({ source: 'argument', arg: wd, value: wd.value });
      else if (name === 'AdamW' && !opt.legacy) settings.push({ source: 'default', value: 0.004 });
    } else if (framework === 'tfa') {
      opt.decoupled = true;
      const wd = opt.arg('weight_decay', 0);
      if (wd) settings.push({ source: 'argument', arg: wd, value: wd.value });
    } else if (framework === 'optax') {
      const def = OPTAX_DECAYED[name];
      if (def !== undefined) {
        opt.decoupled = true;
        const wd = opt.arg('weight_decay');
        settings.push(wd ? { source: 'argument', arg: wd, value: wd.value } : { source: 'default', value: def });
        opt.mask = opt.arg('mask');
        if (opt.mask && isNone(opt.mask.expr)) opt.mask = undefined;
      }
    }
    this.finishDecay(opt, settings);
    this.fw.optimizers.push(opt);
  }

  private chain(call: Expr & { kind: 'call' }, ctx: Ctx, binding: string | undefined): void {
    const elements: ChainElement[] = [];
    const visit = (args: Expr[], c: Ctx, masked: boolean, depth: number): void => {
      for (const a of args) {
        let e = a;
        let ec = c;
        if (e.kind === 'name' || e.kind === 'attr') {
          const key = exprKey(e);
          const b = key !== undefined ? c.scope.lookup(key, c.at) : undefined;
          if (b?.kind === 'assign' && b.value?.kind === 'call' && !b.op) {
            e = b.value;
            ec = { scope: b.scope, at: b.at, owner: c.owner };
          }
        }
        if (e.kind !== 'call') {
          elements.push({ kind: 'other', name: '?', masked });
          continue;
        }
        const p = this.path(e.callee, ec.scope, ec.at);
        const name = p && p[0] === 'optax' ? p[p.length - 1] : '?';
        if (name === 'chain' && depth < 4) {
          visit(e.args, ec, masked, depth + 1);
          continue;
        }
        if (name === 'masked' && e.args[0] && depth < 4) {
          visit([e.args[0]], ec, true, depth + 1);
          continue;
        }
        const element: ChainElement = { kind: 'other', name, call: e, masked };
        if (name === 'add_decayed_weights') {
          element.kind = 'decay';
          element.decay = this.argLookup(e, ec)('weight_decay', 0);
          if (kwarg(e, 'mask') && !isNone(kwarg(e, 'mask')!)) element.masked = true;
        } else if (OPTAX_ADAPTIVE_TRANSFORM.has(name)) element.kind = 'adaptive';
        else if (OPTAX_ADAPTIVE_ALIAS.has(name)) element.kind = 'adaptive-optimizer';
        else if (OPTAX_OTHER_ALIAS.has(name)) element.kind = 'optimizer';
        else if (name === 'scale_by_learning_rate') {
          const flip = kwarg(e, 'flip_sign');
          element.kind = flip && isFalse(flip) ? 'other' : 'flip';
        } else if (name === 'scale' && e.args[0]) {
          const v = this.evaluate(e.args[0], ec.scope, ec.at, 0);
          element.kind = (v !== undefined && v < 0) || (v === undefined && e.args[0].kind === 'unary' && e.args[0].op === '-') ? 'flip' : 'other';
        }
        elements.push(element);
      }
    };
    visit(call.args, ctx, false, 0);
    this.fw.chains.push({ call, ctx, binding, elements });
  }

  // ---------------------------------------------------------------- regularizers

  /** A regularizer construction, read through the catalogue (facts/catalogue.ts), its arguments resolved to numbers where they can be. */
  private regularizer(call: Expr & { kind: 'call' }, ctx: Ctx, framework: RegularizerFact['framework'], fn: string): RegularizerFact {
    const existing = this.fw.regularizers.find((r) => r.expr === call);
    if (existing) return existing;
    const arg = this.argLookup(call, ctx);
    const semantics = regularizerSemantics(framework, fn, (name, position) => arg(name, position)?.expr);
    const resolve = (f: CatalogueFactor): RegularizerFactor => {
      if (!f.given || !f.expr) return { ...f, literalZero: false };
      const v = this.evaluate(f.expr, ctx.scope, ctx.at, 0);
      return { ...f, value: v === undefined ? undefined : v * f.scale, literalZero: numberOf(f.expr) === 0 };
    };
    const fact: RegularizerFact = { framework, fn, expr: call, isString: false, ctx, l1: resolve(semantics.l1), l2: resolve(semantics.l2), versionDependent: semantics.versionDependent, attachments: [], evaluations: [] };
    this.fw.regularizers.push(fact);
    return fact;
  }

  /** `kernel_regularizer=...` keywords and `kernelRegularizer: ...` entries of layer constructors. */
  private attachments(call: Expr & { kind: 'call' }, ctx: Ctx): void {
    const entries = [...call.kwargs, ...call.args.flatMap((a) => (a.kind === 'object' ? a.entries : []))];
    for (const k of entries) {
      if (!REGULARIZER_ARGUMENT.test(k.name)) continue;
      const fact = this.attachedRegularizer(k.value, ctx);
      if (fact) fact.attachments.push({ kwarg: k.name, ctx, weight: !isActivityRegularizerArgument(k.name), span: k.span ?? k.value.span });
      else {
        const layer = this.attachedLayer(k.value, ctx);
        if (layer && !this.fw.layerRegularizers.some((l) => l.span.start === (k.span ?? k.value.span).start)) this.fw.layerRegularizers.push({ ...layer, kwarg: k.name, span: k.span ?? k.value.span, ctx });
      }
    }
  }

  /** A framework layer's construction a regularizer argument holds, directly or through a name bound to it. */
  private attachedLayer(value: Expr, ctx: Ctx, depth = 0): { layer: Expr & { kind: 'call' }; name: string } | undefined {
    if (depth > 3) return undefined;
    if (value.kind === 'call') {
      const path = this.path(value.callee, ctx.scope, ctx.at);
      return path && isLayerConstructorPath(path) ? { layer: value, name: path[path.length - 1] } : undefined;
    }
    const key = exprKey(value);
    const b = key !== undefined ? ctx.scope.lookup(key, ctx.at) : undefined;
    if (b?.kind === 'assign' && b.value && !b.op) return this.attachedLayer(b.value, { scope: b.scope, at: b.at, owner: ctx.owner }, depth + 1);
    return undefined;
  }

  private attachedRegularizer(value: Expr, ctx: Ctx, depth = 0): RegularizerFact | undefined {
    if (depth > 3) return undefined;
    if (value.kind === 'str') {
      const existing = this.fw.regularizers.find((r) => r.expr === value);
      if (existing) return existing;
      const semantics = regularizerByIdentifier(value.value, this.facts.language === 'python' ? 'keras' : 'tfjs');
      if (!semantics) return undefined;
      const plain = (f: CatalogueFactor): RegularizerFactor => ({ ...f, literalZero: false });
      const fact: RegularizerFact = { framework: semantics.framework, fn: value.value, expr: value, isString: true, ctx, l1: plain(semantics.l1), l2: plain(semantics.l2), versionDependent: semantics.versionDependent, attachments: [], evaluations: [] };
      this.fw.regularizers.push(fact);
      return fact;
    }
    if (value.kind === 'call') {
      const path = this.path(value.callee, ctx.scope, ctx.at);
      const framework = path && regularizerFramework(path);
      return path && framework && framework !== 'tf1' ? this.regularizer(value, ctx, framework, path[path.length - 1]) : undefined;
    }
    const key = exprKey(value);
    const b = key !== undefined ? ctx.scope.lookup(key, ctx.at) : undefined;
    if (b?.kind === 'assign' && b.value && !b.op) return this.attachedRegularizer(b.value, { scope: b.scope, at: b.at, owner: ctx.owner }, depth + 1);
    if (b?.kind === 'param' && b.value) return this.attachedRegularizer(b.value, { scope: b.scope, at: b.at, owner: ctx.owner }, depth + 1);
    return undefined;
  }

  // ---------------------------------------------------------------- penalties and decay by hand

  private collectLossPenalties(): void {
    const { analyzer } = this.facts;
    const seen = new Set<string>();
    for (const { expr: written, ctx, named } of this.lossExprs) {
      // Where the code differentiates by autodiff, a loss is what it differentiates: a variable
      // merely named `loss` (a reported total, `ce.backward()` elsewhere) does not regularize.
      if (named && this.autodiffOwners.has(ctx.owner.id)) continue;
      // `tf.add_n([tf.nn.l2_loss(v) for v in ...])` is a sum; the rewritten tree is analysed at a
      // distinct (equivalent) offset so it shares no memoized classification with the original.
      const expr = rewriteAddN(written, this, ctx);
      const at = expr === written ? ctx.at : ctx.at - 0.5;
      let summands: Summand[];
      try {
        summands = analyzer.summands(expr, ctx.scope, at);
      } catch {
        continue;
      }
      for (const s of summands) {
        if (s.sign !== 1) continue;
        const p = analyzer.penaltyOfSummand(s, summands);
        if (!p || p.kind !== 'sumsq' || p.params.length === 0 || !p.params.every((o) => analyzer.isParam(o.base))) continue;
        if (p.coef.num <= 0) continue;
        const k = `${s.site.start}:${s.site.end}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const value = this.evaluateCoef(p.coef, ctx);
        if (value === 0) continue;
        this.fw.lossPenalties.push({ span: s.site, coef: p.coef, params: p.params, via: p.via, defs: p.defs, ctx, root: this.penaltyRoot(s), over: this.penaltyCollection(s) });
      }
    }
  }

  /** The module whose parameters a penalty sums over, when it says so: `model.parameters()` → `model`. */
  private penaltyRoot(s: Summand): string | undefined {
    const roots = new Set<string>();
    const seen = new Set<Expr>();
    const visit = (e: Expr, scope: Scope, at: number, depth: number): void => {
      if (depth > 4 || seen.has(e)) return;
      seen.add(e);
      const root = wholeModelRoot(e);
      if (root) roots.add(root);
      if (e.kind === 'name') {
        const b = scope.lookup(e.name, at);
        if (b?.kind === 'assign' && b.value) visit(b.value, b.scope, b.at, depth + 1);
        return;
      }
      const inner = e.kind === 'comprehension' || e.kind === 'lambda' ? this.facts.scopes.lambdaScopes.get(e) ?? scope : scope;
      for (const c of children(e)) visit(c, inner, at, depth);
    };
    for (const f of s.num) visit(f.expr, f.scope, f.at, 0);
    return roots.size === 1 ? [...roots][0] : undefined;
  }

  /** The collection a penalty's one comprehension sums over, unfiltered or filtered of norm weights only (see LossPenaltyFact.over). */
  private penaltyCollection(s: Summand): LossPenaltyFact['over'] {
    type Receiver = { expr: Expr; scope: Scope; at: number };
    type Source = { collection: Expr; scope: Scope; at: number; filter: Filter; receiver?: Receiver };
    const found: Source[] = [];
    const seen = new Set<Expr>();
    // The source of a comprehension's elements, through variables and `[v for v in xs if ...]`.
    const source = (e: Expr, scope: Scope, at: number, depth: number): Source | undefined => {
      if (depth > 4) return undefined;
      if (e.kind === 'name') {
        const b = scope.lookup(e.name, at);
        return b?.kind === 'assign' && b.value && !b.op ? source(b.value, b.scope, b.at, depth + 1) : { collection: e, scope, at, filter: NO_FILTER };
      }
      if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'list' && e.args.length === 1 && e.kwargs.length === 0) return source(e.args[0], scope, at, depth + 1);
      if (e.kind === 'comprehension') {
        const g = e.generators[0];
        if (e.generators.length !== 1 || exprKey(e.element) === undefined || exprKey(e.element) !== exprKey(g.target)) return undefined;
        const inner = source(g.iter, this.facts.scopes.lambdaScopes.get(e) ?? scope, at, depth + 1);
        return inner && { ...inner, filter: joinFilters(inner.filter, comprehensionFilter(e)) };
      }
      return { collection: e, scope, at, filter: NO_FILTER };
    };
    const visit = (e: Expr, scope: Scope, at: number, depth: number, receiver?: Receiver): void => {
      if (depth > 4 || seen.has(e)) return;
      seen.add(e);
      if (e.kind === 'name') {
        const b = scope.lookup(e.name, at);
        if (b?.kind === 'assign' && b.value && !b.op) visit(b.value, b.scope, b.at, depth + 1, receiver);
        return;
      }
      if (e.kind === 'comprehension') {
        const g = e.generators[0];
        const src = e.generators.length === 1 ? source(g.iter, scope, at, 0) : undefined;
        found.push(src ? { ...src, filter: joinFilters(src.filter, comprehensionFilter(e)), receiver } : { collection: e, scope, at, filter: OTHER_FILTER });
        return;
      }
      // `model.l2_penalty()`: a method that returns its sum over its own `self.parameters()`, in any file.
      if (e.kind === 'call' && e.callee.kind === 'attr' && !receiver) {
        const target = resolveCall(this.facts.program, e, scope, at);
        if (target?.fn.isMethod && target.receiver && target.fn.returns) {
          visit(target.fn.returns, target.fn.scope, target.fn.span.end, depth + 1, { expr: target.receiver, scope, at });
          return;
        }
      }
      const inner = e.kind === 'lambda' ? this.facts.scopes.lambdaScopes.get(e) ?? scope : scope;
      for (const c of children(e)) visit(c, inner, at, depth, receiver);
    };
    for (const f of s.num) visit(f.expr, f.scope, f.at, 0);
    if (found.length !== 1 || found[0].filter.kind === 'other') return undefined;
    const { collection, scope, at, filter, receiver } = found[0];
    const over = filter.kind === 'norms' ? { collection, scope, at, normsExcluded: filter.span } : { collection, scope, at };
    return receiver ? { ...over, receiver } : over;
  }

  private collectHandDecays(): void {
    const { analyzer, updates } = this.facts;
    for (const site of updates) {
      const owner = this.ownerAt(site.span.start);
      const ctx: Ctx = { scope: site.scope, at: site.at, owner };
      for (const s of site.increment) {
        const p = analyzer.classifySummand(s);
        if (p.tensor || p.penalty || p.params.length !== 1 || p.abs.length !== 0) continue;
        if (!decayLike(p.coef)) continue;
        const param = p.params[0];
        if (site.kind === 'update') {
          // `W -= lr * wd * W`: the weight shrinks by itself.
          if (exprKey(baseExpr(site.target)) !== exprKey(param.base) || p.coef.num >= 0) continue;
          this.fw.handDecays.push({ kind: 'decoupled', span: this.termSpan(s.site, site.span, param.expr), coef: p.coef, target: site.target, ctx, coefFactors: coefFactors(s, param.expr) });
        } else {
          if (p.coef.num <= 0) continue;
          // `grad = grad - grad.mean()` after `grad = grad.add(p, alpha=wd)`: the decay was added, and
          // is reported, where the earlier definition writes it (which may be another branch).
          const targetText = this.facts.source(site.target.span);
          if (s.via.some((v) => this.facts.source(v) === targetText)) continue;
          const owned = parameterOfGradient(site.target);
          const last = lastComponent(param.base);
          // `grad_W` is W's gradient, not another parameter's; `grad_data` next to `p.data` is p's (a part of the parameter's own expression).
          if (owned !== undefined && last !== undefined && owned !== last && owned !== exprKey(param.base) && !components(param.expr).includes(owned)) continue;
          this.fw.handDecays.push({
            kind: 'coupled',
            span: this.termSpan(s.site, site.span, param.expr),
            coef: p.coef,
            target: site.target,
            ctx,
            adaptive: this.adaptiveUse(s.site, site.target, owner),
            coefFactors: coefFactors(s, param.expr),
          });
        }
      }
    }
    this.collectDecayedGradientLocals();
    // `p.mul_(1 - lr * wd)`, `W *= 1 - lr * wd`.
    for (const { target, factor, span, ctx } of this.scalings) {
      if (!analyzer.isParam(target) || factor.kind !== 'binary' || factor.op !== '-' || numberOf(factor.left) !== 1) continue;
      this.fw.handDecays.push({ kind: 'decoupled', span, target, ctx, coefFactors: productFactors(factor.right).map((expr) => ({ expr, scope: ctx.scope, at: ctx.at })) });
    }
  }

  /**
   * A local that holds a parameter's gradient plus that parameter's decay (`gw = dW + wd * W`,
   * `step_dir = grad + wd * p`) and reaches the second moment of an adaptive step: coupled decay,
   * whatever the local is called. The gradient is the parameter's own by data flow (gradients.ts
   * `isGradientOf`), so `grad_new = p.grad + wd * p`, which the name would give to a parameter
   * `new`, is p's too. A decay the update sites above already gave is not taken twice.
   */
  private collectDecayedGradientLocals(): void {
    const { analyzer } = this.facts;
    const known = new Set(this.fw.handDecays.map((h) => spanKey(h.span)));
    for (const w of this.writes) {
      if (!w.ctx || w.target.kind !== 'name') continue;
      // A sum written here (`a + b`, `grad.add(p, alpha=wd)`) that a squared-gradient state reads later.
      const sum = (w.value.kind === 'binary' && w.value.op === '+') || (w.value.kind === 'call' && analyzer.arithmeticCall(w.value)?.op === '+');
      if (!sum) continue;
      const { scope, at } = w.ctx;
      const terms = analyzer.summands(w.value, scope, at);
      if (terms.length !== 2) continue;
      const products = terms.map((s) => analyzer.classifySummand(s));
      const d = products.findIndex((p) => !p.tensor && !p.penalty && p.params.length === 1 && p.abs.length === 0 && !p.signs?.length && p.coef.num > 0 && decayLike(p.coef));
      if (d < 0) continue;
      const decay = terms[d];
      const gradient = terms[1 - d];
      const param = products[d].params[0];
      if (gradient.sign !== 1 || gradient.num.length !== 1 || gradient.den.length !== 0 || gradient.num[0].env) continue;
      const g = gradient.num[0];
      if (!isGradientOf(this.facts, g.expr, g.scope, g.at, param.base)) continue;
      // Last: it walks the owner's writes (a minified bundle's one function holds thousands of sums).
      const adaptive = this.adaptiveUse(w.span, w.target, w.owner);
      if (!adaptive) continue;
      const span = this.termSpan(decay.site, w.span, param.expr);
      if (known.has(spanKey(span))) continue;
      known.add(spanKey(span));
      this.fw.handDecays.push({ kind: 'coupled', span, coef: products[d].coef, target: w.target, ctx: w.ctx, adaptive, coefFactors: coefFactors(decay, param.expr) });
    }
  }

  /** The summand, unless it is only the parameter itself (its factor written elsewhere, as `alpha=wd`). */
  private termSpan(site: Span, stmt: Span, param: Expr): Span {
    if (site.start !== param.span.start || site.end !== param.span.end) return site;
    // `grad.add(p, alpha=wd)`: the call that takes the parameter, within the statement.
    let best: Span = stmt;
    for (const w of this.writesOf('stmt', stmt.start)) {
      if (w.span.end !== stmt.end) continue;
      walkExpr(w.value, (e) => {
        if (e.kind === 'call' && e.args.some((a) => a.span.start === param.span.start && a.span.end === param.span.end) && e.span.end - e.span.start < best.end - best.start) best = e.span;
      });
    }
    return best;
  }

  /** Later writes of optimizer state (`m`, `v`, `exp_avg_sq`, `cache`) in the same function that use the decayed gradient; one squares it. */
  private adaptiveUse(site: Span, target: Expr, owner: Owner): HandDecayFact['adaptive'] {
    let container: { target: Expr; span: Span } | undefined;
    for (const w of this.writesOf('owner', owner.id)) {
      if (w.span.start > site.start || w.span.end < site.end) continue;
      if (!container || w.span.end - w.span.start < container.span.end - container.span.start) container = w;
    }
    const gKey = exprKey(container?.target ?? target);
    if (gKey === undefined) return undefined;
    const after = container?.span.end ?? site.end;
    let first: Span | undefined;
    let second: Span | undefined;
    const writes = this.writesOf('owner', owner.id);
    // The gradient defined afresh before the state write, in the same straight-line code: the state reads that value, not this one.
    // Those definitions are gathered once, not per state write.
    const fresh = writes.filter((d) => d.fresh && d.span.start >= after && exprKey(d.target) === gKey && !mentionsKey(d.value, gKey));
    const redefined = (w: Write): boolean => fresh.some((d) => d.block === w.block && d.span.end <= w.span.start);
    for (const w of writes) {
      if (w.span.start < after || !mentionsKey(w.value, gKey) || redefined(w)) continue;
      if (!this.isOptimizerState(w)) continue;
      if (!second && squares(w.value, gKey)) second = w.span;
      else if (!first && !squares(w.value, gKey)) first = w.span;
    }
    return second ? { secondMoment: second, firstMoment: first } : undefined;
  }

  private stepStates?: { fn: Span; key: string }[];

  /**
   * Optimizer state by data flow (a state of a hand-written optimizer step around the write, read off
   * its normal form: `self.first = b1 * self.first + (1 - b1) * g`), or by its name (`m`, `v`, `cache`)
   * when the write carries a value from one step to the next: it reads what it replaces (`v = b2 * v + …`,
   * `v[i] += g * g`, `v.mul_(b2)…`), or it is stored back where its value was read from later in the
   * same function (`v_t = b2 * v + …` then `K.update(v, v_t)`, `vNew = b2 * v[i] + …` then `v[i] = vNew`).
   * A local named like a moment that is computed from one array and copied into another
   * (`vVal = b2 * vPrev[i] + …; v[i] = vVal`, a one-step oracle) carries nothing by data flow, and
   * the name alone does not make it state.
   */
  private isOptimizerState(w: Write): boolean {
    const { target } = w;
    const at = w.span.start;
    if (isStateLike(target) && this.carriesValue(w)) return true;
    // The normal form keys `self.first[i]`, indexed by a loop, as `self.first` (optimizerSteps.ts `keyOf`).
    const keys = [exprKey(target), target.kind === 'index' ? exprKey(target.object) : undefined].filter((k): k is string => k !== undefined);
    this.stepStates ??= optimizerSteps(this.facts).flatMap((step) => [...step.states.keys()].map((k) => ({ fn: step.fn.span, key: k })));
    return this.stepStates.some((s) => keys.includes(s.key) && inside({ start: at, end: at }, s.fn));
  }

  /** Per plain write, whether its value is carried (see carriesValue), found for all of its owner's writes in one pass. */
  private carried?: Map<Write, boolean>;

  /** Whether a write reads what it replaces, or is stored back later where its value was read from (see isOptimizerState). */
  private carriesValue(w: Write): boolean {
    // An augmented assignment or an in-place call (`v.mul_(b2)`) keeps what it changes.
    if (!w.fresh) return true;
    this.carried ??= new Map();
    if (!this.carried.has(w)) this.carryOwner(this.writesOf('owner', w.owner.id));
    return this.carried.get(w) === true;
  }

  /**
   * `carriesValue` for every plain write of one owner, walking its writes once, from the last. What each
   * write stores (`v[i] = vNew`, `v.assign(v_t)`: the place, given a value; `K.update(v, v_t)`,
   * `tf.assign(v, v_t)`, also inside `self.updates.append(…)`: a call given the place, then the value)
   * is kept as the keys the stored value mentions → the places it went to, so an earlier write asks only
   * about its own keys.
   */
  private carryOwner(ownerWrites: readonly Write[]): void {
    const carried = this.carried!;
    const writes = [...ownerWrites].sort((a, b) => a.span.start - b.span.start);
    const storedInto = new Map<string, Set<string>>();
    const store = (place: Expr, value: Expr): void => {
      const places = [exprKey(place), exprKey(baseExpr(place))].filter((k): k is string => k !== undefined);
      if (places.length === 0) return;
      for (const held of mentionedKeys(value)) {
        let set = storedInto.get(held);
        if (!set) storedInto.set(held, (set = new Set()));
        for (const k of places) set.add(k);
      }
    };
    // The writes of one statement share a start; a write sees only those that start after it.
    for (let end = writes.length; end > 0; ) {
      let begin = end - 1;
      while (begin > 0 && writes[begin - 1].span.start === writes[end - 1].span.start) begin--;
      for (let i = begin; i < end; i++) if (writes[i].fresh && !carried.has(writes[i])) carried.set(writes[i], carriesOwn(writes[i], storedInto));
      for (let i = begin; i < end; i++) {
        const later = writes[i];
        store(later.target, later.value);
        walkExpr(later.value, (e) => {
          if (e.kind === 'call' && e.args.length >= 2) store(e.args[0], e.args[1]);
        });
      }
      end = begin;
    }
  }

  private writesIndex?: Map<string, Write[]>;

  /** The writes of one owner, or of the statement starting at an offset, in source order. */
  private writesOf(by: 'owner' | 'stmt', id: number): Write[] {
    if (!this.writesIndex) {
      this.writesIndex = new Map();
      for (const w of this.writes) {
        for (const key of [`owner ${w.owner.id}`, `stmt ${w.span.start}`]) {
          let list = this.writesIndex.get(key);
          if (!list) this.writesIndex.set(key, (list = []));
          list.push(w);
        }
      }
    }
    return this.writesIndex.get(`${by} ${id}`) ?? [];
  }

  private ownersBySpan?: InnermostSpan<Owner>;

  /** The innermost owner containing the offset (the module's owner comes first and spans the file). */
  private ownerAt(offset: number): Owner {
    this.ownersBySpan ??= new InnermostSpan(this.owners);
    return this.ownersBySpan.at(offset);
  }

  // ---------------------------------------------------------------- linking

  linked(a: Owner, construction: Expr, b: Owner): boolean {
    if (a.id === b.id) return true;
    // Rules ask this for every (penalty, optimizer) pair; answers are kept so that is not cubic.
    let byOwners = this.linkMemo.get(construction);
    if (!byOwners) this.linkMemo.set(construction, (byOwners = new Map()));
    const key = a.id * 0x100000 + b.id;
    let answer = byOwners.get(key);
    if (answer === undefined) byOwners.set(key, (answer = this.computeLinked(a, construction, b)));
    return answer;
  }

  private readonly linkMemo = new Map<Expr, Map<number, boolean>>();
  private readonly setups = new Map<Expr, Map<number, { members: Set<number>; names: Set<string> }>>();

  private computeLinked(a: Owner, construction: Expr, b: Owner): boolean {
    const targets = this.targetsOf(construction);
    // Code that steps its own optimizer belongs to that optimizer's setup, whatever else is near.
    const own = [...(this.useSites.get(a.id) ?? [])].filter((c) => this.fw.optimizers.some((o) => o.call === c) || this.fw.chains.some((ch) => ch.call === c));
    if (own.length > 0 && !own.some((c) => targets.includes(c))) return false;
    if (a.cls && b.cls && a.cls.start === b.cls.start) return true;
    // `a` belongs to the setup when it, or an owner that mentions it, is part of the setup.
    const setup = this.setupOf(construction, targets, b);
    return setup.members.has(a.id) || (a.name !== undefined && setup.names.has(a.name));
  }

  /** The construction, and the chains (`optax.chain(clip, optax.adamw(...))`) that wrap it and through which it is used. */
  private targetsOf(construction: Expr): Expr[] {
    const targets = [construction];
    for (const ch of this.fw.chains) if (ch.elements.some((e) => e.call === construction)) targets.push(ch.call);
    return targets;
  }

  /**
   * The owners that make up the training setup of an optimizer built in `b`: `b` itself, the
   * owners that use the optimizer, and those that call `b` when `b` returns it. With the names
   * those owners mention, so `linked` answers in constant time per pair.
   */
  private setupOf(construction: Expr, targets: Expr[], b: Owner): { members: Set<number>; names: Set<string> } {
    let byOwner = this.setups.get(construction);
    if (!byOwner) this.setups.set(construction, (byOwner = new Map()));
    let setup = byOwner.get(b.id);
    if (setup) return setup;
    const returned = b.name !== undefined && targets.some((t) => this.returnsConstruction(b, t));
    setup = { members: new Set(), names: new Set() };
    // The members: b, the owners that use a target, and (when b returns the optimizer) those that
    // mention b. Looked up in inverted indexes rather than by testing every owner per setup.
    const { usersOf, referrersOf } = this.ownerIndex();
    const members = [b.id];
    for (const t of targets) members.push(...(usersOf.get(t) ?? []));
    if (returned) members.push(...(referrersOf.get(b.name!) ?? []).filter((id) => !this.runsOwnNamesake(id, b)));
    for (const id of members) {
      if (setup.members.has(id)) continue;
      setup.members.add(id);
      for (const name of this.refs.get(id) ?? []) setup.names.add(name);
    }
    byOwner.set(b.id, setup);
    return setup;
  }

  /**
   * A method of another class that defines its own method of `b`'s name: its `self.<name>(...)` runs
   * that one (`PenaltyRunner.fit` calling its own `build_optimizer`, not `DecayRunner`'s).
   */
  private runsOwnNamesake(id: number, b: Owner): boolean {
    const r = this.owners[id];
    if (!r?.cls || !b.cls || r.cls.start === b.cls.start) return false;
    return (this.ownerIndex().named.get(b.name!) ?? []).some((o) => this.owners[o]?.cls?.start === r.cls!.start);
  }

  private ownerIndexes?: { usersOf: Map<Expr, number[]>; referrersOf: Map<string, number[]>; named: Map<string, number[]> };

  /** Owners by the constructions they use, the names they mention and their own names (built after the walk). */
  private ownerIndex(): { usersOf: Map<Expr, number[]>; referrersOf: Map<string, number[]>; named: Map<string, number[]> } {
    if (this.ownerIndexes) return this.ownerIndexes;
    const usersOf = new Map<Expr, number[]>();
    const referrersOf = new Map<string, number[]>();
    const add = <K>(map: Map<K, number[]>, key: K, id: number): void => {
      const list = map.get(key);
      if (list) list.push(id);
      else map.set(key, [id]);
    };
    for (const [id, constructions] of this.useSites) for (const c of constructions) add(usersOf, c, id);
    for (const [id, names] of this.refs) for (const name of names) add(referrersOf, name, id);
    const named = new Map<string, number[]>();
    for (const o of this.owners) if (o.name !== undefined) add(named, o.name, o.id);
    return (this.ownerIndexes = { usersOf, referrersOf, named });
  }

  /** `def make_optimizer(model): return torch.optim.SGD(...)` (or builds and returns it). */
  private returnsConstruction(owner: Owner, construction: Expr): boolean {
    return this.returns.some((r) => r.owner.id === owner.id && (r.value === construction || this.construction(r.value, r.ctx) === construction));
  }

  // ---------------------------------------------------------------- numbers

  evaluate(e: Expr, scope: Scope, at: number, depth: number): number | undefined {
    if (depth > 8) return undefined;
    const d = depth + 1;
    switch (e.kind) {
      case 'num':
        return e.value;
      case 'unary': {
        const v = this.evaluate(e.arg, scope, at, d);
        return v === undefined ? undefined : e.op === '-' ? -v : e.op === '+' ? v : undefined;
      }
      case 'binary': {
        const l = this.evaluate(e.left, scope, at, d);
        const r = l === undefined ? undefined : this.evaluate(e.right, scope, at, d);
        if (l === undefined || r === undefined) return undefined;
        switch (e.op) {
          case '+': return l + r;
          case '-': return l - r;
          case '*': return l * r;
          case '/': return r === 0 ? undefined : l / r;
          case '**': return l ** r;
          default: return undefined;
        }
      }
      case 'call': {
        const fn = e.callee.kind === 'name' ? e.callee.name : undefined;
        if ((fn === 'float' || fn === 'int' || fn === 'Number' || fn === 'parseFloat') && e.args.length === 1) return this.evaluate(e.args[0], scope, at, d);
        return undefined;
      }
      case 'name':
      case 'attr':
      case 'index':
        return this.evaluateReference(e, scope, at, d);
      default:
        return undefined;
    }
  }

  private evaluateReference(e: Expr, scope: Scope, at: number, d: number): number | undefined {
    const key = exprKey(e);
    if (key === undefined) return undefined;
    const b = scope.lookup(key, at);
    if (b) {
      if (b.op || !b.value) return undefined;
      if (b.kind === 'loop') return undefined;
      // A variable assigned more than once in its scope (a sweep, a branch) has no single value.
      if (b.kind === 'assign' && b.scope.allBindings(key).filter((x) => x.kind === 'assign').length > 1) return undefined;
      return this.evaluate(b.value, b.scope, b.at, d);
    }
    // `from config import WD`, `hparams.WD`: the value the project file that defines it binds.
    if (e.kind !== 'index') {
      const def = resolveExpr(this.facts.program, e, scope, at);
      if (def?.kind === 'value') return this.evaluate(def.expr, def.scope, def.at, d);
    }
    // `config['wd']` / `config.wd` with `config = {...}` or `dict(...)`.
    const object = e.kind === 'attr' || e.kind === 'index' ? e.object : undefined;
    const field = e.kind === 'attr' ? e.name : e.kind === 'index' && e.index.length === 1 && e.index[0].kind === 'str' ? e.index[0].value : undefined;
    if (object && field !== undefined) {
      // `cfg.wd` with `cfg = Settings()`: the field the class sets (its constructor or class body).
      const classField = e.kind === 'attr' ? classFieldValue(this.facts.program, object, field, scope, at) : undefined;
      if (classField) return this.evaluate(classField.expr, classField.scope, classField.at, d);
      const ok = exprKey(object);
      const ob = ok !== undefined ? scope.lookup(ok, at) : undefined;
      if (ob?.kind === 'assign' && ob.value && !ob.op) {
        const v = ob.value;
        const entry = v.kind === 'object' ? v.entries.find((k) => k.name === field) : v.kind === 'call' && v.callee.kind === 'name' && v.callee.name === 'dict' ? v.kwargs.find((k) => k.name === field) : undefined;
        if (entry) return this.evaluate(entry.value, ob.scope, ob.at, d);
        if (!(v.kind === 'call' && v.callee.kind === 'attr' && v.callee.name === 'parse_args')) return undefined;
      }
      // `args.weight_decay` with `parser.add_argument('--weight-decay', default=...)`: only on objects that are parsed arguments.
      const parsed = ob?.kind === 'assign' && ob.value?.kind === 'call' && ob.value.callee.kind === 'attr' && isArgumentParse(ob.value.callee.name);
      if (e.kind === 'attr' && (parsed || isParsedArgsName(lastComponent(object) ?? ''))) {
        const opt = this.argparse.get(field);
        if (opt) return this.evaluate(opt.expr, opt.ctx.scope, opt.ctx.at, d);
      }
    }
    return undefined;
  }

  evaluateCoef(c: Coef, ctx: Ctx): number | undefined {
    let value: number | undefined = c.num;
    for (const s of c.syms) {
      const parts = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(s.name) ? s.name.split('.') : undefined;
      let e: Expr | undefined;
      if (parts) {
        e = { kind: 'name', name: parts[0], span: { start: 0, end: 0 } };
        for (const p of parts.slice(1)) e = { kind: 'attr', object: e, name: p, span: { start: 0, end: 0 } };
      }
      const v = e ? this.evaluate(e, ctx.scope, ctx.at, 0) : undefined;
      // A factor known to be 0 makes the product 0 whatever the others are (`l2s * Σw² / batch` with l2s = 0).
      if (v === 0 && s.pow > 0) return 0;
      // A parameter every call of its function in the file switches off (`train(model, loader, reg=0.0)`).
      if (s.pow > 0 && e?.kind === 'name' && zeroAtEveryCall(this.facts, e.name, ctx.scope, ctx.at, (x, scope, at) => this.evaluate(x, scope, at, 0))) return 0;
      value = v === undefined || value === undefined ? undefined : value * v ** s.pow;
    }
    return value;
  }
}

// ------------------------------------------------------------------ helpers

/** The factors of a decay term other than the parameter (with those given outside its site: `alpha=wd`, an outer `lr`). */
function coefFactors(s: Summand, param: Expr): HandDecayFact['coefFactors'] {
  return [...s.num, ...s.den].filter((f) => f.expr !== param && !(f.expr.span.start <= param.span.start && f.expr.span.end >= param.span.end)).map((f) => ({ expr: f.expr, scope: f.scope, at: f.at }));
}

/** Copies `e` with `tf.add_n(list)` replaced by `sum(list)` (a comprehension) or `a + b + ...` (a literal list). */
function rewriteAddN(e: Expr, c: Collector, ctx: Ctx, depth = 0): Expr {
  if (depth > 30) return e;
  const d = depth + 1;
  switch (e.kind) {
    case 'call': {
      const path = c.path(e.callee, ctx.scope, ctx.at);
      if (path && path[0] === 'tensorflow' && path[path.length - 1] === 'add_n' && e.args.length === 1) {
        const list = e.args[0];
        if (list.kind === 'comprehension') return { kind: 'call', callee: { kind: 'name', name: 'sum', span: e.callee.span }, args: [list], kwargs: [], span: e.span };
        if (list.kind === 'seq' && list.items.length > 0) return list.items.slice(1).reduce<Expr>((a, b) => ({ kind: 'binary', op: '+', left: a, right: b, span: e.span }), list.items[0]);
        return e;
      }
      const callee = rewriteAddN(e.callee, c, ctx, d);
      const args = e.args.map((a) => rewriteAddN(a, c, ctx, d));
      return callee === e.callee && args.every((a, i) => a === e.args[i]) ? e : { ...e, callee, args };
    }
    case 'binary': {
      const left = rewriteAddN(e.left, c, ctx, d);
      const right = rewriteAddN(e.right, c, ctx, d);
      return left === e.left && right === e.right ? e : { ...e, left, right };
    }
    case 'unary': {
      const arg = rewriteAddN(e.arg, c, ctx, d);
      return arg === e.arg ? e : { ...e, arg };
    }
    case 'attr': {
      const object = rewriteAddN(e.object, c, ctx, d);
      return object === e.object ? e : { ...e, object };
    }
    default:
      return e;
  }
}

function walkExpr(root: Expr, visit: (e: Expr) => void): void {
  const stack = [root];
  const push = (c: Expr): void => void stack.push(c);
  let n = 0;
  while (stack.length > 0 && n++ < 5000) {
    const e = stack.pop()!;
    visit(e);
    forEachChild(e, push);
  }
}

/** A plain write reads what it replaces, or a later write stores a value that mentions it (`storedInto`: mentioned key → places) where its value was read from. */
function carriesOwn(w: Write, storedInto: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  const own = [exprKey(w.target), exprKey(baseExpr(w.target))].filter((k): k is string => k !== undefined);
  if (own.some((k) => mentionsKey(w.value, k))) return true;
  const reads = new Set<string>();
  walkExpr(w.value, (e) => {
    if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return;
    for (const k of [exprKey(e), exprKey(baseExpr(e))]) if (k !== undefined) reads.add(k);
  });
  for (const k of own) for (const place of storedInto.get(k) ?? []) if (reads.has(place)) return true;
  return false;
}

/** The keys of the names, attributes and subscripts an expression holds (those `mentionsKey` finds). */
function mentionedKeys(root: Expr): Set<string> {
  const keys = new Set<string>();
  walkExpr(root, (e) => {
    if (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index') return;
    const k = exprKey(e);
    if (k !== undefined) keys.add(k);
  });
  return keys;
}

function mentionsKey(root: Expr, key: string): boolean {
  let found = false;
  walkExpr(root, (e) => {
    if (!found && (e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && exprKey(e) === key) found = true;
  });
  return found;
}

/** Factors of a product chain: `a * g * g` → [a, g, g]. */
export function productFactors(e: Expr, out: Expr[] = [], depth = 0): Expr[] {
  if (e.kind === 'binary' && e.op === '*' && depth < 20) {
    productFactors(e.left, out, depth + 1);
    productFactors(e.right, out, depth + 1);
  } else out.push(e);
  return out;
}

/** `g * g`, `a * g * g`, `g ** 2`, `g.pow(2)`, `np.square(g)`, `g.square()`, `addcmul_(g, g)`, also of a lambda's parameter (tree_map). */
function squares(root: Expr, key: string): boolean {
  const keys = new Set([key]);
  walkExpr(root, (e) => {
    if (e.kind === 'lambda') for (const p of e.params) keys.add(p.name);
  });
  const is = (e: Expr | undefined): boolean => {
    const k = e && exprKey(e);
    return k !== undefined && keys.has(k);
  };
  let found = false;
  walkExpr(root, (e) => {
    if (found) return;
    if (e.kind === 'binary' && e.op === '*') {
      const counts = new Map<string, number>();
      for (const f of productFactors(e)) if (is(f)) counts.set(exprKey(f)!, (counts.get(exprKey(f)!) ?? 0) + 1);
      if ([...counts.values()].some((n) => n >= 2)) found = true;
    } else if (e.kind === 'binary' && e.op === '**' && is(e.left) && numberOf(e.right) === 2) found = true;
    else if (e.kind === 'call') {
      const fn = e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : '';
      const method = e.callee.kind === 'attr' ? e.callee.object : undefined;
      if (fn === 'square' && (is(e.args[0]) || is(method))) found = true;
      else if ((fn === 'pow' || fn === 'power') && ((is(method) && e.args[0] !== undefined && numberOf(e.args[0]) === 2) || (is(e.args[0]) && e.args[1] && numberOf(e.args[1]) === 2))) found = true;
      else if ((fn === 'addcmul_' || fn === 'addcmul' || fn === 'mul' || fn === 'multiply') && e.args.length >= 2 && is(e.args[e.args.length - 2]) && exprKey(e.args[e.args.length - 2]) === exprKey(e.args[e.args.length - 1])) found = true;
      else if ((fn === 'mul' || fn === 'multiply') && e.args.length === 1 && is(method) && exprKey(method!) === exprKey(e.args[0])) found = true;
    }
  });
  return found;
}

function kwarg(e: Expr & { kind: 'call' }, name: string): Expr | undefined {
  return e.kwargs.find((k) => k.name === name)?.value;
}

function isTrue(e: Expr): boolean {
  return (e.kind === 'name' && (e.name === 'True' || e.name === 'true')) || numberOf(e) === 1;
}

function isFalse(e: Expr): boolean {
  return (e.kind === 'name' && (e.name === 'False' || e.name === 'false')) || numberOf(e) === 0;
}

function isNone(e: Expr): boolean {
  return e.kind === 'name' && (e.name === 'None' || e.name === 'null' || e.name === 'undefined');
}

/** `model.parameters()`, `self.parameters()`, `filter(f, model.parameters())`, `model.trainable_variables` → `model`. */
export function wholeModelRoot(e: Expr): string | undefined {
  if (e.kind === 'call' && e.callee.kind === 'attr' && isParametersMethod(e.callee.name) && e.args.length === 0) {
    return exprKey(e.callee.object) ?? 'model';
  }
  if (e.kind === 'call' && e.callee.kind === 'name' && (e.callee.name === 'filter' || e.callee.name === 'list') && e.args.length >= 1) {
    return wholeModelRoot(e.args[e.args.length - 1]);
  }
  if (e.kind === 'attr' && TRAINABLE_WEIGHT_LISTS.has(e.name)) return exprKey(e.object);
  return undefined;
}

/**
 * Whether a decay setting may reach a penalty's parameters. Only a param group says otherwise: its
 * `params` name submodules or weights of a model (`model.item_bias.parameters()`,
 * `list(model.fc.parameters()) + [model.out.weight]`), and none of them is, contains or lies in a
 * layer the penalty sums over (`self.user_vecs.weight[u]`), compared by their attribute paths below
 * the model. Anything else the group holds may be any parameter.
 */
export function decayReaches(setting: DecaySetting, penalty: LossPenaltyFact): boolean {
  if (!setting.group) return true;
  const groupPaths = layerPaths(setting.group.params, setting.group.ctx.scope, setting.group.ctx.at, 0);
  if (!groupPaths) return true;
  const penaltyPaths = penalty.params.map((o) => attributePath(o.base));
  const within = (a: string[], b: string[]): boolean => a.every((name, i) => b[i] === name);
  return penaltyPaths.some((pp) => !pp || pp.length === 0 || groupPaths.some((gp) => gp.length === 0 || within(gp, pp) || within(pp, gp)));
}

/** The attributes below the root object: `self.user_vecs.weight` → [user_vecs, weight]; undefined for anything but a chain of attributes on a name. */
function attributePath(e: Expr): string[] | undefined {
  const names: string[] = [];
  let x = e;
  while (x.kind === 'attr') {
    names.unshift(x.name);
    x = x.object;
  }
  return x.kind === 'name' ? names : undefined;
}

/** The model parts a group's `params` lists, as attribute paths, or undefined when it holds anything else. */
function layerPaths(e: Expr, scope: Scope, at: number, depth: number): string[][] | undefined {
  if (depth > 4) return undefined;
  if (e.kind === 'binary' && e.op === '+') {
    const left = layerPaths(e.left, scope, at, depth + 1);
    const right = left && layerPaths(e.right, scope, at, depth + 1);
    return left && right ? [...left, ...right] : undefined;
  }
  if (e.kind === 'seq') {
    const all: string[][] = [];
    for (const item of e.items) {
      const paths = layerPaths(item, scope, at, depth + 1);
      if (!paths) return undefined;
      all.push(...paths);
    }
    return all;
  }
  if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'list' && e.args.length === 1) return layerPaths(e.args[0], scope, at, depth + 1);
  if (e.kind === 'call' && e.callee.kind === 'attr' && isParametersMethod(e.callee.name) && e.args.length === 0) {
    const path = attributePath(e.callee.object);
    return path ? [path] : undefined;
  }
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    return b?.kind === 'assign' && b.value && !b.op ? layerPaths(b.value, b.scope, b.at, depth + 1) : undefined;
  }
  if (e.kind === 'attr') {
    const path = attributePath(e);
    // A weight of a layer (`model.fc.weight`): at least a layer and its weight below the model.
    return path && path.length >= 2 ? [path] : undefined;
  }
  return undefined;
}

/** A coefficient that reads as a decay rate: a non-learning-rate symbol, or a number below 1. */
function decayLike(c: Coef): boolean {
  if (c.syms.some((s) => s.pow > 0 && !isLearningRateName(s.name))) return true;
  return c.syms.length === 0 ? Math.abs(c.num) > 0 && Math.abs(c.num) < 1 : c.syms.every((s) => isLearningRateName(s.name)) && Math.abs(c.num) > 0 && Math.abs(c.num) < 1;
}

/** What a comprehension's `if` clauses leave out: nothing, normalization weights by name only, or anything else. */
type Filter = { kind: 'none' } | { kind: 'norms'; span: Span } | { kind: 'other' };
const NO_FILTER: Filter = { kind: 'none' };
const OTHER_FILTER: Filter = { kind: 'other' };

function joinFilters(a: Filter, b: Filter): Filter {
  if (a.kind === 'other' || b.kind === 'other') return OTHER_FILTER;
  return a.kind === 'norms' ? a : b;
}

/**
 * A comprehension's filter: `norms` when every condition leaves out a normalization name fragment
 * from the element's name (`for n, p in model.named_parameters() if 'bn' not in n`, `for v in
 * tf.trainable_variables() if 'batch_normalization' not in v.name`), joined by `and`.
 */
function comprehensionFilter(e: Expr & { kind: 'comprehension' }): Filter {
  if (!e.filtered) return NO_FILTER;
  const conditions = e.conditions ?? [];
  if (conditions.length === 0 || e.generators.length !== 1) return OTHER_FILTER;
  const target = e.generators[0].target;
  // The element's name: the first of `(name, param)` pairs, or a variable's `.name`.
  const isName = (x: Expr): boolean => {
    if (target.kind === 'seq' && target.items.length === 2 && target.items[0].kind === 'name') return x.kind === 'name' && x.name === target.items[0].name;
    if (target.kind === 'name') return x.kind === 'attr' && x.name === VARIABLE_NAME_ATTRIBUTE && x.object.kind === 'name' && x.object.name === target.name;
    return false;
  };
  const excludesNorm = (fragment: Expr, subject: Expr): boolean => fragment.kind === 'str' && isNormWeightFragment(fragment.value) && isName(subject);
  const onlyNorms = (c: Expr): boolean => {
    if (c.kind === 'other' && c.ops && c.ops.length > 0 && c.ops.every((o) => o === 'and')) return c.children.every(onlyNorms);
    if (c.kind === 'other' && c.ops?.length === 1 && c.ops[0] === 'not in' && c.children.length === 2) return excludesNorm(c.children[0], c.children[1]);
    if (c.kind === 'unary' && c.op === 'not' && c.arg.kind === 'other' && c.arg.ops?.length === 1 && c.arg.ops[0] === 'in' && c.arg.children.length === 2) return excludesNorm(c.arg.children[0], c.arg.children[1]);
    return false;
  };
  if (!conditions.every(onlyNorms)) return OTHER_FILTER;
  return { kind: 'norms', span: { start: conditions[0].span.start, end: conditions[conditions.length - 1].span.end } };
}
