// NB208 optimizer-rebuilt-in-loop: a framework optimizer with state (Adam, RMSprop, Adagrad,
// momentum SGD, ...) is built anew on every iteration of the training loop, directly or in a helper
// the loop calls, for a model that lives across the iterations: its moments and step count restart
// from zero each time.
//
// Also a hand-written optimizer object of the project, whose step keeps its state in the instance,
// built inside a loop and stepped once before it is dropped: every step is its first.
//
// ## What it does
// Reports what engine/facts/rebuiltOptimizers.ts finds, on the construction, with the loop, the
// call that runs it per iteration and the step as related locations; and what
// engine/facts/rebuiltStepObjects.ts finds, on the construction, with the loop and the one step call.
import { defineRule } from './rule';
import { rebuiltOptimizers } from '../engine/facts/rebuiltOptimizers';
import { rebuiltStepObjects } from '../engine/facts/rebuiltStepObjects';
import { howStepDivides } from '../engine/facts/optimizerSteps';
import { torchOptimizerBiasCorrected } from '../engine/facts/catalogue';
import type { Span, Stmt } from '../engine/ir';

export const nb208OptimizerRebuiltInLoop = defineRule({
  meta: {
    code: 'NB208',
    name: 'optimizer-rebuilt-in-loop',
    severity: 'warning',
    summary: 'An optimizer with state (Adam, RMSprop, Adagrad, momentum SGD, or a hand-written class keeping its moments in the instance) is built anew on every iteration of the training loop for weights that outlive it: its moments and step count restart from zero each time',
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
    for (const r of rebuiltStepObjects(facts)) {
      const state = r.state.length === 1 ? r.state[0] : `${r.state.slice(0, -1).join(', ')} and ${r.state[r.state.length - 1]}`;
      const count = [...r.step.counters.keys()].find((k) => r.state.includes(k));
      // Bias-corrected moments with a root of one dividing the step (Adam's form): the first step is g/(|g| + ε).
      const corrected = r.step.corrections.length > 0 && r.step.states.size >= 2 && [...r.step.states.keys()].some((k) => howStepDivides(r.step, k) === 'root');
      const first = count
        ? `every step is its first: ${count} is 1 on each of them${corrected ? ', the bias corrections return the current gradient and its square, and the step is lr·g/(|g| + ε), a sign step, not an adaptive one' : ''}`
        : 'every step is its first, with moments that average nothing but the current gradient';
      const call = facts.source(r.call.callee.span);
      context.report({
        span: r.construction.span,
        message:
          `This ${r.cls.name} object is built anew on every iteration of the loop at ${facts.lineLabel(r.loop.span)} and steps once (\`${call}(...)\`) before it is dropped: ` +
          `the state its ${r.step.fn.name}() keeps in the instance (${state}) starts from the constructor's values each time, so ${first}. ` +
          `Build the optimizer once, outside the training loop (one per parameter when its state is per parameter), and keep it across steps.`,
        related: [
          { span: loopHead(r.loop), message: 'the loop that builds it again on each iteration' },
          { span: r.call.span, message: 'its only step, with the fresh state' },
        ],
      });
    }
  },
});

/** The loop's header (`for fold in range(k):`), the whole loop when the lowerer gave none. */
function loopHead(loop: Stmt): Span {
  return (loop.kind === 'for' || loop.kind === 'block' ? loop.headSpan : undefined) ?? loop.span;
}
