// NB204 decay-on-bias-and-norm: optimizer weight decay over every parameter of a model, so
// biases and normalization scales and shifts are decayed too.
//
// ## What it does
// Flags an explicit nonzero weight decay on torch optimizers given `model.parameters()` whole
// (no param groups), on Keras optimizers without `exclude_from_weight_decay`, and on optax
// `adamw`/`adamaxw`/`nadamw` (and `add_decayed_weights` in a chain) without `mask`. For torch and
// Keras, only when the model the decay reaches is seen to own a bias or normalization weights
// (facts/decayTargets.ts); for optax, when a flax or Haiku layer with a bias or normalization
// weights is built in the file or a project file it imports. Also an L2
// penalty added to the loss that sums over every parameter with no filter
// (`wd * sum((p ** 2).sum() for p in model.parameters())`, `tf.add_n([tf.nn.l2_loss(v) for v in
// tf.trainable_variables()])`), when those parameters are seen to include a bias or norm weights,
// or a filter leaves out only normalization weights by name (`'bn' not in n`) and a bias is seen.
// A no-decay group chosen by parameter name whose tests miss the model's norm layers
// (facts/nameFilteredDecay.ts). And a hand-written step that shrinks a whole parameter while the cost's penalty exempts its first
// row or column (`theta[1:]`, the intercept): the decay reaches the entry the cost leaves out.
//
// ## Why is this bad?
// Decaying biases and BatchNorm/LayerNorm γ, β constrains nothing useful (they hold no
// capacity to overfit) and can hurt; the common recipes exclude them.
import { defineRule } from './rule';
import { formatNumber, writtenWithValue } from '../math/print/format';
import { frameworkFacts } from '../engine/facts/frameworks';
import { decayExemptLayerOf, decayReachOf, jaxDecayTargets, modelExemptLayerOf, modelReachOf, penaltyExemptLayerOf, penaltyReachOf, type DecayExemptLayer, type DecayReach } from '../engine/facts/decayTargets';
import type { Facts } from '../engine/facts';
import { exemptSliceDecays } from '../engine/facts/exemptSliceDecay';
import { isWholeAxis } from '../engine/facts/keys';
import { helperBuiltConstructions, helperOptimizers } from '../engine/facts/helperOptimizers';
import { missedNormFilters } from '../engine/facts/nameFilteredDecay';
import { shapeRoutedDecays } from '../engine/facts/shapeRoutedDecay';

export const nb204DecayOnBiasAndNorm = defineRule({
  meta: {
    code: 'NB204',
    name: 'decay-on-bias-and-norm',
    severity: 'hint',
    summary: 'Weight decay over all parameters also decays biases and normalization weights',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    const fw = frameworkFacts(facts);
    // An exclusion on an optimizer we cannot resolve may be this one: stay silent for Keras then.
    const unresolvedExclusion = fw.excludeCalls.some((e) => !e.optimizer);
    const viaHelper = helperBuiltConstructions(facts);
    for (const opt of fw.optimizers) {
      const setting = opt.decay.find((d) => d.source === 'argument' && d.value !== undefined && d.value > 0);
      if (!setting?.arg) continue;
      const text = facts.source(setting.arg.expr.span);
      const wd = writtenWithValue(text, setting.value, setting.arg.expr.kind === 'num');
      const value = formatNumber(setting.value!);
      if (opt.framework === 'torch') {
        if (opt.groups || !opt.wholeModel || viaHelper.has(opt.call)) continue;
        const layer = decayExemptLayerOf(facts, opt);
        if (!layer) continue;
        const params = facts.source(opt.params!.span);
        context.report({
          related: [evidence(layer, facts.source(layer.call.span))],
          span: setting.arg.span,
          message:
            `weight_decay=${wd} applies to every tensor in ${params}, ${reached(facts, decayReachOf(facts, opt), layer)} included; ` +
            `these are usually left undecayed. Pass two parameter groups instead: {'params': decay, 'weight_decay': ${value}} and ` +
            `{'params': no_decay, 'weight_decay': 0.0}, with no_decay the parameters where p.ndim <= 1.`,
        });
      } else if (opt.framework === 'keras' && !opt.legacy) {
        if (unresolvedExclusion || fw.excludeCalls.some((e) => e.optimizer === opt.call)) continue;
        const layer = decayExemptLayerOf(facts, opt);
        if (!layer) continue;
        const reach = decayReachOf(facts, opt);
        context.report({
          related: [evidence(layer, facts.source(layer.call.span))],
          span: setting.arg.span,
          message:
            `weight_decay=${wd} decays every trainable variable, ${reachedKeras(facts, reach, layer)} included. ` +
            `Exclude them before training: optimizer.exclude_from_weight_decay(var_names=[${kerasNames(reach, layer)}]).`,
        });
      } else if (opt.framework === 'optax' && !opt.mask) {
        const jax = jaxDecayTargets(facts);
        const layer = jax.layer ?? jax.leaf;
        if (!layer) continue;
        context.report({
          related: [evidence(layer, facts.source(layer.call.span))],
          span: setting.arg.span,
          message:
            `optax.${opt.name}(weight_decay=${wd}) without mask decays every leaf of the parameter pytree, ${reached(facts, { bias: !!jax.bias, norm: jax.norm }, layer)} included. ` +
            `Pass mask=lambda params: jax.tree_util.tree_map(lambda p: p.ndim > 1, params) to decay only the weight matrices and kernels.`,
        });
      }
    }
    // A torch optimizer a helper builds over the whole model this file hands it; once per
    // construction (the first call that decays a model with biases or norms).
    const reported = new Set<string>();
    for (const helper of helperOptimizers(facts)) {
      const { opt } = helper;
      const setting = helper.decay.find((d) => d.source === 'argument' && d.value !== undefined && d.value > 0);
      if (opt.framework !== 'torch' || !setting?.arg || opt.groups || !helper.model) continue;
      const key = `${setting.arg.span.start}:${setting.arg.span.end}`;
      if (reported.has(key)) continue;
      const layer = modelExemptLayerOf(facts, helper.model, helper.ctx.scope, helper.ctx.at);
      if (!layer) continue;
      reported.add(key);
      const text = facts.source(setting.arg.expr.span);
      const value = formatNumber(setting.value!);
      const wd = writtenWithValue(text, setting.value, setting.arg.expr.kind === 'num');
      context.report({
        related: [{ span: helper.call.span, message: 'the optimizer is built over this model here' }, evidence(layer, facts.source(layer.call.span))],
        span: setting.arg.span,
        message:
          `weight_decay=${wd} applies to every tensor in ${facts.source(opt.params!.span)}, ${reached(facts, modelReachOf(facts, helper.model, helper.ctx.scope, helper.ctx.at), layer)} included; ` +
          `these are usually left undecayed. Pass two parameter groups instead: {'params': decay, 'weight_decay': ${value}} and ` +
          `{'params': no_decay, 'weight_decay': 0.0}, with no_decay the parameters where p.ndim <= 1.`,
      });
    }
    for (const chain of fw.chains) {
      for (const el of chain.elements) {
        if (el.kind !== 'decay' || el.masked || !el.decay || el.decay.value === undefined || el.decay.value <= 0) continue;
        // A chain is judged on the flax or Haiku modules the project builds.
        const jax = jaxDecayTargets(facts);
        const layer = jax.layer;
        if (!layer) break;
        context.report({
          related: [evidence(layer, facts.source(layer.call.span))],
          span: (el.call ?? el.decay.expr).span,
          message:
            `optax.add_decayed_weights(${facts.source(el.decay.expr.span)}) without mask decays every leaf of the parameter pytree, ${reached(facts, { bias: !!jax.bias, norm: jax.norm }, layer)} included. ` +
            `Pass mask=lambda params: jax.tree_util.tree_map(lambda p: p.ndim > 1, params) to decay only the weight matrices and kernels.`,
        });
      }
    }
    // A hand-written step that shrinks the whole parameter while the cost penalizes it without its
    // first row or column (the intercept θ₀): the decay reaches the one entry the penalty exempts.
    for (const d of exemptSliceDecays(facts)) {
      const target = facts.source(d.target.span);
      const slice = facts.source(d.slice.span);
      const columns = isWholeAxis(d.slice.index[0]);
      const kept = `${target}${columns ? '[:, 1:]' : '[1:]'}`;
      const first = `${target}${columns ? '[:, 0]' : '[0]'}`;
      context.report({
        related: [{ span: d.penalty, message: `the penalty sums over ${slice} only: ${first} (the intercept) is exempt` }],
        span: d.span,
        message:
          `This step decays all of ${target}, ${first} included, but the cost's penalty exempts ${first} (it sums over ${slice} only): ` +
          `the intercept is shrunk toward 0 by a decay the cost does not ask for. Decay only the penalized entries (${kept}), or penalize ${first} in the cost too.`,
      });
    }
    // A no-decay group chosen by name whose tests miss the model's own norm layers (`"_bn" in name`
    // beside a model whose norms are `bn1`, `norm`): their scales stay in the decayed group.
    for (const m of missedNormFilters(facts)) {
      const filter = facts.source(m.filter.span);
      const layer = facts.source(m.layer.call.span);
      const short = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);
      context.report({
        related: [
          ...(m.call ? [{ span: m.call.span, message: 'the parameter groups are built for this model here' }] : []),
          { span: m.layer.call.span, message: `${short(layer)}: its scale is named ...${m.name}, which the filter does not match` },
        ],
        span: m.filter.span,
        message:
          `This name filter (${short(filter)}) is meant to keep biases and normalization weights out of weight decay, but the model's ` +
          `${facts.source(m.layer.call.callee.span)} scale is named ...${m.name}, which it does not match: that scale is decayed with weight_decay=${formatNumber(m.decay)}. ` +
          `Filter by shape instead (p.ndim <= 1 for biases and norm weights), or by module type.`,
      });
    }
    // A split whose shape test sends the one-dimensional tensors to the decayed optimizer or group
    // (the Muon/AdamW hybrid's fallback): only the biases and norm scales are decayed there.
    for (const r of shapeRoutedDecays(facts)) {
      const cond = facts.source(r.cond.span).replace(/\s+/g, ' ');
      const short = cond.length > 60 ? `${cond.slice(0, 57)}...` : cond;
      const written = facts.source(r.decay.expr.span);
      const wd = r.value !== undefined ? writtenWithValue(written, r.value, r.decay.expr.kind === 'num') : written;
      const matrices = r.other
        ? r.undecayed
          ? ` The matrices go to ${r.other}, whose ${facts.source(r.undecayed.call.callee.span)} decays nothing: the decay reaches only the tensors it should spare.`
          : ` The matrices go to ${r.other}.`
        : '';
      context.report({
        related: [
          { span: r.cond.span, message: `its shape test alone decides it for a one-dimensional tensor, which goes to ${r.list}` },
          ...(r.undecayed ? [{ span: r.undecayed.call.span, message: `${r.other} is optimized here with no weight decay` }] : []),
        ],
        span: r.decay.span,
        message:
          `weight_decay=${wd} decays ${r.list}${r.value === undefined ? ` (whenever ${written} is positive)` : ''}, and the test (${short}) sends every one-dimensional tensor there: any bias and any normalization scale or shift is decayed.${matrices} ` +
          `Give ${r.list} weight_decay=0.0 (or split it again by p.ndim <= 1), and decay the weight matrices instead.`,
      });
    }
    for (const pen of fw.lossPenalties) {
      const layer = penaltyExemptLayerOf(facts, pen);
      if (!layer || !pen.over) continue;
      const collection = facts.source(pen.over.collection.span);
      // A model method's own `self.parameters()`: name the model the loss calls it on.
      const over = pen.over.receiver ? `${facts.source(pen.over.receiver.expr.span)} (${collection} in the method the loss calls)` : collection;
      if (pen.over.normsExcluded) {
        const filter = facts.source(pen.over.normsExcluded);
        context.report({
          related: [evidence(layer, facts.source(layer.call.span))],
          span: pen.span,
          message:
            `This L2 penalty leaves out normalization weights by name (${filter.length > 60 ? `${filter.slice(0, 57)}...` : filter}) but still sums over the biases of ${over}; ` +
            `weight decay is usually kept off them too. Filter by shape instead: the tensors with ndim > 1 (len(v.shape) > 1) are the weight matrices and kernels.`,
        });
        continue;
      }
      context.report({
        related: [evidence(layer, facts.source(layer.call.span))],
        span: pen.span,
        message:
          `This L2 penalty sums over every tensor of ${over}, ${reached(facts, penaltyReachOf(facts, pen), layer)} included; ` +
          `weight decay is usually kept off them. Sum over the weight matrices and kernels only, e.g. the tensors with ndim > 1 (len(v.shape) > 1).`,
      });
    }
  },
});

function evidence(layer: DecayExemptLayer, written: string): { span: DecayExemptLayer['call']['span']; message: string } {
  const short = written.length > 60 ? `${written.slice(0, 57)}...` : written;
  return {
    span: layer.call.span,
    message:
      layer.kind === 'bias'
        ? `${short} has a bias, which this decay shrinks too`
        : layer.kind === 'vector'
          ? `${short} is a one-dimensional variable (a bias or scale), which this decay shrinks too`
          : `${short} has normalization weights (scale and shift), which this decay shrinks too`,
  };
}

/**
 * What the decay reaches, as far as the code shows: biases, and a normalization layer's scale and
 * shift only when the model builds one (named as written); one-dimensional tensors when the
 * evidence is only such a variable or leaf.
 */
function reached(facts: Facts, reach: DecayReach, layer: DecayExemptLayer): string {
  const bias = reach.bias || layer.kind === 'bias';
  const norm = reach.norm ?? (layer.kind === 'norm' ? layer : undefined);
  const parts: string[] = [];
  if (bias) parts.push('biases');
  if (norm) parts.push(`normalization scales and shifts (${facts.source(norm.call.callee.span)})`);
  if (parts.length === 0) return 'one-dimensional tensors (biases or scales)';
  return parts.join(' and ');
}

function reachedKeras(facts: Facts, reach: DecayReach, layer: DecayExemptLayer): string {
  const norm = reach.norm ?? (layer.kind === 'norm' ? layer : undefined);
  const bias = reach.bias || layer.kind === 'bias';
  const parts: string[] = [];
  if (bias) parts.push('biases');
  if (norm) parts.push(`the gamma and beta of ${facts.source(norm.call.callee.span)}`);
  return parts.length > 0 ? parts.join(' and ') : 'one-dimensional variables (biases or scales)';
}

function kerasNames(reach: DecayReach, layer: DecayExemptLayer): string {
  const norm = !!reach.norm || layer.kind === 'norm';
  const bias = reach.bias || layer.kind === 'bias' || !norm;
  return [...(bias ? ["'bias'"] : []), ...(norm ? ["'gamma'", "'beta'"] : [])].join(', ');
}
