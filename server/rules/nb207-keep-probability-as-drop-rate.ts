// NB207 keep-probability-as-drop-rate: a keep probability given to a framework dropout's drop rate
// (`tf.layers.Dropout(keep_prob)`, Keras `Dropout(rate=keep_prob)`, `tf.nn.dropout(x, rate=keep_prob)`,
// `nn.Dropout(p=keep_prob)`): the layer drops the share the code meant to keep.
//
// ## What it does
// Reports what engine/facts/dropoutRates.ts finds: the argument, why it is a keep probability (a
// keep mask drawn with it, its complement given as a rate elsewhere, or its name) and its value.
import { defineRule } from './rule';
import { keepProbabilitiesAsRates } from '../engine/facts/dropoutRates';

const percent = (x: number): string => `${Math.round(x * 1000) / 10}%`;

export const nb207KeepProbabilityAsDropRate = defineRule({
  meta: {
    code: 'NB207',
    name: 'keep-probability-as-drop-rate',
    severity: 'warning',
    summary: "A keep probability is given to a framework dropout's drop rate (Keras/TF `rate`, torch `p`): the layer drops the share of units meant to be kept",
    fix: 'always',
  },
  check(context) {
    const { facts } = context;
    for (const f of keepProbabilitiesAsRates(facts)) {
      const written = facts.source(f.arg.span);
      const why =
        f.evidence.kind === 'mask'
          ? `\`${written}\` is a keep probability here (a keep mask is drawn with it, units kept where a uniform draw is below it)`
          : f.evidence.kind === 'complement'
          ? `\`${written}\` is a keep probability here (its complement is given as a drop rate elsewhere in this function)`
          : `\`${written}\` is named as a keep probability, the share of units kept`;
      const effect =
        f.value === 0.5
          ? `at its value 0.5 the two readings agree, but any other keep probability passed here drops the share it should keep (0.8 drops 80% of the units)`
          : f.value !== undefined
          ? `with ${written} = ${f.value} the layer drops ${percent(f.value)} of the units and keeps ${percent(1 - f.value)}, not the other way round`
          : `a keep probability of 0.8 drops 80% of the units and keeps 20%`;
      const related = f.evidence.span ? [{ span: f.evidence.span, message: f.evidence.kind === 'mask' ? `the keep mask drawn with \`${written}\`` : `\`${written}\`'s complement given as a drop rate` }] : undefined;
      context.report({
        span: f.arg.span,
        message:
          `${why}, but \`${f.api}\`'s \`${f.parameter}\` is the share of units DROPPED: ${effect}. ` +
          `(TF1's \`tf.nn.dropout(x, keep_prob)\` took the keep probability; its successors take the drop rate.) Pass \`1 - ${written}\`.`,
        ...(related ? { related } : {}),
        fix: { title: `Pass the drop rate 1 - ${written}`, safety: 'unsafe', edits: [{ span: f.arg.span, newText: `1 - ${written}` }] },
      });
    }
  },
});
