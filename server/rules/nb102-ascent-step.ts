// NB102 ascent-step: the step moves a parameter up the loss gradient, or its regularization term
// has the wrong sign and grows the weights.
//
// ## What it does
// Follows each parameter update's terms back to where they come from (a gradient set by
// `backward()`, returned with the loss, computed by `tape.gradient(loss, ...)`, a residual
// `output − target`, an accumulator `v = mu * v - lr * g`) and reports a step that adds +∇loss, and a
// term c·W (c·sign(W)) that enters W's update with a + sign.
//
// ## Why is this bad?
// Gradient descent subtracts the gradient. Adding it climbs the loss; adding c·W grows the weights
// exponentially instead of decaying them.
import { defineRule, type Report } from './rule';
import type { Facts, UpdateSite } from '../engine/facts';
import type { Span } from '../engine/ir';
import { baseExpr, exprKey, lastComponent } from '../engine/facts/keys';
import { isRegularizationTerm, maskedRegGradientTerms, regGradientTerms, scaledSelfSites, type RegGradientTerm } from '../engine/facts/gradients';
import { DirectionAnalyzer } from '../engine/facts/direction';
import { accumulatorPolarity, ascentContext, expectedSign, mentionsAscentAround, movesModelParameter, stepOf, termSign, trimSpan } from '../engine/facts/steps';
import { ownStatements, programIndex, spanKey } from '../engine/facts/program';
import { someExpr, type Scope } from '../engine/facts/scope';
import { unicodeCoef } from '../math/print/unicode';
import { climbingMomentum, decayIntoBufferWrongSign } from '../engine/facts/optimizerFindings';
import { fieldLinks, placeOf } from '../engine/facts/fieldLinks';
import { antiRidgeSolves } from '../engine/facts/ridgeSolve';
import { countsAround } from '../engine/facts/counters';
import { antiRidgeForms } from '../engine/findingForms';
import { restoresNormTarget } from '../engine/facts/normRestoration';

export const nb102AscentStep = defineRule({
  meta: {
    code: 'NB102',
    name: 'ascent-step',
    severity: 'warning',
    summary: 'A step moves a parameter up the loss gradient, or its regularization term grows the weights',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    const reported = new Set<string>();
    const ascents = ascentSteps(facts);
    // Momentum that climbs through optimizer state the step reads (`self.state[p]`, torch in-place buffers).
    const climbs: Report[] = [...climbingMomentum(facts), ...decayIntoBufferWrongSign(facts)].filter((c) => !ascents.some((a) => a.span.start <= c.span.start && c.span.end <= a.span.end));
    for (const r of [...ascents, ...climbs, ...wrongSignTerms(facts, new Set(ascents.map((a) => spanKey(a.span)))), ...linkedSignTerms(facts), ...antiRidgeReports(facts)]) {
      const key = spanKey(r.span);
      if (reported.has(key)) continue;
      reported.add(key);
      context.report(r);
    }
  },
});

// ------------------------------------------------------------------ regularization sign

/** A closed-form ridge fit that subtracts its ridge term from the Gram matrix (ridgeSolve.ts). */
function antiRidgeReports(facts: Facts): Report[] {
  return antiRidgeSolves(facts).map((r) => {
    const x = facts.source(r.design.span);
    const lam = facts.source(r.strength.span);
    const gram = r.outer ? `${x}·${x}ᵀ` : `${x}ᵀ·${x}`;
    const message = `this ridge fit subtracts ${lam}·I from the Gram matrix ${gram}: (${gram} − ${lam}·I)⁻¹ pulls the solution away from zero instead of shrinking it, and is indefinite or singular once ${lam} passes an eigenvalue of ${gram}. Ridge regularization adds it: (${gram} + ${lam}·I)⁻¹.`;
    return {
      span: r.term,
      message,
      related: [{ span: r.solve.span, message: 'the matrix is inverted or solved with here' }],
      math: { computed: `(${gram} − ${lam}·I)⁻¹`, expected: `(${gram} + ${lam}·I)⁻¹`, forms: antiRidgeForms(x, lam, r.outer) },
    };
  });
}

/**
 * Does `t`, written on one entry of a gradient (`grad[0] -= reg * theta[0]`), take back the term an
 * earlier statement of the same function added to that whole gradient with the opposite sign and the
 * same coefficient (`grad = X.T @ e / m + reg * theta`)? The entry is then left without the penalty
 * (the intercept), which is no sign mistake.
 */
function takesEntryTermBack(facts: Facts, t: RegGradientTerm, terms: RegGradientTerm[], sign: number): boolean {
  const target = t.site.target;
  if (target.kind !== 'index' || t.param?.expr.kind !== 'index' || t.site.kind === 'update') return false;
  const entry = (e: typeof target): string => e.index.map((x) => exprKey(x) ?? '?').join(',');
  if (entry(target) !== entry(t.param.expr)) return false;
  const gradKey = exprKey(baseExpr(target));
  const paramKey = exprKey(t.param.base);
  if (gradKey === undefined || paramKey === undefined || !t.coef) return false;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(t.site.scope);
  return terms.some(
    (u) =>
      u !== t &&
      u.site.kind !== 'update' &&
      u.site.at < t.site.at &&
      u.site.target.kind !== 'index' &&
      exprKey(u.site.target) === gradKey &&
      u.param !== undefined &&
      u.param.expr.kind !== 'index' &&
      exprKey(u.param.base) === paramKey &&
      u.coef !== undefined &&
      index.enclosingFunction(u.site.scope) === fn &&
      termSign(facts, u) === -sign &&
      Math.abs(Math.abs(u.coef.num) - Math.abs(t.coef!.num)) < 1e-12 &&
      JSON.stringify(u.coef.syms) === JSON.stringify(t.coef!.syms),
  );
}

function wrongSignTerms(facts: Facts, ascentSpans: Set<string>): Report[] {
  const out: Report[] = [];
  // A term behind a 0/1 comparison factor (`lam * W * ((i + 1) == n)`) has its sign all the same.
  const terms = [...regGradientTerms(facts), ...maskedRegGradientTerms(facts)];
  for (const t of terms) {
    if (t.kind !== 'linear' && t.kind !== 'sign' && t.kind !== 'normalized') continue;
    if (!t.param || t.foreign || !isRegularizationTerm(facts, t)) continue;
    const sign = termSign(facts, t);
    if (sign === undefined) continue;
    // Grows the weight only while its size is below a stored target: a norm restoration (normRestoration.ts).
    if (restoresNormTarget(facts, t)) continue;
    // A piece of a complement `(1 - b1) * g` (with `g = 2 * w`): the analyzer reads −b1·g apart from +g,
    // but the factor is 1 − b1 whole, whose sign no piece gives.
    if (complementPiece(facts, t)) continue;
    const paramText = facts.source(t.param.expr.span);
    const termText = facts.source(t.span);
    if (t.site.kind === 'update') {
      if (sign < 0 || exprKey(baseExpr(t.site.target)) !== exprKey(t.param.base)) continue;
      if (t.summand.via.length > 0) {
        // Carried in by a variable: where it is added to a gradient, that site decides.
        if (terms.some((u) => u !== t && u.site.kind !== 'update' && spanKey(u.span) === spanKey(t.span))) continue;
        // A velocity or step direction `v`: the term must point the way v's gradient does.
        const inner = terms.find((u) => u !== t && u.site.kind === 'update' && spanKey(u.span) === spanKey(t.span));
        const polarity = inner ? accumulatorPolarity(facts, inner.site) : undefined;
        const innerSign = inner ? termSign(facts, inner) : undefined;
        if (polarity !== undefined && innerSign !== undefined) {
          const use = sign * innerSign; // the sign with which the variable enters W's update
          if (polarity * use > 0) continue; // the step climbs: reported as an ascent step
        } else {
          // The whole step says which way it goes: if it descends the loss, the term is what is wrong.
          const descent = stepPolarity(facts, t.site);
          if (descent === 1) continue; // the step climbs: reported as an ascent step
          if (descent === undefined) {
            if (!ascentSpans.has(spanKey(trimSpan(facts, t.site.span)))) out.push(ambiguousReport(facts, t, paramText));
            continue;
          }
        }
      }
      const c = unicodeCoef({ ...t.stepCoef, num: Math.abs(t.stepCoef.num) });
      out.push(
        signReport(
          facts,
          t,
          t.selfScale
            ? `${paramText} is multiplied by (1 + ${c}) each step, which grows the weights instead of decaying them; weight decay multiplies by (1 − ${c})`
            : `the regularization term ${termText} has the wrong sign: the step adds ${describe(t)} to ${paramText}, which grows the weights instead of decaying them`,
        ),
      );
      continue;
    }
    // `grad[0] -= reg * theta[0]` after `grad = … + reg * theta`: the entry's term taken back out (an intercept left unpenalized).
    if (takesEntryTermBack(facts, t, terms, sign)) continue;
    // Added into a gradient: which sign does a correct regularization term have there?
    const expected = expectedSign(facts, t);
    if (expected === undefined || expected.sign * sign >= 0) continue;
    if (expected.ambiguous) {
      const use = expected.useSite;
      if (use && !ascentSpans.has(spanKey(trimSpan(facts, use.span)))) out.push(ambiguousReport(facts, t, paramText, use));
      continue;
    }
    if (t.site.penaltyGradientOf) {
      const method = t.site.target.kind === 'name' ? t.site.target.name : 'the gradient method';
      out.push(signReport(facts, t, `${method}() returns ${termText}, the gradient of ${t.site.penaltyGradientOf.name}()'s penalty with the wrong sign: a step that subtracts it grows ${paramText} instead of decaying it`));
      continue;
    }
    const lambda = programIndex(facts).lambdas.get(t.site.scope)?.lambda;
    const gradText = lambda?.params[0] ? lambda.params[0].name : facts.source(t.site.target.span);
    out.push(signReport(facts, t, `the regularization term ${termText} is added with the wrong sign: ${gradText} holds ${expected.sign > 0 ? '+' : '−'}∇loss, so the term must be ${expected.sign > 0 ? 'added' : 'subtracted'}; as written ${paramText} grows by ${describe(t)} each step instead of decaying`));
  }
  return out;
}

/** Whether the term is written as the `x` of a `1 - x` (`(1 - b1) * g`): a piece of a complement factor. */
function complementPiece(facts: Facts, t: RegGradientTerm): boolean {
  const index = programIndex(facts);
  let body = facts.module.body;
  for (let s: Scope | undefined = index.scopeAt(t.span.start); s; s = s.parent) {
    const own = s.kind === 'function' ? index.functionOfScope(s)?.body : s.kind === 'lambda' ? index.lambdas.get(s)?.lambda.stmts : undefined;
    if (own) {
      body = own;
      break;
    }
  }
  // The assignment that writes the term (the step's own, or one a variable carries it in from).
  const stmt = ownStatements(body).find((s) => s.kind === 'assign' && s.value.span.start <= t.span.start && t.span.end <= s.value.span.end);
  const value = stmt?.kind === 'assign' ? stmt.value : undefined;
  return value !== undefined && someExpr(value, (e) => e.kind === 'binary' && e.op === '-' && e.left.kind === 'num' && e.left.value === 1 && spanKey(e.right.span) === spanKey(t.span));
}

/**
 * A layer's `self.dW += c * self.W` whose file does not say which way dW points, while an optimizer
 * elsewhere steps the layer's weights along that field (`layer.W += -lr * layer.dW`): dW holds
 * +∇loss there, so the term must be added (fieldLinks.ts).
 */
function linkedSignTerms(facts: Facts): Report[] {
  const out: Report[] = [];
  for (const { term: t, facts: where, descentSign, use } of fieldLinks(facts)) {
    if (descentSign === undefined || !use || !t.param || (t.kind !== 'linear' && t.kind !== 'sign')) continue;
    if (!isRegularizationTerm(where, t) || expectedSign(where, t) !== undefined) continue;
    const sign = termSign(where, t);
    if (sign === undefined || sign * descentSign >= 0) continue;
    const gradText = where.source(t.site.target.span);
    const paramText = where.source(t.param.expr.span);
    const line = placeOf(where, use.span, where.lineLabel(use.span));
    const report = signReport(where, t, `the regularization term ${where.source(t.span)} is ${sign < 0 ? 'subtracted from' : 'added to'} ${gradText}, but ${gradText} is ${descentSign > 0 ? 'subtracted from' : 'added to'} the weights by the step on ${line}, so it holds ${descentSign > 0 ? '+' : '−'}∇loss and the term must be ${descentSign > 0 ? 'added' : 'subtracted'}; as written ${paramText} grows by ${describe(t)} each step instead of decaying`);
    out.push({ ...report, related: [...(report.related ?? []), { span: trimSpan(where, use.span), message: `the step that applies ${gradText}` }] });
  }
  return out;
}

/**
 * The weights grow either way, but which side is wrong is not known: `W += lr * dW` with
 * `dW += reg * W` climbs if dW is the loss gradient, or has the wrong decay sign if dW is a descent
 * direction. Reported on the step, with both readings.
 */
function ambiguousReport(facts: Facts, t: RegGradientTerm, paramText: string, useSite?: UpdateSite): Report {
  const site = useSite ?? t.site;
  const span = trimSpan(facts, site.span);
  const via = useSite ? facts.source(t.site.target.span) : facts.source(t.summand.via[0]);
  return {
    span,
    message: `this step adds ${via}, which carries the regularization term +${describe(t)}: ${paramText} grows every step. If ${via} is the loss gradient, the step climbs the loss and must subtract it; if it is a descent direction, the term must be subtracted`,
    related: [{ span: t.span, message: 'the regularization term is added here' }],
  };
}

function describe(t: RegGradientTerm): string {
  const c = t.stepCoef.num < 0 ? { ...t.stepCoef, num: -t.stepCoef.num } : t.stepCoef;
  const p = t.param ? lastComponent(t.param.base) ?? 'W' : 'W';
  return t.kind === 'sign' ? `${unicodeCoef(c)}·sign(${p})` : t.kind === 'normalized' ? `${unicodeCoef(c)}·${p}/‖${p}‖` : `${unicodeCoef(c)}·${p}`;
}

function signReport(facts: Facts, t: RegGradientTerm, message: string): Report {
  const fix = flipOperatorFix(facts, t.span);
  return {
    span: t.span,
    message,
    related: t.summand.via.length > 0 ? [{ span: trimSpan(facts, t.site.span), message: 'the step that applies it' }] : [],
    fix: fix && { title: 'Flip the sign of the regularization term', safety: 'unsafe', edits: [fix] },
  };
}

const polarities = new WeakMap<UpdateSite, 1 | -1 | null>();

/** Which way an update moves along the loss gradient: −1 down, +1 up, undefined when it cannot be read. */
function stepPolarity(facts: Facts, site: UpdateSite): 1 | -1 | undefined {
  const known = polarities.get(site);
  if (known !== undefined) return known ?? undefined;
  let answer: 1 | -1 | undefined;
  const step = stepOf(facts, site);
  if (step) {
    const { terms, ascent } = new DirectionAnalyzer(facts).step(step.expr, site.scope, site.at, step.sign, step.self, site.target);
    const grads = terms.filter((x) => x.kind === 'grad');
    if (!ascent && grads.length > 0 && !terms.some((x) => x.kind === 'unknown' && x.gradientish)) {
      const signs = new Set(grads.map((g) => g.sign));
      if (signs.size === 1) answer = grads[0].sign;
    }
  }
  polarities.set(site, answer ?? null);
  return answer;
}

// ------------------------------------------------------------------ ascent steps

function ascentSteps(facts: Facts): Report[] {
  const out: Report[] = [];
  const direction = new DirectionAnalyzer(facts);
  for (const site of [...facts.updates, ...scaledSelfSites(facts)]) {
    if (site.kind !== 'update') continue;
    if (!movesModelParameter(facts, site)) continue;
    const step = stepOf(facts, site);
    if (!step) continue;
    const { terms, ascent } = direction.step(step.expr, site.scope, site.at, step.sign, step.self, site.target);
    if (ascent) continue;
    const grads = terms.filter((t) => t.kind === 'grad');
    if (grads.length === 0 || grads.some((t) => t.sign < 0)) continue;
    if (terms.some((t) => t.kind === 'unknown' && t.gradientish)) continue;
    // Asked last: it reads the text around the step, and only a step that climbs needs it.
    if (ascentContext(facts, site)) continue;
    // A sign known by convention only: a word of maximizing in the code around the step (the class or
    // top-level statement that holds it, with the comments right above) keeps it silent.
    if (grads.every((t) => t.weak) && mentionsAscentAround(facts, site.span)) continue;
    // ... nor when the target is a count (a bound of `range(…)` around the step), an index, not a weight.
    if (grads.every((t) => t.weak) && countsAround(facts, site.span).has(exprKey(site.target) ?? '')) continue;
    const g = grads[0];
    const targetText = facts.source(site.target.span);
    const message = `this step moves ${targetText} up the loss gradient: it adds ${g.source ?? 'the gradient'} where gradient descent subtracts it, so training climbs the loss`;
    const fix = step.operator ? { title: 'Subtract the gradient (descend)', safety: 'unsafe' as const, edits: [{ span: step.operator, newText: facts.source(step.operator) === '+=' ? '-=' : '+=' }] } : undefined;
    const related = g.origin ? [{ span: g.origin, message: 'the gradient of the loss comes from here' }] : [];
    // Flipping `+=` is right only when the step is the gradient alone (no decay term to flip with it).
    out.push({ span: trimSpan(facts, site.span), message, related, fix: terms.every((t) => t.kind === 'grad' || t.kind === 'scalar') ? fix : undefined });
  }
  return out;
}

/** `dW - reg * W` → `dW + reg * W`: flips the operator right before the term, when there is one. */
function flipOperatorFix(facts: Facts, span: Span): { span: Span; newText: string } | undefined {
  const operator = programIndex(facts.program.factsAt(span) ?? facts).operatorBefore(span);
  if (!operator) return undefined;
  return { span: operator, newText: facts.source(operator) === '-' ? '+' : '-' };
}
