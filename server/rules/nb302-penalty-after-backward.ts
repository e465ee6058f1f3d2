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
import type { Expr, Span, Stmt } from '../engine/ir';
import { exprKey } from '../engine/facts/keys';
import { subExprs, trainingFacts, within, type DiffEvent, type StmtInfo, type TrainingFacts } from '../engine/facts/loops';

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
      const added = penaltyAddition(t, info);
      if (!added || reported.has(added.penalty.span.start)) continue;
      const { key, penalty } = added;
      const A = info.stmt.span;
      const own = t.diffs.filter((d) => d.info.unit === info.unit && d.kind !== 'closure' && lossKeys(d).includes(key));
      if (differentiatedLater(t, info, key) || penaltyDifferentiated(t, info, penalty)) continue;
      const pen = t.text(penalty);
      const before = own.filter((d) => d.call.span.end <= A.start && reachable(d.info, info) && sameIteration(t, d, info, key));
      const last = before[before.length - 1];
      if (last) {
        reported.add(penalty.span.start);
        const call = t.text(last.call).split('\n')[0];
        context.report({
          span: penalty.span,
          message: `the penalty ${pen} is added to ${key} after ${call} computed the gradients, and no later backward pass uses it: it changes the reported loss, not the training`,
          related: [{ span: last.call.span, message: 'the gradients are computed here, without the penalty' }],
        });
        continue;
      }
      // TensorFlow: added to the tape's loss outside the `with tf.GradientTape()` block.
      const tape = own.find((d) => d.kind === 'tape' && d.record && A.start >= d.record.end && d.call.span.start > A.end && assignedWithin(t, key, d.record) && reachable(d.info, info));
      if (tape && tape.record && !t.tapeBlocks.some((b) => within(A, b.info.stmt.span)) && !reassignedInTapeAfter(t, key, info)) {
        reported.add(penalty.span.start);
        context.report({
          span: penalty.span,
          message: `the penalty ${pen} is added to ${key} outside the GradientTape block, which records only what runs inside it: ${t.text(tape.call).split('\n')[0]} does not differentiate the penalty`,
          related: [
            { span: tape.record, message: 'the tape records this block only' },
            { span: tape.call.span, message: 'the gradients are computed here' },
          ],
        });
      }
    }
  },
});

/** `K += P`, `K = K + P`, `K = P + K`, `K = K.add(P)` with P a penalty. */
function penaltyAddition(t: TrainingFacts, info: StmtInfo): { key: string; penalty: Expr } | undefined {
  const s = info.stmt;
  if (s.kind !== 'assign' || s.targets.length !== 1 || (s.op && s.op !== '+')) return undefined;
  const key = exprKey(s.targets[0]);
  if (key === undefined || s.targets[0].kind === 'index') return undefined;
  let parts = t.addends(s.value);
  if (!s.op) {
    const self = parts.findIndex((p) => exprKey(p) === key);
    if (self < 0) return undefined;
    parts = parts.filter((_, i) => i !== self);
  }
  const penalty = parts.find((p) => t.penalty(p, info.scope, s.span.start));
  return penalty && { key, penalty };
}

function lossKeys(d: DiffEvent): string[] {
  return d.loss ? subExprs(d.loss).flatMap((x) => (x.kind === 'name' || x.kind === 'attr' ? [exprKey(x) ?? ''] : [])) : [];
}

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
      (lossKeys(d).includes(key) || t.lossTerms(d).some((term) => term.via.some((v) => v.start === A.start) || within(term.site, A))),
  );
}

/** The penalty has its own backward pass (`reg.backward()`), so adding it to the loss afterwards only reports it. */
function penaltyDifferentiated(t: TrainingFacts, info: StmtInfo, penalty: Expr): boolean {
  const keys = new Set(subExprs(penalty).flatMap((x) => (x.kind === 'name' || x.kind === 'attr' ? [exprKey(x) ?? ''] : [])));
  const fn = t.functionOf(info.unit).span;
  return t.diffs.some((d) => within(d.call.span, fn) && lossKeys(d).some((k) => keys.has(k)));
}

/** Not in exclusive branches: `if ...: loss.backward()` / `else: loss = loss + pen`. */
function reachable(from: StmtInfo, to: StmtInfo): boolean {
  return !from.ancestors.some((x) => x.kind === 'block' && x.label === 'if' && within(to.stmt.span, x.span) && !to.ancestors.includes(x));
}

const isLoop = (s: Stmt): boolean => s.kind === 'for' || (s.kind === 'block' && s.label === 'while');

/**
 * Inside a loop, the loss must be recomputed before backward in each iteration; otherwise the
 * addition might reach the next iteration's backward.
 */
function sameIteration(t: TrainingFacts, d: DiffEvent, info: StmtInfo, key: string): boolean {
  const loops = d.info.ancestors.filter(isLoop);
  const loop = loops[loops.length - 1];
  if (!loop) return !freshBetween(t, key, d.call.span.end, info.stmt.span.start, info);
  if (!info.ancestors.includes(loop)) return false;
  return freshBetween(t, key, loop.span.start, d.call.span.start, info) && !freshBetween(t, key, d.call.span.end, info.stmt.span.start, info);
}

/** A plain assignment to `key` (not an accumulation) between two offsets, in the same unit. */
function freshBetween(t: TrainingFacts, key: string, from: number, to: number, info: StmtInfo): boolean {
  return t.infosIn(info.unit.span).some((i) => {
    const s = i.stmt;
    if (i.unit !== info.unit || s.kind !== 'assign' || s.op || s.span.start < from || s.span.start >= to) return false;
    if (!s.targets.some((x) => exprKey(x) === key)) return false;
    return !subExprs(s.value).some((x) => exprKey(x) === key);
  });
}

function assignedWithin(t: TrainingFacts, key: string, region: Span): boolean {
  return t.infosIn(region).some((i) => i.stmt.kind === 'assign' && i.stmt.targets.some((x) => exprKey(x) === key));
}

/** A later tape block that recomputes the loss (the next training step in straight-line code). */
function reassignedInTapeAfter(t: TrainingFacts, key: string, info: StmtInfo): boolean {
  const fn = t.functionOf(info.unit).span;
  return t.tapeBlocks.some((b) => b.info.stmt.span.start > info.stmt.span.end && within(b.info.stmt.span, fn) && assignedWithin(t, key, b.info.stmt.span));
}
