// A step count that starts at 1 and is incremented before the bias correction reads it (NB401).
// Adam's correction divides the t-th average by 1 − βᵗ, t = 1 on the first step. A count kept across
// steps that starts at 1 and is incremented (T ← T + 1) before the correction is computed in the same
// step reads t = 2 on the first step: 1 − β² instead of 1 − β, and every later correction is one step
// ahead. Read off the normal form of optimizerSteps.ts by data flow: which value the correction's
// exponent is, where the step increments it (in the step's order of evaluation), and every number the
// file starts it at. No name decides anything.
import type { Span } from '../ir';
import type { Facts } from './index';
import type { OptimizerStep, Correction } from './optimizerSteps';
import { optimizerSteps, powerOfExponent } from './optimizerSteps';
import { spanKey } from './program';
import type { Stmt } from '../ir';
import { exprKey } from './keys';

export interface CountStartsAhead {
  /** The first correction `1 - b1 ** t` that reads the count (the others are in `others`). */
  correction: Correction;
  others: Correction[];
  count: string;
  /** For a running power started at its β (`count` is the power, `b1t`): the β it is multiplied by. */
  power?: string;
  /** Where the step increments the count (before the correction). */
  increment?: Span;
}

const cache = new WeakMap<Facts, CountStartsAhead[]>();

/** Every count starting ahead in the file's optimizer steps, each correction once (steps can share a function). */
export function countsStartingAhead(facts: Facts): CountStartsAhead[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const reported = new Set<string>();
  for (const step of optimizerSteps(facts)) {
    for (const a of inStep(step)) {
      const key = spanKey(a.correction.span);
      if (reported.has(key)) continue;
      reported.add(key);
      found.push(a);
    }
  }
  cache.set(facts, found);
  return found;
}

function inStep(step: OptimizerStep): CountStartsAhead[] {
  const out: CountStartsAhead[] = [];
  const seen = new Set<string>();
  // Whether the step's own statements start each count: one walk of the body per count, not per correction.
  const startsHere = new Map<string, boolean>();
  for (const c of step.corrections) {
    // The exponent is the count itself (not `t - 1`, not `t + 1`), and no ε beside the correction.
    const exp = c.exp;
    if (!exp || exp.length !== 1 || exp[0].c !== 1 || exp[0].fs.length !== 1 || exp[0].fs[0].n !== 1 || exp[0].fs[0].atom.k !== 'sym' || c.eps !== undefined) continue;
    const t = exp[0].fs[0].atom.key;
    // A running power started at its β (`b1t = beta1`, then `b1t *= beta1` before the correction) is read as β^e, e starting at 1.
    const power = powerOfExponent(t);
    if (step.frameworkCounters?.has(t) || c.zeroLoops?.length) continue;
    // Incremented by this step before the correction reads it.
    const incremented = step.counters.get(t);
    if (incremented === undefined || incremented > c.order) continue;
    // Every number the file starts it at is 1.
    const inits = step.initial(t);
    if (inits.length === 0 || !inits.every((v) => v === 1)) continue;
    // Started by the step itself (`if 'step' not in state: state['step'] = 1`, on its first call, in a branch
    // that may skip the increment): that 1 is the first step's own count.
    let starts = startsHere.get(t);
    if (starts === undefined) startsHere.set(t, (starts = startsInStep(step.fn.body, power ?? t, 0)));
    if (starts) continue;
    // A running power is reported by its own key (`count` below), a count by the count's.
    const found = out.find((x) => x.count === (power ?? t));
    if (found) {
      if (!seen.has(c.key)) found.others.push(c);
      seen.add(c.key);
      continue;
    }
    seen.add(c.key);
    const at = step.counterSpans?.get(t);
    const powerAt = power !== undefined ? step.powers?.get(power) : undefined;
    if (power !== undefined && !powerAt) continue;
    out.push({ correction: c, others: [], count: power ?? t, ...(power !== undefined ? { power: powerAt!.beta } : {}), ...(powerAt ? { increment: powerAt.span } : at ? { increment: at } : {}) });
  }
  return out;
}

/** The step's own statements write the count with a number (a start on its first call). */
function startsInStep(stmts: readonly Stmt[], key: string, depth: number): boolean {
  if (depth > 20) return false;
  return stmts.some((s) =>
    s.kind === 'assign' ? !s.op && s.value.kind === 'num' && s.targets.some((x) => exprKey(x) === key) : (s.kind === 'for' || s.kind === 'block') && startsInStep(s.body, key, depth + 1),
  );
}
