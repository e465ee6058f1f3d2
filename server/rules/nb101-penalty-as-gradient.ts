// NB101 penalty-as-gradient: an update adds R(W) itself where ∇R(W) belongs.
//
// ## What it does
// Finds updates of a parameter W (`W -= lr * (...)`, `p.sub_(...)`, `w.assign(w.sub(...))`,
// `tree_map(lambda p, g: p - lr * (...))`) and accumulations into its gradient (`dW += ...`,
// `grad = grad + ...`) that add a penalty value R(W), such as `reg * np.sum(W * W)`, instead of
// its gradient `2 * reg * W`.
//
// ## Why is this bad?
// R(W) is a scalar: adding it shifts every weight by the same amount, whatever its size, so the
// regularizer does not pull weights towards zero. R(W) belongs in the loss; its gradient in the update.
import { defineRule, type Report } from './rule';
import { gradientOf } from '../math/derive';
import { codeGradient } from '../math/print/code';
import { unicodeGradient, unicodePenalty } from '../math/print/unicode';
import type { Gradient, Penalty } from '../math/terms';
import type { Facts, PenaltyTerm, UpdateSite } from '../engine/facts';
import { baseExpr, exprKey, lastComponent } from '../engine/facts/keys';
import { paramIds } from '../engine/facts/gradients';
import { withinDerivativeFactor } from '../engine/facts/derivativeFactors';
import { penaltiesFor } from '../engine/facts/losses';
import { parameterOfGradient } from '../engine/facts/roles';
import { regularizerObjects, type RegularizerMethod } from '../engine/facts/regularizerObjects';
import { explicitParams } from '../engine/facts/scope';
import { differencedSummands } from '../engine/facts/finiteDifferences';
import { equalCoef, num } from '../math/coef';

export const nb101PenaltyAsGradient = defineRule({
  meta: {
    code: 'NB101',
    name: 'penalty-as-gradient',
    severity: 'error',
    summary: 'An update or gradient adds the penalty R(W) where its gradient ∇R(W) belongs',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    const reported = new Set<string>();
    for (const site of facts.updates) {
      // A preconditioner (RMSprop's mean square) is a sum of squared gradients by design: it sets
      // the step's scale, not its direction, so no penalty gradient belongs in it.
      const key = site.kind === 'update' ? exprKey(baseExpr(site.target)) : undefined;
      if (key !== undefined && facts.state.isPreconditioner(key, site.at)) continue;
      // `(J(w + h) - J(w)) / h` of a regularized cost J: the penalty's two evaluations cancel to its slope (finiteDifferences.ts).
      const differenced = differencedSummands(facts.analyzer, facts.source, site.increment);
      for (const summand of site.increment) {
        if (differenced.has(summand)) continue;
        const found = facts.analyzer.penaltyOfSummand(summand, site.increment);
        if (!found || !found.params.every((p) => facts.analyzer.isParam(p.base))) continue;
        // An elementwise c·|W| is an L1 gradient written with abs instead of sign: NB104's finding.
        if (found.kind === 'elemabs') continue;
        // `d_pre = (1 - u * u) * d_out`: tanh's slope through its output times the upstream gradient,
        // a chain-rule product; its u² is no penalty of u (derivativeFactors.ts).
        if (inDerivativeFactor(facts, site, found)) continue;
        const spanKey = `${summand.site.start}:${summand.site.end}`;
        if (reported.has(spanKey)) continue;
        reported.add(spanKey);
        context.report(buildReport(facts, site, summand, found));
      }
    }
    // A regularizer class whose method named as the gradient returns a penalty, like its value method.
    for (const o of regularizerObjects(facts)) {
      const wrong = o.penaltyAsGradient;
      if (wrong) context.report(penaltyMethodReport(facts, o.value, wrong));
    }
  },
});

/** Do the penalty's occurrences sit inside an activation's derivative factor of the site's written value? */
function inDerivativeFactor(facts: Facts, site: UpdateSite, found: PenaltyTerm): boolean {
  const key = exprKey(site.target);
  if (key === undefined) return false;
  const text = (e: { span: { start: number; end: number } }): string => facts.source(e.span).replace(/\s+/g, '');
  const spans = found.params.map((p) => p.expr.span);
  return site.scope.allBindings(key).some((b) => b.value !== undefined && b.value.span.start >= site.span.start && b.value.span.end <= site.span.end && withinDerivativeFactor(b.value, spans, text));
}

function penaltyMethodReport(facts: Facts, value: RegularizerMethod & { penalty: PenaltyTerm }, wrong: RegularizerMethod & { penalty: PenaltyTerm }): Report {
  const weight = explicitParams(wrong.fn)[0]?.name ?? 'w';
  const written: Penalty = { kind: wrong.penalty.kind, coef: wrong.penalty.coef, param: weight };
  const defined: Penalty = { kind: value.penalty.kind, coef: value.penalty.coef, param: weight };
  const gradient = gradientOf(defined);
  const valueLine = facts.program.lineLabel(value.ret.expr.span);
  const message = `${wrong.fn.name}() returns the penalty ${unicodePenalty(written)} (a scalar) where the gradient of ${value.fn.name}()'s penalty ${unicodePenalty(defined)} on ${valueLine}, ${unicodeGradient(gradient)}, belongs`;
  return {
    span: wrong.ret.expr.span,
    message,
    related: [{ span: value.ret.expr.span, message: `${value.fn.name}() returns the penalty ${unicodePenalty(defined)} here` }],
    math: { computed: unicodePenalty(written), expected: unicodeGradient(gradient), site: wrong.ret.expr.span, update: wrong.ret.expr.span, penalty: written, gradient },
  };
}

function buildReport(facts: Facts, site: UpdateSite, summand: UpdateSite['increment'][number], found: PenaltyTerm): Report {
  const text = (span: { start: number; end: number }): string => facts.source(span);
  // With a penalty over several parameters, the one that matters is the one being updated.
  // For a gradient (`dW2 += ...`) the parameter is the one it belongs to (W2).
  const targetKey = site.kind === 'update' ? exprKey(baseExpr(site.target)) : (parameterOfGradient(site.target) ?? exprKey(baseExpr(site.target)));
  const own = found.params.find((p) => exprKey(p.base) === targetKey || lastComponent(p.base) === targetKey);
  const occurrence = own ?? found.params[0];
  const penalty: Penalty = { kind: found.kind, coef: found.coef, param: text(occurrence.expr.span), via: found.via };
  // `dW1 += lam * (ΣW1² + ΣW2²)`: the penalty on W2 does not depend on W1, so nothing of it belongs in W1's
  // gradient. Said only when another summand penalizes the target itself, which shows that the two differ
  // (an element `wi` of the penalized `w`, or an alias, penalizes no key of its own).
  const ownElsewhere = (): boolean =>
    site.increment.some((s) => s !== summand && facts.analyzer.penaltyOfSummand(s, site.increment)?.params.some((p) => exprKey(p.base) === targetKey || lastComponent(p.base) === targetKey));
  if (!own && targetKey !== undefined && ownElsewhere()) return otherParameterReport(facts, site, summand, found, penalty, targetKey);
  // The gradient that belongs is the one of the penalty the loss defines (`reg / (2 * N) * Σw²` gives
  // `reg / N * w`), when the loss defines it one way; otherwise the written term's own gradient.
  const defined = lossPenalty(facts, site, occurrence, found);
  const definedPenalty: Penalty | undefined = defined ? { ...penalty, kind: defined.kind, coef: defined.coef, via: defined.kind === found.kind ? penalty.via : undefined } : undefined;
  const gradient: Gradient = gradientOf(definedPenalty ?? penalty);
  const shape = found.kind === 'elemsq' || found.kind === 'elemabs' ? "the penalty's value, not its slope" : 'a scalar';
  const targetText = text(site.target.span);
  const subject = site.kind === 'update' ? `update of ${targetText}` : `gradient ${targetText}`;
  const lossForm = definedPenalty && (defined!.kind !== found.kind || !equalCoef(defined!.coef, found.coef)) ? definedPenalty : undefined;
  const belongs = lossForm ? `the gradient of the loss's penalty ${unicodePenalty(lossForm)}, ${unicodeGradient(gradient)},` : `its gradient ${unicodeGradient(gradient)}`;
  // The gradient a backward pass carries back (dLoss/dOutput) is no weight's own gradient: the penalty's gradient belongs in each weight's.
  const message = site.upstream
    ? `gradient ${targetText}, which the backward pass carries back, adds the penalty ${unicodePenalty(penalty)} (${shape}), which then shifts the gradient of every weight it reaches; ${lossForm ? `the gradient of the loss's penalty, ${unicodeGradient(gradient)},` : `its gradient ${unicodeGradient(gradient)}`} belongs in the gradient of ${penalty.param} itself`
    : `${subject} adds the penalty ${unicodePenalty(penalty)} (${shape}) where ${belongs} belongs`;

  const related = found.defs.map((d) => ({ span: d.span, message: d.what }));
  if (summand.via.length > 0) related.push({ span: summand.via[0], message: `the step with the penalty is applied here` });

  // The replacement is certain math but changes training, so the fix is unsafe (never applied by
  // fix-all). It replaces exactly the text at the site, whose coefficient (and so sign) the penalty
  // carries; signs outside the site (`-=`, `dW - ...`) stay as written.
  // A coefficient written outside the site (`lam` in `lam * (ΣW1² + ΣW2²)`, `alpha=wd`) stays there and
  // scales the replacement: the site gets the gradient of what is written at it.
  const atSite = facts.analyzer.penaltyOfSummand(summand);
  const outside = !atSite || !equalCoef(atSite.coef, found.coef);
  // A coefficient written outside the site scales the replacement only when the loss's penalty is the written one's kind.
  const lossKind = defined !== undefined && defined.kind !== found.kind;
  if (outside && lossKind) return { span: summand.site, message, related, math: { computed: unicodePenalty(penalty), expected: unicodeGradient(gradient), site: summand.site, update: site.span, penalty, gradient, lossPenalty: definedPenalty } };
  const replaced = outside && atSite ? gradientOf({ ...penalty, coef: atSite.coef }) : gradient;
  const replacement = summand.via.length === 0 && found.defs.length === 0 && !site.upstream && atSite ? codeGradient(replaced, facts.dialect, penalty.param) : undefined;
  const fix = replacement
    ? { title: lossForm && !outside ? `Replace the penalty with the loss's penalty gradient ${replacement}` : `Replace the penalty with its gradient ${replacement}`, safety: 'unsafe' as const, edits: [{ span: summand.site, newText: replacement }] }
    : undefined;
  return {
    span: summand.site,
    message,
    related,
    fix,
    math: { computed: unicodePenalty(penalty), expected: unicodeGradient(gradient), site: summand.site, update: site.span, penalty, gradient, ...(lossKind ? { lossPenalty: definedPenalty } : {}) },
  };
}

/** A penalty on other parameters added to one parameter's update or gradient: its gradient there is zero. */
function otherParameterReport(facts: Facts, site: UpdateSite, summand: UpdateSite['increment'][number], found: PenaltyTerm, penalty: Penalty, targetKey: string): Report {
  const targetText = facts.source(site.target.span);
  const subject = site.kind === 'update' ? `update of ${targetText}` : `gradient ${targetText}`;
  const own = gradientOf(penalty);
  const message = `${subject} adds the penalty ${unicodePenalty(penalty)} (a scalar), which does not depend on ${targetKey}: its gradient with respect to ${targetKey} is 0, so the term does not belong here (its gradient ${unicodeGradient(own)} belongs in the ${site.kind === 'update' ? 'update' : 'gradient'} of ${penalty.param})`;
  const related = found.defs.map((d) => ({ span: d.span, message: d.what }));
  if (summand.via.length > 0) related.push({ span: summand.via[0], message: `the step with the penalty is applied here` });
  const gradient: Gradient = { kind: 'linear', coef: num(0), param: targetKey };
  return { span: summand.site, message, related, math: { computed: unicodePenalty(penalty), expected: '0', site: summand.site, update: site.span, penalty, gradient } };
}

/**
 * The loss's own penalty on the parameter, with the written term's sign, when the loss defines exactly one:
 * of the written term's kind, or, when the loss has none of that kind, of the one kind it has
 * (`dW += 2 * reg * norm(W)` beside a loss adding `reg * norm(W)**2`: the gradient that belongs is
 * that of reg·‖W‖₂², 2·reg·W, not that of the norm written at the site).
 */
function lossPenalty(facts: Facts, site: UpdateSite, occurrence: PenaltyTerm['params'][number], found: PenaltyTerm): { kind: PenaltyTerm['kind']; coef: PenaltyTerm['coef'] } | undefined {
  // In an update the written term carries the learning rate, which the loss's penalty does not.
  if (site.kind === 'update') return undefined;
  const all = penaltiesFor(facts, paramIds(facts, occurrence, site.scope), site.scope);
  if (all.length === 0 || all.some((p) => p.site.autodiff)) return undefined;
  const ofKind = all.filter((p) => p.kind === found.kind);
  // Another kind only when it is the loss's one (an elementwise term is no loss's penalty on the whole weight).
  const same = ofKind.length > 0 ? ofKind : all.every((p) => p.kind === all[0].kind) && all[0].kind !== 'elemsq' && all[0].kind !== 'elemabs' ? all : [];
  if (same.length === 0) return undefined;
  const first = same[0];
  if (!same.every((p) => equalCoef(p.coef, first.coef))) return undefined;
  // The written term carries the sign of the step it sits in; keep it.
  const sign = Math.sign(found.coef.num) === Math.sign(first.coef.num) ? 1 : -1;
  return { kind: first.kind, coef: { ...first.coef, num: sign * first.coef.num } };
}
