// NB105 penalty-shape: a penalty in the loss that is not the norm its own code implies.
//
// ## What it does
// Reads the penalties added to a loss and reports a plain norm `reg * ‖W‖` next to an L2 gradient
// `2 * reg * W`, or in a cost its code calls L2 regularization (`l2_reg_cost`; see
// facts/penaltyIntent.ts), a square of a sum `np.sum(W) ** 2`, a plain sum `np.sum(W)` or `|ΣW|`
// used as a penalty, a coefficient applied twice (`reg * reg * ΣW²`, `loss += reg * reg_loss`
// where `reg_loss` already has `reg`), and a penalty that is an array, not a number: builtin `sum`
// (or a loop from 0) over weight arrays' elementwise squares (facts/unreducedPenalties.ts).
//
// ## Why is this bad?
// Each of these is a different function of W from the L1/L2 norm the code means: its gradient is
// not the one the update uses, and as a regularizer it does not pull each weight toward zero.
import { defineRule, type Report } from './rule';
import { coefRatio } from '../math/coef';
import { unicodeGradient, unicodePenalty } from '../math/print/unicode';
import type { Coef } from '../math/terms';
import type { Facts } from '../engine/facts';
import type { Expr, Span } from '../engine/ir';
import { penaltyOfProduct, type ParamOccurrence } from '../engine/facts/analysis';
import { lastComponent } from '../engine/facts/keys';
import { isRegularizationStrengthName } from '../engine/facts/roles';
import { lastName, strengthNamesAppliedOnce } from '../engine/facts/strengths';
import { regGradientTerms, type RegGradientTerm } from '../engine/facts/gradients';
import { lossFacts, notNormPenalties, penaltiesFor, writtenAsPower, type LossSummand, type Shape } from '../engine/facts/losses';
import { canonicalCoef } from '../engine/facts/symbols';
import { programIndex, spanKey } from '../engine/facts/program';
import { plainNormsMeantSquared, type PlainNormMeantSquared } from '../engine/facts/penaltyIntent';
import { penaltyShapeForms, unreducedPenaltyForms } from '../engine/findingForms';
import { unreducedPenalties, type UnreducedPenalty } from '../engine/facts/unreducedPenalties';
import { gramPenalties, type GramPenalty } from '../engine/facts/gramPenalties';

export const nb105PenaltyShape = defineRule({
  meta: {
    code: 'NB105',
    name: 'penalty-shape',
    severity: 'warning',
    summary: 'A penalty in the loss is not the norm its code implies (plain norm, square of a sum, plain sum, coefficient twice, an array instead of a number)',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    const reported = new Set<string>();
    const report = (r: Report | undefined): void => {
      if (!r || reported.has(spanKey(r.span))) return;
      reported.add(spanKey(r.span));
      context.report(r);
    };
    const nextToGradient = plainNormNextToL2Gradient(facts);
    nextToGradient.forEach(report);
    // A loss already reported with its gradient is not reported again at its norm.
    const done = new Set(nextToGradient.map((r) => spanKey(r.span)));
    for (const m of plainNormsMeantSquared(facts)) if (!m.all.some((p) => done.has(spanKey(p.span)))) report(plainNormMeantSquared(facts, m));
    for (const s of lossFacts(facts).summands) {
      for (const r of shapes(facts, s)) report(r);
      report(coefficientTwice(facts, s));
    }
    for (const u of unreducedPenalties(facts)) report(unreduced(facts, u));
    for (const g of gramPenalties(facts)) report(gramSum(facts, g));
  },
});

// ------------------------------------------------------------------ plain norm

function plainNormNextToL2Gradient(facts: Facts): Report[] {
  const out: Report[] = [];
  const terms = regGradientTerms(facts);
  for (const t of terms) {
    if (t.kind === 'sign') {
      const r = plainNormNextToL1Gradient(facts, t);
      if (r) out.push(r);
      continue;
    }
    if (t.kind !== 'linear' || !t.param || t.foreign || !t.coef || t.preconditioned) continue;
    const penalties = penaltiesFor(facts, t.ids, t.site.scope);
    if (penalties.some((p) => p.site.autodiff || p.kind === 'sumsq' || p.kind === 'elemsq')) continue;
    // A W/‖W‖ gradient next to it means the plain norm is what the code differentiates.
    const fn = programIndex(facts).enclosingFunction(t.site.scope);
    if (terms.some((u) => u.kind === 'normalized' && u.ids.some((id) => t.ids.includes(id)) && programIndex(facts).enclosingFunction(u.site.scope) === fn)) continue;
    for (const p of penalties.filter((q) => q.kind === 'norm2')) {
      const a = canonicalCoef(facts, t.coef, t.site.scope, t.site.at);
      const b = canonicalCoef(facts, p.coef, p.site.scope, p.site.at);
      const r = coefRatio(a, b);
      if (r === undefined || (Math.abs(Math.abs(r) - 1) > 1e-9 && Math.abs(Math.abs(r) - 2) > 1e-9)) continue;
      if (a.syms.length === 0) continue;
      const w = lastComponent(p.param.base) ?? 'W';
      const c = abs(p.coef);
      const written = facts.source(t.span);
      const squared = unicodePenalty({ kind: 'sumsq', coef: Math.abs(r) === 2 ? c : { ...c, num: c.num / 2 }, param: w });
      out.push({
        span: p.span,
        message: `the loss adds the plain norm ${unicodePenalty({ kind: 'norm2', coef: c, param: w })}, whose gradient is ${unicodeGradient({ kind: 'normalized', coef: c, param: w })}, but the gradient uses ${written}, the gradient of ${squared}: the squared norm ‖${w}‖₂² was meant`,
        related: [{ span: t.span, message: 'the L2 gradient is added here' }],
      });
    }
  }
  return out;
}

/** A plain norm in a loss the code calls L2 regularization (a cost-only function, no gradient next to it). */
function plainNormMeantSquared(facts: Facts, m: PlainNormMeantSquared): Report {
  const p = m.penalty;
  const w = lastComponent(p.param.base) ?? facts.source(p.param.expr.span);
  const c = abs(p.coef);
  const plain = unicodePenalty({ kind: 'norm2', coef: c, param: w });
  const squared = unicodePenalty({ kind: 'sumsq', coef: c, param: w });
  const written = facts.source(m.norm).replace(/\s+/g, ' ');
  // A root of summed squares squared is its radicand: drop the root.
  const fix = m.root ? `drop the square root: ${facts.source(m.root).replace(/\s+/g, ' ')}` : `square it: ${written} ** 2`;
  return {
    span: m.norm,
    message: `the loss adds the plain norm ${plain}, but ${m.intent.says}: the L2 penalty is the squared norm ${squared}. The plain norm's gradient ${unicodeGradient({ kind: 'normalized', coef: c, param: w })} pulls with the same total strength whatever the size of the weights; ${fix}`,
    related: [{ span: m.intent.span, message: m.intent.note }],
    math: { computed: plain, expected: squared },
  };
}

function abs(c: Coef): Coef {
  return c.num < 0 ? { ...c, num: -c.num } : c;
}

/** `c * np.linalg.norm(w)` in the penalty and `c * np.sign(w)` in its gradient: the L1 norm was meant. */
function plainNormNextToL1Gradient(facts: Facts, t: RegGradientTerm): Report | undefined {
  if (!t.param || t.foreign || !t.coef || t.preconditioned) return undefined;
  const penalties = penaltiesFor(facts, t.ids, t.site.scope);
  if (penalties.some((p) => p.site.autodiff || p.kind === 'l1' || p.kind === 'elemabs')) return undefined;
  for (const p of penalties.filter((q) => q.kind === 'norm2')) {
    const a = canonicalCoef(facts, t.coef, t.site.scope, t.site.at);
    const b = canonicalCoef(facts, p.coef, p.site.scope, p.site.at);
    const r = coefRatio(a, b);
    if (r === undefined || Math.abs(Math.abs(r) - 1) > 1e-9) continue;
    const w = lastComponent(p.param.base) ?? 'W';
    const c = abs(p.coef);
    return {
      span: p.span,
      message: `the penalty is the plain L2 norm ${unicodePenalty({ kind: 'norm2', coef: c, param: w })}, whose gradient is ${unicodeGradient({ kind: 'normalized', coef: c, param: w })}, but its gradient is written as ${facts.source(t.span).replace(/\s+/g, ' ')}, the subgradient of the L1 norm ${unicodePenalty({ kind: 'l1', coef: c, param: w })}: the L1 norm was meant (ord=1)`,
      related: [{ span: t.span, message: 'the L1 subgradient is written here' }],
    };
  }
  return undefined;
}

// ------------------------------------------------------------------ shapes

function shapes(facts: Facts, s: LossSummand): Report[] {
  return notNormPenalties(facts, s).map((found) => shapeReport(facts, found.shape, found.param, found.expr));
}

function shapeReport(facts: Facts, shape: Shape, param: ParamOccurrence, expr: Expr): Report {
  const w = lastComponent(param.base) ?? facts.source(param.expr.span);
  const messages: Record<Shape, string> = {
    'plain-sum': `Σ${w} is not a norm: it is negative when the weights are, and its gradient is the constant 1, so as a penalty it pushes every weight down instead of toward zero; L1 is Σ|${w}|, L2 is Σ${w}²`,
    'square-of-sum': `(Σ${w})² is the square of the sum of the weights, not the sum of their squares Σ${w}²: its gradient 2·(Σ${w}) is the same for every weight, and weights of opposite sign cancel`,
    'abs-of-sum': `|Σ${w}| is the absolute value of the sum, not the L1 norm Σ|${w}|: weights of opposite sign cancel, and its gradient sign(Σ${w}) is the same for every weight`,
  };
  return { span: expr.span, message: messages[shape], math: { forms: penaltyShapeForms(shape, facts.source(param.expr.span).replace(/\s+/g, ' ')) } };
}

// ------------------------------------------------------------------ an array, not a number

function unreduced(facts: Facts, u: UnreducedPenalty): Report {
  const w = u.item;
  const term = facts.source(u.term.span).replace(/\s+/g, ' ');
  const meant = u.kind === 'sumsq' ? `Σ${w}²` : `Σ|${w}|`;
  const how = u.form === 'sum' ? `Python's builtin sum adds the arrays ${term} of the list entry by entry` : `the total starts at 0 and adds the array ${term} of each item entry by entry`;
  const method = u.term.kind === 'call' || u.term.kind === 'name' || u.term.kind === 'attr' ? `${term}.sum()` : `(${term}).sum()`;
  return {
    span: u.span,
    message: `this penalty is an array, not a number: ${how} and nothing reduces them, so the loss gets an array shaped like ${w} instead of ${meant} over every weight; reduce each term first: np.sum(${term}) (${method} for a tensor)`,
    related: [{ span: u.array, message: 'an item of the list is built as an array here' }],
    math: { forms: unreducedPenaltyForms(u.kind, w) },
  };
}

// ------------------------------------------------------------------ the sum of a Gram matrix

function gramSum(facts: Facts, g: GramPenalty): Report {
  const text = (span: Span): string => facts.source(span).replace(/\s+/g, ' ');
  const w = text(g.weight.span);
  const gram = g.form === 'gram' ? `${w}.T @ ${w}` : `${w} @ ${w}.T`;
  const pairs = g.form === 'gram' ? 'columns' : 'rows';
  const sums = g.form === 'gram' ? 'row' : 'column';
  return {
    span: g.span,
    message: `${text(g.span)} adds up every entry of the Gram matrix ${gram}, the dot products of every pair of ${pairs} of ${w}: that is the sum of the squared ${sums} sums of ${w}, not its sum of squares Σ${w}² (the trace). The gradient ${text(g.gradient.span)} is the gradient of an L2 penalty on the sum of squares; use np.sum(${w} ** 2) or np.trace(${gram})`,
    related: [
      { span: g.gradient.span, message: 'the L2 gradient of this weight is written here' },
      { span: g.shape.span, message: g.shape.built ? `the weight is built here with several ${pairs}` : 'the weight is one entry of a collection of weights this loop walks (a layer of several)' },
    ],
  };
}

// ------------------------------------------------------------------ coefficient twice

function coefficientTwice(facts: Facts, s: LossSummand): Report | undefined {
  const pen = penaltyOfProduct(s.product);
  if (!pen) return undefined;
  const coef = { ...pen.coef, syms: [...pen.coef.syms, ...s.outerCoef.syms] };
  // A strength by name, or by the file's math: applied once elsewhere (`0.5 * gamma * ΣW²`, `2 * gamma * W`
  // in the gradient), or applied here at two places one of which is already a penalty (`gamma * pen` with
  // `pen = gamma * ΣW²`, a penalty object built with `gamma` and scaled by it again).
  const appliedOnce = strengthNamesAppliedOnce(facts);
  const twice = merge(coef).find((x) => x.pow >= 2 && (isRegularizationStrengthName(x.name) || appliedOnce.has(lastName(x.name)) || appliedInsideAndOutside(facts, s, x.name)));
  if (!twice) return undefined;
  // `lam ** 2` written on purpose is a choice, not a slip.
  if (writtenAsPower(facts, twice.name, [s.summand.site, ...pen.defs.map((d) => d.span), ...s.through.flatMap((t) => (t.defined ? [t.span, t.defined] : [t.span]))])) return undefined;
  const w = lastComponent(pen.params[0].base) ?? 'W';
  const once = { ...pen.coef, syms: merge(coef).map((x) => (x.name === twice.name ? { ...x, pow: x.pow - 1 } : x)) };
  const related: { span: Span; message: string }[] = pen.defs.map((d) => ({ span: d.span, message: d.what }));
  // A penalty of several terms is expanded through its variable, which its terms do not name.
  for (const t of s.through) if (t.defined && !related.some((r) => spanKey(r.span) === spanKey(t.defined!))) related.push({ span: t.defined, message: `the penalty ${t.key} is defined here` });
  return {
    // Each term of `reg_loss = reg * (‖a‖² + ‖b‖²)` is the one mistake of `reg * reg_loss`: reported there, once.
    span: s.written,
    message: `the coefficient ${twice.name} is applied twice: this penalty is ${unicodePenalty({ kind: pen.kind, coef: abs(merged(coef, pen.coef.num)), param: w })}; the penalty meant is ${unicodePenalty({ kind: pen.kind, coef: abs(merged(once, pen.coef.num)), param: w })}`,
    related,
  };
}

function merge(c: Coef): { name: string; pow: number }[] {
  const m = new Map<string, number>();
  for (const x of c.syms) m.set(x.name, (m.get(x.name) ?? 0) + x.pow);
  return [...m].map(([name, pow]) => ({ name, pow }));
}

function merged(c: Coef, n: number): Coef {
  return { num: n, syms: merge(c).filter((x) => x.pow !== 0).sort((a, b) => (a.name < b.name ? -1 : 1)) };
}


/** The symbol scales the summand from a factor outside a factor that is itself a penalty scaled by it. */
function appliedInsideAndOutside(facts: Facts, s: LossSummand, name: string): boolean {
  // Distributed from outside a variable holding a sum of penalties that carry it (`gamma * size`, `size = gamma * (Σu² + Σv²) / 2`).
  if (s.through.length > 0 && s.outerCoef.syms.some((x) => x.name === name && x.pow > 0) && s.product.coef.syms.some((x) => x.name === name && x.pow > 0)) return true;
  const a = facts.analyzer;
  const carries = s.summand.num.map((f) => a.classify(f.expr, f.scope, f.at, f.env)).map((p) => ({ penalty: !!p.penalty, has: p.coef.syms.some((x) => x.name === name && x.pow > 0) || (p.penalty?.coef.syms.some((x) => x.name === name && x.pow > 0) ?? false) }));
  return carries.filter((c) => c.has).length >= 2 && carries.some((c) => c.has && c.penalty);
}
