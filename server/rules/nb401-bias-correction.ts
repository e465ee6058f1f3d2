// NB401 bias-correction: the bias correction 1 − βᵗ of an optimizer's moving average is wrong.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code.
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';
import { countsStartingAhead } from '../engine/facts/countStartsAhead';
import { discardedCorrections } from '../engine/facts/discardedCorrections';

export const nb401BiasCorrection = defineRule({
  meta: {
    code: 'NB401',
    name: 'bias-correction',
    severity: 'warning',
    summary: "A bias correction without the step count, with a step count of 0 on the first step, with another moment's β, or of the previous step's moment, or taken under the square root twice (the first moment's under a root at all), or its square root written `** 1/2` (half of it); a running β power multiplied by itself; a count or β power advanced once per parameter, or restarted every call, or only by a method nothing in the project calls, or started at 1 and incremented before the correction; a correction computed on a line of its own and dropped; a moment stored bias-corrected, or started at its first sample and corrected; a β multiplied in place that weights the averages",
    fix: 'sometimes',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB401') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.fix ? { fix: f.fix } : {}) });
    }
    const { facts } = context;
    // A correction computed on a line of its own, its value dropped (facts/discardedCorrections.ts).
    for (const d of discardedCorrections(facts)) {
      const written = facts.source(d.span).replace(/\s+/g, ' ').trim();
      context.report({
        span: d.span,
        message:
          `${written} computes the bias correction of ${d.state} and drops the value: nothing is assigned, so ${d.state} keeps its biased value (near 0 for the first ~1/(1 − ${d.beta}) steps) and the correction has no effect. ` +
          `Assign it to a name the step then reads (\`m_hat = ${written}\`), or remove it`,
        related: [{ span: d.write, message: `${d.state} is weighted by ${d.beta} here, the β the correction divides out` }],
      });
    }
    // A step count started at 1 and incremented before the correction reads it (facts/countStartsAhead.ts).
    for (const a of countsStartingAhead(facts)) {
      const written = facts.source(a.correction.span).replace(/\s+/g, ' ');
      const related = [
        ...(a.increment ? [{ span: a.increment, message: a.power !== undefined ? `${a.count} is multiplied by β here, before the correction` : `${a.count} is incremented here, before the correction` }] : []),
        ...a.others.filter((o) => o.span.start !== a.correction.span.start).map((o) => ({ span: o.span, message: a.power !== undefined ? `this correction reads the same running power` : `this correction reads the same count` })),
      ];
      if (a.power !== undefined) {
        context.report({
          span: a.correction.span,
          message:
            `the running power ${a.count} starts at β (not 1) and is multiplied by β before ${written} reads it, so step t is corrected with β^(t+1): the first step uses 1 − β² where 1 − β belongs (0.19 instead of 0.1 for β = 0.9), ` +
            `so the first bias-corrected average is 1/(1 + β) of the optimizer's (about half for β = 0.9). Start ${a.count} at 1, or multiply it after the corrections`,
          ...(related.length > 0 ? { related } : {}),
        });
        continue;
      }
      context.report({
        span: a.correction.span,
        message:
          `the step count ${a.count} starts at 1 and is incremented before ${written} reads it, so the first step is corrected with ${a.count} = 2: 1 − β² where 1 − β belongs (0.19 instead of 0.1 for β = 0.9), ` +
          `so the first bias-corrected average is 1/(1 + β) of the optimizer's (about half for β = 0.9), and every later correction uses the next step's count. Start the count at 0, or increment it after the corrections`,
        ...(related.length > 0 ? { related } : {}),
      });
    }
  },
});
