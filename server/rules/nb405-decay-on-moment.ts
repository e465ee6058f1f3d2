// NB405 decay-on-moment: weight decay that shrinks an optimizer's moment, or multiplies the gradient, instead of the weights.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';

export const nb405DecayOnMoment = defineRule({
  meta: {
    code: 'NB405',
    name: 'decay-on-moment',
    severity: 'warning',
    summary: "Weight decay applied to an optimizer's moment, or to the gradient, instead of the weights",
    fix: 'none',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB405') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}) });
    }
  },
});
