// NB104 l1-gradient: the gradient written for an L1 penalty c·Σ|W| is c·|W|, c·W or a bare c
// (it is c·sign(W)); or the loss's penalty is L2 and the gradient is c·sign(W).
//
// ## What it does
// Looks at the regularization terms of updates and gradients. A c·|W| term is reported on its own:
// |W| is never the gradient of a regularizer. c·W and a bare c are reported when the loss puts an L1
// penalty with the same coefficient on W; c·sign(W) when the loss puts an L2 penalty on W.
//
// ## Why is this bad?
// c·|W| and a bare c push every weight the same way (down) regardless of its sign; c·W is weight
// decay, which shrinks large weights fast and small ones hardly at all, so nothing becomes sparse.
import { defineRule, type Report } from './rule';
import { coefRatio, mul, num } from '../math/coef';
import { codeGradient } from '../math/print/code';
import { unicodeCoef, unicodeGradient, unicodePenalty } from '../math/print/unicode';
import type { Gradient, Penalty } from '../math/terms';
import type { Facts } from '../engine/facts';
import type { Span } from '../engine/ir';
import { lastComponent } from '../engine/facts/keys';
import { isRegularizationStrengthName } from '../engine/facts/roles';
import { absCallOf, regGradientTerms, termsOfSites, type RegGradientTerm } from '../engine/facts/gradients';
import { overrideGradientSites } from '../engine/facts/regularizerObjects';
import { penaltiesFor, penaltyPlace, penaltyVerb, type LossPenalty } from '../engine/facts/losses';
import { canonicalCoef } from '../engine/facts/symbols';
import { fieldLinks, writtenCoef } from '../engine/facts/fieldLinks';
import { programIndex, spanKey } from '../engine/facts/program';

const L1 = ['l1', 'elemabs'];
const L2 = ['sumsq', 'elemsq'];

export const nb104L1Gradient = defineRule({
  meta: {
    code: 'NB104',
    name: 'l1-gradient',
    severity: 'warning',
    summary: 'The gradient of an L1 penalty written as c·|W|, c·W or c instead of c·sign(W), or an L2 penalty given a sign(W) gradient',
    fix: 'sometimes',
  },
  check(context) {
    const { facts } = context;
    const reported = new Set<string>();
    const candidates: [Facts, RegGradientTerm, LossPenalty[] | undefined][] = regGradientTerms(facts).map((t) => [facts, t, undefined]);
    // A layer's own term against the penalty a loss class or module computes from the layer's fields.
    for (const link of fieldLinks(facts)) if (link.penalties.length > 0) candidates.push([link.facts, link.term, link.penalties]);
    // A regularizer class's one method, a gradient by what its sibling overrides return.
    for (const o of overrideGradientSites(facts)) for (const t of termsOfSites(o.facts, [o.site])) if (t.kind === 'abs') candidates.push([o.facts, t, undefined]);
    for (const [where, t, linked] of candidates) {
      const key = spanKey(t.span);
      if (reported.has(key)) continue;
      const report = checkTerm(where, t, linked);
      if (!report) continue;
      reported.add(key);
      context.report(report);
    }
  },
});

function checkTerm(facts: Facts, t: RegGradientTerm, linked?: LossPenalty[]): Report | undefined {
  const text = (s: Span): string => facts.source(s);
  if (t.preconditioned || t.foreign || t.stepCoef.num === 0) return undefined;
  const all = linked ?? (t.ids.length > 0 ? penaltiesFor(facts, t.ids, t.site.scope) : []);
  const manual = !all.some((p) => p.site.autodiff || p.site.scaledLater);
  const l1 = manual ? all.filter((p) => L1.includes(p.kind)) : [];
  const l2 = manual ? all.filter((p) => L2.includes(p.kind)) : [];
  // A constant in a regularizer object's gradient method belongs to the object's weight, named as the penalty's parameter.
  const objectWeight = !t.param && t.ids.some((id) => id.startsWith('object:')) ? all.find((p) => p.param)?.param.base : undefined;
  const paramText = t.param ? lastComponent(t.param.base) ?? text(t.param.expr.span) : objectWeight ? lastComponent(objectWeight) ?? text(objectWeight.span) : t.ids[0] ?? 'W';
  const c = t.coef ?? t.stepCoef;
  const cAbs = { ...c, num: Math.abs(c.num) };

  if (t.kind === 'abs') {
    const regCoef = c.syms.some((s) => s.pow > 0 && isRegularizationStrengthName(s.name));
    if (t.site.kind === 'update' && !regCoef && l1.length === 0) return undefined;
    const sign: Gradient = { kind: 'sign', coef: cAbs, param: paramText };
    // As a gradient a positive c·|W| is subtracted by the step (every weight goes down); subtracted
    // inside the gradient (`w -= eta * (g - l1 * |w|)`) it is added (every weight goes up).
    const down = t.coef ? t.coef.num > 0 : t.stepCoef.num < 0;
    const message = `|${paramText}| is not the gradient of an L1 penalty: ${unicodeCoef(cAbs)}·|${paramText}| pushes every weight ${down ? 'down' : 'up'}, whatever its sign; the (sub)gradient of ${unicodeCoef(cAbs)}·Σ|${paramText}| is ${unicodeGradient(sign)}`;
    return { span: t.span, message, related: penaltyRelated(l1), fix: absToSignFix(facts, t), math: { computed: `${unicodeCoef(cAbs)}·|${paramText}|`, expected: unicodeGradient(sign) } };
  }

  if ((t.kind === 'linear' || t.kind === 'const') && l1.length > 0) {
    const p = matching(facts, t, l1);
    if (!p) return undefined;
    // With an L2 penalty of the same strength, c·W may be its gradient: elastic net.
    if (t.kind === 'linear' && l2.some((q) => sameStrength(facts, t, q))) return undefined;
    const penalty: Penalty = { kind: p.kind, coef: abs(writtenCoef(p)), param: paramText, via: p.via };
    const expected: Gradient = { kind: 'sign', coef: abs(p.coef), param: paramText };
    const written = t.kind === 'linear' ? unicodeGradient({ kind: 'linear', coef: cAbs, param: paramText }) : unicodeCoef(cAbs);
    const what = t.kind === 'linear' ? `${written} is weight decay (the gradient of an L2 penalty)` : `the constant ${written} moves every weight the same way`;
    const message = `${penaltyVerb(p)} the L1 penalty ${unicodePenalty(penalty)}, whose (sub)gradient is ${unicodeGradient(expected)}, but ${what}`;
    return { span: t.span, message, related: penaltyRelated([p]), fix: replaceFix(facts, t, expected, p), math: { computed: written, expected: unicodeGradient(expected) } };
  }

  if (t.kind === 'sign' && l2.length > 0 && l1.length === 0 && t.param) {
    const p = matching(facts, t, l2);
    if (!p) return undefined;
    const penalty: Penalty = { kind: p.kind, coef: abs(writtenCoef(p)), param: paramText, via: p.via };
    const expected: Gradient = { kind: 'linear', coef: mul(num(2), abs(p.coef)), param: paramText };
    const written: Gradient = { kind: 'sign', coef: cAbs, param: paramText };
    const message = `${penaltyVerb(p)} the L2 penalty ${unicodePenalty(penalty)}, whose gradient is ${unicodeGradient(expected)}, but the ${t.site.penaltyGradientOf ? 'gradient method returns' : 'update uses'} ${unicodeGradient(written)}, the subgradient of an L1 penalty`;
    return { span: t.span, message, related: penaltyRelated([p]), fix: replaceFix(facts, t, expected, p), math: { computed: unicodeGradient(written), expected: unicodeGradient(expected) } };
  }
  return undefined;
}

function abs<T extends { num: number }>(c: T): T {
  return c.num < 0 ? { ...c, num: -c.num } : c;
}

/** The penalty whose strength the term uses (same symbols, any numeric factor). */
function matching(facts: Facts, t: RegGradientTerm, penalties: LossPenalty[]): LossPenalty | undefined {
  return penalties.find((p) => sameStrength(facts, t, p));
}

function sameStrength(facts: Facts, t: RegGradientTerm, p: LossPenalty): boolean {
  if (!t.coef) return false;
  // A regularizer object's two methods are written in its own terms: a parameter both take (`n`)
  // is the same value in both, whatever one caller hands the gradient method.
  if (t.site.penaltyGradientOf && p.site.penaltyMethod === t.site.penaltyGradientOf) {
    if (t.coef.syms.length > 0 && coefRatio(t.coef, p.coef) !== undefined) return true;
  }
  const a = canonicalCoef(facts, t.coef, t.site.scope, t.site.at);
  const b = canonicalCoef(facts, p.coef, p.site.scope, p.site.at);
  if (a.syms.length === 0 && b.syms.length === 0) return false; // two numbers say nothing about being the same knob
  return coefRatio(a, b) !== undefined;
}

function penaltyRelated(penalties: LossPenalty[]): { span: Span; message: string }[] {
  return penalties.slice(0, 1).map((p) => ({ span: p.span, message: p.site.penaltyMethod ? `${penaltyPlace(p)} returns the penalty here` : 'the penalty is added to the loss here' }));
}

/** `np.abs(W)` → `np.sign(W)`, `W.abs()` → `W.sign()`, `Math.abs(w[j])` → `Math.sign(w[j])`. */
function absToSignFix(facts: Facts, t: RegGradientTerm): Report['fix'] {
  if (t.summand.via.length > 0 || !t.param) return undefined;
  const call = absCallOf(t);
  if (!call) return undefined;
  const callee = call.callee;
  const name = callee.kind === 'attr' ? callee.name : callee.kind === 'name' ? callee.name : undefined;
  if (!name || name === 'fabs') return undefined;
  let edit: { span: Span; newText: string };
  if (callee.kind === 'attr') edit = { span: { start: callee.span.end - name.length, end: callee.span.end }, newText: 'sign' };
  else if (facts.dialect === 'numpy') edit = { span: callee.span, newText: 'np.sign' };
  else if (facts.dialect === 'torch') edit = { span: callee.span, newText: 'torch.sign' };
  else if (facts.dialect === 'jax') edit = { span: callee.span, newText: 'jnp.sign' };
  else return undefined;
  if (facts.source(edit.span) !== name && callee.kind === 'attr') return undefined;
  return { title: `Use the subgradient: ${name} → sign`, safety: 'unsafe', edits: [edit] };
}

/** Replace the written term by the right gradient when it is written as-is next to the penalty. */
function replaceFix(facts: Facts, t: RegGradientTerm, expected: Gradient, p: LossPenalty): Report['fix'] {
  if (!t.param || t.summand.via.length > 0 || t.selfScale || t.summand.sign !== (t.site.kind === 'update' ? -1 : 1)) return undefined;
  if (programIndex(facts).enclosingFunction(t.site.scope) !== p.site.fn) return undefined;
  const local = facts.analyzer.classifySummand({ ...t.summand, sign: 1, num: t.summand.num.filter((f) => !f.outer), den: t.summand.den.filter((f) => !f.outer) });
  if (!t.coef || coefRatio(local.coef, t.coef) !== 1) return undefined;
  const paramText = facts.source(t.param.expr.span);
  const replacement = codeGradient({ ...expected, param: paramText }, facts.dialect, paramText);
  return replacement ? { title: `Use ${replacement}`, safety: 'unsafe', edits: [{ span: t.span, newText: replacement }] } : undefined;
}
