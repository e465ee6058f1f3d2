// NB404 learning-rate-twice: the learning rate of an optimizer step is applied twice, or never, or
// the learning-rate-scaled step is assigned to the weight instead of moving it.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';

export const nb404LearningRateTwice = defineRule({
  meta: {
    code: 'NB404',
    name: 'learning-rate-twice',
    severity: 'warning',
    summary: "A hand-written optimizer step applies the learning rate twice (also by adding one direction to the weights twice), or not at all, or sets the weight to the scaled step instead of moving it by it",
    fix: 'none',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB404') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}) });
    }
  },
});
