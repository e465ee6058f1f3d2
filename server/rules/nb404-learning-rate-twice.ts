// NB404 learning-rate-twice: the learning rate of an optimizer step is applied twice, or never, or
// the learning-rate-scaled step is assigned to the weight instead of moving it.
//
// ## What it does
// Reads each hand-written optimizer step in its normal form (engine/facts/optimizerSteps.ts) and
// reports what optimizerFindings.ts finds for this code; and a training function that takes a
// learning rate and steps by the raw gradient without reading it (facts/unusedLearningRate.ts); and
// a learning rate decayed in the training loop after the framework optimizer that took it was built,
// into a value nothing reads (facts/unappliedSchedules.ts); and a LAMB/LARS trust ratio, the layer-wise
// learning rate, taken over the updated weights instead of the update (facts/updatedTrustRatio.ts).
import { updatedTrustRatioForms } from '../engine/findingForms';
import { defineRule } from './rule';
import { optimizerFindings } from '../engine/facts/optimizerFindings';
import { unusedLearningRates } from '../engine/facts/unusedLearningRate';
import { unappliedSchedules } from '../engine/facts/unappliedSchedules';
import { unreadDecayedFields } from '../engine/facts/unreadDecayedFields';
import { updatedTrustRatios } from '../engine/facts/updatedTrustRatio';
import { doubledLookaheads } from '../engine/facts/nesterovLookahead';
import { spanKey } from '../engine/facts/program';
import { trimSpan } from '../engine/facts/steps';
import { ratesInBackpropErrors } from '../engine/facts/rateInBackpropError';

export const nb404LearningRateTwice = defineRule({
  meta: {
    code: 'NB404',
    name: 'learning-rate-twice',
    severity: 'warning',
    summary: "A hand-written optimizer step applies the learning rate twice (also by adding one direction to the weights twice, or by multiplying it into the error a backward pass hands to the layer before), or not at all, or sets the weight to the scaled step instead of moving it by it, or takes a LAMB/LARS trust ratio over the updated weights (≈ 1)",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    const reported = new Set<string>();
    for (const f of optimizerFindings(facts)) {
      if (f.code !== 'NB404') continue;
      reported.add(spanKey(f.span));
      context.report({ span: f.span, message: f.message, ...(f.severity ? { severity: f.severity } : {}), ...(f.related ? { related: f.related } : {}) });
    }
    // A training function that takes a learning rate and adds the raw gradient (facts/unusedLearningRate.ts).
    for (const u of unusedLearningRates(facts)) {
      const first = u.sites[0];
      if (reported.has(spanKey(first.span)) || reported.has(spanKey(trimSpan(facts, first.span)))) continue;
      const written = facts.source(first.span).replace(/\s+/g, ' ').replace(/;$/, '');
      const taken = u.parameter ? `${u.name} is a parameter of ${u.fn.name}()` : `${u.name} is set from what the caller hands ${u.fn.name}()`;
      context.report({
        span: trimSpan(facts, first.span),
        message: `${taken}, but nothing in ${u.fn.name}() reads it: ${written} adds the gradient as it is, so every step has the size of the raw gradient (a learning rate of 1), whatever rate is passed. Multiply the step by ${u.name}`,
        related: [{ span: u.taken, message: `the learning rate ${u.name} is taken here and never read` }, ...u.sites.slice(1, 3).map((s) => ({ span: trimSpan(facts, s.span), message: 'this update adds the raw gradient too' }))],
      });
    }
    // The rate multiplied into the error a backward pass hands back (facts/rateInBackpropError.ts).
    for (const r of ratesInBackpropErrors(facts)) {
      if (reported.has(spanKey(r.scaled))) continue;
      reported.add(spanKey(r.scaled));
      context.report({
        span: trimSpan(facts, r.scaled),
        message: `${r.error} is scaled by the learning rate ${r.rate}, and ${r.fn.name}() both steps ${r.weight} by it and returns it through ${r.weight} as the error for the layer before: that error already carries ${r.rate}, and the layer before scales its own ${r.error} by ${r.rate} again, so the layer k places back is stepped with ${r.rate}^(k+1) times its gradient (the early layers barely move for ${r.rate} < 1). Keep ${r.rate} out of the error: scale only the step (${r.weight} by ${r.rate} * …), and return the unscaled error`,
        related: [
          { span: trimSpan(facts, r.update), message: `${r.weight} is stepped by ${r.error} here` },
          { span: trimSpan(facts, r.passed), message: `the error passed back reads ${r.error}, rate included` },
        ],
      });
    }
    // A trust ratio over the updated weights: ≈ 1, the layer-wise rate never applied (facts/updatedTrustRatio.ts).
    for (const r of updatedTrustRatios(facts)) {
      if (reported.has(spanKey(r.span))) continue;
      const ratio = facts.source(r.span).replace(/\s+/g, ' ');
      context.report({
        span: r.span,
        message: `The trust ratio ${ratio} divides the norm of ${r.param} by the norm of ${r.copy}, a copy of ${r.param} with the step already added to it: that is the norm of the updated weights, not of the update, and for a small step ‖${r.param} − η·u‖ ≈ ‖${r.param}‖, so the ratio is about 1 on every layer and the layer-wise learning rate (LAMB, LARS) is never applied. Divide by the norm of the update itself (the term added to ${r.copy})`,
        related: [
          { span: r.copied, message: `${r.copy} is a copy of ${r.param}` },
          { span: r.moved, message: `the step is added to ${r.copy} here` },
          { span: r.update, message: `the ratio scales this step of ${r.param}` },
        ],
        math: { forms: updatedTrustRatioForms(r.param, r.copy, facts.lineLabel(r.moved), r) },
      });
    }
    // A Nesterov look-ahead without μ: the fresh term added twice (facts/nesterovLookahead.ts).
    for (const d of doubledLookaheads(facts)) {
      if (reported.has(spanKey(d.span))) continue;
      reported.add(spanKey(d.span));
      const written = facts.source(d.span).replace(/\s+/g, ' ');
      context.report({
        span: d.span,
        message: `${written} adds the new velocity ${d.state} as it is, and ${d.extra ? `${facts.source(d.extra).replace(/\s+/g, ' ')} adds` : 'also adds,'} again, the term ${d.state} was just given: that term is applied twice, so the update is μ·${d.state} (old) + 2 × the term, neither heavy ball (μ·v + term) nor Nesterov (μ·v_new + term = μ²·v + (1 + μ)·term). For Nesterov's look-ahead, multiply ${d.state} by the momentum in this write`,
        related: [{ span: d.velocity, message: `${d.state} gets the term here` }, ...(d.extra ? [{ span: d.extra, message: 'and this write adds it again' }] : [])],
      });
    }
    // A decayed rate that never reaches the optimizer built earlier (facts/unappliedSchedules.ts).
    for (const u of unappliedSchedules(facts)) {
      const first = u.decays[0];
      const written = facts.source(first.span).replace(/\s+/g, ' ');
      const built = facts.source(u.build.callee.span).replace(/\s+/g, ' ');
      context.report({
        span: first.span,
        message: `${written} decays the learning rate after ${u.holder} was built with ${u.name} (${built}(…) at ${facts.lineLabel(u.build.span)}), but nothing reads the new value: the optimizer keeps the rate it was built with, so the schedule never reaches training. Write the rate into the optimizer (its param_groups' 'lr', a variable it holds) or use a scheduler`,
        related: [{ span: u.build.span, message: `the optimizer takes ${u.name} here, once` }, ...u.decays.slice(1, 3).map((s) => ({ span: s.span, message: 'this decay is never read either' }))],
      });
    }
    // A field the class decays after each step while the step reads the constructor's value by another path
    // (facts/unreadDecayedFields.ts).
    for (const u of unreadDecayedFields(facts)) {
      const written = facts.source(u.decay.span).replace(/\s+/g, ' ');
      const other = facts.source(u.other.span);
      const field = facts.source((u.decay as { targets: { span: { start: number; end: number } }[] }).targets[0].span);
      context.report({
        span: u.decay.span,
        message: `${written.length > 80 ? `${written.slice(0, 77)}...` : written} decays ${field}, but no method of ${u.cls.name} or its bases reads ${field}: the step uses ${other}, the value given to the constructor, so the schedule never reaches the update. Use ${field} where the step scales the gradient, or decay the value the step reads`,
        related: [
          { span: u.other.span, message: `the step reads the constructor's value here` },
          { span: u.stored.span, message: `${field} is a copy of it, taken here` },
        ],
      });
    }
  },
});
