// NB406 decoupled-decay-meant-as-l2: a hand-written adaptive step (Adam, RMSprop, AdaGrad) that
// shrinks the weights directly, w ← (1 − ηλ)·w, with a coefficient the code calls an L2 penalty.
//
// ## What it does
// Finds decoupled weight decay (`p.mul_(1 - lr * l2)`, `w -= lr * l2 * w` outside the adaptive
// ratio, `p.add_(p, alpha=-lr * l2)`) in a step that divides by the root of a second moment, when
// the coefficient is named for an L2 penalty (`l2`, `l2_reg`) or documented as L2 regularization
// (and not as a decay), and nothing says the decay is decoupled on purpose (a class named `AdamW`, a
// decoupling switch, documentation that says decoupled). The reverse of NB202.
//
// ## Why is this bad?
// L2 regularization is the gradient of (λ/2)‖w‖², added to the gradient before the moments. In an
// adaptive step the two forms are different regularizers (Loshchilov & Hutter, Prop. 2): the code
// does not do what its documentation says, and a λ tuned for one is on the wrong scale for the other.
import { defineRule } from './rule';
import { frameworkFacts } from '../engine/facts/frameworks';
import { handDecayDecoupledAsL2, optimizerDecoupledAsL2 } from '../engine/facts/decayIntent';

/** The coupled L2 a framework offers instead of its decoupled decay. */
const COUPLED: Record<string, (wd: string) => string> = {
  torch: (wd) => `torch.optim.Adam(..., weight_decay=${wd})`,
  keras: (wd) => `kernel_regularizer=keras.regularizers.l2(${wd} / 2) on the layers and no weight_decay`,
  tfa: (wd) => `kernel_regularizer=keras.regularizers.l2(${wd} / 2) on the layers and no weight_decay`,
  optax: (wd) => `optax.chain(optax.add_decayed_weights(${wd}), optax.adam(learning_rate))`,
};

export const nb406DecoupledDecayMeantAsL2 = defineRule({
  meta: {
    code: 'NB406',
    name: 'decoupled-decay-meant-as-l2',
    severity: 'information',
    summary: 'A hand-written adaptive step shrinks the weights directly (decoupled decay) with a coefficient the code calls an L2 penalty',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const opt of frameworkFacts(facts).optimizers) {
      if (opt.legacy) continue;
      for (const setting of opt.decay) {
        if (!setting.arg || setting.value === 0) continue;
        const intent = optimizerDecoupledAsL2(facts, opt, setting.arg);
        if (!intent) continue;
        const wd = facts.source(setting.arg.expr.span).replace(/\s+/g, ' ');
        const how = intent.kind === 'name' ? 'named as an L2 penalty' : 'documented as an L2 penalty';
        const instead = COUPLED[opt.framework]?.(wd);
        context.report({
          span: setting.arg.span,
          message:
            `${opt.path}'s weight decay is decoupled: w ← w − η·λ·w beside the adaptive step, which the moments never see. ` +
            `But ${wd} is ${how}, and L2 regularization is coupled: its gradient λ·w (of (λ/2)‖w‖²) joins the gradient before the moments, g ← g + λ·w, and is divided by √v̂ + ε with the rest; ` +
            `in an adaptive optimizer the two are different regularizers (Loshchilov & Hutter, Prop. 2).` +
            `${instead ? ` For L2, use ${instead};` : ' For L2, add the penalty to the loss;'} for decoupled decay, document ${wd} as a decoupled weight decay.`,
          related: [{ span: intent.span, message: `${wd} is ${how} here` }],
          math: { expected: `g ← g + ${wd}·w before the moments (the gradient of (${wd}/2)‖w‖²); no decoupled shrink` },
        });
      }
    }
    const hands = frameworkFacts(facts).handDecays.map((hand) => ({ hand, found: handDecayDecoupledAsL2(facts, hand) }));
    // `p.mul_(1 - lr * l2)` is both a scaling and an update whose increment is −lr·l2·p: report the statement once.
    const inner = (a: { start: number; end: number }): boolean => hands.some((o) => o.found && (o.hand.span.start < a.start || o.hand.span.end > a.end) && o.hand.span.start <= a.start && a.end <= o.hand.span.end);
    for (const { hand, found } of hands) {
      if (!found || inner(hand.span)) continue;
      const text = (e: { span: { start: number; end: number } }): string => facts.source(e.span).replace(/\s+/g, ' ');
      const show = (key: string): string => (facts.language === 'python' ? key.replace(/"/g, "'") : key);
      const param = text(hand.target);
      const lambda = found.strength.map(text).join(' * ');
      const eta = found.lr ? text(found.lr) : undefined;
      const shrink = eta ? `(1 − ${eta}·${lambda})` : `(1 − ${lambda})`;
      // The step keys an array's elements by the array (`grads` for `g[j]` of `g = grads[i]`): an element's gradient is named by its array.
      const gradKey = found.gradient ? show(found.gradient) : undefined;
      const whole = gradKey !== undefined && ((param.includes('[') && !gradKey.includes('[')) || !found.gradientWritten);
      const grad = gradKey === undefined ? 'the gradient' : whole ? `its gradient (from ${gradKey})` : gradKey;
      const g = gradKey === undefined || whole ? 'g' : gradKey;
      const moments = found.firstMoment ? `${text(found.firstMoment.eq.target)} and ${text(found.secondMoment.eq.target)}` : text(found.secondMoment.eq.target);
      // Not the family's name: the recognizer's nearest family is not always the algorithm's (the hover checks the shape before naming one).
      const family = 'adaptive step';
      const how = found.intent.kind === 'name' ? 'named as an L2 penalty' : 'documented as an L2 penalty';
      context.report({
        span: hand.span,
        message:
          `${text(hand)} shrinks ${param} directly, ${param} ← ${shrink}·${param}, outside the adaptive ratio of this hand-written ${family}: decoupled weight decay (AdamW). ` +
          `But ${lambda} is ${how}, and L2 regularization is coupled: its gradient λ·w (of (λ/2)‖w‖²) joins the gradient before the moments, g ← g + λ·w, and is divided by √v̂ + ε with the rest; ` +
          `in an adaptive step the two are different regularizers (Loshchilov & Hutter, Prop. 2). For L2, add ${lambda} * ${param} to ${grad} before ${moments} and drop the shrink; ` +
          `for decoupled decay, document ${lambda} as a decoupled weight decay.`,
        related: [
          { span: found.intent.span, message: `${lambda} is ${how} here` },
          { span: found.secondMoment.eq.spans[0], message: 'the second moment the adaptive step divides by; L2 would enter it through the gradient' },
        ],
        math: { expected: `${g} ← ${g} + ${lambda}·${param}${whole ? ` (g: its gradient, from ${gradKey})` : ''}, before ${moments}; ${param} not shrunk` },
      });
    }
  },
});
