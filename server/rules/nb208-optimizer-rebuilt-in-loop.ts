// NB208 optimizer-rebuilt-in-loop: a framework optimizer with state (Adam, RMSprop, Adagrad,
// momentum SGD, ...) is built anew on every iteration of the training loop, directly or in a helper
// the loop calls, for a model that lives across the iterations: its moments and step count restart
// from zero each time.
//
// ## What it does
// Reports what engine/facts/rebuiltOptimizers.ts finds, on the construction, with the loop, the
// call that runs it per iteration and the step as related locations.
import { defineRule } from './rule';
import { rebuiltOptimizers } from '../engine/facts/rebuiltOptimizers';
import { torchOptimizerBiasCorrected } from '../engine/facts/catalogue';
import type { Span, Stmt } from '../engine/ir';

export const nb208OptimizerRebuiltInLoop = defineRule({
  meta: {
    code: 'NB208',
    name: 'optimizer-rebuilt-in-loop',
    severity: 'warning',
    summary: 'An optimizer with state (Adam, RMSprop, Adagrad, momentum SGD) is built anew on every iteration of the training loop for a model built outside it: its moments and step count restart from zero each epoch',
    fix: 'none',
  },
  check(context) {
    const { facts } = context;
    for (const f of rebuiltOptimizers(facts)) {
      const kind = f.classes.length === 1 ? f.classes[0] : f.classes.join(' or ');
      const state = f.classes.every((c) => c === 'SGD')
        ? 'its momentum buffers'
        : f.classes.some((c) => c === 'Adagrad')
        ? 'its accumulated squared gradients and step count'
        : 'its moment estimates and step count';
      const how = f.epochCall
        ? `built each time ${f.epochFn}() runs, and ${f.epochFn}() is called on every iteration of the loop at ${facts.lineLabel(f.loop.span)}`
        : f.helperCall
        ? `built by \`${facts.source(f.helperCall.callee.span)}(...)\` on every iteration of the loop at ${facts.lineLabel(f.loop.span)}`
        : `built on every iteration of the loop at ${facts.lineLabel(f.loop.span)}`;
      const adam = f.classes.some(torchOptimizerBiasCorrected);
      context.report({
        span: f.construction.span,
        message:
          `This ${kind} optimizer is ${how}, while \`${f.model}\` and its weights carry over from one iteration to the next: ` +
          `${state} start from zero again each time, so what the optimizer learned about the gradients is thrown away every iteration` +
          `${adam ? ' and each one begins with the bias-corrected first steps of a fresh optimizer' : ''}. ` +
          `Build the optimizer once, before the loop, next to the model (change its learning rate through \`param_groups\` or a scheduler).`,
        related: [
          { span: loopHead(f.loop), message: 'the loop that builds it again on each iteration' },
          ...(f.epochCall ? [{ span: f.epochCall.span, message: `${f.epochFn}() runs here, once per iteration` }] : []),
          ...(f.helperCall && !f.epochCall ? [{ span: f.helperCall.span, message: 'the helper that builds it runs here' }] : []),
          ...(f.helperCall && f.epochCall ? [{ span: f.helperCall.span, message: `${f.epochFn}() builds it here` }] : []),
          { span: f.step, message: 'it steps here, with the fresh state' },
        ],
      });
    }
  },
});

/** The loop's header (`for fold in range(k):`), the whole loop when the lowerer gave none. */
function loopHead(loop: Stmt): Span {
  return (loop.kind === 'for' || loop.kind === 'block' ? loop.headSpan : undefined) ?? loop.span;
}
