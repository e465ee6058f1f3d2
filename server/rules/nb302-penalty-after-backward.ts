// NB302 penalty-after-backward: a penalty is added to the loss after its gradients were computed.
//
// ## What it does
// Finds `loss = loss + lam * l2` / `loss += sum(model.losses)` placed after `loss.backward()`,
// `torch.autograd.grad(loss, ...)` or `tape.gradient(loss, ...)` with no later backward pass over
// that loss; and penalties added to a GradientTape's loss outside the `with` block, which the
// tape does not record.
//
// ## Why is this bad?
// Gradients are computed from the loss as it is when backward runs. What is added afterwards
// changes the printed loss but not a single gradient: the model is trained unregularized.
import { defineRule } from './rule';
import type { Expr } from '../engine/ir';
import { innermostLoop, mayFollow, referencedKeys, trainingFacts, within, type DiffEvent, type StmtInfo, type TrainingFacts } from '../engine/facts/loops';

export const nb302PenaltyAfterBackward = defineRule({
  meta: {
    code: 'NB302',
    name: 'penalty-after-backward',
    severity: 'warning',
    summary: 'A penalty is added to the loss after backward() / tape.gradient() already computed the gradients',
    fix: 'none',
  },
  check(context) {
    const t = trainingFacts(context.facts);
    if (t.diffs.length === 0) return;
    const reported = new Set<number>();
    for (const info of t.infos) {
      const added = t.penaltyAddition(info);
      if (!added || reported.has(added.penalty.span.start)) continue;
      const { key, penalty } = added;
      const A = info.stmt.span;
      const own = t.diffs.filter((d) => d.info.unit === info.unit && d.kind !== 'closure' && t.lossKeys(d).includes(key));
      if (differentiatedLater(t, info, key) || penaltyDifferentiated(t, info, penalty)) continue;
      const pen = t.text(penalty);
      const before = own.filter((d) => d.call.span.end <= A.start && mayFollow(d.info, info) && sameIteration(t, d, info, key));
      const last = before[before.length - 1];
      if (last) {
        reported.add(penalty.span.start);
        const call = t.text(last.call).split('\n')[0];
        context.report({
          span: penalty.span,
          message: `the penalty ${pen} is added to ${key} after ${call} computed the gradients, and no later backward pass uses it: it changes the reported loss, not the training`,
          related: [{ span: last.call.span, message: 'the gradients are computed here, without the penalty' }],
          math: { missingTerm: { how: 'left-out', term: pen, loss: key } },
        });
        continue;
      }
      // TensorFlow: added to the tape's loss outside the `with tf.GradientTape()` block.
      const tape = own.find((d) => d.kind === 'tape' && d.record && A.start >= d.record.end && d.call.span.start > A.end && t.assignsIn(key, d.record) && mayFollow(d.info, info));
      if (tape && tape.record && !t.tapeBlocks.some((b) => within(A, b.info.stmt.span)) && !reassignedInTapeAfter(t, key, info)) {
        reported.add(penalty.span.start);
        context.report({
          span: penalty.span,
          message: `the penalty ${pen} is added to ${key} outside the GradientTape block, which records only what runs inside it: ${t.text(tape.call).split('\n')[0]} does not differentiate the penalty`,
          related: [
            { span: tape.record, message: 'the tape records this block only' },
            { span: tape.call.span, message: 'the gradients are computed here' },
          ],
          math: { missingTerm: { how: 'no-gradient', term: pen, loss: key } },
        });
      }
    }
  },
});

/**
 * A later differentiation in the same function that uses the loss (by name or through its data
 * flow). A tape only differentiates what it recorded: an addition outside its block does not count.
 */
function differentiatedLater(t: TrainingFacts, info: StmtInfo, key: string): boolean {
  const A = info.stmt.span;
  return t.diffs.some(
    (d) =>
      d.call.span.start > A.end &&
      within(d.call.span, t.functionOf(info.unit).span) &&
      !(d.kind === 'tape' && d.record && !within(A, d.record)) &&
      (t.lossKeys(d).includes(key) || t.lossTerms(d).some((term) => term.via.some((v) => v.start === A.start) || within(term.site, A))),
  );
}

/** The penalty has its own backward pass (`reg.backward()`), so adding it to the loss afterwards only reports it. */
function penaltyDifferentiated(t: TrainingFacts, info: StmtInfo, penalty: Expr): boolean {
  const keys = new Set(referencedKeys(penalty));
  const fn = t.functionOf(info.unit).span;
  return t.diffs.some((d) => within(d.call.span, fn) && t.lossKeys(d).some((k) => keys.has(k)));
}

/**
 * Inside a loop, the loss must be recomputed before backward in each iteration; otherwise the
 * addition might reach the next iteration's backward.
 */
function sameIteration(t: TrainingFacts, d: DiffEvent, info: StmtInfo, key: string): boolean {
  const loop = innermostLoop(d.info);
  if (!loop) return !t.freshAssignmentBetween(key, d.call.span.end, info.stmt.span.start, info);
  if (!info.ancestors.includes(loop)) return false;
  return t.freshAssignmentBetween(key, loop.span.start, d.call.span.start, info) && !t.freshAssignmentBetween(key, d.call.span.end, info.stmt.span.start, info);
}

/** A later tape block that recomputes the loss (the next training step in straight-line code). */
function reassignedInTapeAfter(t: TrainingFacts, key: string, info: StmtInfo): boolean {
  const fn = t.functionOf(info.unit).span;
  return t.tapeBlocks.some((b) => b.info.stmt.span.start > info.stmt.span.end && within(b.info.stmt.span, fn) && t.assignsIn(key, b.info.stmt.span));
}
