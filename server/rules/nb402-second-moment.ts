// NB402 second-moment: the second moment of an adaptive optimizer is not what its step needs.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';

export const nb402SecondMoment = defineRule({
  meta: {
    code: 'NB402',
    name: 'second-moment',
    severity: 'warning',
    summary: "An adaptive optimizer's second moment is not squared, averages its own square, or stores its square root, or the step divides by it without its square root (also written `** 1/2`, half of it), multiplies by its root, or multiplies the raw gradient by Adam's ratio",
    fix: 'sometimes',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB402') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.fix ? { fix: f.fix } : {}) });
    }
  },
});
