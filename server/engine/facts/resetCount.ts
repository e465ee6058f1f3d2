// A bias correction's exponent that the step itself sets back to 0 (NB401): `1 - b1 ** n` with
// `n = param.seen`, and `param.seen = 0` at the end of the same step, unconditionally. Whatever
// advances the count between two steps (the samples accumulated into the gradient, `param.seen += 1`
// in another method), its value at each step is only what happened since the last one, never the
// number of steps taken: the correction is about the same constant on every step. Decided by the
// step's own evaluation (optimizerSteps.ts): the exponent is a persistent value the step reads, does
// not increment, and overwrites with 0 after the correction on every path that updates.
import type { Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { Correction, OptimizerStep, Overwrite } from './optimizerSteps';
import { exprKey } from './keys';
import { within } from './loops';

export interface CountResetByStep {
  /** The write `count = 0` after the correction. */
  reset: Overwrite;
  /** Statements elsewhere in the file that advance the same count (`param.seen += 1`), with the function they are in. */
  increments: { span: Span; fn?: string }[];
}

/** The step's reset of the exponent `t` of correction `c`, when it sets it to 0 after reading it on every call. */
export function countResetByStep(facts: Facts, step: OptimizerStep, t: string, c: Correction): CountResetByStep | undefined {
  if (step.counters.has(t) || step.frameworkCounters?.has(t) || step.powers?.has(t)) return undefined;
  // A write of 0 on every call, after the correction read the count: the next step starts from it.
  const reset = (step.overwrites?.get(t) ?? []).find((w) => !w.conditional && w.value.length === 0 && w.after > c.order);
  if (!reset) return undefined;
  return { reset, increments: incrementsOf(facts, t, step.fn.span) };
}

/** `t += 1`, `t++`, `t = t + 1` of the key outside the step's function, in the step's file. */
function incrementsOf(facts: Facts, key: string, outside: Span): { span: Span; fn?: string }[] {
  const out: { span: Span; fn?: string }[] = [];
  const visit = (stmts: readonly Stmt[], fn: string | undefined, depth: number): void => {
    if (depth > 40 || out.length >= 3) return;
    for (const s of stmts) {
      if (s.kind === 'function') {
        visit(s.body, s.name, depth + 1);
        continue;
      }
      if (s.kind === 'class' || s.kind === 'for' || s.kind === 'block') {
        visit(s.body, fn, depth + 1);
        continue;
      }
      if (within(s.span, outside)) continue;
      // `t++`, `++t` (an expression the IR keeps as its operator and operand).
      if (s.kind === 'expr' && s.expr.kind === 'other' && s.expr.ops?.length === 1 && s.expr.ops[0] === '++' && s.expr.children.length === 1 && exprKey(s.expr.children[0]) === key) {
        out.push({ span: s.span, fn });
        continue;
      }
      if (s.kind !== 'assign' || s.targets.length !== 1 || exprKey(s.targets[0]) !== key) continue;
      const v = s.value;
      const advances = s.op === '+' ? v.kind === 'num' && v.value > 0 : !s.op && v.kind === 'binary' && v.op === '+' && exprKey(v.left) === key && v.right.kind === 'num' && v.right.value > 0;
      if (advances) out.push({ span: s.span, fn });
    }
  };
  const parsed = facts.program.parsedOf(outside);
  if (parsed) visit(parsed.module.body, undefined, 0);
  return out;
}
