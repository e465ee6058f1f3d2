// NB403 average-not-averaging: an optimizer's moving average whose weights do not sum to one.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';

export const nb403AverageNotAveraging = defineRule({
  meta: {
    code: 'NB403',
    name: 'average-not-averaging',
    severity: 'warning',
    summary: "A moving average whose weights do not sum to one: β where 1 − β belongs, another moment's β (also one β argument stored in two moments' fields while another is never read), += around an average, 1/β, one tensor added twice under two names, one average kept for several weights (in the step or a helper it calls per weight), a blend of one value with itself, a momentum whose state stores the raw step, an average whose decay is the step's learning rate, a velocity the gradient never enters, or AdaDelta's accumulator of squared updates averaging the weights' square",
    fix: 'none',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB403') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.forms ? { math: { forms: f.forms } } : {}) });
    }
  },
});
