// NB109 backprop-after-step: the error is sent back to the layer below through weights the same
// iteration already stepped.
//
// ## What it does
// Finds a loop over layers that steps a layer's weights (`weights['W' + str(l)] -= alpha * dW`) and
// afterwards, in the same iteration, multiplies the error carried to the next layer by those weights:
// the entry read again (`dZ = np.matmul(weights['W' + str(l)].T, dZ)`), a name bound to it before an
// in-place step (`W = weights[...]`; NumPy's `-=` changes that array), or an entry of a shallow copy
// of the dict (`old = weights.copy()` keeps the same arrays); or, in a loop down the layers, the entry
// of the layer above (`weights['W' + str(i + 1)]`), which the iteration before stepped; or an entry an
// earlier iteration stored in a list before its in-place step (`kept.append(W[k])`, then `kept[-2].T`).
//
// ## Why is this bad?
// Backpropagation computes every layer's gradient from the weights the forward pass used. Through the
// stepped weights, the layers below get the gradient of another network: slightly wrong at a small
// learning rate, and wrong by a large step when the rate or the penalty is large. Compute the error for
// the layer below before the step (or step after the whole backward pass).
import { defineRule } from './rule';
import { steppedThenPropagated } from '../engine/facts/steppedThenPropagated';
import { trimSpan } from '../engine/facts/steps';
import { backpropAfterStepForms } from '../engine/findingForms';

export const nb109BackpropAfterStep = defineRule({
  meta: {
    code: 'NB109',
    name: 'backprop-after-step',
    severity: 'warning',
    summary: 'The error is carried back to the layer below through weights this iteration already stepped',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const f of steppedThenPropagated(facts)) {
      const w = facts.source(f.step.target.span);
      const read = facts.source(f.read.span);
      const step = facts.lineLabel(f.step.span);
      const message =
        f.through === 'list'
          ? `the error ${f.error} is carried to the layer below through ${read}, an array an earlier iteration stored in ${f.list} and then stepped in place (${step} steps ${w}, the array ${f.list} holds, not a copy): the layers below get their gradients through the new weights, not those the forward pass used. Compute the error for the layer below before each step, store a copy (${w}.copy()), or step after the whole backward pass`
          : f.through === 'elements'
          ? `the error ${f.error} is carried to the layer below through ${read} after the loops at ${step} stepped every entry of it: the sum reads the new weights, not those the forward pass used, so the layers below get their gradients through the stepped weights. Compute the error for the layer below before the loops that step the weights, or step after the whole backward pass`
          : f.through === 'unrolled'
          ? `the error ${f.error} for the layer below is computed through ${read}, the transpose of ${w} after ${step} stepped it, and then steps ${f.next ? facts.source(f.next.target.span) : 'another weight'}${f.next ? ` (${facts.lineLabel(f.next.span)})` : ''}: that layer gets its gradient through the new weights, not those the forward pass used. Compute ${f.error} before the step of ${w} (or from a copy of ${w} taken before it)`
          : f.through === 'carried'
          ? `the error ${f.error} is carried to the layer below through ${read}, the weights of the layer the iteration before kept in ${f.holder} after stepping them (${step} replaces ${w} in every iteration): the layers below get their gradients through the new weights, not those the forward pass used. Keep the weights the forward pass used (read ${facts.source(f.step.target.span)} into a local before the step and carry that), or step after the whole backward pass`
          : f.through === 'previous'
          ? `the error ${f.error} is carried to the layer below through ${read}, which the iteration before stepped (${step} steps ${w} in every iteration, and the loop goes down the layers): the layers below get their gradients through the new weights, not those the forward pass used. Compute the error for the layer below before each step, or step after the whole backward pass`
          : `the error ${f.error} is carried to the layer below through ${w} after this iteration stepped it (${step}): ${
              f.through === 'entry'
                ? `${read} is read after its step`
                : f.through === 'alias'
                  ? `${read} names the same array as ${w}, which the in-place step changed`
                  : `${read} is an entry of a shallow copy: the same array as ${w}, which the in-place step changed`
            }, so the layers below get their gradients through the new weights, not those the forward pass used. Compute ${f.error} before the step`;
      context.report({
        span: f.read.span,
        message,
        related: [{ span: trimSpan(facts, f.step.span), message: `${w} is stepped here` }],
        math: { forms: backpropAfterStepForms(f.through === 'previous' || f.through === 'list' || f.through === 'carried' ? read : w, f.error) },
      });
    }
  },
});
