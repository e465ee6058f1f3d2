// What an optimizer's weight decay reaches (NB204): whether the parameters it is given include a
// bias or normalization weights, as far as the code shows.
//
// The parameters are a model's (`model.parameters()`, `model.trainable_variables`, the model a
// Keras optimizer is compiled into); the model is resolved by the one model resolution of
// facts/loops.ts (variables, `self`, Sequential and Functional models, classes and builder
// functions in any file of the program), asked for the first layer that owns a bias or
// normalization weights (facts/catalogue.ts `layerDecayExempt`). Bare variables, a model that
// comes from an unknown function or package, and a parameter passed in give no answer.
import type { Expr } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { isSelfName } from './resolve';
import type { Scope } from './scope';
import { programIndex, walkAll, type CallSite } from './program';
import { KERAS_COMPILE, KERAS_OPTIMIZER_VARIABLES, TRAINABLE_WEIGHT_LISTS, frameworkPath, isJaxLayerPath, isJaxVectorConstructor, isParametersMethod, isTf1LayerCall, isTf1TrainableVariables, isTf1VariableCall, knownLayerSpec, layerDecayExempt, tf1LayerDecayExempt, tf1VariableShape } from './catalogue';
import { REGULARIZED_PROBE, trainingFacts, type Call, type LayerProbe, type TrainingFacts } from './loops';
import { frameworkFacts, type LossPenaltyFact, type OptimizerFact, type RegularizerFact } from './frameworks';
import { l2AtModelBuild } from './regularizerAtBuild';

export interface DecayExemptLayer {
  /** The layer construction: `nn.Linear(128, 10)`, `layers.BatchNormalization()`. */
  call: Call;
  /** `vector`: a one-dimensional TF1 variable (`tf.get_variable('b', [10])`), a bias or a scale. */
  kind: 'bias' | 'norm' | 'vector';
}

function pathAt(t: TrainingFacts, site: CallSite): string[] | undefined {
  const facts = t.facts;
  return frameworkPath(site.call.callee, site.scope, site.at, facts.scopes.imports, facts.language === 'python' ? 'python' : 'script');
}

function argOf(call: Call): (name: string, position?: number) => Expr | undefined {
  return (name, position) => {
    const kw = call.kwargs.find((k) => k.name === name);
    if (kw) return kw.value;
    if (position === undefined) return undefined;
    for (let i = 0; i <= position && i < call.args.length; i++) if (call.args[i].kind === 'other' || call.args[i].kind === 'object') return undefined;
    return call.args[position];
  };
}

/** The layer a call builds when it owns a bias or normalization weights (nameFilteredDecay.ts reads the norms). */
export function layerAt(t: TrainingFacts, site: CallSite): DecayExemptLayer | undefined {
  const path = pathAt(t, site);
  const kind = path && layerDecayExempt(path, argOf(site.call));
  return kind ? { call: site.call, kind } : undefined;
}

function inSpan(t: TrainingFacts, span: { start: number; end: number }): DecayExemptLayer | undefined {
  for (const site of t.callsIn(span)) {
    const layer = layerAt(t, site);
    if (layer) return layer;
  }
  return undefined;
}

/** Layers that own a bias or normalization weights. */
export const DECAY_EXEMPT_PROBE: LayerProbe<DecayExemptLayer> = {
  id: 'decay-exempt',
  inSpan,
  inUnit: (t, unit) => inSpan(t, unit.span),
  isLayer: (t, c) => {
    const site = t.callsIn(c.span).find((s) => s.call === c);
    const path = site && pathAt(t, site);
    return !!path && knownLayerSpec(path) !== undefined;
  },
};

function biasIn(t: TrainingFacts, span: { start: number; end: number }): DecayExemptLayer | undefined {
  for (const site of t.callsIn(span)) {
    const layer = layerAt(t, site);
    if (layer?.kind === 'bias') return layer;
  }
  return undefined;
}

/** Layers that own a bias (normalization layers aside): what a filter of norm weights by name still decays. */
export const BIAS_PROBE: LayerProbe<DecayExemptLayer> = {
  id: 'bias',
  inSpan: biasIn,
  inUnit: (t, unit) => biasIn(t, unit.span),
  isLayer: DECAY_EXEMPT_PROBE.isLayer,
};

function normIn(t: TrainingFacts, span: { start: number; end: number }): DecayExemptLayer | undefined {
  for (const site of t.callsIn(span)) {
    const layer = layerAt(t, site);
    if (layer?.kind === 'norm') return layer;
  }
  return undefined;
}

/** Normalization layers (a scale and a shift): what the message names besides biases, only when the model builds one. */
export const NORM_PROBE: LayerProbe<DecayExemptLayer> = {
  id: 'norm',
  inSpan: normIn,
  inUnit: (t, unit) => normIn(t, unit.span),
  isLayer: DECAY_EXEMPT_PROBE.isLayer,
};

/**
 * What a decay over a whole model is seen to reach, for the message to name only that: whether the
 * model builds a layer with a bias, and the first normalization layer it builds.
 */
export interface DecayReach {
  bias: boolean;
  norm?: DecayExemptLayer;
}

function reachOfModels(t: TrainingFacts, models: Iterable<{ model: Expr; scope: Scope; at: number }>): DecayReach {
  const reach: DecayReach = { bias: false };
  for (const m of models) {
    if (!reach.bias) reach.bias = t.modelProbe(BIAS_PROBE, m.model, m.scope, m.at).kind === 'found';
    if (!reach.norm) {
      const status = t.modelProbe(NORM_PROBE, m.model, m.scope, m.at);
      if (status.kind === 'found') reach.norm = status.layer;
    }
  }
  return reach;
}

/** `model.parameters()`, `filter(f, model.parameters())`, `list(...)`, `model.trainable_variables` → `model`. */
function modelOfParams(e: Expr, depth = 0): Expr | undefined {
  if (depth > 4) return undefined;
  if (e.kind === 'call' && e.callee.kind === 'attr' && isParametersMethod(e.callee.name) && e.args.length === 0) return e.callee.object;
  if (e.kind === 'call' && e.callee.kind === 'name' && (e.callee.name === 'filter' || e.callee.name === 'list') && e.args.length >= 1) return modelOfParams(e.args[e.args.length - 1], depth + 1);
  if (e.kind === 'attr' && TRAINABLE_WEIGHT_LISTS.has(e.name)) return e.object;
  return undefined;
}

/** Whether an expression is the optimizer's construction, directly or through the variables it is assigned to. */
function refersTo(e: Expr | undefined, opt: OptimizerFact, scope: Scope, at: number, depth = 0): boolean {
  if (!e || depth > 4) return false;
  if (e === opt.call) return true;
  if (e.kind !== 'name' && e.kind !== 'attr') return false;
  const key = exprKey(e);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  return !!(b?.kind === 'assign' && b.value && !b.op && refersTo(b.value, opt, b.scope, b.at, depth + 1));
}

/**
 * The first layer with a bias or normalization weights among the parameters an optimizer decays:
 * a torch optimizer's `model.parameters()`; the model a Keras optimizer is compiled into
 * (`model.compile(optimizer=opt)`), or whose weights it is given (`opt.apply_gradients(zip(g,
 * model.trainable_variables))`, `opt.minimize(loss, var_list=...)`, `opt.build(...)`).
 * Undefined when none is known.
 */
export function decayExemptLayerOf(facts: Facts, opt: OptimizerFact): DecayExemptLayer | undefined {
  const t = trainingFacts(facts);
  for (const m of decayedModels(facts, opt)) {
    const status = t.modelProbe(DECAY_EXEMPT_PROBE, m.model, m.scope, m.at);
    if (status.kind === 'found') return status.layer;
  }
  return undefined;
}

/** What an optimizer's decay is seen to reach (decayExemptLayerOf's models): biases, a normalization layer. */
export function decayReachOf(facts: Facts, opt: OptimizerFact): DecayReach {
  return reachOfModels(trainingFacts(facts), decayedModels(facts, opt));
}

function* decayedModels(facts: Facts, opt: OptimizerFact): Generator<{ model: Expr; scope: Scope; at: number }> {
  if (opt.framework === 'torch') {
    const model = opt.params && modelOfParams(opt.params);
    if (model) yield { model, scope: opt.ctx.scope, at: opt.ctx.at };
    return;
  }
  if (opt.framework === 'keras') yield* kerasOptimizerModels(facts, opt);
}

/**
 * The models a Keras optimizer trains, where they are read: the model it is compiled into
 * (`model.compile(optimizer=opt)`), and the models whose variables it is given
 * (`opt.apply_gradients(zip(grads, model.trainable_variables))`, `opt.minimize(loss, var_list=...)`).
 */
export function* kerasOptimizerModels(facts: Facts, opt: OptimizerFact, compiledOnly = false): Generator<{ model: Expr; scope: Scope; at: number }> {
  const t = trainingFacts(facts);
  const index = programIndex(facts);
  for (const site of index.callsNamed(KERAS_COMPILE.method)) {
    const c = site.call;
    if (c.callee.kind !== 'attr') continue;
    const given = c.kwargs.find((k) => k.name === KERAS_COMPILE.optimizer)?.value ?? c.args[KERAS_COMPILE.position];
    if (!refersTo(given, opt, site.scope, site.at)) continue;
    yield { model: c.callee.object, scope: site.scope, at: site.at };
  }
  if (compiledOnly) return;
  for (const [method, arg] of Object.entries(KERAS_OPTIMIZER_VARIABLES)) {
    for (const site of index.callsNamed(method)) {
      const c = site.call;
      if (c.callee.kind !== 'attr' || !refersTo(c.callee.object, opt, site.scope, site.at)) continue;
      const vars = c.kwargs.find((k) => k.name === arg.name)?.value ?? c.args[arg.position];
      if (!vars) continue;
      for (const model of t.sourceModels(vars, site.scope, site.at)) yield { model, scope: site.scope, at: site.at };
    }
  }
}

/**
 * A Keras regularizer with an L2 part on a layer weight of a model a Keras optimizer is compiled into, found
 * through the model's builders in any file (`conv_bn(x, filters, wd)` in `models/net.py`): the
 * first regularized layer the model builds, when its regularizer is such an L2.
 */
export function kerasModelL2(facts: Facts, opt: OptimizerFact): RegularizerFact | undefined {
  if (opt.framework !== 'keras' && opt.framework !== 'tfa') return undefined;
  const t = trainingFacts(facts);
  // Compiled models only: `fit` adds the layers' penalties to the loss, a custom loop may leave them out (NB301).
  for (const m of kerasOptimizerModels(facts, opt, true)) {
    const status = t.modelProbe(REGULARIZED_PROBE, m.model, m.scope, m.at);
    if (status.kind !== 'found' || status.layer.style !== 'keras') continue;
    const layer = status.layer.call.span;
    const parsed = facts.program.parsedOf(layer);
    if (!parsed) continue;
    const reg = frameworkFacts(facts.program.facts(parsed)).regularizers.find(
      (r) => r.framework === 'keras' && r.l2.value !== 0 && !(r.versionDependent && !r.l2.given) && r.attachments.some((a) => a.weight && layer.start <= a.span.start && a.span.end <= layer.end),
    );
    // `model = build(784, reg=0.0)`: the builder's L2 is switched off for this model.
    if (reg && l2AtModelBuild(facts, reg, layer, m.model, m.scope, m.at) !== 0) return reg;
  }
  return undefined;
}

/**
 * Whether a Keras regularizer is switched off for every model a Keras optimizer is compiled into: each is built
 * by a call of the regularizer's builder that gives its strength 0 (`model = build(784, reg=0.0)`).
 */
export function kerasL2OffForOptimizer(facts: Facts, opt: OptimizerFact, reg: RegularizerFact): boolean {
  const models = [...kerasOptimizerModels(facts, opt, true)];
  return models.length > 0 && models.every((m) => l2AtModelBuild(facts, reg, reg.expr.span, m.model, m.scope, m.at) === 0);
}

/** The first layer with a bias or normalization weights of a model expression read at `scope`/`at` (a helper's optimizer, seen from the call that hands it the model). */
export function modelExemptLayerOf(facts: Facts, model: Expr, scope: Scope, at: number): DecayExemptLayer | undefined {
  const status = trainingFacts(facts).modelProbe(DECAY_EXEMPT_PROBE, model, scope, at);
  return status.kind === 'found' ? status.layer : undefined;
}

/** What a model expression read at `scope`/`at` is seen to own: biases, a normalization layer. */
export function modelReachOf(facts: Facts, model: Expr, scope: Scope, at: number): DecayReach {
  return reachOfModels(trainingFacts(facts), [{ model, scope, at }]);
}

/**
 * What a loss penalty over a whole model's tensors is seen to reach (penaltyExemptLayerOf's model,
 * or TF1's graph): biases (a one-dimensional variable counts as one), a normalization layer.
 */
export function penaltyReachOf(facts: Facts, pen: LossPenaltyFact): DecayReach {
  if (!pen.over) return { bias: false };
  const { collection, scope, at } = pen.over;
  const t = trainingFacts(facts);
  const model = modelOfParams(collection);
  if (model) {
    const receiver = pen.over.receiver;
    if (receiver) return model.kind === 'name' && isSelfName(model.name) ? reachOfModels(t, [{ model: receiver.expr, scope: receiver.scope, at: receiver.at }]) : { bias: false };
    return reachOfModels(t, [{ model, scope, at }]);
  }
  // TF1: the graph penaltyExemptLayerOf reads.
  const own = pen.ctx.owner.span;
  const span = t.callsIn(own).some((site) => { const p = pathAt(t, site); return !!p && (isTf1LayerCall(p) || isTf1VariableCall(p)); }) ? own : facts.scopes.root.span;
  const reach: DecayReach = { bias: tf1ExemptIn(t, span, true) !== undefined };
  for (const site of t.callsIn(span)) {
    const p = pathAt(t, site);
    if (!reach.norm && p && tf1LayerDecayExempt(p, argOf(site.call)) === 'norm') reach.norm = { call: site.call, kind: 'norm' };
  }
  return reach;
}

/**
 * The first layer with a bias or normalization weights among the tensors a loss penalty sums over
 * with no filter (LossPenaltyFact.over): the model of `model.parameters()` /
 * `model.trainable_variables`, probed as for optimizers; for TF1 `tf.trainable_variables()`, the
 * first call in the file that creates a bias or normalization variables (`tf.layers.dense`,
 * `slim.conv2d` with default biases, `tf.layers.batch_normalization`) or a one-dimensional
 * variable (`tf.get_variable('b', [10])`, `tf.Variable(tf.zeros([10]))`). Undefined when none is seen.
 */
export function penaltyExemptLayerOf(facts: Facts, pen: LossPenaltyFact): DecayExemptLayer | undefined {
  if (!pen.over) return undefined;
  const { collection, scope, at } = pen.over;
  const t = trainingFacts(facts);
  // A filter that leaves out norm weights by name still keeps the biases: only a bias is evidence then.
  const biasesOnly = pen.over.normsExcluded !== undefined;
  const model = modelOfParams(collection);
  if (model) {
    // A model method's `self.parameters()`: the model the caller runs it on.
    const receiver = pen.over.receiver;
    if (receiver) {
      // Anything else a method sums over (`self.model.parameters()`) is read in the method's file: not followed.
      if (model.kind !== 'name' || !isSelfName(model.name)) return undefined;
      const status = t.modelProbe(biasesOnly ? BIAS_PROBE : DECAY_EXEMPT_PROBE, receiver.expr, receiver.scope, receiver.at);
      return status.kind === 'found' ? status.layer : undefined;
    }
    const status = t.modelProbe(biasesOnly ? BIAS_PROBE : DECAY_EXEMPT_PROBE, model, scope, at);
    return status.kind === 'found' ? status.layer : undefined;
  }
  if (collection.kind !== 'call' || collection.args.length !== 0) return undefined;
  const path = frameworkPath(collection.callee, scope, at, facts.scopes.imports, facts.language === 'python' ? 'python' : 'script');
  if (!path || !isTf1TrainableVariables(path)) return undefined;
  // The graph the penalty's own function builds; the whole file's only when that function builds no
  // layers or variables itself (a loss written apart from the model).
  const own = pen.ctx.owner.span;
  if (t.callsIn(own).some((site) => { const p = pathAt(t, site); return !!p && (isTf1LayerCall(p) || isTf1VariableCall(p)); })) return tf1ExemptIn(t, own, biasesOnly);
  return tf1ExemptIn(t, facts.scopes.root.span, biasesOnly);
}

function tf1ExemptIn(t: TrainingFacts, span: { start: number; end: number }, biasesOnly: boolean): DecayExemptLayer | undefined {
  const facts = t.facts;
  for (const site of t.callsIn(span)) {
    const p = pathAt(t, site);
    if (!p) continue;
    const kind = tf1LayerDecayExempt(p, argOf(site.call));
    if (kind === 'bias' || (kind && !biasesOnly)) return { call: site.call, kind };
    // A one-dimensional variable may be a norm's scale, which a filter of norm names leaves out.
    if (biasesOnly) continue;
    const valueCall = (e: Expr) => {
      if (e.kind !== 'call') return undefined;
      const vp = frameworkPath(e.callee, site.scope, site.at, facts.scopes.imports, 'python');
      return vp ? { path: vp, arg: argOf(e) } : undefined;
    };
    const shape = tf1VariableShape(p, argOf(site.call), valueCall);
    if (shape?.kind === 'seq' && shape.items.length === 1) return { call: site.call, kind: 'vector' };
  }
  return undefined;
}

const jaxCache = new WeakMap<Facts, JaxDecayTargets>();

export interface JaxDecayTargets {
  layer?: DecayExemptLayer;
  leaf?: DecayExemptLayer;
  /** Whether some layer has a bias, and the first normalization layer: what the message names. */
  bias?: boolean;
  norm?: DecayExemptLayer;
}

/**
 * What an optax decay without a mask reaches, as far as the project shows (optax transforms know
 * nothing of a model until they are given its parameter pytree): `layer`, the first flax or Haiku
 * layer with a bias or normalization weights (`nn.Dense(128)`, `nn.LayerNorm()`, `hk.Linear(10)`)
 * built in the file or in a project file it imports, directly or not; `leaf`, the first
 * one-dimensional array written as an entry of a hand-built parameter dict (`{'w': ..., 'b':
 * jnp.zeros(n)}`) in those files.
 */
export function jaxDecayTargets(facts: Facts): JaxDecayTargets {
  const known = jaxCache.get(facts);
  if (known) return known;
  const found: JaxDecayTargets = {};
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  for (const parsed of entry ? program.reachable(entry) : []) {
    if (parsed.language !== 'python') continue;
    const f = program.facts(parsed);
    const index = programIndex(f);
    const pathOf = (call: Call): string[] | undefined => {
      const scope = index.scopeAt(call.span.start);
      return frameworkPath(call.callee, scope, call.span.start, f.scopes.imports, 'python');
    };
    if (!found.layer || !found.bias || !found.norm) {
      for (const site of [...index.calls].sort((a, b) => a.call.span.start - b.call.span.start)) {
        const path = frameworkPath(site.call.callee, site.scope, site.at, f.scopes.imports, 'python');
        const kind = path && isJaxLayerPath(path) ? layerDecayExempt(path, argOf(site.call)) : undefined;
        if (!kind) continue;
        found.layer ??= { call: site.call, kind };
        if (kind === 'bias') found.bias = true;
        else found.norm ??= { call: site.call, kind };
        if (found.bias && found.norm) break;
      }
    }
    if (!found.leaf) {
      walkAll(parsed.module.body, (e) => {
        if (found.leaf || e.kind !== 'object') return;
        for (const entry of e.entries) {
          const v = entry.value;
          if (v.kind !== 'call') continue;
          const path = pathOf(v);
          if (path && isJaxVectorConstructor(path, v.kwargs.find((k) => k.name === 'shape')?.value ?? v.args[0])) {
            found.leaf = { call: v, kind: 'vector' };
            return;
          }
        }
      });
    }
    if (found.layer && found.leaf && found.bias && found.norm) break;
  }
  jaxCache.set(facts, found);
  return found;
}
