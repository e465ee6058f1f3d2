// NB304 penalty-never-used: a penalty is computed in a training step but never reaches the loss.
//
// ## What it does
// Finds penalties that are assigned and never read, overwritten before they are read, or added to
// the loss by an operation whose result is thrown away (`loss.add(penalty)` or
// `tf.add(loss, penalty)` as a statement: tensors are immutable); and a regularizer's gradient
// added, beside its penalty, to a gradient variable that is overwritten before anything reads it.
//
// ## Why is this bad?
// The author meant to regularize, and the code looks like it does, but the penalty never reaches
// the loss that is differentiated: training runs unregularized.
import { defineRule } from './rule';
import { lostPenalties } from '../engine/facts/unused';

export const nb304PenaltyNeverUsed = defineRule({
  meta: {
    code: 'NB304',
    name: 'penalty-never-used',
    severity: 'warning',
    summary: "A penalty is computed but never reaches the loss, or a regularizer's gradient never reaches an update: unused, overwritten, or the result of an immutable add is discarded",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const lost of lostPenalties(facts)) {
      if (lost.kind === 'unread') {
        context.report({
          span: lost.target,
          message: `the penalty ${lost.name} is computed but never used: it does not reach the loss that is differentiated`,
          math: { missingTerm: { how: 'left-out', term: lost.name } },
        });
      } else if (lost.kind === 'overwritten') {
        context.report({
          span: lost.target,
          message: `the penalty ${lost.name} is overwritten on ${facts.lineLabel(lost.next.span)} before it is used: it never reaches the loss`,
          related: [{ span: lost.next.span, message: `${lost.name} is overwritten here` }],
          math: { missingTerm: { how: 'left-out', term: lost.name } },
        });
      } else if (lost.kind === 'deadGradient') {
        const gradient = facts.source(lost.gradient.span).replace(/\s+/g, ' ');
        const penalty = facts.source(lost.penalty.span).replace(/\s+/g, ' ');
        const fate = lost.next ? `overwritten on ${facts.lineLabel(lost.next.span)} before anything reads it` : 'read by nothing after this';
        context.report({
          span: lost.stmt.span,
          message: `the regularizer's gradient ${gradient} is added to ${lost.name}, which is ${fate}: it never reaches a weight update, while its penalty ${penalty} is added to the reported loss`,
          related: [
            ...(lost.next ? [{ span: lost.next.span, message: `${lost.name} is overwritten here` }] : []),
            { span: lost.penalty.span, message: 'the penalty it belongs to' },
          ],
          math: { missingTerm: { how: 'left-out', term: gradient } },
        });
      } else {
        const what = lost.cls ? `${lost.cls}.${lost.method}() returns a new ${lost.cls} and leaves its operands as they were` : 'tensors are immutable';
        context.report({
          span: lost.sum.span,
          message: `${facts.source(lost.sum.span).replace(/\s+/g, ' ')} computes a new value and throws it away, so ${facts.source(lost.penalty.span)} never reaches the loss: ${what}; assign the result`,
          math: { missingTerm: { how: 'left-out', term: facts.source(lost.penalty.span).replace(/\s+/g, ' ') } },
        });
      }
    }
  },
});
