// NB108 decay-outside-step: a penalty gradient subtracted from the weights apart from the gradient
// step, with no learning rate.
//
// ## What it does
// Finds a statement that only decays a parameter (`self.W -= self.reg.grad(self.W)`, `w -= l2 * w`,
// `p.mul_(1 - wd)`) with a regularization strength and no step size, where the same parameter
// also gets a gradient step: an optimizer call (`optimizer.step()`, `self.W = opt.update(self.W,
// self.dW)`, `apply_gradients`) or a hand-written `W -= lr * dW` in another method. Also the decay
// written in the gradient step's own statement but outside its learning rate (`W -= lr * dW + reg * W`)
// when a loss adds the penalty on W whose gradient it is (`reg / 2 * np.sum(W ** 2)`): without one, that
// statement is decoupled weight decay on purpose.
//
// ## Why is this bad?
// The penalty's gradient is applied with step size 1 instead of the learning rate: the decay is
// 1/η times stronger than the penalty asks for, ignores the learning-rate schedule, and bypasses
// the optimizer. Gradient descent on L + R takes W ← W − η(∇L + ∇R).
import { defineRule } from './rule';
import { unicodeGradient, unicodePenalty } from '../math/print/unicode';
import { decaysOutsideStep } from '../engine/facts/decayOutsideStep';
import { baseExpr } from '../engine/facts/keys';
import { trimSpan } from '../engine/facts/steps';

export const nb108DecayOutsideStep = defineRule({
  meta: {
    code: 'NB108',
    name: 'decay-outside-step',
    severity: 'warning',
    summary: 'A penalty gradient applied to the weights apart from the optimizer step, not scaled by the learning rate',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const { site, decay, step, stepKind, shared } of decaysOutsideStep(facts)) {
      const w = facts.source(baseExpr(site.target).span);
      const written = facts.source(decay.written);
      // Through a regularizer's method its coefficient is the object's own (`self.lam` of another class): ∇R(W) says it.
      const math = decay.kind === 'call' || decay.throughCall ? `∇R(${w})` : unicodeGradient({ kind: decay.kind, coef: decay.coef, param: w });
      if (shared) {
        const penalty = unicodePenalty({ kind: shared.penalty.kind, coef: shared.penalty.coef, param: w });
        context.report({
          span: decay.written,
          message:
            `the decay ${math}, the gradient of the loss's penalty ${penalty}, is subtracted from ${w} in its gradient step but outside the learning rate: it acts with step size 1, 1/η times what the loss asks for, and ignores the learning rate and its schedule; ` +
            `scale it by the learning rate with the gradient (${w} ← ${w} − η·(∇L + ${math}))`,
          related: [{ span: shared.penalty.span, message: `the loss adds the penalty ${penalty} here` }],
          math: { computed: `${w} ← ${w} − η·∇L − ${math}`, expected: `${w} ← ${w} − η·(∇L + ${math})` },
        });
        continue;
      }
      const what = stepKind === 'optimizer' ? 'the optimizer step' : 'its gradient step';
      const subject = decay.throughCall ? `the regularizer gradient ${written}` : `the decay ${math}`;
      const message =
        `${subject} is subtracted from ${w} apart from ${what}, with no learning rate: it acts with step size 1 and ignores the learning rate and its schedule${stepKind === 'optimizer' ? ', bypassing the optimizer' : ''}; ` +
        `add it to ${w}'s gradient before the step, or scale it by the learning rate`;
      context.report({
        span: trimSpan(facts, site.span),
        message,
        related: [{ span: trimSpan(facts, step), message: stepKind === 'optimizer' ? `the optimizer step of ${w}` : `the gradient step of ${w}` }],
        math: { computed: `${w} ← ${w} − ${math}`, expected: `${w} ← ${w} − η·(∇L + ${math})`, alternative: `${w} ← ${w} − η·${math}` },
      });
    }
  },
});
