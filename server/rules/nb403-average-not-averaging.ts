// NB403 average-not-averaging: an optimizer's moving average whose weights do not sum to one.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code; and a β set to a value of its own, then set
// back to its first value before the average reads it (facts/overwrittenBetas.ts).
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';
import { overwrittenBetas } from '../engine/facts/overwrittenBetas';

export const nb403AverageNotAveraging = defineRule({
  meta: {
    code: 'NB403',
    name: 'average-not-averaging',
    severity: 'warning',
    summary: "A moving average whose weights do not sum to one: β where 1 − β belongs, another moment's β (also one β argument stored in two moments' fields while another is never read), += around an average, 1/β, one tensor added twice under two names, one average kept for several weights (in the step or a helper it calls per weight), a blend of one value with itself, a momentum whose state stores the raw step, an average whose decay is the step's learning rate, a velocity the gradient never enters, AdaDelta's accumulator of squared updates averaging the weights' square, or a β set to a value of its own (a dynamic β₂) and set back to its first value before the average reads it",
    fix: 'none',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB403') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.forms ? { math: { forms: f.forms } } : {}) });
    }
    // A β overwritten before the average reads it (facts/overwrittenBetas.ts).
    const { facts } = context;
    for (const o of overwrittenBetas(facts)) {
      const lost = facts.source(o.lost.span).replace(/\s+/g, ' ');
      const again = facts.source(o.overwrite.span).replace(/\s+/g, ' ');
      const average = o.through ? `that ${o.through}() keeps (called at ${facts.lineLabel(o.average)})` : `at ${facts.lineLabel(o.average)}`;
      context.report({
        span: o.overwrite.span,
        message: `${again} sets ${o.name} back to its first value after ${lost} (${facts.lineLabel(o.lost.span)}) and before anything reads it: whenever both run, the moving average ${average} uses the first ${o.name}, and the value set at ${facts.lineLabel(o.lost.span)} is lost. Read the first value into another name here (for a bias correction), or set ${o.name} after it`,
        related: [
          { span: o.lost.span, message: `${o.name} is set here and never read` },
          { span: o.average, message: o.through ? `${o.through}() averages with ${o.name} here` : `the average reads ${o.name} here` },
        ],
      });
    }
  },
});
