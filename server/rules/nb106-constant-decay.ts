// NB106 constant-decay: weight decay applied as a constant c instead of c·W.
//
// ## What it does
// Finds steps of a parameter W (`p.data.add_(weight_decay, alpha=-lr)`, `p -= lr * wd`,
// `w = w - lr * (grad + lam)`) and gradients of W (`dW += reg`) that add a bare regularization
// strength, with no factor of W, sign(W) or |W|.
//
// ## Why is this bad?
// Weight decay shrinks each weight in proportion to its size: W ← W − lr·λ·W. A bare lr·λ moves
// every weight by the same amount in the same direction, whatever its size or sign, so nothing is
// pulled toward zero: it is a constant drift of all the weights.
import { defineRule } from './rule';
import { unicodeCoef } from '../math/print/unicode';
import { constantDecayTerms } from '../engine/facts/constantDecay';
import { baseExpr } from '../engine/facts/keys';

export const nb106ConstantDecay = defineRule({
  meta: {
    code: 'NB106',
    name: 'constant-decay',
    severity: 'warning',
    summary: 'Weight decay applied as a constant c instead of c·W: every weight moves by the same amount',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const { term: t, target } of constantDecayTerms(facts)) {
      const targetText = facts.source(target.span);
      const w = t.site.kind === 'update' ? facts.source(baseExpr(target).span) : 'W';
      const c = t.coef ?? t.stepCoef;
      const cAbs = unicodeCoef({ ...c, num: Math.abs(c.num) });
      const subject = t.site.kind === 'update' ? `the step of ${targetText}` : `the gradient ${targetText}`;
      const message = `${subject} adds the constant ${cAbs}, which moves every weight by the same amount whatever its size or sign; weight decay is ${cAbs}·${w} (L2), or ${cAbs}·sign(${w}) for L1`;
      context.report({ span: t.span, message, math: { computed: cAbs, expected: `${cAbs}·${w}` } });
    }
  },
});
