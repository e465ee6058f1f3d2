// NB303 penalty-without-gradient: a penalty added to the differentiated loss carries no gradient.
//
// ## What it does
// Follows each differentiated loss (`loss.backward()`, `tape.gradient(loss, ...)`,
// `optimizer.minimize(() => ...)`) back to the penalties added into it, and flags a penalty whose
// value was cut from the graph: built from `p.data`, `p.detach()`, `.item()`, `.numpy()`,
// `float(...)`, `tf.stop_gradient(...)`, `dataSync()`; computed under `torch.no_grad()`; or
// computed outside the GradientTape block / the minimized closure, which record nothing else.
// A copy made trainable again (`w.detach().clone().requires_grad_(True)`, `nn.Parameter(...)`,
// `tf.Variable(...)`) is a new tracked leaf: a penalty on it has a gradient.
//
// ## Why is this bad?
// Such a penalty is a constant to autodiff: it raises the reported loss, but its gradient is zero,
// so the weights are not regularized at all.
import { defineRule, type Report } from './rule';
import type { Span } from '../engine/ir';
import { trainingFacts, within, type DiffEvent, type Term, type TrainingFacts } from '../engine/facts/loops';

export const nb303PenaltyWithoutGradient = defineRule({
  meta: {
    code: 'NB303',
    name: 'penalty-without-gradient',
    severity: 'warning',
    summary: 'A penalty added to the loss is built from values without gradient (.data, .detach(), .item(), no_grad, outside the tape)',
    fix: 'sometimes',
  },
  check(context) {
    const t = trainingFacts(context.facts);
    const reported = new Set<number>();
    const report = (r: Report): void => {
      if (reported.has(r.span.start)) return;
      reported.add(r.span.start);
      context.report(r);
    };
    for (const d of t.diffs) {
      for (const term of t.lossTerms(d)) {
        const p = t.penalty(term.expr, term.scope, term.at, term.env);
        if (!p) continue;
        const pen = short(t.text(term.expr));
        const related = relatedInfo(t, d, term);
        const math = { missingTerm: { how: 'no-gradient' as const, term: pen, ...(d.loss ? { loss: short(t.text(d.loss)) } : {}) } };
        if (p.detached.length > 0) {
          const first = p.detached[0];
          const fixable = p.detached.filter((x) => x.keep !== undefined);
          report({
            span: first.span,
            message: `${first.what}, so the penalty ${pen} has no gradient: adding it to the loss changes the reported loss, not the training`,
            related,
            fix:
              fixable.length === p.detached.length
                ? { title: 'Use the parameters themselves, with their gradient', safety: 'unsafe', edits: fixable.map((x) => ({ span: x.span, newText: x.keep! })) }
                : undefined,
            math,
          });
        } else if (p.noGrad) {
          report({
            span: p.noGrad.span,
            message: `the penalty ${pen} has no gradient, because ${p.noGrad.what}: adding it to the loss changes the reported loss, not the training`,
            related,
            math,
          });
        } else if (d.record && (d.kind === 'tape' || d.kind === 'closure') && computedBefore(t, d, d.record, term.site)) {
          const where = d.kind === 'tape' ? 'before the GradientTape block, which records only the operations run inside it' : 'outside the function whose result is minimized, which records only the operations it runs';
          report({
            span: term.site,
            message: `the penalty ${pen} is computed ${where}: to the gradient it is a constant, so it does not regularize`,
            related: [{ span: d.record, message: d.kind === 'tape' ? 'the tape records this block' : 'the recorded function' }, ...related],
            math,
          });
        }
      }
    }
  },
});

/** Computed before the recording region, or in another function (once, e.g. at module level). */
function computedBefore(t: TrainingFacts, d: DiffEvent, record: Span, site: Span): boolean {
  if (within(site, record) || t.inNoGrad(site)) return false;
  // In another function or method (say, a model's `call`), it may well run inside the tape.
  if (within(site, t.functionOf(d.info.unit).span)) return site.end <= record.start;
  return t.unitAt(site).kind === 'module';
}

function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

function relatedInfo(t: TrainingFacts, d: DiffEvent, term: Term): { span: Span; message: string }[] {
  const out: { span: Span; message: string }[] = [];
  const added = term.via[0];
  if (added) out.push({ span: added, message: 'the penalty reaches the loss through here' });
  out.push({ span: d.call.span, message: `the loss is differentiated here: ${t.text(d.call).split('\n')[0]}` });
  return out;
}
