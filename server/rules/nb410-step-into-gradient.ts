// NB410 step-into-gradient: an optimizer adds its step to the gradient it was driven by, not to the
// parameters.
//
// ## What it does
// Finds an update function given the parameters and their gradients (`update(params, grads)`) that
// drives a state from a gradient entry (`v[i] = mu * v[i] - lr * grads[i]`), adds that step back into
// the same entry (`grads[i] += v[i]`), and never writes the parameters it is given: it only sizes
// its state from them (engine/facts/stepIntoGradient.ts).
//
// ## Why is this bad?
// The parameters never move: the step lands in the gradient buffer, which the next backward pass
// rebuilds. Training with this optimizer does nothing (the loss stays where the initialization put it).
import { defineRule } from './rule';
import { stepsIntoGradient } from '../engine/facts/stepIntoGradient';
import { trimSpan } from '../engine/facts/steps';

export const nb410StepIntoGradient = defineRule({
  meta: {
    code: 'NB410',
    name: 'step-into-gradient',
    severity: 'warning',
    summary: "An optimizer adds its step to the gradient it was driven by, and never writes the parameters it is given: the parameters never move",
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const f of stepsIntoGradient(facts)) {
      const g = facts.source(f.gradient.span);
      const s = facts.source(f.state.span);
      const p = f.params;
      const entry = f.gradient.kind === 'index' ? `${p}[${f.gradient.index.map((x) => facts.source(x.span)).join(', ')}]` : p;
      context.report({
        span: trimSpan(facts, f.update.span),
        message:
          `this adds the step ${s} to ${g}, the gradient ${s} is computed from (${facts.lineLabel(f.driven.span)}), and ${f.fn.name}() never writes ${p}, the parameters it is given (it only sizes its state from them): ` +
          `the parameters never move, and the next backward pass overwrites the gradient with the step in it. Apply the step to ${entry}`,
        related: [
          { span: trimSpan(facts, f.driven.span), message: `${s} is driven by ${g} here` },
          { span: f.paramsSpan, message: `${p}: the parameters, never written` },
        ],
      });
    }
  },
});
