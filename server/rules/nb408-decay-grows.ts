// NB408 decay-grows: a learning-rate decay written `1 / 1 + d * t`, which grows the rate with t.
//
// ## What it does
// Finds a sum `X / 1 + Y` that sets a learning rate (assigned to one, passed as `lr=`, or inside an
// update's step) with a Y that varies (engine/facts/growingDecay.ts).
//
// ## Why is this bad?
// Division binds tighter than `+`: `1 / 1 + decay * t` is 1 + decay·t, so the rate grows linearly
// with the step or epoch count; time-based decay is 1 / (1 + decay·t).
import { defineRule } from './rule';
import { growingDecays } from '../engine/facts/growingDecay';

export const nb408DecayGrows = defineRule({
  meta: {
    code: 'NB408',
    name: 'decay-grows',
    severity: 'warning',
    summary: 'A learning-rate decay written `1 / 1 + d * t` is 1 + d·t by precedence: the rate grows with t instead of decaying',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    for (const g of growingDecays(facts)) {
      const x = facts.source(g.numerator.span);
      const one = facts.source(g.one.span);
      const y = facts.source(g.rest.span);
      const meant = `${x} / (${one} + ${y})`;
      const unit = g.numerator.kind === 'num' && g.numerator.value === 1;
      context.report({
        span: g.span,
        message: `\`${x} / ${one} + ${y}\` is ${unit ? '1' : x} + ${y} (division binds tighter than +), so ${g.sets} grows as ${y} grows; a decay is \`${meant}\``,
        // Certain math, but it changes training: never applied by fix-all.
        fix: { title: `Parenthesize the denominator: ${meant}`, safety: 'unsafe', edits: [{ span: g.span, newText: meant }] },
      });
    }
  },
});
