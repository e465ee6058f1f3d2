// NB403 average-not-averaging: an optimizer's moving average whose weights do not sum to one.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code; and a β set to a value of its own, then set
// back to its first value before the average reads it (facts/overwrittenBetas.ts).
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';
import { overwrittenBetas } from '../engine/facts/overwrittenBetas';
import { swappedMomentBetas } from '../engine/facts/swappedMomentBetas';
import { formatNumber } from '../math/print/format';

export const nb403AverageNotAveraging = defineRule({
  meta: {
    code: 'NB403',
    name: 'average-not-averaging',
    severity: 'warning',
    summary: "A moving average whose weights do not sum to one: β where 1 − β belongs, another moment's β (also one β argument stored in two moments' fields while another is never read), += around an average, 1/β, one tensor added twice under two names, one average kept for several weights (in the step or a helper it calls per weight), a blend of one value with itself, a momentum whose state stores the raw step, an average whose decay is the step's learning rate, a velocity the gradient never enters, a velocity that keeps −β of its old value (its sign flipped), AdaDelta's accumulator of squared updates averaging the weights' square, Adam's βs swapped between its moments (the gradient's average the slower one), or a β set to a value of its own (a dynamic β₂) and set back to its first value before the average reads it",
    fix: 'none',
  },
  check(context) {
    for (const f of optimizerFindings(context.facts)) {
      if (f.code !== 'NB403') continue;
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}), ...(f.forms ? { math: { forms: f.forms } } : {}) });
    }
    const { facts } = context;
    // Adam's βs swapped between its moments (facts/swappedMomentBetas.ts).
    for (const w of swappedMomentBetas(facts)) {
      const b1 = w.first.value;
      const b2 = w.second.value;
      const named = (b: { beta: string; value: number }): string => (b.beta === String(b.value) ? formatNumber(b.value) : `${b.beta} = ${formatNumber(b.value)}`);
      const window = (b: number): string => formatNumber(Math.round(1 / (1 - b)));
      const sq = Number((b1 * b1).toPrecision(3));
      const diverges = b1 * b1 > b2
        ? ` With β₁ = ${formatNumber(b1)} and β₂ = ${formatNumber(b2)}, β₁² = ${formatNumber(sq)} > β₂: Adam's convergence results need β₁² < β₂ (β₁ < √β₂), and with β₁² > β₂ it can diverge.`
        : '';
      context.report({
        span: w.first.span,
        message:
          `The step's numerator, an average of the gradient, decays with ${named(w.first)}, and the average of its square under the root with ${named(w.second)}: the βs are swapped between the moments. ` +
          `The first moment averages over about ${window(b1)} steps and the second over about ${window(b2)}, so the step divides a slow average of g by a fast estimate of its scale (Adam's first moment is the fast one, β₁ < β₂).${diverges} Give the gradient's average the smaller β and its square's average the larger one.`,
        related: [{ span: w.second.span, message: `the average of the squared gradient decays with ${named(w.second)} here` }],
      });
    }
    // A β overwritten before the average reads it (facts/overwrittenBetas.ts).
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
