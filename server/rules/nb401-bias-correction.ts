// NB401 bias-correction: the bias correction 1 − βᵗ of an optimizer's moving average is wrong.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';

export const nb401BiasCorrection = defineRule({
  meta: {
    code: 'NB401',
    name: 'bias-correction',
    severity: 'warning',
    summary: "A bias correction without the step count, with a step count of 0 on the first step, with another moment's β, or of the previous step's moment, or taken under the square root twice, or its square root written `** 1/2` (half of it); a running β power multiplied by itself; a count or β power advanced once per parameter, or restarted every call; a moment stored bias-corrected, or started at its first sample and corrected; a β multiplied in place that weights the averages",
    fix: 'sometimes',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB401') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.fix ? { fix: f.fix } : {}) });
    }
  },
});
