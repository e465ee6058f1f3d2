// NB209 dropout-scale-mismatch: a hand-written dropout whose output at inference differs from its
// expected output in training: kept units left unscaled in training and everything passed through
// unscaled at inference, or the inference scaled by the drop probability instead of the keep probability.
//
// ## What it does
// Reports what engine/facts/dropoutScales.ts finds: the mask, the flag that splits training from
// inference, and the two expected factors; the corrected line when one expression carries the scale.
import { defineRule } from './rule';
import { dropoutScaleMismatches, monoText, sameMono } from '../engine/facts/dropoutScales';
import { someExpr } from '../engine/facts/scope';
import { dropoutBackwardScales } from '../engine/facts/dropoutBackward';

export const nb209DropoutScaleMismatch = defineRule({
  meta: {
    code: 'NB209',
    name: 'dropout-scale-mismatch',
    severity: 'warning',
    summary: 'A hand-written dropout whose inference output differs from its expected training output (kept units unscaled in training and at inference, or inference scaled by the drop probability instead of the keep probability)',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    for (const f of dropoutScaleMismatches(facts)) {
      const p = /^[\w.$]+$/.test(f.variable) ? f.variable : `(${f.variable})`;
      const train = monoText(f.train, p);
      const infer = monoText(f.infer, p);
      const identity = sameMono(f.infer, { c: 1, a: 0, b: 0 });
      const trainText = facts.source(f.trainAt.span);
      const flag = facts.source(f.flag);
      const times = (m: string): string => (m === '1' ? 'x' : `${/^[\w.$]+$/.test(m) ? m : `(${m})`}·x`);
      const head =
        `This dropout's training and inference outputs disagree: in training (the branch of \`${flag}\` that draws the mask \`${facts.source(f.mask)}\`) ` +
        `the next layer sees ${times(train)} on average; at inference it sees ${identity ? 'x unscaled' : times(infer)}.`;
      const effect = identity
        ? ` Nothing rescales: the kept units are not divided by ${train} in training and nothing multiplies by ${train} at inference, so the layers after it get activations 1 / (${train}) times larger when predicting than they were trained on.`
        : train === '1'
        ? ` The training branch already divides the kept units by the keep probability (inverted dropout), so the inference should pass x unscaled; multiplying by ${infer} there scales it twice.`
        : ` The scale at inference should be the expected scale in training, ${train}, not ${infer}${f.infer.a === 1 && f.train.b === 1 && f.infer.b === 0 && f.train.a === 0 ? ` (the drop probability is used where the keep probability belongs; the two agree only at 0.5)` : ''}.`;
      let fixText: string | undefined;
      let edit: { span: typeof f.span; newText: string } | undefined;
      // Inverted dropout's fix drops the factor from its product; a factor that is the whole value
      // (`h *= (1 - p)`) has no product to drop it from, and `h *= 1` is no fix: the advice says what to do.
      if (!identity && f.inferFactor && f.inferAt && !(train === '1' && !f.inferProduct)) {
        // `h * (1 - p)`: the parentheses go with the factor they hold.
        let span = f.inferFactor.parenSpan ?? f.inferFactor.span;
        edit = { span, newText: /^[\w.$]+$/.test(train) ? train : `(${train})` };
        // The training side is already inverted (its expected scale is 1): the inference drops the factor,
        // `x * (1 - p)` becomes `x`.
        const product = f.inferProduct;
        if (train === '1' && product) {
          const other = product.left.span.start <= f.inferFactor.span.start && product.left.span.end >= f.inferFactor.span.end ? product.right : product.left;
          span = product.span;
          edit = { span, newText: facts.source(other.span) };
        }
        // The corrected statement, as written with the factor replaced (a statement on one line; else the expression).
        const statement = f.inferStatement && !facts.source(f.inferStatement).includes('\n') ? f.inferStatement : f.inferAt.span;
        fixText = facts.source({ start: statement.start, end: span.start }) + edit.newText + facts.source({ start: span.end, end: statement.end });
      }
      const zeroStore = f.trainAt.kind === 'call' || f.trainAt.kind === 'num';
      // `expr / keep` only where it divides the values themselves (not a JavaScript array a call builds).
      const divisible = facts.language === 'python' || (f.trainAt.kind !== 'call' && !someExpr(f.trainAt, (e) => e.kind === 'lambda'));
      const inverted = identity && !zeroStore && divisible ? `${/^[\w.$[\]]+$/.test(trainText) ? trainText : `(${trainText})`} / ${/^[\w.$]+$/.test(train) ? train : `(${train})`}` : undefined;
      const advice = identity
        ? ` Divide the kept units by ${train} in training (inverted dropout${inverted ? `: \`${inverted}\`` : ''}), or multiply by ${train} at inference.`
        : fixText
        ? ` Write \`${fixText}\`.`
        : train === '1'
        ? ' Return the input unscaled at inference.'
        : ` Multiply by ${train} at inference.`;
      context.report({
        span: f.span,
        message: head + effect + advice,
        related: [
          { span: f.mask, message: 'the dropout mask' },
          ...(f.inferAt && f.inferAt.span.start !== f.span.start ? [{ span: f.inferAt.span, message: 'the inference output' }] : []),
          ...(f.trainAt.span.start !== f.span.start ? [{ span: f.trainAt.span, message: 'the training output' }] : []),
        ],
        math: {
          computed: `E[training output] = ${times(train)}, inference output = ${identity ? 'x' : times(infer)}`,
          expected: fixText ?? (inverted ? `${inverted} in training` : identity ? `inference output = ${times(train)}, or the kept units divided by ${train} in training` : `inference output = ${times(train)}`),
        },
        ...(edit ? { fix: { title: train === '1' ? 'Leave the inference output unscaled' : `Scale the inference output by ${train}`, safety: 'unsafe' as const, edits: [edit] } } : {}),
      });
    }
    // A backward that leaves out the scale its forward divides the kept units by (facts/dropoutBackward.ts).
    for (const b of dropoutBackwardScales(facts)) {
      const scale = facts.source(b.scale.span);
      const s = /^[\w.$]+$/.test(scale) ? scale : `(${scale})`;
      const back = facts.source(b.backward.span);
      context.report({
        span: b.backward.span,
        message:
          `This dropout's backward returns ${back}, but its forward returns ${facts.source(b.forward.span)}: the forward's derivative is the mask divided by ${s}, so every gradient through the layer is ${s} times the right one ` +
          `(half at p = 0.5), and it is not the gradient of the loss the forward computed. Divide by ${s} in the backward too (\`${back} / ${s}\`), or store the mask already divided by it`,
        related: [
          { span: b.forward.span, message: `the forward divides the kept units by ${s}` },
          { span: b.stored, message: 'the mask is drawn and stored here' },
        ],
      });
    }
  },
});
