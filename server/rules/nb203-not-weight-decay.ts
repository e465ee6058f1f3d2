// NB203 not-weight-decay: an optimizer argument that reads like weight decay but is something else.
//
// ## What it does
// Flags Keras `decay=` (learning-rate decay in Keras 2; ignored by Keras 3, an error in new
// tf.keras), torch `Adagrad(lr_decay=...)` (learning-rate decay; silent when a separate `weight_decay`
// is passed beside it, unless the lr_decay value is itself named a weight decay), tfjs `tf.train.rmsprop(lr, decay)`
// when the value looks like a weight-decay rate (it is the squared-gradient discount ρ), and tfjs
// `tf.train.adamax(lr, b1, b2, eps, decay)` (learning-rate decay). Also a decay passed to a Keras
// optimizer second by position, `Adam(lr, decay)`: that place is β₁ (SGD's momentum, RMSprop's ρ;
// catalogue.ts `kerasSecondPositional`), so the decay becomes a moment discount. Reported when the
// value resolves to a number in (0, 0.01], which no moment discount is, or, unresolved, when its name
// calls it a decay (roles.ts `namesADecay`).
//
// ## Why is this bad?
// None of them shrinks the weights. Code that means weight decay gets no regularization at all.
import { defineRule } from './rule';
import { writtenWithValue } from '../math/print/format';
import { lastComponent } from '../engine/facts/keys';
import { isWeightDecayName, namesADecay, namesAnLrOrWeightDecay } from '../engine/facts/roles';
import { kerasSecondPositional } from '../engine/facts/catalogue';
import { frameworkFacts, type Arg, type OptimizerFact } from '../engine/facts/frameworks';

export const nb203NotWeightDecay = defineRule({
  meta: {
    code: 'NB203',
    name: 'not-weight-decay',
    severity: 'warning',
    summary: 'An optimizer argument that reads like weight decay is learning-rate decay or a moment discount',
    fix: 'none',
  },
  check(context) {
    const fw = frameworkFacts(context.facts);
    const written = (a: Arg): string => writtenWithValue(context.facts.source(a.expr.span), a.value, a.expr.kind === 'num');
    /** `Adam(lr, decay)`: a decay given where the class takes β₁ (momentum, ρ) second by position. */
    const positionalDecay = (opt: OptimizerFact): void => {
      const spec = kerasSecondPositional(opt.name);
      if (!spec || opt.call.args.length < 2 || opt.call.kwargs.some((k) => k.name === spec.keyword)) return;
      const a = opt.arg(spec.keyword, 1);
      if (!a || a.span !== a.expr.span) return;
      const name = lastComponent(a.expr);
      // ρ is itself called a decay (TF1's RMSPropOptimizer(lr, decay=0.9)): a bare `decay` there may be ρ.
      const decayName = spec.keyword === 'rho' ? namesAnLrOrWeightDecay : namesADecay;
      const meantAsDecay = a.value !== undefined ? a.value > 0 && a.value <= 0.01 : name !== undefined && decayName(name);
      if (!meantAsDecay) return;
      const cls = opt.name;
      const what =
        spec.keyword === 'beta_1'
          ? `beta_1, the discount of ${cls}'s first moment (default ${spec.default}), not a decay: with β₁ ≈ 0 there is no momentum (m̂ is the current gradient, a step g/√v̂ as in RMSprop)`
          : spec.keyword === 'rho'
            ? `rho, the discount of ${cls}'s squared-gradient average (default ${spec.default}), not a decay: with ρ ≈ 0 the average forgets at once and each step is divided by the current |g|`
            : `momentum (default ${spec.default}), not a decay`;
      context.report({
        span: a.span,
        message:
          `The second positional argument of ${cls}, here ${written(a)}, is ${what}; the decay itself is never applied. ` +
          `Pass settings by keyword: for learning-rate decay a schedule such as keras.optimizers.schedules.InverseTimeDecay as learning_rate (decay= in Keras 2 only), ` +
          `for weight decay weight_decay=λ or kernel_regularizer on the layers.`,
      });
    };
    for (const opt of fw.optimizers) {
      if (opt.framework === 'keras') positionalDecay(opt);
      if (opt.framework === 'keras' && !opt.legacy) {
        const decay = opt.arg('decay');
        if (!decay || decay.value === 0) continue;
        context.report({
          span: decay.span,
          message:
            `decay=${written(decay)} is not weight decay. In Keras 2 it decayed the learning rate, lr / (1 + decay·iterations); Keras 3 ignores it with only a warning ` +
            `and tf.keras ≥ 2.11 raises a ValueError. For weight decay pass weight_decay=λ (decoupled: w ← (1 − lr·λ)·w) or put kernel_regularizer=regularizers.l2(c) on the layers; ` +
            `for learning-rate decay pass a schedule such as keras.optimizers.schedules.InverseTimeDecay as learning_rate.`,
        });
      } else if (opt.framework === 'torch' && opt.name === 'Adagrad') {
        const lrDecay = opt.arg('lr_decay', 2);
        if (!lrDecay || lrDecay.value === 0) continue;
        // A separate weight_decay= beside it: the author tells the two apart, and lr_decay is meant as
        // learning-rate decay (a config field handed through), unless its own value is named a weight decay.
        const lrName = lastComponent(lrDecay.expr);
        if (opt.arg('weight_decay', 3) && !(lrName !== undefined && isWeightDecayName(lrName))) continue;
        context.report({
          span: lrDecay.span,
          message:
            `lr_decay=${written(lrDecay)} is not weight decay: Adagrad divides the learning rate by 1 + (t − 1)·lr_decay. ` +
            `For L2 regularization use weight_decay=λ (adds λ·w to the gradient), or AdamW for decoupled weight decay.`,
        });
      } else if (opt.framework === 'tfjs' && opt.name === 'rmsprop') {
        const decay = opt.arg('decay', 1);
        if (!decay) continue;
        const name = lastComponent(decay.expr);
        const looksLikeWd = decay.value !== undefined ? decay.value > 0 && decay.value < 0.5 : name !== undefined && isWeightDecayName(name);
        if (!looksLikeWd) continue;
        context.report({
          span: decay.span,
          message:
            `The second argument of tf.train.rmsprop, here ${written(decay)}, is decay = ρ, the discount of the squared-gradient average (default 0.9), not weight decay: ` +
            `a small value makes RMSprop forget its history almost at once and does not shrink the weights. tfjs optimizers have no weight-decay argument: ` +
            `add kernelRegularizer: tf.regularizers.l2({l2: c}) to the layers, or add 2·c·w to the gradient yourself.`,
        });
      } else if (opt.framework === 'tfjs' && opt.name === 'adamax') {
        const decay = opt.arg('decay', 4);
        if (!decay || decay.value === 0) continue;
        context.report({
          span: decay.span,
          message:
            `The fifth argument of tf.train.adamax, here ${written(decay)}, is decay: learning-rate decay, lr / (1 + decay·t), not weight decay. ` +
            `tfjs optimizers have no weight-decay argument: add kernelRegularizer: tf.regularizers.l2({l2: c}) to the layers, or add 2·c·w to the gradient yourself.`,
        });
      }
    }
  },
});
