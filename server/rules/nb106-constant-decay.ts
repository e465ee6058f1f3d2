// NB106 constant-decay: weight decay applied as a constant c instead of c·W.
//
// ## What it does
// Finds steps of a parameter W (`p.data.add_(weight_decay, alpha=-lr)`, `p -= lr * wd`,
// `w = w - lr * (grad + lam)`) and gradients of W (`dW += reg`) that add a bare regularization
// strength, with no factor of W, sign(W) or |W|.
//
// ## Why is this bad?
// Weight decay shrinks each weight in proportion to its size: W ← W − lr·λ·W. A bare lr·λ moves
// every weight by the same amount in the same direction, whatever its size or sign, so nothing is
// pulled toward zero: it is a constant drift of all the weights.
//
// A full reduction of the weight in the decay's place, c·ΣW or c·mean(W) (`2 * wd * np.sum(W)`,
// a regularizer's gradient method returning `self.lam * np.sum(w)`), is the same drift: ΣW is one
// number, the same for every weight, a constant within the step (reducedDecay.ts).
//
// Another parameter's value added where the decay belongs (`c * wg['b' + k].T` in the gradient of
// the weight `W{k}`, the bias being stepped by its own gradient) is the same drift: the bias is
// the same for every weight of a row (siblingEntries.ts).
import { defineRule } from './rule';
import { unicodeCoef } from '../math/print/unicode';
import { constantDecayTerms } from '../engine/facts/constantDecay';
import { baseExpr } from '../engine/facts/keys';
import { reducedDecayTerms } from '../engine/facts/reducedDecay';
import { isLearningRateName } from '../engine/facts/roles';
import { coef, neg } from '../math/coef';

export const nb106ConstantDecay = defineRule({
  meta: {
    code: 'NB106',
    name: 'constant-decay',
    severity: 'warning',
    summary: 'Weight decay applied as a constant c instead of c·W: every weight moves by the same amount',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const { term: t, target, other } of constantDecayTerms(facts)) {
      const targetText = facts.source(target.span);
      const w = t.site.kind === 'update' ? facts.source(baseExpr(target).span) : 'W';
      const c = t.coef ?? t.stepCoef;
      if (other) {
        // Another parameter's value (the bias in the weight's gradient): constant to every weight it is added to.
        const scale = unicodeCoef({ ...c, num: Math.abs(c.num), syms: c.syms.filter((x) => x.name !== other.symbol) });
        const otherText = facts.source(other.expr.span);
        const message = `the gradient ${targetText} adds ${otherText} scaled by ${scale}: another parameter's value, stepped by its own gradient, not the weight this gradient steps, so it moves the weights by amounts that do not depend on their own size or sign; weight decay is ${scale}·${w} (L2)`;
        context.report({ span: t.span, message, math: { computed: `${scale}·${otherText}`, expected: `${scale}·${w}` } });
        continue;
      }
      const cAbs = unicodeCoef({ ...c, num: Math.abs(c.num) });
      const subject = t.site.kind === 'update' ? `the step of ${targetText}` : `the gradient ${targetText}`;
      const message = `${subject} adds the constant ${cAbs}, which moves every weight by the same amount whatever its size or sign; weight decay is ${cAbs}·${w} (L2), or ${cAbs}·sign(${w}) for L1`;
      context.report({ span: t.span, message, math: { computed: cAbs, expected: `${cAbs}·${w}` } });
    }
    for (const t of reducedDecayTerms(facts)) {
      const w = t.sign ? `sign(${facts.source(t.weight.span)})` : facts.source(t.weight.span);
      // As a gradient term: the learning rate divided out of a step, and the step's sign undone.
      const step = t.site.kind === 'update' ? neg(t.stepCoef) : t.stepCoef;
      const c = coef(Math.abs(step.num), step.syms.filter((x) => !(t.site.kind === 'update' && x.pow === 1 && isLearningRateName(x.name))));
      const cText = unicodeCoef(c);
      const scaled = (x: string): string => (cText === '1' ? x : `${cText}·${x}`);
      const reduced = t.how === 'sum' ? (/^\w+$/.test(w) ? `Σ${w}` : `Σ(${w})`) : `mean(${w})`;
      const what = `${t.how === 'sum' ? 'the sum' : 'the mean'} of all the entries of ${w}`;
      const subject = t.site.kind === 'update' ? `the step of ${facts.source(t.site.target.span)}` : t.site.penaltyGradientOf ? `the gradient method ${facts.source(t.site.target.span)}` : `the gradient ${facts.source(t.site.target.span)}`;
      const verb = t.site.kind === 'update' ? 'adds' : t.site.penaltyGradientOf ? 'returns' : 'adds';
      const message = `${subject} ${verb} ${scaled(reduced)} (one number: ${what}), which moves every weight by the same amount whatever its size or sign; weight decay is ${scaled(w)}`;
      // A reduction computed elsewhere (a local, a helper) is shown where it is written.
      const outside = t.reduction.span.start < t.span.start || t.reduction.span.end > t.span.end;
      const related = outside ? [{ span: t.reduction.span, message: `the reduction of ${w} to one number` }] : undefined;
      context.report({ span: t.span, message, related, math: { computed: scaled(reduced), expected: scaled(w) } });
    }
  },
});
