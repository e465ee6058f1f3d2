// AdaDelta's accumulator of squared updates averaging the parameter's square (NB403). AdaDelta
// scales the gradient by √(E[Δθ²] + ε)/√(E[g²] + ε): the ratio of the RMS of past updates to the
// RMS of past gradients. An accumulator D ← ρ·D + (1 − ρ)·θ² in the numerator's place averages the
// weights' square instead, so the step size follows the weights' magnitude. Read off the normal
// form of optimizerSteps.ts by data flow: which value D averages (the square of the place the step
// updates), where D and the gradient's average sit in that update. No name decides anything.
import type { Equation, OptimizerStep } from './optimizerSteps';
import { groupByTensor, linearSymbol, proportional, splitSelf } from './optimizerSteps';
import { constant, numeric, polyEquals, sub, sym, type Poly } from '../../math/poly';

export interface SquaredWeightAverage {
  /** The accumulator D, and the write that averages the weights' square into it. */
  average: Equation;
  /** The parameter P whose square D averages, and its update, which D scales. */
  param: Equation;
  /** The average of the gradient's square the update divides by (E[g²]). */
  gradient: Equation;
  /** D's weight on its old value, as its key or number. */
  weight: string;
}

export function squaredWeightAverages(step: OptimizerStep): SquaredWeightAverage[] {
  const eqs = [...[...step.states.values()].map((s) => s.eq), ...step.params.map((p) => p.eq)].filter((e) => !e.branched);
  const byKey = new Map(eqs.map((e) => [e.key, e]));
  const out: SquaredWeightAverage[] = [];
  for (const d of eqs) {
    const avg = averageOf(d);
    if (!avg) continue;
    // What D adds is one tensor, the square of a place the step updates.
    if (avg.x.length !== 1 || avg.x[0].fs.length !== 1 || avg.x[0].fs[0].n !== 2 || avg.x[0].fs[0].atom.k !== 'sym') continue;
    const p = byKey.get(avg.x[0].fs[0].atom.key);
    if (!p || p === d) continue;
    // P ← P + step: a parameter's update (its old value kept whole, or shrunk by decoupled decay).
    const split = splitSelf(p.value, p.key);
    if (!split || split.rest.length === 0 || numeric(split.self) !== 1) continue;
    // The update scales by D (only in numerators) and divides by an average of another tensor's square.
    if (orientations(split.rest, d.key).join() !== '1') continue;
    const gradient = eqs.find((g) => {
      if (g === d || g === p || orientations(split.rest, g.key).join() !== '-1') return false;
      const ga = averageOf(g);
      return ga !== undefined && ga.x.length === 1 && ga.x[0].fs.length === 1 && ga.x[0].fs[0].n === 2 && !(ga.x[0].fs[0].atom.k === 'sym' && ga.x[0].fs[0].atom.key === p.key);
    });
    if (!gradient) continue;
    out.push({ average: d, param: p, gradient, weight: avg.weight });
  }
  return out;
}

/** T ← a·T + (1 − a)·X for one tensor X (a one knob or a number in (0, 1)): X and a as written. */
function averageOf(e: Equation): { x: Poly; weight: string } | undefined {
  const split = splitSelf(e.value, e.key);
  if (!split || split.rest.length === 0) return undefined;
  const n = numeric(split.self);
  const beta = linearSymbol(split.self);
  if (n !== undefined ? !(n > 0 && n < 1) : beta === undefined || !polyEquals(split.self, sym(beta))) return undefined;
  const groups = groupByTensor(split.rest, new Set(beta !== undefined ? [beta] : []));
  if (groups.length !== 1) return undefined;
  const k = proportional(groups[0].b, sub(constant(1), split.self));
  if (k === undefined || Math.abs(k - 1) > 1e-9) return undefined;
  return { x: groups[0].x, weight: beta ?? String(n) };
}

/**
 * The signs of the powers `key` is raised to wherever it occurs in p: 1 in a numerator (also under
 * a √), −1 in a denominator; 0 inside any other function (a max, an exp), where its role is not a
 * factor's. Sorted, without repeats.
 */
function orientations(p: Poly, key: string): number[] {
  const out = new Set<number>();
  const walk = (q: Poly, sign: number, depth: number): void => {
    if (depth > 12) return;
    for (const m of q)
      for (const f of m.fs) {
        const a = f.atom;
        const s = sign * Math.sign(f.n);
        if (a.k === 'sym') {
          if (a.key === key) out.add(s);
        } else if (a.k === 'inv') walk(a.arg, -s, depth + 1);
        else if (a.k === 'fn') a.args.forEach((x) => walk(x, a.fn === 'sqrt' || a.fn === 'abs' ? s : 0, depth + 1));
        else if (a.k === 'pow') {
          const e = numeric(a.exp);
          walk(a.base, e === undefined ? 0 : s * Math.sign(e), depth + 1);
          walk(a.exp, 0, depth + 1);
        }
      }
  };
  walk(p, 1, 0);
  return [...out].sort();
}
