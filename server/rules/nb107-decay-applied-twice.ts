// NB107 decay-applied-twice: weight decay applied twice to the same parameters in one step.
//
// ## What it does
// Finds a parameter whose step decays it twice with the same knob: coupled decay added to the
// gradient that feeds the step (`grad = grad.add(p, alpha=wd)`, `g = g + wd * w`) and decoupled
// decay in the step itself (`p.mul_(1 - lr * wd)`, `w -= lr * (g + wd * w)`), or the same decay
// written twice; a decay of every group's parameters run once per parameter group; and a Keras
// optimizer subclass that gives the base class a weight decay, which the base applies to every
// variable before `update_step`, and decays the variable again in `update_step`.
//
// ## Why is this bad?
// Each application shrinks the weights by lr·λ·W: together they shrink them by 2·lr·λ·W (or once
// per group), twice what the knob says, and the tuned weight decay no longer means what it says.
import { defineRule, type RuleContext } from './rule';
import { unicodeCoef } from '../math/print/unicode';
import { doubleDecays, type DecayApplication } from '../engine/facts/doubleDecay';
import { inheritedDecays, type InheritedDecay } from '../engine/facts/inheritedDecay';
import { decayTwiceForms } from '../engine/findingForms';
import type { Facts } from '../engine/facts';

export const nb107DecayAppliedTwice = defineRule({
  meta: {
    code: 'NB107',
    name: 'decay-applied-twice',
    severity: 'warning',
    summary: 'Weight decay applied twice to the same parameters in one step (in the gradient and in the step, or written twice)',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    const { twice, perGroup } = doubleDecays(facts);
    for (const d of twice) {
      const w = src(facts, d.param.span);
      // A method's own name for the knob (`wd` in `_shrink`) says less than the step's.
      const lam = (d.second.via ? strength(d.first) ?? strength(d.second) : strength(d.second) ?? strength(d.first)) ?? 'λ';
      const first = describe(facts, d.first, w);
      const second = describe(facts, d.second, w);
      const message = `weight decay is applied twice to ${w} in one step: ${first.text}, and ${second.text} again, so ${w} decays twice per step and the knob no longer says how strongly. Keep one of the two.`;
      // A decay applied by a method the step calls: the call shows no decay to typeset, so the hover shows the step's math.
      const forms = d.first.via || d.second.via ? decayTwiceForms(w, lam === 'λ' ? undefined : lam, [d.first.kind, d.second.kind]) : undefined;
      const math = { ...mathOf(d.first, d.second, w, lam), ...(forms ? { forms } : {}) };
      const related = [{ span: d.first.span, message: `first decay of ${w}: ${first.short}` }];
      for (const a of [d.first, d.second]) if (a.via) related.push({ span: a.via.decay, message: `\`${a.via.method}\` decays the parameter it is handed (${src(facts, a.into.span)} here)` });
      context.report({ span: d.second.span, message, related, math });
    }
    for (const d of inheritedDecays(facts)) reportInherited(context, d);
    for (const g of perGroup) {
      const list = src(facts, g.params.span);
      const groups = src(facts, g.loop.iter.span);
      const message = `${src(facts, g.span)} decays every parameter in ${list}, built from all of ${groups}, once per iteration of the loop over ${groups}: each parameter is decayed once per parameter group. Decay each group's own parameters, or move the decay out of the loop.`;
      context.report({
        span: g.span,
        message,
        related: [
          { span: g.loop.iter.span, message: `the loop over ${groups} runs the decay once per group` },
          { span: g.built, message: `${list} holds the parameters of every group` },
        ],
        math: { computed: `W ← (1 − lr·λ)ⁿ·W per step (n = number of groups)`, expected: `W ← (1 − lr·λ)·W per step` },
      });
    }
  },
});

function src(facts: Facts, span: { start: number; end: number }): string {
  return facts.source(span).replace(/\s+/g, ' ');
}

function describe(facts: Facts, a: DecayApplication, w: string): { text: string; short: string } {
  const code = `\`${src(facts, a.span)}\``;
  if (a.kind === 'gradient') {
    const g = src(facts, a.into.span);
    return { text: `${code} adds it to the gradient ${g}`, short: `${code} adds ${strength(a) ?? 'λ'}·${w} to the gradient ${g}` };
  }
  if (a.via) return { text: `${code} shrinks ${w} in \`${a.via.method}\` (\`${src(facts, a.via.decay)}\`)`, short: `${code} shrinks ${w} in \`${a.via.method}\`` };
  return { text: `${code} shrinks ${w}`, short: `${code} shrinks ${w} in its step` };
}

/** λ as written, the learning rate divided out (the gradient coefficient of the term). */
function strength(a: DecayApplication): string | undefined {
  return a.strength.syms.length > 0 ? unicodeCoef(a.strength) : undefined;
}

function mathOf(first: DecayApplication, second: DecayApplication, w: string, lam: string): { computed: string; expected: string } {
  const decay = `${lam}·${w}`;
  if (first.kind !== second.kind) {
    return { computed: `${w} ← ${w} − lr·(∇L + ${decay}) − lr·${decay}`, expected: `${w} ← ${w} − lr·(∇L + ${decay})  or  ${w} ← ${w} − lr·∇L − lr·${decay}` };
  }
  if (first.kind === 'gradient') return { computed: `${w} ← ${w} − lr·(∇L + ${decay} + ${decay})`, expected: `${w} ← ${w} − lr·(∇L + ${decay})` };
  return { computed: `${w} ← ${w} − lr·∇L − lr·${decay} − lr·${decay}`, expected: `${w} ← ${w} − lr·∇L − lr·${decay}` };
}

/** The base class's decay before `update_step`, and the step's own. */
function reportInherited(context: RuleContext, d: InheritedDecay): void {
  const { facts } = context;
  const v = d.variable;
  const decay = `\`${src(facts, d.decay)}\``;
  const again = d.kind === 'step' ? `${decay} shrinks ${v} again` : `${decay} adds it again to ${d.into ?? 'the gradient'}, which the step applies`;
  const message = `weight decay is applied twice to ${v} in one step: the base class \`${d.base}\` shrinks every variable by lr·${d.strength}·${v} before it calls \`update_step\` (it reads \`self.weight_decay\`, set to ${d.strength} here), and ${again}, so ${v} decays twice per step and the knob no longer says how strongly. Keep one of the two: hand the base weight_decay=None and keep this decay under another attribute, or drop this one.`;
  const lam = /^[\w.]+$/.test(d.strength) ? d.strength : undefined;
  const shown = lam ?? 'λ';
  const computed = d.kind === 'step' ? `${v} ← ${v} − lr·${shown}·${v} − lr·${shown}·${v} − lr·Δ` : `${v} ← ${v} − lr·${shown}·${v} − lr·(∇L + ${shown}·${v})`;
  context.report({
    span: d.decay,
    message,
    related: [{ span: d.knob, message: `gives the base class \`${d.base}\` its weight decay, which it applies to every variable before \`update_step\`` }],
    math: { computed, expected: `${v} ← ${v} − lr·${shown}·${v} − lr·Δ`, forms: decayTwiceForms(v, lam, ['step', d.kind]) },
  });
}
