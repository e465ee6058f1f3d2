// Adam's two βs swapped between its moments (NB403). The step divides an average of the gradient
// (the numerator, m) by the root of an average of its square (v): m decays with β₁ (about 1/(1 − β₁)
// steps, 10 for 0.9) and v with β₂ (1000 for 0.999). Read off the normal form of optimizerSteps.ts by
// data flow: which average the step multiplies by, which one it divides by under a root, what each
// adds (the gradient, and that gradient's square), and the numbers their βs hold (literals, or the one
// number the file assigns to a β's name, its parameter's default, the constructor's default). It is
// reported when the numerator's β is larger than the root's: the gradient's average is the slow one.
// No name decides anything: which β is "β₁" is read from where it is used.
import type { Span } from '../ir';
import type { Facts } from './index';
import type { OptimizerStep, StateUpdate } from './optimizerSteps';
import { epsilonValues, numericBeta, optimizerSteps, squaredBase, stepTerms } from './optimizerSteps';
import { near } from '../../math/poly';

export interface SwappedMomentBetas {
  /** The first moment's update (the numerator's average), and its β as written and as a number. */
  first: { span: Span; key: string; beta: string; value: number };
  /** The second moment's update (the average under the root). */
  second: { span: Span; key: string; beta: string; value: number };
}

const cache = new WeakMap<Facts, SwappedMomentBetas[]>();

/** The swapped βs of the file's optimizer steps; a step whose parameter update is branched is left out (which branch runs is not known). */
export function swappedMomentBetas(facts: Facts): SwappedMomentBetas[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const step of optimizerSteps(facts)) {
    if (step.params.some((p) => p.eq.branched)) continue;
    found.push(...inStep(step));
  }
  cache.set(facts, found);
  return found;
}

function inStep(step: OptimizerStep): SwappedMomentBetas[] {
  const out: SwappedMomentBetas[] = [];
  const seen = new Set<string>();
  for (const p of step.params) {
    const terms = stepTerms(step, p);
    // One average of the gradient in the update: a second, slower one beside it is a design (AdEMAMix's slow EMA).
    const numerators = new Set(terms.flatMap((t) => t.numerator.map((n) => n.key)).filter((k) => step.states.get(k)?.average));
    if (numerators.size !== 1) continue;
    for (const term of terms) {
      // One average multiplied in once, one under a root in the denominator.
      if (term.numerator.length !== 1 || term.numerator[0].n !== 1 || term.denominator.length !== 1 || !term.denominator[0].sqrt) continue;
      const m = step.states.get(term.numerator[0].key);
      const v = step.states.get(term.denominator[0].key);
      if (!m || !v || m === v || m.max || v.max || !m.average || !v.average) continue;
      // m adds one tensor g (no state in it), v adds g² of the same tensor.
      if (m.adds.length !== 1 || v.adds.length !== 1) continue;
      const g = m.adds[0].x;
      if (g.length !== 1 || g[0].fs.length !== 1 || g[0].fs[0].n !== 1 || g[0].fs[0].atom.k !== 'sym') continue;
      const gKey = g[0].fs[0].key;
      if (step.states.has(gKey) || squaredBase(v.adds[0].x) !== gKey) continue;
      const bm = betaValue(step, m);
      const bv = betaValue(step, v);
      if (!bm || !bv || !(bm.value > bv.value) || near(bm.value, bv.value)) continue;
      const id = `${m.eq.key}|${v.eq.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({
        first: { span: m.eq.spans[0], key: m.eq.key, ...bm },
        second: { span: v.eq.spans[0], key: v.eq.key, ...bv },
      });
    }
  }
  return out;
}

/** A moving average's β as a number in (0, 1): written as one, or the one number its name is given. */
function betaValue(step: OptimizerStep, s: StateUpdate): { beta: string; value: number } | undefined {
  const literal = numericBeta(s);
  if (literal !== undefined) return { beta: String(literal), value: literal };
  if (s.beta === undefined) return undefined;
  const values = [...new Set(epsilonValues(step.fn, step.initial, s.beta))];
  if (values.length !== 1 || !(values[0] > 0 && values[0] < 1)) return undefined;
  return { beta: s.beta, value: values[0] };
}
