// NB402 second-moment: the second moment of an adaptive optimizer is not what its step needs.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';
import { deadRandomSigns } from '../engine/facts/deadRandomSigns';
import { deadRandomSignForms } from '../engine/findingForms';

export const nb402SecondMoment = defineRule({
  meta: {
    code: 'NB402',
    name: 'second-moment',
    severity: 'warning',
    summary: "An adaptive optimizer's second moment is not squared, averages its own square, or stores its square root, or the step divides by it without its square root (also written `** 1/2`, half of it), multiplies by its root, or multiplies the raw gradient by Adam's ratio; a \"Hutchinson\" curvature |g·v| with random signs v, which is |g|",
    fix: 'sometimes',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB402') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.fix ? { fix: f.fix } : {}) });
    }
    // A "Hutchinson" curvature |X·v| with v = ±1 and X independent of v: |X| (facts/deadRandomSigns.ts).
    for (const d of deadRandomSigns(context.facts)) {
      const written = context.facts.source(d.span).replace(/\s+/g, ' ');
      context.report({
        span: d.span,
        message: `${written} multiplies ${d.factor} by ${d.draw}, a draw of random signs ±1, inside ${d.kind === 'square' ? 'a square' : 'an absolute value'}: since |${d.draw}| = 1 everywhere the signs cancel and the value is just ${d.kind === 'square' ? `(${d.factor})²` : `|${d.factor}|`}, so ${d.state}, which the step divides by, is an average of the gradient's magnitude, not a curvature: no Hessian-vector product is ever taken. Hutchinson's estimate of the Hessian's diagonal is ${d.draw} * (H @ ${d.draw}), with H·${d.draw} from a second differentiation (torch.autograd.grad(g, p, ${d.draw}))`,
        related: [{ span: d.drawn, message: `${d.draw} is drawn here` }, { span: d.stateSpan, message: `${d.state} averages it and the step divides by it` }],
        math: { forms: deadRandomSignForms(d.factor, d.draw, d.kind, d.state) },
      });
    }
  },
});
