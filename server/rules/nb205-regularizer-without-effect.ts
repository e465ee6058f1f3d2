// NB205 regularizer-without-effect: a Keras / tfjs / TF1 regularizer whose penalty is zero.
//
// ## What it does
// Flags `l2(0)`, `L2(l2=0.0)`, `l1(0)`, `L1L2(l1=0, l2=0)`, tfjs `tf.regularizers.l2({l2: 0})`,
// `l1l2({l1: 0, l2: 0})`, TF1 `l2_regularizer(0.0)`, Keras `L1L2()` and `l1_l2()` with no
// factors (zero in Keras 3), and `kernel_regularizer='l1l2'` (zero in Keras 3).
//
// Also flags a framework layer given to a regularizer argument (`kernel_regularizer=Dropout(rate)`),
// and a dropout layer whose noise shape has no batch axis (`Dropout(rate, noise_shape=(units,))`:
// one mask shared by the whole batch; facts/dropoutMasks.ts).
//
// Stays silent for a regularizer that is only evaluated (called on a tensor, or a method called on
// it) and never attached to a layer nor added to a loss: a test of the regularizer itself.
//
// ## Why is this bad?
// The code says "regularized" and trains without regularization.
import { defineRule } from './rule';
import { frameworkFacts, type RegularizerFact } from '../engine/facts/frameworks';
import { batchlessDropouts } from '../engine/facts/dropoutMasks';

export const nb205RegularizerWithoutEffect = defineRule({
  meta: {
    code: 'NB205',
    name: 'regularizer-without-effect',
    severity: 'warning',
    summary: 'A regularizer whose factors are zero adds no penalty; a layer (Dropout) given as a regularizer is never applied to the activations; a Dropout whose noise shape has no batch axis drops the same units for every example',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    const fw = frameworkFacts(facts);
    for (const r of fw.regularizers) {
      // Evaluated on purpose (a test that a zero factor gives zero) and never attached to a layer
      // nor added to a loss: nothing is left unregularized.
      if (r.attachments.length === 0 && r.evaluations.length > 0 && !r.evaluations.some((e) => e.inLoss)) continue;
      const message = explain(r, facts.source(r.expr.span));
      if (message) context.report({ span: r.expr.span, message });
    }
    // `kernel_regularizer=tf.layers.Dropout(rate)`: a layer where a regularizer belongs.
    for (const l of fw.layerRegularizers) {
      const inline = l.layer.span.start >= l.span.start && l.layer.span.end <= l.span.end;
      const written = facts.source(l.layer.span);
      context.report({
        span: inline ? l.layer.span : l.span,
        message:
          `${inline ? written : `${l.kwarg} holds ${written}, which`} is a ${l.name} layer, not a regularizer: the layer it is given to calls it on its weight to compute a penalty, ` +
          `so the activations never go through the ${l.name}, and what it returns, a tensor the shape of the weight (the weight itself, outside training), ` +
          `is added to the regularization losses. Apply the ${l.name} layer to the layer's output instead, and give ${l.kwarg} a regularizer (l2(1e-4)) or nothing`,
        ...(inline ? {} : { related: [{ span: l.layer.span, message: `the ${l.name} layer is built here` }] }),
      });
    }
    // `Dropout(rate, noise_shape=(units,))`: one mask for the whole batch (facts/dropoutMasks.ts).
    for (const d of batchlessDropouts(facts)) {
      const shape = facts.source(d.literal.span);
      const item = facts.source(d.literal.items[0].span);
      const named = d.shape !== d.literal;
      context.report({
        span: d.shape.span,
        message:
          `${named ? `${facts.source(d.shape.span)} is ${shape}, a noise shape` : `The noise shape ${shape}`} without the batch axis: the layer's input is (batch, …, ${item}) and the mask is broadcast against it from the last axis, ` +
          `so one mask is drawn per step and the same units are dropped for every example of the batch, instead of a fresh mask per example. ` +
          `Write the batch axis as ${facts.language === 'python' ? `None: (None, ${item})` : `null: [null, ${item}]`}, or leave the noise shape out`,
        ...(named ? { related: [{ span: d.literal.span, message: 'the noise shape is written here' }] } : {}),
      });
    }
  },
});

/** Zero when every factor is a literal 0 or left at a default of 0 (Keras 3 `L1L2`). */
function explain(r: RegularizerFact, written: string): string | undefined {
  const zero = (f: RegularizerFact['l1']): boolean => f.literalZero || (!f.given && f.value === 0);
  if (r.isString) {
    if (r.framework !== 'keras' || r.fn !== 'l1l2') return undefined;
    return `In Keras 3 the identifier 'l1l2' builds L1L2() with l1 = l2 = 0, a zero penalty: this layer is not regularized. ` +
      `Pass the factors explicitly, e.g. regularizers.L1L2(l1=1e-5, l2=1e-4), or regularizers.l2(1e-4).`;
  }
  const literal = r.l1.literalZero || r.l2.literalZero;
  if (!zero(r.l1) || !zero(r.l2)) return undefined;
  if (r.framework === 'tf1') return `${written} has scale 0: the penalty scale·½Σw² is 0 and the weights are not regularized. Use a positive scale or drop the regularizer.`;
  if (r.framework === 'tfjs') return `${written} has all factors 0: the penalty is 0 and the weights are not regularized. Use a positive factor or drop the regularizer.`;
  if (r.versionDependent && (!r.l1.given || !r.l2.given)) {
    return `${written} depends on the Keras version: in Keras 3, l1_l2 is an alias of L1L2, whose factors default to 0, so this adds no penalty; ` +
      `in tf-keras and Keras 2 the unset factors default to 0.01. Write both factors explicitly, e.g. l1_l2(l1=0.01, l2=0.01).`;
  }
  if (!literal) {
    return `${written} has no factors: L1L2's l1 and l2 default to 0, so it adds no penalty (in Keras 3 and tf-keras alike). ` +
      `Pass them explicitly, e.g. L1L2(l1=1e-5, l2=1e-4).`;
  }
  return `${written} has factor 0: the penalty is 0·Σ… = 0 and the weights are not regularized. Use a positive factor or drop the regularizer.`;
}
