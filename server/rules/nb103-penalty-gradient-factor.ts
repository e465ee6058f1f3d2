// NB103 penalty-gradient-factor: the gradient term for W's penalty disagrees with the penalty that
// the same function, class or file adds to the loss.
//
// ## What it does
// Reads the penalty on W from the loss (`loss += reg * np.sum(W * W)`, `0.5 * reg * ...`,
// `c * tf.nn.l2_loss(W)`, Keras/tfjs `l2(c)`, Nielsen's `0.5 * (lmbda / len(data)) * Σ‖w‖²`), derives its
// gradient, and compares it with the c·W (c·sign(W), c·W/‖W‖) the code adds by hand; also a gradient
// returned with the loss that adds no term at all for the loss's penalty (returnedGradients.ts), and the
// reverse, a term in a gradient returned beside a loss with no penalty (lossWithoutPenalty.ts).
// Also a term whose strength is the penalty's but that multiplies a copy of the data gradient, or a
// copy of W with a nonzero constant in the slice the penalty leaves out (penaltyGradientOperand.ts).
//
// ## Why is this bad?
// The hand-written gradient is then not the gradient of the loss being reported: the effective
// regularization strength is off by the factor, and a gradient check against the loss fails.
import { defineRule, type Report } from './rule';
import { coefRatio, div, equalCoef, coef as makeCoef, mul } from '../math/coef';
import { gradientOf, penaltyFromGradient } from '../math/derive';
import { codeGradient } from '../math/print/code';
import { unicodeCoef, unicodeGradient, unicodePenalty } from '../math/print/unicode';
import type { Coef, Gradient, GradientKind, Penalty, PenaltyKind } from '../math/terms';
import type { Facts } from '../engine/facts';
import type { Expr, Span } from '../engine/ir';
import type { FunctionDef } from '../engine/facts/scope';
import { baseExpr, exprKey, lastComponent } from '../engine/facts/keys';
import { countFactor, regGradientTerms, repeatedPerExample, type RegGradientTerm } from '../engine/facts/gradients';
import { lossFacts, penaltiesFor, penaltyPlace, penaltyVerb, type LossPenalty, type LossSummand } from '../engine/facts/losses';
import { canonicalCoef } from '../engine/facts/symbols';
import { isSizeSymbol } from '../engine/facts/roles';
import { fieldLinks, placeOf, writtenCoef } from '../engine/facts/fieldLinks';
import { programIndex, spanKey } from '../engine/facts/program';
import { repeatedAlike, repeatedPenalty as loopPenalty, type RepeatedPenalty } from '../engine/facts/repeatedPenalty';
import { branchesWithoutTerm } from '../engine/facts/branchGradients';
import { missingPenaltyGradientForms, returnedGradientForms } from '../engine/findingForms';
import { returnedGradientsWithoutTerm } from '../engine/facts/returnedGradients';
import { returnedLossesWithoutPenalty } from '../engine/facts/lossWithoutPenalty';
import { misreadPenaltyTerms } from '../engine/facts/penaltyGradientOperand';
import { missingPenaltyTerms } from '../engine/facts/missingPenaltyTerms';
import { selfScaledGradients } from '../engine/facts/selfScaledGradients';
import { untrainedPenalties } from '../engine/facts/untrainedPenalties';
import { stackedPenaltyGradients } from '../engine/facts/stackedPenaltyGradients';
import { switchedPenaltyTerms } from '../engine/facts/switchedPenaltyTerms';
import { laterGradientScale } from '../engine/facts/laterGradientScale';

const KINDS: Record<string, PenaltyKind[]> = {
  linear: ['sumsq', 'elemsq'],
  sign: ['l1', 'elemabs'],
  normalized: ['norm2'],
};

export const nb103PenaltyGradientFactor = defineRule({
  meta: {
    code: 'NB103',
    name: 'penalty-gradient-factor',
    severity: 'warning',
    summary: "The gradient term for a penalty disagrees by a factor with the penalty the loss adds, multiplies the data gradient or a copy of the weight with a constant bias slice instead of the weight, the loss has no penalty on that weight, or a gradient returned with the loss has no term for its penalty (or has one while the loss has no penalty)",
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    // Terms that reach the same gradient (or the same update) of the same parameter add up.
    const groups = new Map<string, RegGradientTerm[]>();
    const seen = new Set<string>();
    const index = programIndex(facts);
    for (const t of regGradientTerms(facts)) {
      if (!KINDS[t.kind] || !t.param || t.foreign || !t.coef || t.preconditioned || t.coef.num === 0) continue;
      const key = spanKey(t.span);
      if (seen.has(key)) continue;
      seen.add(key);
      // Terms add up within one step, and across accumulations `dW += a; dW += b` in one block (not across branches).
      const stmt = index.stmtBySpan.get(spanKey(t.site.span));
      const block = stmt ? index.blockOf.get(stmt) : undefined;
      const where = t.site.kind === 'update' || !block ? `site:${spanKey(t.site.span)}` : `block:${blockId(block)}|g:${exprKey(t.site.target) ?? spanKey(t.site.span)}${keyBindings(t)}`;
      const group = `${where}|${t.kind}|${t.ids.join(',')}`;
      groups.set(group, [...(groups.get(group) ?? []), t]);
    }
    for (const terms of groups.values()) {
      const report = checkGroup(facts, terms);
      if (report) context.report(report);
    }
    for (const report of unpenalizedGradients(facts)) context.report(report);
    for (const report of branchesLeavingOutTerm(facts)) context.report(report);
    for (const report of returnedGradientsMissingTerm(facts)) context.report(report);
    for (const report of returnedLossesMissingPenalty(facts)) context.report(report);
    for (const report of termsOnTheWrongOperand(facts)) context.report(report);
    for (const report of termsOnTheirOwnGradient(facts)) context.report(report);
    for (const report of missingPenaltyTermReports(facts)) context.report(report);
    for (const report of untrainedPenaltyReports(facts)) context.report(report);
    for (const report of stackedTermReports(facts)) context.report(report);
    // A term and penalties from helpers switched on one field, read for each value it is tested for.
    for (const { term, penalties, assumed } of switchedPenaltyTerms(facts)) {
      if (penalties.length === 0 || !KINDS[term.kind] || term.preconditioned || term.coef?.num === 0) continue;
      const report = facts.analyzer.underAssumption(assumed, () => checkGroup(facts, [term], penalties));
      if (report) context.report({ ...report, message: `${report.message} (when ${assumed.key} == ${JSON.stringify(assumed.value)})` });
    }
    // A layer's own term against the penalty a loss class or module computes from the layer's fields.
    for (const link of fieldLinks(facts)) {
      if (link.penalties.length === 0 || !KINDS[link.term.kind] || link.term.preconditioned || link.term.coef?.num === 0) continue;
      const report = checkGroup(link.facts, [link.term], link.penalties);
      if (report) context.report(report);
    }
  },
});

/**
 * A gradient that adds c·W for a weight the loss never penalizes, beside gradients whose c·Q
 * terms match the loss's penalty on the other weights with the same strength
 * (`0.5 * reg * (ΣW_in² + ΣW_out²)` in the loss, `reg * W_rec` added to W_rec's gradient too):
 * the gradient is not the loss's. Only a gradient (not an update, where a decay of its own is
 * common), in the function of the one loss that penalizes the others, every part of that loss
 * read (a part the analysis cannot read may be the missing penalty).
 */
function unpenalizedGradients(facts: Facts): Report[] {
  const index = programIndex(facts);
  const byFunction = new Map<unknown, { matched: { t: RegGradientTerm; p: LossPenalty }[]; unmatched: RegGradientTerm[] }>();
  for (const t of regGradientTerms(facts)) {
    if (t.kind !== 'linear' || !t.param || t.foreign || !t.coef || t.coef.num <= 0 || t.preconditioned || t.selfScale) continue;
    if (t.site.kind === 'update' || t.site.penaltyGradientOf || t.summand.via.length > 0) continue;
    const fn = index.enclosingFunction(t.site.scope);
    if (!fn) continue;
    let entry = byFunction.get(fn);
    if (!entry) byFunction.set(fn, (entry = { matched: [], unmatched: [] }));
    const penalties = penaltiesFor(facts, t.ids, t.site.scope);
    if (penalties.length === 0) entry.unmatched.push(t);
    else if (penalties.every((p) => p.kind === 'sumsq' && p.site.fn === fn && !p.site.autodiff && !p.site.penaltyMethod)) entry.matched.push({ t, p: penalties[0] });
  }
  const out: Report[] = [];
  for (const [fn, { matched, unmatched }] of byFunction) {
    if (matched.length === 0 || unmatched.length === 0) continue;
    const site = matched[0].p.site;
    if (!matched.every((m) => m.p.site === site)) continue;
    const strength = canonicalCoef(facts, matched[0].t.coef!, matched[0].t.site.scope, matched[0].t.site.at);
    // Every part of the function's losses read: a recognized penalty, or free of the strength and of
    // anything that could hide a penalty (a product with a tensor, a call into the program).
    const strengthSyms = new Set(strength.syms.map((x) => x.name));
    const unread = (x: LossSummand): boolean =>
      !x.product.penalty &&
      (x.product.coef.syms.some((y) => strengthSyms.has(y.name)) ||
        (x.product.tensor && x.summand.num.length > 1) ||
        x.summand.num.some((f) => f.expr.kind === 'call' && facts.analyzer.callTarget(f.expr, f.scope, f.at) !== undefined));
    if (lossFacts(facts).summands.some((x) => x.site.fn === fn && unread(x))) continue;
    const names = [...new Set(matched.map((m) => lastComponent(m.p.param.base) ?? facts.source(m.p.param.expr.span)))];
    const penalized = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    for (const t of unmatched) {
      const c = canonicalCoef(facts, t.coef!, t.site.scope, t.site.at);
      if (coefRatio(c, strength) === undefined) continue;
      const paramText = lastComponent(t.param!.base) ?? facts.source(t.param!.expr.span);
      const line = placeOf(facts, site.span, facts.lineLabel(site.span));
      const target = facts.source(t.site.target.span);
      out.push({
        span: t.span,
        message: `${target} gets the penalty gradient ${unicodeGradient({ kind: 'linear', coef: c, param: paramText })}, but the loss on ${line} penalizes ${penalized}, not ${paramText}: the gradient is not the loss's. Add ${paramText}'s penalty to the loss, or leave this term out`,
        related: [{ span: site.span, message: `the loss penalizes ${penalized} here` }],
        math: { computed: unicodeGradient({ kind: 'linear', coef: c, param: paramText }), expected: '0' },
      });
    }
  }
  return out;
}

/**
 * A branch of an `if` chain that defines a weight's gradient without the penalty gradient the other
 * branches add to it, while the loss penalizes the weight whichever branch runs (branchGradients.ts).
 */
function branchesLeavingOutTerm(facts: Facts): Report[] {
  return branchesWithoutTerm(facts).map(({ definition, target, term, penalty }) => {
    const c = canonicalCoef(facts, term.coef!, term.site.scope, term.site.at);
    // A weight keyed by a computed key (`params['W' + str(l)]`) is named as written; its dict's name alone says nothing.
    const written = term.param!.expr;
    const paramText = written.kind === 'index' && written.index[0]?.kind !== 'str' ? facts.source(written.span).replace(/\s+/g, '') : (lastComponent(term.param!.base) ?? facts.source(written.span));
    const gradient = unicodeGradient({ kind: 'linear', coef: c, param: paramText });
    const targetText = facts.source(target.span);
    const line = placeOf(facts, penalty.site.span, facts.lineLabel(penalty.site.span));
    return {
      span: target.span,
      message: `${targetText} is defined in this branch without the penalty gradient ${gradient}, which another branch adds to it (${facts.lineLabel(term.span)}), while the loss on ${line} penalizes ${paramText} whichever branch runs: when this branch is taken, the loss is regularized but the gradient is not. Add ${facts.source(term.span).replace(/\s+/g, ' ')} to it here too`,
      related: [
        { span: term.span, message: 'the other branch adds the penalty gradient here' },
        { span: penalty.site.span, message: `the loss penalizes ${paramText} here` },
      ],
      math: { forms: missingPenaltyGradientForms(targetText, paramText, c) },
    };
  });
}

/**
 * A loss function that returns the loss with a penalty on W beside a hand-written gradient for W
 * with no term for it (returnedGradients.ts): the caller steps W without the penalty.
 */
function returnedGradientsMissingTerm(facts: Facts): Report[] {
  return returnedGradientsWithoutTerm(facts).map(({ fn, penalty, target, weight, ret }) => {
    const coef = canonicalCoef(facts, penalty.coef, penalty.site.scope, penalty.site.at);
    const written: Penalty = { kind: penalty.kind, coef, param: weight };
    const term = gradientOf(written);
    const gradientText = facts.source(target.span);
    // A penalty read through a variable (`penalty = reg * np.sum(W * W)`, `loss = loss + penalty`) is named where it is computed.
    const where = penalty.defs[0]?.span ?? penalty.span;
    const line = placeOf(facts, where, facts.lineLabel(where));
    const code = codeGradient(term, facts.dialect, weight) ?? unicodeGradient(term);
    return {
      span: target.span,
      message: `${gradientText}, the gradient ${fn.name}() returns with the loss, has no term for the loss's penalty ${unicodePenalty(written)} (${line}): the gradient of that loss adds ${unicodeGradient(term)}, so ${weight} is trained without the penalty the loss reports. Add ${code} to ${gradientText}`,
      related: [
        { span: where, message: `the loss penalizes ${weight} here` },
        { span: ret.span, message: 'the loss and the gradient are returned here' },
      ],
      math: { forms: returnedGradientForms(gradientText, weight, { kind: penalty.kind, coef, param: 'W' }) },
    };
  });
}

/**
 * A loss penalty over a collection of weights whose item-by-item step moves along gradients a call
 * returns with no term for it (untrainedPenalties.ts): the penalty is reported, never trained.
 */
function untrainedPenaltyReports(facts: Facts): Report[] {
  return untrainedPenalties(facts).map(({ fn, penalty, step, producer, strengths }) => {
    const coef = canonicalCoef(facts, penalty.coef, penalty.site.scope, penalty.site.at);
    const collection = facts.source(step.collection.span);
    const written: Penalty = { kind: penalty.kind, coef, param: 'W' };
    const term = gradientOf(written);
    const item = facts.source(step.item.span);
    const gradient = facts.source(step.gradient.span);
    // The penalty where the function computes it: the loss's summand, or the variable it sums into.
    const inside = (x: Span): boolean => x.start >= fn.span.start && x.end <= fn.span.end;
    const where = inside(penalty.span) ? penalty.span : (penalty.defs.find((x) => inside(x.span))?.span ?? penalty.span);
    const code = codeGradient(term, facts.dialect, item) ?? unicodeGradient(term);
    const callee = facts.source(producer.callee.span);
    const strength = strengths.length === 1 ? strengths[0] : strengths.join(' or ');
    return {
      span: step.gradient.span,
      message: `${collection} is stepped by ${gradient}${step.gradient.kind === 'name' ? `, an item of ${facts.source(step.gradients.span)}` : ''}, from ${callee}(), which is not handed ${strength}, and ${fn.name}() adds nothing for the loss's penalty ${unicodePenalty(written)} over each W of ${collection} (${placeOf(facts, where, facts.lineLabel(where))}): its gradient ${unicodeGradient(term)} never reaches the step, so the penalty is reported but never trained. Add ${code} to ${gradient}`,
      related: [
        { span: where, message: `the loss penalizes every item of ${collection} here` },
        { span: producer.span, message: `the gradients come from here, with no term for the penalty` },
      ],
    };
  });
}

/**
 * A penalty-gradient term on a stacked matrix (`reg * np.vstack((W1, b1))`) whose pieces the loss does
 * not all penalize (stackedPenaltyGradients.ts): the term shrinks the unpenalized piece too.
 */
function stackedTermReports(facts: Facts): Report[] {
  return stackedPenaltyGradients(facts).map(({ span, target, joined, join, penalized, unpenalized, penalty, coef }) => {
    const names = (xs: Expr[]): string => {
      const t = xs.map((x) => facts.source(baseExpr(x).span));
      return t.length === 1 ? t[0] : `${t.slice(0, -1).join(', ')} and ${t[t.length - 1]}`;
    };
    const stacked = facts.source(joined.span);
    const term = facts.source(span).replace(/\s+/g, ' ');
    const c = canonicalCoef(facts, coef, penalty.site.scope, penalty.site.at);
    const loose = names(unpenalized);
    const where = penalty.span;
    const zeros = unpenalized.map((x) => `np.zeros_like(${facts.source(x.span)})`).join(', ');
    return {
      span,
      message: `${facts.source(target.span)} gets ${term}, and ${stacked} stacks ${names([...penalized, ...unpenalized].sort((a, b) => a.span.start - b.span.start))} (${placeOf(facts, join.span, facts.lineLabel(join.span))}): the term adds ${unicodeGradient({ kind: 'linear', coef: c, param: loose })} to ${loose}'s gradient, but the loss (${placeOf(facts, where, facts.lineLabel(where))}) penalizes ${names(penalized)}, not ${loose}: the gradient shrinks ${loose}, which the loss it is the gradient of leaves free. Stack ${zeros} in ${loose}'s place for the term, or penalize ${loose} in the loss too`,
      related: [
        { span: join.span, message: `${stacked} stacks the pieces here` },
        { span: where, message: `the loss penalizes ${names(penalized)} here` },
      ],
    };
  });
}

/**
 * The reverse (lossWithoutPenalty.ts): a gradient with a penalty term, returned beside a loss the
 * function computes with no penalty at all. The loss reported is not the one the step minimizes.
 */
function returnedLossesMissingPenalty(facts: Facts): Report[] {
  return returnedLossesWithoutPenalty(facts).map(({ fn, term, loss, gradient, ret }) => {
    const weight = lastComponent(term.param!.base) ?? facts.source(term.param!.expr.span);
    const c = canonicalCoef(facts, term.coef!, term.site.scope, term.site.at);
    const g: Gradient = { kind: 'linear', coef: c, param: weight };
    const implied = penaltyFromGradient(g)!;
    const written = facts.source(term.span).replace(/\s+/g, ' ');
    return {
      span: term.span,
      message: `${gradient.name} gets ${written}, the gradient of the penalty ${unicodePenalty(implied)}, but ${loss.name}, the loss ${fn.name}() returns beside it, has no penalty on ${weight}: the reported loss is not the function the step minimizes, and a numerical gradient check against it is off by ${unicodeGradient(g)}. Add the penalty to ${loss.name}, or leave the term out of ${gradient.name}`,
      related: [{ span: ret.span, message: 'the loss and the gradient are returned here' }],
    };
  });
}

/**
 * A penalty-gradient term that multiplies something other than the penalized weight
 * (penaltyGradientOperand.ts): a copy of the data gradient it is added to, or a copy of W whose
 * exempt slice holds a nonzero constant instead of zeros.
 */
function termsOnTheWrongOperand(facts: Facts): Report[] {
  return misreadPenaltyTerms(facts).map((m) => {
    const p = m.penalty;
    const weightText = facts.source(p.param.expr.span).replace(/\s+/g, ' ');
    const penalty: Penalty = { kind: p.kind, coef: abs(writtenCoef(p)), param: weightText };
    const expected = gradientOf({ ...penalty, param: m.weight });
    const where = m.penaltyAt;
    // Places are named from the file the finding is in (the term's), which need not be this run's entry.
    const line = placeFrom(facts, m.term.span, where);
    const term = facts.source(m.term.span).replace(/\s+/g, ' ');
    const operand = m.operand.name;
    const target = facts.source(m.target.span);
    const penaltyRelated = { span: where, message: `${penaltyVerb(p)} ${unicodePenalty(penalty)} here` };
    const d = m.driver;
    const weights = d ? facts.source(d.weights.span) : m.weight;
    const tie = d ? ` The two are tied by ${placeFrom(facts, m.term.span, d.cost.span)}, which hands the same ${weights} to ${calleeText(facts, d.cost)} and to ${calleeText(facts, d.gradient)}.` : '';
    const driverRelated = d ? [{ span: d.cost.span, message: `the same ${weights} go to the cost here` }, { span: d.gradient.span, message: 'and to the gradient here' }] : [];
    if (m.kind === 'gradient') {
      // The gradient itself (`dW += 2 * reg * dW`), or a copy of it; an exempt slice only when the penalty leaves one out.
      const itself = exprKey(m.operand) !== undefined && exprKey(m.operand) === exprKey(m.target);
      const what = itself ? `${operand}, the gradient it is added to,` : `${operand}, a copy of the gradient ${target} it is added to (${facts.lineLabel(m.source.span)}),`;
      const zeroed = p.param.expr.kind === 'index' ? (d ? ' (their exempt slices zeroed)' : ' (its exempt slice zeroed)') : '';
      return {
        span: m.term.span,
        message: `the penalty-gradient term ${term} multiplies ${what} not the weight: ${penaltyVerb(p)} ${unicodePenalty(penalty)} on ${line}, whose gradient is ${unicodeGradient(expected)}.${tie} This term only rescales the data gradient, and the penalty never reaches the update. Multiply the strength by ${d ? `the ${weights} handed in` : m.weight}${zeroed}, not by the gradient`,
        related: [...(itself ? [] : [{ span: m.source.span, message: `${operand} is made from the gradient ${target} here` }]), penaltyRelated, ...driverRelated],
        math: { computed: term, expected: unicodeGradient(expected), lossPenalty: penalty },
      };
    }
    const constant = m.constant === 1 ? 'ones' : `${m.constant}`;
    return {
      span: m.source.span,
      message: `${operand}, the copy of ${d ? `the ${weights} handed in` : m.weight} that the penalty-gradient term ${term} reads (${facts.lineLabel(m.term.span)}), holds ${constant} in the slice that ${penaltyVerb(p)} ${unicodePenalty(penalty)} leaves out (${line}): that penalty's gradient is 0 there, and this term adds the strength times ${constant} to it instead.${tie} Fill that slice of ${operand} with zeros`,
      related: [{ span: m.term.span, message: `the penalty-gradient term reads ${operand} here` }, penaltyRelated, ...driverRelated],
      math: { computed: `${term} with ${constant} in ${m.weight}'s exempt slice`, expected: `${unicodeGradient(expected)}, 0 on the exempt slice` },
    };
  });
}

/**
 * A penalty-gradient term that multiplies the gradient it is added to (`self.dweights += 2 *
 * self.l2 * self.dweights`), read against the loss's penalty when one carries its strength
 * (selfScaledGradients.ts), and on its own otherwise: 2λ·dW is the gradient of no penalty of W.
 */
function termsOnTheirOwnGradient(facts: Facts): Report[] {
  return selfScaledGradients(facts).map((m) => {
    const term = facts.source(m.term.span).replace(/\s+/g, ' ');
    const operand = facts.source(m.operand.span);
    const c = canonicalCoef(facts, m.coef, m.scope, m.at);
    const written = unicodeGradient({ kind: 'linear', coef: c, param: operand });
    const scale = `(1 + ${unicodeCoef(c)})`;
    const tail = `This term only rescales the data gradient by ${scale}, and the penalty never reaches the update. Multiply the strength by ${m.weight}, not by the gradient`;
    const p = m.penalty;
    if (p && m.penaltyAt) {
      const weightText = facts.source(p.param.expr.span).replace(/\s+/g, ' ');
      const penalty: Penalty = { kind: p.kind, coef: abs(writtenCoef(p)), param: weightText };
      const expected = gradientOf({ kind: p.kind, coef: abs(canonicalCoef(facts, p.coef, p.site.scope, p.site.at)), param: m.weight });
      const line = placeFrom(facts, m.term.span, m.penaltyAt);
      return {
        span: m.term.span,
        message: `the penalty-gradient term ${term} multiplies ${operand}, the gradient it is added to, not the weight ${m.weight}: ${penaltyVerb(p)} ${unicodePenalty(penalty)} on ${line}, whose gradient is ${unicodeGradient(expected)}, while ${written} is the gradient of no penalty of ${m.weight}. ${tail}`,
        related: [{ span: m.penaltyAt, message: `${penaltyVerb(p)} ${unicodePenalty(penalty)} here` }],
        math: { computed: written, expected: unicodeGradient(expected), lossPenalty: penalty },
      };
    }
    const expected = unicodeGradient({ kind: 'linear', coef: c, param: m.weight });
    const implied = unicodePenalty({ kind: 'sumsq', coef: makeCoef(c.num / 2, c.syms), param: m.weight });
    return {
      span: m.term.span,
      message: `the penalty-gradient term ${term} multiplies ${operand}, the gradient it is added to, not the weight ${m.weight}: a penalty on ${m.weight} with this strength has the gradient ${expected} (that of ${implied}), while ${written} is the gradient of no penalty of ${m.weight}. ${tail}`,
      math: { computed: written, expected },
    };
  });
}

/** The line of `span`, with its file's name when that is not the file of `from`. */
function placeFrom(facts: Facts, from: Span, span: Span): string {
  const label = facts.lineLabel(span);
  const here = facts.program.parsedOf(from);
  const there = facts.program.parsedOf(span);
  return !there || there.file.id === here?.file.id ? label : `${label} of ${there.file.path.replace(/^.*\//, '')}`;
}

/** A call's callee as written, `cost_function()`. */
function calleeText(facts: Facts, call: Expr & { kind: 'call' }): string {
  return `${facts.source(call.callee.span).replace(/\s+/g, '')}()`;
}

/**
 * The bindings the target's subscript keys read at the term: `grads[key] += …` written twice, with
 * `key = "W3"` before one and `key = "W1"` before the other, is two gradients, not one.
 */
function keyBindings(t: RegGradientTerm): string {
  const parts: string[] = [];
  const visit = (e: Expr, depth: number): void => {
    if (depth > 20) return;
    if (e.kind === 'index') {
      for (const i of e.index) if (i.kind === 'name') parts.push(`${i.name}@${t.site.scope.lookup(i.name, t.site.at)?.at ?? '?'}`);
      visit(e.object, depth + 1);
    } else if (e.kind === 'attr') visit(e.object, depth + 1);
  };
  visit(t.site.target, 0);
  return parts.length > 0 ? `|keys:${parts.join(',')}` : '';
}

const blockIds = new WeakMap<object, number>();
let nextBlockId = 0;
function blockId(block: object): number {
  let id = blockIds.get(block);
  if (id === undefined) blockIds.set(block, (id = nextBlockId++));
  return id;
}

function checkGroup(facts: Facts, terms: RegGradientTerm[], linked?: LossPenalty[]): Report | undefined {
  const t = terms[0];
  const kinds = KINDS[t.kind];
  if (terms.some((x) => repeatedPerExample(facts, x))) return undefined;
  const all = linked ?? penaltiesFor(facts, t.ids, t.site.scope);
  const relevant = all.filter((p) => kinds.includes(p.kind));
  if (relevant.length === 0) return undefined;
  if (all.some((p) => p.site.autodiff || p.site.scaledLater)) return undefined;
  let actual: Coef | undefined;
  for (const x of terms) {
    const c = canonicalCoef(facts, x.coef!, x.site.scope, x.site.at);
    if (actual && coefRatio(c, actual) === undefined) return undefined;
    actual = actual ? makeCoef(actual.num + c.num, actual.syms) : c;
  }
  if (!actual || actual.num === 0) return undefined;
  actual = abs(actual);
  // A gradient local the function scales afterwards (`dW /= m`, `return loss, dW / m`): the term leaves
  // the function times that factor (laterGradientScale.ts); one not read as a number leaves it unknown.
  const last = terms.reduce((a, b) => (b.site.at > a.site.at ? b : a));
  const later = linked ? undefined : laterGradientScale(facts, last.site);
  if (later === 'unknown') return undefined;
  if (later) actual = abs(canonicalCoef(facts, mul(actual, later.coef), last.site.scope, last.site.at));
  let implied: Coef | undefined;
  let again: LossPenalty[] = [];
  for (const { penalty: p, written } of occurrences(relevant)) {
    const once = abs(canonicalCoef(facts, impliedCoef(p, repeatedPenalty(facts, p.span, terms)), p.site.scope, p.site.at));
    const g = written.length > 1 ? mul(once, makeCoef(written.length, [])) : once;
    if (implied && !equalCoef(implied, g)) return undefined; // the file defines the penalty more than one way
    implied = g;
    again = written.slice(1);
  }
  // A penalty written with a zero coefficient (`0 * lam * ΣW²`, half-typed code) implies no gradient to compare with.
  if (!implied || implied.num === 0) return undefined;
  const ratio = coefRatio(actual, implied);
  let factor: string;
  if (ratio !== undefined) {
    if (Math.abs(ratio - 1) < 1e-9) return undefined;
    factor = formatRatio(ratio);
  } else {
    const missing = countFactor(actual, implied) ?? strengthRepeated(actual, implied) ?? onceAgainstRepeated(facts, relevant, terms, actual, implied);
    const half = missing ? undefined : halfAcrossCounts(actual, implied);
    if (!missing && half === undefined) {
      // Only a penalty added once: a repeated one has its own message, with a factor.
      const once = again.length === 0 && !repeatedPenalty(facts, relevant[0].span, terms);
      const dropped = terms.length === 1 && !linked && once ? strengthLeftOut(facts, t, relevant, actual, implied) : undefined;
      return dropped ? buildReport(facts, terms, relevant[0], '', actual, again, dropped, later ? later.span : undefined) : undefined;
    }
    factor = missing ? unicodeCoef(missing) : formatRatio(half!);
  }
  return buildReport(facts, terms, relevant[0], factor, actual, again, undefined, later ? later.span : undefined);
}

/**
 * The penalties on one weight, each with how many times one loss adds it: `0.5 * reg *
 * (np.sum(A ** 2) + np.sum(A ** 2))` is reg·ΣA², two occurrences of one written term (a second
 * layer's weight meant, most often). Occurrences count only when written alike, in the same loss,
 * reached through the same variables; penalties written differently stay apart.
 */
function occurrences(penalties: LossPenalty[]): { penalty: LossPenalty; written: LossPenalty[] }[] {
  const groups = new Map<string, { penalty: LossPenalty; written: LossPenalty[] }>();
  const out: { penalty: LossPenalty; written: LossPenalty[] }[] = [];
  for (const p of penalties) {
    // Only terms written in the loss's own statement, the weight spelled alike: statements apart may
    // rebind a key (`stringW = "W%s" % i` before each `w2_sum += np.sum(params[stringW] ** 2)`).
    const inLoss = p.span.start >= p.site.span.start && p.span.end <= p.site.span.end;
    const written = exprKey(p.param.expr);
    const key = inLoss && written !== undefined ? `${spanKey(p.site.span)}|${written}|${p.ids.join(',')}|${p.kind}` : `apart|${spanKey(p.span)}`;
    const group = groups.get(key);
    if (group && equalCoef(group.penalty.coef, p.coef)) {
      if (!group.written.some((w) => w.span.start === p.span.start && w.span.end === p.span.end)) group.written.push(p);
      continue;
    }
    const fresh = { penalty: p, written: [p] };
    if (!group) groups.set(key, fresh);
    out.push(fresh);
  }
  return out;
}

/**
 * Coefficients that each divide by one count of examples, written differently on the two sides
 * (`lmbda/n` in the step, `lmbda/len(data)` in the cost, where `n` and `data` come from different
 * callers): with the counts set aside, a factor of exactly 2 or ½ is the ½ of the ½·λ·ΣW²
 * convention kept on one side only, whatever the counts are. Any other factor may be the counts'.
 */
function halfAcrossCounts(actual: Coef, implied: Coef): number | undefined {
  const sizes = (c: Coef): Coef['syms'] => c.syms.filter((s) => isSizeSymbol(s.name));
  const [a, b] = [sizes(actual), sizes(implied)];
  if (a.length !== 1 || b.length !== 1 || a[0].pow !== b[0].pow || a[0].name === b[0].name) return undefined;
  const strip = (c: Coef): Coef => makeCoef(c.num, c.syms.filter((s) => !isSizeSymbol(s.name)));
  const strength = strip(actual);
  if (strength.syms.length === 0) return undefined; // the strength must be a symbol both sides share
  const r = coefRatio(strength, strip(implied));
  return r !== undefined && (Math.abs(r - 2) < 1e-9 || Math.abs(r - 0.5) < 1e-9) ? r : undefined;
}

/**
 * A term with a number for its coefficient against a penalty whose gradient is that number times
 * a strength (`2 * w` for `lam * Σw²`): the strength is left out, and the penalty is descended at
 * strength 1 whatever it is set to. The strength, the product of the implied coefficient's symbols
 * (no count of examples among them), when the term and the penalty are written in one function or
 * one class, and no symbol of it is a parameter whose default is 1 (a cost meant to run at 1).
 */
function strengthLeftOut(facts: Facts, t: RegGradientTerm, penalties: LossPenalty[], actual: Coef, implied: Coef): Coef | undefined {
  const strength = makeCoef(1, implied.syms.filter((s) => !isSizeSymbol(s.name)));
  if (strength.syms.length === 0 || Math.abs(actual.num - implied.num) > 1e-9) return undefined;
  if (strength.syms.some((s) => s.pow <= 0)) return undefined;
  // The term holds no symbol but counts of examples, each one the penalty's gradient divides by too (a
  // count it divides by once more or once less, `(1/m) * (1/m) * θ` for (λ/2m)·Σθ², is named beside the strength).
  const sizes = (c: Coef): Map<string, number> => new Map(c.syms.filter((s) => isSizeSymbol(s.name)).map((s) => [s.name, s.pow]));
  const [mine, theirs] = [sizes(actual), sizes(implied)];
  if (mine.size !== actual.syms.length || [...mine.keys()].some((k) => !theirs.has(k))) return undefined;
  if ([...theirs.values()].some((pow) => pow >= 0) || [...mine.values()].some((pow) => pow >= 0)) return undefined;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(t.site.scope);
  if (!fn) return undefined;
  for (const p of penalties) {
    const other = p.site.fn;
    if (!other || p.site.penaltyMethod || p.site.env) return undefined;
    if (other !== fn && !(fn.cls && other.cls === fn.cls)) return undefined;
    if (p.coef.syms.some((s) => defaultsToOne(p.site.fn!, s.name))) return undefined;
  }
  return strength;
}

/** Is the symbol (`lam`, `self.lam`) a parameter of the function, or of its class's constructor, whose default is 1? */
function defaultsToOne(fn: FunctionDef, symbol: string): boolean {
  const field = /^(?:self|this)\.(\w+)$/.exec(symbol)?.[1];
  const fns = field ? ['__init__', 'constructor'].flatMap((m) => fn.cls?.scope.functions.get(m) ?? []) : [fn];
  for (const f of fns) {
    for (const param of f.params) {
      if (param.name !== (field ?? symbol) && !(field && assignsField(f, field, param.name))) continue;
      const d = param.default;
      if (d?.kind === 'num' && d.value === 1) return true;
    }
  }
  return false;
}

/** Does a constructor store its parameter `name` in `self.field`? */
function assignsField(fn: FunctionDef, field: string, name: string): boolean {
  return fn.body.some((st) => st.kind === 'assign' && !st.op && st.targets.some((x) => x.kind === 'attr' && x.name === field) && st.value.kind === 'name' && st.value.name === name);
}

/**
 * A gradient that multiplies by the penalty's own strength once more (`2 * c * c * w` for
 * `c * Σw²`, `c * (w³ + 2 * c * w)` for `c * (Σw⁴/4 + Σw²)`): the factor `actual / implied` when it
 * is made of the implied coefficient's symbols only, each to a positive power. A strength that is
 * itself a square on purpose (`lam = reg ** 2`) is the same on both sides and never gets here.
 */
function strengthRepeated(actual: Coef, implied: Coef): Coef | undefined {
  const factor = div(actual, implied);
  if (factor.syms.length === 0) return undefined;
  const own = new Set(implied.syms.filter((s) => s.pow > 0 && !isSizeSymbol(s.name)).map((s) => s.name));
  return factor.syms.every((s) => s.pow > 0 && own.has(s.name)) ? factor : undefined;
}

/**
 * A penalty a loop adds once per iteration (repeatedPenalty.ts), when the gradient terms are not
 * inside that loop too: terms added (or steps taken) once per iteration of the same loop repeat
 * alike, and the penalty is compared with them per iteration.
 */
function repeatedPenalty(facts: Facts, span: Span, terms: RegGradientTerm[]): RepeatedPenalty | undefined {
  const repeated = loopPenalty(facts, span);
  if (!repeated || terms.every((t) => repeatedAlike(facts, t.site.span, repeated.loop))) return undefined;
  return repeated;
}

/**
 * A penalty a loop adds once per iteration, against a gradient of it taken once: the factor
 * `actual / implied` when it is a number over the loop's count (`1/steps` for `range(steps)`).
 */
function onceAgainstRepeated(facts: Facts, penalties: LossPenalty[], terms: RegGradientTerm[], actual: Coef, implied: Coef): Coef | undefined {
  const repeated = repeatedPenalty(facts, penalties[0].span, terms);
  if (!repeated) return undefined;
  const factor = div(actual, implied);
  return mul(factor, repeated.count).syms.length === 0 ? factor : undefined;
}

/**
 * The gradient coefficient a penalty implies: 2c for c·ΣW², c for c·Σ|W| and c·‖W‖; times the
 * count of a loop that adds it once per iteration.
 */
function impliedCoef(p: LossPenalty, repeated: RepeatedPenalty | undefined): Coef {
  return gradientOf({ kind: p.kind, coef: repeated ? mul(p.coef, repeated.count) : p.coef, param: 'W' }).coef;
}

function abs(c: Coef): Coef {
  return c.num < 0 ? { ...c, num: -c.num } : c;
}

function formatRatio(r: number): string {
  const rounded = Math.round(r * 1e6) / 1e6;
  return `${rounded}`;
}

function buildReport(facts: Facts, terms: RegGradientTerm[], p: LossPenalty, factor: string, total: Coef, again: LossPenalty[] = [], dropped?: Coef, scaledAt?: Span): Report {
  const times = again.length + 1;
  const t = terms[0];
  const text = (s: { start: number; end: number }): string => facts.source(s);
  const paramText = lastComponent(t.param!.base) ?? text(t.param!.expr.span);
  const penaltyParam = lastComponent(p.param.base) ?? text(p.param.expr.span);
  const penalty: Penalty = { kind: p.kind, coef: abs(writtenCoef(p)), param: penaltyParam, via: p.via };
  const repeated = repeatedPenalty(facts, p.span, terms);
  const inAll: Penalty = repeated ? { ...penalty, coef: mul(penalty.coef, repeated.count) } : times > 1 ? { ...penalty, coef: mul(penalty.coef, makeCoef(times, [])) } : penalty;
  const expected: Gradient = { ...gradientOf(inAll), param: paramText };
  const kind: GradientKind = t.kind === 'sign' ? 'sign' : t.kind === 'normalized' ? 'normalized' : 'linear';
  const written: Gradient = { kind, coef: terms.length > 1 || scaledAt ? total : abs(t.coef!), param: paramText };
  // A penalty summed into a variable first (`sq += np.sum(W * W)`, then `loss += 0.5 * reg * sq`) is added to the loss where the variable is read.
  const elsewhere = summedBefore(facts, p);
  const added = elsewhere ? p.site.span : p.span;
  const line = placeOf(facts, added, facts.lineLabel(added));
  const target = text(t.site.target.span);
  const stepFactor = t.selfScale ? `(1 − ${unicodeCoef({ ...t.stepCoef, num: Math.abs(t.stepCoef.num) })})` : '';
  const how = t.selfScale
    ? `the factor ${stepFactor} on ${paramText} is a gradient step on ${unicodeGradient(written)}`
    : terms.length > 1
      ? `the gradient terms for ${paramText} add up to ${unicodeGradient(written)}`
      : t.site.kind === 'update'
        ? `the update of ${target} applies the penalty gradient ${unicodeGradient(written)}`
        : t.site.penaltyGradientOf
          ? `${t.site.target.kind === 'name' ? t.site.target.name : target}() returns the penalty gradient ${unicodeGradient(written)}`
          : scaledAt
            ? `${target} leaves the function with the penalty gradient ${unicodeGradient(written)} (scaled on ${placeOf(facts, scaledAt, facts.lineLabel(scaledAt))})`
            : `${target} gets the penalty gradient ${unicodeGradient(written)}`;
  const via = p.via ? ` (${p.via})` : '';
  if (repeated) {
    // The penalty's place is what is wrong: reported there, with the step's term as the related place.
    const termLine = placeOf(facts, t.span, facts.lineLabel(t.span));
    return {
      span: p.span,
      message: `the penalty ${unicodePenalty(penalty)} is added once per iteration of the loop over ${text(repeated.loop.span)} around it, so the cost holds ${unicodePenalty(inAll)}, whose gradient is ${unicodeGradient(expected)}; but ${how} on ${termLine}, ${factor} times that. Add the penalty once, outside the loop`,
      related: [{ span: t.span, message: 'the gradient term the step applies' }, ...p.defs.map((d) => ({ span: d.span, message: d.what }))],
      math: { computed: unicodeGradient(written), expected: unicodeGradient(expected), lossPenalty: inAll },
    };
  }
  if (times > 1) {
    // The same weight's term written again in one penalty: most often another weight was meant, so no fix.
    const message = `${how}, but ${penaltyVerb(p)} ${unicodePenalty(penalty)}${via} ${times === 2 ? 'twice' : `${times} times`} on ${line}, ${unicodePenalty(inAll)} in all, whose gradient is ${unicodeGradient(expected)}: the term is ${factor} times that. Was another weight meant in one of them?`;
    const related = [{ span: p.span, message: `the penalty ${unicodePenalty(penalty)} is added to the loss here` }, ...again.map((a) => ({ span: a.span, message: `and the same term again here` })), ...p.defs.map((d) => ({ span: d.span, message: d.what }))];
    return { span: t.span, message, related, math: { computed: unicodeGradient(written), expected: unicodeGradient(expected), lossPenalty: inAll } };
  }
  // A strength left out (`2 * w` for `lam * Σw²`) is named, not given as a ratio `1/lam`.
  const strength = dropped ? unicodeCoef(dropped) : '';
  // A count of examples the term divides by more (or fewer) times than the penalty's gradient, beside the strength left out.
  const counts = dropped ? div(div(written.coef, expected.coef), makeCoef(1, dropped.syms.map((x) => ({ name: x.name, pow: -x.pow })))) : undefined;
  const countText = counts && counts.syms.length > 0 ? ` and ${counts.syms.every((x) => x.pow < 0) ? `divides by ${unicodeCoef(makeCoef(1, counts.syms.map((x) => ({ name: x.name, pow: -x.pow }))))} once more` : `leaves out the division by ${unicodeCoef(counts)}`} (${unicodeCoef(div(written.coef, expected.coef))} times that in all)` : '';
  const effective = dropped ? unicodeCoef(mul(div(written.coef, expected.coef), dropped)) : '';
  const tail = dropped ? `the term leaves out the strength ${strength}${countText}, so the step descends the penalty at strength ${effective} whatever ${strength} is set to` : `the term is ${factor} times that`;
  const message = `${how}, but ${penaltyVerb(p)} ${unicodePenalty(penalty)}${via} on ${line}, whose gradient is ${unicodeGradient(expected)}: ${tail}`;
  const through = p.through.length > 0 ? ` through ${p.through[p.through.length - 1]}` : '';
  const summed = elsewhere ? [{ span: p.span, message: `the penalty's terms are summed here, then added to the loss${through}` }] : [];
  const related = [{ span: added, message: p.site.penaltyMethod ? `${penaltyPlace(p)} returns the penalty ${unicodePenalty(penalty)} here` : `the penalty ${unicodePenalty(penalty)} is added to the loss here` }, ...summed, ...p.defs.map((d) => ({ span: d.span, message: d.what }))];
  // The other repair: keep the gradient as written, and write the loss's penalty as the one it descends.
  const matching = penaltyFromGradient(written, p.kind);
  const alternative = matching ? `keep ${unicodeGradient(written)} and make the loss's penalty ${unicodePenalty({ ...matching, param: penaltyParam })}` : undefined;
  const math = { computed: unicodeGradient(written), expected: unicodeGradient(expected), lossPenalty: penalty, ...(alternative ? { alternative } : {}) };
  return { span: t.span, message, related, fix: terms.length === 1 ? fixFor(facts, t, p) : undefined, math };
}

/**
 * Is the penalty summed in an earlier statement of the function that adds it to the loss
 * (`sq += np.sum(W * W)` … `loss += 0.5 * reg * sq`)? A penalty a helper returns keeps its own place.
 */
function summedBefore(facts: Facts, p: LossPenalty): boolean {
  if (p.span.start >= p.site.span.start && p.span.end <= p.site.span.end) return false;
  if (facts.program.parsedOf(p.span)?.file.id !== facts.file.id || facts.program.parsedOf(p.site.span)?.file.id !== facts.file.id) return false;
  const index = programIndex(facts);
  return index.enclosingFunction(index.scopeAt(p.span.start)) === p.site.fn;
}

/** Replace the written term by the penalty's gradient, when the term is written as-is in the same function as the penalty. */
function fixFor(facts: Facts, t: RegGradientTerm, p: LossPenalty): Report['fix'] {
  if (t.summand.via.length > 0 || t.selfScale || t.summand.sign !== (t.site.kind === 'update' ? -1 : 1)) return undefined;
  const index = programIndex(facts);
  if (index.enclosingFunction(t.site.scope) !== p.site.fn) return undefined;
  const a = facts.analyzer;
  const local = a.classifySummand({ ...t.summand, sign: 1, num: t.summand.num.filter((f) => !f.outer), den: t.summand.den.filter((f) => !f.outer) });
  if (!equalCoef(local.coef, t.coef!)) return undefined;
  const paramText = facts.source(t.param!.expr.span);
  const expected = gradientOf({ kind: p.kind, coef: abs(p.coef), param: paramText });
  const replacement = codeGradient(expected, facts.dialect, paramText);
  if (!replacement) return undefined;
  return { title: `Use the penalty's gradient ${replacement}`, safety: 'unsafe', edits: [{ span: t.span, newText: replacement }] };
}

/** NB103's report of each missing term: at the step or gradient, the penalty and the sibling term as related places. */
function missingPenaltyTermReports(facts: Facts): Report[] {
  return missingPenaltyTerms(facts).map((m) => {
    const term = gradientOf(m.written);
    const code = codeGradient(term, facts.dialect, m.weight) ?? unicodeGradient(term);
    const where = m.penalty.defs[0]?.span ?? m.penalty.span;
    const line = placeOf(facts, where, facts.lineLabel(where));
    const siblingLine = facts.lineLabel(m.sibling.span);
    const missing = `the gradient term of that penalty, ${unicodeGradient(term)}, is missing (a factor 0 of it), so ${m.weight} is trained without the penalty the cost reports`;
    if (m.shape === 'named') {
      return {
        span: m.span,
        message: `${m.target} gets no term for the cost's penalty ${unicodePenalty(m.written)} (${line}), while the other weights' gradients get theirs, ${m.sibling.text} (${siblingLine}): ${missing}. Add ${code} to ${m.target}`,
        related: [
          { span: where, message: `the cost penalizes ${m.weight} here` },
          { span: m.sibling.span, message: `the other weights' gradients get their term here` },
        ],
        math: { computed: '0', expected: unicodeGradient(term), lossPenalty: m.written },
      };
    }
    if (m.shape === 'layer') {
      const item = lastComponent(m.penalty.param.base) ?? 'W';
      const penalty = unicodePenalty({ ...m.written, param: item });
      return {
        span: m.span,
        message: `${m.target} gets no term for the cost's penalty ${penalty} on every ${item} of ${m.weight.replace(/\[[^\]]*\]$/, '')} (${line}), while the other layers' gradients get ${m.sibling.text} (${siblingLine}): ${missing}. Add ${code} to ${m.target}`,
        related: [
          { span: where, message: `the cost penalizes every ${item} of ${m.weight.replace(/\[[^\]]*\]$/, '')} here` },
          { span: m.sibling.span, message: `the other layers' gradients get their term here` },
        ],
        math: { computed: '0', expected: unicodeGradient(term), lossPenalty: m.written },
      };
    }
    const what = m.site === 'update' ? `the step of ${m.target} applies` : `${m.target} holds`;
    const sibling = m.sibling.penalty ? unicodePenalty(m.sibling.penalty) : 'another penalty';
    return {
      span: m.span,
      message: `${what} the gradient of the cost's penalty ${sibling}, written by hand (${m.sibling.text}), but no term for its penalty ${unicodePenalty(m.written)} (${line}): ${missing}. Add ${code} to ${m.site === 'update' ? 'the gradient the step applies' : m.target}`,
      related: [
        { span: where, message: `the cost penalizes ${m.weight} with ${unicodePenalty(m.written)} here` },
        { span: m.sibling.span, message: `the term for ${sibling} is written here` },
      ],
      math: { computed: '0', expected: unicodeGradient(term), lossPenalty: m.written },
    };
  });
}
