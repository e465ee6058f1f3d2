// NB305 add-loss-pitfall: a weight penalty handed to Keras `add_loss` that does not regularize
// what the code says.
//
// ## What it does
// Finds `add_loss(lambda: ...)` inside a loop whose lambda reads a name the loop rebinds (a
// late-binding closure: every lambda reads the last layer), and `add_loss(penalty)` of a weight
// penalty computed as a tensor outside `call()` in TF2 Keras (computed once: a constant).
//
// ## Why is this bad?
// Either all the penalties regularize one layer, or the penalty never changes and has no
// gradient: the other weights train unregularized.
import { defineRule } from './rule';
import { addLossPitfalls } from '../engine/facts/addLoss';

export const nb305AddLossPitfall = defineRule({
  meta: {
    code: 'NB305',
    name: 'add-loss-pitfall',
    severity: 'warning',
    summary: 'A weight penalty given to Keras add_loss is a late-binding closure over a loop variable, or a tensor computed once outside call()',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const pitfall of addLossPitfalls(facts)) {
      if (pitfall.kind === 'late-binding') {
        const name = pitfall.name;
        context.report({
          span: pitfall.read.span,
          message: `the lambda reads ${name} when Keras calls it, after the loop has ended, so every lambda added in this loop sees the last ${name}; bind it per lambda with a default argument (lambda ${name}=${name}: ...)`,
          related: [{ span: pitfall.bound, message: `${name} is assigned here on every iteration; all iterations share one variable, so the lambdas read its last value` }],
          math: { missingTerm: { how: 'late-binding', term: name } },
        });
      } else {
        context.report({
          span: pitfall.penalty.span,
          message: `${facts.source(pitfall.penalty.span).replace(/\s+/g, ' ')} is computed once, here, from the weights' current values: add_loss keeps a constant with no gradient for them; pass a zero-argument lambda (add_loss(lambda: ...)) or add it inside call()`,
          math: { missingTerm: { how: 'no-gradient', term: facts.source(pitfall.penalty.span).replace(/\s+/g, ' ') } },
        });
      }
    }
  },
});
