// NB202 coupled-decay-in-adaptive-optimizer: weight decay added to the gradient before an
// adaptive optimizer's moments, so the adaptive denominator rescales it.
//
// ## What it does
// Finds torch `Adam`, `Adamax`, `NAdam`, `RAdam`, `RMSprop`, `Adagrad` with `weight_decay>0`
// (and no `decoupled_weight_decay=True`), optax chains with `add_decayed_weights` before an
// adaptive transform, hand-written Adam/RMSprop steps that add λ·w to the gradient before the
// second moment, and optax `add_decayed_weights` after the learning-rate scaling (wrong sign).
//
// ## Why is this bad?
// λ·w in the gradient is divided by √v̂ + ε like the rest of it: weights with large gradients are
// barely decayed. It is L2 regularization, not weight decay (Loshchilov & Hutter, Prop. 2).
import { isOptimizerUnderTest } from '../engine/facts/optimizerTests';
import { defineRule, type Report } from './rule';
import { formatNumber } from '../math/print/format';
import type { Facts } from '../engine/facts';
import type { Span } from '../engine/ir';
import { frameworkFacts, type ChainFact, type OptimizerFact } from '../engine/facts/frameworks';
import { TORCH_COUPLED_ADAPTIVE, TORCH_DECOUPLED_FLAG } from '../engine/facts/catalogue';
import { handDecayL2Intent, optimizerL2Intent } from '../engine/facts/decayIntent';
import { inlineAdaptiveDecays } from '../engine/facts/adaptiveDecay';
import { helperBuiltConstructions, helperOptimizers } from '../engine/facts/helperOptimizers';
import { trustRatioDecays } from '../engine/facts/trustRatioDecay';
import { coefSwitchedOff } from '../engine/facts/callerValues';

export const nb202CoupledDecayInAdaptiveOptimizer = defineRule({
  meta: {
    code: 'NB202',
    name: 'coupled-decay-in-adaptive-optimizer',
    severity: 'information',
    summary: 'Weight decay is added to the gradient of an adaptive optimizer (L2 rescaled by the adaptive denominator), not decoupled; or added beside a LARS trust ratio instead of inside it',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    const fw = frameworkFacts(facts);
    const viaHelper = helperBuiltConstructions(facts);
    for (const opt of fw.optimizers) {
      if (opt.framework !== 'torch' || !TORCH_COUPLED_ADAPTIVE.has(opt.name) || opt.decoupled || viaHelper.has(opt.call)) continue;
      const flag = opt.arg('decoupled_weight_decay');
      if (flag && !(flag.expr.kind === 'name' && flag.expr.name === 'False')) continue;
      const setting = opt.decay.find((d) => d.arg && d.value !== undefined && d.value > 0);
      if (!setting?.arg) continue;
      // Coupled L2 the code asks for (a source named or documented as L2, an Adam-vs-AdamW comparison) is not a mistake.
      if (optimizerL2Intent(facts, opt, setting.arg)) continue;
      // An optimizer a test checks against another implementation: its decay mirrors the one under test.
      if (isOptimizerUnderTest(facts, opt)) continue;
      context.report(torchReport(facts, opt, setting.arg.span, setting.value!));
    }
    // An Adam a helper builds, with the decay this file's call gives it; once per construction
    // (the first call that decays it, for a helper called with several configs).
    const reported = new Set<string>();
    for (const helper of helperOptimizers(facts)) {
      const { opt } = helper;
      if (opt.framework !== 'torch' || !TORCH_COUPLED_ADAPTIVE.has(opt.name) || opt.decoupled) continue;
      const flag = opt.arg('decoupled_weight_decay');
      if (flag && !(flag.expr.kind === 'name' && flag.expr.name === 'False')) continue;
      const setting = helper.decay.find((d) => d.arg && d.value !== undefined && d.value > 0);
      if (!setting?.arg) continue;
      // L2 intent where the helper reads the knob, or where this file gives it (`args.l2`, a documented option).
      if (optimizerL2Intent(helper.helperFacts, opt, setting.arg)) continue;
      if (setting.given && optimizerL2Intent(facts, opt, { ...setting.arg, expr: setting.given, ctx: helper.ctx })) continue;
      const key = `${setting.arg.span.start}:${setting.arg.span.end}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const r = torchReport(facts, opt, setting.arg.span, setting.value!);
      context.report({ ...r, related: [{ span: helper.call.span, message: 'the optimizer is built by this call' }] });
    }
    for (const chain of fw.chains) chainReports(facts, chain).forEach((r) => context.report(r));
    // A decay written in a gradient variable the moments read, or inside the moments' own arithmetic.
    for (const hand of [...fw.handDecays, ...inlineAdaptiveDecays(facts)]) {
      if (hand.kind !== 'coupled' || !hand.adaptive) continue;
      // Next to a loss with the matching penalty, λ·w is that penalty's gradient: deliberate L2, like Keras l2() with Adam.
      if (fw.lossPenalties.some((p) => p.ctx.owner.id === hand.ctx.owner.id)) continue;
      // `grad = dW + lam * W` where every call hands lam=0.0: no decay at all (its loss penalty is dropped alike).
      if (hand.coef && coefSwitchedOff(facts, hand.coef, hand.ctx.scope, hand.ctx.at, (x, scope, at) => fw.evaluate(x, { scope, at, owner: hand.ctx.owner }))) continue;
      // A coefficient named or documented as an L2 penalty (outside a class named for decoupled decay) asks for coupled L2.
      if (handDecayL2Intent(facts, hand)) continue;
      const rate = facts.source(hand.span).replace(/\s+/g, ' ');
      const family = hand.adaptive.firstMoment ? 'Adam step' : 'adaptive step (RMSprop/Adagrad style)';
      context.report({
        span: hand.span,
        message:
          `${rate} adds the weight decay to the gradient before the second moment of this hand-written ${family}, so the decay is divided by √v + ε with the rest of the gradient: ` +
          `coupled L2, not weight decay (Loshchilov & Hutter, Prop. 2). For decoupled decay (AdamW) leave the gradient alone and shrink the weight in the update: ` +
          `w ← w − lr·(m̂/(√v̂ + ε) + λ·w).`,
        related: [{ span: hand.adaptive.secondMoment, message: 'the decayed gradient enters the second moment here' }],
      });
    }
    // LARS with the decay beside its trust ratio instead of inside it.
    for (const t of trustRatioDecays(facts)) {
      const decay = `${t.decay} * ${t.param}`;
      context.report({
        span: t.span,
        severity: 'warning', // a different optimizer than the ratio computes, not a choice between two conventions
        message:
          `The trust ratio ${t.paramNorm}/(${t.gradNorm} + ${t.decay}·${t.paramNorm}) is the layer's learning rate for the direction ${t.gradient} + ${decay} (its denominator is that direction's norm bound), ` +
          `but only ${t.gradient} is scaled by it here: ${decay} is added beside the ratio, unscaled. Relative to the gradient the decay is 1/ratio times stronger than in LARS ` +
          `(about 10³·‖${t.gradient}‖/‖${t.param}‖ for a trust coefficient of 10⁻³), so it dominates the step. Scale both: local_lr * (${t.gradient} + ${decay}) (You et al., LARS, Algorithm 1).`,
        ...(t.normSpan ? { related: [{ span: t.normSpan, message: `the ratio is computed from this norm of ${t.param}` }] } : {}),
      });
    }
  },
});

function torchReport(facts: Facts, opt: OptimizerFact, span: Span, value: number): Report {
  const wd = formatNumber(value);
  const why =
    `${opt.name}(weight_decay=${wd}) adds ${wd}·w to the gradient before the adaptive scaling, so the decay is divided by the adaptive denominator ` +
    `(√v̂ + ε) with the rest of the gradient: weights with large gradients are barely decayed. That is coupled L2 regularization, ` +
    `not weight decay (Loshchilov & Hutter, Prop. 2).`;
  if (opt.name === 'Adam') {
    // With an explicit `decoupled_weight_decay=False`, flip it (AdamW does not take the flag).
    const flag = opt.arg('decoupled_weight_decay');
    const fix = flag
      ? { title: 'Pass decoupled_weight_decay=True (retune weight_decay)', safety: 'unsafe' as const, edits: [{ span: flag.expr.span, newText: 'True' }] }
      : opt.nameSpan && !opt.bareName
        ? { title: 'Use AdamW (decoupled weight decay; retune weight_decay)', safety: 'unsafe' as const, edits: [{ span: opt.nameSpan, newText: 'AdamW' }] }
        : undefined;
    return { span, message: `${why} Use AdamW for decoupled decay, w ← (1 − lr·λ)·w (its λ is on a different scale: retune it).`, fix };
  }
  if (TORCH_DECOUPLED_FLAG.has(opt.name)) {
    const flag = opt.arg('decoupled_weight_decay');
    const last = [...opt.call.args, ...opt.call.kwargs.map((k) => k.value)].reduce<Span | undefined>((a, e) => (!a || e.span.end > a.end ? e.span : a), undefined);
    const edit = flag ? { span: flag.expr.span, newText: 'True' } : last ? { span: { start: last.end, end: last.end }, newText: ', decoupled_weight_decay=True' } : undefined;
    const fix = edit ? { title: 'Pass decoupled_weight_decay=True (retune weight_decay)', safety: 'unsafe' as const, edits: [edit] } : undefined;
    return { span, message: `${why} Pass decoupled_weight_decay=True for decoupled decay, w ← (1 − lr·λ)·w (retune λ).`, fix };
  }
  return { span, message: `${why} For decoupled decay use AdamW, or shrink the weights yourself after each step with p.mul_(1 - lr * wd) and no weight_decay.` };
}

function chainReports(facts: Facts, chain: ChainFact): Report[] {
  const out: Report[] = [];
  const text = (s: Span): string => facts.source(s);
  chain.elements.forEach((e, i) => {
    if (e.kind !== 'decay' || !e.call || !e.decay || e.decay.value === 0) return;
    const before = chain.elements.slice(0, i);
    const flip = before.find((b) => b.kind === 'flip' || b.kind === 'optimizer' || b.kind === 'adaptive-optimizer');
    if (flip?.call) {
      out.push({
        span: e.call.span,
        severity: 'warning', // a sign error, not a design choice
        message:
          `Wrong sign: ${text(e.call.span)} comes after ${text(flip.call.callee.span)}, which already scaled the updates by −learning_rate; ` +
          `it then adds +λ·w, so every step pushes the weights away from zero (the updates are applied as w ← w + u). ` +
          `Move it before the learning-rate scaling: after scale_by_adam for AdamW-style decay, or use optax.adamw(..., weight_decay=λ).`,
        related: [{ span: flip.call.span, message: 'the updates are multiplied by −learning_rate here' }],
      });
      return;
    }
    const adaptive = chain.elements.slice(i + 1).find((a) => a.kind === 'adaptive' || a.kind === 'adaptive-optimizer');
    if (!adaptive?.call) return;
    out.push({
      span: e.call.span,
      message:
        `${text(e.call.span)} comes before ${text(adaptive.call.callee.span)}, so λ·w is added to the gradient and then divided by the adaptive ` +
        `denominator √v̂ + ε: coupled L2, not weight decay (Loshchilov & Hutter, Prop. 2). For decoupled decay put add_decayed_weights after ` +
        `scale_by_adam and before scale_by_learning_rate, or use optax.adamw(..., weight_decay=λ).`,
      related: [{ span: adaptive.call.span, message: 'the adaptive scaling that rescales the decay' }],
    });
  });
  return out;
}
