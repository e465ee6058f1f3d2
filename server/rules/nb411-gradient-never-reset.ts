// NB411 gradient-never-reset: an optimizer reads gradient buffers the layers add into and, unlike the
// project's other optimizers, never sets them back to zero.
//
// ## What it does
// From a call of an optimizer's step handed a layer's list of its fields (`opt.apply(layer.paramsAndGrads())`),
// finds fields a method of the layer adds each sample's gradient into (`this.gw[k] += …`) and only the
// constructor sets; a step that takes entries of that list, steps the parameters with the gradients and
// never empties them, while another optimizer class beside it, with a method of the same name, does
// (`g[k] = 0`, `g.fill(0)`), and the caller does not either (engine/facts/unresetGradients.ts).
//
// ## Why is this bad?
// The buffers keep growing: with this optimizer the gradient of step t is the sum of every batch's gradient
// since the start, so its moments follow a running sum, not the current gradient, and training drifts.
import { defineRule } from './rule';
import { unresetGradients } from '../engine/facts/unresetGradients';
import { trimSpan } from '../engine/facts/steps';

export const nb411GradientNeverReset = defineRule({
  meta: {
    code: 'NB411',
    name: 'gradient-never-reset',
    severity: 'warning',
    summary: "An optimizer reads gradient buffers the layers add into and never sets them back to zero, while the project's other optimizers do: every step uses the sum of all gradients so far",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const f of unresetGradients(facts)) {
      const owner = f.step.cls ? `${f.step.cls.name}.${f.step.name}()` : `${f.step.name}()`;
      context.report({
        span: trimSpan(facts, f.span),
        message:
          `${owner} takes gradients the layers accumulate with += (the buffer ${f.accumulated.field}) and never sets them back to zero, as ${f.sibling.cls}.${f.step.name}() does after its step: ` +
          `with this optimizer every step reads the sum of all gradients since the start, not the current batch's. Zero the gradient entries after the step (g.fill(0))`,
        related: [
          { span: trimSpan(facts, f.accumulated.span), message: `each sample's gradient is added into ${f.accumulated.field} here` },
          { span: trimSpan(facts, f.sibling.span), message: `${f.sibling.cls} empties the buffer after its step here` },
          { span: f.call, message: `${owner} is handed the layer's buffers here` },
        ],
      });
    }
  },
});
